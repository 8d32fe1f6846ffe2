// Builds the widget: ONE self-contained, minified ES module (every dependency bundled, no
// dynamic chunks; E2EE.md §4 requires an SRI-pinnable file) and a manifest with its
// Subresource Integrity value (W3C SRI: "sha384-" + base64 of the SHA-384 of the bytes).

import { build, type Plugin } from "esbuild";
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

export const WIDGET_FILE = "widget/sealdesk-widget.js";

export interface Manifest {
  widget: { file: string; integrity: string; bytes: number; gzip_bytes: number };
}

/**
 * ts-mls and @hpke/core reach optional packages (other ciphersuites, Node's crypto, noble
 * fallbacks) through `import()` in try/catch. Those we do not install are replaced by a
 * bundled module that throws, the same failure the caller already handles, so that the file
 * holds no `import()` at all: nothing outside the SRI-pinned file can ever be loaded.
 */
const absentOptionalModules: Plugin = {
  name: "absent-optional-modules",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.kind !== "dynamic-import" || args.pluginData === "probe") return undefined;
      const found = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: "probe" });
      return found.errors.length === 0 ? found : { path: args.path, namespace: "absent" };
    });
    b.onLoad({ filter: /.*/, namespace: "absent" }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not part of the Sealdesk widget`)});`,
      loader: "js",
    }));
  },
};

const webDir = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Bundles widget/main.ts into `outDir` and writes `outDir/manifest.json`; returns the manifest and the code. */
export async function buildWidget(outDir = join(webDir, "dist")): Promise<{ manifest: Manifest; code: Uint8Array; imports: string[] }> {
  const result = await build({
    entryPoints: [join(webDir, "widget/main.ts")],
    bundle: true,
    format: "esm",
    splitting: false,
    minify: true,
    target: "es2022",
    platform: "browser",
    write: false,
    legalComments: "none",
    logLevel: "silent",
    plugins: [absentOptionalModules],
    metafile: true,
  });
  const out = result.outputFiles[0];
  if (result.outputFiles.length !== 1 || out === undefined) throw new Error(`expected one output file, got ${result.outputFiles.length}`);
  const code = out.contents;
  const manifest: Manifest = {
    widget: {
      file: WIDGET_FILE,
      integrity: `sha384-${createHash("sha384").update(code).digest("base64")}`,
      bytes: code.length,
      gzip_bytes: gzipSync(code, { level: 9 }).length,
    },
  };
  await mkdir(join(outDir, "widget"), { recursive: true });
  await writeFile(join(outDir, WIDGET_FILE), code);
  await writeFile(join(outDir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  // What the output still imports at run time (esbuild's metafile): must stay empty.
  const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => `${i.kind} ${i.path}`));
  return { manifest, code, imports };
}
