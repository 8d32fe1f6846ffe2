// The TypeScript payload codec against the vectors the Rust codec writes
// (crates/sealdesk-mls/tests/vectors/payload.json): byte-identical encodings, the same
// decoded fields, and the same refusals.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { toHex } from "../util/bytes.js";
import { decodePayload, encodePayload, PayloadError, type Body, type Payload } from "./payload.js";

interface Vectors {
  valid: Array<{ name: string; msg_id: string; sent_at_ms: number; body: Record<string, unknown>; encoded: string }>;
  invalid: Array<{ name: string; encoded: string }>;
}

const vectors = JSON.parse(
  readFileSync(new URL("../../../crates/sealdesk-mls/tests/vectors/payload.json", import.meta.url), "utf8"),
) as Vectors;

const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));

function body(v: Record<string, unknown>): Body {
  switch (v.kind) {
    case "text": return { kind: "text", text: v.text as string };
    case "file": return {
      kind: "file",
      file: {
        sha256: hex(v.sha256 as string), size: BigInt(v.size as number), key: hex(v.key as string),
        nonce: hex(v.nonce as string), name: v.name as string, mediaType: v.media_type as string,
      },
    };
    case "typing": return { kind: "typing", on: v.on as boolean };
    case "read": return { kind: "read", seq: BigInt(v.seq as number) };
    case "leave_request": return { kind: "leave_request" };
    case "prechat": return { kind: "prechat", fields: v.fields as Array<[string, string]> };
    default: throw new Error(`unknown kind in the vectors: ${String(v.kind)}`);
  }
}

describe("application payload", () => {
  it("has vectors of every kind", () => {
    expect(new Set(vectors.valid.map((v) => v.body.kind))).toEqual(
      new Set(["text", "file", "typing", "read", "leave_request", "prechat"]),
    );
  });

  for (const v of vectors.valid) {
    it(`encodes and decodes like Rust: ${v.name}`, () => {
      const payload: Payload = { msgId: hex(v.msg_id), sentAtMs: BigInt(v.sent_at_ms), body: body(v.body) };
      expect(toHex(encodePayload(payload))).toBe(v.encoded);
      expect(decodePayload(hex(v.encoded))).toEqual(payload);
    });
  }

  for (const v of vectors.invalid) {
    it(`refuses like Rust: ${v.name}`, () => {
      expect(() => decodePayload(hex(v.encoded))).toThrow(PayloadError);
    });
  }

  it("refuses what it cannot encode", () => {
    const msgId = new Uint8Array(16);
    expect(() => encodePayload({ msgId, sentAtMs: 0n, body: { kind: "text", text: "" } })).toThrow(PayloadError);
    expect(() => encodePayload({ msgId: new Uint8Array(3), sentAtMs: 0n, body: { kind: "typing", on: true } })).toThrow(PayloadError);
  });
});
