// The widget through a long outage (widget/retry.ts, log.ts), in Debian's Chromium against a
// real server, with the page's clock under the test's control (Playwright's clock: time
// flows, and the test jumps it forward): the widget keeps trying well past the 8 tries it
// used to stop at, never waits more than 30 s, shows the next try's countdown with a "Retry
// now" button that works from the keyboard, comes back at once when the browser is online
// again, resumes the conversation after the last entry, and stops only on a refusal that no
// retry can fix.

import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launch, watchedPage, type Browser } from "./chromium.js";
import { FIELDS, NOTICE, startWorld, type World } from "./fixture.js";
import { shopPage } from "./pages.js";

const TICKETS = "**/api/widget/*/*/tickets";

async function startChat(page: Page, name: string, first: string): Promise<void> {
  await page.getByRole("button", { name: "Open chat" }).click();
  const dialog = page.getByRole("dialog");
  await expect.poll(() => dialog.getByText(NOTICE.text).count()).toBe(1);
  await dialog.getByRole("button", { name: "I agree, start the chat" }).click();
  await dialog.getByLabel(`${FIELDS[0]?.label} (required)`).fill(name);
  await dialog.getByRole("button", { name: "Continue" }).click();
  const box = dialog.getByLabel("Your message");
  await box.fill(first);
  await box.press("Enter");
}

const logTexts = (page: Page) => page.locator(".log .text").allTextContents();
const alertText = (page: Page) => page.locator(".alert").textContent();

describe("the widget through a long outage", () => {
  let world: World;
  let browser: Browser;

  beforeAll(async () => {
    world = await startWorld();
    world.host.set("/", shopPage(world.snippet(), world.host.origin, world.relay.url));
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await world?.stop();
  });

  it("keeps retrying with capped backoff, comes back by itself or on request, and stops only on a refusal", { timeout: 300_000 }, async () => {
    await browser.context.clock.install();
    const { page, errors, dialogs } = await watchedPage(browser.context);
    await page.goto(`${world.host.origin}/`);
    await startChat(page, "Ada", "Hello, is my parcel lost?");
    const agent = world.agent;
    const c = await agent.waitForConversation("queued", new Set());
    await agent.rest.claim(world.server.tenant, c);
    await agent.open(c);
    await agent.join(c);
    await agent.say(c, "Let me check.");
    const said = ["Hello, is my parcel lost?", "Let me check."];
    await expect.poll(() => logTexts(page), { timeout: 30_000 }).toEqual(said);

    const bar = page.locator(".reconnect");
    const spoken = bar.locator("[aria-live]");
    const countdown = bar.locator(".countdown");
    const retry = page.getByRole("dialog").getByRole("button", { name: "Retry now" });
    /** Waits until the widget waits before try `attempt`, then jumps past that wait. */
    const skipWait = async (attempt: number): Promise<void> => {
      await expect.poll(() => spoken.getAttribute("data-key"), { timeout: 20_000 }).toBe(`${attempt}w`);
      await page.clock.fastForward(31_000);
    };

    // 1. The network is down for a long time (every ticket request fails): fifteen tries,
    // each wait at most 30 s, the countdown and "Retry now" on the screen all along.
    let tries = 0;
    await page.route(TICKETS, (route) => {
      tries += 1;
      return route.abort("internetdisconnected");
    });
    world.relay.cut();
    await expect.poll(() => alertText(page)).toBe("The connection was lost. Reconnecting…");
    await expect.poll(() => bar.isVisible()).toBe(true);
    expect(await retry.isVisible()).toBe(true);
    for (let attempt = 1; attempt <= 15; attempt++) await skipWait(attempt);
    await expect.poll(() => spoken.getAttribute("data-key"), { timeout: 20_000 }).toBe("16w");
    expect(tries).toBe(15);
    const seconds = Number(/^Next try in (\d+) s\.$/.exec((await countdown.textContent()) ?? "")?.[1]);
    expect(seconds).toBeGreaterThanOrEqual(14);
    expect(seconds).toBeLessThanOrEqual(30);
    expect(await spoken.textContent()).toMatch(/^Next try in \d+ s\.$/);
    expect(await alertText(page)).toBe("The connection was lost. Reconnecting…");

    // The agent writes meanwhile; the network comes back; the visitor presses "Retry now"
    // with the keyboard: back at once (the planned try is 15 s or more away), the gap once.
    await agent.say(c, "Found it: it ships today.");
    said.push("Found it: it ships today.");
    await page.unroute(TICKETS);
    await retry.focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => bar.isVisible(), { timeout: 10_000 }).toBe(false);
    await expect.poll(() => alertText(page), { timeout: 10_000 }).toBe("");
    await expect.poll(() => logTexts(page), { timeout: 10_000 }).toEqual(said);
    // The focus did not fall onto the page: the composer has it.
    expect(await page.evaluate(() => document.querySelector("[data-sealdesk-widget]")?.shadowRoot?.activeElement?.id)).toBe("sd-input");

    // 2. The browser goes offline, then online again: the `online` event tries at once.
    await browser.context.setOffline(true);
    world.relay.cut();
    for (let attempt = 1; attempt <= 5; attempt++) await skipWait(attempt);
    await expect.poll(() => spoken.getAttribute("data-key"), { timeout: 20_000 }).toBe("6w");
    await browser.context.setOffline(false);
    await expect.poll(() => bar.isVisible(), { timeout: 5_000 }).toBe(false);
    await expect.poll(() => alertText(page), { timeout: 5_000 }).toBe("");
    const box = page.getByRole("dialog").getByLabel("Your message");
    await box.fill("Thanks!");
    await box.press("Enter");
    expect((await agent.waitFor(c, (s) => s.body.kind === "text")).body).toEqual({ kind: "text", text: "Thanks!" });

    // 3. A refusal no retry fixes: an administrator no longer lets this website embed the
    // widget (tickets answer 403). The widget stops, says to reload, and asks no more.
    let asked = 0;
    page.on("request", (r) => {
      if (r.method() === "POST" && r.url().endsWith("/tickets")) asked += 1;
    });
    const res = await fetch(new URL(`/api/tenants/${world.server.tenant}/widget-origins`, world.server.url), {
      method: "PUT", headers: { authorization: `Bearer ${world.server.staffToken}`, "content-type": "application/json" },
      body: JSON.stringify({ origins: ["https://elsewhere.example"] }),
    });
    expect(res.status).toBe(200);
    world.relay.cut();
    await skipWait(1);
    await expect.poll(() => alertText(page), { timeout: 20_000 }).toBe("The connection was lost. Reload the page to continue.");
    expect(await bar.isVisible()).toBe(false);
    expect(asked).toBe(1);
    await page.clock.fastForward(120_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(asked).toBe(1);

    expect(dialogs).toEqual([]);
    expect(errors.filter((e) => !e.startsWith("Failed to load resource"))).toEqual([]);
  });
});
