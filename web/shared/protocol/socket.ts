// Client of the WebSocket protocol v1 (docs/protocol.md): authentication, subscriptions with a
// resume cursor, sends that resolve on the server's `ack` (the entry is durable), and entries
// delivered per conversation in sequence order. The WebSocket itself is behind `Transport`,
// so the browser uses its native WebSocket and Node the `ws` package (node-transport.ts).

import { toBase64 } from "../util/bytes.js";
import {
  CloseCode, SUBPROTOCOL, type ClientFrame, type ClientKind, type EntryFrame, type EphemeralFrame, type ServerFrame, type WireParty,
  type WsErrorFrame,
} from "./types.js";

/** A routing change of the staff member's teams or their own (docs/protocol.md `notice`). */
export type NoticeFrame = Extract<ServerFrame, { t: "notice" }>;
/** The staff member's teams changed: their queues' notices now (docs/protocol.md `teams`). */
export type TeamsFrame = Extract<ServerFrame, { t: "teams" }>;

export interface TransportEvents {
  onText(text: string): void;
  onClose(code: number, reason: string): void;
}

export interface Transport {
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

/** Opens a WebSocket offering `protocol`; resolves once it is open. */
export type TransportFactory = (
  url: string,
  options: { protocol: string; bearer?: string },
  events: TransportEvents,
) => Promise<Transport>;

/** The browser's native WebSocket. It cannot set headers: staff use the `auth` frame there. */
export const browserTransport: TransportFactory = (url, options, events) =>
  new Promise((resolve, reject) => {
    if (options.bearer !== undefined) {
      reject(new Error("browsers cannot send Authorization on a WebSocket upgrade; authenticate with a frame"));
      return;
    }
    const ws = new WebSocket(url, options.protocol);
    let open = false;
    ws.onopen = () => {
      open = true;
      resolve({ send: (t) => ws.send(t), close: (c, r) => ws.close(c, r) });
    };
    ws.onerror = () => reject(new Error(`WebSocket to ${url} failed`));
    ws.onmessage = (ev) => {
      if (typeof ev.data === "string") events.onText(ev.data);
    };
    ws.onclose = (ev) => {
      // Closed before it opened (with no error event first): the connection failed.
      if (!open) reject(new Error(`WebSocket to ${url} closed before it opened (${ev.code})`));
      events.onClose(ev.code, ev.reason);
    };
  });

/** Staff may put their token on the upgrade (`header`); visitors must use the `auth` frame. */
export type SocketAuth = { via: "header" | "frame"; token: string };

export interface Ack {
  seq: number;
  dup: boolean;
}

export class SocketError extends Error {
  override name = "SocketError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: Error): void;
}

/** Entries of one conversation, in order, with waiters for the next one. */
class EntryQueue {
  readonly buffered: EntryFrame[] = [];
  readonly waiters: Waiter<EntryFrame>[] = [];
  /** The server ended the subscription (`unsubscribed`): once the buffer is empty, this. */
  ended: Error | undefined;
  constructor(public lastSeq: number) {}
}

let clientIdCounter = 0;
/** A fresh client message id (1–64 of [A-Za-z0-9_-]). */
export function newClientId(prefix = "m"): string {
  const random = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, "0")).join("");
  clientIdCounter += 1;
  return `${prefix}-${clientIdCounter}-${random}`;
}

export class SealdeskSocket {
  private transport: Transport | undefined;
  private readonly queues = new Map<string, EntryQueue>();
  private readonly acks = new Map<string, Waiter<Ack>>();
  private readonly subscribing = new Map<string, Waiter<number>>();
  private closed: Error | undefined;
  private closeCodeSeen: number | undefined;
  private readonly pongs = new Map<number, () => void>();
  private pingCounter = 0;
  private readyWaiter: Waiter<WireParty> | undefined;
  private isReady = false;
  /** Typing and read frames of the other participants (ephemeral, never stored). */
  onEphemeral: ((frame: EphemeralFrame) => void) | undefined;
  /** Routing notices (staff connections only): queue and assignment changes, content-free. */
  onNotice: ((frame: NoticeFrame) => void) | undefined;
  /** The staff member was added to a team or removed from one (staff connections only). */
  onTeams: ((frame: TeamsFrame) => void) | undefined;
  /**
   * The server ended a subscription on its own (access lost: a transfer away, a removal, the
   * conversation deleted). Its `nextEntry` hands over what was received, then rejects with a
   * SocketError `unsubscribed`. Not called for `unsubscribe`'s own answer.
   */
  onUnsubscribed: ((c: string) => void) | undefined;
  /** Frames that were not JSON objects with a known shape, dropped (kept for diagnostics). */
  malformedFrames = 0;
  /** Errors the server reported that no pending request claimed (kept for diagnostics). */
  readonly strayErrors: WsErrorFrame[] = [];
  /** Called once when the connection fails or closes (after every pending request was rejected). */
  onClosed: ((err: Error) => void) | undefined;
  me: WireParty = { kind: "system" };

  private constructor() {}

