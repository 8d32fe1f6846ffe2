// The widget in Debian's Chromium against a real server: consent, prechat, an end-to-end
// encrypted conversation with a certified agent (verified badge, typing, read receipts,
// messages decrypted on both sides), a forged agent certificate that blocks sending, and
// markup in every field rendering as inert text.

import { mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { launch, watchedPage, type Browser } from "./chromium.js";
import { FIELDS, LABELS, NOTICE, startWorld, type World } from "./fixture.js";
import { shopPage } from "./pages.js";

const SHOTS = join(dirname(fileURLToPath(import.meta.url)), "../../docs/screenshots");
const seen = new Set<string>();

async function shot(page: Page, name: string): Promise<void> {
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `widget-${name}.png`) });
}

/** Accepts the privacy notice shown (with the keyboard: focus is on the accept button). */
async function consent(page: Page, notice: { text: string; url: string } = NOTICE): Promise<void> {
  const dialog = page.getByRole("dialog");
  await expect.poll(() => dialog.getByText(notice.text).count()).toBe(1);
  await expect.poll(() => dialog.getByText(notice.url).count()).toBe(1);
  await expect.poll(() => page.evaluate(() => document.querySelector("[data-sealdesk-widget]")?.shadowRoot?.activeElement?.textContent)).toBe("I agree, start the chat");
  await page.keyboard.press("Enter");
}

async function prechat(page: Page, name: string, order: string): Promise<void> {
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel(`${FIELDS[0]?.label} (required)`).fill(name);
  await dialog.getByLabel(FIELDS[1]?.label ?? "").fill(order);
  await dialog.getByRole("button", { name: "Continue" }).click();
}

async function type(page: Page, text: string): Promise<void> {
  const box = page.getByRole("dialog").getByLabel("Your message");
  await box.fill(text);
  await box.press("Enter");
}

/** Opens the widget, accepts the notice, fills the form and sends a first message. */
async function startChat(page: Page, name: string, first: string, order = ""): Promise<void> {
  await page.getByRole("button", { name: "Open chat" }).click();
  await consent(page);
  await prechat(page, name, order);
  await type(page, first);
}

const logTexts = (page: Page) => page.locator(".log .text").allTextContents();
const alertText = (page: Page) => page.locator(".alert").textContent();

