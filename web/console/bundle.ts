// Builds the agent console into `outDir/console/`: index.html, ONE script (app.js, an ES
// module with every dependency bundled and no `import()` left) and ONE stylesheet (app.css).
// The server's page CSP allows scripts and styles from its own origin only, so nothing is
// inlined and nothing else is fetched.

import { build, type Plugin } from "esbuild";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const webDir = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Optional packages that ts-mls and @hpke/core try through `import()` and that are not
 * installed become a bundled module that throws (the failure the caller already handles).
 */
const absentOptional: Plugin = {
  name: "console-absent-optional",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.kind !== "dynamic-import" || args.pluginData === "probe") return undefined;
      const found = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: "probe" });
      return found.errors.length === 0 ? found : { path: args.path, namespace: "absent" };
    });
    b.onLoad({ filter: /.*/, namespace: "absent" }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not part of the Sealdesk console`)});`,
      loader: "js",
    }));
  },
};

export interface ConsoleBuild {
  files: string[];
  /** What app.js still imports at run time (esbuild's metafile): must stay empty. */
  imports: string[];
  bytes: number;
}

export async function buildConsole(outDir = join(webDir, "dist")): Promise<ConsoleBuild> {
  const dir = join(outDir, "console");
  await mkdir(dir, { recursive: true });
  const result = await build({
    entryPoints: [join(webDir, "console/main.ts")],
    bundle: true,
    format: "esm",
    splitting: false,
    minify: true,
    target: "es2022",
    platform: "browser",
    write: false,
    legalComments: "none",
    logLevel: "silent",
    plugins: [absentOptional],
    metafile: true,
  });
  const out = result.outputFiles[0];
  if (result.outputFiles.length !== 1 || out === undefined) throw new Error(`expected one script, got ${result.outputFiles.length}`);
  await writeFile(join(dir, "app.js"), out.contents);
  const css = await build({ entryPoints: [join(webDir, "console/app.css")], bundle: true, minify: true, write: false, logLevel: "silent" });
  await writeFile(join(dir, "app.css"), css.outputFiles[0]?.contents ?? new Uint8Array());
  await copyFile(join(webDir, "console/index.html"), join(dir, "index.html"));
  const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => `${i.kind} ${i.path}`));
  return { files: ["console/index.html", "console/app.js", "console/app.css"], imports, bytes: out.contents.length };
}
