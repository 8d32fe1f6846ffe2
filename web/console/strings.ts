// Every string of the console's account and admin pages, the availability control, the
// passkey sign-in and the re-authentication prompt, in one table for translation. Values
// with data are functions; what they receive (names, codes, numbers) always ends up in
// textContent, never in markup.

export const S = {
  // Availability (what the router sees).
  availabilityLine: (availability: string, active: number, capacity: number) => `${S.availabilityName(availability)} · ${active} of ${capacity}`,
  availabilityName: (a: string) => (a === "online" ? "online" : a === "away" ? "away" : "offline"),
  availabilityFailed: (code: string) => `Status not changed (${code}).`,
  capacityInvalid: "Capacity is a number from 1 to 100.",

  // Navigation.
  navDesk: "Desk",
  navAccount: "Account",
  navAdmin: "Admin",

  // Passkey sign-in.
  passkeyUnsupported: "This browser cannot use passkeys.",
  passkeyCancelled: "The passkey was not used. Try again, or sign in with your password.",
  passkeyOff: "Passkeys are not set up on this server (its public address is not configured).",
  passkeyLoginWorkspace: "Enter the workspace id first; the e-mail is optional with a passkey.",

  // Re-authentication.
  reauth: {
    title: "Confirm it is you",
    intro: "This change needs a recent sign-in. Enter your password, and the code of your authenticator app if you use one, or use a passkey.",
    password: "Your password",
    code: "Code from your app (if you use one)",
    cancel: "Cancel",
    passkey: "Use a passkey",
    confirm: "Confirm",
  },
  reauthWrong: "That is not right. Check the password and the code.",
  reauthPasskeyNone: "This account has no passkey: use your password.",
  reauthFailed: (code: string) => `Not confirmed (${code}).`,

  // Account: TOTP.
  totpOn: "An authenticator app is set up for this account.",
  totpOff: "No authenticator app is set up.",
  totpSecretIntro: "Add this key to your authenticator app (type it, or open the link on a phone), then enter the 6-digit code it shows.",
  totpConfirmed: "The authenticator app is set up. Keep these recovery codes somewhere safe: each works once, and they are shown only now.",
  totpWrong: "That code is not right. Enter the current code from the app.",
  totpRemoved: "The authenticator app was removed from this account.",
  totpAlready: "An authenticator app is already set up; remove it first.",
  recoveryNew: "New recovery codes; the old ones no longer work. They are shown only now.",
  recoveryNeedsTotp: "Recovery codes need an authenticator app: set one up first.",

  // Account: passkeys.
  passkeysNone: "No passkey yet.",
  passkeyNameNeeded: "Give the passkey a name (1 to 64 characters).",
  passkeyAdded: (name: string) => `Passkey “${name}” added.`,
  passkeyRemoved: "Passkey removed.",
  passkeyLast: "This is your last second factor and your workspace requires one: add another before removing it.",
  passkeyAlready: "This authenticator is already registered.",
  passkeyCreated: (created: string, used: string | null | undefined) => `added ${created}${used ? ` · last used ${used}` : " · never used"}`,

  // Account: sessions.
  sessionKind: (kind: string) => (kind === "browser" ? "Browser" : kind === "cli" ? "Terminal client" : kind === "api_token" ? "API token" : kind),
  sessionLine: (created: string, seen: string, ip: string | null | undefined) => `signed in ${created} · last active ${seen}${ip ? ` · ${ip}` : ""}`,
  sessionCurrent: "this session",
  sessionRevoked: "Session ended.",
  sessionsRevoked: (n: number) => (n === 1 ? "1 other session ended." : `${n} other sessions ended.`),

  failed: (what: string, code: string) => `${what} failed (${code}).`,
  remove: "Remove",
  revoke: "End",
} as const;

