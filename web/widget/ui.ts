// The view: a launcher button and a chat window in a Shadow DOM on the host page (no iframe;
// E2EE.md §4). It renders the session's state and forwards the visitor's actions; it holds no
// secrets. Accessibility: the window is a labelled dialog, the transcript a polite live
// region, warnings are alerts, Escape closes and focus returns to the launcher.

import type { VisitorSession } from "./session.js";
import type { ChatItem, WidgetState } from "./state.js";
import { el, icon, ICONS, replace } from "./dom.js";
import { t, type StringKey, type Strings } from "./strings.js";
import { css } from "./styles.js";
import { download, transcriptText } from "./transcript.js";
import { humanSize } from "./files.js";
import { Previews } from "./preview.js";
import { safeFileName } from "../shared/files/attachment.js";

const STATUS: Record<string, StringKey> = { sending: "statusSending", sent: "statusSent", read: "statusRead", failed: "statusFailed" };
const BLOCKED: Record<string, StringKey> = { untrusted_member: "blockedMember", untrusted_history: "blockedHistory", unverifiable_change: "blockedChange" };
const EVENTS: Record<string, StringKey> = { agent_joined: "eventJoined", transferred: "eventTransferred", supervisor_joined: "eventSupervisor", closed: "eventClosed" };

export class WidgetView {
  readonly host: HTMLElement;
  private readonly root: ShadowRoot;
  private readonly launcher: HTMLButtonElement;
  private readonly panel: HTMLElement;
  private readonly title: HTMLElement;
  private readonly badges: HTMLUListElement;
  private readonly alert: HTMLElement;
  private readonly notice: HTMLElement;
  /** While reconnecting: when the next try goes, and "Retry now". */
  private readonly reconnect: HTMLElement;
  private readonly reconnectText: HTMLElement;
  private readonly countdown: HTMLElement;
  private readonly retryButton: HTMLButtonElement;
  private tick: ReturnType<typeof setInterval> | undefined;
  private readonly body: HTMLElement;
  private readonly typing: HTMLElement;
  private readonly composer: HTMLFormElement;
  private readonly input: HTMLTextAreaElement;
  private readonly sendButton: HTMLButtonElement;
  private readonly attachButton: HTMLButtonElement;
  private readonly fileInput: HTMLInputElement;
  private readonly tools: HTMLElement;
  private readonly endButton: HTMLButtonElement;
  private readonly deleteButton: HTMLButtonElement;
  private state: WidgetState | undefined;
  private log: HTMLUListElement | undefined;
  private readonly rendered = new Map<string, HTMLLIElement>();
  private readonly previews: Previews;
  private screen = "";
  private open = false;
  private typingSent = false;
  /** Agent messages that arrived while the window was closed. */
  private unread = 0;

