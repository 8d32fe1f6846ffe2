// The certificate verifier on its own (crates/sealdesk-mls/tests/certs.rs has the Rust twin of
// each case); the Rust-made and TS-made chains are exchanged in shared/seal/vectors.test.ts.
import { describe, expect, it } from "vitest";
import { utf8 } from "../util/bytes.js";
import { ed25519PublicKey } from "../util/ed25519.js";
import {
  CertError, decodeCertificate, encodeChain, signCertificate, verifyIdentity, VISITOR_MAGIC,
  type CertBody, type CertErrorCode, type Role, type TrustAnchor,
} from "./certs.js";

const TENANT = new Uint8Array(16).fill(7);
const NOW = 1_800_000_000n;
const DAY = 86_400n;
const seed = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const ROOT = seed(1);
const ISSUING = seed(2);
const DEVICE = seed(3);

async function body(role: Role, subjectSeed: Uint8Array, label: string, days: bigint): Promise<CertBody> {
  return {
    role, tenant: TENANT, team: new Uint8Array(16), subject: await ed25519PublicKey(subjectSeed),
    notBefore: NOW - DAY, notAfter: NOW + days * DAY, label,
  };
}

const issuingCert = async (over: Partial<CertBody> = {}, signer = ROOT): Promise<Uint8Array> =>
  signCertificate({ ...(await body("issuing", ISSUING, "Admin console", 365n)), ...over }, signer);
const deviceCert = async (over: Partial<CertBody> = {}, signer = ISSUING): Promise<Uint8Array> =>
  signCertificate({ ...(await body("agent", DEVICE, "Jane D.", 30n)), ...over }, signer);

async function anchor(): Promise<TrustAnchor> {
  return { tenant: TENANT, roots: [await ed25519PublicKey(seed(9)), await ed25519PublicKey(ROOT)] };
}

async function refusal(identity: Uint8Array, leaf?: Uint8Array, now = NOW): Promise<CertErrorCode> {
  try {
    await verifyIdentity(identity, leaf ?? (await ed25519PublicKey(DEVICE)), await anchor(), now);
  } catch (e) {
    if (e instanceof CertError) return e.code;
    throw e;
  }
  throw new Error("accepted");
}

describe("certificates", () => {
  it("use the documented layout", async () => {
    const cert = await deviceCert();
    expect(cert.length).toBe(125 + 64);
    expect(Array.from(cert.subarray(0, 5))).toEqual([...utf8("SDC1"), 2]);
    expect(cert[85]).toBe(7);
    const decoded = await decodeCertificate(cert);
    expect(decoded.body).toEqual(await body("agent", DEVICE, "Jane D.", 30n));
    expect(decoded.issuer).toEqual(await ed25519PublicKey(ISSUING));
  });

  it("verify a chain to a pinned root for its own key only", async () => {
    const chain = encodeChain(await deviceCert(), await issuingCert());
    const verified = await verifyIdentity(chain, await ed25519PublicKey(DEVICE), await anchor(), NOW);
    expect(verified).toEqual({ kind: "device", body: await body("agent", DEVICE, "Jane D.", 30n) });
    expect(await refusal(chain, await ed25519PublicKey(ISSUING))).toBe("mismatch");
  });

  it("pass visitors through, strictly", async () => {
    const id = new Uint8Array(16).fill(4);
    const identity = new Uint8Array([...VISITOR_MAGIC, ...id]);
    expect(await verifyIdentity(identity, new Uint8Array(32), await anchor(), NOW)).toEqual({ kind: "visitor", id });
    expect(await refusal(identity.subarray(0, 19))).toBe("malformed");
    expect(await refusal(new Uint8Array([...identity, 0]))).toBe("malformed");
  });

  it("refuse forged, expired and foreign chains", async () => {
    const good = await issuingCert();
    const cases: Array<[string, Promise<Uint8Array>, CertErrorCode, bigint?]> = [
      ["issuing key signed by a stranger", (async () => encodeChain(await deviceCert(), await issuingCert({}, seed(8))))(), "untrusted"],
      ["device signed by the root (issuing key skipped)", (async () => encodeChain(await deviceCert({}, ROOT), good))(), "untrusted"],
      ["an agent certificate as issuer", (async () => encodeChain(await deviceCert(), await issuingCert({ role: "agent" })))(), "untrusted"],
      ["an issuing key as device", (async () => encodeChain(await deviceCert({ role: "issuing" }), good))(), "mismatch"],
      ["another tenant", (async () => encodeChain(await deviceCert({ tenant: new Uint8Array(16).fill(8) }), good))(), "mismatch"],
      ["outliving its issuer", (async () => encodeChain(await deviceCert({ notAfter: NOW + 400n * DAY }), good))(), "mismatch"],
      ["starting before its issuer", (async () => encodeChain(await deviceCert({ notBefore: NOW - 2n * DAY }), good))(), "mismatch"],
      ["expired", (async () => encodeChain(await deviceCert(), good))(), "expired", NOW + 31n * DAY],
      ["not yet valid", (async () => encodeChain(await deviceCert(), good))(), "expired", NOW - 2n * DAY],
      ["valid until, exclusive", (async () => encodeChain(await deviceCert(), good))(), "expired", NOW + 30n * DAY],
    ];
    for (const [name, chain, code, at] of cases) expect(await refusal(await chain, undefined, at), name).toBe(code);
    // The expiry edges: valid from not_before, on the last second before not_after.
    const chain = encodeChain(await deviceCert(), good);
    for (const at of [NOW - DAY, NOW + 30n * DAY - 1n]) {
      expect((await verifyIdentity(chain, await ed25519PublicKey(DEVICE), await anchor(), at)).kind).toBe("device");
    }
  });

  it("refuse tampered and malformed bytes", async () => {
    const device = await deviceCert();
    const issuing = await issuingCert();
    const chain = encodeChain(device, issuing);
    for (const i of [4, 10, 40, 70, 86, 100, 130, 188]) {
      const bad = device.slice();
      bad[i] = (bad[i] ?? 0) ^ 1;
      const code = await refusal(encodeChain(bad, issuing));
      expect(["untrusted", "malformed"], `byte ${i}`).toContain(code);
    }
    expect(await refusal(chain.subarray(0, chain.length - 1))).toBe("malformed");
    expect(await refusal(new Uint8Array([...chain, 0]))).toBe("malformed");
    expect(await refusal(encodeChain(new Uint8Array([...device, 0]), issuing))).toBe("malformed");
    expect(await refusal(utf8("SDC1"))).toBe("malformed");
    expect(await refusal(new Uint8Array(2))).toBe("malformed");
    // An unknown role (5) and a label of 0 or 65 bytes are malformed, not merely untrusted.
    const role = device.slice();
    role[4] = 5;
    expect(await refusal(encodeChain(role, issuing))).toBe("malformed");
    const noLabel = device.slice();
    noLabel[85] = 0;
    expect(await refusal(encodeChain(noLabel, issuing))).toBe("malformed");
    const badUtf8 = device.slice();
    badUtf8[86] = 0xff;
    await expect(decodeCertificate(badUtf8)).rejects.toThrow(/UTF-8/);
    await expect(deviceCert({ label: "" })).rejects.toThrow(CertError);
    await expect(deviceCert({ label: "x".repeat(65) })).rejects.toThrow(CertError);
    expect((await decodeCertificate(await deviceCert({ label: "é".repeat(32) }))).body.label).toBe("é".repeat(32));
  });
});
