// The account security page: the authenticator app (TOTP enrolment confirmed with a first
// code, removal), recovery codes shown once, passkeys (registered with
// navigator.credentials.create, listed, removed) and one's own sessions (each can be ended,
// or all the others at once). Sensitive requests go through ConsoleApi.request, which asks
// for a fresh sign-in when the server wants one (reauth.ts). Everything the server sends is
// set as text; the QR code is the server's SVG shown as an image (no script runs in an
// <img>), the secret is also shown as text to type.

import { ApiError, type ConsoleApi } from "./api.js";
import { codeOf } from "./desk.js";
import { byId, el, show } from "./dom.js";
import { S, when } from "./strings.js";
import { createPasskey, PasskeyError } from "./webauthn.js";

interface TotpEnrollment {
  secret: string;
  uri: string;
  qr_svg: string;
}

interface PasskeyView {
  id: string;
  name: string;
  created_at: string;
  last_used_at?: string | null;
}

interface SessionView {
  id: string;
  kind: string;
  created_at: string;
  last_seen_at: string;
  current: boolean;
  ip?: string | null;
  user_agent?: string | null;
  name?: string | null;
}

export class AccountPage {
  private wired = false;

  constructor(
    private readonly api: ConsoleApi,
    /** Whether the account has a confirmed second factor, as the session said at sign-in. */
    private secondFactor: boolean,
    /** The session is enrolment-only (the tenant requires a second factor). */
    private readonly restricted: boolean,
    /** After the second factor is confirmed in an enrolment-only session: sign in again. */
    private readonly signInAgain: () => void,
  ) {}

  /** Shows the page's current state (called each time the page is opened). */
  async open(): Promise<void> {
    if (!this.wired) this.wire();
    this.status("");
    this.error("");
    show(byId("totp-setup"), false);
    await Promise.all([this.loadPasskeys(), this.loadSessions()]);
  }

  private status(text: string): void {
    byId("account-status").textContent = text;
  }

  private error(text: string): void {
    byId("account-error").textContent = text;
  }

