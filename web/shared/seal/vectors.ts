// The cross-library vectors of the key-distribution formats (certificates and chains, SDS1,
// SDB1, SDK1, SDT1). One JSON layout, written by both sides from fixed seeds and checked by both:
//   crates/sealdesk-mls/tests/vectors/sealed.json   Rust-made (tests/web_vectors.rs, SEALDESK_BLESS=1)
//   web/shared/seal/vectors.ts.json                 TS-made (`npm run vectors:write`, this builder)
// Ed25519 (RFC 8032) is deterministic, so certificates and announcements must come out byte
// for byte the same from either side's seeds; HPKE (RFC 9180) seals are randomised, so those
// are only opened.

import { encodeChain, signCertificate, VISITOR_MAGIC, type CertBody, type Role } from "../mls/certs.js";
import { toHex } from "../util/bytes.js";
import { ed25519PublicKey } from "../util/ed25519.js";
import { concat } from "../util/wire.js";
import { signAnnouncement, type Announcement } from "./announcement.js";
import { sealBundle, type KeyKind, type KeyPackageSecrets } from "./bundle.js";
import { deriveKeys, seal, type SealContext } from "./seal.js";
import { buildTeamSeals, type TeamSealVector } from "./teamseal-vectors.js";

export const DAY = 86_400;
export const NOW = 1_800_000_000;

export interface CertVector {
  name: string; issuer: "root" | "issuing"; role: Role; tenant: string; team: string; subject: string;
  not_before: number; not_after: number; label: string; encoded: string;
}
export type Expected =
  | { kind: "device"; role: Role; label: string; team: string }
  | { kind: "visitor"; id: string };
export interface IdentityVector { name: string; identity: string; leaf: string; at: number; expected: Expected }
export interface SealVector {
  name: string; purpose: string; tenant: string; team: string; key_version: number; recipient_public: string;
  recipient_private: string; signer: string; plaintext: string; sealed: string;
}
export interface KeyVector { kind: KeyKind; key_version: number; public: string; private: string }
export interface SecretsVector { key_package: string; init_private: string; encryption_private: string; signature_private: string }
export interface BundleVector {
  name: string; tenant: string; team: string; at: number; keys: KeyVector[]; secrets: SecretsVector; bundle: string;
}
export interface AnnouncementVector {
  name: string; kind: KeyKind; tenant: string; team: string; version: number; public: string; created: number;
  signer: "root" | "issuing"; issuing_cert: string; encoded: string;
}
export interface VectorFile {
  producer: "rust" | "typescript";
  tenant: string;
  /** The Ed25519 seeds of the hierarchy: root, issuing key, agent device, History Member device. */
  seeds: { root: string; issuing: string; agent: string; history: string };
  roots: string[];
  certificates: CertVector[];
  identities: IdentityVector[];
  seals: SealVector[];
  bundles: BundleVector[];
  announcements: AnnouncementVector[];
  /** SDT1 notes and canned responses (teamseal-vectors.ts). */
  team_seals: TeamSealVector[];
}

const fill = (n: number, len: number): Uint8Array => new Uint8Array(len).fill(n);
const pattern = (len: number, step: number): Uint8Array => Uint8Array.from({ length: len }, (_, i) => (i * step) % 256);