describe("the customer widget in Chromium", () => {
  let world: World;
  let browser: Browser;

  beforeAll(async () => {
    world = await startWorld();
    world.host.set("/", shopPage(world.snippet(), world.host.origin, world.relay.url));
  });
  // Every test is a new visitor: a fresh browser profile (the widget resumes from its
  // IndexedDB record otherwise).
  beforeEach(async () => {
    browser = await launch();
  });
  afterEach(async () => {
    await browser?.close();
  });
  afterAll(async () => {
    await world?.stop();
  });

  it("holds an end-to-end encrypted conversation with a verified agent", async () => {
    const { page, dialogs, errors } = await watchedPage(browser.context);
    await page.goto(`${world.host.origin}/`);
    await startChat(page, "Ada", "Hello, my parcel is late.", "1042");
    const agent = world.agent;
    const c = await agent.waitForConversation("queued", seen);
    seen.add(c);
    await agent.rest.claim(world.server.tenant, c);
    await agent.open(c);
    await agent.join(c);
    // The badge: the agent's certified name, checked against the pinned root.
    await expect.poll(() => page.locator(".badges li[data-role=agent]").allTextContents()).toEqual(["Jane D. — verified Interop agent"]);
    await expect.poll(() => page.locator(".badges li[data-role=history]").count()).toBe(1);
    expect(await alertText(page)).toBe("");

    agent.typing(c, true);
    await expect.poll(() => page.locator(".typing").textContent()).toBe("Jane D. is typing…");
    await agent.say(c, "Hi Ada, I am looking at order 1042 now.");
    await expect.poll(() => page.locator(".msg.staff .who").allTextContents()).toEqual(["Jane D."]);
    await expect.poll(() => logTexts(page)).toEqual(["Hello, my parcel is late.", "Hi Ada, I am looking at order 1042 now."]);

    // The visitor's read receipt and typing indicator reach the agent (ephemeral frames).
    await expect.poll(() => agent.ephemeral.some((f) => f.t === "read" && f.from.kind === "visitor")).toBe(true);
    const box = page.getByRole("dialog").getByLabel("Your message");
    await box.pressSequentially("Thank");
    await expect.poll(() => agent.ephemeral.some((f) => f.t === "typing" && f.on && f.from.kind === "visitor")).toBe(true);
    await box.fill("Thank you! It was sent on Monday.");
    await page.getByRole("dialog").getByRole("button", { name: "Send" }).click();
    const got = await agent.waitFor(c, (s) => s.body.kind === "text");
    expect(got.body).toEqual({ kind: "text", text: "Thank you! It was sent on Monday." });
    agent.read(c);
    await expect.poll(() => page.locator(".msg.visitor .status").allTextContents()).toEqual(["Read", "Read"]);

    // The team's view through the History Member: the prechat form and every message.
    const history = await agent.replayHistory(c, world.teamKey);
    expect(history).toEqual([
      { kind: "prechat", fields: [["name", "Ada"], ["order", "1042"]] },
      { kind: "text", text: "Hello, my parcel is late." },
      { kind: "text", text: "Hi Ada, I am looking at order 1042 now." },
      { kind: "text", text: "Thank you! It was sent on Monday." },
    ]);
    // The server stored ciphertext only.
    const { entries } = await world.server.staff.entries(world.server.tenant, c);
    const stored = entries.map((e) => Buffer.from(e.p, "base64").toString("latin1")).join("");
    expect(stored).not.toContain("parcel is late");
    expect(stored).not.toContain("Ada");

    await shot(page, "conversation");
    await page.setViewportSize({ width: 390, height: 760 });
    await shot(page, "phone");

    // Attachments both ways, encrypted in the browser and in the agent, opened on the other side.
    await page.locator("input[type=file]").setInputFiles({ name: "receipt.txt", mimeType: "text/plain", buffer: Buffer.from("Receipt for order 1042") });
    const got2 = await agent.waitFor(c, (s) => s.body.kind === "file");
    if (got2.body.kind !== "file") throw new Error("not a file");
    expect(got2.body.file.name).toBe("receipt.txt");
    expect(new TextDecoder().decode(await agent.openFile(c, got2.body.file))).toBe("Receipt for order 1042");
    await agent.sendFile(c, "../label<img src=x onerror=alert(1)>.txt", new TextEncoder().encode("Return label"));
    await expect.poll(() => page.locator(".msg.staff .file .name").allTextContents()).toEqual(["../label<img src=x onerror=alert(1)>.txt"]);
    const [saved] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download ../label<img src=x onerror=alert(1)>.txt" }).click()]);
    // No path survives (the widget strips it; Chromium also replaces < and >).
    expect(saved.suggestedFilename()).toMatch(/^label[^/\\]*\.txt$/);
    expect(await readFile(await saved.path(), "utf8")).toBe("Return label");
    await shot(page, "attachments");

    // A forged entry is dropped with a visible state; nothing before it is lost, and the
    // conversation goes on.
    await agent.say(c, "this was altered on the way", true);
    await expect.poll(() => page.locator(".unverified").allTextContents()).toEqual(["⚠ A message could not be verified and was not shown."]);
    await agent.say(c, "Your parcel arrives tomorrow.");
    await expect.poll(() => logTexts(page)).toEqual([
      "Hello, my parcel is late.", "Hi Ada, I am looking at order 1042 now.", "Thank you! It was sent on Monday.", "Your parcel arrives tomorrow.",
    ]);
    await expect.poll(() => page.locator(".msg .file .name").allTextContents()).toEqual(["receipt.txt", "../label<img src=x onerror=alert(1)>.txt"]);
    expect(await alertText(page)).toBe("");

    // The connection drops: the widget says so, reconnects for the same visitor and resumes
    // after the last entry it handled; what the agent wrote meanwhile arrives once.
    world.relay.cut();
    await expect.poll(() => alertText(page)).toBe("The connection was lost. Reconnecting…");
    await agent.say(c, "Written while you were offline.");
    await expect.poll(() => alertText(page), { timeout: 30_000 }).toBe("");
    await expect.poll(() => logTexts(page)).toEqual([
      "Hello, my parcel is late.", "Hi Ada, I am looking at order 1042 now.", "Thank you! It was sent on Monday.",
      "Your parcel arrives tomorrow.", "Written while you were offline.",
    ]);
    await page.getByRole("dialog").getByLabel("Your message").fill("Great, thanks.");
    await page.keyboard.press("Enter");
    expect((await agent.waitFor(c, (s) => s.body.kind === "text")).body).toEqual({ kind: "text", text: "Great, thanks." });

    // A message whose ack is lost with the connection shows "Not sent", until the resumed log
    // shows it did arrive.
    world.relay.mute();
    await type(page, "Did this arrive?");
    expect((await agent.waitFor(c, (s) => s.body.kind === "text")).body).toEqual({ kind: "text", text: "Did this arrive?" });
    world.relay.cut();
    await expect.poll(() => page.locator(".msg.visitor .status").last().textContent()).toBe("Not sent");
    await expect.poll(() => page.locator(".msg.visitor .status").last().textContent()).toBe("Sent");
    await expect.poll(() => alertText(page)).toBe("");

    // Keyboard: Escape closes the window and focus returns to the launcher.
    await page.keyboard.press("Escape");
    expect(await page.getByRole("dialog").isHidden()).toBe(true);
    expect(await page.evaluate(() => document.querySelector("[data-sealdesk-widget]")?.shadowRoot?.activeElement?.getAttribute("aria-label"))).toBe("Open chat");
    // A reply while the window is closed is counted on the launcher.
    await agent.say(c, "Anything else I can do?");
    await expect.poll(() => page.locator(".launcher").getAttribute("aria-label")).toBe("Open chat (1 new)");
    await page.keyboard.press("Enter");
    await expect.poll(() => logTexts(page).then((t) => t.at(-1))).toBe("Anything else I can do?");
    expect(await page.locator(".launcher").getAttribute("aria-label")).toBe("Close chat");

    // The transcript is made in the browser from what it decrypted.
    const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download transcript" }).click()]);
    const transcript = await readFile(await file.path(), "utf8");
    expect(file.suggestedFilename()).toBe("chat-transcript.txt");
    expect(transcript).toContain("Your name: Ada\nOrder number: 1042\n");
    expect(transcript).toMatch(/\] You: Hello, my parcel is late\.\n/);
    expect(transcript).toMatch(/\] Jane D\.: Anything else I can do\?\n/);
    expect(transcript).toContain("A message could not be verified and was not shown.");

    // Ending the chat: the server's closed entry reaches the widget.
    await page.getByRole("button", { name: "End chat" }).click();
    await expect.poll(() => page.locator(".log .ended").textContent()).toBe("This conversation has ended.");
    expect(await page.getByRole("dialog").getByLabel("Your message").isHidden()).toBe(true);
    expect((await world.server.staff.conversation(world.server.tenant, c)).state).toBe("closed");
    // "Delete conversation", confirmed: the server records the request, the browser forgets.
    await page.getByRole("button", { name: "Delete conversation" }).click();
    await page.getByRole("button", { name: "Delete for good?" }).click();
    await expect.poll(() => page.locator(".log .ended").textContent()).toContain("will be deleted from our servers");
    expect((await world.server.staff.conversation(world.server.tenant, c)).erasure_requested_at).toBeTruthy();
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("refuses an agent whose certificate does not chain to the pinned root, and blocks sending", async () => {
    const { page, errors } = await watchedPage(browser.context);
    await page.goto(`${world.host.origin}/`);
    await startChat(page, "Bob", "Is anyone there?");
    const forger = world.forger;
    const c = await forger.waitForConversation("queued", seen);
    seen.add(c);
    // The server accepts the forger (its root is registered), the widget must not.
    await forger.rest.claim(world.server.tenant, c);
    await expect.poll(() => alertText(page)).toBe(
      "Warning: someone in this conversation could not be verified as a genuine Interop agent. Sending is disabled to protect you.",
    );
    const dialog = page.getByRole("dialog");
    expect(await dialog.getByRole("button", { name: "Send" }).isDisabled()).toBe(true);
    expect(await dialog.getByLabel("Your message").isDisabled()).toBe(true);
    expect(await page.locator(".badges li[data-role=agent]").count()).toBe(0);
    await forger.open(c);
    expect(await forger.welcomedWithin(c, 3_000)).toBe(false);
    await shot(page, "forged-agent");
    // The stop survives a reload.
    await page.reload();
    await page.getByRole("button", { name: "Open chat" }).click();
    await expect.poll(() => logTexts(page)).toEqual(["Is anyone there?"]);
    expect(await alertText(page)).toContain("could not be verified as a genuine Interop agent");
    expect(await page.getByRole("dialog").getByRole("button", { name: "Send" }).isDisabled()).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("renders markup in messages, names and prechat fields as inert text", async () => {
    const { page, dialogs, errors } = await watchedPage(browser.context);
    await page.goto(`${world.host.origin}/`);
    const img = `<img src=x onerror="window.__xss='img'">`;
    const script = `<script>window.__xss='script'</script>`;
    await startChat(page, img, script, `<b onmouseover="window.__xss='b'">1</b>`);
    const xss = world.xss;
    const c = await xss.waitForConversation("queued", seen);
    seen.add(c);
    await xss.rest.claim(world.server.tenant, c);
    await xss.open(c);
    await xss.join(c);
    await expect.poll(() => page.locator(".badges li[data-role=agent]").allTextContents()).toEqual([`${LABELS.xss} — verified Interop agent`]);
    await xss.say(c, `${script}${img}<a href="javascript:window.__xss='a'">click</a>`);
    await expect.poll(() => logTexts(page)).toEqual([script, `${script}${img}<a href="javascript:window.__xss='a'">click</a>`]);
    await expect.poll(() => page.locator(".msg.staff .who").allTextContents()).toEqual([LABELS.xss]);
    expect(await page.locator(".answers dd").allTextContents()).toEqual([img, `<b onmouseover="window.__xss='b'">1</b>`]);
    await page.locator(".msg.staff").hover();
    const injected = await page.evaluate(() => {
      const root = document.querySelector("[data-sealdesk-widget]")?.shadowRoot;
      return {
        xss: (window as unknown as { __xss?: string }).__xss ?? null,
        elements: root?.querySelectorAll("img, script, a, b, iframe, object").length ?? -1,
        outside: document.querySelectorAll("body img, body iframe").length,
      };
    });
    expect(injected).toEqual({ xss: null, elements: 0, outside: 0 });
    await shot(page, "inert-markup");
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("asks again when the privacy notice changed before the first message; the server records the version", async () => {
    const { page, dialogs, errors } = await watchedPage(browser.context);
    await page.goto(`${world.host.origin}/`);
    await page.getByRole("button", { name: "Open chat" }).click();
    await consent(page);
    await prechat(page, "Cy", "");
    const changed = { version: "2026-12", text: "ACME now keeps chats for 14 days.", url: "https://acme.example/privacy-v2" };
    const { tenant, team } = world.server;
    await world.server.staff.setWidgetSettings(tenant, team, { privacy_notice: changed, prechat_fields: FIELDS });
    try {
      await type(page, "Hello again");
      await expect.poll(() => alertText(page)).toBe("The privacy notice has changed. Please read it again.");
      await shot(page, "consent");
      await consent(page, changed);
      expect(await alertText(page)).toBe("");
      await prechat(page, "Cy", "");
      expect(await page.locator(".msg.visitor .status").allTextContents()).toEqual(["Not sent"]);
      await type(page, "Hello again");
      const c = await world.agent.waitForConversation("queued", seen);
      seen.add(c);
      expect((await world.server.staff.conversation(tenant, c)).consent_notice).toBe("2026-12");
      await expect.poll(() => page.locator(".msg.visitor .status").allTextContents()).toEqual(["Not sent", "Sent"]);
    } finally {
      await world.server.staff.setWidgetSettings(tenant, team, { privacy_notice: NOTICE, prechat_fields: FIELDS });
    }
    expect(dialogs).toEqual([]);
    // The refused request (400 consent_required) is the one console error Chromium logs.
    expect(errors.filter((e) => !e.includes("400 (Bad Request)"))).toEqual([]);
    await page.close();
  });

  it("refuses a History Member whose certificate does not chain to the pinned root", async () => {
    const { page, errors } = await watchedPage(browser.context);
    world.host.set("/sales", shopPage(world.snippet("", world.otherTeam), world.host.origin, world.relay.url));
    await page.goto(`${world.host.origin}/sales`);
    await page.getByRole("button", { name: "Open chat" }).click();
    await type(page, "Hello sales");
    await expect.poll(() => alertText(page)).toBe(
      "Warning: this chat could not be set up securely (the message archive is not certified). Sending is disabled.",
    );
    expect(await page.locator(".msg.visitor .status").allTextContents()).toEqual(["Not sent"]);
    expect(await page.getByRole("dialog").getByRole("button", { name: "Send" }).isDisabled()).toBe(true);
    // Nothing was written to the conversation: no group, no message.
    const { conversations } = await world.server.staff.listConversations(world.server.tenant, { team: world.otherTeam });
    expect(conversations).toHaveLength(1);
    expect((await world.server.staff.entries(world.server.tenant, conversations[0]?.id ?? "")).entries).toEqual([]);
    await shot(page, "forged-archive");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("resumes after a reload from its encrypted state, with one widget per inbox across tabs", async () => {
    const { page, dialogs, errors } = await watchedPage(browser.context);
    await page.goto(`${world.host.origin}/`);
    await startChat(page, "Dee", "Before the reload");
    const agent = world.agent;
    const c = await agent.waitForConversation("queued", seen);
    seen.add(c);
    await agent.rest.claim(world.server.tenant, c);
    await agent.open(c);
    await agent.join(c);
    await expect.poll(() => page.locator(".badges li[data-role=agent]").count()).toBe(1);
    await agent.say(c, "Reply one");
    await expect.poll(() => logTexts(page)).toEqual(["Before the reload", "Reply one"]);

    // A second tab of the same browser does not run a second widget for the inbox.
    const other = await watchedPage(browser.context);
    await other.page.goto(`${world.host.origin}/`);
    await other.page.getByRole("button", { name: "Open chat" }).click();
    await expect.poll(() => other.page.locator(".body").textContent()).toBe("This chat is open in another tab or window of this browser. Continue there.");
    await other.page.close();

    await page.reload();
    await agent.say(c, "Reply two, during the reload");
    await page.getByRole("button", { name: "Open chat" }).click();
    await expect.poll(() => logTexts(page)).toEqual(["Before the reload", "Reply one", "Reply two, during the reload"]);
    await expect.poll(() => page.locator(".badges li[data-role=agent]").allTextContents()).toEqual(["Jane D. — verified Interop agent"]);
    await type(page, "After the reload");
    expect((await agent.waitFor(c, (s) => s.body.kind === "text")).body).toEqual({ kind: "text", text: "After the reload" });
    // What the browser keeps is encrypted: no message text in IndexedDB.
    const stored = await page.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const r = indexedDB.open("sealdesk-widget");
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error ?? new Error("indexedDB.open failed"));
      });
      const all = await new Promise<unknown[]>((resolve) => {
        const r = db.transaction("states").objectStore("states").getAll();
        r.onsuccess = () => resolve(r.result);
      });
      return all.map((rec) => new TextDecoder("latin1").decode((rec as { data: ArrayBuffer }).data));
    });
    expect(stored).toHaveLength(1);
    expect(stored[0]).not.toContain("reload");
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
