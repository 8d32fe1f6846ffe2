// History Member bundles (SDB1; shared/design/E2EE.md §2, §6), the twin of
// crates/sealdesk-mls/src/bundle.rs: the private half of a History Member's key package,
// sealed by the team member's device that made it to the team key (queue preview, history for
// later agents) and to the tenant's archive key. The server stores it and can open none of it.
//
//   "SDB1" ‖ tenant (16) ‖ team (16) ‖ chain<V> (the sealing device's SDCH credential chain)
//   ‖ count (u8, 1..=4) ‖ count × { kind (u8: 1 team, 2 archive) ‖ key_version (u32 BE)
//                                   ‖ recipient (32) ‖ sealed<V> (an SDS1 object) }
//
// <V> is an MLS vector (RFC 9420 §2.1.2). Each SDS1 (seal.ts; HPKE, RFC 9180) is sealed with
// purpose "history-bundle" (team key) or "history-archive" (archive key), the envelope's
// tenant and team, the key's version and public key, over the KeyPackageSecrets encoding
// `key_package<V> ‖ init_private<V> ‖ encryption_private<V> ‖ signature_private<V>`, and
// signed by the device the chain certifies. The opener checks the chain against the root it
// pins, at the time the bundle was used, so a server cannot slip in a History Member.

import type { KeyPackageBundle } from "../mls/adapter.js";
import { chainSubject, verifyIdentity, type TrustAnchor, type Verified } from "../mls/certs.js";
import { bytesEqual, utf8 } from "../util/bytes.js";
import { concat, Reader, u32, vec } from "../util/wire.js";
import { open, seal, SealError, type SealContext } from "./seal.js";

const MAGIC = utf8("SDB1");
const MAX_RECIPIENTS = 4;

/**
 * A key package (RFC 9420 §10, as an MLSMessage) with its three raw 32-byte private keys:
 * what the adapter generates and imports, and what a bundle carries.
 */
export type KeyPackageSecrets = KeyPackageBundle;

/** Which tenant key a seal is for: a team key (TK) or the archive key (AK). */
export type KeyKind = "team" | "archive";
const KIND_BYTE: Record<KeyKind, number> = { team: 1, archive: 2 };
const PURPOSE: Record<KeyKind, string> = { team: "history-bundle", archive: "history-archive" };

/** Reads a kind's wire byte (1 team, 2 archive), or null. Shared with the announcements. */
export function keyKindOf(byte: number): KeyKind | null {
  return byte === 1 ? "team" : byte === 2 ? "archive" : null;
}

export const keyKindByte = (kind: KeyKind): number => KIND_BYTE[kind];

/** A public key a bundle is sealed to. */
export interface Recipient {
  kind: KeyKind;
  keyVersion: number; // u32
  publicKey: Uint8Array; // 32, X25519
}

/** The private key an opener holds, with the public half it is known by. */
export interface OpeningKey extends Recipient {
  privateKey: Uint8Array;
}

/** A bundle's parts, before anything is opened. */
export interface Envelope {
  tenant: Uint8Array;
  team: Uint8Array;
  chain: Uint8Array;
  seals: Array<{ recipient: Recipient; sealed: Uint8Array }>;
}

const malformed = (what: string): SealError => new SealError("malformed", what);

export function encodeKeyPackageSecrets(secrets: KeyPackageSecrets): Uint8Array {
  const keyPackage = vec(secrets.keyPackage);
  if (keyPackage === null) throw new SealError("rejected", "sealed objects are under 16 KiB");
  const keys = [secrets.initPrivate, secrets.encryptionPrivate, secrets.signaturePrivate].map((key) => {
    const v = key.length === 32 ? vec(key) : null;
    if (v === null) throw new SealError("rejected", "private keys are 32 bytes");
    return v;
  });
  return concat(keyPackage, ...keys);
}

/** Decodes `encodeKeyPackageSecrets`'s form, refusing trailing bytes and keys of another size. */
export function decodeKeyPackageSecrets(bytes: Uint8Array): KeyPackageSecrets {
  const r = new Reader(bytes, () => malformed("sealed object"));
  const keyPackage = r.vec().slice();
  const keys: Uint8Array[] = [];
  for (let i = 0; i < 3; i++) {
    const key = r.vec();
    if (key.length !== 32) throw malformed("private keys are 32 bytes");
    keys.push(key.slice());
  }
  if (r.remaining !== 0) throw malformed("key package secrets: trailing bytes");
  const [initPrivate, encryptionPrivate, signaturePrivate] = keys as [Uint8Array, Uint8Array, Uint8Array];
  return { keyPackage, initPrivate, encryptionPrivate, signaturePrivate };
}

const sameKey = (a: Recipient, b: Recipient): boolean => a.kind === b.kind && a.keyVersion === b.keyVersion;

