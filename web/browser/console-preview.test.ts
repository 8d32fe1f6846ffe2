// Image previews of attachments in the console (web/console/attachment-preview.ts), in
// Debian's Chromium against a real `sealdesk serve`: a PNG the visitor sends from the widget
// is fetched only when the agent clicks "Show preview" (nothing is fetched before: a visitor
// could learn when an agent looks), then shown from a blob: URL; an SVG, and an HTML page
// named and typed as a PNG, never render as images and run nothing.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launch, watchedPage, type Browser } from "./chromium.js";
import { inert, signInAndEnrol, visitorStarts } from "./console-steps.js";
import { startConsoleWorld, type ConsoleWorld, serveShop } from "./console-world.js";

const SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" onload="window.__xss=11"><rect width="40" height="40" fill="red"/></svg>`;
const HTML = `<!doctype html><title>x</title><script>window.__xss=12</script><img src=x onerror="window.__xss=13">`;

describe("image previews in the console", () => {
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

  it("previews a PNG on request only, and never renders an SVG or a disguised page", { timeout: 240_000 }, async () => {
    const agent = await watchedPage(browser.context);
    const page = agent.page;
    const fetched: string[] = [];
    page.on("request", (r) => {
      if (new URL(r.url()).pathname.includes("/attachments/")) fetched.push(r.method());
    });
    await signInAndEnrol(page, world, world.agent, "agent");
    const visitor = await watchedPage(browser.context);
    await visitor.page.goto(`${world.host.origin}/`);
    await visitorStarts(visitor.page, "Ada", "hello, a photo for you");
    const item = page.locator("#queue li button");
    await expect.poll(() => item.locator(".preview").allTextContents(), { timeout: 30_000 }).toEqual(["hello, a photo for you"]);
    await item.click();
    await page.getByRole("button", { name: "Claim" }).click();
    await expect.poll(() => page.locator("#reply").isEnabled(), { timeout: 30_000 }).toBe(true);

    // A real 4×3 PNG, drawn by the visitor's browser.
    const png = Buffer.from(await visitor.page.evaluate(async () => {
      const canvas = new OffscreenCanvas(4, 3);
      const ctx = canvas.getContext("2d");
      if (ctx === null) throw new Error("no 2d context");
      ctx.fillStyle = "#c00";
      ctx.fillRect(0, 0, 4, 3);
      const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: "image/png" })).arrayBuffer());
      return btoa(String.fromCharCode(...bytes));
    }), "base64");
    const input = visitor.page.locator("input[type=file]");
    await input.setInputFiles({ name: "parcel.png", mimeType: "image/png", buffer: png });
    const files = page.locator("#log .msg.visitor .file");
    await expect.poll(() => files.count(), { timeout: 30_000 }).toBe(1);
    // Nothing fetched, nothing shown until the agent asks.
    expect(fetched).toEqual([]);
    expect(await page.locator("#log img").count()).toBe(0);
    await files.nth(0).getByRole("button", { name: "Show a preview of parcel.png" }).click();
    const img = page.locator("#log img.attachment-preview");
    await expect.poll(() => img.count(), { timeout: 15_000 }).toBe(1);
    await expect.poll(() => img.evaluate((i: HTMLImageElement) => [i.complete, i.naturalWidth, i.naturalHeight]), { timeout: 15_000 }).toEqual([true, 4, 3]);
    expect(await img.getAttribute("src")).toMatch(/^blob:/);
    expect(await img.getAttribute("alt")).toBe("Preview of parcel.png");
    expect(fetched).toEqual(["GET"]);

    // An SVG, and an HTML page named and typed as a PNG: the bytes decide, and they are neither.
    await input.setInputFiles({ name: "drawing.svg", mimeType: "image/svg+xml", buffer: Buffer.from(SVG) });
    await expect.poll(() => files.count(), { timeout: 30_000 }).toBe(2);
    await input.setInputFiles({ name: "cat.png", mimeType: "image/png", buffer: Buffer.from(HTML) });
    await expect.poll(() => files.count(), { timeout: 30_000 }).toBe(3);
    for (const [i, name] of [[1, "drawing.svg"], [2, "cat.png"]] as const) {
      await files.nth(i).getByRole("button", { name: `Show a preview of ${name}` }).click();
      await expect.poll(() => files.nth(i).locator(".preview-status").textContent(), { timeout: 15_000 }).toBe("No preview: not a PNG, JPEG, GIF or WebP image.");
    }
    expect(await page.locator("#log img, #log svg, #log iframe, #log object, #log embed").count()).toBe(1);
    expect(await files.nth(1).locator("img").count()).toBe(0);
    expect(await files.nth(2).locator("img").count()).toBe(0);
    for (const w of [agent, visitor]) await inert(w);
    expect(agent.errors.filter((e) => !e.startsWith("Failed to load resource"))).toEqual([]);
  });
});
