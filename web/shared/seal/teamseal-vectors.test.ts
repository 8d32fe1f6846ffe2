// SDT1 through both vector files (the Rust-made crates/sealdesk-mls/tests/vectors/sealed.json
// and the TS-made vectors.ts.json, which crates/sealdesk-mls/tests/web_vectors.rs opens in
// Rust): each note and canned response opens with each of its keys for its subject, its
// plaintext encoding is byte-identical here, and every refusal holds.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CertError, type TrustAnchor } from "../mls/certs.js";
import { toHex } from "../util/bytes.js";
import type { OpeningKey } from "./bundle.js";
import { SealError } from "./seal.js";
import { carriedAuthor, encodeCanned, encodeNote, openCanned, openNote, parseTeamSealed } from "./teamseal.js";
import type { TeamSealVector } from "./teamseal-vectors.js";
import { buildVectors, DAY, type VectorFile } from "./vectors.js";

const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
const load = (url: URL): VectorFile => JSON.parse(readFileSync(url, "utf8")) as VectorFile;
const FILES: Array<[string, VectorFile]> = [
  ["Rust-made", load(new URL("../../../crates/sealdesk-mls/tests/vectors/sealed.json", import.meta.url))],
  ["TS-made", load(new URL("./vectors.ts.json", import.meta.url))],
];

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SealError || e instanceof CertError) return e.code;
    throw e;
  }
  return "accepted";
}

/** Opens `bytes` as the entry's kind; returns the author's label and the re-encoded plaintext. */
async function openEntry(
  v: TeamSealVector, bytes: Uint8Array, subject: Uint8Array, key: OpeningKey, anchor: TrustAnchor, at: number,
): Promise<{ author: string; plaintext: string }> {
  const c = v.content;
  if (v.kind === "note" && "conversation" in c) {
    const opened = await openNote(bytes, subject, key, anchor, at);
    const origin = c.carried_from;
    expect(opened.content).toEqual({
      conversation: hex(c.conversation), id: hex(c.id), writtenMs: BigInt(c.written_ms), text: c.text,
      ...(origin === undefined ? {} : { carriedFrom: { chain: hex(origin.chain), recordedMs: BigInt(origin.recorded_ms) } }),
    });
    const named = await carriedAuthor(opened.content, anchor);
    expect(named === undefined).toBe(origin === undefined);
    if (named !== undefined) expect(named.certificate.label).toBe(v.author);
    return { author: opened.author.certificate.label, plaintext: toHex(encodeNote(opened.content)) };
  }
  if (v.kind === "canned" && "title" in c) {
    const opened = await openCanned(bytes, subject, key, anchor, at);
    expect(opened.content).toEqual({ team: hex(c.team), writtenMs: BigInt(c.written_ms), title: c.title, text: c.text });
    return { author: opened.author.certificate.label, plaintext: toHex(encodeCanned(opened.content)) };
  }
  throw new Error(`${v.name}: content does not match its kind`);
}

for (const [origin, file] of FILES) {
  const anchor: TrustAnchor = { tenant: hex(file.tenant), roots: file.roots.map(hex) };
  const stranger: TrustAnchor = { ...anchor, roots: [anchor.roots[0] ?? new Uint8Array(32)] };

  describe(`${origin} team-sealed vectors (${file.producer})`, () => {
    it("have a note and a canned response", () => {
      expect(new Set(file.team_seals.map((v) => v.kind))).toEqual(new Set(["note", "canned"]));
    });

    it("have a note carried over to another team", () => {
      const carried = file.team_seals.filter((v) => "carried_from" in v.content);
      expect(carried.map((v) => v.name)).toEqual(["note carried over to another team"]);
      expect(carried.every((v) => v.plaintext.startsWith("02"))).toBe(true);
    });

    for (const v of file.team_seals) {
      it(`opens with each of its keys, encodes identically and refuses the rest: ${v.name}`, async () => {
        const bytes = hex(v.sealed);
        const subject = hex(v.subject);
        const keys: OpeningKey[] = v.keys.map((k) => ({
          kind: k.kind, keyVersion: k.key_version, publicKey: hex(k.public), privateKey: hex(k.private),
        }));
        for (const key of keys) {
          const { author, plaintext } = await openEntry(v, bytes, subject, key, anchor, v.at);
          expect(author).toBe(v.author);
          expect(plaintext).toBe(v.plaintext);
        }
        const [team] = keys as [OpeningKey];
        const openAs = (b: Uint8Array, s: Uint8Array, k: OpeningKey, a: TrustAnchor, at: number) =>
          refusal(openEntry(v, b, s, k, a, at));
        expect(await openAs(bytes, new Uint8Array(16).fill(0x99), team, anchor, v.at)).toBe("rejected");
        expect(await openAs(bytes, subject, { ...team, keyVersion: team.keyVersion + 1 }, anchor, v.at)).toBe("rejected");
        expect(await openAs(bytes, subject, team, stranger, v.at)).toBe("credential");
        expect(await openAs(bytes, subject, team, anchor, v.at + 400 * DAY)).toBe("credential");
        const header = 4 + 1 + 32 + 2 + parseTeamSealed(bytes).chain.length + 1;
        for (const i of [0, 4, 5, 20, 37, header - 1, header, header + 40, Math.floor(bytes.length / 2), bytes.length - 1]) {
          const altered = bytes.slice();
          altered[i] = (altered[i] ?? 0) ^ 1;
          const results = await Promise.all(keys.map((k) => openAs(altered, subject, k, anchor, v.at)));
          const refused = results.filter((r) => r !== "accepted").length;
          expect(refused, `byte ${i}`).toBeGreaterThanOrEqual(i < header ? keys.length : 1);
        }
      });
    }
  });
}

describe("the TS-made team-sealed vectors", () => {
  it("are what the builder makes (rerun `npm run vectors:write` if not)", async () => {
    const fresh = await buildVectors();
    const committed = FILES[1]?.[1];
    expect(committed?.team_seals.map(({ sealed: _, ...rest }) => rest)).toEqual(
      fresh.team_seals.map(({ sealed: _, ...rest }) => rest));
  });
});