  /** Connects to `${baseUrl}/api/ws`, authenticates, and waits for `ready`. */
  static async connect(factory: TransportFactory, baseUrl: string, auth: SocketAuth, timeoutMs = 10_000): Promise<SealdeskSocket> {
    const socket = new SealdeskSocket();
    const url = new URL("/api/ws", baseUrl);
    // Frame authentication: the server ignores the cookies a browser attaches by itself (a
    // widget on a page of the Sealdesk server's own origin, next to a console session).
    if (auth.via === "frame") url.searchParams.set("auth", "frame");
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const ready = new Promise<WireParty>((resolve, reject) => {
      socket.readyWaiter = { resolve, reject };
    });
    // Nobody waits for `ready` when the transport itself fails: no unhandled rejection.
    ready.catch(() => undefined);
    const opening = factory(
      url.toString(),
      auth.via === "header" ? { protocol: SUBPROTOCOL, bearer: auth.token } : { protocol: SUBPROTOCOL },
      { onText: (t) => socket.onText(t), onClose: (code, reason) => socket.onClose(code, reason) },
    );
    const started = Date.now();
    try {
      // A connection that never opens (a network that swallows the handshake) also times out;
      // if it opens after all, it is closed at once.
      socket.transport = await withTimeout(opening, timeoutMs, "the WebSocket did not open");
    } catch (e) {
      socket.fail(e instanceof Error ? e : new Error(String(e)));
      void opening.then((t) => t.close(), () => undefined);
      throw e;
    }
    if (auth.via === "frame") socket.frame({ t: "auth", token: auth.token });
    try {
      socket.me = await withTimeout(ready, Math.max(1, timeoutMs - (Date.now() - started)), "no ready frame");
    } catch (e) {
      socket.fail(e instanceof Error ? e : new Error(String(e)));
      throw e;
    }
    return socket;
  }

  /** Starts delivery of entries with seq > after; resolves with the conversation's last seq. */
  subscribe(c: string, after = 0, timeoutMs = 10_000): Promise<number> {
    this.queues.set(c, new EntryQueue(after));
    const done = new Promise<number>((resolve, reject) => this.subscribing.set(c, { resolve, reject }));
    this.frame({ t: "sub", c, after });
    return withTimeout(done, timeoutMs, `no subscribed frame for ${c}`);
  }

  /**
   * Ends a subscription: its waiting `nextEntry` calls reject, later entries are dropped, and
   * `unsub` goes to the server (whose `unsubscribed` answer is then ignored).
   */
  unsubscribe(c: string): void {
    const queue = this.queues.get(c);
    this.queues.delete(c);
    const err = new SocketError("unsubscribed", `unsubscribed from ${c}`);
    if (queue !== undefined) for (const w of queue.waiters.splice(0)) w.reject(err);
    if (this.closed === undefined && this.transport !== undefined) this.frame({ t: "unsub", c });
  }

  /** Appends an entry; resolves when the server acked it (persisted and sequenced). */
  send(c: string, k: ClientKind, payload: Uint8Array, id = newClientId(), timeoutMs = 10_000): Promise<Ack> {
    const key = `${c}/${id}`;
    const acked = new Promise<Ack>((resolve, reject) => this.acks.set(key, { resolve, reject }));
    this.frame({ t: "send", c, id, k, p: toBase64(payload) });
    return withTimeout(acked, timeoutMs, `no ack for ${id}`).finally(() => this.acks.delete(key));
  }