  constructor(
    private readonly session: VisitorSession,
    private readonly s: Strings,
  ) {
    this.previews = new Previews(session, s);
    this.host = el("div", { "data-sealdesk-widget": "" });
    this.root = this.host.attachShadow({ mode: "open" });
    // A constructed stylesheet is not an inline <style>, so a host page's strict CSP
    // (style-src without 'unsafe-inline') does not block it; old browsers get the element.
    let style: HTMLStyleElement | null = null;
    if ("adoptedStyleSheets" in this.root && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      this.root.adoptedStyleSheets = [sheet];
    } else style = el("style", {}, css);
    this.launcher = el("button", { type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "sd-panel", "aria-label": s.launcherOpen }, icon(ICONS.chat, 28));
    this.title = el("h2", { id: "sd-title" });
    const close = el("button", { type: "button", "aria-label": s.launcherClose }, s.close);
    this.badges = el("ul", { class: "badges", "aria-label": s.membersLabel });
    this.alert = el("p", { class: "alert", role: "alert" });
    this.notice = el("p", { class: "notice", role: "status" });
    // The countdown changes every second: it is hidden from the live region, which speaks
    // only when a try starts or a new wait begins.
    this.countdown = el("span", { class: "countdown", "aria-hidden": "true" });
    this.reconnectText = el("span", { class: "sr", "aria-live": "polite", "aria-atomic": "true" });
    this.retryButton = el("button", { type: "button" }, s.retryNow);
    this.retryButton.addEventListener("click", () => this.session.retryNow());
    this.reconnect = el("div", { class: "reconnect", hidden: true }, this.reconnectText, this.countdown, this.retryButton);
    this.body = el("div", { class: "body" });
    this.typing = el("div", { class: "typing", "aria-live": "polite" });
    this.input = el("textarea", { id: "sd-input", placeholder: s.composerPlaceholder, rows: "1", maxlength: "4000" });
    this.sendButton = el("button", { type: "submit" }, s.send);
    const save = el("button", { type: "button" }, s.downloadTranscript);
    this.endButton = el("button", { type: "button" }, s.endChat);
    this.deleteButton = el("button", { type: "button" }, s.deleteChat);
    this.tools = el("div", { class: "tools" }, save, this.endButton, this.deleteButton);
    // Two steps, so a slip of the finger deletes nothing: the first click asks, the second deletes.
    this.deleteButton.addEventListener("click", () => {
      if (this.deleteButton.dataset.confirm === "1") void this.session.deleteChat();
      else {
        this.deleteButton.dataset.confirm = "1";
        this.deleteButton.textContent = s.deleteConfirm;
      }
    });
    save.addEventListener("click", () => {
      if (this.state !== undefined) download(transcriptText(this.state, this.s), "chat-transcript.txt");
    });
    this.endButton.addEventListener("click", () => void this.session.endChat());
    this.fileInput = el("input", { type: "file", class: "sr", tabindex: "-1", "aria-hidden": "true" });
    this.attachButton = el("button", { type: "button", class: "attach", "aria-label": s.attach, title: s.attach }, icon(ICONS.clip, 20));
    this.attachButton.addEventListener("click", () => this.fileInput.click());
    this.fileInput.addEventListener("change", () => void this.attach());
    this.composer = el("form", { class: "composer" }, el("label", { for: "sd-input", class: "sr" }, s.composerLabel), this.attachButton, this.fileInput, this.input, this.sendButton);
    this.panel = el("section", { id: "sd-panel", class: "panel", role: "dialog", "aria-labelledby": "sd-title", lang: s.lang, hidden: true },
      el("header", {}, this.title, close), this.badges, this.alert, this.reconnect, this.notice, this.tools, this.body, this.typing, this.composer);
    if (style !== null) this.root.append(style);
    this.root.append(this.launcher, this.panel);

    this.launcher.addEventListener("click", () => this.toggle(!this.open));
    close.addEventListener("click", () => this.toggle(false));
    this.panel.addEventListener("keydown", (e) => {
      if (e.key === "Escape") this.toggle(false);
    });
    this.composer.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener("input", () => {
      const on = this.input.value.trim() !== "";
      if (on !== this.typingSent) this.session.typing(on);
      this.typingSent = on;
    });
    document.addEventListener("visibilitychange", () => {
      if (this.open && document.visibilityState === "visible") this.session.markRead();
    });
    session.subscribe((state) => this.render(state));
  }

  toggle(open: boolean): void {
    this.open = open;
    this.panel.hidden = !open;
    this.launcher.setAttribute("aria-expanded", String(open));
    if (open) this.unread = 0;
    this.renderLauncher();
    if (open) {
      this.focusScreen();
      this.session.markRead();
    } else this.launcher.focus();
  }

  private renderLauncher(): void {
    const label = this.open ? this.s.launcherClose : this.unread > 0 ? t(this.s, "launcherUnread", { count: String(this.unread) }) : this.s.launcherOpen;
    this.launcher.setAttribute("aria-label", label);
    replace(this.launcher, icon(this.open ? ICONS.close : ICONS.chat, 28), this.unread > 0 && !this.open ? el("span", { class: "unread", "aria-hidden": "true" }, String(this.unread)) : null);
  }

  private async attach(): Promise<void> {
    const file = this.fileInput.files?.[0];
    this.fileInput.value = "";
    if (file === undefined) return;
    await this.session.sendFile(file.name, file.type, new Uint8Array(await file.arrayBuffer()));
  }

  private async save(key: string): Promise<void> {
    const opened = await this.session.openAttachment(key);
    if (opened !== null) download(opened.bytes, safeFileName(opened.name));
  }

  private submit(): void {
    const text = this.input.value;
    if (text.trim() === "" || this.sendButton.disabled) return;
    this.input.value = "";
    if (this.typingSent) this.session.typing(false);
    this.typingSent = false;
    void this.session.send(text);
  }

  private focusScreen(): void {
    const target = this.body.querySelector<HTMLElement>("[data-autofocus]") ?? (this.composer.hidden ? null : this.input);
    target?.focus();
  }