/** The TS-made vector file (seeds 0x21..0x24, so it cannot be a copy of the Rust one). */
export async function buildVectors(): Promise<VectorFile> {
  const tenant = fill(7, 16);
  const team = fill(5, 16);
  const zero = new Uint8Array(16);
  const seeds = { root: fill(0x21, 32), issuing: fill(0x22, 32), agent: fill(0x23, 32), history: fill(0x24, 32) };
  const pub = {
    root: await ed25519PublicKey(seeds.root), issuing: await ed25519PublicKey(seeds.issuing),
    agent: await ed25519PublicKey(seeds.agent), history: await ed25519PublicKey(seeds.history),
  };

  const certificates: CertVector[] = [];
  const certify = async (name: string, issuer: "root" | "issuing", body: CertBody): Promise<Uint8Array> => {
    const encoded = await signCertificate(body, seeds[issuer]);
    certificates.push({
      name, issuer, role: body.role, tenant: toHex(body.tenant), team: toHex(body.team), subject: toHex(body.subject),
      not_before: Number(body.notBefore), not_after: Number(body.notAfter), label: body.label, encoded: toHex(encoded),
    });
    return encoded;
  };
  const span = (days: number): { notBefore: bigint; notAfter: bigint } => ({
    notBefore: BigInt(NOW - DAY), notAfter: BigInt(NOW + days * DAY),
  });
  const issuingCert = await certify("issuing key", "root", {
    role: "issuing", tenant, team: zero, subject: pub.issuing, ...span(365), label: "Console d'administration",
  });
  const agentCert = await certify("agent device", "issuing", {
    role: "agent", tenant, team: zero, subject: pub.agent, ...span(30), label: "Zoë K. (TS)",
  });
  const historyCert = await certify("History Member device", "issuing", {
    role: "history", tenant, team, subject: pub.history, ...span(90), label: "Facturation",
  });
  const agentChain = encodeChain(agentCert, issuingCert);
  const visitorId = fill(9, 16);
  const identities: IdentityVector[] = [
    { name: "agent chain", identity: toHex(agentChain), leaf: toHex(pub.agent), at: NOW,
      expected: { kind: "device", role: "agent", label: "Zoë K. (TS)", team: toHex(zero) } },
    { name: "History Member chain", identity: toHex(encodeChain(historyCert, issuingCert)), leaf: toHex(pub.history),
      at: NOW + 29 * DAY, expected: { kind: "device", role: "history", label: "Facturation", team: toHex(team) } },
    { name: "visitor", identity: toHex(concat(VISITOR_MAGIC, visitorId)), leaf: toHex(fill(1, 32)), at: NOW,
      expected: { kind: "visitor", id: toHex(visitorId) } },
  ];

  const teamKey = await deriveKeys(fill(0x30, 32));
  const archiveKey = await deriveKeys(fill(0x31, 32));
  const seals: SealVector[] = [];
  const sealOne = async (name: string, ctx: SealContext, recipientPrivate: Uint8Array, plaintext: Uint8Array) => {
    const sealed = await seal(ctx.recipient, ctx, plaintext, seeds.issuing);
    seals.push({
      name, purpose: ctx.purpose, tenant: toHex(ctx.tenant), team: toHex(ctx.team), key_version: ctx.keyVersion,
      recipient_public: toHex(ctx.recipient), recipient_private: toHex(recipientPrivate), signer: toHex(pub.issuing),
      plaintext: toHex(plaintext), sealed: toHex(sealed),
    });
  };
  const device = await deriveKeys(fill(0x20, 32));
  await sealOne("team key wrapped to a device", {
    purpose: "team-key-wrap", tenant, team, keyVersion: 3, recipient: device.publicKey,
  }, device.privateKey, teamKey.privateKey);
  const compliance = await deriveKeys(fill(0x29, 32));
  await sealOne("archive key wrapped (two-byte lengths)", {
    purpose: "archive-key-wrap", tenant, team: zero, keyVersion: 0xfffffffe, recipient: compliance.publicKey,
  }, compliance.privateKey, pattern(300, 7));

  const secrets: KeyPackageSecrets = {
    keyPackage: pattern(300, 13), initPrivate: fill(0x41, 32), encryptionPrivate: fill(0x42, 32),
    signaturePrivate: fill(0x43, 32),
  };
  const keys: Array<{ kind: KeyKind; keyVersion: number; publicKey: Uint8Array; privateKey: Uint8Array }> = [
    { kind: "team", keyVersion: 3, ...teamKey }, { kind: "archive", keyVersion: 1, ...archiveKey },
  ];
  const bundle = await sealBundle(secrets, tenant, team, agentChain, keys, seeds.agent);
  const bundles: BundleVector[] = [{
    name: "History Member for team and archive", tenant: toHex(tenant), team: toHex(team), at: NOW,
    keys: keys.map((k) => ({ kind: k.kind, key_version: k.keyVersion, public: toHex(k.publicKey), private: toHex(k.privateKey) })),
    secrets: {
      key_package: toHex(secrets.keyPackage), init_private: toHex(secrets.initPrivate),
      encryption_private: toHex(secrets.encryptionPrivate), signature_private: toHex(secrets.signaturePrivate),
    },
    bundle: toHex(bundle),
  }];

  const announcements: AnnouncementVector[] = [];
  const announce = async (name: string, a: Announcement, signer: "root" | "issuing") => {
    const cert = signer === "root" ? new Uint8Array(0) : issuingCert;
    const encoded = await signAnnouncement(a, cert, seeds[signer]);
    announcements.push({
      name, kind: a.kind, tenant: toHex(a.tenant), team: toHex(a.team), version: a.version, public: toHex(a.publicKey),
      created: Number(a.created), signer, issuing_cert: toHex(cert), encoded: toHex(encoded),
    });
  };
  await announce("team key by the issuing key", {
    kind: "team", tenant, team, version: 3, publicKey: teamKey.publicKey, created: BigInt(NOW),
  }, "issuing");
  await announce("archive key by the root", {
    kind: "archive", tenant, team: zero, version: 1, publicKey: archiveKey.publicKey, created: BigInt(NOW - 400 * DAY),
  }, "root");

  const [teamOpening, archiveOpening] = keys as [(typeof keys)[number], (typeof keys)[number]];
  const teamSeals = await buildTeamSeals(tenant, team, NOW, agentChain, seeds.agent, "Zoë K. (TS)", teamOpening, archiveOpening);

  return {
    producer: "typescript", tenant: toHex(tenant),
    seeds: { root: toHex(seeds.root), issuing: toHex(seeds.issuing), agent: toHex(seeds.agent), history: toHex(seeds.history) },
    roots: [toHex(fill(0xee, 32)), toHex(pub.root)],
    certificates, identities, seals, bundles, announcements, team_seals: teamSeals,
  };
}
