// Both vector files through the TypeScript side: the Rust-made one
// (crates/sealdesk-mls/tests/vectors/sealed.json) must verify and open here, and the TS-made
// one (vectors.ts.json, which crates/sealdesk-mls/tests/web_vectors.rs opens in Rust) must
// too and must still be what the builder makes. Each entry also has its refusals.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CertError, decodeCertificate, signCertificate, verifyIdentity, type TrustAnchor } from "../mls/certs.js";
import { toHex } from "../util/bytes.js";
import { ed25519PublicKey } from "../util/ed25519.js";
import { signAnnouncement, verifyAnnouncement } from "./announcement.js";
import { openBundle, parseBundle, type OpeningKey } from "./bundle.js";
import { deriveKeys, open, SealError, type SealContext } from "./seal.js";
import { buildVectors, DAY, type VectorFile } from "./vectors.js";

const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
const load = (url: URL): VectorFile => JSON.parse(readFileSync(url, "utf8")) as VectorFile;
const FILES: Array<[string, VectorFile]> = [
  ["Rust-made", load(new URL("../../../crates/sealdesk-mls/tests/vectors/sealed.json", import.meta.url))],
  ["TS-made", load(new URL("./vectors.ts.json", import.meta.url))],
];

/** The error code a refusal carried ("accepted" if there was none). */
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SealError || e instanceof CertError) return e.code;
    throw e;
  }
  return "accepted";
}

function flipped(bytes: Uint8Array, i: number): Uint8Array {
  const out = bytes.slice();
  out[i] = (out[i] ?? 0) ^ 1;
  return out;
}

/** Offsets spread over the whole object, first and last byte included. */
const offsets = (len: number): number[] => [0, 4, 20, 37, Math.floor(len / 3), Math.floor(len / 2), len - 97, len - 65, len - 1];

