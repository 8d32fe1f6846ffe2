// The tenant key hierarchy's certificates (shared/design/E2EE.md §3–§4), the twin of
// crates/sealdesk-mls/src/certs.rs: the same layout, the same checks in the same order, so
// the widget's "genuine agent" badge means what the Rust clients and the server check.
//
//   Certificate v1: "SDC1" ‖ role u8 (1 issuing, 2 agent, 3 supervisor, 4 history)
//     ‖ tenant (16) ‖ team (16, zero unless history) ‖ subject (32, Ed25519)
//     ‖ not_before u64 ‖ not_after u64 (Unix seconds, BE) ‖ label_len u8 ‖ label (1–64, UTF-8)
//     ‖ issuer (32) ‖ signature (64): Ed25519 (RFC 8032) over CONTEXT ‖ every byte before it
//   Chain: "SDCH" ‖ device cert ‖ issuing cert, each as u16 length ‖ bytes
//   Visitor identity: "SDV1" ‖ 16 random bytes

import { bytesEqual, fromUtf8, utf8 } from "../util/bytes.js";
import { ed25519PublicKey, ed25519Sign, ed25519Verify } from "../util/ed25519.js";
import { concat, Reader, u16, u64 } from "../util/wire.js";

/** Prefixed to every signed certificate body (domain separation from MLS's own labels). */
const CONTEXT = utf8("sealdesk certificate v1\0");
const MAGIC = utf8("SDC1");
const CHAIN_MAGIC = utf8("SDCH");
/** The prefix of a visitor's pseudonymous credential identity. */
export const VISITOR_MAGIC = utf8("SDV1");
const MAX_LABEL = 64;

export type Role = "issuing" | "agent" | "supervisor" | "history";
const ROLES: readonly Role[] = ["issuing", "agent", "supervisor", "history"];

export type CertErrorCode = "malformed" | "untrusted" | "expired" | "mismatch";

/** Why a certificate or chain is refused (the variants of Rust's `CertError`). */
export class CertError extends Error {
  override name = "CertError";
  constructor(
    readonly code: CertErrorCode,
    detail?: string,
  ) {
    super(detail === undefined ? code : `${code}: ${detail}`);
  }
}

const malformed = (what: string): CertError => new CertError("malformed", what);

export interface CertBody {
  role: Role;
  tenant: Uint8Array; // 16
  team: Uint8Array; // 16: a History Member's team, zero otherwise
  subject: Uint8Array; // 32: the certified Ed25519 public key
  notBefore: bigint; // Unix seconds
  notAfter: bigint; // Unix seconds, exclusive
  label: string; // 1–64 bytes of UTF-8
}

/** A decoded certificate whose signature verified against its own `issuer` field. */
export interface Certificate {
  body: CertBody;
  issuer: Uint8Array;
}

/** The pinned trust anchor: a tenant and its root keys (several while a rotation overlaps). */
export interface TrustAnchor {
  tenant: Uint8Array;
  roots: Uint8Array[];
}

export type Verified = { kind: "visitor"; id: Uint8Array } | { kind: "device"; body: CertBody };

function fixed(bytes: Uint8Array, n: number, what: string): Uint8Array {
  if (bytes.length !== n) throw malformed(`${what} is ${n} bytes`);
  return bytes;
}

function encodeUnsigned(body: CertBody, issuer: Uint8Array): Uint8Array {
  const label = utf8(body.label);
  if (label.length === 0 || label.length > MAX_LABEL) throw malformed("the label must be 1 to 64 bytes");
  return concat(
    MAGIC, Uint8Array.of(ROLES.indexOf(body.role) + 1), fixed(body.tenant, 16, "tenant"), fixed(body.team, 16, "team"),
    fixed(body.subject, 32, "subject"), u64(body.notBefore), u64(body.notAfter), Uint8Array.of(label.length), label,
    fixed(issuer, 32, "issuer"),
  );
}

/** Signs `body` with the issuer's 32-byte Ed25519 seed, returning the encoded certificate. */
export async function signCertificate(body: CertBody, issuerSeed: Uint8Array): Promise<Uint8Array> {
  const unsigned = encodeUnsigned(body, await ed25519PublicKey(issuerSeed));
  return concat(unsigned, await ed25519Sign(issuerSeed, concat(CONTEXT, unsigned)));
}

/**
 * Decodes a certificate and verifies its signature against the issuer it names (whether that
 * issuer is trusted is the chain's business). Rust: `Certificate::decode`.
 */
