// SDK1 key announcements on their own (the twins of the unit tests in
// crates/sealdesk-mls/src/announce.rs): who may announce, when, and for which team. The
// Rust-made and TS-made announcements are exchanged in vectors.test.ts.
import { describe, expect, it } from "vitest";
import { signCertificate, type CertBody, type TrustAnchor } from "../mls/certs.js";
import { ed25519PublicKey } from "../util/ed25519.js";
import { signAnnouncement, verifyAnnouncement, type Announcement } from "./announcement.js";
import { SealError } from "./seal.js";

const fill = (n: number, len = 32): Uint8Array => new Uint8Array(len).fill(n);
const ROOT = fill(1);
const ISSUING = fill(2);

const announcement = (kind: "team" | "archive", team: Uint8Array): Announcement => ({
  kind, tenant: fill(4, 16), team, version: 2, publicKey: fill(8), created: 1_500n,
});

async function setup(over: Partial<CertBody> = {}): Promise<{ anchor: TrustAnchor; cert: Uint8Array }> {
  const cert = await signCertificate({
    role: "issuing", tenant: fill(4, 16), team: fill(0, 16), subject: await ed25519PublicKey(ISSUING), notBefore: 1_000n,
    notAfter: 2_000n, label: "Admin console", ...over,
  }, ROOT);
  return { anchor: { tenant: fill(4, 16), roots: [await ed25519PublicKey(ROOT)] }, cert };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SealError) return e.code;
    throw e;
  }
  return "accepted";
}

describe("key announcements (SDK1)", () => {
  it("are made by the root or a certified issuing key", async () => {
    const { anchor, cert } = await setup();
    const archive = announcement("archive", fill(0, 16));
    expect(await verifyAnnouncement(await signAnnouncement(archive, new Uint8Array(0), ROOT), anchor)).toEqual(archive);
    const team = announcement("team", fill(5, 16));
    const byIssuer = await signAnnouncement(team, cert, ISSUING);
    expect(byIssuer.length).toBe(4 + 1 + 16 + 16 + 4 + 32 + 8 + 2 + cert.length + 32 + 64);
    expect(await verifyAnnouncement(byIssuer, anchor)).toEqual(team);
  });

  it("refuse uncertified signers and certificates that do not vouch for the signer", async () => {
    const { anchor, cert } = await setup();
    const team = announcement("team", fill(5, 16));
    // A stranger, and the issuing key without its certificate.
    expect(await code(verifyAnnouncement(await signAnnouncement(team, new Uint8Array(0), fill(3)), anchor))).toBe("credential");
    expect(await code(verifyAnnouncement(await signAnnouncement(team, new Uint8Array(0), ISSUING), anchor))).toBe("credential");
    // A genuine certificate presented by another key.
    expect(await code(verifyAnnouncement(await signAnnouncement(team, cert, fill(3)), anchor))).toBe("credential");
    // Created at or after the certificate's end, or before its start.
    for (const created of [2_000n, 999n]) {
      expect(await code(verifyAnnouncement(await signAnnouncement({ ...team, created }, cert, ISSUING), anchor))).toBe("credential");
    }
    expect(await code(verifyAnnouncement(await signAnnouncement({ ...team, created: 1_999n }, cert, ISSUING), anchor))).toBe("accepted");
    // Certificates of another role or tenant, or not signed by a root.
    for (const over of [{ role: "agent" as const }, { tenant: fill(9, 16) }]) {
      const other = (await setup(over)).cert;
      expect(await code(verifyAnnouncement(await signAnnouncement(team, other, ISSUING), anchor))).toBe("credential");
    }
    const foreign = await signCertificate({
      role: "issuing", tenant: fill(4, 16), team: fill(0, 16), subject: await ed25519PublicKey(ISSUING), notBefore: 1_000n,
      notAfter: 2_000n, label: "Rogue",
    }, fill(7));
    expect(await code(verifyAnnouncement(await signAnnouncement(team, foreign, ISSUING), anchor))).toBe("credential");
    // Not a certificate at all.
    expect(await code(verifyAnnouncement(await signAnnouncement(team, fill(1, 10), ISSUING), anchor))).toBe("credential");
  });

  it("name a team for a team key and none for the archive key", async () => {
    const { anchor } = await setup();
    await expect(signAnnouncement(announcement("archive", fill(5, 16)), new Uint8Array(0), ROOT)).rejects.toThrow(/no team/);
    await expect(signAnnouncement(announcement("team", fill(0, 16)), new Uint8Array(0), ROOT)).rejects.toThrow(/names its team/);
    // Rewritten by hand (kind byte 1 → 2 on a team key): malformed before any signature check.
    const bytes = await signAnnouncement(announcement("team", fill(5, 16)), new Uint8Array(0), ROOT);
    bytes[4] = 2;
    expect(await code(verifyAnnouncement(bytes, anchor))).toBe("malformed");
    bytes[4] = 3;
    expect(await code(verifyAnnouncement(bytes, anchor))).toBe("malformed");
  });

  it("refuse other tenants, trailing and missing bytes", async () => {
    const { anchor } = await setup();
    const bytes = await signAnnouncement(announcement("archive", fill(0, 16)), new Uint8Array(0), ROOT);
    expect(await code(verifyAnnouncement(bytes, { ...anchor, tenant: fill(9, 16) }))).toBe("rejected");
    expect(await code(verifyAnnouncement(new Uint8Array([...bytes, 0]), anchor))).toBe("malformed");
    expect(await code(verifyAnnouncement(bytes.subarray(0, bytes.length - 1), anchor))).toBe("malformed");
  });
});
