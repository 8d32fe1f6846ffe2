// The console's lists without polling (console/inbox.ts, inbox-link.ts), and a chat that loses
// access (docs/protocol.md `notice`, `unsubscribed`), in Debian's Chromium against a real
// `sealdesk serve`: the desk's staff WebSocket brings the server's notices, so a conversation
// a colleague claims leaves the queue within a second and nothing reloads the lists while all
// is quiet; an administrator's team membership change shows at once (`teams`); after a
// dropped connection everything is loaded again, so a conversation that arrived meanwhile
// shows; and a conversation transferred away while the agent is in it stops for good: the
// view says so, an undelivered reply is marked not sent, and the chat does not subscribe
// again; one sent back to the team's queue is let go the same way.

import type { Page, WebSocketRoute } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RestClient } from "../shared/protocol/rest.js";
import { launch, watchedPage, type Browser } from "./chromium.js";
import { inert, signInAndEnrol, visitorStarts } from "./console-steps.js";
import { serveShop, startConsoleWorld, type ConsoleWorld } from "./console-world.js";

interface Frame {
  t?: string;
  k?: string;
  c?: string;
}

/** The agent page's WebSockets: cut them, refuse new ones, drop some frames on their way up. */
interface Sockets {
  down: boolean;
  /** `sub` frames the page sent, as conversation ids. */
  subs: string[];
  dropUp: ((f: Frame) => boolean) | undefined;
  cut(): void;
}

async function sockets(page: Page): Promise<Sockets> {
  const open = new Set<{ ws: WebSocketRoute; server: WebSocketRoute }>();
  const s: Sockets = {
    down: false, subs: [], dropUp: undefined,
    cut() {
      for (const pair of [...open]) {
        open.delete(pair);
        void pair.ws.close({ code: 1006, reason: "" });
        void pair.server.close();
      }
    },
  };
  await page.routeWebSocket(/\/api\/ws/, (ws) => {
    if (s.down) {
      void ws.close({ code: 1006, reason: "" });
      return;
    }
    const server = ws.connectToServer();
    const pair = { ws, server };
    open.add(pair);
    ws.onMessage((m) => {
      const f = typeof m === "string" ? (JSON.parse(m) as Frame) : {};
      if (f.t === "sub" && f.c !== undefined) s.subs.push(f.c);
      if (s.dropUp?.(f) !== true) server.send(m);
    });
    server.onMessage((m) => ws.send(m));
    ws.onClose(() => {
      open.delete(pair);
      void server.close();
    });
    server.onClose(() => {
      open.delete(pair);
      void ws.close();
    });
  });
  return s;
}