  private render(st: WidgetState): void {
    this.state = st;
    this.tools.hidden = !((st.phase === "chat" || st.phase === "closed") && st.items.length > 0);
    this.endButton.hidden = st.phase !== "chat" || !this.session.hasConversation;
    this.deleteButton.hidden = st.deleted || !this.session.hasConversation;
    const vars = { team: st.teamName || st.tenantName, tenant: st.tenantName };
    replace(this.title, t(this.s, "title", vars), el("span", { class: "sub" }, icon(ICONS.lock, 12), " ", this.s.encrypted));
    replace(this.badges, ...st.members.flatMap((m) => {
      if (!m.verified || m.role === "visitor") return [];
      const key: StringKey = m.role === "history" ? "historyMember" : m.role === "supervisor" ? "verifiedSupervisor" : "verifiedBadge";
      return [el("li", { "data-role": m.role }, t(this.s, key, { name: m.label, tenant: st.tenantName }))];
    }));
    const blocked = st.blocked === null ? "" : t(this.s, BLOCKED[st.blocked] ?? "blockedMember", vars);
    const errors: Record<string, StringKey> = { network: "networkError", disconnected: "disconnected", offline: "offline", gone: "gone", unavailable: "unavailable", file_too_large: "fileTooLarge", file_unreadable: "fileUnreadable", consent_changed: "consentChanged" };
    const errorKey = st.error === null ? undefined : errors[st.error];
    replace(this.alert, blocked || (errorKey === undefined || st.phase === "error" ? "" : this.s[errorKey]));
    replace(this.notice, st.keyMismatch ? this.s.keyMismatch : "");
    this.renderReconnect();
    this.renderBody(st);
    const name = st.members.find((m) => m.verified && (m.role === "agent" || m.role === "supervisor"));
    replace(this.typing, st.staffTyping ? t(this.s, "typing", { name: name?.verified === true ? name.label : this.s.someone }) : "");
    this.composer.hidden = st.phase !== "chat";
    const refuse = st.blocked !== null;
    this.sendButton.disabled = refuse;
    this.input.disabled = refuse;
    this.attachButton.disabled = refuse;
    if (this.open && st.phase === "chat" && document.visibilityState === "visible") this.session.markRead();
  }

  /**
   * The reconnection line: the next try's countdown (ticking each second, visible only) and
   * "Retry now". Screen readers hear the line once per wait or try, not every second.
   */
  private renderReconnect(): void {
    const r = this.session.reconnecting;
    // Back (or over) while "Retry now" has the focus: the composer gets it, not the page.
    if (r === null && this.root.activeElement === this.retryButton) this.input.focus();
    this.reconnect.hidden = r === null;
    if (r === null) {
      clearInterval(this.tick);
      this.tick = undefined;
      delete this.reconnectText.dataset.key;
      return;
    }
    const text = (): string => {
      const now = this.session.reconnecting;
      if (now === null || "trying" in now) return this.s.reconnectTrying;
      return t(this.s, "reconnectIn", { seconds: String(Math.max(0, Math.ceil((now.at - Date.now()) / 1000))) });
    };
    this.countdown.textContent = text();
    const key = `${r.attempt}${"trying" in r ? "t" : "w"}`;
    if (this.reconnectText.dataset.key !== key) {
      this.reconnectText.dataset.key = key;
      this.reconnectText.textContent = text();
    }
    this.tick ??= setInterval(() => (this.countdown.textContent = text()), 1_000);
  }

  private renderBody(st: WidgetState): void {
    const screen = st.phase === "closed" ? "chat" : st.phase;
    if (screen !== this.screen) {
      this.screen = screen;
      this.rendered.clear();
      this.previews.clear();
      this.log = undefined;
      if (screen === "loading") replace(this.body, el("p", { class: "event" }, this.s.loading));
      else if (screen === "error") replace(this.body, el("p", { class: "event", role: "alert" }, this.s.loadError));
      else if (screen === "elsewhere") replace(this.body, el("p", { class: "event" }, this.s.elsewhere));
      else if (screen === "consent") replace(this.body, this.consent(st));
      else if (screen === "prechat") replace(this.body, this.prechat(st));
      else {
        this.log = el("ul", { class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-label": this.s.title.replace("{team}", st.teamName) });
        const greeting = el("p", { class: "event greeting" }, t(this.s, "greeting", { team: st.teamName || st.tenantName, tenant: st.tenantName }));
        replace(this.body, greeting, this.answers(st), this.log, el("p", { class: "event starting", hidden: true }, this.s.starting));
      }
      if (this.open) this.focusScreen();
    }
    if (this.log !== undefined) this.renderLog(st);
    this.previews.resume();
  }

  private consent(st: WidgetState): HTMLElement {
    const n = st.notice;
    const accept = el("button", { type: "button", class: "primary", "data-autofocus": "" }, this.s.consentAccept);
    accept.addEventListener("click", () => this.session.acceptConsent());
    // The link is shown as text (never a clickable href built from server data).
    const link = n?.url === undefined ? null : el("p", {}, this.s.consentLink, " ", el("span", { class: "url" }, n.url));
    return el("div", { class: "screen consent" }, el("h3", {}, this.s.consentTitle), el("p", {}, n?.text ?? ""), link, accept);
  }

  private prechat(st: WidgetState): HTMLElement {
    const form = el("form", { class: "screen prechat", novalidate: true }, el("h3", {}, this.s.prechatTitle));
    st.fields.forEach((f, i) => {
      const id = `sd-f${i}`;
      const attrs = { id, name: f.name, required: f.required, "aria-describedby": `${id}-err`, "data-autofocus": i === 0 ? "" : undefined };
      const input = f.kind === "textarea" ? el("textarea", attrs) : el("input", { ...attrs, type: f.kind });
      form.append(el("label", { for: id }, f.label, f.required ? ` ${this.s.prechatRequired}` : ""), input, el("p", { id: `${id}-err`, class: "err" }));
    });
    form.append(el("button", { type: "submit", class: "primary" }, this.s.prechatSubmit));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const values: Record<string, string> = {};
      for (const f of st.fields) values[f.name] = (form.elements.namedItem(f.name) as HTMLInputElement | null)?.value ?? "";
      const invalid = this.session.submitPrechat(values);
      st.fields.forEach((f, i) => {
        const bad = invalid.includes(f.name);
        form.querySelector(`#sd-f${i}`)?.setAttribute("aria-invalid", String(bad));
        const err = form.querySelector(`#sd-f${i}-err`);
        if (err !== null) replace(err, bad ? this.s.prechatInvalid : "");
      });
      if (invalid.length > 0) form.querySelector<HTMLElement>(`[aria-invalid="true"]`)?.focus();
    });
    return form;
  }

