// The live chat's connection to one conversation (docs/protocol.md "Resume"): connect,
// subscribe after the last entry handled, hand every entry over in order, and when the
// connection is lost (a network drop, a server restart, a heartbeat that goes unanswered)
// connect again with backoff and jitter (reconnect-plan.ts) and subscribe with the resume
// cursor, so that the server delivers exactly the gap. A subscription the server ends
// (`unsubscribed`: access lost) is final, never subscribed again. Once the gap is handled,
// `caughtUp` sends what waited (journaled commits and Welcomes, the outbox). Stopped by its
// owner (sign out, revocation, conversation closed); given up on its own only when trying
// again cannot help (a close code or refusal that would repeat). No DOM: the unit tests drive it in Node.

import { SocketError, type SealdeskSocket } from "../shared/protocol/socket.js";
import type { EntryFrame, EphemeralFrame } from "../shared/protocol/types.js";
import { finalRefusal, HEARTBEAT_MS, PONG_TIMEOUT_MS, reconnectDelay, retryAfterClose, STABLE_MS, type LinkState } from "./reconnect-plan.js";

/** setTimeout's largest delay: wait for the next entry as long as the connection lives. */
const FOREVER = 2_147_483_647;

export interface LinkHooks {
  /** Runs `fn` under the chat's lock (the cursor is read there, after the last entry handled). */
  exclusive: <T>(fn: () => Promise<T>) => Promise<T>;
  /** The seq of the last entry handled: the resume cursor. */
  cursor: () => number;
  /** One entry, in order; called one at a time, never throws. */
  entry: (e: EntryFrame) => Promise<void>;
  /** Subscribed and every entry up to the subscription's `last_seq` handled: send what waited. */
  caughtUp: (socket: SealdeskSocket) => Promise<void>;
  ephemeral: (f: EphemeralFrame) => void;
  state: (s: LinkState) => void;
}

export interface LinkOptions {
  random?: () => number;
  heartbeatMs?: number;
  pongTimeoutMs?: number;
}

export class ConversationLink {
  private current: SealdeskSocket | undefined;
  private isReady = false;
  private stopped = false;
  private ended = false;
  /**
   * Failures since the last connection that stayed up STABLE_MS: one that drops right after it
   * came back (a server closing it again and again) does not restart the schedule.
   */
  private failures = 0;
  private wasLive = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private readyWaiters: Array<() => void> = [];
  /** How many connections were made (for diagnostics and tests). */
  connections = 0;

  constructor(
    readonly conversation: string,
    private readonly connect: () => Promise<SealdeskSocket>,
    private readonly hooks: LinkHooks,
    private readonly options: LinkOptions = {},
  ) {}

  /** The connection, once subscribed (entries may still be catching up). */
  get socket(): SealdeskSocket | undefined {
    return this.current !== undefined && !this.current.isClosed ? this.current : undefined;
  }

  /** Connected, caught up with the gap, and what waited was sent: new sends go out now. */
  get ready(): boolean {
    return this.isReady && this.socket !== undefined && !this.stopped;
  }

  /** Stopped by its owner, or given up for good. */
  get done(): boolean {
    return this.stopped || this.ended;
  }

  /**
   * The first connection. When it fails: with `retry`, tried again like a lost one (and this
   * resolves); without, the error is thrown (a background chat that can just as well wait).
   */
  async open(retry: boolean): Promise<void> {
    this.hooks.state({ kind: "connecting" });
    try {
      await this.attempt();
    } catch (e) {
      if (!retry || this.stopped) throw e;
      this.failed(e);
    }
  }

