// Ed25519 on WebCrypto, held to RFC 8037 A.4 (the vector the Rust `DeviceSigner` test uses)
// and to ed25519-dalek's `verify_strict` refusals of small-order keys and R values.
import { describe, expect, it } from "vitest";
import { fromBase64, toHex, utf8 } from "./bytes.js";
import { ed25519PublicKey, ed25519Sign, ed25519Verify, isEd25519Point, isSmallOrder } from "./ed25519.js";

const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
const b64url = (s: string): Uint8Array => {
  const b = s.replace(/-/g, "+").replace(/_/g, "/");
  return fromBase64(b + "=".repeat((4 - (b.length % 4)) % 4));
};

// RFC 8037 Appendix A.1 (key) and A.4 (signature over the JWS signing input).
const SEED = b64url("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A");
const PUBLIC = b64url("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
const INPUT = utf8("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc");
const SIGNATURE = b64url("hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg");

// Encodings of points of order dividing 8: the identity, the point of order 2, both of
// order 4, two of order 8, and the identity with a non-canonical y (p + 1).
const SMALL_ORDER = [
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0000000000000000000000000000000000000000000000000000000000000080",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
];

describe("Ed25519", () => {
  it("derives the public key and signs like RFC 8037 A.4", async () => {
    expect(toHex(await ed25519PublicKey(SEED))).toBe(toHex(PUBLIC));
    expect(toHex(await ed25519Sign(SEED, INPUT))).toBe(toHex(SIGNATURE));
    expect(await ed25519Verify(PUBLIC, INPUT, SIGNATURE)).toBe(true);
  });

  it("refuses altered messages, signatures and keys", async () => {
    expect(await ed25519Verify(PUBLIC, utf8("other"), SIGNATURE)).toBe(false);
    for (const i of [0, 31, 32, 63]) {
      const bad = SIGNATURE.slice();
      bad[i] = (bad[i] ?? 0) ^ 1;
      expect(await ed25519Verify(PUBLIC, INPUT, bad)).toBe(false);
    }
    expect(await ed25519Verify(PUBLIC.subarray(0, 31), INPUT, SIGNATURE)).toBe(false);
    expect(await ed25519Verify(PUBLIC, INPUT, SIGNATURE.subarray(0, 63))).toBe(false);
  });

  it("tells small-order points from the rest", () => {
    for (const p of SMALL_ORDER) {
      expect(isEd25519Point(hex(p)), p).toBe(true);
      expect(isSmallOrder(hex(p)), p).toBe(true);
    }
    expect(isSmallOrder(PUBLIC)).toBe(false);
    expect(isSmallOrder(SIGNATURE.subarray(0, 32))).toBe(false);
    // y = 2 is not on the curve: not a point, so never an acceptable key.
    const notAPoint = new Uint8Array(32);
    notAPoint[0] = 2;
    expect(isEd25519Point(notAPoint)).toBe(false);
    expect(isEd25519Point(PUBLIC)).toBe(true);
  });

  it("refuses the identity as key with the identity as R and S = 0 (valid for every message)", async () => {
    const identity = hex(SMALL_ORDER[0] ?? "");
    const signature = new Uint8Array(64);
    signature.set(identity);
    expect(await ed25519Verify(identity, INPUT, signature)).toBe(false);
    // A small-order R with a genuine key is refused before any curve check.
    const smallR = SIGNATURE.slice();
    smallR.set(hex(SMALL_ORDER[4] ?? ""));
    expect(await ed25519Verify(PUBLIC, INPUT, smallR)).toBe(false);
  });
});
