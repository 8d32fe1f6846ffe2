// The re-key's pure half (rekey-plan.ts): the team key version a History Member bundle's
// header names, and the per-conversation schedule the desk follows after a rotation.
import { describe, expect, it } from "vitest";
import { encodeChain, signCertificate } from "../shared/mls/certs.js";
import { sealBundle, type Recipient } from "../shared/seal/bundle.js";
import { deriveKeys } from "../shared/seal/seal.js";
import { toBase64 } from "../shared/util/bytes.js";
import { ed25519PublicKey } from "../shared/util/ed25519.js";
import { backoff, RekeySchedule, RETRY_MAX_MS, RETRY_MS, sealedForAnotherTeam, sealedVersion, WAIT_MS } from "./rekey-plan.js";

const fill = (n: number, len = 32): Uint8Array => new Uint8Array(len).fill(n);
const TENANT = fill(4, 16);
const TEAM = fill(5, 16);
const DEVICE = fill(3);

async function bundle(recipients: Recipient[]): Promise<string> {
  const body = async (role: "issuing" | "agent", seed: Uint8Array) => ({
    role, tenant: TENANT, team: fill(0, 16), subject: await ed25519PublicKey(seed), notBefore: 1_000n, notAfter: 2_000n, label: "Jane D.",
  });
  const chain = encodeChain(await signCertificate(await body("agent", DEVICE), fill(2)), await signCertificate(await body("issuing", fill(2)), fill(1)));
  const secrets = { keyPackage: fill(9, 300), initPrivate: fill(1), encryptionPrivate: fill(2), signaturePrivate: fill(3) };
  return toBase64(await sealBundle(secrets, TENANT, TEAM, chain, recipients, DEVICE));
}

describe("sealedVersion", () => {
  it("reads the newest team key version the header names, not the archive key's", async () => {
    const { publicKey } = await deriveKeys(fill(10));
    const team = (keyVersion: number): Recipient => ({ kind: "team", keyVersion, publicKey });
    expect(sealedVersion(await bundle([team(1)]))).toBe(1);
    expect(sealedVersion(await bundle([team(2), { kind: "archive", keyVersion: 7, publicKey }]))).toBe(2);
    expect(sealedVersion(await bundle([team(3), team(5), team(4)]))).toBe(5);
    // Sealed to the archive key alone: no team version to compare.
    expect(sealedVersion(await bundle([{ kind: "archive", keyVersion: 7, publicKey }]))).toBeUndefined();
  });

  it("is undefined for no bundle or an unreadable one", async () => {
    expect(sealedVersion(undefined)).toBeUndefined();
    expect(sealedVersion(null)).toBeUndefined();
    expect(sealedVersion("")).toBeUndefined();
    expect(sealedVersion("not base64 at all!")).toBeUndefined();
    const { publicKey } = await deriveKeys(fill(10));
    const good = await bundle([{ kind: "team", keyVersion: 2, publicKey }]);
    expect(sealedVersion(good.slice(0, 40))).toBeUndefined();
    expect(sealedVersion(toBase64(new TextEncoder().encode("SDB2 whatever follows")))).toBeUndefined();
  });
});

describe("sealedForAnotherTeam", () => {
  it("tells a bundle made for another team (a transferred conversation) from the team's own", async () => {
    const { publicKey } = await deriveKeys(fill(10));
    const sealed = await bundle([{ kind: "team", keyVersion: 1, publicKey }]);
    expect(sealedForAnotherTeam(sealed, TEAM)).toBe(false);
    expect(sealedForAnotherTeam(sealed, fill(6, 16))).toBe(true);
  });

  it("is false for no bundle or an unreadable one", () => {
    expect(sealedForAnotherTeam(undefined, TEAM)).toBe(false);
    expect(sealedForAnotherTeam(null, TEAM)).toBe(false);
    expect(sealedForAnotherTeam("not base64 at all!", TEAM)).toBe(false);
  });
});

describe("the re-key schedule", () => {
  it("backs off from RETRY_MS, doubling, up to RETRY_MAX_MS", () => {
    expect([1, 2, 3, 4, 5].map(backoff)).toEqual([RETRY_MS, 2 * RETRY_MS, 4 * RETRY_MS, 8 * RETRY_MS, Math.min(RETRY_MAX_MS, 16 * RETRY_MS)]);
    expect(backoff(1_000)).toBe(RETRY_MAX_MS);
    expect(backoff(0)).toBe(RETRY_MS);
  });

  it("looks at a conversation once per team key version, and again for a newer one", () => {
    const s = new RekeySchedule();
    expect(s.due("a", 1, 0)).toBe(true);
    s.done("a", 1);
    expect(s.due("a", 1, 10 ** 9)).toBe(false);
    // The device was given version 2: the conversation is looked at again.
    expect(s.due("a", 2, 0)).toBe(true);
    expect(s.due("b", 2, 0)).toBe(true);
  });

  it("retries a failure after a growing delay, and a conversation that is not ready shortly", () => {
    const s = new RekeySchedule();
    expect(s.failed("a", 2, 1_000)).toBe(RETRY_MS);
    expect(s.due("a", 2, 1_000 + RETRY_MS - 1)).toBe(false);
    expect(s.due("a", 2, 1_000 + RETRY_MS)).toBe(true);
    expect(s.failed("a", 2, 50_000)).toBe(2 * RETRY_MS);
    expect(s.due("a", 2, 50_000 + 2 * RETRY_MS - 1)).toBe(false);
    // A newer key starts over, without the old failures.
    expect(s.due("a", 3, 50_000)).toBe(true);
    expect(s.failed("a", 3, 50_000)).toBe(RETRY_MS);
    s.later("b", 2, 0);
    expect(s.due("b", 2, WAIT_MS - 1)).toBe(false);
    expect(s.due("b", 2, WAIT_MS)).toBe(true);
    // Waiting is not failing: the next failure still waits RETRY_MS.
    expect(s.failed("b", 2, 0)).toBe(RETRY_MS);
  });

  it("forgets conversations that are no longer listed", () => {
    const s = new RekeySchedule();
    s.done("a", 1);
    s.done("b", 1);
    s.keep(["b"]);
    expect(s.size).toBe(1);
    expect(s.due("a", 1, 0)).toBe(true);
    expect(s.due("b", 1, 0)).toBe(false);
  });
});
