// Internal notes and canned responses in the console (docs/e2ee.md "Internal notes and
// canned responses"), in Debian's Chromium against a real `sealdesk serve`: an agent chatting
// with a widget visitor writes an internal note; a supervisor in another browser reads it with
// the agent's certified name marked verified, and answers with a note of their own; the
// visitor's widget never shows either. The supervisor saves a canned response; the agent, who
// may not manage them, inserts it into the reply, edits it and sends it, and the visitor reads
// it. Markup in notes, canned responses and the supervisor's name stays text. What the server
// stores is SDT1 ciphertext.

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launch, watchedPage, type Browser } from "./chromium.js";
import { inert, signInAndEnrol, visitorStarts } from "./console-steps.js";
import { startConsoleWorld, SUPERVISOR_NAME, type ConsoleWorld, serveShop } from "./console-world.js";

const FIRST = "Hello, my order 1042 has not arrived";
const NOTE = `VIP <b>customer</b><img src=x onerror="window.__xss=5">, refund approved`;
const REPLY_NOTE = `Agreed <script>window.__xss=6</script>`;
const CANNED_TITLE = `<i>Refund</i> policy`;
const CANNED_TEXT = `Refunds arrive within 3 days <img src=x onerror="window.__xss=7">.`;
const EDITED = " Anything else?";
const SHOTS = join(dirname(fileURLToPath(import.meta.url)), "../../docs/screenshots");

/** What the signed-in console's session gets from a REST path. */
async function get(page: Page, path: string): Promise<unknown> {
  return page.evaluate(async (p) => (await fetch(p)).json() as Promise<unknown>, path);
}

