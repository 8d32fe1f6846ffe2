// The MLS vectors of our sealed formats (RFC 9420 §2.1.2), held to the Rust test
// `vectors_have_one_encoding` (crates/sealdesk-mls/src/wire.rs): one encoding per length.
import { describe, expect, it } from "vitest";
import { MAX_VEC, Reader, vec } from "./wire.js";

const reader = (bytes: number[]): Reader => new Reader(Uint8Array.from(bytes), (what) => new Error(what));

describe("MLS vectors", () => {
  it("have exactly one encoding", () => {
    for (const len of [0, 1, 63, 64, 300, MAX_VEC]) {
      const data = new Uint8Array(len).fill(7);
      const out = vec(data);
      expect(out?.length).toBe(len + (len < 64 ? 1 : 2));
      const r = new Reader(out ?? new Uint8Array(0), (what) => new Error(what));
      expect(r.vec()).toEqual(data);
      expect(r.remaining).toBe(0);
    }
    expect(vec(new Uint8Array(16_384))).toBeNull();
    // A 2-byte length under 64 is not minimal; the 4- and 8-byte forms are not ours.
    expect(() => reader([0x40, 0x05, 1, 2, 3, 4, 5]).vec()).toThrow(/non-minimal/);
    expect(() => reader([0x80, 0, 0, 1, 9]).vec()).toThrow(/not used/);
    expect(() => reader([0xc0, 0, 0, 0, 0, 0, 0, 1, 9]).vec()).toThrow(/not used/);
    expect(() => reader([0x05, 1, 2]).vec()).toThrow(/truncated/);
    expect(() => reader([0x41]).vec()).toThrow(/truncated/);
    expect(reader([0x40, 0x40, ...new Array<number>(64).fill(1)]).vec().length).toBe(64);
  });
});
