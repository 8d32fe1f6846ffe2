// The canned responses card of the administration page, for the roles that manage them
// (supervisors and above: the server's ManageCannedResponses; supervisors see only this card).
// Per team: each response with its title, text, verified author and the team key version it
// is sealed to; adding, editing (a replacement sealed to the team's newest key, with a
// compare-and-swap on the version read) and deleting. Opening the card first re-seals the
// team's responses under an older key version (canned-reseal.ts). Responses are SDT1 objects
// (shared/seal/teamseal.ts); everything is set as text (dom.ts).

import type { CannedResponseView } from "../shared/protocol/generated.js";
import { MAX_TEXT, MAX_TITLE, openCanned, sealCanned, teamKeyVersion, type CannedResponse } from "../shared/seal/teamseal.js";
import { fromBase64, utf8 } from "../shared/util/bytes.js";
import { uuidBytes } from "../widget/trust.js";
import type { ConsoleApi } from "./api.js";
import { recordedAt, replaceCanned, resealTeam } from "./canned-reseal.js";
import { newestTeamKey, type ReadyDevice } from "./device.js";
import { el } from "./dom.js";
import { addCanned, authorText, C, codeOf, deleteCanned, listCanned, openWith, recipients } from "./sealed-content.js";

export const CA = {
  title: "Canned responses",
  intro: "End-to-end encrypted to each team's key. After a team key rotation this browser re-seals older ones to the newest key it holds.",
  team: "Team",
  noDevice: "This browser's keys are not ready yet: open the desk and wait for its device to be certified.",
  noTeams: "There are no teams yet.",
  version: (v: number | undefined) => (v === undefined ? "key version unknown" : `key version ${v}`),
  older: "older key",
  unreadable: "Sealed to a team key this browser does not hold, or not verified: not shown.",
  edit: "Edit",
  editOf: (title: string) => `Edit “${title}”`,
  deleteOf: (title: string) => `Delete “${title}”`,
  newTitle: "Title of a new response",
  newText: "Text of a new response",
  editTitle: "Title of this response",
  editText: "Text of this response",
  save: "Save changes",
  cancel: "Cancel",
  saved: "Canned response changed, end-to-end encrypted to the team's newest key.",
  changed: "Someone changed it meanwhile: the list is fresh, try again.",
  resealed: (n: number, v: number) => `${n} canned response(s) re-sealed to team key version ${v}.`,
};

/** The certified device of this page, once the desk has it (staff-content.ts sets it). */
let device: ReadyDevice | undefined;
export function setCannedDevice(d: ReadyDevice | undefined): void {
  device = d;
}

interface Row {
  view: CannedResponseView;
  version: number | undefined;
  canned?: CannedResponse;
  author?: string;
}

export class CannedAdmin {
  readonly root: HTMLElement;
  private readonly team: HTMLSelectElement;
  private readonly list: HTMLUListElement;
  private readonly status: HTMLParagraphElement;
  private readonly title: HTMLInputElement;
  private readonly text: HTMLTextAreaElement;
  private editing: string | undefined;