describe("internal notes and canned responses in the console", () => {
  let world: ConsoleWorld;
  let browser: Browser;
  let supBrowser: Browser;

  beforeAll(async () => {
    world = await startConsoleWorld();
    serveShop(world);
    browser = await launch();
    supBrowser = await launch();
  });
  afterAll(async () => {
    await supBrowser?.close();
    await browser?.close();
    await world?.stop();
  });

  it("notes stay with staff, verified; canned responses are inserted and sent", { timeout: 300_000 }, async () => {
    const agent = await watchedPage(browser.context);
    const page = agent.page;
    await signInAndEnrol(page, world, world.agent, "agent");
    const visitor = await watchedPage(browser.context);
    await visitor.page.goto(`${world.host.origin}/`);
    await visitorStarts(visitor.page, "Ada", FIRST);
    const item = page.locator("#queue li button");
    await expect.poll(() => item.locator(".preview").allTextContents(), { timeout: 30_000 }).toEqual([FIRST]);
    const id = (await item.getAttribute("data-conversation")) ?? "";
    await item.click();
    await page.getByRole("button", { name: "Claim" }).click();
    await expect.poll(() => page.locator("#reply").isEnabled(), { timeout: 30_000 }).toBe(true);

    // The agent's note: marked internal, the author verified, the markup as text.
    const panel = page.locator("#notes-panel");
    expect(await panel.isVisible()).toBe(true);
    expect(await panel.locator(".internal-badge").textContent()).toBe("Staff only · never sent to the visitor");
    await expect.poll(() => page.locator("#notes").textContent()).toBe("No internal notes yet.");
    await page.getByLabel("New internal note (staff only)").fill(NOTE);
    await page.getByRole("button", { name: "Add internal note" }).click();
    await expect.poll(() => page.locator("#notes .note .text").allTextContents(), { timeout: 15_000 }).toEqual([NOTE]);
    expect(await page.locator("#notes .note .note-author").textContent()).toBe(`${world.agent.name} · agent`);
    expect(await page.locator("#notes .note .badge").textContent()).toBe("verified");
    expect(await panel.locator("img, b, script").count()).toBe(0);

    // The server holds ciphertext: SDT1, no trace of the text.
    const stored = (await get(page, `/api/tenants/${world.tenant}/conversations/${id}/notes`)) as { notes: Array<{ p: string }> };
    expect(stored.notes.length).toBe(1);
    const sealed = atob(stored.notes[0]?.p ?? "");
    expect(sealed.startsWith("SDT1")).toBe(true);
    expect(sealed.includes("VIP")).toBe(false);

    // A supervisor in another browser reads it verified, and adds one.
    const sup = await watchedPage(supBrowser.context);
    await signInAndEnrol(sup.page, world, world.supervisor, "supervisor");
    const theirs = sup.page.locator(`#team li button[data-conversation="${id}"]`);
    await expect.poll(() => theirs.count(), { timeout: 30_000 }).toBe(1);
    await theirs.click();
    await expect.poll(() => sup.page.locator("#notes .note .text").allTextContents(), { timeout: 30_000 }).toEqual([NOTE]);
    expect(await sup.page.locator("#notes .note .note-author").textContent()).toBe(`${world.agent.name} · agent`);
    expect(await sup.page.locator("#notes .note .badge").textContent()).toBe("verified");
    await sup.page.getByLabel("New internal note (staff only)").fill(REPLY_NOTE);
    await sup.page.getByRole("button", { name: "Add internal note" }).click();
    await expect.poll(() => sup.page.locator("#notes .note .text").allTextContents(), { timeout: 15_000 }).toEqual([NOTE, REPLY_NOTE]);
    // The agent's panel follows; the supervisor's name (markup in it) is text.
    await expect.poll(() => page.locator("#notes .note .text").allTextContents(), { timeout: 20_000 }).toEqual([NOTE, REPLY_NOTE]);
    expect(await page.locator("#notes .note .note-author").allTextContents()).toEqual([`${world.agent.name} · agent`, `${SUPERVISOR_NAME} · supervisor`]);
    expect(await panel.locator("img, b, script").count()).toBe(0);

    // Canned responses: the supervisor manages them, the agent only picks.
    await sup.page.locator("#canned summary").click();
    await expect.poll(() => sup.page.locator("#canned-list").textContent()).toBe("This team has no canned responses yet.");
    await sup.page.getByLabel("Title", { exact: true }).fill(CANNED_TITLE);
    await sup.page.getByLabel("Text", { exact: true }).fill(CANNED_TEXT);
    await sup.page.getByRole("button", { name: "Save canned response" }).click();
    await expect.poll(() => sup.page.locator("#canned-status").textContent(), { timeout: 15_000 }).toBe("Canned response saved, end-to-end encrypted to the team.");
    const cannedList = (await get(sup.page, `/api/tenants/${world.tenant}/teams/${world.team}/canned-responses`)) as { canned_responses: Array<{ p: string }> };
    expect(atob(cannedList.canned_responses[0]?.p ?? "").startsWith("SDT1")).toBe(true);
    expect(atob(cannedList.canned_responses[0]?.p ?? "").includes("Refunds")).toBe(false);

    await page.locator("#canned summary").click();
    expect(await page.locator("#canned-form").count()).toBe(0);
    const insert = page.getByRole("button", { name: `Insert “${CANNED_TITLE}”` });
    await expect.poll(() => insert.count(), { timeout: 15_000 }).toBe(1);
    expect(await page.locator("#canned-list .canned-item .text").allTextContents()).toEqual([CANNED_TEXT]);
    expect(await page.locator("#canned-list .canned-item .muted").textContent()).toBe(` by ${SUPERVISOR_NAME} · supervisor `);
    expect(await page.locator("#canned img, #canned i").count()).toBe(0);
    await insert.click();
    expect(await page.locator("#reply").inputValue()).toBe(CANNED_TEXT);
    await page.screenshot({ path: join(SHOTS, "console-notes.png"), fullPage: true });
    await page.locator("#reply").press("End");
    await page.locator("#reply").pressSequentially(EDITED);
    await page.locator("#reply").press("Enter");
    await expect.poll(() => visitor.page.locator(".log .text").allTextContents(), { timeout: 30_000 }).toEqual([FIRST, CANNED_TEXT + EDITED]);

    // The visitor's widget never showed a note; nothing ran anywhere.
    expect(await visitor.page.getByText(/VIP|Agreed/).count()).toBe(0);
    expect(await visitor.page.locator(".log").textContent()).not.toContain("VIP");
    for (const w of [agent, sup, visitor]) await inert(w);

    // The supervisor deletes it; the agent's list empties when opened again.
    await sup.page.locator("#canned-list .canned-item").getByRole("button", { name: "Delete" }).click();
    await expect.poll(() => sup.page.locator("#canned-status").textContent(), { timeout: 15_000 }).toBe("Canned response deleted.");
    await page.locator("#canned summary").click();
    await page.locator("#canned summary").click();
    await expect.poll(() => page.locator("#canned-list").textContent(), { timeout: 15_000 }).toBe("This team has no canned responses yet.");
  });
});