  /** The next entry of a subscribed conversation, in seq order. */
  nextEntry(c: string, timeoutMs = 10_000): Promise<EntryFrame> {
    const queue = this.queues.get(c);
    if (queue === undefined) return Promise.reject(new Error(`not subscribed to ${c}`));
    const ready = queue.buffered.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (queue.ended !== undefined) return Promise.reject(queue.ended);
    if (this.closed !== undefined) return Promise.reject(this.closed);
    return new Promise<EntryFrame>((resolve, reject) => {
      // On timeout the waiter leaves the queue, so a later entry is not handed to nobody.
      const timer = setTimeout(() => {
        queue.waiters.splice(queue.waiters.indexOf(waiter), 1);
        reject(new Error(`timeout after ${timeoutMs} ms: no entry for ${c} after seq ${queue.lastSeq}`));
      }, timeoutMs);
      const waiter: Waiter<EntryFrame> = {
        resolve: (e) => (clearTimeout(timer), resolve(e)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      };
      queue.waiters.push(waiter);
    });
  }

  /** Tells the other participants whether we are typing (forwarded, never stored). */
  typing(c: string, on: boolean): void {
    this.frame({ t: "typing", c, on });
  }

  /** Tells the other participants we read the conversation up to `seq`. */
  read(c: string, seq: number): void {
    this.frame({ t: "read", c, seq });
  }

  /** Resolves on the server's `pong`; rejects after `timeoutMs` or when the connection ends. */
  ping(timeoutMs = 10_000): Promise<void> {
    if (this.closed !== undefined) return Promise.reject(this.closed);
    const n = (this.pingCounter += 1);
    const answered = new Promise<void>((resolve) => this.pongs.set(n, resolve));
    this.frame({ t: "ping", n });
    return withTimeout(answered, timeoutMs, `no pong for ping ${n}`).finally(() => this.pongs.delete(n));
  }

  /** Whether the connection has failed or was closed. */
  get isClosed(): boolean {
    return this.closed !== undefined;
  }

  /** The WebSocket close code, once the server or the network closed the connection. */
  get closeCode(): number | undefined {
    return this.closeCodeSeen;
  }

  close(): void {
    this.transport?.close(CloseCode.NORMAL, "bye");
  }

  /** Gives up on a connection that stopped answering: everything pending fails now. */
  drop(reason: string): void {
    this.fail(new SocketError("closed", reason));
  }

  private frame(frame: ClientFrame): void {
    if (this.closed !== undefined) throw this.closed;
    if (this.transport === undefined) throw new Error("not connected");
    this.transport.send(JSON.stringify(frame));
  }

  private onText(text: string): void {
    // A frame that is not a JSON object is dropped: a broken or hostile server must not
    // throw inside the transport's event handler.
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame;
    } catch {
      this.malformedFrames += 1;
      return;
    }
    if (typeof frame !== "object" || frame === null) {
      this.malformedFrames += 1;
      return;
    }
    switch (frame.t) {
      case "ready":
        this.isReady = true;
        this.readyWaiter?.resolve(frame.me);
        return;
      case "subscribed":
        this.subscribing.get(frame.c)?.resolve(frame.last_seq);
        this.subscribing.delete(frame.c);
        return;
      case "entry":
        this.onEntry(frame);
        return;
      case "ack":
        this.acks.get(`${frame.c}/${frame.id}`)?.resolve({ seq: frame.seq, dup: frame.dup === true });
        return;
      case "error":
        this.onError(frame);
        return;
      case "typing":
      case "read":
        this.onEphemeral?.(frame);
        return;
      case "pong":
        this.pongs.get(frame.n)?.();
        return;
      case "notice":
        this.onNotice?.(frame);
        return;
      case "teams":
        this.onTeams?.(frame);
        return;
      case "unsubscribed":
        this.ended(frame.c);
        return;
      default:
        // resync: the entries follow in order anyway.
        return;
    }
  }

  /** The server's `unsubscribed`: the subscription's entries end after what was received. */
  private ended(c: string): void {
    // The server answers frames in order: one that arrives while a `sub` of the conversation
    // awaits its `subscribed` ended the earlier subscription (an `unsub`'s answer, say).
    if (this.subscribing.has(c)) return;
    const queue = this.queues.get(c);
    if (queue === undefined || queue.ended !== undefined) return;
    const err = new SocketError("unsubscribed", `the server ended the subscription to ${c} (access lost)`);
    queue.ended = err;
    for (const w of queue.waiters.splice(0)) w.reject(err);
    this.onUnsubscribed?.(c);
  }

  private onEntry(entry: EntryFrame): void {
    const queue = this.queues.get(entry.c);
    if (queue === undefined || queue.ended !== undefined) return;
    // The server guarantees each entry once, in order, without gaps: anything else is a bug
    // that would silently fork MLS state, so it fails loudly.
    if (entry.seq !== queue.lastSeq + 1) {
      this.fail(new Error(`entry ${entry.seq} of ${entry.c} after ${queue.lastSeq}: out of order`));
      return;
    }
    queue.lastSeq = entry.seq;
    const waiter = queue.waiters.shift();
    if (waiter !== undefined) waiter.resolve(entry);
    else queue.buffered.push(entry);
  }

  private onError(frame: WsErrorFrame): void {
    const err = new SocketError(frame.code, frame.message);
    // A refused `auth` frame: the error comes before `ready` (then close 4001).
    if (!this.isReady) this.readyWaiter?.reject(err);
    if (frame.id !== undefined && frame.c !== undefined && this.acks.has(`${frame.c}/${frame.id}`)) {
      this.acks.get(`${frame.c}/${frame.id}`)?.reject(err);
      return;
    }
    if (frame.c !== undefined && this.subscribing.has(frame.c)) {
      this.subscribing.get(frame.c)?.reject(err);
      this.subscribing.delete(frame.c);
      return;
    }
    this.strayErrors.push(frame);
  }

  private onClose(code: number, reason: string): void {
    this.closeCodeSeen ??= code;
    this.fail(new SocketError("closed", `connection closed (${code}${reason === "" ? "" : ` ${reason}`})`));
  }

  private fail(err: Error): void {
    if (this.closed !== undefined) return;
    this.closed = err;
    this.readyWaiter?.reject(err);
    for (const w of this.acks.values()) w.reject(err);
    for (const w of this.subscribing.values()) w.reject(err);
    for (const q of this.queues.values()) for (const w of q.waiters.splice(0)) w.reject(err);
    this.pongs.clear();
    this.transport?.close();
    this.onClosed?.(err);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
