// SealdeskSocket against a scripted in-memory transport: ready, acks, errors, entry order.
import { describe, expect, it } from "vitest";
import { fromBase64, utf8 } from "../util/bytes.js";
import { SealdeskSocket, type TransportEvents, type TransportFactory } from "./socket.js";
import type { ClientFrame, ServerFrame } from "./types.js";

/** The URLs the sockets connected to, in order. */
const urls: string[] = [];

/** A fake server: records client frames and lets the test push server frames. */
function fakeServer(onFrame: (f: ClientFrame, push: (s: ServerFrame) => void) => void) {
  let events: TransportEvents | undefined;
  const sent: ClientFrame[] = [];
  const push = (s: ServerFrame) => queueMicrotask(() => events?.onText(JSON.stringify(s)));
  const factory: TransportFactory = async (url, options, ev) => {
    events = ev;
    urls.push(url);
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:9\/api\/ws(\?auth=frame)?$/);
    expect(options.protocol).toBe("sealdesk.v1");
    if (options.bearer !== undefined) push({ t: "ready", v: 1, me: { kind: "staff", id: "s" }, heartbeat_s: 25, max_payload: 65536 });
    return {
      send: (text) => {
        const f = JSON.parse(text) as ClientFrame;
        sent.push(f);
        onFrame(f, push);
      },
      close: () => events?.onClose(1000, ""),
    };
  };
  return { factory, sent, push };
}

const entry = (seq: number, p = "AA==") =>
  ({ t: "entry", c: "c1", seq, k: "application", from: { kind: "system" }, at: 0, p }) as const;

