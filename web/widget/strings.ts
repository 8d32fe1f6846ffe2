// Every string the widget shows, in one table so that it can be translated (one object per
// language; the snippet may pick one with data-sealdesk-lang). Placeholders: {name}, {team}.

export const en = {
  /** The BCP 47 tag of this table (the window's lang attribute). */
  lang: "en",
  launcherOpen: "Open chat",
  launcherClose: "Close chat",
  launcherUnread: "Open chat ({count} new)",
  title: "Chat with {team}",
  close: "Close",
  loading: "Loading…",
  elsewhere: "This chat is open in another tab or window of this browser. Continue there.",
  loadError: "The chat could not be loaded. Please try again later.",
  networkError: "Connection problem. Your last message may not have been sent.",
  disconnected: "The connection was lost. Reconnecting…",
  unavailable: "The chat is not available right now. Please try again later.",
  offline: "The connection was lost. Reload the page to continue.",
  reconnectIn: "Next try in {seconds} s.",
  reconnectTrying: "Trying to reconnect…",
  retryNow: "Retry now",
  gone: "This conversation is no longer available: it was deleted.",
  consentTitle: "Before we start",
  consentLink: "Full privacy notice:",
  consentAccept: "I agree, start the chat",
  consentChanged: "The privacy notice has changed. Please read it again.",
  prechatTitle: "A few details",
  prechatSubmit: "Continue",
  prechatRequired: "(required)",
  prechatInvalid: "Please check this field.",
  yourDetails: "You shared:",
  greeting: "Ask {team} anything. Messages are end-to-end encrypted between you and {tenant}: the chat server cannot read them.",
  composerLabel: "Your message",
  composerPlaceholder: "Type a message…",
  send: "Send",
  attach: "Attach a file",
  file: "File",
  fileDownload: "Download",
  fileDownloadLabel: "Download {name}",
  previewAlt: "Preview of {name}",
  previewEnlarge: "Enlarge or shrink the preview",
  fileTooLarge: "This file is too large to send.",
  fileUnreadable: "This file could not be opened: it is not the one that was sent.",
  downloadTranscript: "Download transcript",
  endChat: "End chat",
  deleteChat: "Delete conversation",
  deleteConfirm: "Delete for good?",
  deleted: "Your conversation was deleted from this browser and will be deleted from our servers within the hour.",
  starting: "Starting a secure conversation…",
  encrypted: "End-to-end encrypted",
  you: "You",
  agent: "Agent",
  statusSending: "Sending…",
  statusSent: "Sent",
  statusRead: "Read",
  statusFailed: "Not sent",
  typing: "{name} is typing…",
  someone: "The agent",
  unverified: "A message could not be verified and was not shown.",
  verifiedBadge: "{name} — verified {tenant} agent",
  verifiedSupervisor: "{name} — verified {tenant} supervisor",
  membersLabel: "Verified participants",
  historyMember: "{tenant} message archive ({name})",
  eventJoined: "{name} joined the conversation.",
  eventTransferred: "The conversation was transferred.",
  eventSupervisor: "A supervisor joined the conversation.",
  eventClosed: "The conversation was closed.",
  closed: "This conversation has ended.",
  keyMismatch: "The security keys of this website do not match the chat server's. Be careful what you share.",
  blockedMember: "Warning: someone in this conversation could not be verified as a genuine {tenant} agent. Sending is disabled to protect you.",
  blockedHistory: "Warning: this chat could not be set up securely (the message archive is not certified). Sending is disabled.",
  blockedChange: "Warning: a change to this conversation could not be verified. Sending is disabled to protect you.",
} as const;

export type Strings = { readonly [K in keyof typeof en]: string };
export type StringKey = keyof typeof en;

export const languages: Record<string, Strings> = { en };

/** A string with its placeholders filled (the values are inserted as text, never as HTML). */
export function t(strings: Strings, key: StringKey, values: Record<string, string> = {}): string {
  return strings[key].replace(/\{(\w+)\}/g, (m, name: string) => values[name] ?? m);
}