  private answers(st: WidgetState): HTMLElement | null {
    if (st.answers.length === 0) return null;
    const label = (name: string) => st.fields.find((f) => f.name === name)?.label ?? name;
    return el("dl", { class: "answers", "aria-label": this.s.yourDetails }, ...st.answers.flatMap(([k, v]) => [el("dt", {}, label(k)), el("dd", {}, v)]));
  }

  private renderLog(st: WidgetState): void {
    const log = this.log;
    if (log === undefined) return;
    const starting = this.body.querySelector<HTMLElement>(".starting");
    if (starting !== null) starting.hidden = !st.starting;
    for (const item of st.items) {
      const existing = this.rendered.get(item.key);
      const li = this.item(item, st);
      if (existing === undefined) {
        log.append(li);
        if (!this.open && item.kind === "text" && item.from === "staff") {
          this.unread += 1;
          this.renderLauncher();
        }
      }
      else if (existing.dataset.v !== li.dataset.v) existing.replaceWith(li);
      else continue;
      // The preview slot moves to the new line as it is (an image already shown stays).
      const preview = item.kind === "file" ? this.previews.slot(item) : null;
      if (preview !== null) li.append(preview);
      this.rendered.set(item.key, li);
      // Scroll the transcript only (scrollIntoView could scroll the host page too).
      this.body.scrollTop = this.body.scrollHeight;
    }
    if (st.phase === "closed") {
      const ended = log.querySelector(".ended") ?? log.appendChild(el("li", { class: "event ended" }));
      ended.textContent = st.deleted ? this.s.deleted : this.s.closed;
    }
  }

  private item(item: ChatItem, st: WidgetState): HTMLLIElement {
    if (item.kind === "unverified") return el("li", { class: "unverified", "data-v": "u" }, "⚠ ", this.s.unverified);
    if (item.kind === "event") {
      return el("li", { class: "event", "data-v": "e" }, t(this.s, EVENTS[item.event] ?? "eventTransferred", { name: item.name || this.s.agent, tenant: st.tenantName }));
    }
    const who = item.from === "visitor" ? this.s.you : item.author || this.s.agent;
    const status = STATUS[item.status];
    let body: HTMLElement;
    if (item.kind === "text") body = el("span", { class: "text" }, item.text);
    else {
      // The name is shown as text; the file is only ever saved, never opened in the page.
      const save = item.ref === undefined ? null : el("button", { type: "button", class: "save", "aria-label": t(this.s, "fileDownloadLabel", { name: item.name }) }, this.s.fileDownload);
      save?.addEventListener("click", () => void this.save(item.key));
      body = el("span", { class: "file" }, icon(ICONS.clip, 16), " ", el("span", { class: "name" }, item.name), ` (${humanSize(item.size)}) `, save);
    }
    return el("li", { class: `msg ${item.from}`, "data-v": `${item.status}${item.kind === "file" && item.ref !== undefined ? "+" : ""}` },
      el("span", { class: "who" }, who), body,
      status === undefined ? null : el("span", { class: "status" }, this.s[status]));
  }
}
