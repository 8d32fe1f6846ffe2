// The desk's staff WebSocket (inbox-link.ts) against a scripted in-memory server, with fake
// timers: notices handed over, the shown conversations followed after their last seq, a
// subscription the server ends reported once and not taken up again, a reload of everything
// after each (re)connection, backoff while the network is down, and stopping cleanly.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SealdeskSocket, type TransportEvents, type TransportFactory } from "../shared/protocol/socket.js";
import type { ClientFrame, ServerFrame } from "../shared/protocol/types.js";
import { InboxLink } from "./inbox-link.js";
import type { LinkState } from "./reconnect-plan.js";

class FakeServer {
  frames: ClientFrame[][] = [];
  conns: TransportEvents[] = [];
  down = false;
  /** Conversations a `sub` is refused for (no longer readable). */
  refused = new Set<string>();

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
          if (this.refused.has(f.c)) push({ t: "error", code: "not_found", message: "no", c: f.c });
          else push({ t: "subscribed", c: f.c, last_seq: f.after ?? 0, state: "queued" });
        }
        if (f.t === "unsub") push({ t: "unsubscribed", c: f.c });
        if (f.t === "ping") push({ t: "pong", n: f.n ?? 0 });
      },
      close: (code) => queueMicrotask(() => events.onClose(code ?? 1000, "")),
    };
  };

  push(f: ServerFrame): void {
    const conn = this.conns.at(-1);
    queueMicrotask(() => conn?.onText(JSON.stringify(f)));
  }

  entry(c: string, seq: number): void {
    this.push({ t: "entry", c, seq, k: "application", from: { kind: "visitor", id: "v" }, at: seq, p: "AA==" });
  }

  cut(code = 1006): void {
    this.conns.at(-1)?.onClose(code, "");
  }

  /** The `sub` and `unsub` frames of every connection, as "sub c after" / "unsub c". */
  subs(): string[][] {
    return this.frames.map((fs) => fs.flatMap((f) => (f.t === "sub" ? [`sub ${f.c} ${f.after ?? 0}`] : f.t === "unsub" ? [`unsub ${f.c}`] : [])));
  }
}

function harness(server: FakeServer) {
  const events: string[] = [];
  const states: LinkState[] = [];
  const link = new InboxLink(() => SealdeskSocket.connect(server.factory, "http://127.0.0.1:9", { via: "header", token: "" }), {
    connected: () => events.push("connected"),
    notice: (n) => events.push(`notice ${n.what} ${n.c}`),
    teams: (t) => events.push(`teams ${t.teams.join(",")}`),
    changed: (c, why) => events.push(`changed ${c}${why === "ended" ? " (ended)" : ""}`),
    state: (s) => states.push(s),
    lost: (code) => events.push(`lost ${code}`),
  }, { random: () => 0, heartbeatMs: 60_000, pongTimeoutMs: 5_000 });
  return { link, events, states };
}

const kinds = (states: LinkState[]) => states.map((s) => (s.kind === "reconnecting" ? `reconnecting ${s.attempt} ${s.delayMs}` : s.kind === "live" ? `live${s.again ? " again" : ""}` : s.kind));

