// SDT1 team-sealed notes and canned responses on their own (the twins of
// crates/sealdesk-mls/src/teamseal_tests.rs). The Rust-made and TS-made objects are exchanged
// in vectors.test.ts.
import { describe, expect, it } from "vitest";
import { encodeChain, signCertificate, type Role, type TrustAnchor } from "../mls/certs.js";
import { ed25519PublicKey } from "../util/ed25519.js";
import { concat, vec } from "../util/wire.js";
import type { OpeningKey } from "./bundle.js";
import { deriveKeys, seal, SealError } from "./seal.js";
import {
  CARRIED_VERSION, carriedAuthor, CONTENT_VERSION, decodeCanned, decodeNote, encodeCanned, encodeNote, MAX_TEXT,
  MAX_TITLE, openCanned, openNote, parseTeamSealed, sealCanned, sealNote, type CannedResponse, type Note,
} from "./teamseal.js";

const fill = (n: number, len = 32): Uint8Array => new Uint8Array(len).fill(n);
const TENANT = fill(4, 16);
const TEAM = fill(5, 16);
const CONVERSATION = fill(6, 16);
const DEVICE = fill(3);

async function fixture(role: Role): Promise<{ anchor: TrustAnchor; chain: Uint8Array; team: OpeningKey; archive: OpeningKey }> {
  const body = async (r: Role, seed: Uint8Array) => ({
    role: r, tenant: TENANT, team: fill(0, 16), subject: await ed25519PublicKey(seed), notBefore: 1_000n,
    notAfter: 2_000n, label: "Jane D.",
  });
  const issuing = await signCertificate(await body("issuing", fill(2)), fill(1));
  const device = await signCertificate(await body(role, DEVICE), fill(2));
  return {
    anchor: { tenant: TENANT, roots: [await ed25519PublicKey(fill(1))] },
    chain: encodeChain(device, issuing),
    team: { kind: "team", keyVersion: 3, ...(await deriveKeys(fill(10))) },
    archive: { kind: "archive", keyVersion: 1, ...(await deriveKeys(fill(11))) },
  };
}

