// Canned responses after a team key rotation (docs/e2ee.md "Re-sealing canned responses after
// a rotation"), in Debian's Chromium against a real `sealdesk serve`: a supervisor manages
// the team's canned responses from the administration page (the only card a supervisor sees
// there), each shown with the team key version it is sealed to. The owner rotates the team
// key with the CLI; a new agent, given only the new version, cannot open the responses. Once
// the supervisor's console is back with the new key, it re-seals them (same titles and texts)
// to the new version with the server's compare-and-swap, and the new agent reads them in the
// conversation's picker. An edit from the page reaches the agent too. Markup stays text.

import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launch, watchedPage, type Browser } from "./chromium.js";
import { inert, signInAndEnrol, visitorStarts } from "./console-steps.js";
import { ISSUING_PASS, ROOT_PASS, startConsoleWorld, SUPERVISOR_NAME, type ConsoleWorld, serveShop } from "./console-world.js";

const TEAM2_PASS = "team key 2 passphrase 42";
const CANNED = [
  { title: "Refund <b>policy</b>", text: `Refunds arrive within 3 days <img src=x onerror="window.__xss=7">.` },
  { title: "Shipping", text: "Parcels ship the next working day." },
] as const;
const EDITED = "Parcels ship the same day before noon.";

/** The versions the administration page shows, row by row. */
const versions = (page: Page): Promise<string[]> => page.locator("#canned-admin-list .canned-version").allTextContents();

/** Signs in on a fresh browser and has the administrator certify its device with `teamKey` only. */
async function signInWithKey(page: Page, world: ConsoleWorld, who: { email: string; password: string }, teamKey: string, pass: string): Promise<void> {
  await page.goto(`${world.url}/console/?tenant=${world.tenant}`);
  await page.getByLabel("E-mail").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  const fp = page.locator("#fingerprint");
  await expect.poll(() => fp.textContent(), { timeout: 30_000 }).toMatch(/^([0-9a-f]{4} ){7}[0-9a-f]{4}$/);
  const shown = (await fp.textContent()) ?? "";
  const { devices } = (await world.admin(["keys", "devices", "--tenant", world.tenant, "--status", "pending"])) as { devices: Array<{ id: string; fingerprint: string }> };
  const mine = devices.find((d) => d.fingerprint === shown);
  if (mine === undefined) throw new Error("the device on the screen is not pending");
  await world.admin(["keys", "enrol", "--tenant", world.tenant, "--device", mine.id, "--fingerprint", shown, "--issuing", world.keyPath("issuing.key"), "--role", "agent",
    "--team-key", world.keyPath(teamKey), "--passphrase-stdin"], `${ISSUING_PASS}\n${pass}\n`);
  await expect.poll(() => page.locator("#desk").isVisible(), { timeout: 60_000 }).toBe(true);
}

