// A staff device's fingerprint, what a person compares between the device's screen and the
// admin's before the device is certified (NIST SP 800-57 Pt 1 §8.1.5.1: a key is bound to its
// owner before use). Twin of `sealdesk_server::app::devices::fingerprint`: SHA-256 of the
// Ed25519 signature key then the X25519 wrap key, the first 128 bits as 8 groups of 4
// lower-case hex digits.

import { toHex } from "../util/bytes.js";

export async function deviceFingerprint(signatureKey: Uint8Array, wrapKey: Uint8Array): Promise<string> {
  if (signatureKey.length !== 32 || wrapKey.length !== 32) throw new Error("both keys are 32 bytes");
  const both = new Uint8Array(64);
  both.set(signatureKey, 0);
  both.set(wrapKey, 32);
  const hex = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", both))).slice(0, 32);
  return (hex.match(/.{4}/g) ?? []).join(" ");
}

/**
 * A root key's fingerprint as `sealdesk admin keys init` and `keys list` print it: the whole
 * SHA-256 of the public key in groups of 4 hex digits, so an agent can compare it with the
 * owner's.
 */
export async function keyFingerprint(key: Uint8Array): Promise<string> {
  const hex = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(key))));
  return (hex.match(/.{4}/g) ?? []).join(" ");
}