describe("SealdeskSocket", () => {
  it("authenticates with a frame, subscribes, sends and reads entries in order", async () => {
    const { factory, sent } = fakeServer((f, push) => {
      if (f.t === "auth") push({ t: "ready", v: 1, me: { kind: "visitor", id: "v" }, heartbeat_s: 25, max_payload: 65536 });
      if (f.t === "sub") {
        push({ t: "subscribed", c: f.c, last_seq: 1, state: "open" });
        push(entry(1));
      }
      if (f.t === "send") {
        push({ t: "ack", c: f.c, id: f.id, seq: 2 });
        push(entry(2, f.p));
      }
    });
    const s = await SealdeskSocket.connect(factory, "http://127.0.0.1:9", { via: "frame", token: "sd_vt_x" });
    expect(s.me).toEqual({ kind: "visitor", id: "v" });
    expect(await s.subscribe("c1")).toBe(1);
    expect((await s.nextEntry("c1")).seq).toBe(1);
    expect(await s.send("c1", "application", utf8("hi"))).toEqual({ seq: 2, dup: false });
    const e = await s.nextEntry("c1");
    expect(fromBase64(e.p)).toEqual(utf8("hi"));
    expect(sent.map((f) => f.t)).toEqual(["auth", "sub", "send"]);
    // Frame authentication asks the server to ignore the cookies a browser attaches.
    expect(urls.at(-1)).toBe("ws://127.0.0.1:9/api/ws?auth=frame");
  });

  it("rejects a send the server refuses, and fails on an out-of-order entry", async () => {
    const { factory, push } = fakeServer((f, p) => {
      if (f.t === "sub") p({ t: "subscribed", c: f.c, last_seq: 0, state: "open" });
      if (f.t === "send") p({ t: "error", code: "forbidden", message: "not a participant", c: f.c, id: f.id });
    });
    const s = await SealdeskSocket.connect(factory, "http://127.0.0.1:9", { via: "header", token: "t" });
    expect(urls.at(-1)).toBe("ws://127.0.0.1:9/api/ws");
    await s.subscribe("c1");
    await expect(s.send("c1", "handshake", utf8("x"))).rejects.toThrow(/forbidden/);
    const next = s.nextEntry("c1");
    push(entry(2));
    await expect(next).rejects.toThrow(/out of order/);
  });

  it("answers pings, keeps the close code, and fails a connection that never opens", async () => {
    let answer = true;
    const { factory } = fakeServer((f, p) => {
      if (f.t === "ping" && answer) p({ t: "pong", n: f.n ?? 0 });
    });
    let closedWith: Error | undefined;
    const s = await SealdeskSocket.connect(factory, "http://127.0.0.1:9", { via: "header", token: "t" });
    s.onClosed = (err) => (closedWith = err);
    await s.ping(1_000);
    answer = false;
    await expect(s.ping(20)).rejects.toThrow(/no pong/);
    s.drop("no answer");
    expect(s.isClosed).toBe(true);
    expect(closedWith?.message).toMatch(/no answer/);
    await expect(s.ping()).rejects.toThrow(/no answer/);

    // A close: waiters fail, the code is kept.
    const other = fakeServer((f, p) => {
      if (f.t === "sub") p({ t: "subscribed", c: f.c, last_seq: 0, state: "open" });
    });
    const d = await SealdeskSocket.connect(other.factory, "http://127.0.0.1:9", { via: "header", token: "t" });
    await d.subscribe("c1");
    const waiting = d.nextEntry("c1");
    expect(d.closeCode).toBeUndefined();
    d.close();
    await expect(waiting).rejects.toThrow(/closed \(1000/);
    expect(d.closeCode).toBe(1000);

    const never: TransportFactory = () => new Promise(() => undefined);
    await expect(SealdeskSocket.connect(never, "http://127.0.0.1:9", { via: "header", token: "t" }, 30)).rejects.toThrow(/did not open/);
  });

  it("times out a missing entry without losing the next one", async () => {
    const { factory, push } = fakeServer((f, p) => {
      if (f.t === "sub") p({ t: "subscribed", c: f.c, last_seq: 0, state: "open" });
    });
    const s = await SealdeskSocket.connect(factory, "http://127.0.0.1:9", { via: "header", token: "t" });
    await s.subscribe("c1");
    await expect(s.nextEntry("c1", 20)).rejects.toThrow(/timeout/);
    push(entry(1));
    expect((await s.nextEntry("c1")).seq).toBe(1);
  });

  it("hands staff notices over, and ends a subscription the server ended (after what was received)", async () => {
    const { factory, push, sent } = fakeServer((f, p) => {
      if (f.t === "sub") p({ t: "subscribed", c: f.c, last_seq: 0, state: "assigned" });
      if (f.t === "unsub") p({ t: "unsubscribed", c: f.c });
    });
    const s = await SealdeskSocket.connect(factory, "http://127.0.0.1:9", { via: "header", token: "t" });
    const notices: unknown[] = [];
    const ended: string[] = [];
    s.onNotice = (n) => notices.push(n);
    s.onUnsubscribed = (c) => ended.push(c);
    push({ t: "notice", what: "assigned", c: "c9", team: "t1", assignee: "s2" });
    await s.subscribe("c1");
    push(entry(1));
    push({ t: "unsubscribed", c: "c1" });
    await new Promise((r) => setTimeout(r, 0));
    expect(notices).toEqual([{ t: "notice", what: "assigned", c: "c9", team: "t1", assignee: "s2" }]);
    expect(ended).toEqual(["c1"]);
    // The entry received before the end first, then the end; an entry after it is dropped.
    expect((await s.nextEntry("c1")).seq).toBe(1);
    push(entry(2));
    await expect(s.nextEntry("c1")).rejects.toMatchObject({ code: "unsubscribed" });
    // A waiter already waiting is told too.
    await s.subscribe("c1", 2);
    const waiting = s.nextEntry("c1");
    push({ t: "unsubscribed", c: "c1" });
    await expect(waiting).rejects.toMatchObject({ code: "unsubscribed" });
    expect(ended).toEqual(["c1", "c1"]);

    // One's own unsub: the waiter is told, the answer is no loss of access; a new
    // subscription right after is not ended by that answer.
    await s.subscribe("c1", 2);
    const mine = s.nextEntry("c1");
    s.unsubscribe("c1");
    await expect(mine).rejects.toMatchObject({ code: "unsubscribed" });
    expect(await s.subscribe("c1", 2)).toBe(0);
    push(entry(3));
    expect((await s.nextEntry("c1")).seq).toBe(3);
    expect(ended).toEqual(["c1", "c1"]);
    expect(sent.filter((f) => f.t === "unsub")).toEqual([{ t: "unsub", c: "c1" }]);
  });
});
