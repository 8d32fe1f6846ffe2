// The console re-keys its conversations' History Member after a team key rotation
// (shared/design/E2EE.md §3 "Rotation", docs/e2ee.md "History Member rotation"), in Debian's
// Chromium against a real `sealdesk serve`: two visitors in the widget chat with an agent in
// the console, one conversation open on the screen, the other not; the owner makes team key
// version 2 with the CLI and rewraps it to the agent's device, and only then refills the
// History Member pool under it (so the console first meets the server's "nothing sealed to
// the new key yet" and tries again later); the console takes each rotation member, checks it
// and commits Remove(old) + Add(new) on its own (through the open view's chat, and a quiet
// one on the other conversation's saved group), and both chats go on both ways. A reloaded
// console replays both History Member generations; a supervisor console holding only
// version 1 reads what came before the rotation and nothing after (and once given version 3,
// never 2, what the third History Member read too).

import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HistoryMemberView } from "../shared/protocol/types.js";
import { launch, watchedPage, type Browser } from "./chromium.js";
import { inert, signInAndEnrol, visitorStarts } from "./console-steps.js";
import { ISSUING_PASS, ROOT_PASS, startConsoleWorld, type ConsoleWorld, serveShop } from "./console-world.js";

const TEAM2_PASS = "team key 2 passphrase 42";
const TEAM3_PASS = "team key 3 passphrase 42";
const BEFORE = ["before: my parcel is late", "before: I am on it", "before: thanks, it is order 1042"] as const;
const AFTER = ["after: the new key is in place", "after: still there?", "after: yes, it ships today"] as const;
/** The second conversation, not open on the agent's screen during the rotation. */
const OTHER = ["other: hello, a question about returns", "other: sure, ask away", "other: after the rotation, can I return shoes?", "other: yes, within 30 days"] as const;

/** The History Member generations as the server lists them to the signed-in console. */
async function generations(page: Page, tenant: string, id: string): Promise<Array<[number, string, number | undefined]>> {
  const hm = (await page.evaluate(
    async (path) => (await fetch(path)).json() as Promise<unknown>,
    `/api/tenants/${tenant}/conversations/${id}/history-member`,
  )) as HistoryMemberView;
  return (hm.members ?? []).map((m) => [m.generation, m.state, m.team_key_version]);
}

/** Whether the conversation's log has a Welcome after its last commit (the newest member's). */
async function welcomedLast(page: Page, tenant: string, id: string): Promise<boolean> {
  const { entries } = (await page.evaluate(
    async (path) => (await fetch(path)).json() as Promise<unknown>,
    `/api/tenants/${tenant}/conversations/${id}/entries`,
  )) as { entries: Array<{ seq: number; k: string }> };
  const commit = Math.max(...entries.filter((e) => e.k === "handshake").map((e) => e.seq));
  return entries.some((e) => e.k === "welcome" && e.seq > commit);
}