  private wire(): void {
    this.wired = true;
    byId("totp-start").addEventListener("click", () => void this.startTotp());
    byId("totp-remove").addEventListener("click", () => void this.removeTotp());
    byId<HTMLFormElement>("totp-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.confirmTotp();
    });
    byId("recovery-new").addEventListener("click", () => void this.newRecoveryCodes());
    byId<HTMLFormElement>("passkey-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.addPasskey();
    });
    byId("sessions-revoke-others").addEventListener("click", () => void this.revokeOthers());
  }

  private renderTotpState(passkeys: number): void {
    // The server says whether some second factor is confirmed, not which: with no passkey,
    // it is the app.
    const app = this.secondFactor && passkeys === 0;
    byId("totp-state").textContent = app ? S.totpOn : this.secondFactor ? "" : S.totpOff;
  }

  private async startTotp(): Promise<void> {
    this.error("");
    this.status("");
    try {
      const e = await this.api.request<TotpEnrollment>("POST", "/api/account/totp");
      byId("totp-secret").textContent = e.secret;
      const link = byId<HTMLAnchorElement>("totp-uri");
      // Only an otpauth: address becomes a link (an authenticator app on this device opens it).
      if (e.uri.startsWith("otpauth://")) link.href = e.uri;
      else link.removeAttribute("href");
      const qr = byId<HTMLImageElement>("totp-qr");
      qr.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(e.qr_svg)}`;
      show(byId("recovery"), false);
      show(byId("totp-setup"), true);
      byId("totp-code").focus();
    } catch (e) {
      this.error(e instanceof ApiError && e.code === "conflict" ? S.totpAlready : S.failed("Setting up the app", codeOf(e)));
    }
  }

  private async confirmTotp(): Promise<void> {
    const input = byId<HTMLInputElement>("totp-code");
    const code = input.value.trim();
    this.error("");
    try {
      const r = await this.api.request<{ recovery_codes: string[] }>("POST", "/api/account/totp/confirm", { code });
      input.value = "";
      show(byId("totp-setup"), false);
      byId("totp-secret").textContent = "";
      byId<HTMLImageElement>("totp-qr").removeAttribute("src");
      this.secondFactor = true;
      this.showCodes(S.totpConfirmed, r.recovery_codes);
      byId("totp-state").textContent = S.totpOn;
      if (this.restricted) this.signInAgain();
    } catch (e) {
      this.error(e instanceof ApiError && (e.code === "invalid_input" || e.code === "invalid_credentials") ? S.totpWrong : S.failed("Confirming the code", codeOf(e)));
      input.select();
    }
  }

  private async removeTotp(): Promise<void> {
    this.error("");
    this.status("");
    try {
      await this.api.request("DELETE", "/api/account/totp");
      show(byId("recovery"), false);
      this.status(S.totpRemoved);
      byId("totp-state").textContent = S.totpOff;
    } catch (e) {
      this.error(S.failed("Removing the app", codeOf(e)));
    }
  }

  private async newRecoveryCodes(): Promise<void> {
    this.error("");
    this.status("");
    try {
      const r = await this.api.request<{ recovery_codes: string[] }>("POST", "/api/account/recovery-codes");
      this.showCodes(S.recoveryNew, r.recovery_codes);
    } catch (e) {
      this.error(e instanceof ApiError && (e.code === "conflict" || e.code === "invalid_input") ? S.recoveryNeedsTotp : S.failed("New recovery codes", codeOf(e)));
    }
  }

  private showCodes(intro: string, codes: string[]): void {
    byId("recovery-intro").textContent = intro;
    byId("recovery-codes").replaceChildren(...codes.map((c) => el("li", "", c)));
    show(byId("recovery"), true);
    byId("recovery-intro").focus();
  }

  private async loadPasskeys(): Promise<void> {
    try {
      const list = await this.api.request<PasskeyView[]>("GET", "/api/account/passkeys");
      this.renderTotpState(list.length);
      const items = list.map((p) => {
        const li = el("li");
        const text = el("span", "grow");
        text.append(el("strong", "", p.name), el("span", "muted block", S.passkeyCreated(when(p.created_at), p.last_used_at ? when(p.last_used_at) : null)));
        const remove = el("button", "", S.remove);
        remove.type = "button";
        remove.setAttribute("aria-label", `${S.remove} ${p.name}`);
        remove.addEventListener("click", () => void this.removePasskey(p.id));
        li.append(text, remove);
        return li;
      });
      byId("passkeys").replaceChildren(...(items.length > 0 ? items : [el("li", "muted", S.passkeysNone)]));
    } catch (e) {
      byId("passkeys").replaceChildren(el("li", "error", S.failed("Loading passkeys", codeOf(e))));
    }
  }

  private async addPasskey(): Promise<void> {
    const name = byId<HTMLInputElement>("passkey-name").value.trim();
    this.error("");
    this.status("");
    if (name === "" || name.length > 64) {
      this.error(S.passkeyNameNeeded);
      return;
    }
    try {
      const start = await this.api.request<{ ceremony_id: string; options: unknown }>("POST", "/api/account/passkeys/register/start");
      const credential = await createPasskey(start.options);
      const view = await this.api.request<PasskeyView>("POST", "/api/account/passkeys/register/finish", { ceremony_id: start.ceremony_id, name, credential });
      this.secondFactor = true;
      // The list first, then the announcement: what the status says is already on screen.
      await this.loadPasskeys();
      this.status(S.passkeyAdded(view.name));
      if (this.restricted) this.signInAgain();
    } catch (e) {
      if (e instanceof PasskeyError) this.error(e.reason === "unsupported" ? S.passkeyUnsupported : S.passkeyCancelled);
      else if (e instanceof ApiError && e.code === "not_found") this.error(S.passkeyOff);
      else if (e instanceof ApiError && e.code === "conflict") this.error(S.passkeyAlready);
      else this.error(S.failed("Adding the passkey", codeOf(e)));
    }
  }

  private async removePasskey(id: string): Promise<void> {
    this.error("");
    this.status("");
    try {
      await this.api.request("DELETE", `/api/account/passkeys/${encodeURIComponent(id)}`);
      await this.loadPasskeys();
      this.status(S.passkeyRemoved);
    } catch (e) {
      this.error(e instanceof ApiError && e.code === "conflict" ? S.passkeyLast : S.failed("Removing the passkey", codeOf(e)));
    }
  }

  private async loadSessions(): Promise<void> {
    try {
      const list = await this.api.request<SessionView[]>("GET", "/api/account/sessions");
      byId("sessions").replaceChildren(
        ...list.map((s) => {
          const li = el("li");
          li.dataset.kind = s.kind;
          const text = el("span", "grow");
          const title = el("strong", "", s.name ? `${S.sessionKind(s.kind)} · ${s.name}` : S.sessionKind(s.kind));
          text.append(title);
          if (s.user_agent) text.append(el("span", "muted block small", s.user_agent));
          text.append(el("span", "muted block", S.sessionLine(when(s.created_at), when(s.last_seen_at), s.ip)));
          li.append(text);
          if (s.current) {
            li.append(el("span", "badge", S.sessionCurrent));
            li.setAttribute("aria-current", "true");
          } else {
            const end = el("button", "", S.revoke);
            end.type = "button";
            end.setAttribute("aria-label", `${S.revoke} ${S.sessionKind(s.kind)} ${when(s.created_at)}`);
            end.addEventListener("click", () => void this.revoke(s.id));
            li.append(end);
          }
          return li;
        }),
      );
    } catch (e) {
      byId("sessions").replaceChildren(el("li", "error", S.failed("Loading sessions", codeOf(e))));
    }
  }

  private async revoke(id: string): Promise<void> {
    this.error("");
    try {
      await this.api.request("DELETE", `/api/account/sessions/${encodeURIComponent(id)}`);
      this.status(S.sessionRevoked);
    } catch (e) {
      this.error(S.failed("Ending the session", codeOf(e)));
    }
    await this.loadSessions();
  }

  private async revokeOthers(): Promise<void> {
    this.error("");
    try {
      const n = await this.api.request<number>("POST", "/api/account/sessions/revoke-others");
      this.status(S.sessionsRevoked(Number(n)));
    } catch (e) {
      this.error(S.failed("Ending the other sessions", codeOf(e)));
    }
    await this.loadSessions();
  }
}
