// The console's re-seal of canned responses after a team key rotation (canned-reseal.ts),
// with real certificates, key announcements and SDT1 objects made here: a response sealed to
// an older version is opened, verified, sealed unchanged to the newest key only and replaced
// with a compare-and-swap on the version read; one this device cannot verify is left alone;
// nothing is done before this device holds the newest announced key; a lost race is counted,
// not an error. The server is a stand-in here; the browser test runs the real one.
import { describe, expect, it } from "vitest";
import { encodeChain, signCertificate, type TrustAnchor } from "../shared/mls/certs.js";
import { signAnnouncement } from "../shared/seal/announcement.js";
import { deriveKeys, type HpkeKeys } from "../shared/seal/seal.js";
import { openCanned, sealCanned, teamKeyVersion, type CannedResponse } from "../shared/seal/teamseal.js";
import { fromBase64, toBase64 } from "../shared/util/bytes.js";
import { ed25519PublicKey } from "../shared/util/ed25519.js";
import { uuidBytes } from "../widget/trust.js";
import { ApiError, type ConsoleApi } from "./api.js";
import { resealTeam } from "./canned-reseal.js";
import type { ReadyDevice } from "./device.js";

const TEAM = "0b6f3c2e-5a4d-4e8f-9a1b-2c3d4e5f6a7b";
const TENANT = "2d8b5e4a-7c6f-4a0b-9c3d-4e5f6a7b8c9d";
const DAY = 86_400n;
const now = (): bigint => BigInt(Math.floor(Date.now() / 1000));
const seed = (): Uint8Array => crypto.getRandomValues(new Uint8Array(32));

interface Hierarchy {
  anchor: TrustAnchor;
  issuing: Uint8Array;
  issuingCert: Uint8Array;
}

async function hierarchy(root = seed()): Promise<Hierarchy> {
  const issuing = seed();
  const tenant = uuidBytes(TENANT);
  const issuingCert = await signCertificate({
    role: "issuing", tenant, team: new Uint8Array(16), subject: await ed25519PublicKey(issuing), notBefore: now() - DAY, notAfter: now() + 365n * DAY, label: "Issuing",
  }, root);
  return { anchor: { tenant, roots: [await ed25519PublicKey(root)] }, issuing, issuingCert };
}

async function deviceOf(h: Hierarchy, role: "agent" | "supervisor", label: string): Promise<{ seed: Uint8Array; chain: Uint8Array }> {
  const s = seed();
  const cert = await signCertificate({
    role, tenant: h.anchor.tenant, team: new Uint8Array(16), subject: await ed25519PublicKey(s), notBefore: now() - DAY, notAfter: now() + 100n * DAY, label,
  }, h.issuing);
  return { seed: s, chain: encodeChain(cert, h.issuingCert) };
}

interface Stored {
  id: string;
  p: string;
  created_at: string;
}

/** The server as far as the re-seal asks it: announcements, the list and the compare-and-swap. */
function server(h: Hierarchy, announced: Array<{ version: number; keys: HpkeKeys }>, stored: Stored[]) {
  const puts: Array<{ id: string; key_version: number; read_sha256: string; p: string }> = [];
  let raceOnPut = false;
  const api = {
    sealingKeys: async () => ({
      keys: await Promise.all(announced.map(async (k) => ({
        scope: TEAM, version: k.version, public_key: toBase64(k.keys.publicKey),
        announcement: toBase64(await signAnnouncement({ kind: "team", tenant: h.anchor.tenant, team: uuidBytes(TEAM), version: k.version, publicKey: k.keys.publicKey, created: now() }, h.issuingCert, h.issuing)),
      }))),
    }),
    request: async (method: string, path: string, body?: { key_version: number; read_sha256: string; p: string }) => {
      if (method === "GET" && path.endsWith("/canned-responses")) {
        return { canned_responses: stored.map((s) => ({ ...s, team_id: TEAM, created_by: "staff" })) };
      }
      if (method === "PUT" && body !== undefined) {
        const id = path.split("/").pop() ?? "";
        const row = stored.find((s) => s.id === id);
        if (row === undefined) throw new ApiError(404, "not_found", "not found");
        // The server's compare-and-swap: the stored payload must still be the one read.
        const storedSha = toBase64(new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(fromBase64(row.p)))));
        if (raceOnPut || teamKeyVersion(fromBase64(row.p)) !== body.key_version || storedSha !== body.read_sha256) throw new ApiError(409, "conflict", "changed");
        puts.push({ id, ...body });
        row.p = body.p;
        row.created_at = new Date().toISOString();
        return { ...row, team_id: TEAM, created_by: "staff" };
      }
      throw new Error(`unexpected ${method} ${path}`);
    },
  };
  return { api: api as unknown as ConsoleApi, puts, race: () => (raceOnPut = true) };
}

