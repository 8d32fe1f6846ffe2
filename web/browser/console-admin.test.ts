// The console's administration page in Chromium against a real `sealdesk serve`: staff (role,
// disable and enable, sign out everywhere), an invitation accepted over REST, the tenant's
// settings, the widget's websites, an inbox's notice and pre-chat fields (read back by the
// widget config), the embed code (its integrity checked by Chromium loading the widget on
// another origin, and a tampered one refused), a pending device certified with the command
// the page shows, and the audit log.

import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RestClient } from "../shared/protocol/rest.js";
import { launch, watchedPage, type Browser } from "./chromium.js";
import { inert } from "./console-steps.js";
import { startConsoleWorld, SUPERVISOR_NAME, type ConsoleWorld } from "./console-world.js";
import { NOTICE } from "./fixture.js";

const SHOTS = join(dirname(fileURLToPath(import.meta.url)), "../../docs/screenshots");

async function shot(page: Page, name: string): Promise<void> {
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `console-${name}.png`) });
}

/** A customer's website on its own loopback origin: `html` at `/`. */
async function site(html: () => string): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(html());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe("the console's administration page in Chromium", () => {
  let world: ConsoleWorld;
  let browser: Browser;

  beforeAll(async () => {
    world = await startConsoleWorld();
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await world?.stop();
  });

  it("manages staff, invitations, settings, the widget, devices and shows the audit log", async () => {
    const watched = await watchedPage(browser.context);
    const page = watched.page;
    await page.goto(`${world.url}/console/?tenant=${world.tenant}`);
    await page.getByLabel("E-mail").fill(world.adminUser.email);
    await page.getByLabel("Password").fill(world.adminUser.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    // The admin's own browser waits for certification; the administration page works already.
    const fp = page.locator("#fingerprint");
    await expect.poll(() => fp.textContent(), { timeout: 30_000 }).toMatch(/^([0-9a-f]{4} ){7}[0-9a-f]{4}$/);
    const shownFingerprint = (await fp.textContent()) ?? "";
    await page.getByRole("button", { name: "Admin" }).click();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("admin-title");

    // Staff: every account, names as text (one holds markup).
    const rows = page.locator("#staff-rows tr");
    await expect.poll(() => rows.count()).toBe(5);
    expect(await page.locator("#staff-rows td:first-child").allTextContents()).toContain(SUPERVISOR_NAME);
    expect(await page.locator("#admin img").count()).toBe(0);
    const row = (email: string) => page.locator("#staff-rows tr", { has: page.locator("td", { hasText: email }) });
    const omar = row(world.totpAgent.email);
    await omar.getByRole("combobox").selectOption("supervisor");
    await expect.poll(() => page.locator("#admin-status").textContent()).toBe("omar is now supervisor.");
    const staff = async () => (await page.evaluate((t) => fetch(`/api/tenants/${t}/staff`).then((r) => r.json()), world.tenant)) as Array<{ email: string; role: string; disabled: boolean }>;
    expect((await staff()).find((s) => s.email === world.totpAgent.email)?.role).toBe("supervisor");

    // Disable: the account cannot sign in until enabled again.
    const lee = row(world.nextAgent.email);
    await lee.getByRole("button", { name: "Disable lee" }).click();
    await expect.poll(() => lee.locator(".badge").textContent()).toBe("disabled");
    await expect(new RestClient(world.apiUrl).login(world.tenant, world.nextAgent.email, world.nextAgent.password)).rejects.toThrow();
    await lee.getByRole("button", { name: "Enable lee" }).click();
    await expect.poll(() => lee.locator(".badge").textContent()).toBe("active");
    await new RestClient(world.apiUrl).login(world.tenant, world.nextAgent.email, world.nextAgent.password);

    // Sign out everywhere: a colleague's terminal session ends.
    const jane = await new RestClient(world.apiUrl).login(world.tenant, world.agent.email, world.agent.password);
    const janeSession = () => fetch(new URL("/api/auth/session", world.apiUrl), { headers: { authorization: `Bearer ${jane.token}` } }).then((r) => r.status);
    expect(await janeSession()).toBe(200);
    await row(world.agent.email).getByRole("button", { name: "Sign out everywhere jane" }).click();
    await expect.poll(() => page.locator("#admin-status").textContent()).toBe("jane was signed out everywhere.");
    expect(await janeSession()).toBe(401);

    // An invitation: the token is shown once; the invitee sets a password with it.
    await page.getByLabel("Invite someone: address to invite").fill("nina@interop.localhost");
    await page.getByLabel("Their display name").fill("Nina");
    await page.getByRole("button", { name: "Invite", exact: true }).click();
    const token = page.locator("#invite-token");
    await expect.poll(() => token.textContent()).toMatch(/.{16,}/);
    expect(await page.locator("#invite-intro").textContent()).toContain("Invitation for nina@interop.localhost");
    await expect.poll(() => row("nina@interop.localhost").locator(".badge").textContent()).toBe("invited");
    const accepted = await fetch(new URL("/api/invitations/accept", world.apiUrl), {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: await token.textContent(), password: `${crypto.randomUUID()}-Zq7!`, client: "cli" }),
    });
    expect(accepted.status).toBe(200);
    await shot(page, "admin-staff");

    // Settings: out of range refused here; in range saved and read back.
    await page.getByLabel("Sign browsers out after this many idle minutes").fill("2");
    await page.getByRole("button", { name: "Save settings" }).click();
    await expect.poll(() => page.locator("#admin-error").textContent()).toBe("Check the marked values: each must be a whole number in its range.");
    expect(await page.locator("#set-idle").getAttribute("aria-invalid")).toBe("true");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("set-idle");
    await page.getByLabel("Sign browsers out after this many idle minutes").fill("45");
    await page.getByLabel("Delete closed conversations after").fill("90");
    await page.getByRole("button", { name: "Save settings" }).click();
    await expect.poll(() => page.locator("#admin-status").textContent()).toBe("Settings saved.");
    const settings = (await page.evaluate((t) => fetch(`/api/tenants/${t}/settings`).then((r) => r.json()), world.tenant)) as Record<string, unknown>;
    expect(settings).toMatchObject({ session_idle_minutes: 45, retention_days: 90, require_second_factor: false });

    // The widget's websites: the shop used below, added to the list.
    let shopHtml = "";
    const shop = await site(() => shopHtml);
    const tampered = await site(() => shopHtml.replace(/integrity="sha384-[^"]+"/, `integrity="sha384-${"A".repeat(64)}"`));
    try {
      const origins = page.getByLabel("Websites allowed to embed the widget");
      expect(await origins.inputValue()).toBe(world.host.origin);
      await origins.fill(`${world.host.origin}\n${shop.origin}\n${tampered.origin}`);
      await page.getByRole("button", { name: "Save websites" }).click();
      await expect.poll(() => page.locator("#admin-status").textContent()).toBe("3 websites may embed the widget.");

      // The inbox: the notice and fields the fixture set, changed and read back by the widget config.
      expect(await page.getByLabel("Notice text").inputValue()).toBe(NOTICE.text);
      expect(await page.locator("#fields li").count()).toBe(2);
      await page.getByLabel("Notice version").fill("2026-12");
      await page.getByLabel("Notice text").fill("ACME keeps this chat for 60 days. <b>Encrypted</b>.");
      await page.getByRole("button", { name: "Add a field" }).click();
      expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Key, field 3");
      await page.getByLabel("Key, field 3").fill("email");
      await page.getByLabel("Label, field 3").fill("Your e-mail for the transcript");
      await page.getByLabel("Kind, field 3").selectOption("email");
      await page.getByRole("button", { name: "Remove field 2" }).click();
      await page.getByRole("button", { name: "Save the inbox" }).click();
      await expect.poll(() => page.locator("#admin-status").textContent()).toBe("Inbox “Support” saved.");
      const config = (await page.evaluate(([t, team]) => fetch(`/api/widget/${t}/${team}/config`).then((r) => r.json()), [world.tenant, world.team])) as Record<string, unknown>;
      expect(config.privacy_notice).toEqual({ version: "2026-12", text: "ACME keeps this chat for 60 days. <b>Encrypted</b>.", url: NOTICE.url });
      expect(config.prechat_fields).toEqual([
        { name: "name", label: "Your name", kind: "text", required: true },
        { name: "email", label: "Your e-mail for the transcript", kind: "email", required: false },
      ]);

      // The embed code: the served widget's SHA-384 and the tenant's root key.
      await page.getByRole("button", { name: "Make the embed code" }).click();
      const snippet = page.locator("#snippet");
      await expect.poll(() => snippet.textContent()).toMatch(/^<script /);
      const served = Buffer.from(await (await fetch(new URL("/widget/sealdesk-widget.js", world.apiUrl))).arrayBuffer());
      const integrity = `sha384-${createHash("sha384").update(served).digest("base64")}`;
      expect(await snippet.textContent()).toBe(
        `<script type="module" src="${world.url}/widget/sealdesk-widget.js" integrity="${integrity}" crossorigin="anonymous" ` +
        `data-sealdesk-inbox="${world.tenant}/${world.team}" data-sealdesk-tenant-key="${world.tenantKey}"></script>`,
      );
      await snippet.scrollIntoViewIfNeeded();
      await shot(page, "admin-inbox");
      // Pasted into the shop's page, Chromium checks the integrity and the widget runs, with the new notice.
      shopHtml = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head><body><h1>Shop</h1>${await snippet.textContent()}</body></html>`;
      const customer = await watchedPage(browser.context);
      await customer.page.goto(`${shop.origin}/`);
      await customer.page.getByRole("button", { name: "Open chat" }).click();
      await expect.poll(() => customer.page.getByRole("dialog").getByText("ACME keeps this chat for 60 days. <b>Encrypted</b>.").count(), { timeout: 15_000 }).toBe(1);
      // The same code with another hash: Chromium refuses the file, nothing runs.
      const bad = await watchedPage(browser.context);
      await bad.page.goto(`${tampered.origin}/`);
      await expect.poll(() => bad.errors.join("\n"), { timeout: 15_000 }).toContain("integrity");
      expect(await bad.page.getByRole("button", { name: "Open chat" }).count()).toBe(0);
      await customer.page.close();
      await bad.page.close();
    } finally {
      await shop.close();
      await tampered.close();
    }

    // Devices: the admin's own browser waits; the page shows its fingerprint and the command.
    const device = page.locator("#devices li[data-device]");
    await expect.poll(() => device.count()).toBe(1);
    expect(await device.locator(".fingerprint").textContent()).toBe(shownFingerprint);
    const command = (await device.locator("pre").textContent()) ?? "";
    const id = (await device.getAttribute("data-device")) ?? "";
    expect(command).toBe(`sealdesk admin keys enrol --tenant ${world.tenant} --device ${id} --fingerprint "${shownFingerprint}" ` +
      "--role supervisor --issuing issuing.key --team-key team.key --passphrase-stdin");
    // Run as shown (the world's key files in place of the placeholders).
    const fingerprint = command.match(/--fingerprint "([^"]+)"/)?.[1] ?? "";
    await world.enrol(id, fingerprint, "supervisor");
    await page.getByRole("button", { name: "Check again" }).click();
    await expect.poll(() => page.locator("#devices li").allTextContents()).toEqual(["No device is waiting."]);

    // The audit log: what this page did, with who did it, as text.
    await page.getByRole("button", { name: "Admin" }).click();
    const audit = page.locator("#audit-rows tr");
    await expect.poll(() => audit.count()).toBeGreaterThan(5);
    // Pages of 50, newest first: "Load more" until the end, then every entry the server holds.
    const more = page.locator("#audit-more");
    while (await more.isEnabled()) {
      const before = await audit.count();
      await more.click();
      await expect.poll(async () => (await audit.count()) > before || (await more.isDisabled())).toBe(true);
    }
    expect(await more.textContent()).toBe("No more entries.");
    const all = (await page.evaluate((t) => fetch(`/api/tenants/${t}/audit?limit=500`).then((r) => r.json()), world.tenant)) as Array<{ seq: number }>;
    // Newest first, as an administrator reads it.
    expect(await page.locator("#audit-rows td:first-child").allTextContents()).toEqual(all.map((e) => String(e.seq)).reverse());
    const whats = await page.locator("#audit-rows td:nth-child(4)").allTextContents();
    expect(whats).toContain("role_changed");
    expect(whats).toContain("staff_status_changed");
    expect(await page.locator("#audit-rows td:nth-child(3)").allTextContents()).toContain(`owner (${world.adminUser.email})`);
    await page.locator("#audit-rows").scrollIntoViewIfNeeded();
    await shot(page, "admin-audit");

    // The device certified: the admin's desk opens from the Desk button.
    await page.getByRole("button", { name: "Desk" }).click();
    await expect.poll(() => page.locator("#desk").isVisible(), { timeout: 60_000 }).toBe(true);
    await inert(watched);
    expect(watched.errors.filter((e) => !e.startsWith("Failed to load resource"))).toEqual([]);
  });

  it("shows no administration to a supervisor", async () => {
    // Another browser: the administrator's session cookie stays in the first one.
    const other = await launch();
    try {
      await supervisorSees(other);
    } finally {
      await other.close();
    }
  });

  async function supervisorSees(other: Browser): Promise<void> {
    const { page } = await watchedPage(other.context);
    await page.goto(`${world.url}/console/?tenant=${world.tenant}`);
    await page.getByLabel("E-mail").fill(world.supervisor.email);
    await page.getByLabel("Password").fill(world.supervisor.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Account" }).isVisible(), { timeout: 30_000 }).toBe(true);
    expect(await page.getByRole("button", { name: "Admin" }).count()).toBe(0);
    // The server refuses anyway.
    expect(await page.evaluate((t) => fetch(`/api/tenants/${t}/settings`).then((r) => r.status), world.tenant)).toBe(403);
  }
});
