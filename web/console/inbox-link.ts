// The desk's own staff WebSocket (docs/protocol.md `notice`): the server subscribes every
// staff connection, at connect time, to the routing notices of the teams the person belongs to
// and to their own (a claim, an assignment, a transfer, a close; content-free, no `sub`
// needed). When an admin adds the person to a team or removes them, the server moves the open
// connection to the new teams' notices and says so (`teams`): the lists load again. Beside the notices, the conversations the lists show are
// followed (`sub` after their last seq) so that their previews move with each new entry, and
// a subscription the server ends (a queued conversation claimed by a colleague) says the list
// changed. Lost connections come back with the chat's backoff and jitter (reconnect-plan.ts);
// after each (re)connection `connected` asks the owner to load everything again, so nothing
// missed while away is lost. No DOM: the unit tests drive it in Node.

import { SocketError, type NoticeFrame, type SealdeskSocket, type TeamsFrame } from "../shared/protocol/socket.js";
import { HEARTBEAT_MS, PONG_TIMEOUT_MS, reconnectDelay, retryAfterClose, STABLE_MS, type LinkState } from "./reconnect-plan.js";

/** setTimeout's largest delay: wait for the next entry as long as the connection lives. */
const FOREVER = 2_147_483_647;
/** The most conversations followed at once (the server allows 500 subscriptions per connection). */
export const MAX_FOLLOWED = 400;

export interface InboxLinkHooks {
  /** Connected (first time or again): load the lists, since notices may have been missed. */
  connected(): void;
  notice(n: NoticeFrame): void;
  /** One's team memberships changed (an admin added or removed one): the lists changed. */
  teams(t: TeamsFrame): void;
  /**
   * A followed conversation has a new entry (`entry`: its preview moved), or its subscription
   * was refused or ended by the server (`ended`: it left one's reach, a claim by a colleague).
   */
  changed(c: string, why: "entry" | "ended"): void;
  state(s: LinkState): void;
  /** The connection ended with `code` (4001/4004: the session may have ended). */
  lost?(code: number | undefined): void;
}

export interface InboxLinkOptions {
  random?: () => number;
  heartbeatMs?: number;
  pongTimeoutMs?: number;
}

export class InboxLink {
  private current: SealdeskSocket | undefined;
  private stopped = false;
  private ended = false;
  private failures = 0;
  private wasLive = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  /** The conversations to follow and the last seq known of each. */
  private readonly wanted = new Map<string, number>();
  /** Subscribed on the current connection (each subscription's own token). */
  private readonly following = new Map<string, object>();
  /** How many connections were made (for diagnostics and tests). */
  connections = 0;

  constructor(
    private readonly connect: () => Promise<SealdeskSocket>,
    private readonly hooks: InboxLinkHooks,
    private readonly options: InboxLinkOptions = {},
  ) {}

  get live(): boolean {
    return this.current !== undefined && !this.current.isClosed && !this.stopped;
  }

  start(): void {
    this.hooks.state({ kind: "connecting" });
    void this.attempt().catch((e: unknown) => this.failed(e));
  }

  /**
   * The conversations the lists show now, with their last seq: new ones are subscribed after
   * it, gone ones unsubscribed. The first MAX_FOLLOWED only.
   */
  follow(cursors: ReadonlyMap<string, number>): void {
    const next = [...cursors].slice(0, MAX_FOLLOWED);
    const keep = new Set(next.map(([c]) => c));
    for (const c of [...this.wanted.keys()]) {
      if (keep.has(c)) continue;
      this.wanted.delete(c);
      if (this.following.delete(c) && this.live) this.current?.unsubscribe(c);
    }
    for (const [c, seq] of next) this.wanted.set(c, Math.max(seq, this.wanted.get(c) ?? 0));
    const socket = this.current;
    if (socket !== undefined && this.live) for (const c of keep) if (!this.following.has(c)) this.subscribe(socket, c);
  }

  /** The network is back or the page visible again: a waiting retry goes now. */
  retryNow(): void {
    if (this.retryTimer === undefined || this.stopped || this.ended) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    void this.attempt().catch((e: unknown) => this.failed(e));
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeat);
    this.current?.close();
  }

  private async attempt(): Promise<void> {
    const socket = await this.connect();
    if (this.stopped) {
      socket.close();
      return;
    }
    this.connections += 1;
    this.current = socket;
    const since = Date.now();
    socket.onNotice = (n) => this.hooks.notice(n);
    socket.onTeams = (t) => this.hooks.teams(t);
    socket.onClosed = () => this.closed(socket, since);
    if (socket.isClosed) {
      this.closed(socket, since);
      return;
    }
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      // A connection that stopped answering (a half-open TCP connection) is given up.
      socket.ping(this.options.pongTimeoutMs ?? PONG_TIMEOUT_MS).catch(() => socket.drop("no answer to the heartbeat"));
    }, this.options.heartbeatMs ?? HEARTBEAT_MS);
    this.following.clear();
    for (const c of this.wanted.keys()) this.subscribe(socket, c);
    this.hooks.state({ kind: "live", again: this.wasLive });
    this.wasLive = true;
    this.hooks.connected();
  }

  /** Follows `c` on `socket`: every entry after the last seq known says the list changed. */
  private subscribe(socket: SealdeskSocket, c: string): void {
    const token = {};
    this.following.set(c, token);
    void (async () => {
      try {
        await socket.subscribe(c, this.wanted.get(c) ?? 0);
        for (;;) {
          const e = await socket.nextEntry(c, FOREVER);
          if (this.wanted.has(c)) this.wanted.set(c, e.seq);
          this.hooks.changed(c, "entry");
        }
      } catch (e) {
        if (socket.isClosed || this.current !== socket || this.following.get(c) !== token) return;
        this.following.delete(c);
        // Refused (no longer ours to read) or ended by the server: the list changed. Our own
        // unsubscribe is not news.
        if (this.wanted.has(c)) {
          this.wanted.delete(c);
          if (e instanceof SocketError) this.hooks.changed(c, "ended");
        }
      }
    })();
  }

  private closed(socket: SealdeskSocket, since: number): void {
    if (this.current !== socket) return;
    this.current = undefined;
    this.following.clear();
    clearInterval(this.heartbeat);
    if (this.stopped) return;
    const code = socket.closeCode;
    this.hooks.lost?.(code);
    // A connection that stayed up a while starts the schedule over.
    if (Date.now() - since >= STABLE_MS) this.failures = 0;
    if (!retryAfterClose(code)) {
      this.ended = true;
      this.hooks.state({ kind: "ended", reason: `closed with ${code}` });
      return;
    }
    this.schedule();
  }

  private failed(_e: unknown): void {
    if (this.stopped) return;
    this.schedule();
  }

  private schedule(): void {
    this.failures += 1;
    const delayMs = reconnectDelay(this.failures, this.options.random);
    this.hooks.state({ kind: "reconnecting", attempt: this.failures, delayMs });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.stopped) return;
      void this.attempt().catch((e: unknown) => this.failed(e));
    }, delayMs);
  }
}
