// The agent console's entry: the session (login with the server's stable error codes,
// logout), then this browser's device enrolment, then the desk. Served by `sealdesk serve`
// at /console/ under a CSP without inline script or style (crates/sealdesk-server/src/web.rs).

import { AccountPage } from "./account.js";
import { ADMIN_ROLES, AdminPage } from "./admin.js";
import { ApiError, ConsoleApi, type SessionInfo } from "./api.js";
import { AvailabilityControl } from "./availability.js";
import { Desk, codeOf } from "./desk.js";
import { deviceStatus, EnrolmentError, readyDevice, refillKeyPackages, registerDevice } from "./device.js";
import { byId, show } from "./dom.js";
import { StaffContent } from "./staff-content.js";
import { keyFingerprint } from "../shared/keys/fingerprint.js";
import { rememberIdleLimit, watchIdle } from "./idle.js";
import { openDeviceStore } from "./keystore.js";
import { installReauth } from "./reauth.js";
import { S } from "./strings.js";
import { getPasskey, PasskeyError } from "./webauthn.js";

const api = new ConsoleApi();
const ENROL_POLL_MS = 2_000;
const DEVICE_CHECK_MS = 5_000;
const SIGNED_OUT_KEY = "sealdesk-console-signed-out";
const SCREENS = ["booting", "login", "enrol", "desk"] as const;
/** Pages opened from the header over the signed-in screen (enrolment or desk). */
type Page = "main" | "account" | "admin";
let desk: Desk | undefined;
/** Internal notes and canned responses in the conversation view (staff-content.ts). */
let content: StaffContent | undefined;
let availability: AvailabilityControl | undefined;
let account: AccountPage | undefined;
let admin: AdminPage | undefined;
let base: (typeof SCREENS)[number] = "booting";
let page: Page = "main";

function render(): void {
  for (const s of SCREENS) show(byId(s), page === "main" && s === base);
  show(byId("account"), page === "account");
  show(byId("admin"), page === "admin");
  show(byId("nav-admin"), admin !== undefined);
  const signedIn = base === "desk" || base === "enrol";
  show(byId("session-tools"), signedIn);
  show(byId("availability-wrap"), base === "desk");
  for (const [id, p] of [["nav-desk", "main"], ["nav-account", "account"], ["nav-admin", "admin"]] as const) {
    if (p === page) byId(id).setAttribute("aria-current", "page");
    else byId(id).removeAttribute("aria-current");
  }
}

function screen(name: (typeof SCREENS)[number]): void {
  base = name;
  if (name === "login" || name === "booting") page = "main";
  render();
}

function openPage(p: Page): void {
  page = p;
  render();
  if (p === "account" && account !== undefined) {
    byId("account-title").focus();
    void account.open();
  }
  if (p === "admin" && admin !== undefined) {
    byId("admin-title").focus();
    void admin.open();
  }
}

/** What each stable error code means to the person at the keyboard. */
function loginMessage(e: unknown): string {
  if (e instanceof ApiError) {
    switch (e.code) {
      case "invalid_credentials":
        return "The e-mail, password or authentication code is not right. If your account uses an authenticator app, enter its current code.";
      case "rate_limited":
        return "Too many attempts. Wait a few minutes before trying again.";
      case "invalid_input":
        return "Check the workspace id and the e-mail address.";
      default:
        return `Sign-in failed (${e.code}).`;
    }
  }
  return "The server could not be reached.";
}

function showLogin(): void {
  screen("login");
  byId("who").textContent = "";
  const params = new URLSearchParams(location.search);
  const tenant = byId<HTMLInputElement>("tenant");
  if (tenant.value === "") tenant.value = params.get("tenant") ?? localStorage.getItem("sealdesk-console-tenant") ?? "";
  (tenant.value === "" ? tenant : byId<HTMLInputElement>("email")).focus();
}

