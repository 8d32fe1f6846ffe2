// Attachments in the console, in Debian's Chromium against a real `sealdesk serve`: the
// visitor sends a file from the widget and the agent downloads it (decrypted in the console,
// its hash checked, the very same bytes saved); the agent attaches one and the visitor gets
// the same bytes; a file above the server's limit is refused before anything is uploaded;
// a blob altered in the server's data directory is refused with a clear message.

import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launch, watchedPage, type Browser } from "./chromium.js";
import { inert, signInAndEnrol, visitorStarts } from "./console-steps.js";
import { startConsoleWorld, type ConsoleWorld, serveShop } from "./console-world.js";

async function blobFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const sub of await readdir(dir)) for (const f of await readdir(join(dir, sub))) out.push(join(dir, sub, f));
  return out;
}

describe("attachments in the console", () => {
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

  it("downloads the visitor's file, sends one, and refuses a tampered blob", { timeout: 240_000 }, async () => {
    const agent = await watchedPage(browser.context);
    const page = agent.page;
    await signInAndEnrol(page, world, world.agent, "agent");
    const visitor = await watchedPage(browser.context);
    await visitor.page.goto(`${world.host.origin}/`);
    await visitorStarts(visitor.page, "Ada", "hello, a file for you");
    const item = page.locator("#queue li button");
    await expect.poll(() => item.locator(".preview").allTextContents(), { timeout: 30_000 }).toEqual(["hello, a file for you"]);
    await item.click();
    await page.getByRole("button", { name: "Claim" }).click();
    await expect.poll(() => page.locator("#reply").isEnabled(), { timeout: 30_000 }).toBe(true);
    expect(await page.locator("#attach").isEnabled()).toBe(true);

    // The visitor's file: named with markup, shown as text, saved with the same bytes.
    const receipt = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7 + 3) % 256));
    const receiptName = "receipt<img src=x onerror=alert(1)>.bin";
    await visitor.page.locator("input[type=file]").setInputFiles({ name: receiptName, mimeType: "application/octet-stream", buffer: receipt });
    const fileLine = page.locator("#log .msg.visitor .file");
    await expect.poll(() => fileLine.locator(".text").allTextContents(), { timeout: 30_000 }).toEqual([`Attachment: ${receiptName} · 3 KB · application/octet-stream`]);
    expect(await page.locator("#log img").count()).toBe(0);
    const [saved] = await Promise.all([page.waitForEvent("download"), fileLine.getByRole("button", { name: `Download ${receiptName}` }).click()]);
    expect(Buffer.compare(await readFile(await saved.path()), receipt)).toBe(0);
    expect(saved.suggestedFilename()).toMatch(/^receipt.*\.bin$/);

    // The agent's file: the visitor's widget opens it to the same bytes.
    const label = Buffer.from(`Return label for order 1042\n${"x".repeat(500)}`);
    await page.locator("#attach-input").setInputFiles({ name: "label.txt", mimeType: "text/plain", buffer: label });
    await expect.poll(() => page.locator("#log .msg.mine .file .text").allTextContents(), { timeout: 30_000 }).toEqual(["Attachment: label.txt · 528 B · text/plain"]);
    await expect.poll(() => visitor.page.locator(".msg.staff .file .name").allTextContents(), { timeout: 30_000 }).toEqual(["label.txt"]);
    const [got] = await Promise.all([visitor.page.waitForEvent("download"), visitor.page.getByRole("button", { name: "Download label.txt" }).click()]);
    expect(Buffer.compare(await readFile(await got.path()), label)).toBe(0);

    // Above the server's limit (chat.attachment_max_bytes, 10 MiB by default): refused here,
    // nothing uploaded or sent.
    const uploads: string[] = [];
    page.on("request", (r) => {
      if (r.method() === "POST" && r.url().includes("/attachments")) uploads.push(r.url());
    });
    await page.locator("#attach-input").setInputFiles({ name: "huge.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(10 * 1024 * 1024) });
    await expect.poll(() => page.locator("#conv-alert").textContent(), { timeout: 30_000 }).toBe("Not sent: the file is larger than this server's limit of 10.0 MB.");
    expect(uploads).toEqual([]);
    expect(await page.locator("#log .file").count()).toBe(2);

    // A blob altered on the server: its hash no longer matches the reference; refused, nothing saved.
    for (const f of await blobFiles(join(world.keyPath("data"), "blobs"))) {
      const bytes = await readFile(f);
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
      await writeFile(f, bytes);
    }
    let downloads = 0;
    page.on("download", () => (downloads += 1));
    await fileLine.getByRole("button", { name: `Download ${receiptName}` }).click();
    await expect.poll(() => page.locator("#conv-alert").textContent(), { timeout: 30_000 }).toBe("The attachment was refused: the file is not the one that was sent.");
    expect(downloads).toBe(0);

    await inert(agent);
    await inert(visitor);
    expect(agent.errors.filter((e) => !e.startsWith("Failed to load resource"))).toEqual([]);
    expect(visitor.errors.filter((e) => !e.startsWith("Failed to load resource"))).toEqual([]);
  });
});
