// The re-authentication prompt: a sensitive action answered `reauthentication_required` (the
// session's last proof of identity is older than the server's window, OWASP ASVS v5.0.0-7.5.1)
// asks for the password (and the app's code) or a passkey, in a modal dialog made only while
// it is open. The server answers with a new session that replaces this one (7.2.4): its CSRF
// token is kept, and the action is sent again.

import { ApiError, type ConsoleApi, type LoginAnswer } from "./api.js";
import { el } from "./dom.js";
import { S } from "./strings.js";
import { getPasskey, PasskeyError } from "./webauthn.js";

const T = S.reauth;

function messageOf(e: unknown): string {
  if (e instanceof PasskeyError) return e.reason === "unsupported" ? S.passkeyUnsupported : S.passkeyCancelled;
  if (e instanceof ApiError) {
    if (e.code === "invalid_credentials") return S.reauthWrong;
    if (e.code === "conflict") return S.reauthPasskeyNone;
    return S.reauthFailed(e.code);
  }
  return S.reauthFailed(e instanceof Error ? e.message : String(e));
}

/** Installs the prompt on `api`: every request of the account and admin pages may use it. */
export function installReauth(api: ConsoleApi): void {
  let open: Promise<boolean> | undefined;
  api.reauthPrompt = () => (open ??= prompt(api).finally(() => (open = undefined)));
}

function prompt(api: ConsoleApi): Promise<boolean> {
  const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const overlay = el("div", "overlay");
  const box = el("div", "card dialog");
  box.setAttribute("role", "dialog");
  box.setAttribute("aria-modal", "true");
  box.setAttribute("aria-labelledby", "reauth-title");
  box.setAttribute("aria-describedby", "reauth-intro");
  const title = el("h2", "", T.title);
  title.id = "reauth-title";
  const intro = el("p", "", T.intro);
  intro.id = "reauth-intro";
  const form = el("form");
  form.noValidate = true;
  const pwLabel = el("label", "", T.password);
  pwLabel.htmlFor = "reauth-password";
  const password = el("input");
  password.id = "reauth-password";
  password.type = "password";
  password.autocomplete = "current-password";
  const codeLabel = el("label", "", T.code);
  codeLabel.htmlFor = "reauth-totp";
  const code = el("input");
  code.id = "reauth-totp";
  code.inputMode = "numeric";
  code.autocomplete = "one-time-code";
  code.maxLength = 6;
  const error = el("p", "error");
  error.id = "reauth-error";
  error.setAttribute("role", "alert");
  const cancel = el("button", "", T.cancel);
  cancel.type = "button";
  const passkey = el("button", "", T.passkey);
  passkey.type = "button";
  const confirm = el("button", "primary", T.confirm);
  confirm.type = "submit";
  const row = el("div", "row");
  row.append(cancel, passkey, confirm);
  form.append(pwLabel, password, codeLabel, code, error, row);
  box.append(title, intro, form);
  overlay.append(box);
  document.body.append(overlay);
  password.focus();

  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean): void => {
      overlay.remove();
      document.removeEventListener("keydown", onKey, true);
      before?.focus();
      resolve(ok);
    };
    // Focus stays in the dialog (Tab wraps), Escape cancels.
    const onKey = (ev: KeyboardEvent): void => {
      if (ev.key === "Escape") {
        ev.preventDefault();
        done(false);
      } else if (ev.key === "Tab") {
        const items = [password, code, cancel, passkey, confirm];
        const i = items.indexOf(document.activeElement as HTMLInputElement & HTMLButtonElement);
        const next = ev.shiftKey ? (i <= 0 ? items.length - 1 : i - 1) : (i + 1) % items.length;
        ev.preventDefault();
        items[next]?.focus();
      }
    };
    document.addEventListener("keydown", onKey, true);
    const attempt = async (answer: () => Promise<LoginAnswer>): Promise<void> => {
      error.textContent = "";
      for (const b of [cancel, passkey, confirm]) b.disabled = true;
      try {
        api.adopt(await answer());
        done(true);
      } catch (e) {
        error.textContent = messageOf(e);
        password.value = "";
        password.focus();
      } finally {
        for (const b of [cancel, passkey, confirm]) b.disabled = false;
      }
    };
    cancel.addEventListener("click", () => done(false));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const body: Record<string, string> = { password: password.value };
      if (code.value.trim() !== "") body.totp = code.value.trim();
      void attempt(() => api.plain<LoginAnswer>("POST", "/api/auth/reauth", body));
    });
    passkey.addEventListener("click", () =>
      void attempt(async () => {
        const start = await api.plain<{ ceremony_id: string; options: unknown }>("POST", "/api/auth/reauth/passkey");
        const credential = await getPasskey(start.options);
        return api.plain<LoginAnswer>("POST", "/api/auth/reauth", { passkey: { ceremony_id: start.ceremony_id, credential } });
      }),
    );
  });
}