describe("InboxLink", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("hands notices over and follows the shown conversations, each after its last seq", async () => {
    const server = new FakeServer();
    const { link, events, states } = harness(server);
    link.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(events).toEqual(["connected"]);
    expect(kinds(states)).toEqual(["connecting", "live"]);

    // A colleague claims a conversation of the team: the notice comes with no `sub` at all.
    server.push({ t: "notice", what: "assigned", c: "q1", team: "t", assignee: "other" });
    await vi.advanceTimersByTimeAsync(0);
    expect(events.at(-1)).toBe("notice assigned q1");
    // An admin added one to a second team: the lists have to load again.
    server.push({ t: "teams", teams: ["t", "t2"] });
    await vi.advanceTimersByTimeAsync(0);
    expect(events.at(-1)).toBe("teams t,t2");

    link.follow(new Map([["q1", 3], ["q2", 0]]));
    await vi.advanceTimersByTimeAsync(0);
    expect(server.subs()).toEqual([["sub q1 3", "sub q2 0"]]);
    // The visitor writes in a queued conversation: its preview has to move.
    server.entry("q1", 4);
    await vi.advanceTimersByTimeAsync(0);
    expect(events.at(-1)).toBe("changed q1");

    // The lists no longer show q2: unsubscribed, and its answer is no news.
    events.length = 0;
    link.follow(new Map([["q1", 4]]));
    await vi.advanceTimersByTimeAsync(0);
    expect(server.subs()).toEqual([["sub q1 3", "sub q2 0", "unsub q2"]]);
    expect(events).toEqual([]);

    // Claimed by a colleague: the server ends q1's subscription; said once, not taken up again.
    server.push({ t: "unsubscribed", c: "q1" });
    await vi.advanceTimersByTimeAsync(0);
    expect(events).toEqual(["changed q1 (ended)"]);
    link.follow(new Map());
    await vi.advanceTimersByTimeAsync(0);
    expect(server.subs()).toEqual([["sub q1 3", "sub q2 0", "unsub q2"]]);
    link.stop();
  });

  it("reports a refused subscription as a change, and does not ask again", async () => {
    const server = new FakeServer();
    server.refused.add("gone");
    const { link, events } = harness(server);
    link.start();
    await vi.advanceTimersByTimeAsync(0);
    link.follow(new Map([["gone", 2]]));
    await vi.advanceTimersByTimeAsync(0);
    expect(events).toEqual(["connected", "changed gone (ended)"]);
    server.cut();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(server.subs()).toEqual([["sub gone 2"], []]);
    link.stop();
  });

  it("reconnects with backoff, loads everything again, and resubscribes after the last entry seen", async () => {
    const server = new FakeServer();
    const { link, events, states } = harness(server);
    link.start();
    await vi.advanceTimersByTimeAsync(0);
    link.follow(new Map([["q1", 1]]));
    server.entry("q1", 2);
    await vi.advanceTimersByTimeAsync(0);
    events.length = 0;

    server.down = true;
    server.cut();
    await vi.advanceTimersByTimeAsync(500 + 1_000 + 2_000);
    expect(kinds(states)).toEqual(["connecting", "live", "reconnecting 1 500", "reconnecting 2 1000", "reconnecting 3 2000", "reconnecting 4 4000"]);
    expect(events).toEqual(["lost 1006"]);
    server.down = false;
    await vi.advanceTimersByTimeAsync(4_000);
    expect(kinds(states).at(-1)).toBe("live again");
    // Notices missed while away: the owner loads the lists again.
    expect(events).toEqual(["lost 1006", "connected"]);
    expect(server.subs().at(-1)).toEqual(["sub q1 2"]);

    // The browser says the network is back: a waiting retry goes at once.
    server.down = true;
    server.cut();
    await vi.advanceTimersByTimeAsync(500 + 1_000);
    server.down = false;
    link.retryNow();
    await vi.advanceTimersByTimeAsync(0);
    expect(link.live).toBe(true);
    expect(events.at(-1)).toBe("connected");
    link.stop();
  });

  it("gives up an unanswered heartbeat, ends on a close that would repeat, and stops cleanly", async () => {
    const server = new FakeServer();
    const { link, states } = harness(server);
    link.start();
    await vi.advanceTimersByTimeAsync(0);
    // Pings unanswered (nothing reaches the page any more): the next heartbeat drops it.
    const frames = server.frames[0] ?? [];
    const conn = server.conns[0];
    if (conn !== undefined) conn.onText = () => undefined;
    await vi.advanceTimersByTimeAsync(60_000 + 5_000);
    expect(frames.some((f) => f.t === "ping")).toBe(true);
    expect(kinds(states)).toContain("reconnecting 1 500");
    await vi.advanceTimersByTimeAsync(500);
    expect(link.live).toBe(true);

    server.cut(4003);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(states.at(-1)).toEqual({ kind: "ended", reason: "closed with 4003" });
    expect(server.frames).toHaveLength(2);

    const other = new FakeServer();
    const h = harness(other);
    h.link.start();
    await vi.advanceTimersByTimeAsync(0);
    other.down = true;
    other.cut();
    h.link.stop();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(other.frames).toHaveLength(1);
    expect(kinds(h.states).at(-1)).toBe("reconnecting 1 500");
  });
});
