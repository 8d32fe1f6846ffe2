// The conversation lists on the left (queue, mine, team) and their previews: each
// conversation's log replayed through its History Member once per new entry.

import type { ConversationView } from "../shared/protocol/types.js";
import type { ConsoleApi } from "./api.js";
import type { ReadyDevice } from "./device.js";
import { byId, el } from "./dom.js";
import { previewText, visitorName } from "./lines.js";
import { replayHistory, type Line } from "./preview.js";
import { CONVERSATION_OPENED } from "./staff-content.js";

const EMPTY: Record<string, string> = {
  queue: "Nobody is waiting.",
  mine: "No conversation assigned to you.",
  team: "No colleague is in a conversation.",
};

export interface Preview {
  lastSeq: number;
  /** How many team keys the device held when it replayed (a new one may open more). */
  keys: number;
  lines: Line[];
  last: number;
  failed: number;
  /** Written under a team key this device was not given (a History Member generation it cannot open). */
  unreadable: number;
}

export class Lists {
  private readonly previews = new Map<string, Preview>();
  private readonly signatures = new Map<string, string>();

  constructor(
    private readonly api: ConsoleApi,
    private readonly device: ReadyDevice,
  ) {}

  /**
   * The replay of `c` up to its last entry (cached per last seq, and replayed again once the
   * device holds another team key: a rotation's); `fresh` replays again.
   */
  async previewOf(c: ConversationView, fresh = false): Promise<Preview | undefined> {
    if (fresh) this.previews.delete(c.id);
    const known = this.previews.get(c.id);
    const keys = this.device.teamKeys.length;
    if (known !== undefined && known.lastSeq === c.last_seq && known.keys === keys) return known;
    // Nothing in the log yet: the widget takes the History Member before its first entry.
    if (c.last_seq === 0) return known;
    try {
      const r = await replayHistory(this.api, c.tenant_id, c.team_id, c.id, this.device);
      const p = { lastSeq: c.last_seq, keys, ...r };
      this.previews.set(c.id, p);
      return p;
    } catch {
      return known;
    }
  }

  /** Renders the list `id`; rebuilt only when something shown changed, so a click never lands on a replaced button. */
  async render(id: string, list: ConversationView[], selected: string | undefined, onSelect: (c: ConversationView) => void): Promise<void> {
    const rows: Array<{ c: ConversationView; title: string; preview: string }> = [];
    for (const c of list) {
      const p = await this.previewOf(c);
      rows.push({ c, title: visitorName(p?.lines, `Visitor ${c.visitor_id.slice(0, 8)}`), preview: previewText(p?.lines) });
    }
    const signature = JSON.stringify([selected, rows.map((r) => [r.c.id, r.c.state, r.c.assignee, r.c.last_seq, r.title, r.preview])]);
    if (this.signatures.get(id) === signature) return;
    this.signatures.set(id, signature);
    const items = rows.map(({ c, title, preview }) => {
      const b = el("button");
      b.type = "button";
      b.dataset.conversation = c.id;
      b.setAttribute("aria-current", String(selected === c.id));
      b.append(el("span", "title", title), el("span", "preview", preview));
      b.addEventListener("click", () => {
        // The staff-only panels (staff-content.ts) follow the conversation opened.
        document.dispatchEvent(new CustomEvent(CONVERSATION_OPENED, { detail: c }));
        onSelect(c);
      });
      const li = el("li");
      li.append(b);
      return li;
    });
    if (items.length === 0) items.push(el("li", "empty", EMPTY[id] ?? ""));
    byId(id).replaceChildren(...items);
  }
}
