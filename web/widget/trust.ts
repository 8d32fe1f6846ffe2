// Who is in the conversation, checked against the tenant root keys pinned in the snippet
// (shared/design/E2EE.md §4): every leaf's credential must be a visitor's pseudonym or a
// certificate chain root → issuing key → device bound to the leaf's signature key. The
// snippet's keys are the only trust anchor; the server's list is informational. (RFC 9420
// §5.3.1, Credential Validation: the application decides which credentials it accepts.)

import { CertError, verifyIdentity, type Role, type TrustAnchor } from "../shared/mls/certs.js";
import { bytesEqual, fromBase64 } from "../shared/util/bytes.js";

export type MemberRole = "visitor" | Exclude<Role, "issuing">;

/** A roster leaf after the check. */
export type CheckedMember =
  | { leaf: number; verified: true; role: MemberRole; label: string }
  | { leaf: number; verified: false; reason: string };

/** Parses a tenant id (UUID text) into its 16 bytes. */
export function uuidBytes(id: string): Uint8Array {
  const hex = id.replace(/-/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`not a UUID: ${id}`);
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}

/**
 * One root key as the snippet or the server writes it: `ed25519:` + unpadded base64url (what
 * `sealdesk admin keys init` prints), or plain standard base64.
 */
export function decodeRootKey(text: string): Uint8Array {
  let b64 = text.trim().replace(/^ed25519:/, "").replace(/-/g, "+").replace(/_/g, "/");
  if (b64.length % 4 !== 0) b64 += "=".repeat(4 - (b64.length % 4));
  return fromBase64(b64);
}

/** The anchor from the snippet: the tenant and its comma-separated root keys. */
export function anchorFrom(tenantId: string, keys: string): TrustAnchor {
  const roots = keys.split(",").map((k) => k.trim()).filter((k) => k !== "").map(decodeRootKey);
  if (roots.length === 0 || roots.some((r) => r.length !== 32)) throw new Error("the tenant key must be base64 Ed25519 public keys (32 bytes)");
  return { tenant: uuidBytes(tenantId), roots };
}

/** Whether every pinned key is among the keys the server says the tenant registered. */
export function serverAgrees(anchor: TrustAnchor, serverKeys: readonly string[] | undefined): boolean {
  if (serverKeys === undefined) return true;
  const registered = serverKeys.flatMap((k) => {
    try {
      return [decodeRootKey(k)];
    } catch {
      return [];
    }
  });
  return anchor.roots.every((root) => registered.some((r) => bytesEqual(r, root)));
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Checks one credential; never throws for a bad credential, only reports it. */
export async function checkMember(
  leaf: number,
  identity: Uint8Array,
  signatureKey: Uint8Array,
  anchor: TrustAnchor,
  at = nowSeconds(),
): Promise<CheckedMember> {
  try {
    const v = await verifyIdentity(identity, signatureKey, anchor, at);
    if (v.kind === "visitor") return { leaf, verified: true, role: "visitor", label: "" };
    if (v.body.role === "issuing") return { leaf, verified: false, reason: "an issuing key is not a member" };
    return { leaf, verified: true, role: v.body.role, label: v.body.label };
  } catch (e) {
    if (e instanceof CertError) return { leaf, verified: false, reason: e.message };
    return { leaf, verified: false, reason: e instanceof Error ? e.message : "unreadable credential" };
  }
}

/** A key package to add must be a verified agent or supervisor device of the pinned tenant. */
export async function checkStaffKeyPackage(
  identity: Uint8Array,
  signatureKey: Uint8Array,
  anchor: TrustAnchor,
): Promise<CheckedMember> {
  const m = await checkMember(-1, identity, signatureKey, anchor);
  if (m.verified && m.role !== "agent" && m.role !== "supervisor") {
    return { leaf: -1, verified: false, reason: `a ${m.role} credential where an agent was expected` };
  }
  return m;
}

/** The History Member must be certified for this very team. */
export async function checkHistoryMember(
  identity: Uint8Array,
  signatureKey: Uint8Array,
  anchor: TrustAnchor,
  team: Uint8Array,
): Promise<CheckedMember> {
  try {
    const v = await verifyIdentity(identity, signatureKey, anchor, nowSeconds());
    if (v.kind !== "device" || v.body.role !== "history") return { leaf: -1, verified: false, reason: "not a History Member certificate" };
    if (!bytesEqual(v.body.team, team)) return { leaf: -1, verified: false, reason: "a History Member of another team" };
    return { leaf: -1, verified: true, role: "history", label: v.body.label };
  } catch (e) {
    return { leaf: -1, verified: false, reason: e instanceof Error ? e.message : "unreadable credential" };
  }
}