function context(tenant: Uint8Array, team: Uint8Array, r: Recipient): SealContext {
  return { purpose: PURPOSE[r.kind], tenant, team, keyVersion: r.keyVersion, recipient: r.publicKey };
}

/**
 * Seals `secrets` for a team's pool: `chain` is the credential of the device whose 32-byte
 * Ed25519 seed is `signerSeed`. Rust: `seal_bundle`.
 */
export async function sealBundle(
  secrets: KeyPackageSecrets,
  tenant: Uint8Array,
  team: Uint8Array,
  chain: Uint8Array,
  recipients: Recipient[],
  signerSeed: Uint8Array,
): Promise<Uint8Array> {
  if (recipients.length === 0 || recipients.length > MAX_RECIPIENTS) {
    throw new SealError("rejected", "a bundle has 1 to 4 recipients");
  }
  if (recipients.some((r, i) => recipients.slice(0, i).some((o) => sameKey(o, r)))) {
    throw new SealError("rejected", "a key appears twice");
  }
  const plaintext = encodeKeyPackageSecrets(secrets);
  const chainVec = vec(chain);
  if (chainVec === null) throw new SealError("rejected", "sealed objects are under 16 KiB");
  if (tenant.length !== 16 || team.length !== 16) throw malformed("tenant and team are 16 bytes");
  const parts = [MAGIC, tenant, team, chainVec, Uint8Array.of(recipients.length)];
  for (const r of recipients) {
    const sealed = vec(await seal(r.publicKey, context(tenant, team, r), plaintext, signerSeed));
    if (sealed === null) throw new SealError("rejected", "sealed objects are under 16 KiB");
    parts.push(Uint8Array.of(KIND_BYTE[r.kind]), u32(r.keyVersion), r.publicKey, sealed);
  }
  return concat(...parts);
}

/** Parses a bundle (no cryptography). Rust: `bundle::parse`. */
export function parseBundle(bytes: Uint8Array): Envelope {
  const r = new Reader(bytes, (what) => malformed(`history bundle: ${what}`));
  if (!bytesEqual(r.take(4), MAGIC)) throw malformed("not a history bundle");
  const tenant = r.take(16).slice();
  const team = r.take(16).slice();
  const chain = r.vec().slice();
  const count = r.u8();
  if (count === 0 || count > MAX_RECIPIENTS) throw malformed("a bundle has 1 to 4 recipients");
  const seals: Envelope["seals"] = [];
  for (let i = 0; i < count; i++) {
    const kind = keyKindOf(r.u8());
    if (kind === null) throw malformed("unknown key kind");
    const recipient: Recipient = { kind, keyVersion: r.u32(), publicKey: r.take(32).slice() };
    const sealed = r.vec().slice();
    if (seals.some((s) => sameKey(s.recipient, recipient))) throw malformed("a key appears twice");
    seals.push({ recipient, sealed });
  }
  if (r.remaining !== 0) throw malformed("history bundle: trailing bytes");
  return { tenant, team, chain, seals };
}

/** The device key a chain certifies, if it may make History Members (at `at`). */
async function sealingDevice(chain: Uint8Array, anchor: TrustAnchor, at: bigint): Promise<Uint8Array> {
  // The chain names its own subject; verifyIdentity then binds the chain to that key.
  const subject = await chainSubject(chain);
  if (subject === null) throw new SealError("credential", "the bundle's chain is malformed");
  let verified: Verified;
  try {
    verified = await verifyIdentity(chain, subject, anchor, at);
  } catch (e) {
    throw new SealError("credential", e instanceof Error ? e.message : String(e));
  }
  if (verified.kind !== "device" || (verified.body.role !== "agent" && verified.body.role !== "supervisor")) {
    throw new SealError("credential", "only agent and supervisor devices make History Members");
  }
  return subject;
}

/**
 * Opens a bundle with `key`: the chain must verify against `anchor` at `atSeconds` (when the
 * bundle was taken) for an agent or supervisor device, and the seal must be that device's.
 * Rust: `open_bundle`, the same checks in the same order.
 */
export async function openBundle(
  bytes: Uint8Array,
  key: OpeningKey,
  anchor: TrustAnchor,
  atSeconds: number | bigint,
): Promise<KeyPackageSecrets> {
  const envelope = parseBundle(bytes);
  if (!bytesEqual(envelope.tenant, anchor.tenant)) throw new SealError("rejected", "another tenant's bundle");
  const signer = await sealingDevice(envelope.chain, anchor, BigInt(atSeconds));
  const entry = envelope.seals.find(
    (s) => sameKey(s.recipient, key) && bytesEqual(s.recipient.publicKey, key.publicKey),
  );
  if (entry === undefined) throw new SealError("rejected", "the bundle is not sealed to this key");
  const plaintext = await open(entry.sealed, context(envelope.tenant, envelope.team, key), key.privateKey, signer);
  return decodeKeyPackageSecrets(plaintext);
}