const note = (text: string): Note => ({ conversation: CONVERSATION, id: fill(8, 16), writtenMs: 1_500_000n, text });
const canned = (): CannedResponse => ({
  team: TEAM, writtenMs: 1_500_000n, title: "Refund", text: "Your refund is on its way: <b>3 days</b>.",
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

describe("team-sealed notes and canned responses (SDT1)", () => {
  it("notes open with the team key and the archive key, only for their conversation", async () => {
    const f = await fixture("agent");
    const sealed = await sealNote(note("VIP, be nice"), TENANT, TEAM, f.chain, [f.team, f.archive], DEVICE);
    for (const key of [f.team, f.archive]) {
      const opened = await openNote(sealed, CONVERSATION, key, f.anchor, 1_500);
      expect(opened.content).toEqual(note("VIP, be nice"));
      expect(opened.author.certificate.label).toBe("Jane D.");
      expect(opened.author.device).toEqual(await ed25519PublicKey(DEVICE));
      expect(opened.team).toEqual(TEAM);
    }
    expect(await code(openNote(sealed, fill(9, 16), f.team, f.anchor, 1_500))).toBe("rejected");
    expect(await code(openCanned(sealed, TEAM, f.team, f.anchor, 1_500))).toBe("rejected");
  });

  it("canned responses belong to their team", async () => {
    const f = await fixture("supervisor");
    const sealed = await sealCanned(canned(), TENANT, f.chain, [f.team], DEVICE);
    const opened = await openCanned(sealed, TEAM, f.team, f.anchor, 1_500);
    expect(opened.content).toEqual(canned());
    expect(opened.author.certificate.role).toBe("supervisor");
    expect(await code(openCanned(sealed, fill(9, 16), f.team, f.anchor, 1_500))).toBe("rejected");
    const moved = sealed.slice();
    moved.set(fill(9, 16), 5);
    expect(await code(openCanned(moved, fill(9, 16), f.team, f.anchor, 1_500))).not.toBe("accepted");
    expect(await code(openCanned(sealed, TEAM, f.archive, f.anchor, 1_500))).toBe("rejected");
    expect(await code(openNote(sealed, CONVERSATION, f.team, f.anchor, 1_500))).toBe("rejected");
  });

  it("refuses other keys, untrusted or expired chains, other tenants and altered bytes", async () => {
    const f = await fixture("agent");
    const sealed = await sealNote(note("call back at 5"), TENANT, TEAM, f.chain, [f.team, f.archive], DEVICE);
    const openAs = (bytes: Uint8Array, key: OpeningKey, anchor: TrustAnchor, at: number) =>
      code(openNote(bytes, CONVERSATION, key, anchor, at));
    expect(await openAs(sealed, { ...f.team, keyVersion: 4 }, f.anchor, 1_500)).toBe("rejected");
    expect(await openAs(sealed, { ...f.team, privateKey: f.archive.privateKey }, f.anchor, 1_500)).toBe("rejected");
    expect(await openAs(sealed, { ...f.team, ...(await deriveKeys(fill(12))) }, f.anchor, 1_500)).toBe("rejected");
    expect(await openAs(sealed, f.team, { ...f.anchor, roots: [fill(7)] }, 1_500)).toBe("credential");
    expect(await openAs(sealed, f.team, f.anchor, 2_500)).toBe("credential");
    expect(await openAs(sealed, f.team, { ...f.anchor, tenant: fill(9, 16) }, 1_500)).toBe("rejected");
    const half = Math.floor(sealed.length / 2);
    for (const i of [0, 4, 5, 21, 40, 200, 400, half, sealed.length - 1]) {
      const altered = sealed.slice();
      altered[i] = (altered[i] ?? 0) ^ 1;
      expect(await openAs(altered, i > half ? f.archive : f.team, f.anchor, 1_500), `byte ${i}`).not.toBe("accepted");
    }
    expect(() => parseTeamSealed(concat(sealed, Uint8Array.of(0)))).toThrow(SealError);
    // Sealing under someone else's chain is refused; a forged seal under the author's chain too.
    expect(await code(sealNote(note("x"), TENANT, TEAM, f.chain, [f.team], fill(13)))).toBe("rejected");
    const ctx = { purpose: "internal-note", tenant: TENANT, team: TEAM, keyVersion: 3, recipient: f.team.publicKey };
    const forgedSeal = await seal(f.team.publicKey, ctx, encodeNote(note("forged")), fill(13));
    const forged = concat(
      sealed.subarray(0, 4 + 1 + 32), vec(f.chain) ?? new Uint8Array(), Uint8Array.of(1, 1, 0, 0, 0, 3), f.team.publicKey,
      vec(forgedSeal) ?? new Uint8Array(),
    );
    expect(parseTeamSealed(forged).seals.length).toBe(1);
    expect(await openAs(forged, f.team, f.anchor, 1_500)).toBe("rejected");
  });

  it("is written only by agent and supervisor devices, to 1 to 4 distinct keys", async () => {
    const history = await fixture("history");
    const sealed = await sealNote(note("x"), TENANT, TEAM, history.chain, [history.team], DEVICE);
    expect(await code(openNote(sealed, CONVERSATION, history.team, history.anchor, 1_500))).toBe("credential");
    const f = await fixture("agent");
    for (const recipients of [[], [f.team, f.team], Array(5).fill(f.team) as OpeningKey[]]) {
      expect(await code(sealNote(note("x"), TENANT, TEAM, f.chain, recipients, DEVICE))).toBe("rejected");
    }
  });

  it("pads plaintexts to 256-byte buckets and decodes them strictly", () => {
    for (let len = 1; len <= 700; len++) {
      const text = "a".repeat(len);
      const bytes = encodeNote(note(text));
      expect(bytes.length % 256, `text of ${len} bytes`).toBe(0);
      expect(decodeNote(bytes).text).toBe(text);
      const c = { ...canned(), title: "t".repeat((len % MAX_TITLE) + 1), text };
      const cb = encodeCanned(c);
      expect(cb.length % 256).toBe(0);
      expect(decodeCanned(cb)).toEqual(c);
    }
    expect(() => encodeNote(note(""))).toThrow(SealError);
    expect(() => encodeNote(note("a".repeat(MAX_TEXT + 1)))).toThrow(SealError);
    expect(encodeNote(note("a".repeat(MAX_TEXT))).length % 256).toBe(0);
    expect(() => encodeCanned({ ...canned(), title: "t".repeat(MAX_TITLE + 1) })).toThrow(SealError);
    const good = encodeNote(note("hello"));
    const altered = (i: number, v: number): Uint8Array => {
      const out = good.slice();
      out[i] = v;
      return out;
    };
    for (const bad of [altered(0, 2), altered(1, 2), altered(good.length - 1, 1), concat(good, Uint8Array.of(0)),
      altered(2 + 16 + 16 + 8 + 1, 0xff)]) {
      expect(() => decodeNote(bad)).toThrow(SealError);
    }
    expect(() => decodeCanned(good)).toThrow(SealError);
  });
});

describe("a note carried over to another team", () => {
  it("names its original author, checked at the recorded time (Rust: a_carried_note_names_its_original_author)", async () => {
    const author = await fixture("agent");
    const carried: Note = { ...note("carried over"), carriedFrom: { chain: author.chain, recordedMs: 1_200_000n } };
    const encoded = encodeNote(carried);
    expect(encoded[0]).toBe(CARRIED_VERSION);
    expect(encoded.length % 256).toBe(0);
    expect(decodeNote(encoded)).toEqual(carried);
    expect(encodeNote(note("plain"))[0]).toBe(CONTENT_VERSION);
    const sealed = await sealNote(carried, TENANT, TEAM, author.chain, [author.team, author.archive], DEVICE);
    const opened = await openNote(sealed, CONVERSATION, author.team, author.anchor, 1_500);
    expect((await carriedAuthor(opened.content, author.anchor))?.certificate.label).toBe("Jane D.");
    expect(await carriedAuthor(note("plain"), author.anchor)).toBeUndefined();
    const late: Note = { ...note("x"), carriedFrom: { chain: author.chain, recordedMs: 2_500_000n } };
    await expect(carriedAuthor(late, author.anchor)).rejects.toMatchObject({ code: "credential" });
    const history = await fixture("history");
    const byHistory: Note = { ...note("x"), carriedFrom: { chain: history.chain, recordedMs: 1_200_000n } };
    await expect(carriedAuthor(byHistory, author.anchor)).rejects.toMatchObject({ code: "credential" });
    const empty = concat(Uint8Array.of(CARRIED_VERSION, 1), new Uint8Array(40), Uint8Array.of(0));
    expect(() => decodeNote(empty)).toThrow(SealError);
    const cannedV2 = encodeCanned(canned());
    cannedV2[0] = CARRIED_VERSION;
    expect(() => decodeCanned(cannedV2)).toThrow(SealError);
  });
});
