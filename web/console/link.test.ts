// The live chat's connection (link.ts) against a scripted in-memory server, with fake timers:
// resubscribing with the resume cursor after a drop, backoff with jitter between failed tries,
// `caughtUp` only once the gap is handled, the heartbeat, giving up only when it must, and
// stopping cleanly.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SealdeskSocket, type TransportEvents, type TransportFactory } from "../shared/protocol/socket.js";
import type { ClientFrame, EntryFrame, ServerFrame } from "../shared/protocol/types.js";
import { ConversationLink, type LinkHooks } from "./link.js";
import type { LinkState } from "./reconnect-plan.js";

const C = "c1";

/** The conversation's log on the fake server, and its connections. */
class FakeServer {
  log: number[] = [];
  frames: ClientFrame[][] = [];
  conns: TransportEvents[] = [];
  /** Whether new connections fail (the network is down). */
  down = false;
  /** Whether pings are answered. */
  pongs = true;
  subRefusal: string | undefined;

  readonly factory: TransportFactory = async (_url, _options, events) => {
    if (this.down) throw new Error("connection refused");
    const frames: ClientFrame[] = [];
    this.frames.push(frames);
    this.conns.push(events);
    const push = (f: ServerFrame) => queueMicrotask(() => events.onText(JSON.stringify(f)));
    push({ t: "ready", v: 1, me: { kind: "staff", id: "s" }, heartbeat_s: 25, max_payload: 65536 });
    return {
      send: (text) => {
        const f = JSON.parse(text) as ClientFrame;
        frames.push(f);
        if (f.t === "sub") {
          if (this.subRefusal !== undefined) {
            push({ t: "error", code: this.subRefusal as "not_found", message: "no", c: f.c });
            return;
          }
          push({ t: "subscribed", c: f.c, last_seq: this.log.length, state: "assigned" });
          for (const seq of this.log) if (seq > (f.after ?? 0)) push(entry(seq));
        }
        if (f.t === "ping" && this.pongs) push({ t: "pong", n: f.n ?? 0 });
      },
      close: (code) => queueMicrotask(() => events.onClose(code ?? 1000, "")),
    };
  };

  /** A new entry, live on the newest connection. */
  append(): void {
    const seq = this.log.length + 1;
    this.log.push(seq);
    const conn = this.conns.at(-1);
    queueMicrotask(() => conn?.onText(JSON.stringify(entry(seq))));
  }

  /** The server ends the subscription on the newest connection (access lost). */
  unsubscribe(): void {
    const conn = this.conns.at(-1);
    queueMicrotask(() => conn?.onText(JSON.stringify({ t: "unsubscribed", c: C })));
  }

  /** The network drops the newest connection. */
  cut(code = 1006): void {
    this.conns.at(-1)?.onClose(code, "");
  }

  subs(): Array<number | undefined> {
    return this.frames.flatMap((fs) => fs.filter((f) => f.t === "sub").map((f) => (f.t === "sub" ? f.after : undefined)));
  }
}

function entry(seq: number): EntryFrame {
  return { t: "entry", c: C, seq, k: "application", from: { kind: "visitor", id: "v" }, at: seq, p: "AA==" };
}

function harness(server: FakeServer, random = () => 0) {
  const handled: number[] = [];
  const states: LinkState[] = [];
  const caughtUp: number[] = [];
  let cursor = 0;
  let lock: Promise<unknown> = Promise.resolve();
  const hooks: LinkHooks = {
    exclusive: <T>(fn: () => Promise<T>) => {
      const run = lock.then(fn, fn);
      lock = run.catch(() => undefined);
      return run;
    },
    cursor: () => cursor,
    entry: async (e) => {
      handled.push(e.seq);
      cursor = e.seq;
    },
    caughtUp: async () => {
      caughtUp.push(cursor);
    },
    ephemeral: () => undefined,
    state: (s) => states.push(s),
  };
  const link = new ConversationLink(C, () => SealdeskSocket.connect(server.factory, "http://127.0.0.1:9", { via: "header", token: "t" }), hooks, {
    random, heartbeatMs: 60_000, pongTimeoutMs: 5_000,
  });
  return { link, handled, states, caughtUp };
}

const kinds = (states: LinkState[]) => states.map((s) => (s.kind === "reconnecting" ? `reconnecting ${s.attempt} ${s.delayMs}` : s.kind === "live" ? `live${s.again ? " again" : ""}` : s.kind));

