// Carrying history and notes over at a transfer to another team (carry.ts), with real
// certificates, announcements, key packages, bundles and notes made here: Support's agent
// re-seals for Billing; Billing's agent opens the generation only through the copy and only
// into that generation's key package, and reads the note as written by its author and
// carried over by the re-sealer; altered or substituted copies are refused. The server is a
// stand-in; the Rust tests run the real one.
import { describe, expect, it } from "vitest";
import type { HistoryGenerationView, NoteView } from "../shared/protocol/generated.js";
import { sealBundle } from "../shared/seal/bundle.js";
import { deriveKeys } from "../shared/seal/seal.js";
import { parseTeamSealed, sealNote, type Note } from "../shared/seal/teamseal.js";
import { bytesEqual, fromBase64, toBase64 } from "../shared/util/bytes.js";
import { ed25519PublicKey } from "../shared/util/ed25519.js";
import { TestHierarchy } from "../widget/testkeys.js";
import { uuidBytes } from "../widget/trust.js";
import type { ConsoleApi } from "./api.js";
import { carriedCopies, carriedText, openGeneration, openNoteOrCopy } from "./carry.js";
import type { ReadyDevice } from "./device.js";

const SUPPORT = "0b6f3c2e-5a4d-4e8f-9a1b-2c3d4e5f6a7b";
const BILLING = "1c7a4d3f-6b5e-4f9a-8b2c-3d4e5f6a7b8c";
const TENANT = "2d8b5e4a-7c6f-4a0b-9c3d-4e5f6a7b8c9d";
const CONVERSATION = "3e9c6f5b-8d7a-4b1c-8d4e-5f6a7b8c9d0e";
const idBytes = (id: string): Uint8Array<ArrayBuffer> => new Uint8Array(uuidBytes(id));
const NOW_MS = Date.now();

async function world() {
  const h = await TestHierarchy.create(idBytes(TENANT));
  const anchor = await h.anchor();
  const keys = { support: await deriveKeys(crypto.getRandomValues(new Uint8Array(32))), billing: await deriveKeys(crypto.getRandomValues(new Uint8Array(32))) };
  const device = async (label: string, team: string, k: typeof keys.support): Promise<ReadyDevice> => {
    const d = await h.device("agent", label);
    return { id: label, seed: d.seed, signatureKey: await ed25519PublicKey(d.seed), chain: d.chain, label, anchor, teamKeys: [{ team, version: 1, keys: k }] };
  };
  const ann = await device("Ann D.", SUPPORT, keys.support);
  const bob = await device("Bob B.", BILLING, keys.billing);
  const hm = await h.keyPackage("history", "Support", idBytes(SUPPORT));
  const support = { kind: "team" as const, keyVersion: 1, publicKey: keys.support.publicKey };
  const generation: HistoryGenerationView = {
    generation: 1, state: "active", team_key_version: 1, key_package: toBase64(hm.keyPackage),
    sealed_bundle: toBase64(await sealBundle(hm, idBytes(TENANT), idBytes(SUPPORT), ann.chain, [support], ann.seed)),
  };
  const note: Note = { conversation: idBytes(CONVERSATION), id: new Uint8Array(16).fill(7), writtenMs: BigInt(NOW_MS), text: "refund approved" };
  const original: NoteView = {
    conversation_id: CONVERSATION, seq: 1, author: "ann", at: NOW_MS,
    p: toBase64(await sealNote(note, idBytes(TENANT), idBytes(SUPPORT), ann.chain, [support], ann.seed)),
  };
  const billingAnnouncement = await h.announce("team", idBytes(BILLING), 1, keys.billing.publicKey);
  const api = {
    historyMember: async () => ({ key_package: generation.key_package, sealed_bundle: generation.sealed_bundle, members: [generation] }),
    sealingKeys: async () => ({ keys: [{ scope: BILLING, version: 1, public_key: toBase64(keys.billing.publicKey), announcement: billingAnnouncement }] }),
    request: async (method: string, path: string) => {
      if (method === "GET" && path.endsWith("/notes")) return { notes: [original] };
      throw new Error(`unexpected ${method} ${path}`);
    },
  } as unknown as ConsoleApi;
  return { h, ann, bob, hm, generation, note, original, api };
}

