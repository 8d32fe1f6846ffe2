// What a transfer to another team carries over, in Chromium against a real `sealdesk serve
// --web-dir` (docs/e2ee.md, "Transfer to another team"): Support's agent chats, writes an
// internal note and transfers to Billing in the console, which re-seals the History Member
// bundle and the note for Billing (console/carry.ts). Billing's agent, in another browser,
// reads what was said before the transfer in the queue preview and in the conversation, and
// the note as written by Support's agent and carried over by them, before any re-key.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launch, watchedPage, type Browser } from "./chromium.js";
import { inert, signInAndEnrol, visitorStarts } from "./console-steps.js";
import { serveShop, startConsoleWorld, type ConsoleWorld } from "./console-world.js";
import { billing, billingAgentSignsIn } from "./team-billing.js";

const FIRST = "My invoice is wrong.";
const HANDOVER = "Support here: Billing will fix it.";
const NOTE = "Customer since 2019; refund approved by Support.";

describe("a transfer to another team carries the history and the notes", () => {
  let world: ConsoleWorld;
  let browser: Browser;
  let other: Browser;

  beforeAll(async () => {
    world = await startConsoleWorld();
    serveShop(world);
    browser = await launch();
    other = await launch();
  });
  afterAll(async () => {
    await other?.close();
    await browser?.close();
    await world?.stop();
  });

  it("lets Billing's agent read what Support said and noted before the transfer", async () => {
    const { agent: boAccount } = await billing(world);
    const jane = await watchedPage(browser.context);
    await signInAndEnrol(jane.page, world, world.agent, "agent");
    const bo = await watchedPage(other.context);
    await billingAgentSignsIn(bo.page, world, boAccount);

    const visitor = await watchedPage(browser.context);
    await visitor.page.goto(`${world.host.origin}/`);
    await visitorStarts(visitor.page, "Ada", FIRST);
    const item = jane.page.locator("#queue li button");
    await expect.poll(() => item.locator(".preview").allTextContents(), { timeout: 30_000 }).toEqual([FIRST]);
    await item.click();
    await jane.page.getByRole("button", { name: "Claim" }).click();
    await expect.poll(() => jane.page.locator("#reply").isEnabled(), { timeout: 30_000 }).toBe(true);
    await jane.page.locator("#reply").fill(HANDOVER);
    await jane.page.locator("#reply").press("Enter");
    await expect.poll(() => visitor.page.locator(".log .text").last().textContent(), { timeout: 30_000 }).toBe(HANDOVER);
    await jane.page.locator("#note-text").fill(NOTE);
    await jane.page.getByRole("button", { name: "Add internal note" }).click();
    await expect.poll(() => jane.page.locator("#notes .text").allTextContents(), { timeout: 15_000 }).toEqual([NOTE]);

    await jane.page.getByLabel("Transfer to").selectOption({ label: "Billing" });
    await jane.page.getByRole("button", { name: "Transfer" }).click();
    await expect.poll(() => jane.page.locator("#typing").textContent(), { timeout: 15_000 }).toContain("Transferred to Billing.");

    // Billing's queue preview reads the first generation through the copy Jane carried over.
    const queued = bo.page.locator("#queue li button");
    await expect.poll(async () => (await queued.locator(".preview").allTextContents()).join(" "), { timeout: 30_000 }).toMatch(/invoice is wrong|Billing will fix it/);
    await queued.click();
    await bo.page.getByRole("button", { name: "Claim" }).click();
    await expect.poll(() => bo.page.locator("#reply").isEnabled(), { timeout: 30_000 }).toBe(true);
    await expect.poll(() => bo.page.locator("#log .text").allTextContents(), { timeout: 30_000 }).toEqual(expect.arrayContaining([FIRST, HANDOVER]));
    await expect.poll(() => bo.page.locator("#notes .text").allTextContents(), { timeout: 15_000 }).toEqual([NOTE]);
    const author = (await bo.page.locator("#notes .note-author").textContent()) ?? "";
    expect(author).toMatch(/ · agent · carried over by /);
    expect(await bo.page.locator("#notes-status").textContent()).toBe("");
    await inert(jane);
    await inert(bo);
    await inert(visitor);
  });
});
