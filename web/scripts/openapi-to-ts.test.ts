// The generator on small documents: each mapping rule, the failures, and determinism.
import { describe, expect, it } from "vitest";

import { HEADER, generateTypes } from "./openapi-to-ts.js";

function gen(schemas: Record<string, unknown>): string {
  const out = generateTypes({ openapi: "3.1.0", components: { schemas } });
  expect(out.startsWith(HEADER)).toBe(true);
  return out.slice(out.indexOf("\n\n") + 2);
}

describe("generateTypes", () => {
  it("makes interfaces of objects, with optional and nullable fields and arrays", () => {
    expect(
      gen({
        Thing: {
          type: "object",
          description: "A thing.",
          required: ["id", "tags"],
          properties: {
            id: { type: "string", format: "uuid", description: "Its id." },
            count: { type: ["integer", "null"], format: "int64", minimum: 0 },
            tags: { type: "array", items: { type: "string" } },
            "x-odd": { type: "number" },
            owner: { oneOf: [{ type: "null" }, { $ref: "#/components/schemas/Owner", description: "Who owns it." }] },
          },
        },
        Owner: { type: "string" },
      }),
    ).toBe(
      [
        "export type Owner = string;",
        "",
        "/** A thing. */",
        "export interface Thing {",
        "  /** Its id. */",
        "  id: string;",
        "  count?: number | null;",
        "  tags: string[];",
        '  "x-odd"?: number;',
        "  /** Who owns it. */",
        "  owner?: Owner | null;",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("makes literal unions of enums and discriminated unions of tagged oneOfs, tag first", () => {
    const out = gen({
      Kind: { type: "string", enum: ["a", "b_c"] },
      Info: { type: "object", required: ["v"], properties: { v: { type: "integer" } } },
      Frame: {
        oneOf: [
          { allOf: [{ $ref: "#/components/schemas/Info" }, { type: "object", required: ["t"], properties: { t: { type: "string", enum: ["info"] } } }] },
          { type: "object", required: ["k", "t"], properties: { k: { $ref: "#/components/schemas/Kind" }, t: { type: "string", enum: ["kind"] } } },
        ],
      },
    });
    expect(out).toContain('export type Kind = "a" | "b_c";');
    expect(out).toContain(
      [
        "export type Frame =",
        "  | (Info & {",
        '      t: "info";',
        "    })",
        "  | {",
        '      t: "kind";',
        "      k: Kind;",
        "    };",
      ].join("\n"),
    );
  });

  it("makes records of maps, unknown of untyped schemas, and parenthesises array items", () => {
    const out = gen({
      Map: { type: "object", additionalProperties: { type: "string" }, propertyNames: { type: "string" } },
      Any: { description: "Anything." },
      Opaque: { type: "object" },
      List: { type: "array", items: { oneOf: [{ type: "string" }, { type: "integer" }] } },
    });
    expect(out).toContain("export type Map = Record<string, string>;");
    expect(out).toContain("/** Anything. */\nexport type Any = unknown;");
    expect(out).toContain("export type Opaque = Record<string, unknown>;");
    expect(out).toContain("export type List = (string | number)[];");
  });

  it("gives titled one-value oneOfs a constant object too", () => {
    const out = gen({
      Code: {
        description: "Close codes.",
        oneOf: [
          { type: "integer", enum: [1000], title: "NORMAL", description: "Fine." },
          { type: "integer", enum: [4001], title: "UNAUTHENTICATED" },
        ],
      },
    });
    expect(out).toBe(
      [
        "/** Close codes. */",
        "export type Code =",
        "  | 1000",
        "  | 4001;",
        "export const Code = {",
        "  /** Fine. */",
        "  NORMAL: 1000,",
        "  UNAUTHENTICATED: 4001,",
        "} as const;",
        "",
      ].join("\n"),
    );
  });

  it("refuses what it cannot translate faithfully", () => {
    expect(() => gen({ A: { $ref: "#/components/schemas/Missing" } })).toThrow(/unknown schema Missing/);
    expect(() => gen({ A: { not: { type: "string" } } })).toThrow(/unsupported keyword `not`/);
    expect(() => gen({ A: { type: "object", properties: { x: { type: "string" } }, required: ["y"] } })).toThrow(/`y` is not defined/);
    expect(() => gen({ "a-b": { type: "string" } })).toThrow(/not a TypeScript identifier/);
    expect(() => gen({ A: { type: "date" } })).toThrow(/unsupported type/);
    expect(() => generateTypes({ openapi: "3.1.0" })).toThrow(/no components.schemas/);
  });

  it("is deterministic: schemas in name order whatever the document's order", () => {
    const a = { type: "string" };
    const b = { type: "integer" };
    expect(gen({ B: b, A: a })).toBe(gen({ A: a, B: b }));
    expect(gen({ B: b, A: a }).indexOf("export type A")).toBeLessThan(gen({ B: b, A: a }).indexOf("export type B"));
  });

  it("escapes comment terminators in descriptions", () => {
    expect(gen({ A: { type: "string", description: "ends */ here" } })).toContain("/** ends *\\/ here */");
  });
});
