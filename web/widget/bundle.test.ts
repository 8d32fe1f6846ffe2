// The widget's bundle: one file, no dynamic imports, within the size budget (issue 6: ≤ 150 KiB
// gzipped), and a manifest whose SRI value is the file's SHA-384.
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWidget, WIDGET_FILE, type Manifest } from "./bundle.js";

const BUDGET_GZIP = 150 * 1024;

describe("widget bundle", () => {
  let dir: string;
  let code: string;
  let manifest: Manifest;
  let imports: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sealdesk-widget-"));
    ({ manifest, imports } = await buildWidget(dir));
    code = await readFile(join(dir, WIDGET_FILE), "utf8");
  }, 60_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("is a single file within the gzip budget", async () => {
    expect(await readdir(join(dir, "widget"))).toEqual(["sealdesk-widget.js"]);
    const gzip = gzipSync(Buffer.from(code), { level: 9 }).length;
    expect(gzip).toBe(manifest.widget.gzip_bytes);
    expect(gzip).toBeLessThanOrEqual(BUDGET_GZIP);
    expect(manifest.widget.bytes).toBe(Buffer.byteLength(code));
  });

  it("loads nothing else: no dynamic import, no static import", () => {
    expect(code).not.toMatch(/\bimport\s*\(/);
    expect(imports).toEqual([]);
  });

  it("never writes markup from strings", () => {
    expect(code).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });

  it("records the file's Subresource Integrity value", async () => {
    const bytes = await readFile(join(dir, WIDGET_FILE));
    expect(manifest.widget.integrity).toBe(`sha384-${createHash("sha384").update(bytes).digest("base64")}`);
    const onDisk = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as Manifest;
    expect(onDisk).toEqual(manifest);
  });
});