async function onLogin(ev: SubmitEvent): Promise<void> {
  ev.preventDefault();
  const error = byId("login-error");
  error.textContent = "";
  const tenant = byId<HTMLInputElement>("tenant").value.trim();
  const email = byId<HTMLInputElement>("email").value.trim();
  const password = byId<HTMLInputElement>("password");
  const totp = byId<HTMLInputElement>("totp");
  if (tenant === "" || email === "" || password.value === "") {
    error.textContent = "Enter the workspace id, your e-mail and your password.";
    return;
  }
  try {
    const session = await api.login(tenant, email, password.value, totp.value.trim());
    rememberIdleLimit(session.idle_expires_at);
    localStorage.setItem("sealdesk-console-tenant", tenant);
    password.value = "";
    totp.value = "";
    await afterLogin(session);
  } catch (e) {
    error.textContent = loginMessage(e);
    // The server does not say which factor was wrong: offer the code field.
    if (e instanceof ApiError && e.code === "invalid_credentials") show(byId("totp-row"), true);
  }
}

/** Sign-in with a passkey: the e-mail is optional (a discoverable passkey names the account). */
async function onPasskeyLogin(): Promise<void> {
  const error = byId("login-error");
  error.textContent = "";
  const tenant = byId<HTMLInputElement>("tenant").value.trim();
  const email = byId<HTMLInputElement>("email").value.trim();
  if (tenant === "") {
    error.textContent = S.passkeyLoginWorkspace;
    byId("tenant").focus();
    return;
  }
  try {
    const start = await api.passkeyLoginStart(tenant, email);
    const credential = await getPasskey(start.options);
    const session = await api.passkeyLoginFinish(start.ceremony_id, credential);
    rememberIdleLimit(session.idle_expires_at);
    localStorage.setItem("sealdesk-console-tenant", tenant);
    await afterLogin(session);
  } catch (e) {
    if (e instanceof PasskeyError) error.textContent = e.reason === "unsupported" ? S.passkeyUnsupported : S.passkeyCancelled;
    else if (e instanceof ApiError && e.code === "not_found") error.textContent = S.passkeyOff;
    else error.textContent = loginMessage(e);
  }
}

async function afterLogin(session: SessionInfo): Promise<void> {
  byId("who").textContent = `${session.staff.display_name} · ${session.staff.role}`;
  watchIdle(() => signOut("You were signed out after a while without activity."));
  account = new AccountPage(api, session.second_factor, session.restricted, () =>
    signOut("Your second factor is set up. Sign in again with it."),
  );
  // The administration page, for the roles that may use it (the server checks each request).
  admin = ADMIN_ROLES.includes(session.staff.role) && !session.restricted ? new AdminPage(api, session.staff) : undefined;
  if (session.restricted) {
    screen("enrol");
    byId("enrol-error").textContent = "Your workspace requires a second factor. Set up an authenticator app or a passkey on your account page, then sign in again.";
    openPage("account");
    return;
  }
  screen("enrol");
  const status = byId("enrol-status");
  const error = byId("enrol-error");
  status.textContent = "Preparing this browser's keys…";
  const store = await openDeviceStore(session.staff.tenant_id, session.staff.id);
  try {
    const { record, fingerprint } = await registerDevice(api, store, "Console (browser)");
    byId("fingerprint").textContent = fingerprint;
    for (;;) {
      const view = await deviceStatus(api, record, fingerprint);
      if (view.status === "revoked") {
        await store.clear();
        throw new EnrolmentError("This browser's device was revoked. Sign in again to enrol it anew.");
      }
      if (view.status === "certified") {
        try {
          const device = await readyDevice(api, store, record, view, session.staff.tenant_id);
          status.textContent = "Certified. Publishing key packages…";
          await refillKeyPackages(api, store, record, device);
          byId("device-line").textContent = `${device.label} · ${fingerprint}`;
          byId("root-line").textContent = (await Promise.all(device.anchor.roots.map(keyFingerprint))).join(" / ");
          screen("desk");
          availability = new AvailabilityControl(api, (text) => (byId("availability-now").textContent = text));
          void availability.start();
          desk = new Desk(api, session.staff, device, store, record, confirmLink, () => {
            desk = undefined;
            content?.stop();
            content = undefined;
            availability?.stop();
            showLogin();
            byId("login-error").textContent = "Your session ended. Sign in again.";
          }, () => void availability?.refresh());
          desk.start();
          content = new StaffContent(api, session.staff, device);
          content.start();
          const refill = window.setInterval(() => void refillKeyPackages(api, store, record, device).catch(() => undefined), 60_000);
          // A device an administrator revoked stops at once: its keys and conversation states
          // are deleted from this browser (NIST SP 800-57 Pt 1 §8.3.5, key destruction).
          const watch = window.setInterval(() => {
            void deviceStatus(api, record, fingerprint).then(async (v) => {
              if (v.status !== "revoked") return;
              window.clearInterval(watch);
              window.clearInterval(refill);
              desk?.stop();
              content?.stop();
              content = undefined;
              desk = undefined;
              availability?.stop();
              await store.clear();
              screen("enrol");
              byId("fingerprint").textContent = "";
              byId("enrol-status").textContent = "";
              byId("enrol-error").textContent = "An administrator revoked this browser's device; its keys were deleted here. Sign in again to enrol it anew.";
            }, () => undefined);
          }, DEVICE_CHECK_MS);
          return;
        } catch (e) {
          if (!(e instanceof EnrolmentError) || !e.message.startsWith("no team key")) throw e;
          status.textContent = "Certified. Waiting for an administrator to give this device the team keys…";
        }
      } else {
        status.textContent = "Waiting for an administrator to confirm the fingerprint…";
      }
      await new Promise((r) => setTimeout(r, ENROL_POLL_MS));
    }
  } catch (e) {
    status.textContent = "";
    error.textContent = e instanceof EnrolmentError ? e.message : `This device cannot be used for encrypted conversations (${codeOf(e)}).`;
  }
}

