import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { leadingZeroBits, solveChallenge } from "./pow.js";

/** Leading zero bits computed independently, with Node's OpenSSL SHA-256. */
function reference(challenge: string, n: number): number {
  const digest = createHash("sha256").update(`${challenge}:${n}`).digest();
  let bits = 0;
  for (const byte of digest) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    for (let mask = 0x80; (byte & mask) === 0; mask >>= 1) bits++;
    break;
  }
  return bits;
}

describe("proof of work", () => {
  it("counts leading zero bits like an independent SHA-256", () => {
    for (let n = 0; n < 2000; n++) expect(leadingZeroBits("AbC-challenge_1", n)).toBe(reference("AbC-challenge_1", n));
  });

  it("finds the smallest solution for a difficulty", async () => {
    const challenge = "c2VhbGRlc2s";
    const n = await solveChallenge(challenge, 12);
    expect(reference(challenge, n)).toBeGreaterThanOrEqual(12);
    for (let m = 0; m < n; m++) expect(reference(challenge, m)).toBeLessThan(12);
  });

  it("refuses a difficulty no server asks for", async () => {
    await expect(solveChallenge("x", 40)).rejects.toThrow("unsupported difficulty");
  });
});
