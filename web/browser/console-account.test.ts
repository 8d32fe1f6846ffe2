// The console's own account in Chromium against a real `sealdesk serve` whose public URL is
// the console's address (passkeys on): availability as the router sees it, the sessions list
// and "sign out everywhere else", TOTP enrolment with the secret read off the screen, recovery
// codes behind the re-authentication prompt, a passkey registered in Chromium's virtual
// authenticator (CDP WebAuthn), then a sign-out and a sign-in with that passkey.

import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RestClient } from "../shared/protocol/rest.js";
import { launch, watchedPage, type Browser } from "./chromium.js";
import { inert, signInAndEnrol, visitorStarts } from "./console-steps.js";
import { totpCode } from "./console-totp.js";
import { startConsoleWorld, type ConsoleWorld, serveShop } from "./console-world.js";

const SHOTS = join(dirname(fileURLToPath(import.meta.url)), "../../docs/screenshots");
const PASSKEY_NAME = `Laptop <img src=x onerror="window.__xss=5">`;

async function shot(page: Page, name: string): Promise<void> {
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `console-${name}.png`) });
}

/** What the server says now, asked from the page (its cookie). */
function availabilityOf(page: Page): Promise<unknown> {
  return page.evaluate(() => fetch("/api/account/availability").then((r) => r.json()));
}