/** Ends the session on the server, then starts the page afresh (with `reason` shown). */
function signOut(reason?: string): void {
  desk?.stop();
  content?.stop();
  content = undefined;
  desk = undefined;
  availability?.stop();
  availability = undefined;
  if (reason !== undefined) sessionStorage.setItem(SIGNED_OUT_KEY, reason);
  void api.logout().catch(() => undefined).finally(() => location.reload());
}

let pendingLink = "";
function confirmLink(url: string): void {
  pendingLink = url;
  byId("link-url").textContent = url;
  show(byId("link-dialog"), true);
  byId("link-cancel").focus();
}

function wire(): void {
  byId<HTMLFormElement>("login-form").addEventListener("submit", (ev) => void onLogin(ev));
  byId("totp-toggle").addEventListener("click", () => {
    show(byId("totp-row"), true);
    byId("totp").focus();
  });
  byId("passkey-login").addEventListener("click", () => void onPasskeyLogin());
  byId("logout").addEventListener("click", () => signOut());
  byId("nav-desk").addEventListener("click", () => openPage("main"));
  byId("nav-account").addEventListener("click", () => openPage("account"));
  byId("nav-admin").addEventListener("click", () => openPage("admin"));
  installReauth(api);
  byId("link-cancel").addEventListener("click", () => show(byId("link-dialog"), false));
  byId("link-open").addEventListener("click", () => {
    show(byId("link-dialog"), false);
    // Only web addresses, opened without opener or referrer (OWASP ASVS v5.0.0-3.7.2).
    if (/^https?:\/\//.test(pendingLink)) window.open(pendingLink, "_blank", "noopener,noreferrer");
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") show(byId("link-dialog"), false);
  });
}

async function boot(): Promise<void> {
  wire();
  try {
    const session = await api.session();
    if (!api.hasCsrf) throw new Error("no CSRF token in this tab");
    await afterLogin(session);
  } catch {
    showLogin();
    const reason = sessionStorage.getItem(SIGNED_OUT_KEY);
    sessionStorage.removeItem(SIGNED_OUT_KEY);
    if (reason !== null) byId("login-error").textContent = reason;
  }
}

void boot();
