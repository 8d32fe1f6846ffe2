// Inbox administration: the websites allowed to embed the widget, each inbox's privacy notice
// and pre-chat fields, and the embed code (snippet). The snippet's `integrity` is the SHA-384
// of the widget file this server serves now (fetched and hashed here with SubtleCrypto, as a
// browser checking Subresource Integrity would), and its tenant keys are the registered root
// keys the widget config lists, for the admin to compare with `keys init` before publishing.

import { ApiError, type ConsoleApi } from "./api.js";
import { codeOf } from "./desk.js";
import { byId, el, show } from "./dom.js";
import { A } from "./strings.js";
import type { PrechatField, PrivacyNotice } from "../shared/protocol/types.js";

export const WIDGET_PATH = "/widget/sealdesk-widget.js";
const KINDS = ["text", "email", "tel", "textarea"] as const;
const MAX_FIELDS = 10;
const ROOT_KEY = /^ed25519:[A-Za-z0-9_-]{43}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface TeamView {
  id: string;
  name: string;
  disabled: boolean;
}

interface InboxSettings {
  privacy_notice?: PrivacyNotice | null;
  prechat_fields?: PrechatField[];
}

export interface Say {
  status(text: string): void;
  error(text: string): void;
}

/** The Subresource Integrity value of `bytes` (W3C SRI §3.3.1: sha384, base64). */
export async function integrityOf(bytes: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-384", bytes));
  let bin = "";
  for (const b of digest) bin += String.fromCharCode(b);
  return `sha384-${btoa(bin)}`;
}

/** The embed element; every value is checked to be an id, a key or a hash (nothing to escape). */
export function snippetFor(origin: string, integrity: string, tenant: string, team: string, roots: readonly string[]): string {
  if (!UUID.test(tenant) || !UUID.test(team)) throw new Error("not an inbox id");
  if (!/^sha384-[A-Za-z0-9+/]{64}$/.test(integrity)) throw new Error("not a sha384 integrity value");
  if (roots.length === 0 || !roots.every((k) => ROOT_KEY.test(k))) throw new Error("not ed25519 root keys");
  const src = new URL(WIDGET_PATH, origin).href;
  return `<script type="module" src="${src}" integrity="${integrity}" crossorigin="anonymous" ` +
    `data-sealdesk-inbox="${tenant}/${team}" data-sealdesk-tenant-key="${roots.join(",")}"></script>`;
}

export class InboxAdmin {
  private teams: TeamView[] = [];

  constructor(
    private readonly api: ConsoleApi,
    private readonly tenant: string,
    private readonly say: Say,
  ) {}

  private get t(): string {
    return encodeURIComponent(this.tenant);
  }

  private get team(): TeamView | undefined {
    const id = byId<HTMLSelectElement>("inbox-team").value;
    return this.teams.find((t) => t.id === id);
  }