/** A time for lists: the person's locale, minutes precision. */
export function when(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** The administration page's strings. */
export const A = {
  failed: (what: string, code: string) => `${what} failed (${code}).`,
  forbidden: "Your role may not do that.",
  invalid: (message: string) => `The server refused a value: ${message}`,
  // Staff.
  roleOf: (name: string) => `Role of ${name}`,
  roleChanged: (name: string, role: string) => `${name} is now ${role}.`,
  active: "active",
  invited: "invited",
  disabled: "disabled",
  enable: "Enable",
  disable: "Disable",
  enabled: (name: string) => `${name} can sign in again.`,
  disabledNow: (name: string) => `${name} is disabled and signed out everywhere.`,
  endSessions: "Sign out everywhere",
  sessionsEnded: (name: string) => `${name} was signed out everywhere.`,
  inviteNeedsEmail: "Enter the address to invite.",
  inviteTaken: "Someone in this workspace already signs in with that address.",
  invited_: (email: string, expires: string) =>
    `Invitation for ${email}, valid until ${when(expires)}. Give them this token yourself (it is shown only now); they choose a password with it in the terminal client (sealdesk invite accept).`,
  // Settings.
  settingsRange: "Check the marked values: each must be a whole number in its range.",
  settingsSaved: "Settings saved.",
  // Inbox.
  originsSaved: (n: number) => (n === 1 ? "1 website may embed the widget." : `${n} websites may embed the widget.`),
  inboxSaved: (team: string) => `Inbox “${team}” saved.`,
  noticeNeedsVersion: "A notice needs a version (letters, digits, dot, dash, underscore).",
  fieldName: "Key",
  fieldLabel: "Label",
  fieldKind: "Kind",
  fieldRequired: "Required",
  fieldRemove: "Remove",
  fieldNumber: (n: number) => `field ${n}`,
  noTeams: "This workspace has no inbox yet (sealdesk admin team create).",
  snippetNoRoots: "This workspace has no registered root key yet (sealdesk admin keys init): the widget would trust nothing.",
  snippetReady: "Embed code made from the widget file this server serves now; make it again after an upgrade.",
  // Devices.
  devicesNone: "No device is waiting.",
  deviceOf: (name: string, label: string, when_: string) => `${name} · ${label} · asked ${when(when_)}`,
  enrolCommand: "Run on the machine that holds the keys",
  // Audit.
  auditEnd: "No more entries.",
  auditMore: "Load more",
} as const;

/** The desk's History Member re-key after a team key rotation (rekey.ts) and history replay. */
export const R = {
  rekeyed: "Conversation re-keyed for the new team key",
  rekeyFinishing: "Finishing this conversation's re-key for the new team key…",
  noReplay: "Earlier messages cannot be decrypted on this device (yet): new ones show as they come.",
  rekeyedMany: (n: number) => `${n} conversations re-keyed for the new team key`,
  rekeyFailed: (code: string) => `The conversation could not be re-keyed for the new team key (${code}); trying again shortly.`,
  unreadable: (n: number) => (n === 1
    ? "1 message was written under a team key this device was not given and cannot be read."
    : `${n} messages were written under a team key this device was not given and cannot be read.`),
} as const;

/** Handing a conversation on (transfer.ts). */
export const T = {
  colleagues: "Colleagues",
  teams: "Another team",
  toColleague: "Transferred. The new agent's console removes this device from the group.",
  toTeam: (team: string) => `Transferred to ${team}. Whoever takes it there removes this device from the group.`,
  failed: (why: string, code: string) => `Not transferred: ${why} (${code}).`,
  why: {
    forbidden: "you may no longer transfer this conversation",
    not_found: "the conversation or that team is no longer there",
    conflict: "the conversation changed meanwhile; open it again",
    conversation_closed: "the conversation is closed",
    invalid_input: "the server refused that choice",
  } as Record<string, string>,
  other: "it could not be done",
} as const;

/** The live chat's connection (reconnect-plan.ts `connectionText`) and replies on their way. */
export const C = {
  back: "Connected again: messages are up to date.",
  reconnecting: (seconds: number, attempt: number) =>
    `Reconnecting… The connection was lost; next try in ${seconds} s (attempt ${attempt}). Replies you send now go out once it is back.`,
  ended: (reason: string) => `The live connection ended (${reason}). Open the conversation again.`,
  noAccess: "This conversation was transferred, or you were removed from it: you no longer have access to it here. Replies not yet delivered were not sent.",
} as const;

/** The desk's lists and their live connection (inbox.ts). */
export const I = {
  loadFailed: (code: string) => `The queue could not be loaded (${code}).`,
  connecting: "Connecting for live updates…",
  live: "Live",
  reconnecting: (seconds: number) => `Live updates paused: reconnecting in ${seconds} s. The lists refresh every minute meanwhile.`,
  ended: (reason: string) => `Live updates stopped (${reason}); the lists refresh every minute. Reload the page to try again.`,
} as const;
