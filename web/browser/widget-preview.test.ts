// Image previews in the widget (widget/preview.ts), in Debian's Chromium against a real
// server: an image the agent sends is shown inline from a blob: URL (revoked once loaded) in a
// bounded box, enlarged from the keyboard, still downloadable; a file the agent calls a PNG
// that is an HTML page, and an SVG, are never shown as images; a host page whose CSP has no
// `img-src blob:` gets no preview and keeps the download.

import { mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { launch, watchedPage, type Browser } from "./chromium.js";
import { FIELDS, startWorld, type World } from "./fixture.js";
import { shopPage } from "./pages.js";

const SHOTS = join(dirname(fileURLToPath(import.meta.url)), "../../docs/screenshots");

const HTML = `<!doctype html><title>x</title><script>window.__xss=1</script><img src=x onerror="window.__xss=2">`;
const SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" onload="window.__xss=3"><rect width="40" height="40" fill="red"/></svg>`;

async function startChat(page: Page, first: string): Promise<void> {
  await page.getByRole("button", { name: "Open chat" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("button", { name: "I agree, start the chat" }).click();
  await dialog.getByLabel(`${FIELDS[0]?.label} (required)`).fill("Ada");
  await dialog.getByRole("button", { name: "Continue" }).click();
  const box = dialog.getByLabel("Your message");
  await box.fill(first);
  await box.press("Enter");
}

/** A real PNG of the given size, drawn by the browser. */
async function drawPng(page: Page, width: number, height: number): Promise<Buffer> {
  return Buffer.from(await page.evaluate(async ([w, h]) => {
    const canvas = new OffscreenCanvas(w, h);
    const ctx = canvas.getContext("2d");
    if (ctx === null) throw new Error("no 2d context");
    // A parcel label: enough drawing to recognise in the screenshot.
    ctx.fillStyle = "#f4e3c3";
    ctx.fillRect(0, 0, w, h);
    ctx.fillStyle = "#7a4b1c";
    ctx.fillRect(0, Math.round(h * 0.42), w, Math.round(h * 0.16));
    ctx.fillStyle = "#222";
    ctx.font = `${Math.round(h / 8)}px sans-serif`;
    ctx.fillText("ORDER 1042", Math.round(w * 0.08), Math.round(h * 0.3));
    const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: "image/png" })).arrayBuffer());
    return btoa(String.fromCharCode(...bytes));
  }, [width, height] as const), "base64");
}

/** Whether a blob: URL still loads as an image in the page (false once revoked). */
const loads = (page: Page, url: string) => page.evaluate((u) => new Promise<boolean>((resolve) => {
  const probe = new Image();
  probe.onload = () => resolve(true);
  probe.onerror = () => resolve(false);
  probe.src = u;
}), url);