  wire(): void {
    byId<HTMLFormElement>("origins-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.saveOrigins();
    });
    byId("inbox-team").addEventListener("change", () => void this.loadInbox());
    byId("field-add").addEventListener("click", () => {
      if (byId("fields").children.length >= MAX_FIELDS) return;
      const row = this.fieldRow({ name: "", label: "", kind: "text", required: false });
      byId("fields").append(row);
      row.querySelector("input")?.focus();
    });
    byId<HTMLFormElement>("notice-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.saveInbox();
    });
    byId("snippet-make").addEventListener("click", () => void this.makeSnippet());
  }

  async open(): Promise<void> {
    try {
      const [origins, teams] = await Promise.all([
        this.api.request<{ origins: string[] }>("GET", `/api/tenants/${this.t}/widget-origins`),
        this.api.request<TeamView[]>("GET", `/api/tenants/${this.t}/teams`),
      ]);
      byId<HTMLTextAreaElement>("origins").value = origins.origins.join("\n");
      const previous = byId<HTMLSelectElement>("inbox-team").value;
      this.teams = teams.filter((t) => !t.disabled);
      byId("inbox-team").replaceChildren(...this.teams.map((t) => {
        const o = el("option", "", t.name);
        o.value = t.id;
        return o;
      }));
      if (this.teams.some((t) => t.id === previous)) byId<HTMLSelectElement>("inbox-team").value = previous;
      if (this.teams.length === 0) this.say.error(A.noTeams);
      show(byId("snippet"), false);
      await this.loadInbox();
    } catch (e) {
      this.say.error(A.failed("Loading the inboxes", codeOf(e)));
    }
  }

  private async saveOrigins(): Promise<void> {
    const origins = byId<HTMLTextAreaElement>("origins").value.split(/\s+/).filter((o) => o !== "");
    try {
      const r = await this.api.request<{ origins: string[] }>("PUT", `/api/tenants/${this.t}/widget-origins`, { origins });
      byId<HTMLTextAreaElement>("origins").value = r.origins.join("\n");
      this.say.status(A.originsSaved(r.origins.length));
    } catch (e) {
      this.say.error(e instanceof ApiError && e.code === "invalid_input" ? A.invalid(e.message) : A.failed("Saving the websites", codeOf(e)));
    }
  }

  private fieldRow(f: PrechatField): HTMLLIElement {
    const li = el("li", "field");
    const n = (): number => Array.from(byId("fields").children).indexOf(li) + 1;
    const name = el("input");
    name.value = f.name;
    name.maxLength = 32;
    name.spellcheck = false;
    name.placeholder = A.fieldName;
    const label = el("input");
    label.value = f.label;
    label.maxLength = 80;
    label.placeholder = A.fieldLabel;
    const kind = el("select");
    for (const k of KINDS) {
      const o = el("option", "", k);
      o.value = k;
      kind.append(o);
    }
    kind.value = f.kind;
    const reqLabel = el("label", "check");
    const req = el("input");
    req.type = "checkbox";
    req.checked = f.required === true;
    reqLabel.append(req, document.createTextNode(A.fieldRequired));
    const remove = el("button", "", A.fieldRemove);
    remove.type = "button";
    remove.addEventListener("click", () => {
      li.remove();
      byId("field-add").focus();
    });
    // Names for screen readers, kept current as rows come and go.
    const label_ = (): void => {
      name.setAttribute("aria-label", `${A.fieldName}, ${A.fieldNumber(n())}`);
      label.setAttribute("aria-label", `${A.fieldLabel}, ${A.fieldNumber(n())}`);
      kind.setAttribute("aria-label", `${A.fieldKind}, ${A.fieldNumber(n())}`);
      remove.setAttribute("aria-label", `${A.fieldRemove} ${A.fieldNumber(n())}`);
    };
    li.addEventListener("focusin", label_);
    queueMicrotask(label_);
    li.append(name, label, kind, reqLabel, remove);
    return li;
  }

  private async loadInbox(): Promise<void> {
    const team = this.team;
    show(byId("snippet"), false);
    if (team === undefined) return;
    try {
      const s = await this.api.request<InboxSettings>("GET", `/api/tenants/${this.t}/teams/${encodeURIComponent(team.id)}/widget`);
      byId<HTMLInputElement>("notice-version").value = s.privacy_notice?.version ?? "";
      byId<HTMLTextAreaElement>("notice-text").value = s.privacy_notice?.text ?? "";
      byId<HTMLInputElement>("notice-url").value = s.privacy_notice?.url ?? "";
      byId("fields").replaceChildren(...(s.prechat_fields ?? []).map((f) => this.fieldRow(f)));
    } catch (e) {
      this.say.error(A.failed("Loading the inbox", codeOf(e)));
    }
  }

  private async saveInbox(): Promise<void> {
    const team = this.team;
    if (team === undefined) return;
    const version = byId<HTMLInputElement>("notice-version").value.trim();
    const text = byId<HTMLTextAreaElement>("notice-text").value.trim();
    const url = byId<HTMLInputElement>("notice-url").value.trim();
    if (text !== "" && version === "") {
      this.say.error(A.noticeNeedsVersion);
      byId("notice-version").focus();
      return;
    }
    const fields: PrechatField[] = Array.from(byId("fields").children).map((li) => {
      const [name, label] = Array.from(li.querySelectorAll<HTMLInputElement>("input:not([type=checkbox])"));
      return {
        name: name?.value.trim() ?? "",
        label: label?.value.trim() ?? "",
        kind: (li.querySelector("select")?.value ?? "text") as PrechatField["kind"],
        required: li.querySelector<HTMLInputElement>("input[type=checkbox]")?.checked === true,
      };
    });
    const body: InboxSettings = {
      privacy_notice: text === "" ? null : { version, text, ...(url === "" ? {} : { url }) },
      prechat_fields: fields,
    };
    try {
      await this.api.request("PUT", `/api/tenants/${this.t}/teams/${encodeURIComponent(team.id)}/widget`, body);
      this.say.status(A.inboxSaved(team.name));
      await this.loadInbox();
    } catch (e) {
      this.say.error(e instanceof ApiError && e.code === "invalid_input" ? A.invalid(e.message) : A.failed("Saving the inbox", codeOf(e)));
    }
  }

  private async makeSnippet(): Promise<void> {
    const team = this.team;
    if (team === undefined) return;
    try {
      const [config, file] = await Promise.all([
        this.api.widgetConfig(this.tenant, team.id),
        fetch(WIDGET_PATH, { cache: "no-store", credentials: "omit" }).then((r) => {
          if (!r.ok) throw new Error(`the widget file answered ${r.status}`);
          return r.arrayBuffer();
        }),
      ]);
      const roots = config.root_keys ?? [];
      if (roots.length === 0) {
        this.say.error(A.snippetNoRoots);
        return;
      }
      const out = byId("snippet");
      out.textContent = snippetFor(location.origin, await integrityOf(file), this.tenant, team.id, roots);
      show(out, true);
      this.say.status(A.snippetReady);
    } catch (e) {
      this.say.error(A.failed("Making the embed code", codeOf(e)));
    }
  }
}
