// Sealed objects (SDS1) for the tenant's key distribution (shared/design/E2EE.md §3, "Wire
// formats for wraps and seals"), the twin of crates/sealdesk-mls/src/seal.rs: a team key's
// private half wrapped to a device, a History Member's private key package sealed to the team
// and archive keys.
//
// HPKE base mode (RFC 9180 §5.1.1) with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM
// (RFC 9180 §7: KEM 0x0020, KDF 0x0001, AEAD 0x0001), through @hpke/core;
// info = "lc-e2ee/v1/<purpose>" ‖ tenant (16) ‖ team (16) ‖ key_version (u32 BE) ‖ recipient (32);
// aad = "SDS1". Encoding: "SDS1" ‖ enc<V> ‖ ciphertext<V> ‖ signer (32) ‖ signature (64),
// vectors as in MLS (RFC 9420 §2.1.2); the Ed25519 signature (RFC 8032) covers
// "sealdesk sealed v1\0" ‖ info ‖ every byte before it, so the server cannot substitute an
// object (the MSC3270 lesson), and the opener names the signer it expects.

import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256, type CipherSuiteSealResponse } from "@hpke/core";
import { bytesEqual, utf8 } from "../util/bytes.js";
import { ed25519PublicKey, ed25519Sign, ed25519Verify, isEd25519Point } from "../util/ed25519.js";
import { concat, Reader, u32, vec } from "../util/wire.js";

const MAGIC = utf8("SDS1");
const SIGNING_CONTEXT = utf8("sealdesk sealed v1\0");

/** The kinds of Rust's `MlsError` that the sealed formats (SDS1, SDB1, SDK1) report. */
export type SealErrorCode = "malformed" | "rejected" | "credential";

/**
 * Why an object cannot be sealed, opened or verified: "malformed" (not well formed),
 * "rejected" (well formed, but not for this key, context or signer), "credential" (a
 * certificate or signer does not lead to the pinned tenant root).
 */
export class SealError extends Error {
  override name = "SealError";
  constructor(
    readonly code: SealErrorCode,
    detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}

const malformed = (what: string): SealError => new SealError("malformed", what);

/**
 * What a sealed object is for, and for whom: all of it goes into HPKE's info and the
 * signature, so an object sealed for one purpose, team, version or recipient cannot be
 * replayed as another.
 */
export interface SealContext {
  /** `team-key-wrap`, `archive-key-wrap`, `history-bundle`, `history-archive`, … */
  purpose: string;
  tenant: Uint8Array; // 16
  team: Uint8Array; // 16, zero when not a team object
  keyVersion: number; // u32: the sealing key's version
  recipient: Uint8Array; // 32: the recipient key's id (its public key)
}

/** An X25519 HPKE key pair (a team, archive or device wrap key), raw 32-byte keys. */
export interface HpkeKeys {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

function fixed(bytes: Uint8Array, n: number, what: string): Uint8Array {
  if (bytes.length !== n) throw malformed(`${what} is ${n} bytes`);
  return bytes;
}

/** `info = "lc-e2ee/v1/<purpose>" ‖ tenant ‖ team ‖ key_version ‖ recipient_key_id`. */
export function sealInfo(context: SealContext): Uint8Array {
  return concat(
    utf8(`lc-e2ee/v1/${context.purpose}`), fixed(context.tenant, 16, "tenant"), fixed(context.team, 16, "team"),
    u32(context.keyVersion), fixed(context.recipient, 32, "recipient"),
  );
}

const kem = new DhkemX25519HkdfSha256();
const suite = new CipherSuite({ kem, kdf: new HkdfSha256(), aead: new Aes128Gcm() });

/** Derives a key pair from input keying material (RFC 9180 §7.1.3 `DeriveKeyPair`). */
export async function deriveKeys(ikm: Uint8Array): Promise<HpkeKeys> {
  const pair = await kem.deriveKeyPair(ikm);
  return {
    privateKey: new Uint8Array(await kem.serializePrivateKey(pair.privateKey)),
    publicKey: new Uint8Array(await kem.serializePublicKey(pair.publicKey)),
  };
}

/** Seals `plaintext` to `recipientPublic` for `context`, signed with a 32-byte Ed25519 seed. */
export async function seal(
  recipientPublic: Uint8Array,
  context: SealContext,
  plaintext: Uint8Array,
  signerSeed: Uint8Array,
): Promise<Uint8Array> {
  const info = sealInfo(context);
  let sealed: CipherSuiteSealResponse;
  try {
    const recipientPublicKey = await kem.deserializePublicKey(fixed(recipientPublic, 32, "an X25519 public key"));
    sealed = await suite.seal({ recipientPublicKey, info }, plaintext, MAGIC);
  } catch (e) {
    if (e instanceof SealError) throw e;
    throw new SealError("rejected", `HPKE cannot seal to this key (${String(e)})`);
  }
  const enc = vec(new Uint8Array(sealed.enc));
  const ciphertext = vec(new Uint8Array(sealed.ct));
  if (enc === null || ciphertext === null) throw new SealError("rejected", "sealed objects are under 16 KiB");
  const body = concat(MAGIC, enc, ciphertext, await ed25519PublicKey(signerSeed));
  return concat(body, await ed25519Sign(signerSeed, concat(SIGNING_CONTEXT, info, body)));
}

/**
 * Opens a sealed object: its signer must be `expectedSigner` (a device the caller trusts, for
 * example through its certificate chain) and the signature must verify over this `context`;
 * then HPKE must open it with `recipientPrivate`. The checks run in the Rust order.
 */
export async function open(
  sealed: Uint8Array,
  context: SealContext,
  recipientPrivate: Uint8Array,
  expectedSigner: Uint8Array,
): Promise<Uint8Array> {
  if (sealed.length < 4 + 96 || !bytesEqual(sealed.subarray(0, 4), MAGIC)) throw malformed("sealed object");
  const body = sealed.subarray(0, sealed.length - 96);
  const signer = sealed.subarray(sealed.length - 96, sealed.length - 64);
  const signature = sealed.subarray(sealed.length - 64);
  if (!bytesEqual(signer, expectedSigner)) throw new SealError("rejected", "sealed by another device");
  const info = sealInfo(context);
  if (!isEd25519Point(expectedSigner)) throw malformed("the expected signer is not an Ed25519 key");
  if (!(await ed25519Verify(expectedSigner, concat(SIGNING_CONTEXT, info, body, signer), signature))) {
    throw new SealError("rejected", "the seal's signature does not verify");
  }
  const r = new Reader(body.subarray(4), () => malformed("sealed object"));
  const enc = r.vec();
  const ciphertext = r.vec();
  if (r.remaining !== 0) throw malformed("sealed object");
  try {
    const recipientKey = await kem.deserializePrivateKey(recipientPrivate);
    return new Uint8Array(await suite.open({ recipientKey, enc, info }, ciphertext, MAGIC));
  } catch {
    throw new SealError("rejected", "the sealed object does not open with this key");
  }
}
