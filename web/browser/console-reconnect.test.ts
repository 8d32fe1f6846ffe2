// The console's live chat when its connection drops (console/link.ts, docs/protocol.md
// "Resume"), in Debian's Chromium against a real `sealdesk serve`: the agent's WebSockets
// pass through a route that can cut them (close 1006, as a network drop), refuse new ones
// for a while (the network is down) or lose single frames. The visitor in the widget keeps
// writing meanwhile. The console shows "Reconnecting…", comes back by itself, shows every
// message once and in order, and delivers once what the agent wrote while it was away (sent
// again under the same client message id when the first try was lost).

import type { Page, WebSocketRoute } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launch, watchedPage, type Browser } from "./chromium.js";
import { inert, signInAndEnrol, visitorStarts } from "./console-steps.js";
import { startConsoleWorld, type ConsoleWorld, serveShop } from "./console-world.js";

interface Frame {
  t?: string;
  k?: string;
  id?: string;
  c?: string;
}

/** The agent page's network for its WebSockets. */
interface Network {
  /** While true, every new WebSocket fails at once. */
  down: boolean;
  /** WebSockets opened to the server, and refused while down. */
  opened: number;
  refused: number;
  /** The client message ids of every `send` frame the page wrote, in order. */
  sends: string[];
  /** Frames the page writes for which this returns true never reach the server. */
  dropUp: ((f: Frame) => boolean) | undefined;
  /** Frames from the server for which this returns true never reach the page. */
  dropDown: ((f: Frame) => boolean) | undefined;
  /** Cuts every open WebSocket (the page sees close 1006). */
  cut(): void;
}

async function agentNetwork(page: Page): Promise<Network> {
  const open = new Set<{ ws: WebSocketRoute; server: WebSocketRoute }>();
  const net: Network = {
    down: false, opened: 0, refused: 0, sends: [], dropUp: undefined, dropDown: undefined,
    cut() {
      for (const pair of [...open]) {
        open.delete(pair);
        void pair.ws.close({ code: 1006, reason: "" });
        void pair.server.close();
      }
    },
  };
  const parse = (m: string | Buffer): Frame => (typeof m === "string" ? (JSON.parse(m) as Frame) : {});
  await page.routeWebSocket(/\/api\/ws/, (ws) => {
    if (net.down) {
      net.refused += 1;
      void ws.close({ code: 1006, reason: "" });
      return;
    }
    const server = ws.connectToServer();
    net.opened += 1;
    const pair = { ws, server };
    open.add(pair);
    ws.onMessage((m) => {
      const f = parse(m);
      if (f.t === "send" && f.id !== undefined) net.sends.push(f.id);
      if (net.dropUp?.(f) !== true) server.send(m);
    });
    server.onMessage((m) => {
      if (net.dropDown?.(parse(m)) !== true) ws.send(m);
    });
    ws.onClose(() => {
      open.delete(pair);
      void server.close();
    });
    server.onClose(() => {
      open.delete(pair);
      void ws.close();
    });
  });
  return net;
}