  constructor(
    private readonly api: ConsoleApi,
    private readonly tenant: string,
  ) {
    this.root = el("section", "card");
    this.root.id = "canned-admin";
    this.root.setAttribute("aria-labelledby", "canned-admin-title");
    const h = el("h2", "", CA.title);
    h.id = "canned-admin-title";
    const teamLabel = el("label", "", CA.team);
    teamLabel.htmlFor = "canned-admin-team";
    this.team = el("select");
    this.team.id = "canned-admin-team";
    this.team.addEventListener("change", () => void this.load());
    this.status = el("p", "muted small");
    this.status.id = "canned-admin-status";
    this.status.setAttribute("role", "status");
    this.list = el("ul", "rows canned-list");
    this.list.id = "canned-admin-list";
    this.title = el("input");
    this.title.id = "canned-admin-new-title";
    this.title.maxLength = MAX_TITLE;
    this.text = el("textarea");
    this.text.id = "canned-admin-new-text";
    this.text.rows = 3;
    const form = el("form", "canned-form");
    const tl = el("label", "", CA.newTitle);
    tl.htmlFor = this.title.id;
    const xl = el("label", "", CA.newText);
    xl.htmlFor = this.text.id;
    const add = el("button", "", C.cannedAdd);
    add.type = "submit";
    form.append(tl, this.title, xl, this.text, add);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.add();
    });
    this.root.append(h, el("p", "muted", CA.intro), teamLabel, this.team, this.status, this.list, form);
  }

  private get teamId(): string {
    return this.team.value;
  }

  async open(): Promise<void> {
    try {
      const teams = await this.api.request<Array<{ id: string; name: string }>>("GET", `/api/tenants/${encodeURIComponent(this.tenant)}/teams`);
      const keep = this.team.value;
      this.team.replaceChildren(...teams.map((t) => {
        const o = el("option", "", t.name);
        o.value = t.id;
        return o;
      }));
      if (teams.some((t) => t.id === keep)) this.team.value = keep;
      if (teams.length === 0) {
        this.list.replaceChildren(el("li", "empty muted", CA.noTeams));
        return;
      }
    } catch (e) {
      this.status.textContent = C.cannedFailed(codeOf(e));
      return;
    }
    await this.load();
  }

  private async load(note?: string): Promise<void> {
    const d = device;
    const team = this.teamId;
    if (d === undefined) {
      this.status.textContent = CA.noDevice;
      this.list.replaceChildren();
      return;
    }
    let said = note ?? "";
    try {
      const r = await resealTeam(this.api, d, this.tenant, team);
      if (r.resealed > 0 && r.newest !== undefined && note === undefined) said = CA.resealed(r.resealed, r.newest);
    } catch {
      // Shown as they are; the next opening tries again.
    }
    let views: CannedResponseView[];
    try {
      views = (await listCanned(this.api, this.tenant, team)).canned_responses;
    } catch (e) {
      this.status.textContent = C.cannedFailed(codeOf(e));
      return;
    }
    const rows: Row[] = [];
    for (const v of views) {
      const row: Row = { view: v, version: teamKeyVersion(fromBase64(v.p)) };
      const o = await openWith(d, v.p, (bytes, key) => openCanned(bytes, uuidBytes(team), key, d.anchor, recordedAt(v)));
      if ("ok" in o) {
        row.canned = o.ok.content;
        row.author = authorText(o.ok.author);
      }
      rows.push(row);
    }
    if (this.teamId !== team) return;
    const newest = newestTeamKey(d, team)?.version;
    this.list.replaceChildren(...(rows.length === 0 ? [el("li", "empty muted", C.cannedEmpty)] : rows.map((r) => this.row(r, newest))));
    this.status.textContent = said;
  }

  private row(r: Row, newest: number | undefined): HTMLLIElement {
    const li = el("li", "canned-item");
    li.dataset.id = r.view.id;
    const version = el("span", "badge canned-version", CA.version(r.version));
    if (r.version !== undefined && newest !== undefined && r.version < newest) version.append(` · ${CA.older}`);
    const del = el("button", "", C.cannedDelete);
    del.type = "button";
    del.addEventListener("click", () => void this.remove(r.view.id));
    if (r.canned === undefined) {
      del.setAttribute("aria-label", C.cannedDelete);
      li.append(el("span", "muted canned-unreadable", CA.unreadable), version, del);
      return li;
    }
    const canned = r.canned;
    del.setAttribute("aria-label", CA.deleteOf(canned.title));
    if (this.editing === r.view.id) {
      li.append(this.editForm(r, canned));
      return li;
    }
    const edit = el("button", "", CA.edit);
    edit.type = "button";
    edit.setAttribute("aria-label", CA.editOf(canned.title));
    edit.addEventListener("click", () => {
      this.editing = r.view.id;
      void this.load();
    });
    const body = el("span", "canned-text");
    body.append(el("strong", "canned-title", canned.title), el("span", "text", canned.text), el("span", "muted small", ` ${C.by(r.author ?? "")} `), el("span", "badge", C.verified));
    li.append(body, version, edit, del);
    return li;
  }

  private editForm(r: Row, canned: CannedResponse): HTMLFormElement {
    const form = el("form", "canned-form canned-edit");
    const title = el("input");
    title.id = `canned-edit-title-${r.view.id}`;
    title.maxLength = MAX_TITLE;
    title.value = canned.title;
    const text = el("textarea");
    text.id = `canned-edit-text-${r.view.id}`;
    text.rows = 3;
    text.value = canned.text;
    const tl = el("label", "", CA.editTitle);
    tl.htmlFor = title.id;
    const xl = el("label", "", CA.editText);
    xl.htmlFor = text.id;
    const save = el("button", "", CA.save);
    save.type = "submit";
    const cancel = el("button", "", CA.cancel);
    cancel.type = "button";
    cancel.addEventListener("click", () => {
      this.editing = undefined;
      void this.load();
    });
    form.append(tl, title, xl, text, save, cancel);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.save(r, title.value.trim(), text.value.trim());
    });
    return form;
  }

  private valid(title: string, text: string): boolean {
    const ok = title !== "" && text !== "" && utf8(title).length <= MAX_TITLE && utf8(text).length <= MAX_TEXT;
    if (!ok) this.status.textContent = C.cannedInvalid;
    return ok;
  }

  private async seal(team: string, title: string, text: string): Promise<Uint8Array> {
    const d = device;
    if (d === undefined) throw new Error(CA.noDevice);
    const canned: CannedResponse = { team: uuidBytes(team), writtenMs: BigInt(Date.now()), title, text };
    const to = await recipients(this.api, d, this.tenant, team, false);
    return sealCanned(canned, uuidBytes(this.tenant), d.chain, to, d.seed);
  }

  private async add(): Promise<void> {
    const team = this.teamId;
    const title = this.title.value.trim();
    const text = this.text.value.trim();
    if (!this.valid(title, text)) return;
    try {
      await addCanned(this.api, this.tenant, team, await this.seal(team, title, text));
      this.title.value = "";
      this.text.value = "";
      await this.load(C.cannedAdded);
    } catch (e) {
      this.status.textContent = C.cannedFailed(codeOf(e));
    }
  }

  private async save(r: Row, title: string, text: string): Promise<void> {
    const team = this.teamId;
    if (!this.valid(title, text) || r.version === undefined) return;
    let note: string;
    try {
      await replaceCanned(this.api, this.tenant, team, r.view, r.version, await this.seal(team, title, text));
      note = CA.saved;
    } catch (e) {
      note = codeOf(e) === "conflict" ? CA.changed : C.cannedFailed(codeOf(e));
    }
    this.editing = undefined;
    await this.load(note);
  }

  private async remove(id: string): Promise<void> {
    try {
      await deleteCanned(this.api, this.tenant, this.teamId, id);
      await this.load(C.cannedDeleted);
    } catch (e) {
      this.status.textContent = C.cannedFailed(codeOf(e));
    }
  }
}