export async function decodeCertificate(bytes: Uint8Array): Promise<Certificate> {
  const r = new Reader(bytes, malformed);
  if (!bytesEqual(r.take(4), MAGIC)) throw malformed("not a Sealdesk certificate");
  const role = ROLES[r.u8() - 1];
  if (role === undefined) throw malformed("unknown role");
  const tenant = r.take(16).slice();
  const team = r.take(16).slice();
  const subject = r.take(32).slice();
  const notBefore = r.u64();
  const notAfter = r.u64();
  const labelLen = r.u8();
  if (labelLen === 0 || labelLen > MAX_LABEL) throw malformed("the label must be 1 to 64 bytes");
  let label: string;
  const labelBytes = r.take(labelLen);
  try {
    label = fromUtf8(labelBytes);
  } catch {
    throw malformed("the label is not UTF-8");
  }
  const issuer = r.take(32).slice();
  const signature = r.take(64);
  if (r.remaining !== 0) throw malformed("trailing bytes");
  // Strict verification (no small-order keys, no malleable signatures), like the Rust side's
  // ed25519-dalek `verify_strict` (RFC 8032 §5.1.7 and its stricter checks).
  if (!(await ed25519Verify(issuer, concat(CONTEXT, bytes.subarray(0, bytes.length - 64)), signature))) {
    throw new CertError("untrusted", "the certificate's signature does not verify");
  }
  return { body: { role, tenant, team, subject, notBefore, notAfter, label }, issuer };
}

/** Encodes a device certificate and its issuing certificate as a credential identity. */
export function encodeChain(device: Uint8Array, issuing: Uint8Array): Uint8Array {
  if (device.length > 0xffff || issuing.length > 0xffff) throw malformed("certificate too long");
  return concat(CHAIN_MAGIC, u16(device.length), device, u16(issuing.length), issuing);
}

/** Decodes a chain and both certificates' signatures, without any trust decision. */
export async function decodeChain(identity: Uint8Array): Promise<{ device: Certificate; issuing: Certificate }> {
  const r = new Reader(identity, malformed);
  if (!bytesEqual(r.take(4), CHAIN_MAGIC)) throw malformed("neither a certificate chain nor a visitor identity");
  // One after the other, as in Rust: the device certificate is decoded (and its signature
  // checked) before the issuing certificate's length is read.
  const device = await decodeCertificate(r.take(r.u16()));
  const issuing = await decodeCertificate(r.take(r.u16()));
  if (r.remaining !== 0) throw malformed("trailing bytes");
  return { device, issuing };
}

/**
 * The key a chain's device certificate certifies, read without checking trust or validity
 * (so that `verifyIdentity` can then bind the chain to that very key); null if unreadable.
 * Rust: `chain_subject`.
 */
export async function chainSubject(identity: Uint8Array): Promise<Uint8Array | null> {
  try {
    const r = new Reader(identity, malformed);
    if (!bytesEqual(r.take(4), CHAIN_MAGIC)) return null;
    return (await decodeCertificate(r.take(r.u16()))).body.subject;
  } catch (e) {
    if (e instanceof CertError) return null;
    throw e;
  }
}

const validAt = (c: Certificate, now: bigint): boolean => c.body.notBefore <= now && now < c.body.notAfter;

/**
 * Verifies a member's credential identity for the leaf signing with `leafKey` at `nowSeconds`
 * (Rust: `verify_identity`; E2EE.md §4). Throws a `CertError`.
 */
export async function verifyIdentity(
  identity: Uint8Array,
  leafKey: Uint8Array,
  anchor: TrustAnchor,
  nowSeconds: number | bigint,
): Promise<Verified> {
  const now = BigInt(nowSeconds);
  if (identity.length >= 4 && bytesEqual(identity.subarray(0, 4), VISITOR_MAGIC)) {
    if (identity.length !== 20) throw malformed("a visitor id is 16 bytes");
    return { kind: "visitor", id: identity.slice(4) };
  }
  const { device, issuing } = await decodeChain(identity);
  if (issuing.body.role !== "issuing" || !anchor.roots.some((root) => bytesEqual(root, issuing.issuer))) {
    throw new CertError("untrusted", "the issuing certificate is not signed by a root key");
  }
  if (!bytesEqual(device.issuer, issuing.body.subject)) {
    throw new CertError("untrusted", "the device certificate is not signed by the issuing key");
  }
  if (device.body.role === "issuing") throw new CertError("mismatch", "an issuing key is not a device");
  if (!bytesEqual(issuing.body.tenant, anchor.tenant) || !bytesEqual(device.body.tenant, anchor.tenant)) {
    throw new CertError("mismatch", "another tenant's certificate");
  }
  if (device.body.notBefore < issuing.body.notBefore || device.body.notAfter > issuing.body.notAfter) {
    throw new CertError("mismatch", "the device certificate outlives its issuing key");
  }
  if (!validAt(issuing, now) || !validAt(device, now)) {
    throw new CertError("expired", "a certificate in the chain has expired or is not yet valid");
  }
  if (!bytesEqual(device.body.subject, leafKey)) throw new CertError("mismatch", "the credential belongs to another key");
  return { kind: "device", body: device.body };
}