const canned = (title: string): CannedResponse => ({ team: uuidBytes(TEAM), writtenMs: 1_700_000_000_123n, title, text: `${title}: we are on it.` });

async function world() {
  const h = await hierarchy();
  const keys = { 1: await deriveKeys(seed()), 2: await deriveKeys(seed()) };
  const author = await deviceOf(h, "agent", "Jane D.");
  const me = await deviceOf(h, "supervisor", "Sara S.");
  const rogue = await deviceOf(await hierarchy(), "agent", "Mallory");
  const seal = async (c: CannedResponse, v: 1 | 2, by = author): Promise<string> =>
    toBase64(await sealCanned(c, uuidBytes(TENANT), by.chain, [{ kind: "team", keyVersion: v, publicKey: keys[v].publicKey }], by.seed));
  const at = new Date().toISOString();
  const stored: Stored[] = [
    { id: "old", p: await seal(canned("Refunds"), 1), created_at: at },
    { id: "new", p: await seal(canned("Shipping"), 2), created_at: at },
    { id: "forged", p: await seal(canned("Forged"), 1, rogue), created_at: at },
  ];
  const device = (versions: Array<1 | 2>): ReadyDevice => ({
    id: "device", seed: me.seed, signatureKey: new Uint8Array(32), chain: me.chain, label: "Sara S.", anchor: h.anchor,
    teamKeys: versions.map((v) => ({ team: TEAM, version: v, keys: keys[v] })),
  });
  const announced = [{ version: 1, keys: keys[1] }, { version: 2, keys: keys[2] }];
  return { h, keys, stored, device, announced };
}

describe("re-sealing canned responses after a rotation", () => {
  it("re-seals what is under an older version, unchanged, to the newest key only", async () => {
    const w = await world();
    const before = w.stored.map((s) => s.p);
    const s = server(w.h, w.announced, w.stored);
    const report = await resealTeam(s.api, w.device([1, 2]), TENANT, TEAM);
    expect(report).toEqual({ newest: 2, resealed: 1, raced: 0, skipped: 1 });
    expect(s.puts.map((p) => [p.id, p.key_version])).toEqual([["old", 1]]);
    const copy = fromBase64(s.puts[0]?.p ?? "");
    expect(teamKeyVersion(copy)).toBe(2);
    // Opens with the newest key into the same title, text and time; the old key no longer opens it.
    const opened = await openCanned(copy, uuidBytes(TEAM), { kind: "team", keyVersion: 2, ...w.keys[2] }, w.h.anchor, now());
    expect(opened.content).toEqual(canned("Refunds"));
    expect(opened.author.certificate.label).toBe("Sara S.");
    await expect(openCanned(copy, uuidBytes(TEAM), { kind: "team", keyVersion: 1, ...w.keys[1] }, w.h.anchor, now())).rejects.toThrow();
    // The response already under version 2 and the one that does not verify are left alone.
    expect(w.stored[1]?.p).toBe(before[1]);
    expect(w.stored[2]?.p).toBe(before[2]);
    // A second pass has nothing left to do.
    expect(await resealTeam(s.api, w.device([1, 2]), TENANT, TEAM)).toEqual({ newest: 2, resealed: 0, raced: 0, skipped: 1 });
  });

  it("waits until this device holds the newest announced key", async () => {
    const w = await world();
    const s = server(w.h, w.announced, w.stored);
    expect(await resealTeam(s.api, w.device([1]), TENANT, TEAM)).toEqual({ newest: undefined, resealed: 0, raced: 0, skipped: 0 });
    expect(s.puts).toEqual([]);
  });

  it("counts a lost compare-and-swap and leaves the other console's copy", async () => {
    const w = await world();
    const s = server(w.h, w.announced, w.stored);
    s.race();
    expect(await resealTeam(s.api, w.device([1, 2]), TENANT, TEAM)).toEqual({ newest: 2, resealed: 0, raced: 1, skipped: 1 });
  });

  it("cannot re-seal without the old key: nothing is replaced", async () => {
    const w = await world();
    const s = server(w.h, w.announced, w.stored);
    expect(await resealTeam(s.api, w.device([2]), TENANT, TEAM)).toEqual({ newest: 2, resealed: 0, raced: 0, skipped: 2 });
    expect(s.puts).toEqual([]);
  });
});
