// The drift check: generated.ts must be exactly what `npm run gen:types` makes of the committed
// docs/openapi.json. With the server's `openapi` test (the committed document is what
// sealdesk-proto describes) this chains Rust → docs/openapi.json → generated.ts → `tsc`.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

import { HEADER, generateTypes } from "../../scripts/openapi-to-ts.js";

const openapiJson = new URL("../../../docs/openapi.json", import.meta.url);
const generatedTs = new URL("./generated.ts", import.meta.url);

/** The first line where two texts differ, for a message a reader can act on. */
function firstDifference(actual: string, expected: string): string {
  const a = actual.split("\n");
  const e = expected.split("\n");
  for (let i = 0; i < Math.max(a.length, e.length); i++) {
    if (a[i] !== e[i]) return `line ${i + 1}: committed ${JSON.stringify(a[i] ?? "<end of file>")}, expected ${JSON.stringify(e[i] ?? "<end of file>")}`;
  }
  return "none";
}

describe("shared/protocol/generated.ts", () => {
  it("is what docs/openapi.json generates (else: run npm run gen:types)", () => {
    const expected = generateTypes(JSON.parse(readFileSync(openapiJson, "utf8")));
    const committed = readFileSync(generatedTs, "utf8");
    if (committed !== expected) {
      expect.fail(
        `web/shared/protocol/generated.ts differs from what docs/openapi.json generates (${firstDifference(committed, expected)}): run npm run gen:types`,
      );
    }
    expect(committed.startsWith(HEADER)).toBe(true);
  });

  it("has the WebSocket frames, their parts and the close codes", () => {
    const committed = readFileSync(generatedTs, "utf8");
    for (const name of ["ClientFrame", "ServerFrame", "SystemEvent", "WireParty", "WireKind", "ReadyInfo", "Notice", "WsError", "CloseCode", "ErrorCode"]) {
      expect(committed).toMatch(new RegExp(`^export (type|interface) ${name}\\b`, "m"));
    }
  });
});
