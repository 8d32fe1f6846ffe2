// The team's canned responses, under the composer of the open conversation: a picker that
// inserts a response's text into the reply (the agent edits it, then sends it as any message),
// and, for those with the permission (supervisors and above: the server's
// ManageCannedResponses), adding and deleting them. Each is an SDT1 object
// (shared/seal/teamseal.ts) sealed to the team's newest announced key by the writer's
// certified device; it opens only for the team it is listed under, and its author shows
// verified. Titles and texts are set as text (dom.ts).

import type { CannedResponseView } from "../shared/protocol/generated.js";
import type { ConversationView } from "../shared/protocol/types.js";
import { MAX_TEXT, MAX_TITLE, openCanned, sealCanned, type CannedResponse } from "../shared/seal/teamseal.js";
import { utf8 } from "../shared/util/bytes.js";
import { uuidBytes } from "../widget/trust.js";
import type { ConsoleApi } from "./api.js";
import type { ReadyDevice } from "./device.js";
import { byId, el } from "./dom.js";
import { recordedAt, resealTeam } from "./canned-reseal.js";
import { addCanned, authorText, C, codeOf, deleteCanned, listCanned, MANAGING_ROLES, openWith, recipients, type Outcome } from "./sealed-content.js";

interface Shown {
  view: CannedResponseView;
  canned: CannedResponse;
  author: string;
}

export class CannedBox {
  readonly root: HTMLDetailsElement;
  private readonly filter: HTMLInputElement;
  private readonly list: HTMLUListElement;
  private readonly status: HTMLParagraphElement;
  private readonly title: HTMLInputElement;
  private readonly text: HTMLTextAreaElement;
  private team: { tenant: string; id: string } | undefined;
  private shown: Shown[] = [];
  /** Each response opened once per payload (keyed by id and recorded time: a re-seal or edit is a new one). */
  private readonly opened = new Map<string, Outcome<CannedResponse>>();
  private readonly manages: boolean;

  constructor(
    private readonly api: ConsoleApi,
    private readonly device: ReadyDevice,
    role: string,
  ) {
    this.manages = MANAGING_ROLES.includes(role);
    this.root = el("details", "canned");
    this.root.id = "canned";
    this.root.hidden = true;
    const summary = el("summary", "", C.cannedTitle);
    this.filter = el("input");
    this.filter.id = "canned-filter";
    this.filter.type = "search";
    this.filter.setAttribute("aria-label", C.cannedFilter);
    this.filter.placeholder = C.cannedFilter;
    this.filter.addEventListener("input", () => this.render());
    this.list = el("ul", "rows canned-list");
    this.list.id = "canned-list";
    this.status = el("p", "muted small");
    this.status.id = "canned-status";
    this.status.setAttribute("role", "status");
    this.root.append(summary, this.filter, this.list, this.status);
    this.title = el("input");
    this.text = el("textarea");
    if (this.manages) this.root.append(this.manageForm());
    this.root.addEventListener("toggle", () => {
      if (this.root.open) void this.load();
    });
  }

