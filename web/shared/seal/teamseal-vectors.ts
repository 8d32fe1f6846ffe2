// The SDT1 part of the cross-library vector files (see vectors.ts): a note sealed to the team
// and archive keys, a canned response sealed to the team key, a note carried over (version 2), with the byte-exact
// plaintext encoding both languages must produce. The Rust builder is
// crates/sealdesk-mls/tests/web_vectors/teamseal.rs.

import { toHex } from "../util/bytes.js";
import type { KeyKind, OpeningKey } from "./bundle.js";
import { encodeCanned, encodeNote, sealCanned, sealNote, type CannedResponse, type Note } from "./teamseal.js";

export interface TeamSealKeyVector { kind: KeyKind; key_version: number; public: string; private: string }
export type TeamSealContent =
  | {
    conversation: string; id: string; written_ms: number; text: string;
    carried_from?: { chain: string; recorded_ms: number };
  }
  | { team: string; written_ms: number; title: string; text: string };
export interface TeamSealVector {
  name: string; kind: "note" | "canned"; tenant: string; team: string; at: number;
  /** The conversation (note) or team (canned response) the server lists it under. */
  subject: string;
  keys: TeamSealKeyVector[]; content: TeamSealContent; plaintext: string; author: string; sealed: string;
}

const keyVector = (k: OpeningKey): TeamSealKeyVector => ({
  kind: k.kind, key_version: k.keyVersion, public: toHex(k.publicKey), private: toHex(k.privateKey),
});

/** The TS-made entries, sealed by the agent device whose chain is `chain`. */
export async function buildTeamSeals(
  tenant: Uint8Array, team: Uint8Array, at: number, chain: Uint8Array, signerSeed: Uint8Array, author: string,
  teamKey: OpeningKey, archiveKey: OpeningKey,
): Promise<TeamSealVector[]> {
  const note: Note = {
    conversation: new Uint8Array(16).fill(0x71), id: new Uint8Array(16).fill(0x72), writtenMs: BigInt(at) * 1000n + 9n,
    text: `Client fidèle <img src=x onerror=alert(1)> ${"y".repeat(230)}`,
  };
  const canned: CannedResponse = {
    team, writtenMs: BigInt(at) * 1000n + 10n, title: "Délai de livraison", text: "Comptez <i>2 jours</i> ouvrés.",
  };
  const sealedNote = await sealNote(note, tenant, team, chain, [teamKey, archiveKey], signerSeed);
  const sealedCanned = await sealCanned(canned, tenant, chain, [teamKey], signerSeed);
  // Carried over to another team (plaintext version 2): names its original author.
  const carried: Note = {
    ...note, id: new Uint8Array(16).fill(0x73), text: "Repris : remboursement accordé",
    carriedFrom: { chain, recordedMs: BigInt(at) * 1000n - 4n },
  };
  const sealedCarried = await sealNote(carried, tenant, team, chain, [teamKey, archiveKey], signerSeed);
  return [
    {
      name: "note to team and archive", kind: "note", tenant: toHex(tenant), team: toHex(team), at,
      subject: toHex(note.conversation), keys: [keyVector(teamKey), keyVector(archiveKey)],
      content: { conversation: toHex(note.conversation), id: toHex(note.id), written_ms: Number(note.writtenMs), text: note.text },
      plaintext: toHex(encodeNote(note)), author, sealed: toHex(sealedNote),
    },
    {
      name: "canned response to the team", kind: "canned", tenant: toHex(tenant), team: toHex(team), at,
      subject: toHex(team), keys: [keyVector(teamKey)],
      content: { team: toHex(team), written_ms: Number(canned.writtenMs), title: canned.title, text: canned.text },
      plaintext: toHex(encodeCanned(canned)), author, sealed: toHex(sealedCanned),
    },
    {
      name: "note carried over to another team", kind: "note", tenant: toHex(tenant), team: toHex(team), at,
      subject: toHex(carried.conversation), keys: [keyVector(teamKey), keyVector(archiveKey)],
      content: {
        conversation: toHex(carried.conversation), id: toHex(carried.id), written_ms: Number(carried.writtenMs),
        text: carried.text, carried_from: { chain: toHex(chain), recorded_ms: Number(BigInt(at) * 1000n - 4n) },
      },
      plaintext: toHex(encodeNote(carried)), author, sealed: toHex(sealedCarried),
    },
  ];
}