describe("image previews in the widget", () => {
  let world: World;
  let browser: Browser;
  const seen = new Set<string>();

  beforeAll(async () => {
    world = await startWorld();
    world.host.set("/", shopPage(world.snippet(), world.host.origin, world.relay.url));
    world.host.set("/strict", shopPage(world.snippet(), world.host.origin, world.relay.url, "'none'"));
  });
  beforeEach(async () => {
    browser = await launch();
  });
  afterEach(async () => {
    await browser?.close();
  });
  afterAll(async () => {
    await world?.stop();
  });

  async function conversation(page: Page, path: string): Promise<string> {
    await page.goto(`${world.host.origin}${path}`);
    await startChat(page, "Here is my order.");
    const agent = world.agent;
    const c = await agent.waitForConversation("queued", seen);
    seen.add(c);
    await agent.rest.claim(world.server.tenant, c);
    await agent.open(c);
    await agent.join(c);
    await expect.poll(() => page.locator(".badges li[data-role=agent]").count(), { timeout: 30_000 }).toBe(1);
    return c;
  }

  it("shows the agent's image inline, bounded and keyboard reachable, and never a disguised file", { timeout: 180_000 }, async () => {
    const { page, errors } = await watchedPage(browser.context);
    const c = await conversation(page, "/");
    const agent = world.agent;
    const png = await drawPng(page, 600, 400);
    await agent.sendFile(c, "parcel.png", png, "image/png");
    const img = page.locator(".msg.staff img.preview");
    await expect.poll(() => img.count(), { timeout: 30_000 }).toBe(1);
    await expect.poll(() => img.evaluate((i: HTMLImageElement) => [i.complete, i.naturalWidth, i.naturalHeight])).toEqual([true, 600, 400]);
    expect(await img.getAttribute("alt")).toBe("Preview of parcel.png");
    const src = await img.getAttribute("src");
    expect(src).toMatch(/^blob:/);
    // Revoked once loaded: the image stays on the screen, the URL opens nothing any more.
    expect(await loads(page, src ?? "")).toBe(false);
    // A bounded box, keeping the aspect ratio.
    const small = await img.boundingBox();
    expect(small?.width).toBeLessThanOrEqual(240);
    expect(small?.height).toBeLessThanOrEqual(200);
    expect(Math.round((small?.width ?? 0) / (small?.height ?? 1) * 10)).toBe(15);
    // Keyboard: the preview is a button named by its alt text; Enter enlarges it.
    const preview = page.getByRole("dialog").getByRole("button", { name: "Preview of parcel.png" });
    await preview.focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => preview.getAttribute("aria-expanded")).toBe("true");
    expect((await img.boundingBox())?.width).toBeGreaterThan(small?.width ?? 0);
    // The download is still there and saves the very bytes.
    const [saved] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download parcel.png" }).click()]);
    expect(await readFile(await saved.path())).toEqual(png);

    // An HTML page typed and named as a PNG, and an SVG: the bytes decide, neither is shown.
    await agent.sendFile(c, "cat.png", new TextEncoder().encode(HTML), "image/png");
    await agent.sendFile(c, "drawing.svg", new TextEncoder().encode(SVG), "image/svg+xml");
    const files = page.locator(".msg.staff");
    await expect.poll(() => page.locator(".msg.staff .file .name").allTextContents(), { timeout: 30_000 }).toEqual(["parcel.png", "cat.png", "drawing.svg"]);
    // Give the previews time to be fetched and refused (one at a time, in order).
    await expect.poll(() => page.evaluate(() => performance.getEntriesByType("resource").filter((r) => r.name.includes("/attachments/")).length), { timeout: 15_000 }).toBe(4);
    await page.waitForTimeout(500);
    expect(await files.nth(1).locator("img, svg:not([aria-hidden]), iframe, object, embed").count()).toBe(0);
    expect(await files.nth(2).locator("img, svg:not([aria-hidden]), iframe, object, embed").count()).toBe(0);
    expect(await page.locator(".msg img").count()).toBe(1);
    expect(await page.getByRole("button", { name: "Download cat.png" }).count()).toBe(1);
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
    expect(errors.filter((e) => !e.startsWith("Failed to load resource"))).toEqual([]);
    await mkdir(SHOTS, { recursive: true });
    await page.locator(".msg.staff").first().scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, "widget-image-preview.png") });
  });

  it("makes no preview where the host page's CSP has no img-src blob:, and keeps the download", { timeout: 180_000 }, async () => {
    const { page } = await watchedPage(browser.context);
    const c = await conversation(page, "/strict");
    await world.agent.sendFile(c, "parcel.png", await drawPng(page, 4, 3), "image/png");
    await expect.poll(() => page.locator(".msg.staff .file .name").allTextContents(), { timeout: 30_000 }).toEqual(["parcel.png"]);
    await expect.poll(() => page.evaluate(() => performance.getEntriesByType("resource").filter((r) => r.name.includes("/attachments/")).length), { timeout: 15_000 }).toBe(1);
    await page.waitForTimeout(500);
    expect(await page.locator(".msg.staff img, .msg.staff button.preview").count()).toBe(0);
    expect(await page.getByRole("button", { name: "Download parcel.png" }).count()).toBe(1);
  });
});