describe("ConversationLink", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("resumes after each drop with the cursor, backing off while the network is down", async () => {
    const server = new FakeServer();
    server.log = [1, 2];
    const { link, handled, states, caughtUp } = harness(server);
    await link.open(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(handled).toEqual([1, 2]);
    expect(caughtUp).toEqual([2]);
    expect(link.ready).toBe(true);

    // A drop; the network stays down for three tries, entries keep arriving on the server.
    server.down = true;
    server.cut();
    server.append();
    server.append();
    await vi.advanceTimersByTimeAsync(0);
    expect(link.ready).toBe(false);
    await vi.advanceTimersByTimeAsync(500 + 1_000 + 2_000);
    expect(kinds(states)).toEqual(["connecting", "live", "reconnecting 1 500", "reconnecting 2 1000", "reconnecting 3 2000", "reconnecting 4 4000"]);
    server.down = false;
    await vi.advanceTimersByTimeAsync(4_000);
    // Subscribed after the last entry handled: exactly the gap, once, in order.
    expect(server.subs()).toEqual([0, 2]);
    expect(handled).toEqual([1, 2, 3, 4]);
    expect(caughtUp).toEqual([2, 4]);
    expect(kinds(states).at(-1)).toBe("live again");
    expect(link.ready).toBe(true);

    // A connection that stayed up a while starts the schedule over.
    server.append();
    await vi.advanceTimersByTimeAsync(20_000);
    server.cut(1001);
    await vi.advanceTimersByTimeAsync(0);
    expect(kinds(states).at(-1)).toBe("reconnecting 1 500");
    await vi.advanceTimersByTimeAsync(500);
    expect(server.subs()).toEqual([0, 2, 5]);
    expect(handled).toEqual([1, 2, 3, 4, 5]);
    link.stop();
  });

  it("hands over entries the dropped connection had buffered before resuming after them", async () => {
    const server = new FakeServer();
    const { link, handled } = harness(server);
    const hooks = (link as unknown as { hooks: LinkHooks }).hooks;
    const entryHook = hooks.entry;
    // Slow handling: the connection drops while entries wait in its buffer.
    hooks.entry = async (e) => {
      await new Promise((r) => setTimeout(r, 100));
      await entryHook(e);
    };
    await link.open(true);
    server.append();
    server.append();
    server.append();
    await vi.advanceTimersByTimeAsync(0);
    server.cut();
    await vi.advanceTimersByTimeAsync(300);
    expect(handled).toEqual([1, 2, 3]);
    await vi.advanceTimersByTimeAsync(1_000);
    server.append();
    await vi.advanceTimersByTimeAsync(200);
    // Resumed after the last one handled: nothing twice.
    expect(server.subs()).toEqual([0, 3]);
    expect(handled).toEqual([1, 2, 3, 4]);
    link.stop();
  });

  it("calls caughtUp only once the gap is handled, before it is ready", async () => {
    const server = new FakeServer();
    server.log = [1, 2, 3];
    const order: string[] = [];
    const { link } = harness(server);
    const hooks = (link as unknown as { hooks: LinkHooks }).hooks;
    const entryHook = hooks.entry;
    hooks.entry = async (e) => {
      order.push(`entry ${e.seq}`);
      await entryHook(e);
    };
    hooks.caughtUp = async () => {
      order.push(`caught up, ready ${link.ready}`);
    };
    await link.open(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual(["entry 1", "entry 2", "entry 3", "caught up, ready false"]);
    expect(link.ready).toBe(true);
    link.stop();
  });

  it("gives up a connection whose heartbeat goes unanswered, and comes back", async () => {
    const server = new FakeServer();
    const { link, states } = harness(server);
    await link.open(true);
    server.pongs = false;
    await vi.advanceTimersByTimeAsync(60_000 + 5_000);
    expect(kinds(states)).toContain("reconnecting 1 500");
    server.pongs = true;
    await vi.advanceTimersByTimeAsync(500);
    expect(server.frames).toHaveLength(2);
    expect(link.ready).toBe(true);
    link.stop();
  });

  it("tries a failed first connection again, or throws it when asked not to", async () => {
    const server = new FakeServer();
    server.down = true;
    const quiet = harness(server);
    await expect(quiet.link.open(false)).rejects.toThrow(/refused/);
    const { link, states } = harness(server);
    await link.open(true);
    expect(kinds(states)).toEqual(["connecting", "reconnecting 1 500"]);
    server.down = false;
    await vi.advanceTimersByTimeAsync(500);
    expect(link.ready).toBe(true);
    // Not a return after a loss: nothing to announce.
    expect(kinds(states).at(-1)).toBe("live");
    link.stop();
  });

  it("ends on a close code or refusal that would repeat, without trying again", async () => {
    const server = new FakeServer();
    const { link, states } = harness(server);
    await link.open(true);
    server.cut(4003);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(states.at(-1)).toEqual({ kind: "ended", reason: "closed with 4003" });
    expect(server.frames).toHaveLength(1);
    expect(link.done).toBe(true);
    expect(await link.whenReady(10)).toBe(false);

    const other = new FakeServer();
    const h = harness(other);
    await h.link.open(true);
    other.subRefusal = "not_found";
    other.cut();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.states.at(-1)).toEqual({ kind: "ended", reason: "not_found" });
    expect(other.frames).toHaveLength(2);
  });

  it("stops cleanly: no retry after stop, waiters released", async () => {
    const server = new FakeServer();
    const { link, states } = harness(server);
    await link.open(true);
    server.down = true;
    server.cut();
    await vi.advanceTimersByTimeAsync(0);
    const waiting = link.whenReady(120_000);
    link.stop();
    expect(await waiting).toBe(false);
    server.down = false;
    const seen = states.length;
    await vi.advanceTimersByTimeAsync(120_000);
    expect(server.frames).toHaveLength(1);
    expect(states).toHaveLength(seen);
    expect(link.ready).toBe(false);
  });

  it("goes at once when the browser says the network is back", async () => {
    const server = new FakeServer();
    const { link } = harness(server);
    await link.open(true);
    server.down = true;
    server.cut();
    await vi.advanceTimersByTimeAsync(500 + 1_000);
    server.down = false;
    link.retryNow();
    await vi.advanceTimersByTimeAsync(0);
    expect(link.ready).toBe(true);
    link.stop();
  });

  it("ends for good when the server ends the subscription (access lost), without subscribing again", async () => {
    const server = new FakeServer();
    const { link, states, handled } = harness(server);
    await link.open(true);
    server.append();
    server.unsubscribe();
    await vi.advanceTimersByTimeAsync(120_000);
    // What arrived before the end was handled; then over: no reconnection, no resubscription.
    expect(handled).toEqual([1]);
    expect(states.at(-1)).toEqual({ kind: "lost_access" });
    expect(server.frames).toHaveLength(1);
    expect(server.subs()).toEqual([0]);
    expect(link.done).toBe(true);
    expect(await link.whenReady(10)).toBe(false);
  });
});
