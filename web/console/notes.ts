// The internal notes of the open conversation: a panel under the composer, clearly marked as
// staff-only, that never touches the conversation's MLS group (so nothing of it can reach the
// visitor). Each note is an SDT1 object (shared/seal/teamseal.ts) sealed by this device to
// the team's newest announced key and the newest archive key; readers open it with a team key
// they hold, check the author's chain under the pinned roots at the time the server recorded
// it, and that it names this conversation. Authors show with their certified name and a
// "verified" badge; every text is set as text (dom.ts). A note the server repeats is shown once.
// A note carried over from another team at a transfer shows "Ann D. · agent · carried over by
// Max M." (carry.ts).

import type { NoteView } from "../shared/protocol/generated.js";
import type { ConversationView } from "../shared/protocol/types.js";
import { MAX_TEXT, sealNote, type Note } from "../shared/seal/teamseal.js";
import { utf8 } from "../shared/util/bytes.js";
import { uuidBytes } from "../widget/trust.js";
import type { ReadyDevice } from "./device.js";
import { el } from "./dom.js";
import { carriedText, openNoteOrCopy } from "./carry.js";
import type { ConsoleApi } from "./api.js";
import { addNote, authorText, C, codeOf, listNotes, recipients, type Outcome } from "./sealed-content.js";

const POLL_MS = 4_000;

export class NotesPanel {
  readonly root: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly status: HTMLParagraphElement;
  private readonly text: HTMLTextAreaElement;
  private conversation: ConversationView | undefined;
  /** Opened notes by the server's id (conversation, seq): each is opened once. */
  private readonly opened = new Map<string, Outcome<Note>>();
  /** For a note carried over from another team: who wrote it and who carried it over. */
  private readonly carried = new Map<string, string | undefined>();
  private signature = "";
  private timer: number | undefined;

  constructor(
    private readonly api: ConsoleApi,
    private readonly device: ReadyDevice,
  ) {
    this.root = el("section", "notes");
    this.root.id = "notes-panel";
    this.root.setAttribute("aria-labelledby", "notes-title");
    this.root.hidden = true;
    const head = el("div", "notes-head");
    const title = el("h2", "", C.notesTitle);
    title.id = "notes-title";
    head.append(title, el("span", "internal-badge", C.notesBadge));
    this.list = el("ol", "notes-list");
    this.list.id = "notes";
    this.list.setAttribute("aria-live", "polite");
    this.status = el("p", "muted small");
    this.status.id = "notes-status";
    this.status.setAttribute("role", "status");
    const form = el("form", "note-form");
    form.id = "note-form";
    const label = el("label", "", C.noteLabel);
    label.htmlFor = "note-text";
    this.text = el("textarea");
    this.text.id = "note-text";
    this.text.rows = 1;
    const add = el("button", "", C.noteAdd);
    add.type = "submit";
    form.append(label, this.text, add);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.add();
    });
    this.root.append(head, this.list, this.status, form);
  }

  /** Shows the notes of `c` (a conversation just opened in the desk). */
  show(c: ConversationView): void {
    this.conversation = c;
    this.signature = "";
    this.list.replaceChildren();
    this.status.textContent = "";
    this.text.value = "";
    this.root.hidden = false;
    window.clearInterval(this.timer);
    this.timer = window.setInterval(() => void this.refresh(), POLL_MS);
    void this.refresh();
  }

  stop(): void {
    window.clearInterval(this.timer);
    this.conversation = undefined;
    this.root.hidden = true;
  }

  private async open(c: ConversationView, n: NoteView): Promise<Outcome<Note>> {
    const key = `${c.id}/${n.seq}`;
    let outcome = this.opened.get(key);
    if (outcome === undefined) {
      // The server's time for the chain check (docs/e2ee.md): the note's own clock is the writer's.
      // The original, else a copy carried over to this device's team at a transfer (carry.ts).
      outcome = await openNoteOrCopy(this.device, c.id, n);
      if ("ok" in outcome) {
        try {
          this.carried.set(key, await carriedText(this.device, outcome.ok));
        } catch {
          outcome = { refused: C.carriedUnverified };
        }
      }
      this.opened.set(key, outcome);
    }
    return outcome;
  }

  private async refresh(): Promise<void> {
    const c = this.conversation;
    if (c === undefined) return;
    let notes: NoteView[];
    try {
      notes = (await listNotes(this.api, c.tenant_id, c.id)).notes;
    } catch (e) {
      if (this.conversation === c) this.status.textContent = C.notesFailed(codeOf(e));
      return;
    }
    const items: HTMLLIElement[] = [];
    const seen = new Set<string>();
    let refused = 0;
    let elsewhere = 0;
    for (const n of notes) {
      const o = await this.open(c, n);
      if ("refused" in o) refused++;
      else if ("elsewhere" in o) elsewhere++;
      else {
        const id = Array.from(o.ok.content.id, (b) => b.toString(16).padStart(2, "0")).join("");
        if (seen.has(id)) {
          refused++; // The server repeated a note: shown once.
          continue;
        }
        seen.add(id);
        const li = el("li", "note");
        li.dataset.seq = String(n.seq);
        const meta = el("span", "meta");
        const author = this.carried.get(`${c.id}/${n.seq}`) ?? authorText(o.ok.author);
        meta.append(el("span", "note-author", author), el("span", "badge", C.verified),
          el("time", "", new Date(n.at).toLocaleString()));
        li.append(meta, el("p", "text", o.ok.content.text));
        items.push(li);
      }
    }
    if (this.conversation !== c) return;
    const problems = [refused > 0 ? C.notesHidden(refused) : "", elsewhere > 0 ? C.notesSealedElsewhere(elsewhere) : ""].filter((s) => s !== "");
    const signature = JSON.stringify([notes.map((n) => n.seq), problems]);
    if (signature !== this.signature) {
      this.signature = signature;
      this.list.replaceChildren(...(items.length === 0 ? [el("li", "empty muted", C.notesEmpty)] : items));
      this.status.textContent = problems.join(" ");
    }
  }

  private async add(): Promise<void> {
    const c = this.conversation;
    const text = this.text.value.trim();
    if (c === undefined || text === "") return;
    if (utf8(text).length > MAX_TEXT) {
      this.status.textContent = C.noteTooLong;
      return;
    }
    try {
      const note: Note = {
        conversation: uuidBytes(c.id), id: crypto.getRandomValues(new Uint8Array(16)), writtenMs: BigInt(Date.now()), text,
      };
      const to = await recipients(this.api, this.device, c.tenant_id, c.team_id, true);
      const sealed = await sealNote(note, uuidBytes(c.tenant_id), uuidBytes(c.team_id), this.device.chain, to, this.device.seed);
      await addNote(this.api, c.tenant_id, c.id, sealed);
      if (this.conversation !== c) return;
      this.text.value = "";
      await this.refresh();
      if (this.conversation === c && this.status.textContent === "") this.status.textContent = C.noteAdded;
    } catch (e) {
      this.status.textContent = C.noteFailed(codeOf(e));
    }
  }
}
