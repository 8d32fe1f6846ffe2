// Ed25519 (RFC 8032) for our certificates and signed objects, on WebCrypto (browsers and
// Node 20 both have it). Private keys are 32-byte seeds, the form openmls and our Rust code
// use; WebCrypto wants them as PKCS#8 (RFC 8410), so they are wrapped here.
//
// Verification is held to what the Rust side's ed25519-dalek `verify_strict` accepts: besides
// RFC 8032 §5.1.7 (which WebCrypto does, with S < L and a byte comparison of R), a public key
// or an R of small order is refused. OpenSSL, under Node's WebCrypto, accepts them: with the
// identity as public key and as R and S = 0, every message "verifies".

import { fromBase64 } from "./bytes.js";

/** The Ed25519 PKCS#8 prefix WebCrypto exports (RFC 8410 §7): 16 bytes, then the 32-byte seed. */
export const ED25519_PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

const ALGORITHM = { name: "Ed25519" } as const;

function seedKey(seed: Uint8Array, extractable: boolean): Promise<CryptoKey> {
  if (seed.length !== 32) throw new RangeError("an Ed25519 seed is 32 bytes");
  const pkcs8 = new Uint8Array(48);
  pkcs8.set(ED25519_PKCS8_PREFIX);
  pkcs8.set(seed, 16);
  return crypto.subtle.importKey("pkcs8", pkcs8, ALGORITHM, extractable, ["sign"]);
}

/** The public key (RFC 8032 §5.1.5) of a 32-byte seed. */
export async function ed25519PublicKey(seed: Uint8Array): Promise<Uint8Array> {
  const jwk = await crypto.subtle.exportKey("jwk", await seedKey(seed, true));
  if (typeof jwk.x !== "string") throw new Error("WebCrypto exported no Ed25519 public key");
  // JWK uses base64url without padding (RFC 7515 §2); ours is standard base64.
  const b64 = jwk.x.replace(/-/g, "+").replace(/_/g, "/");
  return fromBase64(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
}

/** Signs `message` with a 32-byte seed (deterministic: RFC 8032 §5.1.6). */
export async function ed25519Sign(seed: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign(ALGORITHM, await seedKey(seed, false), new Uint8Array(message)));
}

// Curve arithmetic for the small-order test only (RFC 8032 §5.1: p, d; points in extended
// coordinates X, Y, Z, T with x = X/Z, y = Y/Z, x*y = T/Z). Not constant time: it only
// sees public keys and signatures.
const P = 2n ** 255n - 19n;
const mod = (a: bigint): bigint => ((a % P) + P) % P;

function pow(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}

const D = mod(-121665n * pow(121666n, P - 2n));
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

type Point = readonly [bigint, bigint, bigint, bigint];

/**
 * Decodes a point (RFC 8032 §5.1.3), or null. Like curve25519-dalek's decompression (what
 * the Rust side uses), the y coordinate is taken modulo p and x = 0 with the sign bit set is
 * not refused; both only concern encodings of small-order points, refused anyway below.
 */
function decodePoint(bytes: Uint8Array): Point | null {
  if (bytes.length !== 32) return null;
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(bytes[i] ?? 0);
  const sign = y >> 255n;
  y = mod(y & ((1n << 255n) - 1n));
  const u = mod(y * y - 1n);
  const v = mod(D * y * y + 1n);
  let x = mod(u * pow(v, 3n) * pow(u * pow(v, 7n), (P - 5n) / 8n));
  if (mod(v * x * x) !== u) {
    if (mod(v * x * x) !== mod(-u)) return null;
    x = mod(x * SQRT_M1);
  }
  if ((x & 1n) !== sign) x = mod(-x);
  return [x, y, 1n, mod(x * y)];
}

/** Point addition, RFC 8032 §5.1.4 (complete: also doubles). */
function add([x1, y1, z1, t1]: Point, [x2, y2, z2, t2]: Point): Point {
  const a = mod((y1 - x1) * (y2 - x2));
  const b = mod((y1 + x1) * (y2 + x2));
  const c = mod(2n * t1 * t2 * D);
  const d = mod(2n * z1 * z2);
  const e = b - a;
  const f = d - c;
  const g = d + c;
  const h = b + a;
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)];
}

/** Whether `bytes` decode to a curve point (what ed25519-dalek needs of a public key). */
export function isEd25519Point(bytes: Uint8Array): boolean {
  return decodePoint(bytes) !== null;
}

/** Whether `bytes` are a point whose order divides the cofactor 8 (or no point at all). */
export function isSmallOrder(bytes: Uint8Array): boolean {
  let q = decodePoint(bytes);
  if (q === null) return true;
  for (let i = 0; i < 3; i++) q = add(q, q);
  const [x, y, z] = q;
  return x === 0n && y === z;
}

/**
 * Verifies an Ed25519 signature as strictly as ed25519-dalek's `verify_strict`: lengths, a
 * valid public key and R of large order, then RFC 8032 §5.1.7 through WebCrypto.
 */
export async function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  if (isSmallOrder(publicKey) || isSmallOrder(signature.subarray(0, 32))) return false;
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("raw", new Uint8Array(publicKey), ALGORITHM, false, ["verify"]);
  } catch {
    return false;
  }
  // (Copies: WebCrypto takes views of an ArrayBuffer only, not of a SharedArrayBuffer.)
  return crypto.subtle.verify(ALGORITHM, key, new Uint8Array(signature), new Uint8Array(message));
}
