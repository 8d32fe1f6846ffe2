// `npm run gen:types`: writes shared/protocol/generated.ts from ../docs/openapi.json (which
// the server's `openapi` test keeps equal to what sealdesk-proto describes). With `--check`,
// only reports whether the committed file is current (exit 1 if not). The drift test
// (shared/protocol/generated.test.ts) makes the same comparison in `npm test`.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { generateTypes } from "./openapi-to-ts.js";

const openapiJson = fileURLToPath(new URL("../../docs/openapi.json", import.meta.url));
const generatedTs = fileURLToPath(new URL("../shared/protocol/generated.ts", import.meta.url));

const expected = generateTypes(JSON.parse(readFileSync(openapiJson, "utf8")));
let current: string | undefined;
try {
  current = readFileSync(generatedTs, "utf8");
} catch {
  current = undefined;
}
if (process.argv.includes("--check")) {
  if (current !== expected) {
    console.error("web/shared/protocol/generated.ts is stale: run npm run gen:types");
    process.exitCode = 1;
  }
} else if (current === expected) {
  console.log("shared/protocol/generated.ts is up to date");
} else {
  writeFileSync(generatedTs, expected);
  console.log(`wrote shared/protocol/generated.ts (${expected.split("\n").length - 1} lines)`);
}