describe("the console's account page in Chromium", () => {
  let world: ConsoleWorld;
  let browser: Browser;

  beforeAll(async () => {
    world = await startConsoleWorld({ passkeys: true });
    serveShop(world);
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await world?.stop();
  });

  it("shows and sets availability, manages TOTP, recovery codes, sessions and passkeys, and signs in with a passkey", async () => {
    const agent = await watchedPage(browser.context);
    const page = agent.page;
    await signInAndEnrol(page, world, world.agent, "agent");

    // Availability: what the router sees, read back from the server.
    const now = page.locator("#availability-now");
    await expect.poll(() => now.textContent(), { timeout: 15_000 }).toBe("online · 0 of 5");
    const [put] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/api/account/availability") && r.request().method() === "PUT"),
      page.getByLabel("Capacity").fill("2").then(() => page.getByLabel("Capacity").press("Enter")),
    ]);
    expect(put.status()).toBe(204);
    expect(put.request().postDataJSON()).toEqual({ availability: "online", capacity: 2 });
    await expect.poll(() => now.textContent()).toBe("online · 0 of 2");
    expect(await availabilityOf(page)).toEqual({ availability: "online", capacity: 2, active: 0 });
    await page.getByLabel("Status").selectOption("away");
    await expect.poll(() => now.textContent()).toBe("away · 0 of 2");
    expect(await availabilityOf(page)).toEqual({ availability: "away", capacity: 2, active: 0 });
    // Out of range: refused here, nothing sent, the old value back.
    let puts = 0;
    page.on("request", (r) => void (r.method() === "PUT" && r.url().endsWith("/api/account/availability") && puts++));
    await page.getByLabel("Capacity").fill("0");
    await page.getByLabel("Capacity").press("Enter");
    await expect.poll(() => now.textContent()).toBe("Capacity is a number from 1 to 100.");
    expect(await page.getByLabel("Capacity").inputValue()).toBe("2");
    expect(await page.getByLabel("Capacity").getAttribute("aria-invalid")).toBe("true");
    expect(puts).toBe(0);
    await page.getByLabel("Status").selectOption("online");
    await expect.poll(() => now.textContent()).toBe("online · 0 of 2");
    // A claimed conversation counts: "1 of 2".
    const visitor = await watchedPage(browser.context);
    await visitor.page.goto(`${world.host.origin}/`);
    await visitorStarts(visitor.page, "Ada", "Hello");
    const item = page.locator("#queue li button");
    await expect.poll(() => item.count(), { timeout: 30_000 }).toBe(1);
    await item.click();
    await page.getByRole("button", { name: "Claim" }).click();
    await expect.poll(() => now.textContent(), { timeout: 15_000 }).toBe("online · 1 of 2");
    await visitor.page.close();

    // The account page, from the header: focus moves to its heading.
    const cli = await new RestClient(world.apiUrl).login(world.tenant, world.agent.email, world.agent.password);
    await page.getByRole("button", { name: "Account" }).click();
    expect(await page.getByRole("button", { name: "Account" }).getAttribute("aria-current")).toBe("page");
    expect(await page.locator("#desk").isVisible()).toBe(false);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("account-title");
    // Sessions: this browser (current) and the terminal client's login.
    const sessions = page.locator("#sessions li");
    await expect.poll(() => sessions.count()).toBe(2);
    expect(await page.locator("#sessions li[aria-current=true]").getAttribute("data-kind")).toBe("browser");
    expect(await page.locator("#sessions li[data-kind=cli] strong").textContent()).toBe("Terminal client");
    await page.getByRole("button", { name: "Sign out everywhere else" }).click();
    await expect.poll(() => page.locator("#account-status").textContent()).toBe("1 other session ended.");
    await expect.poll(() => sessions.count()).toBe(1);
    const cliNow = await fetch(new URL("/api/auth/session", world.apiUrl), { headers: { authorization: `Bearer ${cli.token}` } });
    expect(cliNow.status).toBe(401);

    // TOTP: the secret is on the screen (text, QR image, otpauth link); a wrong code is refused.
    expect(await page.locator("#totp-state").textContent()).toBe("No authenticator app is set up.");
    await page.getByRole("button", { name: "Set up an authenticator app" }).click();
    const secretEl = page.locator("#totp-secret");
    await expect.poll(() => secretEl.textContent()).toMatch(/^[A-Z2-7]{16,}=*$/);
    const secret = (await secretEl.textContent()) ?? "";
    expect(await page.locator("#totp-uri").getAttribute("href")).toMatch(/^otpauth:\/\/totp\/.*secret=/);
    expect(await page.locator("#totp-qr").getAttribute("src")).toMatch(/^data:image\/svg\+xml;charset=utf-8,/);
    expect(await page.locator("#totp-qr").evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("totp-code");
    await page.getByLabel("Code from the app").fill(totpCode(secret) === "000000" ? "111111" : "000000");
    await page.getByRole("button", { name: "Confirm the code" }).click();
    await expect.poll(() => page.locator("#account-error").textContent()).toBe("That code is not right. Enter the current code from the app.");
    await page.getByLabel("Code from the app").fill(totpCode(secret));
    await page.getByRole("button", { name: "Confirm the code" }).click();
    const codes = page.locator("#recovery-codes li");
    await expect.poll(() => codes.count()).toBe(10);
    const first = await codes.allTextContents();
    expect(await page.locator("#totp-state").textContent()).toBe("An authenticator app is set up for this account.");
    expect(await page.locator("#totp-setup").isVisible()).toBe(false);
    await shot(page, "account");

    // New recovery codes behind the re-authentication prompt. The server asks for it when the
    // session's sign-in is older than five minutes; this one is fresh, so the route answers the
    // first request as the server would then. The prompt's own requests are real.
    let asked = 0;
    await page.route("**/api/account/recovery-codes", async (route) => {
      if (asked++ > 0) return route.continue();
      return route.fulfill({ status: 401, contentType: "application/json", body: JSON.stringify({ code: "reauthentication_required", message: "Sign in again" }) });
    });
    const csrfBefore = await page.evaluate(() => sessionStorage.getItem("sealdesk-console-csrf"));
    await page.getByRole("button", { name: "New recovery codes" }).click();
    const dialog = page.getByRole("dialog", { name: "Confirm it is you" });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("reauth-password");
    await shot(page, "reauth");
    await page.locator("#reauth-password").fill("not the password");
    await page.locator("#reauth-totp").fill(totpCode(secret, Date.now() + 30_000));
    await dialog.getByRole("button", { name: "Confirm", exact: true }).click();
    await expect.poll(() => page.locator("#reauth-error").textContent()).toBe("That is not right. Check the password and the code.");
    await page.locator("#reauth-password").fill(world.agent.password);
    await page.locator("#reauth-totp").fill(totpCode(secret, Date.now() + 30_000));
    await dialog.getByRole("button", { name: "Confirm", exact: true }).click();
    await expect.poll(() => dialog.count()).toBe(0);
    await expect.poll(() => page.locator("#recovery-intro").textContent()).toContain("New recovery codes");
    const second = await codes.allTextContents();
    expect(second.length).toBe(10);
    expect(second.some((c) => first.includes(c))).toBe(false);
    expect(asked).toBe(2);
    // The re-authentication replaced the session: a new CSRF token, and the old one is gone.
    expect(await page.evaluate(() => sessionStorage.getItem("sealdesk-console-csrf"))).not.toBe(csrfBefore);
    await page.unroute("**/api/account/recovery-codes");
    // Escape closes a prompt without doing anything.
    await page.route("**/api/account/recovery-codes", (route) =>
      route.fulfill({ status: 401, contentType: "application/json", body: JSON.stringify({ code: "reauthentication_required", message: "Sign in again" }) }));
    await page.getByRole("button", { name: "New recovery codes" }).click();
    await expect.poll(() => dialog.isVisible()).toBe(true);
    await page.keyboard.press("Escape");
    await expect.poll(() => dialog.count()).toBe(0);
    await expect.poll(() => page.locator("#account-error").textContent()).toBe("New recovery codes failed (reauthentication_required).");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("New recovery codes");
    await page.unroute("**/api/account/recovery-codes");

    // A passkey in Chromium's virtual authenticator (user verification on), named with markup.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
    });
    expect(await page.locator("#passkeys li").allTextContents()).toEqual(["No passkey yet."]);
    await page.getByLabel("Name of the new passkey").fill(PASSKEY_NAME);
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await expect.poll(() => page.locator("#account-status").textContent(), { timeout: 15_000 }).toBe(`Passkey “${PASSKEY_NAME}” added.`);
    await expect.poll(() => page.locator("#passkeys li strong").allTextContents()).toEqual([PASSKEY_NAME]);
    expect(await page.locator("#passkeys img, #account img:not(#totp-qr)").count()).toBe(0);
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    expect(credentials.length).toBe(1);
    const listed = (await page.evaluate(() => fetch("/api/account/passkeys").then((r) => r.json()))) as Array<{ name: string; last_used_at?: string | null }>;
    expect(listed.map((p) => p.name)).toEqual([PASSKEY_NAME]);
    expect(listed[0]?.last_used_at ?? null).toBeNull();

    // Log out, then sign in with the passkey alone (it verified the user): back at the desk.
    await page.getByRole("button", { name: "Log out" }).click();
    await expect.poll(() => page.locator("#login").isVisible(), { timeout: 15_000 }).toBe(true);
    await shot(page, "login-passkey");
    await page.getByLabel("E-mail").fill(world.agent.email);
    await page.getByRole("button", { name: "Use a passkey" }).click();
    await expect.poll(() => page.locator("#desk").isVisible(), { timeout: 60_000 }).toBe(true);
    expect(await page.locator("#who").textContent()).toContain("agent");
    await expect.poll(() => now.textContent(), { timeout: 15_000 }).toBe("online · 1 of 2");
    const used = (await page.evaluate(() => fetch("/api/account/passkeys").then((r) => r.json()))) as Array<{ last_used_at?: string | null }>;
    expect(used[0]?.last_used_at ?? null).not.toBeNull();

    // A passkey that is not there: the browser's dialog fails, the console explains.
    await cdp.send("WebAuthn.clearCredentials", { authenticatorId });
    await page.getByRole("button", { name: "Log out" }).click();
    await expect.poll(() => page.locator("#login").isVisible(), { timeout: 15_000 }).toBe(true);
    await page.getByLabel("E-mail").fill(world.agent.email);
    await page.getByRole("button", { name: "Use a passkey" }).click();
    await expect.poll(() => page.locator("#login-error").textContent(), { timeout: 30_000 }).toBe("The passkey was not used. Try again, or sign in with your password.");
    expect(await page.locator("#desk").isVisible()).toBe(false);

    await inert(agent);
    expect(agent.errors.filter((e) => !e.startsWith("Failed to load resource"))).toEqual([]);
  });
});
