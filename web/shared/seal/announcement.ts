// Key announcements (SDK1; shared/design/E2EE.md §3), the twin of
// crates/sealdesk-mls/src/announce.rs: the public half of a team key (TK) or of the tenant's
// archive key (AK), signed by the tenant root key or by an issuing key it certified. Clients
// verify an announcement against the root they pin before sealing a History Member bundle to
// the key, so a server that announced a key of its own is caught.
//
//   "SDK1" ‖ kind (u8: 1 team, 2 archive) ‖ tenant (16) ‖ team (16; zero for the archive key)
//   ‖ version (u32 BE) ‖ public (32, X25519) ‖ created (u64 BE, Unix seconds)
//   ‖ issuing_cert_len (u16 BE) ‖ issuing_cert (SDC1, role issuing; empty when the root signs)
//   ‖ signer (32) ‖ signature (64): Ed25519 (RFC 8032) over CONTEXT ‖ every byte before it

import { decodeCertificate, type Certificate, type TrustAnchor } from "../mls/certs.js";
import { bytesEqual, utf8 } from "../util/bytes.js";
import { ed25519PublicKey, ed25519Sign, ed25519Verify, isEd25519Point } from "../util/ed25519.js";
import { concat, Reader, u16, u32, u64 } from "../util/wire.js";
import { keyKindByte, keyKindOf, type KeyKind } from "./bundle.js";
import { SealError } from "./seal.js";

const MAGIC = utf8("SDK1");
const CONTEXT = utf8("sealdesk key announcement v1\0");

/** A verified (or to be signed) announcement. */
export interface Announcement {
  kind: KeyKind;
  tenant: Uint8Array; // 16
  team: Uint8Array; // 16, zero for the archive key
  version: number; // u32: 1, 2, … per team or for the archive
  publicKey: Uint8Array; // 32, X25519
  created: bigint; // Unix seconds; certificates are checked at this time
}

const malformed = (what: string): SealError => new SealError("malformed", what);
const credential = (what: string): SealError => new SealError("credential", what);

function checkTeam(a: Announcement): void {
  const zero = a.team.every((b) => b === 0);
  if (a.kind === "archive" && !zero) throw malformed("an archive key belongs to no team");
  if (a.kind === "team" && zero) throw malformed("a team key names its team");
}

function fixed(bytes: Uint8Array, n: number, what: string): Uint8Array {
  if (bytes.length !== n) throw malformed(`${what} is ${n} bytes`);
  return bytes;
}

/**
 * Signs `a` with a 32-byte Ed25519 seed: the root key's (`issuingCert` empty) or an issuing
 * key's, with its certificate. Rust: `Announcement::sign`.
 */
export async function signAnnouncement(a: Announcement, issuingCert: Uint8Array, signerSeed: Uint8Array): Promise<Uint8Array> {
  checkTeam(a);
  if (issuingCert.length > 0xffff) throw new SealError("rejected", "certificate too long");
  const body = concat(
    MAGIC, Uint8Array.of(keyKindByte(a.kind)), fixed(a.tenant, 16, "tenant"), fixed(a.team, 16, "team"), u32(a.version),
    fixed(a.publicKey, 32, "public key"), u64(a.created), u16(issuingCert.length), issuingCert,
    await ed25519PublicKey(signerSeed),
  );
  return concat(body, await ed25519Sign(signerSeed, concat(CONTEXT, body)));
}

/**
 * Verifies an announcement against the pinned `anchor` (Rust: `Announcement::verify`, the
 * same checks in the same order): well formed, team rule, tenant, then the signer must be a
 * root, or an issuing key whose certificate (signed by a root, for this tenant) was valid at
 * `created`; then the signature.
 */
export async function verifyAnnouncement(bytes: Uint8Array, anchor: TrustAnchor): Promise<Announcement> {
  const r = new Reader(bytes, (what) => malformed(`key announcement: ${what}`));
  if (!bytesEqual(r.take(4), MAGIC)) throw malformed("not a key announcement");
  const kind = keyKindOf(r.u8());
  if (kind === null) throw malformed("unknown key kind");
  const a: Announcement = {
    kind, tenant: r.take(16).slice(), team: r.take(16).slice(), version: r.u32(), publicKey: r.take(32).slice(),
    created: r.u64(),
  };
  const cert = r.take(r.u16());
  const signer = r.take(32);
  const signature = r.take(64);
  if (r.remaining !== 0) throw malformed("key announcement: trailing bytes");
  checkTeam(a);
  if (!bytesEqual(a.tenant, anchor.tenant)) throw new SealError("rejected", "another tenant's key");
  const isRoot = (key: Uint8Array): boolean => anchor.roots.some((root) => bytesEqual(root, key));
  if (cert.length === 0) {
    if (!isRoot(signer)) throw credential("not signed by the tenant root");
  } else {
    let issuing: Certificate;
    try {
      issuing = await decodeCertificate(cert);
    } catch (e) {
      throw credential(e instanceof Error ? e.message : String(e));
    }
    const body = issuing.body;
    const trusted =
      body.role === "issuing" && isRoot(issuing.issuer) && bytesEqual(body.tenant, anchor.tenant) &&
      bytesEqual(body.subject, signer) && body.notBefore <= a.created && a.created < body.notAfter;
    if (!trusted) throw credential("the issuing certificate does not vouch for this key");
  }
  if (!isEd25519Point(signer)) throw credential("bad signer key");
  // Strict, like ed25519-dalek's verify_strict: RFC 8032 §5.1.7, no small-order keys or R.
  if (!(await ed25519Verify(signer, concat(CONTEXT, bytes.subarray(0, bytes.length - 64)), signature))) {
    throw credential("the announcement's signature does not verify");
  }
  return a;
}