describe("a transfer to another team", () => {
  it("carries the History Member and the notes over, re-sealed to the new team's newest key", async () => {
    const w = await world();
    const { carry, skipped } = await carriedCopies(w.api, w.ann, TENANT, CONVERSATION, SUPPORT, BILLING);
    expect(skipped).toBe(0);
    expect(carry.bundles?.map((b) => b.generation)).toEqual([1]);
    expect(carry.notes?.map((n) => n.seq)).toEqual([1]);
    const copy = fromBase64(carry.notes?.[0]?.p ?? "");
    const envelope = parseTeamSealed(copy);
    expect(bytesEqual(envelope.team, idBytes(BILLING))).toBe(true);
    expect(envelope.seals.map((s) => [s.recipient.kind, s.recipient.keyVersion])).toEqual([["team", 1]]);

    // Billing's agent: the original does not open; the copy does, into the same key package.
    await expect(openGeneration(w.generation, BILLING, w.bob)).rejects.toThrow();
    const carried = { ...w.generation, carried: [{ team_id: BILLING, sealed_bundle: carry.bundles?.[0]?.sealed_bundle ?? "", team_key_version: 1, resealed_by: "ann", at: Date.now() }] };
    const opened = await openGeneration(carried, BILLING, w.bob);
    expect(bytesEqual(opened.keyPackage, w.hm.keyPackage)).toBe(true);
    // A copy for another team is not used; nor one whose secrets are another member's.
    await expect(openGeneration({ ...carried, carried: carried.carried.map((c) => ({ ...c, team_id: SUPPORT })) }, BILLING, w.bob)).rejects.toThrow();
    const other = await w.h.keyPackage("history", "Support", idBytes(SUPPORT));
    await expect(openGeneration({ ...carried, key_package: toBase64(other.keyPackage) }, BILLING, w.bob)).rejects.toThrow();

    // The note: "Ann D. · agent · carried over by Ann D.", its text and ids unchanged.
    const listed: NoteView = { ...w.original, carried: [{ team_id: BILLING, resealed_by: "ann", at: Date.now(), p: carry.notes?.[0]?.p ?? "" }] };
    expect(await openNoteOrCopy(w.bob, CONVERSATION, w.original)).toEqual({ elsewhere: true });
    const outcome = await openNoteOrCopy(w.bob, CONVERSATION, listed);
    if (!("ok" in outcome)) throw new Error(JSON.stringify(outcome));
    expect({ ...outcome.ok.content, carriedFrom: undefined }).toEqual({ ...w.note, carriedFrom: undefined });
    expect(outcome.ok.content.carriedFrom?.recordedMs).toBe(BigInt(w.original.at));
    expect(await carriedText(w.bob, outcome.ok)).toBe("Ann D. · agent · carried over by Ann D.");
    expect(await carriedText(w.ann, { ...outcome.ok, content: w.note })).toBeUndefined();

    // An altered copy is refused, not shown.
    const altered = fromBase64(carry.notes?.[0]?.p ?? "");
    altered[altered.length - 10] = (altered[altered.length - 10] ?? 0) ^ 1;
    const [first] = listed.carried ?? [];
    if (first === undefined) throw new Error("no copy");
    const refused = await openNoteOrCopy(w.bob, CONVERSATION, { ...listed, carried: [{ ...first, p: toBase64(altered) }] });
    expect("refused" in refused).toBe(true);
  });

  it("carries nothing it cannot open, and says how much", async () => {
    const w = await world();
    const keyless = { ...w.ann, teamKeys: [] };
    const { carry, skipped } = await carriedCopies(w.api, keyless, TENANT, CONVERSATION, SUPPORT, BILLING);
    expect(carry).toEqual({ bundles: [], notes: [] });
    expect(skipped).toBe(2);
  });
});
