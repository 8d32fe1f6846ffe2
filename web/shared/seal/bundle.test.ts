// SDB1 bundles on their own (the twins of the unit tests in crates/sealdesk-mls/src/bundle.rs):
// who may seal them, how many keys, the secrets' strict encoding. The Rust-made and TS-made
// bundles are exchanged in vectors.test.ts.
import { describe, expect, it } from "vitest";
import { encodeChain, signCertificate, type Role, type TrustAnchor } from "../mls/certs.js";
import { ed25519PublicKey } from "../util/ed25519.js";
import {
  decodeKeyPackageSecrets, encodeKeyPackageSecrets, openBundle, parseBundle, sealBundle,
  type KeyPackageSecrets, type OpeningKey, type Recipient,
} from "./bundle.js";
import { deriveKeys, SealError } from "./seal.js";

const fill = (n: number, len = 32): Uint8Array => new Uint8Array(len).fill(n);
const TENANT = fill(4, 16);
const TEAM = fill(5, 16);
const DEVICE = fill(3);

async function fixture(role: Role, deviceSeed = DEVICE): Promise<{ anchor: TrustAnchor; chain: Uint8Array }> {
  const body = async (r: Role, seed: Uint8Array) => ({
    role: r, tenant: TENANT, team: fill(0, 16), subject: await ed25519PublicKey(seed), notBefore: 1_000n,
    notAfter: 2_000n, label: "Jane D.",
  });
  const issuing = await signCertificate(await body("issuing", fill(2)), fill(1));
  const device = await signCertificate(await body(role, deviceSeed), fill(2));
  return { anchor: { tenant: TENANT, roots: [await ed25519PublicKey(fill(1))] }, chain: encodeChain(device, issuing) };
}

const secrets = (): KeyPackageSecrets => ({
  keyPackage: fill(9, 300), initPrivate: fill(1), encryptionPrivate: fill(2), signaturePrivate: fill(3),
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SealError) return e.code;
    throw e;
  }
  return "accepted";
}

async function teamKey(): Promise<OpeningKey> {
  const k = await deriveKeys(fill(10));
  return { kind: "team", keyVersion: 1, ...k };
}

describe("History Member bundles (SDB1)", () => {
  it("are opened for supervisors' devices too, at a time the chain was valid", async () => {
    const f = await fixture("supervisor");
    const key = await teamKey();
    const bundle = await sealBundle(secrets(), TENANT, TEAM, f.chain, [key], DEVICE);
    expect(await openBundle(bundle, key, f.anchor, 1_500)).toEqual(secrets());
    expect(await code(openBundle(bundle, key, f.anchor, 999))).toBe("credential");
    expect(await code(openBundle(bundle, key, f.anchor, 2_000))).toBe("credential");
    // The right kind and version under another public key: no such entry.
    const other = await deriveKeys(fill(11));
    await expect(openBundle(bundle, { ...key, ...other }, f.anchor, 1_500)).rejects.toThrow(/not sealed to this key/);
    const envelope = parseBundle(bundle);
    expect([envelope.tenant, envelope.team, envelope.chain]).toEqual([TENANT, TEAM, f.chain]);
    expect(envelope.seals.map((s) => s.recipient)).toEqual([{ kind: "team", keyVersion: 1, publicKey: key.publicKey }]);
  });

  it("are made by agents and supervisors only", async () => {
    for (const role of ["history", "issuing"] as const) {
      const f = await fixture(role);
      const key = await teamKey();
      const bundle = await sealBundle(secrets(), TENANT, TEAM, f.chain, [key], DEVICE);
      expect(await code(openBundle(bundle, key, f.anchor, 1_500)), role).toBe("credential");
    }
  });

  it("must be signed by the device the chain certifies", async () => {
    const f = await fixture("agent");
    const key = await teamKey();
    const bundle = await sealBundle(secrets(), TENANT, TEAM, f.chain, [key], fill(8));
    expect(await code(openBundle(bundle, key, f.anchor, 1_500))).toBe("rejected");
    const visitor = new Uint8Array([...new TextEncoder().encode("SDV1"), ...fill(1, 16)]);
    const byVisitor = await sealBundle(secrets(), TENANT, TEAM, visitor, [key], DEVICE);
    expect(await code(openBundle(byVisitor, key, f.anchor, 1_500))).toBe("credential");
  });

  it("carry one to four distinct keys", async () => {
    const f = await fixture("agent");
    const r: Recipient = { kind: "team", keyVersion: 1, publicKey: (await teamKey()).publicKey };
    for (const recipients of [[], [r, r], [r, { ...r, keyVersion: 2 }, { ...r, keyVersion: 3 }, { ...r, keyVersion: 4 }, { ...r, keyVersion: 5 }]]) {
      expect(await code(sealBundle(secrets(), TENANT, TEAM, f.chain, recipients, DEVICE))).toBe("rejected");
    }
    const four = [1, 2, 3, 4].map((v) => ({ ...r, keyVersion: v }));
    const bundle = await sealBundle(secrets(), TENANT, TEAM, f.chain, four, DEVICE);
    expect(parseBundle(bundle).seals.length).toBe(4);
    // The same key twice, or a count of 0 or 5, written by hand: malformed.
    const header = 4 + 32 + 2 + f.chain.length;
    const twice = await sealBundle(secrets(), TENANT, TEAM, f.chain, [r, { ...r, kind: "archive" }], DEVICE);
    const archiveKind = header + 1 + (parseBundle(twice).seals[0]?.sealed.length ?? 0) + 2 + 37;
    expect(twice[archiveKind]).toBe(2);
    const duplicate = twice.slice();
    duplicate[archiveKind] = 1;
    expect(() => parseBundle(duplicate)).toThrow(/twice/);
    for (const count of [0, 5]) {
      const bad = bundle.slice();
      bad[header] = count;
      expect(() => parseBundle(bad)).toThrow(/1 to 4/);
    }
  });
});

describe("key package secrets", () => {
  it("round-trip, strictly", () => {
    const bytes = encodeKeyPackageSecrets(secrets());
    expect(bytes.length).toBe(2 + 300 + 3 * 33);
    expect(decodeKeyPackageSecrets(bytes)).toEqual(secrets());
    expect(() => decodeKeyPackageSecrets(new Uint8Array([...bytes, 0]))).toThrow(/trailing/);
    expect(() => decodeKeyPackageSecrets(bytes.subarray(0, bytes.length - 1))).toThrow(SealError);
    expect(() => encodeKeyPackageSecrets({ ...secrets(), initPrivate: fill(1, 31) })).toThrow(SealError);
    // A 31-byte key written by hand is refused on reading too.
    const short = new Uint8Array([...bytes.subarray(0, bytes.length - 33), 31, ...fill(3, 31)]);
    expect(() => decodeKeyPackageSecrets(short)).toThrow(/32 bytes/);
  });
});
