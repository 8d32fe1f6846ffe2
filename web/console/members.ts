// Who is who in a conversation's group, for the console: every leaf's credential checked
// against the device's pinned roots (RFC 9420 §5.3.1: the application validates credentials;
// shared/design/E2EE.md §4). The same check gates joins and commits through the MLS policy.

import { keyPackageInfo, type Leaf, type MlsPolicy } from "../shared/mls/adapter.js";
import { decodeChain, verifyIdentity, type TrustAnchor } from "../shared/mls/certs.js";

const now = (): number => Math.floor(Date.now() / 1000);

export type Who =
  | { kind: "visitor" }
  | { kind: "staff"; role: string; label: string; verified: true }
  | { kind: "unverified"; reason: string };

export function policyFor(anchor: TrustAnchor): MlsPolicy {
  return {
    validateIdentity: async (identity, key) => {
      try {
        await verifyIdentity(identity, key, anchor, now());
        return true;
      } catch {
        return false;
      }
    },
  };
}

export async function whoIs(leaf: Leaf | undefined, anchor: TrustAnchor): Promise<Who> {
  if (leaf === undefined) return { kind: "unverified", reason: "not a member" };
  try {
    const v = await verifyIdentity(leaf.identity, leaf.signatureKey, anchor, now());
    if (v.kind === "visitor") return { kind: "visitor" };
    return { kind: "staff", role: v.body.role, label: v.body.label, verified: true };
  } catch (e) {
    return { kind: "unverified", reason: e instanceof Error ? e.message : String(e) };
  }
}

/** Who a key package would add (its credential checked like a member's). */
export async function keyPackageWho(keyPackage: Uint8Array, anchor: TrustAnchor): Promise<Who> {
  try {
    const info = keyPackageInfo(keyPackage);
    return await whoIs({ leaf: -1, identity: info.identity, signatureKey: info.signatureKey }, anchor);
  } catch (e) {
    return { kind: "unverified", reason: e instanceof Error ? e.message : String(e) };
  }
}

/** A leaf's certified role, read without checking trust or validity (null if none). */
export async function roleOf(identity: Uint8Array): Promise<string | null> {
  try {
    return (await decodeChain(identity)).device.body.role;
  } catch {
    return null;
  }
}