  private manageForm(): HTMLFormElement {
    const form = el("form", "canned-form");
    form.id = "canned-form";
    const titleLabel = el("label", "", C.cannedAddTitle);
    titleLabel.htmlFor = "canned-title";
    this.title.id = "canned-title";
    this.title.maxLength = MAX_TITLE;
    const textLabel = el("label", "", C.cannedAddText);
    textLabel.htmlFor = "canned-text";
    this.text.id = "canned-text";
    this.text.rows = 3;
    const save = el("button", "", C.cannedAdd);
    save.type = "submit";
    form.append(titleLabel, this.title, textLabel, this.text, save);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.add();
    });
    return form;
  }

  /** The responses of `c`'s team (a conversation just opened in the desk). */
  show(c: ConversationView): void {
    const same = this.team?.id === c.team_id;
    this.team = { tenant: c.tenant_id, id: c.team_id };
    this.root.hidden = false;
    if (!same) {
      this.shown = [];
      this.filter.value = "";
      this.status.textContent = "";
      this.render();
    }
    if (this.root.open) void this.load();
  }

  stop(): void {
    this.team = undefined;
    this.root.hidden = true;
  }

  private async load(): Promise<void> {
    const team = this.team;
    if (team === undefined) return;
    if (this.manages) {
      // After a team key rotation, older responses are re-sealed to the newest key first.
      await resealTeam(this.api, this.device, team.tenant, team.id).catch(() => undefined);
    }
    let views: CannedResponseView[];
    try {
      views = (await listCanned(this.api, team.tenant, team.id)).canned_responses;
    } catch (e) {
      this.status.textContent = C.cannedFailed(codeOf(e));
      return;
    }
    const shown: Shown[] = [];
    let hidden = 0;
    for (const v of views) {
      const cached = `${v.id}/${v.created_at}`;
      let o = this.opened.get(cached);
      if (o === undefined) {
        o = await openWith(this.device, v.p, (bytes, key) => openCanned(bytes, uuidBytes(team.id), key, this.device.anchor, recordedAt(v)));
        this.opened.set(cached, o);
      }
      if ("ok" in o) shown.push({ view: v, canned: o.ok.content, author: authorText(o.ok.author) });
      else hidden++;
    }
    if (this.team !== team) return;
    this.shown = shown;
    this.status.textContent = hidden > 0 ? C.cannedHidden(hidden) : "";
    this.render();
  }

  private render(): void {
    const q = this.filter.value.trim().toLowerCase();
    const matching = this.shown.filter((s) => q === "" || s.canned.title.toLowerCase().includes(q) || s.canned.text.toLowerCase().includes(q));
    const manage = this.root.querySelector("#canned-form") !== null;
    const items = matching.map((s) => {
      const li = el("li", "canned-item");
      li.dataset.id = s.view.id;
      const insert = el("button", "", s.canned.title);
      insert.type = "button";
      insert.setAttribute("aria-label", C.cannedInsert(s.canned.title));
      insert.addEventListener("click", () => this.insert(s.canned.text));
      const body = el("span", "canned-text");
      body.append(el("span", "text", s.canned.text), el("span", "muted small", ` ${C.by(s.author)} `), el("span", "badge", C.verified));
      li.append(insert, body);
      if (manage) {
        const del = el("button", "", C.cannedDelete);
        del.type = "button";
        del.addEventListener("click", () => void this.remove(s.view.id));
        li.append(del);
      }
      return li;
    });
    if (items.length === 0) items.push(el("li", "empty muted", this.shown.length === 0 ? C.cannedEmpty : C.cannedNone));
    this.list.replaceChildren(...items);
  }

  /** Puts the text into the reply for the agent to edit and send (never sends by itself). */
  private insert(text: string): void {
    const reply = byId<HTMLTextAreaElement>("reply");
    if (reply.disabled) {
      this.status.textContent = C.cannedNoReply;
      return;
    }
    reply.value = reply.value.trim() === "" ? text : `${reply.value}\n${text}`;
    reply.dispatchEvent(new Event("input", { bubbles: true }));
    reply.focus();
    this.status.textContent = C.cannedInserted;
  }

  private async add(): Promise<void> {
    const team = this.team;
    const title = this.title.value.trim();
    const text = this.text.value.trim();
    if (team === undefined) return;
    if (title === "" || text === "" || utf8(title).length > MAX_TITLE || utf8(text).length > MAX_TEXT) {
      this.status.textContent = C.cannedInvalid;
      return;
    }
    try {
      const canned: CannedResponse = { team: uuidBytes(team.id), writtenMs: BigInt(Date.now()), title, text };
      const to = await recipients(this.api, this.device, team.tenant, team.id, false);
      await addCanned(this.api, team.tenant, team.id, await sealCanned(canned, uuidBytes(team.tenant), this.device.chain, to, this.device.seed));
      this.title.value = "";
      this.text.value = "";
      await this.load();
      this.status.textContent = C.cannedAdded;
    } catch (e) {
      this.status.textContent = C.cannedFailed(codeOf(e));
    }
  }

  private async remove(id: string): Promise<void> {
    const team = this.team;
    if (team === undefined) return;
    try {
      await deleteCanned(this.api, team.tenant, team.id, id);
      await this.load();
      this.status.textContent = C.cannedDeleted;
    } catch (e) {
      this.status.textContent = C.cannedFailed(codeOf(e));
    }
  }
}
