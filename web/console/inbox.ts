// The desk's conversation lists (queue, mine, and the team's for supervisors), kept live: the
// desk's staff WebSocket (inbox-link.ts) brings the server's routing notices and the new
// entries of the conversations shown; each makes the lists load again over REST (notices
// carry no content), several at once coalesced into one load. Everything is loaded again
// after each (re)connection, so nothing missed while the connection was down is lost, and a
// slow safety refresh remains for what no notice announces (a conversation of a team one is
// not in). A change of one's teams (`teams`) loads the lists again like a notice. The link's state is a discreet line in the side bar.

import type { ConversationView } from "../shared/protocol/types.js";
import { SealdeskSocket } from "../shared/protocol/socket.js";
import { ApiError, type ConsoleApi, type StaffInfo } from "./api.js";
import { cookieTransport } from "./chat-events.js";
import type { ReadyDevice } from "./device.js";
import { byId, el } from "./dom.js";
import { InboxLink } from "./inbox-link.js";
import { Lists, type Preview } from "./queue.js";
import type { LinkState } from "./reconnect-plan.js";
import { I } from "./strings.js";

/** The safety refresh: notices do the work, this catches what none announces. */
export const SAFETY_MS = 60_000;
/** Notices (and ended subscriptions) that come together are one load, right away. */
const NOTICE_MS = 100;
/**
 * New entries only move previews: one load per second at most, so a lively chat does not
 * reload the lists (and replay the conversation's log) at every message.
 */
const ENTRY_MS = 1_000;
const SUPERVISING_ROLES = ["supervisor", "admin", "owner"];

export interface InboxHooks {
  /** The conversation open in the view (its id), if any. */
  selected(): string | undefined;
  /** A conversation clicked in a list. */
  pick(c: ConversationView): void;
  /** The open conversation as the server has it now (its state or assignee changed). */
  fresh(c: ConversationView): void;
  /** The open conversation is in none of the lists (claimed by a colleague, say). */
  missing(id: string): void;
  /** One's own assigned conversations, as just loaded. */
  mine(list: ConversationView[]): void;
  /** The server no longer knows the session. */
  sessionEnded(): void;
}

export class Inbox {
  private readonly lists: Lists;
  private readonly link: InboxLink;
  private safety: number | undefined;
  private coalesce: number | undefined;
  private coalesceAt = 0;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private line: HTMLElement | undefined;
  private readonly online = (): void => this.link.retryNow();
  private readonly visible = (): void => {
    if (document.visibilityState === "visible") this.link.retryNow();
  };

  constructor(
    private readonly api: ConsoleApi,
    private readonly me: StaffInfo,
    device: ReadyDevice,
    private readonly hooks: InboxHooks,
  ) {
    this.lists = new Lists(api, device);
    this.link = new InboxLink(() => SealdeskSocket.connect(cookieTransport, location.origin, { via: "header", token: "" }), {
      connected: () => void this.refresh(),
      notice: () => this.soon(NOTICE_MS),
      teams: () => this.soon(NOTICE_MS),
      changed: (_c, why) => this.soon(why === "entry" ? ENTRY_MS : NOTICE_MS),
      state: (s) => this.showState(s),
      // A session that ended closes the connection (4001, 4004): the next load tells.
      lost: (code) => {
        if (code === 4001 || code === 4004) void this.refresh();
      },
    });
  }

  private get supervises(): boolean {
    return SUPERVISING_ROLES.includes(this.me.role);
  }

  start(): void {
    this.line = el("p", "conn small");
    this.line.id = "inbox-link";
    this.line.setAttribute("role", "status");
    byId("queue").closest("nav")?.prepend(this.line);
    window.addEventListener("online", this.online);
    document.addEventListener("visibilitychange", this.visible);
    void this.refresh();
    this.link.start();
    this.safety = window.setInterval(() => void this.refresh(), SAFETY_MS);
  }

  stop(): void {
    this.stopped = true;
    window.clearInterval(this.safety);
    window.clearTimeout(this.coalesce);
    window.removeEventListener("online", this.online);
    document.removeEventListener("visibilitychange", this.visible);
    this.link.stop();
    this.line?.remove();
  }

  /** The replay of `c` (queue.ts), fresh when asked. */
  previewOf(c: ConversationView, fresh = false): Promise<Preview | undefined> {
    return this.lists.previewOf(c, fresh);
  }

  /** Loads the lists within `ms` (what comes meanwhile: the same load; a sooner one wins). */
  private soon(ms: number): void {
    if (this.stopped) return;
    const at = Date.now() + ms;
    if (this.coalesce !== undefined && this.coalesceAt <= at) return;
    window.clearTimeout(this.coalesce);
    this.coalesceAt = at;
    this.coalesce = window.setTimeout(() => {
      this.coalesce = undefined;
      void this.refresh();
    }, ms);
  }

  /** Loads and renders the lists; a call during a load makes one more load after it. */
  refresh(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.load();
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  private async load(): Promise<void> {
    try {
      const t = this.me.tenant_id;
      const [queued, assigned, all] = await Promise.all([
        this.api.conversations(t, "queued"), this.api.conversations(t, "assigned", true),
        this.supervises ? this.api.conversations(t, "assigned") : Promise.resolve({ conversations: [] }),
      ]);
      if (this.stopped) return;
      const mine = assigned.conversations.filter((c) => c.assignee === this.me.id);
      const team = all.conversations.filter((c) => c.assignee !== this.me.id);
      this.hooks.mine(mine);
      const shown = [...queued.conversations, ...mine, ...team];
      this.link.follow(new Map(shown.map((c) => [c.id, c.last_seq])));
      const pick = (c: ConversationView): void => this.hooks.pick(c);
      const selected = this.hooks.selected();
      await this.lists.render("queue", queued.conversations, selected, pick);
      await this.lists.render("mine", mine, selected, pick);
      if (this.supervises) await this.lists.render("team", team, selected, pick);
      const open = this.hooks.selected();
      const fresh = shown.find((c) => c.id === open);
      if (fresh !== undefined) this.hooks.fresh(fresh);
      else if (open !== undefined) this.hooks.missing(open);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        this.stop();
        this.hooks.sessionEnded();
        return;
      }
      byId("queue").replaceChildren(el("li", "empty", I.loadFailed(codeText(e))));
    }
  }

  private showState(s: LinkState): void {
    const line = this.line;
    if (line === undefined) return;
    line.dataset.state = s.kind;
    line.textContent = linkText(s);
    line.classList.toggle("warn", s.kind !== "live" && s.kind !== "connecting");
  }
}

/** What the side bar says about the desk's connection. */
export function linkText(s: LinkState): string {
  switch (s.kind) {
    case "connecting":
      return I.connecting;
    case "live":
      return I.live;
    case "reconnecting":
      return I.reconnecting(Math.max(1, Math.round(s.delayMs / 1000)));
    case "lost_access":
    case "ended":
      return I.ended(s.kind === "ended" ? s.reason : "no access");
  }
}

function codeText(e: unknown): string {
  if (e !== null && typeof e === "object" && "code" in e && typeof e.code === "string") return e.code;
  return e instanceof Error ? e.message : String(e);
}
