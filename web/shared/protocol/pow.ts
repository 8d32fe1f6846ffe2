// The self-hosted proof-of-work a server under attack asks of new visitors before a ticket
// (docs/protocol.md "Abuse controls"): find n such that SHA-256(challenge ":" n) starts with
// `bits` zero bits. Synchronous SHA-256 (@noble/hashes, already bundled for ts-mls) in
// slices, yielding to the page between slices so the widget stays responsive.

import { sha256 } from "@noble/hashes/sha2.js";
import { utf8 } from "../util/bytes.js";

/** Leading zero bits of SHA-256(challenge ":" n). */
export function leadingZeroBits(challenge: string, n: number): number {
  const digest = sha256(utf8(`${challenge}:${n}`));
  let bits = 0;
  for (const byte of digest) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    bits += Math.clz32(byte) - 24;
    break;
  }
  return bits;
}

const SLICE = 4096;
/** The server asks for at most 24 bits: 2^30 tries is far beyond any real search. */
const MAX_TRIES = 2 ** 30;

/** The smallest n meeting `bits`, searched in slices with a yield between them. */
export async function solveChallenge(challenge: string, bits: number): Promise<number> {
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) throw new Error(`unsupported difficulty ${bits}`);
  for (let start = 0; start < MAX_TRIES; start += SLICE) {
    for (let n = start; n < start + SLICE; n++) if (leadingZeroBits(challenge, n) >= bits) return n;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  throw new Error("no solution found");
}