for (const [origin, file] of FILES) {
  const anchor: TrustAnchor = { tenant: hex(file.tenant), roots: file.roots.map(hex) };
  const stranger: TrustAnchor = { ...anchor, roots: [anchor.roots[0] ?? new Uint8Array(32)] };

  describe(`${origin} vectors (${file.producer})`, () => {
    it("come from the producer they claim, with every kind of object", () => {
      expect(file.producer).toBe(origin === "Rust-made" ? "rust" : "typescript");
      expect(file.certificates.map((c) => c.role)).toEqual(["issuing", "agent", "history"]);
      expect(new Set(file.bundles.flatMap((b) => b.keys.map((k) => k.kind)))).toEqual(new Set(["team", "archive"]));
      expect(new Set(file.announcements.map((a) => a.kind))).toEqual(new Set(["team", "archive"]));
      expect(file.seals.length).toBeGreaterThanOrEqual(2);
    });

    it("certificates decode, and re-signing from the seeds gives the same bytes", async () => {
      for (const c of file.certificates) {
        const seed = hex(file.seeds[c.issuer]);
        const { body, issuer } = await decodeCertificate(hex(c.encoded));
        expect(body, c.name).toEqual({
          role: c.role, tenant: hex(c.tenant), team: hex(c.team), subject: hex(c.subject),
          notBefore: BigInt(c.not_before), notAfter: BigInt(c.not_after), label: c.label,
        });
        expect(toHex(issuer), c.name).toBe(toHex(await ed25519PublicKey(seed)));
        expect(toHex(await signCertificate(body, seed)), c.name).toBe(c.encoded);
      }
    });

    for (const v of file.identities) {
      it(`identity verifies: ${v.name}`, async () => {
        const verified = await verifyIdentity(hex(v.identity), hex(v.leaf), anchor, v.at);
        if (v.expected.kind === "visitor") {
          expect(verified).toEqual({ kind: "visitor", id: hex(v.expected.id) });
          return;
        }
        expect(verified.kind).toBe("device");
        if (verified.kind !== "device") return;
        expect([verified.body.role, verified.body.label, toHex(verified.body.team)]).toEqual(
          [v.expected.role, v.expected.label, v.expected.team]);
        expect(await refusal(verifyIdentity(hex(v.identity), hex(v.leaf), stranger, v.at))).toBe("untrusted");
        expect(await refusal(verifyIdentity(hex(v.identity), hex(v.leaf), anchor, v.at + 400 * DAY))).toBe("expired");
        expect(await refusal(verifyIdentity(hex(v.identity), flipped(hex(v.leaf), 0), anchor, v.at))).toBe("mismatch");
        expect(await refusal(verifyIdentity(hex(v.identity), hex(v.leaf), { ...anchor, tenant: new Uint8Array(16) }, v.at)))
          .toBe("mismatch");
        const identity = hex(v.identity);
        for (const i of offsets(identity.length)) {
          expect(await refusal(verifyIdentity(flipped(identity, i), hex(v.leaf), anchor, v.at)), `byte ${i}`).not.toBe("accepted");
        }
      });
    }

    for (const v of file.seals) {
      it(`sealed object opens: ${v.name}`, async () => {
        const ctx: SealContext = {
          purpose: v.purpose, tenant: hex(v.tenant), team: hex(v.team), keyVersion: v.key_version,
          recipient: hex(v.recipient_public),
        };
        const sealed = hex(v.sealed);
        const [key, signer] = [hex(v.recipient_private), hex(v.signer)];
        expect(toHex(await open(sealed, ctx, key, signer))).toBe(v.plaintext);
        const strangerKey = (await deriveKeys(new Uint8Array(32).fill(0x77))).privateKey;
        expect(await refusal(open(sealed, ctx, strangerKey, signer))).toBe("rejected");
        expect(await refusal(open(sealed, { ...ctx, keyVersion: ctx.keyVersion + 1 }, key, signer))).toBe("rejected");
        expect(await refusal(open(sealed, { ...ctx, purpose: "history-bundle" }, key, signer))).toBe("rejected");
        expect(await refusal(open(sealed, ctx, key, hex(file.roots[1] ?? "")))).toBe("rejected");
        for (const i of offsets(sealed.length)) {
          expect(await refusal(open(flipped(sealed, i), ctx, key, signer)), `byte ${i}`).not.toBe("accepted");
        }
      });
    }

    for (const v of file.bundles) {
      it(`bundle opens with each of its keys: ${v.name}`, async () => {
        const bundle = hex(v.bundle);
        const keys: OpeningKey[] = v.keys.map((k) => ({
          kind: k.kind, keyVersion: k.key_version, publicKey: hex(k.public), privateKey: hex(k.private),
        }));
        for (const key of keys) {
          const secrets = await openBundle(bundle, key, anchor, v.at);
          expect({
            key_package: toHex(secrets.keyPackage), init_private: toHex(secrets.initPrivate),
            encryption_private: toHex(secrets.encryptionPrivate), signature_private: toHex(secrets.signaturePrivate),
          }).toEqual(v.secrets);
        }
        const [team, archive] = keys as [OpeningKey, OpeningKey];
        expect(await refusal(openBundle(bundle, { ...team, keyVersion: team.keyVersion + 1 }, anchor, v.at))).toBe("rejected");
        expect(await refusal(openBundle(bundle, { ...team, kind: archive.kind }, anchor, v.at))).toBe("rejected");
        expect(await refusal(openBundle(bundle, { ...team, privateKey: archive.privateKey }, anchor, v.at))).toBe("rejected");
        expect(await refusal(openBundle(bundle, team, stranger, v.at))).toBe("credential");
        expect(await refusal(openBundle(bundle, team, anchor, v.at + 400 * DAY))).toBe("credential");
        expect(await refusal(openBundle(bundle, team, { ...anchor, tenant: new Uint8Array(16) }, v.at))).toBe("rejected");
        // A flipped byte in the header or the chain concerns every key; one in a seal, at least
        // the key sealed there.
        const chainLength = parseBundle(bundle).chain.length;
        const header = 4 + 32 + (chainLength < 64 ? 1 : 2) + chainLength + 1;
        for (const i of [...offsets(bundle.length), header - 2, header - 1, header]) {
          const results = await Promise.all(keys.map((key) => refusal(openBundle(flipped(bundle, i), key, anchor, v.at))));
          if (i < header) expect(results, `byte ${i}`).not.toContain("accepted");
          else expect(results.filter((r) => r !== "accepted").length, `byte ${i}`).toBeGreaterThan(0);
        }
        expect(await refusal(openBundle(new Uint8Array([...bundle, 0]), team, anchor, v.at))).toBe("malformed");
      });
    }

    for (const v of file.announcements) {
      it(`announcement verifies and re-signs to the same bytes: ${v.name}`, async () => {
        const encoded = hex(v.encoded);
        const expected = {
          kind: v.kind, tenant: hex(v.tenant), team: hex(v.team), version: v.version, publicKey: hex(v.public),
          created: BigInt(v.created),
        };
        expect(await verifyAnnouncement(encoded, anchor)).toEqual(expected);
        expect(toHex(await signAnnouncement(expected, hex(v.issuing_cert), hex(file.seeds[v.signer])))).toBe(v.encoded);
        expect(await refusal(verifyAnnouncement(encoded, stranger))).toBe("credential");
        expect(await refusal(verifyAnnouncement(encoded, { ...anchor, tenant: new Uint8Array(16).fill(9) }))).toBe("rejected");
        for (const i of offsets(encoded.length)) {
          expect(await refusal(verifyAnnouncement(flipped(encoded, i), anchor)), `byte ${i}`).not.toBe("accepted");
        }
      });
    }
  });
}

describe("the TS-made vector file", () => {
  it("is what the builder makes (rerun `npm run vectors:write` if not)", async () => {
    const fresh = await buildVectors();
    const committed = FILES[1]?.[1];
    // Ed25519 is deterministic; HPKE seals are not, so those are compared by what they carry.
    expect(committed?.certificates).toEqual(fresh.certificates);
    expect(committed?.identities).toEqual(fresh.identities);
    expect(committed?.announcements).toEqual(fresh.announcements);
    expect(committed?.seals.map(({ sealed: _, ...rest }) => rest)).toEqual(fresh.seals.map(({ sealed: _, ...rest }) => rest));
    expect(committed?.bundles.map(({ bundle: _, ...rest }) => rest)).toEqual(fresh.bundles.map(({ bundle: _, ...rest }) => rest));
  });
});