describe("the console's lists, live", () => {
  let world: ConsoleWorld;
  let browser: Browser;
  let second: Browser | undefined;
  let third: Browser | undefined;

  beforeAll(async () => {
    world = await startConsoleWorld();
    serveShop(world);
    browser = await launch();
  });
  afterAll(async () => {
    await second?.close();
    await third?.close();
    await browser?.close();
    await world?.stop();
  });

  it("follows notices instead of polling, catches up after a drop, and stops a chat that is no longer ours", { timeout: 300_000 }, async () => {
    const agent = await watchedPage(browser.context);
    const page = agent.page;
    const net = await sockets(page);
    let loads = 0;
    page.on("request", (r) => {
      if (/\/api\/tenants\/[^/]+\/conversations\?state=queued/.test(r.url())) loads += 1;
    });
    await signInAndEnrol(page, world, world.agent, "agent");
    const link = page.locator("#inbox-link");
    await expect.poll(() => link.getAttribute("data-state"), { timeout: 30_000 }).toBe("live");
    expect(await link.textContent()).toBe("Live");

    const queue = page.locator("#queue li button");
    const visitor = await watchedPage(browser.context);
    await visitor.page.goto(`${world.host.origin}/`);
    await visitorStarts(visitor.page, "Ada", "first: is anyone there?");
    // The queued notice brings it, the followed log its first message.
    await expect.poll(() => queue.locator(".preview").allTextContents(), { timeout: 15_000 }).toEqual(["first: is anyone there?"]);
    const first = (await queue.first().getAttribute("data-conversation")) ?? "";

    // Quiet: nothing reloads the lists (the safety refresh is a minute away).
    const before = loads;
    await new Promise((r) => setTimeout(r, 8_000));
    expect(loads - before).toBeLessThanOrEqual(1);

    // An administrator takes the agent out of the team, then puts them back: the open
    // connection is told (`teams`), so the queue empties and fills again within seconds,
    // not at the next safety refresh a minute later.
    const boss = await new RestClient(world.apiUrl).login(world.tenant, world.adminUser.email, world.adminUser.password);
    const asAdmin = (method: string, path: string) =>
      fetch(new URL(path, world.apiUrl), { method, headers: { authorization: `Bearer ${boss.token ?? ""}` } });
    const staff = (await (await asAdmin("GET", `/api/tenants/${world.tenant}/staff`)).json()) as Array<{ id: string; email: string }>;
    const me = staff.find((s) => s.email === world.agent.email)?.id ?? "";
    const membership = `/api/tenants/${world.tenant}/teams/${world.team}/members/${me}`;
    expect((await asAdmin("DELETE", membership)).status).toBe(204);
    await expect.poll(() => queue.count(), { timeout: 5_000, interval: 50 }).toBe(0);
    expect((await asAdmin("PUT", membership)).status).toBe(204);
    await expect.poll(() => queue.locator(".preview").allTextContents(), { timeout: 5_000, interval: 50 }).toEqual(["first: is anyone there?"]);

    // The agent is looking at it when a colleague claims it: gone from this queue within a
    // second, without polling, and the open view says so instead of offering a claim.
    await queue.first().click();
    const claim = page.getByRole("button", { name: "Claim" });
    await expect.poll(() => claim.isVisible(), { timeout: 15_000 }).toBe(true);
    const lee = await new RestClient(world.apiUrl).login(world.tenant, world.nextAgent.email, world.nextAgent.password);
    const colleague = new RestClient(world.apiUrl, lee.token);
    const claimedAt = Date.now();
    await colleague.claim(world.tenant, first);
    await expect.poll(() => queue.count(), { timeout: 1_000, interval: 25 }).toBe(0);
    expect(Date.now() - claimedAt).toBeLessThan(1_000);
    expect(await page.locator("#queue li.empty").textContent()).toBe("Nobody is waiting.");
    await expect.poll(() => page.locator("#conv-alert").textContent(), { timeout: 5_000 }).toBe("A colleague took this conversation.");
    expect(await claim.isVisible()).toBe(false);

    // The desk's connection drops and the network stays down: the side bar says so, and a
    // visitor who writes meanwhile is not seen (no polling) until the connection is back;
    // then everything is loaded again at once.
    net.down = true;
    net.cut();
    await expect.poll(() => link.getAttribute("data-state"), { timeout: 15_000 }).toBe("reconnecting");
    expect(await link.textContent()).toMatch(/^Live updates paused: reconnecting in \d+ s\./);
    // Another visitor: another browser (one widget tab per inbox and browser).
    second = await launch();
    const secondVisitor = await watchedPage(second.context);
    await secondVisitor.page.goto(`${world.host.origin}/`);
    await visitorStarts(secondVisitor.page, "Bo", "second: hello from the outage");
    const waiting = async () => (await colleague.listConversations(world.tenant, { state: "queued" })).conversations.length;
    await expect.poll(waiting, { timeout: 30_000 }).toBe(1);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await queue.count()).toBe(0);
    net.down = false;
    await expect.poll(() => link.getAttribute("data-state"), { timeout: 60_000 }).toBe("live");
    await expect.poll(() => queue.locator(".preview").allTextContents(), { timeout: 5_000 }).toEqual(["second: hello from the outage"]);

    // The agent takes the second conversation and is in it.
    await queue.first().click();
    await page.getByRole("button", { name: "Claim" }).click();
    const reply = page.locator("#reply");
    await expect.poll(() => reply.isEnabled(), { timeout: 30_000 }).toBe(true);
    const id = (await page.locator("#mine li button").first().getAttribute("data-conversation")) ?? "";
    expect(id).not.toBe("");
    await reply.fill("a0: I am here");
    await reply.press("Enter");
    await expect.poll(() => secondVisitor.page.locator(".log .text").allTextContents(), { timeout: 30_000 }).toEqual(["second: hello from the outage", "a0: I am here"]);

    // A reply that never reaches the server waits in the outbox; meanwhile an administrator
    // transfers the conversation to a colleague. The server ends the chat's subscription.
    net.dropUp = (f) => f.t === "send" && f.k === "application";
    await reply.fill("a1: this one is stuck");
    await reply.press("Enter");
    await expect.poll(() => page.locator("#log li.pending").count(), { timeout: 15_000 }).toBe(1);
    const owner = await new RestClient(world.apiUrl).login(world.tenant, world.adminUser.email, world.adminUser.password);
    const res = await fetch(new URL(`/api/tenants/${world.tenant}/conversations/${id}/transfer`, world.apiUrl), {
      method: "POST", headers: { authorization: `Bearer ${owner.token}`, "content-type": "application/json" },
      body: JSON.stringify({ agent: lee.session.staff.id }),
    });
    expect(res.status).toBe(200);
    const conn = page.locator("#conn");
    await expect.poll(() => conn.getAttribute("data-state"), { timeout: 15_000 }).toBe("lost_access");
    expect(await conn.textContent()).toBe(
      "This conversation was transferred, or you were removed from it: you no longer have access to it here. Replies not yet delivered were not sent.",
    );
    await expect.poll(() => page.locator("#log li.failed .meta").allTextContents()).toEqual(["You · not sent (no_access)"]);
    expect(await reply.isDisabled()).toBe(true);
    await expect.poll(() => page.locator("#mine li button").count(), { timeout: 5_000 }).toBe(0);
    // Over for good: no resubscription, even after a while and another drop.
    net.dropUp = undefined;
    const subs = net.subs.filter((c) => c === id).length;
    net.cut();
    await expect.poll(() => link.getAttribute("data-state"), { timeout: 30_000 }).toBe("live");
    await new Promise((r) => setTimeout(r, 5_000));
    expect(net.subs.filter((c) => c === id).length).toBe(subs);
    expect(await conn.getAttribute("data-state")).toBe("lost_access");
    // The undelivered reply never went out, not even after the reconnections.
    const log = await colleague.entries(world.tenant, id);
    expect(log.entries.filter((e) => e.k === "application" && e.from.kind === "staff")).toHaveLength(1);

    // Sent back to the team's queue instead: still readable, so no `unsubscribed`, but no
    // longer the agent's to write; the queued notice releases the chat the same way.
    third = await launch();
    const thirdVisitor = await watchedPage(third.context);
    await thirdVisitor.page.goto(`${world.host.origin}/`);
    await visitorStarts(thirdVisitor.page, "Cy", "third: a question");
    await expect.poll(() => queue.locator(".preview").allTextContents(), { timeout: 15_000 }).toEqual(["third: a question"]);
    const back = (await queue.first().getAttribute("data-conversation")) ?? "";
    await queue.first().click();
    await page.getByRole("button", { name: "Claim" }).click();
    await expect.poll(() => reply.isEnabled(), { timeout: 30_000 }).toBe(true);
    const toTeam = await fetch(new URL(`/api/tenants/${world.tenant}/conversations/${back}/transfer`, world.apiUrl), {
      method: "POST", headers: { authorization: `Bearer ${owner.token}`, "content-type": "application/json" },
      body: JSON.stringify({ team: world.team }),
    });
    expect(toTeam.status).toBe(200);
    await expect.poll(() => conn.getAttribute("data-state"), { timeout: 5_000 }).toBe("lost_access");
    expect(await reply.isDisabled()).toBe(true);
    await expect.poll(() => queue.count(), { timeout: 5_000 }).toBe(1);
    expect(await page.getByRole("button", { name: "Claim" }).isVisible()).toBe(true);

    await inert(agent);
    expect(agent.errors.filter((e) => !e.startsWith("Failed to load resource"))).toEqual([]);
  });
});
