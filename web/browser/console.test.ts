// The agent console in Debian's Chromium against a real `sealdesk serve --web-dir`: sign-in
// with the session cookie and CSRF token, device enrolment certified by the admin CLI with the
// fingerprint read off the console's screen, the team queue with a History Member preview,
// claim, and an end-to-end encrypted conversation with a visitor in the widget (a second
// page) and a supervisor in another browser, with markup in the visitor's fields and messages
// rendered inert; then a TOTP sign-in and the idle timeout.

import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RestClient } from "../shared/protocol/rest.js";
import { launch, watchedPage, type Browser } from "./chromium.js";
import { forgeEntries, inert, signInAndEnrol, visitorStarts, XSS } from "./console-steps.js";
import { totpCode } from "./console-totp.js";
import { startConsoleWorld, SUPERVISOR_NAME, type ConsoleWorld, serveShop } from "./console-world.js";
import { FIELDS } from "./fixture.js";

const SHOTS = join(dirname(fileURLToPath(import.meta.url)), "../../docs/screenshots");

async function shot(page: Page, name: string): Promise<void> {
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `console-${name}.png`) });
}

describe("the agent console in Chromium", () => {
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

  it("signs in, enrols its device, previews, claims and chats end to end", async () => {
    const agent = await watchedPage(browser.context);
    const page = agent.page;
    const refused: string[] = [];
    page.on("response", (r) => {
      if (r.status() >= 400) refused.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
    });
    const res = await page.goto(`${world.url}/console/?tenant=${world.tenant}`);
    // The page runs under the server's CSP: own scripts and styles only, no inline code.
    expect(res?.headers()["content-security-policy"]).toContain("script-src 'self'; style-src 'self'");

    // A wrong password: the server's stable code, explained, and the code field offered.
    await page.getByLabel("E-mail").fill(world.agent.email);
    await page.getByLabel("Password").fill("not the password at all");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator("#login-error").textContent()).toContain("not right");
    expect(await page.getByLabel("Authentication code").isVisible()).toBe(true);
    await shot(page, "login-error");

    await page.getByLabel("Password").fill(world.agent.password);
    await page.getByRole("button", { name: "Sign in" }).click();

    // Enrolment: the fingerprint on the screen is what the administrator types.
    const fp = page.locator("#fingerprint");
    await expect.poll(() => fp.textContent(), { timeout: 30_000 }).toMatch(/^([0-9a-f]{4} ){7}[0-9a-f]{4}$/);
    const shown = (await fp.textContent()) ?? "";
    await shot(page, "enrol");
    const { devices } = (await world.admin(["keys", "devices", "--tenant", world.tenant, "--status", "pending"])) as { devices: Array<{ id: string; fingerprint: string }> };
    expect(devices.length).toBe(1);
    const device = devices[0]!;
    expect(device.fingerprint).toBe(shown);
    // A fingerprint that differs by one digit is refused and certifies nothing.
    const wrong = shown.replace(/^./, (c) => (c === "0" ? "1" : "0"));
    await expect(world.enrol(device.id, wrong)).rejects.toThrow();
    await world.enrol(device.id, shown);

    // Certified: the chain checked against the pinned root, the team key opened, key packages published.
    await expect.poll(() => page.locator("#desk").isVisible(), { timeout: 60_000 }).toBe(true);
    expect(await page.locator("#device-line").textContent()).toContain(shown);
    // Its key packages are published (the server checked each chain): above the low-water mark.
    const stock = (await page.evaluate(() => fetch("/api/account/key-packages").then((r) => r.json()))) as { devices: Array<{ available: number }>; low_water: number };
    expect(stock.devices.length).toBe(1);
    expect(stock.devices[0]?.available).toBeGreaterThanOrEqual(stock.low_water);
    // The root it pinned, shown as the owner's CLI printed it.
    expect(await page.locator("#root-line").textContent()).toBe(world.rootFingerprint);
    expect(world.rootFingerprint).toMatch(/^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);

    // Availability: away, then online again (a PUT the server accepts with the CSRF token; the
    // capacity always goes with it, as the server resets a missing one).
    for (const value of ["away", "online"]) {
      const [put] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith("/api/account/availability") && r.request().method() === "PUT"),
        page.getByLabel("Status").selectOption(value),
      ]);
      expect(put.status()).toBe(204);
      expect(put.request().postDataJSON()).toEqual({ availability: value, capacity: 5 });
    }

    // The visitor, on the shop's site, in another tab.
    const visitor = await watchedPage(browser.context);
    await visitor.page.goto(`${world.host.origin}/`);
    await visitorStarts(visitor.page);

    // The queue shows the conversation with its preview, decrypted through the History Member.
    const item = page.locator("#queue li button");
    await expect.poll(() => item.locator(".preview").allTextContents(), { timeout: 30_000 }).toEqual([XSS.first]);
    expect(await item.locator(".title").textContent()).toBe(XSS.name);
    await item.click();
    await expect.poll(() => page.locator("#prechat dd").allTextContents()).toEqual([XSS.name, XSS.order]);
    expect(await page.locator("#prechat dt").allTextContents()).toEqual([FIELDS[0]?.label, FIELDS[1]?.label]);
    await expect.poll(() => page.locator("#log .text").allTextContents()).toEqual([XSS.first]);

    // The visitor writes again while the agent reads the preview: the open view is not live
    // yet, so this message reaches the console only through the History Member after the join.
    const box = visitor.page.getByRole("dialog").getByLabel("Your message");
    await box.fill("Are you there?");
    await box.press("Enter");
    await expect.poll(() => item.locator(".preview").allTextContents(), { timeout: 30_000 }).toEqual(["Are you there?"]);
    expect(await page.locator("#log .text").allTextContents()).toEqual([XSS.first]);

    // Claim: the widget adds this device (Welcome), the console joins and fills the gap.
    await page.getByRole("button", { name: "Claim" }).click();
    await expect.poll(() => page.locator("#reply").isEnabled(), { timeout: 30_000 }).toBe(true);
    await expect.poll(() => page.locator("#members li").allTextContents()).toContain("You");
    expect(await page.locator("#members li.unverified").count()).toBe(0);
    expect(await page.locator("#members li[data-role=history]").count()).toBe(1);
    await expect.poll(() => visitor.page.locator(".badges li[data-role=agent]").count(), { timeout: 30_000 }).toBe(1);
    // Claimed: it left the queue and is the agent's own.
    await expect.poll(() => page.locator("#mine li .title").allTextContents(), { timeout: 15_000 }).toEqual([XSS.name]);
    expect(await page.locator("#queue li button").count()).toBe(0);

    // The agent's typing indicator reaches the visitor, with the certified name.
    await page.locator("#reply").pressSequentially("Hi Ada");
    await expect.poll(() => visitor.page.locator(".typing").textContent(), { timeout: 15_000 }).toContain("is typing…");
    await page.locator("#reply").fill("Hi Ada, I am looking at order 1042 now.");
    await page.locator("#reply").press("Enter");
    await expect.poll(() => visitor.page.locator(".log .text").allTextContents(), { timeout: 30_000 }).toEqual([XSS.first, "Are you there?", "Hi Ada, I am looking at order 1042 now."]);

    await box.pressSequentially("Thanks");
    await expect.poll(() => page.locator("#typing").textContent()).toBe("The visitor is typing…");
    await box.fill("Thank you! <i>It</i> was sent on Monday.");
    await box.press("Enter");
    await expect.poll(() => page.locator("#log .text").allTextContents(), { timeout: 30_000 }).toEqual([
      XSS.first, "Are you there?", "Hi Ada, I am looking at order 1042 now.", "Thank you! <i>It</i> was sent on Monday.",
    ]);
    expect(await page.locator("#log .msg.visitor .who").first().textContent()).toBe("Visitor");
    // The console read it: the visitor sees the read receipt.
    await expect.poll(() => visitor.page.locator(".msg.visitor .status").last().textContent(), { timeout: 15_000 }).toBe("Read");

    // Markup stayed text: no element was made from it, no script ran.
    expect(await page.locator("#log img, #log b, #log i, #log svg, #prechat img, #queue img, #prechat script").count()).toBe(0);
    await inert(agent);
    await inert(visitor);

    // A link is text; clicking it asks first and shows the whole address.
    await page.locator("#log button.link").first().click();
    await expect.poll(() => page.locator("#link-dialog").isVisible()).toBe(true);
    expect(await page.locator("#link-url").textContent()).toBe("https://evil.example/login?next=");
    await shot(page, "link-warning");
    await page.getByRole("button", { name: "Cancel" }).click();
    expect(await page.locator("#link-dialog").isVisible()).toBe(false);
    await shot(page, "conversation");
    await page.setViewportSize({ width: 390, height: 800 });
    await page.locator("#reply").scrollIntoViewIfNeeded();
    await shot(page, "phone");
    await page.setViewportSize({ width: 1280, height: 800 });

    // A reload: the session (cookie, CSRF token in the tab), the device and the conversation's
    // MLS state come back; the history shows who wrote what, and the chat goes on.
    await page.reload();
    await expect.poll(() => page.locator("#desk").isVisible(), { timeout: 30_000 }).toBe(true);
    await page.locator("#mine li button").click();
    await expect.poll(() => page.locator("#log .msg .who").allTextContents(), { timeout: 30_000 }).toEqual(["Visitor", "Visitor", "You", "Visitor"]);
    await expect.poll(() => page.locator("#reply").isEnabled(), { timeout: 30_000 }).toBe(true);
    await page.locator("#reply").fill("Back after a reload: your parcel arrives tomorrow.");
    await page.getByRole("button", { name: "Send" }).click();
    await expect.poll(() => visitor.page.locator(".log .text").last().textContent(), { timeout: 30_000 }).toBe("Back after a reload: your parcel arrives tomorrow.");
    await box.fill("Great, thanks!");
    await box.press("Enter");
    await expect.poll(() => page.locator("#log .text").last().textContent(), { timeout: 30_000 }).toBe("Great, thanks!");
    expect(await page.locator("#conv-alert").textContent()).toBe("");

    // Forged and replayed entries (what a malicious server could deliver): the console says a
    // message could not be verified, shows nothing of it, and the conversation goes on.
    const convId = (await page.locator("#mine li button").getAttribute("data-conversation")) ?? "";
    await forgeEntries(world, convId);
    await expect.poll(() => page.locator("#conv-alert").textContent(), { timeout: 15_000 }).toContain("could not be verified");
    await box.fill("Still there?");
    await box.press("Enter");
    await expect.poll(() => page.locator("#log .text").last().textContent(), { timeout: 30_000 }).toBe("Still there?");
    expect(await page.locator("#log .text").count()).toBe(7);

    // A supervisor joins from their own console (another browser): the agent's console adds
    // the supervisor's device, checked for a supervisor certificate, in one commit.
    const supBrowser = await launch();
    try {
      const sup = await watchedPage(supBrowser.context);
      await signInAndEnrol(sup.page, world, world.supervisor, "supervisor");
      const teamItem = sup.page.locator("#team li button");
      await expect.poll(() => teamItem.count(), { timeout: 30_000 }).toBe(1);
      await teamItem.click();
      await expect.poll(() => sup.page.locator("#log .text").count(), { timeout: 30_000 }).toBe(7);
      await sup.page.getByRole("button", { name: "Join" }).click();
      await expect.poll(() => sup.page.locator("#reply").isEnabled(), { timeout: 30_000 }).toBe(true);
      await expect.poll(() => page.locator("#members li[data-role=supervisor]").count(), { timeout: 15_000 }).toBe(1);
      expect(await page.locator("#members li.unverified").count()).toBe(0);
      await sup.page.locator("#reply").fill("Supervisor here, all good.");
      await sup.page.locator("#reply").press("Enter");
      await expect.poll(() => visitor.page.locator(".log .text").last().textContent(), { timeout: 30_000 }).toBe("Supervisor here, all good.");
      await expect.poll(() => visitor.page.locator(".badges li[data-role=supervisor]").count(), { timeout: 15_000 }).toBe(1);
      await expect.poll(() => page.locator("#log .text").last().textContent(), { timeout: 30_000 }).toBe("Supervisor here, all good.");
      expect(await page.locator("#log .msg .who").last().textContent()).toBe(`${SUPERVISOR_NAME} — verified supervisor`);
      expect(await page.locator("#members li[data-role=supervisor]").textContent()).toBe(`${SUPERVISOR_NAME} — verified supervisor`);
      expect(await page.locator("#members img, #log img").count()).toBe(0);
      await page.locator("#reply").fill("Thanks for joining.");
      await page.locator("#reply").press("Enter");
      await expect.poll(() => sup.page.locator("#log .text").last().textContent(), { timeout: 30_000 }).toBe("Thanks for joining.");
      expect(await sup.page.locator("#log .msg .who").last().textContent()).toMatch(/— verified agent$/);
      await shot(sup.page, "supervisor");
      // Leaving: the supervisor's authenticated request, the agent's console commits the Remove.
      await sup.page.getByRole("button", { name: "Leave" }).click();
      await expect.poll(() => sup.page.locator("#typing").textContent(), { timeout: 30_000 }).toBe("This device is no longer in the conversation.");
      expect(await sup.page.locator("#reply").isDisabled()).toBe(true);
      await expect.poll(() => page.locator("#members li[data-role=supervisor]").count(), { timeout: 15_000 }).toBe(0);
      expect(await page.locator("#log .text").last().textContent()).toBe("Asked to leave the conversation.");
      await inert(sup);
    } finally {
      await supBrowser.close();
    }

    // Close: the conversation leaves the agent's list.
    await page.getByRole("button", { name: "Close conversation" }).click();
    await expect.poll(() => page.locator("#mine li .title").count(), { timeout: 15_000 }).toBe(0);
    expect(await page.locator("#typing").textContent()).toBe("This conversation is closed.");
    expect(await page.locator("#reply").isDisabled()).toBe(true);
    // A second visitor. The agent hands the conversation to a colleague (another browser):
    // the agent's console adds the colleague's device, the colleague's console removes the
    // previous agent's; then the visitor ends the chat from the widget.
    const other = await launch();
    const lee = await launch();
    try {
      const next = await watchedPage(lee.context);
      await signInAndEnrol(next.page, world, world.nextAgent, "agent");
      const v2 = await watchedPage(other.context);
      await v2.page.goto(`${world.host.origin}/`);
      await visitorStarts(v2.page, "Bob", "Hello again");
      const item2 = page.locator("#queue li button");
      await expect.poll(() => item2.locator(".preview").allTextContents(), { timeout: 30_000 }).toEqual(["Hello again"]);
      await item2.click();
      await page.getByRole("button", { name: "Claim" }).click();
      await expect.poll(() => page.locator("#reply").isEnabled(), { timeout: 30_000 }).toBe(true);
      await expect.poll(() => page.locator("#transfer-to option").allTextContents(), { timeout: 15_000 }).toContain("lee");
      await page.getByLabel("Transfer to").selectOption({ label: "lee" });
      await page.getByRole("button", { name: "Transfer" }).click();
      await expect.poll(() => page.locator("#typing").textContent(), { timeout: 15_000 }).toContain("Transferred.");
      expect(await page.locator("#reply").isDisabled()).toBe(true);
      await expect.poll(() => page.locator("#mine li .title").count(), { timeout: 15_000 }).toBe(0);

      // The colleague's console: the conversation is theirs, they join and remove the previous agent.
      await next.page.locator("#mine li button").click();
      await expect.poll(() => next.page.locator("#reply").isEnabled(), { timeout: 30_000 }).toBe(true);
      await expect.poll(() => next.page.locator("#members li[data-role=agent]").allTextContents(), { timeout: 30_000 }).toEqual(["You"]);
      await next.page.locator("#reply").fill("Lee here, I will take it from here.");
      await next.page.locator("#reply").press("Enter");
      await expect.poll(() => v2.page.locator(".log .text").last().textContent(), { timeout: 30_000 }).toBe("Lee here, I will take it from here.");
      await expect.poll(() => v2.page.locator(".badges li[data-role=agent]").count(), { timeout: 30_000 }).toBe(1);
      expect(await v2.page.locator(".badges li[data-role=agent]").textContent()).toContain("lee");
      const box2 = v2.page.getByRole("dialog").getByLabel("Your message");
      await box2.fill("Thanks Lee");
      await box2.press("Enter");
      await expect.poll(() => next.page.locator("#log .text").last().textContent(), { timeout: 30_000 }).toBe("Thanks Lee");
      await shot(next.page, "transferred");

      await v2.page.getByRole("button", { name: "End chat" }).click();
      await expect.poll(() => next.page.locator("#typing").textContent(), { timeout: 15_000 }).toBe("The visitor ended the conversation.");
      expect(await next.page.locator("#reply").isDisabled()).toBe(true);
      expect(await next.page.getByRole("button", { name: "Close conversation" }).isVisible()).toBe(false);
      await inert(next);
    } finally {
      await lee.close();
      await other.close();
    }

    // The administrator revokes the device: the console stops and deletes its keys here.
    await world.revoke(device.id);
    await expect.poll(() => page.locator("#enrol-error").textContent(), { timeout: 30_000 }).toContain("revoked");
    expect(await page.locator("#desk").isVisible()).toBe(false);
    const left = await page.evaluate(() => new Promise<number>((resolve, reject) => {
      const r = indexedDB.open("sealdesk-console");
      r.onerror = () => reject(r.error ?? new Error("indexedDB.open failed"));
      r.onsuccess = () => {
        const count = r.result.transaction("records").objectStore("records").count();
        count.onsuccess = () => resolve(count.result);
      };
    }));
    expect(left).toBe(0);

    // Log out: the session ends on the server, and the console asks to sign in again.
    await page.getByRole("button", { name: "Log out" }).click();
    await expect.poll(() => page.locator("#login").isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await page.evaluate(() => fetch("/api/auth/session").then((r) => r.status))).toBe(401);

    // No script error; the only refused requests: no session yet, the wrong password, after
    // logout the console's own session check and the test's (and previews racing a
    // conversation's start or end: before its History Member, or just after it closed).
    expect(agent.errors.filter((e) => !e.startsWith("Failed to load resource"))).toEqual([]);
    expect(refused.filter((r) => !/^404 GET \/api\/tenants\/[^/]+\/conversations\/[^/]+\/(history-member|entries)$/.test(r))).toEqual([
      "401 GET /api/auth/session", "401 POST /api/auth/login", "401 GET /api/auth/session", "401 GET /api/auth/session",
    ]);
  });

  it("asks for the authentication code when the account has one, and signs in with it", async () => {
    // The agent turns TOTP on (from the terminal, here over REST): enrol, confirm with a code.
    const { token } = await new RestClient(world.apiUrl).login(world.tenant, world.totpAgent.email, world.totpAgent.password);
    const call = async (path: string, body?: unknown) => {
      const res = await fetch(new URL(path, world.apiUrl), {
        method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body ?? {}),
      });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Record<string, unknown>;
    };
    const { secret } = (await call("/api/account/totp")) as { secret: string };
    await call("/api/account/totp/confirm", { code: totpCode(secret) });

    const { page } = await watchedPage(browser.context);
    // The page's clock is Playwright's, so the idle timeout can be reached without waiting.
    await page.clock.install();
    await page.goto(`${world.url}/console/?tenant=${world.tenant}`);
    expect(await page.getByLabel("Authentication code").isVisible()).toBe(false);
    await page.getByLabel("E-mail").fill(world.totpAgent.email);
    await page.getByLabel("Password").fill(world.totpAgent.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    // The password alone is refused with the one stable code; the console offers the code field.
    await expect.poll(() => page.locator("#login-error").textContent()).toContain("authenticator app");
    await expect.poll(() => page.getByLabel("Authentication code").isVisible()).toBe(true);
    await page.getByLabel("Authentication code").fill("000000" === totpCode(secret) ? "111111" : "000000");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator("#login-error").textContent()).toContain("not right");
    // The next step's code (the confirmation spent this one; ±1 step is accepted).
    await page.getByLabel("Password").fill(world.totpAgent.password);
    await page.getByLabel("Authentication code").fill(totpCode(secret, Date.now() + 30_000));
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator("#fingerprint").textContent(), { timeout: 30_000 }).toMatch(/^([0-9a-f]{4} ){7}[0-9a-f]{4}$/);
    expect(await page.locator("#who").textContent()).toContain("agent");

    // A second tab of the signed-in console needs no new sign-in: it takes the CSRF token
    // from its session, so a state change works there too.
    const tab = await browser.context.newPage();
    await tab.goto(`${world.url}/console/?tenant=${world.tenant}`);
    await expect.poll(() => tab.locator("#fingerprint").textContent(), { timeout: 30_000 }).toMatch(/^([0-9a-f]{4} ){7}[0-9a-f]{4}$/);
    expect(await tab.locator("#login").isVisible()).toBe(false);
    expect(await tab.evaluate(() => sessionStorage.getItem("sealdesk-console-csrf"))).toMatch(/.+/);
    await tab.close();

    // Left alone past the tenant's idle limit (30 minutes by default), the console signs out,
    // although its polling kept the server's idle expiry moving.
    await page.clock.fastForward("29:00");
    expect(await page.locator("#enrol").isVisible()).toBe(true);
    await page.clock.fastForward("02:00");
    await expect.poll(() => page.locator("#login-error").textContent(), { timeout: 15_000 }).toBe("You were signed out after a while without activity.");
    expect(await page.evaluate(() => fetch("/api/auth/session").then((r) => r.status))).toBe(401);
  });
});