describe("the console after a team key rotation", () => {
  let world: ConsoleWorld;
  let browser: Browser;
  let supBrowser: Browser | undefined;

  beforeAll(async () => {
    world = await startConsoleWorld();
    serveShop(world);
    browser = await launch();
  });
  afterAll(async () => {
    await supBrowser?.close();
    await browser?.close();
    await world?.stop();
  });

  it("re-keys its conversations' History Member, and the chats and their history go on", { timeout: 360_000 }, async () => {
    const agent = await watchedPage(browser.context);
    const page = agent.page;
    const rotations: number[] = [];
    const refused: string[] = [];
    const watch = (p: Page): void => {
      p.on("response", (r) => {
        const path = new URL(r.url()).pathname;
        if (path.endsWith("/history-member/rotation")) rotations.push(r.status());
        else if (r.status() >= 400) refused.push(`${r.status()} ${r.request().method()} ${path}`);
      });
    };
    watch(page);
    await signInAndEnrol(page, world, world.agent, "agent");

    // The visitor starts; the agent claims, and they talk under the first History Member.
    const visitor = await watchedPage(browser.context);
    await visitor.page.goto(`${world.host.origin}/`);
    await visitorStarts(visitor.page, "Ada", BEFORE[0]);
    const item = page.locator("#queue li button");
    await expect.poll(() => item.locator(".preview").allTextContents(), { timeout: 30_000 }).toEqual([BEFORE[0]]);
    const id = (await item.getAttribute("data-conversation")) ?? "";
    await item.click();
    await page.getByRole("button", { name: "Claim" }).click();
    await expect.poll(() => page.locator("#reply").isEnabled(), { timeout: 30_000 }).toBe(true);
    await page.locator("#reply").fill(BEFORE[1]);
    await page.locator("#reply").press("Enter");
    const box = visitor.page.getByRole("dialog").getByLabel("Your message");
    await expect.poll(() => visitor.page.locator(".log .text").allTextContents(), { timeout: 30_000 }).toEqual(BEFORE.slice(0, 2));
    await box.fill(BEFORE[2]);
    await box.press("Enter");
    await expect.poll(() => page.locator("#log .text").allTextContents(), { timeout: 30_000 }).toEqual(BEFORE);
    expect(await generations(page, world.tenant, id)).toEqual([[1, "active", 1]]);

    // A second visitor, in another browser; the agent claims and answers, then goes back to
    // the first conversation: the second one is not open when the key rotates.
    const otherBrowser = await launch();
    const other = await watchedPage(otherBrowser.context);
    await other.page.goto(`${world.host.origin}/`);
    await visitorStarts(other.page, "Bo", OTHER[0]);
    const queued = page.locator("#queue li button");
    await expect.poll(() => queued.locator(".preview").allTextContents(), { timeout: 30_000 }).toEqual([OTHER[0]]);
    const otherId = (await queued.getAttribute("data-conversation")) ?? "";
    await queued.click();
    await page.getByRole("button", { name: "Claim" }).click();
    await expect.poll(() => page.locator("#reply").isEnabled(), { timeout: 30_000 }).toBe(true);
    await page.locator("#reply").fill(OTHER[1]);
    await page.locator("#reply").press("Enter");
    const otherBox = other.page.getByRole("dialog").getByLabel("Your message");
    await expect.poll(() => other.page.locator(".log .text").allTextContents(), { timeout: 30_000 }).toEqual(OTHER.slice(0, 2));
    const first = page.locator(`#mine li button[data-conversation="${id}"]`);
    const second = page.locator(`#mine li button[data-conversation="${otherId}"]`);
    await first.click();
    await expect.poll(() => page.locator("#log .text").allTextContents(), { timeout: 30_000 }).toEqual(BEFORE);
    await expect.poll(() => page.locator("#reply").isEnabled(), { timeout: 30_000 }).toBe(true);
    // Nothing to rotate yet: the console asked nothing of the rotation endpoint.
    expect(rotations).toEqual([]);
    // A second tab of the console, on the desk with nothing open: it re-keys too, but never
    // on a group the first tab has open (the conversation's Web Lock), so the two never fork it.
    const tab = await watchedPage(browser.context);
    watch(tab.page);
    await tab.page.goto(`${world.url}/console/?tenant=${world.tenant}`);
    await expect.poll(() => tab.page.locator("#desk").isVisible(), { timeout: 30_000 }).toBe(true);

    // A member left: the owner makes version 2 and wraps it to the agent's device only.
    const key = (name: string): string => world.keyPath(name);
    const made = await world.admin(["keys", "team", "--tenant", world.tenant, "--team", world.team, "--root", key("root.key"), "--out", key("team2.key"), "--passphrase-stdin"],
      `${ROOT_PASS}\n${TEAM2_PASS}\n`);
    expect(made.version).toBe(2);
    const rewrapped = await world.admin(["keys", "rewrap", "--tenant", world.tenant, "--team", world.team, "--issuing", key("issuing.key"), "--team-key", key("team2.key"),
      "--passphrase-stdin"], `${ISSUING_PASS}\n${TEAM2_PASS}\n`);
    expect(rewrapped.devices).toBe(1);

    // The console reads its new wrap and asks for a rotation member: the pool has none sealed
    // to version 2 yet (409). Nothing changes, and the console says nothing to the agent.
    await expect.poll(() => rotations, { timeout: 45_000 }).toContain(409);
    expect(await generations(page, world.tenant, id)).toEqual([[1, "active", 1]]);
    expect(await generations(page, world.tenant, otherId)).toEqual([[1, "active", 1]]);
    expect(await page.locator("#conv-alert").textContent()).toBe("");
    expect(await page.locator("#rekey-status").textContent()).toBe("");

    // The owner refills the pool under version 2; the console's next try re-keys.
    await world.admin(["keys", "history-pool", "--tenant", world.tenant, "--team", world.team, "--issuing", key("issuing.key"), "--team-key", key("team2.key"),
      "--count", "2", "--passphrase-stdin"], `${ISSUING_PASS}\n${TEAM2_PASS}\n`);
    await expect.poll(() => generations(page, world.tenant, id), { timeout: 90_000, interval: 500 }).toEqual([[1, "retired", 1], [2, "active", 2]]);
    await expect.poll(() => generations(page, world.tenant, otherId), { timeout: 30_000, interval: 500 }).toEqual([[1, "retired", 1], [2, "active", 2]]);
    await expect.poll(() => page.locator("#rekey-status").textContent(), { timeout: 15_000 }).toMatch(/^(Conversation|2 conversations) re-keyed for the new team key$/);
    expect(rotations.filter((s) => s === 200).length).toBe(2);
    // The open conversation cannot go live in the second tab as well.
    await tab.page.locator(`#mine li button[data-conversation="${id}"]`).click();
    await expect.poll(() => tab.page.locator("#conv-alert").textContent(), { timeout: 15_000 }).toBe("This conversation is open in another tab of this browser: continue there.");
    expect(await tab.page.locator("#reply").isDisabled()).toBe(true);
    expect(tab.errors.filter((e) => !e.startsWith("Failed to load resource"))).toEqual([]);
    await tab.page.close();
    // One History Member in the group, for the console and for the widget; nobody unverified.
    await expect.poll(() => page.locator("#members li[data-role=history]").count()).toBe(1);
    expect(await page.locator("#members li.unverified").count()).toBe(0);
    expect(await visitor.page.locator(".badges li[data-role=history]").count()).toBe(1);

    // The chat goes on both ways, through the widget that processed the rotation commit.
    await box.fill(AFTER[0]);
    await box.press("Enter");
    await expect.poll(() => page.locator("#log .text").last().textContent(), { timeout: 30_000 }).toBe(AFTER[0]);
    await page.locator("#reply").fill(AFTER[1]);
    await page.locator("#reply").press("Enter");
    await expect.poll(() => visitor.page.locator(".log .text").last().textContent(), { timeout: 30_000 }).toBe(AFTER[1]);
    await box.fill(AFTER[2]);
    await box.press("Enter");
    await expect.poll(() => page.locator("#log .text").allTextContents(), { timeout: 30_000 }).toEqual([...BEFORE, ...AFTER]);
    expect(await visitor.page.locator(".log .text").allTextContents()).toEqual([...BEFORE, ...AFTER]);
    expect(await page.locator("#conv-alert").textContent()).toBe("");

    // The conversation re-keyed in the background: its preview reads past the rotation, and
    // opened, it shows both generations and goes on both ways.
    await otherBox.fill(OTHER[2]);
    await otherBox.press("Enter");
    await expect.poll(() => second.locator(".preview").textContent(), { timeout: 30_000 }).toBe(OTHER[2]);
    await second.click();
    await expect.poll(() => page.locator("#log .text").allTextContents(), { timeout: 30_000 }).toEqual(OTHER.slice(0, 3));
    await expect.poll(() => page.locator("#reply").isEnabled(), { timeout: 30_000 }).toBe(true);
    expect(await page.locator("#members li[data-role=history]").count()).toBe(1);
    await page.locator("#reply").fill(OTHER[3]);
    await page.locator("#reply").press("Enter");
    await expect.poll(() => other.page.locator(".log .text").allTextContents(), { timeout: 30_000 }).toEqual([...OTHER]);
    expect(await other.page.locator(".badges li[data-role=history]").count()).toBe(1);
    expect(await page.locator("#conv-alert").textContent()).toBe("");
    await inert(other);
    expect(other.errors.filter((e) => !e.startsWith("Failed to load resource"))).toEqual([]);
    await otherBrowser.close();

    // A reloaded console replays the log through both History Members: the preview in the
    // list and the conversation show everything, with nothing unreadable.
    await page.reload();
    await expect.poll(() => page.locator("#desk").isVisible(), { timeout: 30_000 }).toBe(true);
    await expect.poll(() => first.locator(".preview").textContent(), { timeout: 30_000 }).toBe(AFTER[2]);
    await first.click();
    await expect.poll(() => page.locator("#log .text").allTextContents(), { timeout: 30_000 }).toEqual([...BEFORE, ...AFTER]);
    expect(await page.locator("#log .msg .who").allTextContents()).toEqual(["Visitor", "You", "Visitor", "Visitor", "You", "Visitor"]);
    await expect.poll(() => page.locator("#reply").isEnabled(), { timeout: 30_000 }).toBe(true);
    expect(await page.locator("#conv-alert").textContent()).toBe("");
    // Already sealed to version 2: a reloaded console does not rotate again.
    expect(await generations(page, world.tenant, id)).toEqual([[1, "retired", 1], [2, "active", 2]]);
    await page.locator("#reply").fill("after a reload: all good");
    await page.locator("#reply").press("Enter");
    await expect.poll(() => visitor.page.locator(".log .text").last().textContent(), { timeout: 30_000 }).toBe("after a reload: all good");

    // A device that holds only version 1 (a supervisor's, enrolled with the old key file):
    // its replay reads what was said before the rotation, and nothing after it.
    supBrowser = await launch();
    const sup = await watchedPage(supBrowser.context);
    await signInAndEnrol(sup.page, world, world.supervisor, "supervisor");
    const teamItem = sup.page.locator(`#team li button[data-conversation="${id}"]`);
    await expect.poll(() => teamItem.count(), { timeout: 30_000 }).toBe(1);
    await teamItem.click();
    const unreadable = /^(\d+) messages were written under a team key this device was not given and cannot be read\.$/;
    await expect.poll(() => sup.page.locator("#conv-alert").textContent(), { timeout: 30_000 }).toMatch(unreadable);
    expect(await sup.page.locator("#log .text").allTextContents()).toEqual(BEFORE);
    const count = Number(unreadable.exec((await sup.page.locator("#conv-alert").textContent()) ?? "")?.[1]);
    expect(count).toBeGreaterThanOrEqual(AFTER.length + 1);

    // A Welcome lost on the way: version 3, rotated while every Welcome this console sends is
    // dropped before the server. The rotation commits are sequenced, their Welcomes stay
    // journaled; a reload (still dropping) keeps them; once they get through, the console
    // delivers them, so the third History Member reads what follows.
    let dropping = true;
    let dropped = 0;
    await page.routeWebSocket(/\/api\/ws/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((m) => {
        if (dropping && typeof m === "string" && (JSON.parse(m) as { k?: unknown }).k === "welcome") dropped += 1;
        else server.send(m);
      });
      server.onMessage((m) => ws.send(m));
    });
    await page.reload();
    await expect.poll(() => page.locator("#desk").isVisible(), { timeout: 30_000 }).toBe(true);
    await first.click();
    await expect.poll(() => page.locator("#reply").isEnabled(), { timeout: 30_000 }).toBe(true);
    await world.admin(["keys", "team", "--tenant", world.tenant, "--team", world.team, "--root", key("root.key"), "--out", key("team3.key"), "--passphrase-stdin"],
      `${ROOT_PASS}\n${TEAM3_PASS}\n`);
    await world.admin(["keys", "rewrap", "--tenant", world.tenant, "--team", world.team, "--issuing", key("issuing.key"), "--team-key", key("team3.key"),
      "--passphrase-stdin"], `${ISSUING_PASS}\n${TEAM3_PASS}\n`);
    await world.admin(["keys", "history-pool", "--tenant", world.tenant, "--team", world.team, "--issuing", key("issuing.key"), "--team-key", key("team3.key"),
      "--count", "2", "--passphrase-stdin"], `${ISSUING_PASS}\n${TEAM3_PASS}\n`);
    const three = [[1, "retired", 1], [2, "retired", 2], [3, "active", 3]];
    await expect.poll(() => generations(page, world.tenant, id), { timeout: 90_000, interval: 500 }).toEqual(three);
    await expect.poll(() => generations(page, world.tenant, otherId), { timeout: 60_000, interval: 500 }).toEqual(three);
    await expect.poll(() => dropped, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    expect(await welcomedLast(page, world.tenant, id)).toBe(false);
    expect(await welcomedLast(page, world.tenant, otherId)).toBe(false);
    // Retried quietly: the agent is not alarmed by what the console is still delivering.
    expect(await page.locator("#conv-alert").textContent()).toBe("");
    await page.reload();
    await expect.poll(() => page.locator("#desk").isVisible(), { timeout: 30_000 }).toBe(true);
    const before = dropped;
    await expect.poll(() => dropped, { timeout: 30_000 }).toBeGreaterThan(before);
    dropping = false;
    await expect.poll(() => welcomedLast(page, world.tenant, id), { timeout: 60_000, interval: 500 }).toBe(true);
    await expect.poll(() => welcomedLast(page, world.tenant, otherId), { timeout: 60_000, interval: 500 }).toBe(true);
    await box.fill("third key: does it still work?");
    await box.press("Enter");
    await expect.poll(() => first.locator(".preview").textContent(), { timeout: 30_000 }).toBe("third key: does it still work?");
    await first.click();
    await expect.poll(() => page.locator("#log .text").last().textContent(), { timeout: 30_000 }).toBe("third key: does it still work?");
    expect(await page.locator("#log .text").count()).toBe(BEFORE.length + AFTER.length + 2);
    expect(await page.locator("#conv-alert").textContent()).toBe("");
    await page.unrouteAll();

    // The supervisor's device was given version 3 by that rewrap (it is a team member now),
    // never version 2: its console picks the new key up, and its replay reads the first and
    // the third History Member's parts, still counting the second's unreadable.
    await expect.poll(() => teamItem.locator(".preview").textContent(), { timeout: 60_000 }).toBe("third key: does it still work?");
    await teamItem.click();
    await expect.poll(() => sup.page.locator("#log .text").allTextContents(), { timeout: 30_000 }).toEqual([...BEFORE, "third key: does it still work?"]);
    expect(Number(unreadable.exec((await sup.page.locator("#conv-alert").textContent()) ?? "")?.[1])).toBe(count);
    await inert(sup);
    expect(sup.errors.filter((e) => !e.startsWith("Failed to load resource"))).toEqual([]);

    await inert(agent);
    await inert(visitor);
    expect(agent.errors.filter((e) => !e.startsWith("Failed to load resource"))).toEqual([]);
    expect(visitor.errors.filter((e) => !e.startsWith("Failed to load resource"))).toEqual([]);
    // The only refused requests: no session before sign-in, and the rotation's 409s.
    expect(refused.filter((r) => !/^404 GET \/api\/tenants\/[^/]+\/conversations\/[^/]+\/(history-member|entries)$/.test(r))).toEqual(["401 GET /api/auth/session"]);
    expect(rotations.every((s) => s === 200 || s === 409)).toBe(true);
  });
});
