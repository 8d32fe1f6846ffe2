// The widget's reconnection after a lost connection (log.ts), in Node with fake timers and a
// scripted network: it keeps trying through a long outage (the widget used to give up after
// 8 tries), says where it stands, tries at once when asked, comes back, and stops for good
// on a refusal (reload to continue) or a conversation that is gone.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { TransportFactory } from "../shared/protocol/socket.js";
import type { ClientFrame, ServerFrame } from "../shared/protocol/types.js";
import type { VisitorGroup } from "./group.js";
import { VisitorSession } from "./session.js";
import { TestHierarchy } from "./testkeys.js";
import { uuidBytes } from "./trust.js";

const TENANT = "0190b1c2-0000-7000-8000-000000000001";
const TEAM = "0190b1c2-0000-7000-8000-000000000002";
const C = "0190b1c2-0000-7000-8000-0000000000c1";

/** The network: ticket answers and the WebSocket server's answer to `sub`. */
class Net {
  /** What a ticket request gets: a thrown error (the network is down) or a status. */
  ticket: "down" | number = "down";
  tickets = 0;
  sub: "ok" | "not_found" = "ok";

  readonly fetch = async (): Promise<Response> => {
    this.tickets += 1;
    if (this.ticket === "down") throw new TypeError("Failed to fetch");
    if (this.ticket !== 200) return new Response(JSON.stringify({ code: "forbidden", message: "origin" }), { status: this.ticket, headers: { "content-type": "application/json" } });
    return new Response(JSON.stringify({ ticket: "sd_vt_x", expires_at: "2099-01-01T00:00:00Z", visitor_id: "v" }), { status: 200, headers: { "content-type": "application/json" } });
  };

  readonly transport: TransportFactory = async (_url, _options, events) => {
    const push = (f: ServerFrame) => queueMicrotask(() => events.onText(JSON.stringify(f)));
    return {
      send: (text) => {
        const f = JSON.parse(text) as ClientFrame;
        if (f.t === "auth") push({ t: "ready", v: 1, me: { kind: "visitor", id: "v" }, heartbeat_s: 25, max_payload: 65536 });
        if (f.t === "sub" && this.sub === "ok") push({ t: "subscribed", c: f.c, last_seq: f.after ?? 0, state: "assigned" });
        if (f.t === "sub" && this.sub === "not_found") push({ t: "error", code: "not_found", message: "no such conversation", c: f.c });
      },
      close: (code) => queueMicrotask(() => events.onClose(code ?? 1000, "")),
    };
  };
}

class Probe extends VisitorSession {
  inChat(): void {
    this.update({ phase: "chat" });
  }

  run(): Promise<unknown> {
    const group = { conversation: C, useSocket: async () => undefined } as unknown as VisitorGroup;
    return this.reconnect(group);
  }
}

async function probe(net: Net, transport: TransportFactory = net.transport): Promise<Probe> {
  const anchor = await (await TestHierarchy.create(uuidBytes(TENANT))).anchor();
  const s = new Probe({ server: "http://127.0.0.1:9", tenant: TENANT, team: TEAM, anchor, transport });
  s.inChat();
  return s;
}

describe("the widget's reconnection", () => {
  let net: Net;
  beforeEach(() => {
    net = new Net();
    vi.stubGlobal("fetch", net.fetch);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("keeps trying through a long outage, tries at once when asked, and comes back", async () => {
    const s = await probe(net);
    vi.useFakeTimers();
    const back = s.run();
    // Half an hour without a network: far more than 8 tries, never more than 30 s apart.
    await vi.advanceTimersByTimeAsync(30 * 60 * 1000);
    expect(net.tickets).toBeGreaterThan(55);
    expect(s.state.error).toBe("disconnected");
    const r = s.reconnecting;
    expect(r !== null && "at" in r ? r.at - Date.now() : -1).toBeGreaterThan(0);
    expect(r !== null && "at" in r ? r.at - Date.now() : 99_999).toBeLessThanOrEqual(30_000);
    // The network is back; the visitor presses "Retry now": no waiting for the planned try.
    net.ticket = 200;
    const asked = net.tickets;
    s.retryNow();
    await vi.advanceTimersByTimeAsync(0);
    expect(net.tickets).toBe(asked + 1);
    expect(await back).not.toBeNull();
    expect(s.state.error).toBeNull();
    expect(s.reconnecting).toBeNull();
  });

  it("stops on a refusal no retry fixes, and asks no more", async () => {
    const s = await probe(net);
    vi.useFakeTimers();
    const back = s.run();
    await vi.advanceTimersByTimeAsync(10_000);
    net.ticket = 403;
    const asked = net.tickets;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await back).toBeNull();
    expect(s.state.error).toBe("offline");
    expect(s.reconnecting).toBeNull();
    expect(net.tickets).toBe(asked + 1);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(net.tickets).toBe(asked + 1);
  });

  it("stops when the conversation is gone, and says so", async () => {
    net.ticket = 200;
    net.sub = "not_found";
    const s = await probe(net);
    vi.useFakeTimers();
    const back = s.run();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await back).toBeNull();
    expect(net.tickets).toBe(1);
    expect(s.state.phase).toBe("closed");
    expect(s.state.error).toBe("gone");
  });

  it("stops when the widget is closed, and a connection it was opening is not kept", async () => {
    const s = await probe(net);
    vi.useFakeTimers();
    const back = s.run();
    await vi.advanceTimersByTimeAsync(10_000);
    // Closed while waiting: no further tries.
    s.close();
    expect(await back).toBeNull();
    const asked = net.tickets;
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(net.tickets).toBe(asked);
    expect(s.reconnecting).toBeNull();

    // Closed while a try is under way: the connection it opens is closed, not used.
    let opened = 0;
    let closed = 0;
    const t = await probe(net, async (url, options, events) => {
      opened += 1;
      const conn = await net.transport(url, options, events);
      return { send: (text) => conn.send(text), close: (code) => { closed += 1; conn.close(code); } };
    });
    let release: () => void = () => undefined;
    net.ticket = 200;
    const fetch = net.fetch;
    vi.stubGlobal("fetch", () => new Promise<Response>((resolve) => { release = () => void fetch().then(resolve); }));
    const again = t.run();
    await vi.advanceTimersByTimeAsync(2_000);
    t.close();
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(await again).toBeNull();
    expect(opened).toBe(1);
    expect(closed).toBeGreaterThanOrEqual(opened);
  });
});