  /** Resolves true once ready (false after `ms`, or when stopped or given up). */
  whenReady(ms: number): Promise<boolean> {
    if (this.ready) return Promise.resolve(true);
    if (this.done) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(false), ms);
      const finish = (ok: boolean): void => {
        clearTimeout(timer);
        this.readyWaiters = this.readyWaiters.filter((w) => w !== waiter);
        resolve(ok);
      };
      const waiter = (): void => finish(this.ready);
      this.readyWaiters.push(waiter);
    });
  }

  /** The network is back (the browser's `online` event): a waiting retry goes now. */
  retryNow(): void {
    if (this.retryTimer === undefined || this.done) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    void this.retry();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.isReady = false;
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeat);
    this.current?.close();
    this.wake();
  }

  private wake(): void {
    for (const w of this.readyWaiters.splice(0)) w();
  }

  /** One connection: connect, subscribe after the cursor (under the chat's lock), then read. */
  private async attempt(): Promise<void> {
    const socket = await this.connect();
    if (this.stopped) {
      socket.close();
      return;
    }
    this.connections += 1;
    socket.onEphemeral = (f) => this.hooks.ephemeral(f);
    let last: number;
    try {
      last = await this.hooks.exclusive(() => socket.subscribe(this.conversation, this.hooks.cursor()));
    } catch (e) {
      socket.close();
      throw e;
    }
    if (this.stopped) {
      socket.close();
      return;
    }
    this.current = socket;
    void this.read(socket, last, Date.now());
  }

  /** Reads the connection's entries until it ends; then tries again (unless stopped). */
  private async read(socket: SealdeskSocket, last: number, since: number): Promise<void> {
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      // A connection that stopped answering (a half-open TCP connection) is given up.
      socket.ping(this.options.pongTimeoutMs ?? PONG_TIMEOUT_MS).catch(() => socket.drop("no answer to the heartbeat"));
    }, this.options.heartbeatMs ?? HEARTBEAT_MS);
    let flushed = false;
    const flush = async (): Promise<void> => {
      flushed = true;
      await this.hooks.caughtUp(socket).catch(() => undefined);
      if (socket.isClosed || this.stopped) return;
      this.isReady = true;
      this.hooks.state({ kind: "live", again: this.wasLive });
      this.wasLive = true;
      this.wake();
    };
    if (this.hooks.cursor() >= last) await flush();
    let lostAccess = false;
    while (!this.stopped) {
      let e: EntryFrame;
      try {
        // Entries the connection received before it ended are handed over first (in order,
        // so the resume starts after them); then this rejects.
        e = await socket.nextEntry(this.conversation, FOREVER);
      } catch (err) {
        // The server ended the subscription: access lost (docs/protocol.md `unsubscribed`).
        lostAccess = err instanceof SocketError && err.code === "unsubscribed";
        break;
      }
      await this.hooks.entry(e).catch(() => undefined);
      if (!flushed && this.hooks.cursor() >= last) await flush();
    }
    clearInterval(this.heartbeat);
    this.isReady = false;
    socket.close();
    if (this.current === socket) this.current = undefined;
    if (this.stopped) return;
    if (lostAccess) {
      // Subscribing again would be refused (or, worse, loop): over for good.
      this.ended = true;
      this.hooks.state({ kind: "lost_access" });
      this.wake();
      return;
    }
    // A connection that stayed up a while starts the schedule over.
    if (Date.now() - since >= STABLE_MS) this.failures = 0;
    const code = socket.closeCode;
    if (!retryAfterClose(code)) this.end(`closed with ${code}`);
    else this.schedule();
  }

  private failed(e: unknown): void {
    if (this.stopped) return;
    if (e instanceof SocketError && finalRefusal(e.code)) this.end(e.code);
    else this.schedule();
  }

  private schedule(): void {
    this.failures += 1;
    const delayMs = reconnectDelay(this.failures, this.options.random);
    this.hooks.state({ kind: "reconnecting", attempt: this.failures, delayMs });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.retry();
    }, delayMs);
  }

  private async retry(): Promise<void> {
    if (this.done) return;
    try {
      await this.attempt();
    } catch (e) {
      this.failed(e);
    }
  }

  private end(reason: string): void {
    this.ended = true;
    this.hooks.state({ kind: "ended", reason });
    this.wake();
  }
}