describe("canned responses after a team key rotation", () => {
  let world: ConsoleWorld;
  let supBrowser: Browser;
  let agentBrowser: Browser;

  beforeAll(async () => {
    world = await startConsoleWorld();
    serveShop(world);
    supBrowser = await launch();
    agentBrowser = await launch();
  });
  afterAll(async () => {
    await agentBrowser?.close();
    await supBrowser?.close();
    await world?.stop();
  });

  it("the supervisor's console re-seals them to the new key, and a new agent reads them", { timeout: 300_000 }, async () => {
    // The supervisor's page: only the canned responses card.
    const sup = await watchedPage(supBrowser.context);
    await signInAndEnrol(sup.page, world, world.supervisor, "supervisor");
    const nav = sup.page.locator("#nav-admin");
    await expect.poll(() => nav.textContent()).toBe("Canned responses");
    await nav.click();
    const card = sup.page.locator("#canned-admin");
    await expect.poll(() => card.isVisible()).toBe(true);
    expect(await sup.page.locator("#staff-rows").isVisible()).toBe(false);
    expect(await sup.page.locator("#audit-title").isVisible()).toBe(false);
    await expect.poll(() => sup.page.locator("#canned-admin-list").textContent(), { timeout: 15_000 }).toBe("This team has no canned responses yet.");
    for (const c of CANNED) {
      await sup.page.locator("#canned-admin-new-title").fill(c.title);
      await sup.page.locator("#canned-admin-new-text").fill(c.text);
      await card.getByRole("button", { name: "Save canned response" }).click();
      await expect.poll(() => sup.page.locator("#canned-admin-status").textContent(), { timeout: 15_000 }).toBe("Canned response saved, end-to-end encrypted to the team.");
    }
    await expect.poll(() => versions(sup.page), { timeout: 15_000 }).toEqual(["key version 1", "key version 1"]);
    expect(await card.locator(".canned-title").allTextContents()).toEqual(CANNED.map((c) => c.title));
    expect(await card.locator("b, img").count()).toBe(0);
    await sup.page.close();

    // A member left: the owner makes version 2 and rewraps it to the team's devices.
    const made = await world.admin(["keys", "team", "--tenant", world.tenant, "--team", world.team, "--root", world.keyPath("root.key"), "--out", world.keyPath("team2.key"),
      "--passphrase-stdin"], `${ROOT_PASS}\n${TEAM2_PASS}\n`);
    expect(made.version).toBe(2);
    const rewrapped = await world.admin(["keys", "rewrap", "--tenant", world.tenant, "--team", world.team, "--issuing", world.keyPath("issuing.key"), "--team-key",
      world.keyPath("team2.key"), "--passphrase-stdin"], `${ISSUING_PASS}\n${TEAM2_PASS}\n`);
    expect(rewrapped.devices).toBe(1);

    // A new agent, given only version 2, cannot open them yet.
    const agent = await watchedPage(agentBrowser.context);
    const page = agent.page;
    await signInWithKey(page, world, world.nextAgent, "team2.key", TEAM2_PASS);
    const visitor = await watchedPage(agentBrowser.context);
    await visitor.page.goto(`${world.host.origin}/`);
    await visitorStarts(visitor.page, "Ada", "hello, a question");
    const item = page.locator("#queue li button");
    await expect.poll(() => item.count(), { timeout: 30_000 }).toBe(1);
    await item.click();
    await page.locator("#canned summary").click();
    await expect.poll(() => page.locator("#canned-status").textContent(), { timeout: 15_000 }).toBe("2 canned response(s) could not be verified or opened and are not shown.");
    expect(await page.locator("#canned-list .canned-item").count()).toBe(0);

    // The supervisor's console is back, holding version 2: it re-seals both to version 2.
    const back = await watchedPage(supBrowser.context);
    await back.page.goto(`${world.url}/console/?tenant=${world.tenant}`);
    await expect.poll(() => back.page.locator("#desk").isVisible(), { timeout: 60_000 }).toBe(true);
    await back.page.locator("#nav-admin").click();
    await expect.poll(() => versions(back.page), { timeout: 60_000, interval: 1_000 }).toEqual(["key version 2", "key version 2"]);
    const backCard = back.page.locator("#canned-admin");
    expect(await backCard.locator(".canned-title").allTextContents()).toEqual(CANNED.map((c) => c.title));
    expect(await backCard.locator(".canned-item .text").allTextContents()).toEqual(CANNED.map((c) => c.text));
    expect(await backCard.locator(".canned-item .muted").allTextContents()).toEqual(CANNED.map(() => ` by ${SUPERVISOR_NAME} · supervisor `));

    // The new agent reads them now, unchanged, the re-sealer verified as their author.
    await page.locator("#canned summary").click();
    await page.locator("#canned summary").click();
    await expect.poll(() => page.locator("#canned-list .canned-item .text").allTextContents(), { timeout: 15_000 }).toEqual(CANNED.map((c) => c.text));
    expect(await page.locator("#canned-status").textContent()).toBe("");
    expect(await page.locator("#canned img, #canned b").count()).toBe(0);

    // An edit from the page is sealed to version 2 too and reaches the agent.
    await backCard.getByRole("button", { name: `Edit “${CANNED[1].title}”` }).click();
    await back.page.locator("#canned-admin-list textarea").fill(EDITED);
    await backCard.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => back.page.locator("#canned-admin-status").textContent(), { timeout: 15_000 }).toBe("Canned response changed, end-to-end encrypted to the team's newest key.");
    expect(await versions(back.page)).toEqual(["key version 2", "key version 2"]);
    await page.locator("#canned summary").click();
    await page.locator("#canned summary").click();
    await expect.poll(() => page.locator("#canned-list .canned-item .text").allTextContents(), { timeout: 15_000 }).toEqual([CANNED[0].text, EDITED]);
    for (const w of [agent, back, visitor]) await inert(w);
  });
});