describe("the console's live chat after its connection drops", () => {
  let world: ConsoleWorld;
  let browser: Browser;

  beforeAll(async () => {
    world = await startConsoleWorld();
    serveShop(world);
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await world?.stop();
  });

  it("reconnects, resumes exactly the gap, and delivers the agent's replies once", { timeout: 300_000 }, async () => {
    const agent = await watchedPage(browser.context);
    const page = agent.page;
    const net = await agentNetwork(page);
    await signInAndEnrol(page, world, world.agent, "agent");

    const visitor = await watchedPage(browser.context);
    await visitor.page.goto(`${world.host.origin}/`);
    const said: string[] = ["v0: my parcel is late"];
    await visitorStarts(visitor.page, "Ada", said[0]);
    const item = page.locator("#queue li button");
    await expect.poll(() => item.locator(".preview").allTextContents(), { timeout: 30_000 }).toEqual([said[0]]);
    const id = (await item.getAttribute("data-conversation")) ?? "";
    await item.click();
    await page.getByRole("button", { name: "Claim" }).click();
    const reply = page.locator("#reply");
    await expect.poll(() => reply.isEnabled(), { timeout: 30_000 }).toBe(true);

    const consoleLog = () => page.locator("#log .text").allTextContents();
    const widgetLog = () => visitor.page.locator(".log .text").allTextContents();
    const conn = page.locator("#conn");
    const box = visitor.page.getByRole("dialog").getByLabel("Your message");
    const agentSays = async (text: string): Promise<void> => {
      await reply.fill(text);
      await reply.press("Enter");
      said.push(text);
    };
    const visitorSays = async (text: string): Promise<void> => {
      await box.fill(text);
      await box.press("Enter");
      said.push(text);
      // Sent: the widget has the server's acknowledgement.
      await expect.poll(() => visitor.page.locator(".log li.msg.visitor").last().getAttribute("data-v"), { timeout: 30_000 }).toMatch(/^(sent|read)$/);
    };

    await agentSays("a0: let me look");
    await expect.poll(widgetLog, { timeout: 30_000 }).toEqual(said);
    await expect.poll(consoleLog, { timeout: 30_000 }).toEqual(said);
    // Two WebSockets: the desk's (notices, inbox.ts) and the conversation's.
    expect(net.opened).toBe(2);

    // 1. A short drop: the console is back at its first try, and the visitor's next message,
    // written right then, arrives once.
    net.cut();
    await visitorSays("v1: hello?");
    await expect.poll(() => net.opened, { timeout: 30_000 }).toBe(4);
    await expect.poll(consoleLog, { timeout: 30_000 }).toEqual(said);
    await expect.poll(() => conn.getAttribute("data-state"), { timeout: 30_000 }).toBe("live");

    // 2. An outage: the connection drops and the network stays down. The console says so and
    // keeps trying, with growing pauses; the visitor writes three messages; the agent answers,
    // and the reply waits, shown as on its way.
    net.down = true;
    net.cut();
    await expect.poll(() => conn.getAttribute("data-state"), { timeout: 15_000 }).toBe("reconnecting");
    expect(await conn.textContent()).toMatch(/^Reconnecting… The connection was lost; next try in \d+ s \(attempt \d+\)\./);
    const beforeOutage = [...said];
    for (const text of ["v2: are you there?", "v3: the order is 1042", "v4: it was due on Friday"]) await visitorSays(text);
    await agentSays("a1: sorry, my network dropped");
    const pending = page.locator("#log li.pending");
    await expect.poll(() => pending.count(), { timeout: 15_000 }).toBe(1);
    expect(await pending.locator(".meta").textContent()).toBe("You · sending…");
    expect(await reply.inputValue()).toBe("");
    await expect.poll(() => net.refused, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    expect(await conn.textContent()).toMatch(/attempt [2-9]/);
    // Nothing of the outage reached the console, and the reply did not leave it.
    expect(await consoleLog()).toEqual([...beforeOutage, "a1: sorry, my network dropped"]);
    expect(await widgetLog()).toEqual(said.filter((t) => t !== "a1: sorry, my network dropped"));
    // Backoff: a few tries of each of the two connections, not a storm.
    expect(net.refused).toBeLessThanOrEqual(12);
    net.down = false;
    await expect.poll(() => conn.getAttribute("data-state"), { timeout: 60_000 }).toBe("live");
    expect(await conn.textContent()).toBe("Connected again: messages are up to date.");
    // The gap once, in order; the reply after it, once, on both sides.
    await expect.poll(consoleLog, { timeout: 30_000 }).toEqual(said);
    await expect.poll(widgetLog, { timeout: 30_000 }).toEqual(said);
    expect(await pending.count()).toBe(0);
    expect(net.sends.filter((s) => s === net.sends.at(-1))).toHaveLength(1);

    // 3. A reply whose frame is lost on the way, then the connection drops: sent again after
    // the reconnect under the same client message id, and appended once.
    net.dropUp = (f) => f.t === "send" && f.k === "application";
    const before = net.sends.length;
    await agentSays("a2: I see it now");
    await expect.poll(() => net.sends.length, { timeout: 15_000 }).toBe(before + 1);
    net.dropUp = undefined;
    net.cut();
    await expect.poll(widgetLog, { timeout: 60_000 }).toEqual(said);
    await expect.poll(consoleLog, { timeout: 30_000 }).toEqual(said);
    const a2 = net.sends[before];
    expect(net.sends.slice(before)).toEqual([a2, a2]);

    // 4. A reply the server took but whose acknowledgement (and entry) were lost with the
    // connection: the log after the reconnect shows it; nothing is sent twice or shown twice.
    net.dropDown = (f) => (f.t === "ack" || f.t === "entry") && f.c === id;
    const sentBefore = net.sends.length;
    await agentSays("a3: it ships today");
    await expect.poll(widgetLog, { timeout: 30_000 }).toEqual(said);
    net.cut();
    net.dropDown = undefined;
    await visitorSays("v5: great, thanks!");
    await expect.poll(consoleLog, { timeout: 60_000 }).toEqual(said);
    await expect.poll(() => conn.getAttribute("data-state"), { timeout: 30_000 }).toBe("live");
    expect(net.sends.length).toBe(sentBefore + 1);

    // The server's log: every reply of the agent's appended once.
    const { entries } = (await page.evaluate(
      async (path) => (await fetch(path)).json() as Promise<unknown>,
      `/api/tenants/${world.tenant}/conversations/${id}/entries`,
    )) as { entries: Array<{ seq: number; k: string; id?: string; from: { kind: string } }> };
    const mine = entries.filter((e) => e.k === "application" && e.from.kind === "staff").map((e) => e.id);
    expect(mine).toHaveLength(said.filter((t) => t.startsWith("a")).length);
    expect(new Set(mine).size).toBe(mine.length);

    // Still a working chat, and the page stayed clean.
    await visitorSays("v6: bye");
    await expect.poll(consoleLog, { timeout: 30_000 }).toEqual(said);
    expect(await page.locator("#conv-alert").textContent()).toBe("");
    await inert(agent);
    await inert(visitor);
    expect(agent.errors.filter((e) => !e.startsWith("Failed to load resource"))).toEqual([]);
    expect(visitor.errors.filter((e) => !e.startsWith("Failed to load resource"))).toEqual([]);
  });
});
