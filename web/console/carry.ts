// Carrying a conversation's earlier history and notes over to another team at a transfer
// (docs/e2ee.md, "Transfer to another team"; the terminal twin is
// crates/sealdesk/src/commands/agent/carry.rs). Before `POST …/transfer` with a team, this
// device, which still reads the conversation and holds its team's key, opens each History
// Member bundle and each note and re-seals them to the new team's newest key and the archive
// key (both verified under the pinned roots, sealed-content.ts `recipients`), signed by
// itself; a note becomes plaintext version 2, naming its original author. Readers of the new
// team fall back to these copies when none of their keys opens an original: a bundle copy
// counts only if its secrets are for the generation's own key package (so its reference,
// RFC 9420 §5.2, is the one the log's commit added); a note copy shows its author as the
// re-sealer names them, verified at the recorded time, and who re-sealed it.

import type { KeyPackageBundle } from "../shared/mls/adapter.js";
import type { CarryOverUpload, HistoryGenerationView, NoteView } from "../shared/protocol/generated.js";
import { sealBundle } from "../shared/seal/bundle.js";
import { carriedAuthor, openNote, parseTeamSealed, sealNote, type Note, type Opened } from "../shared/seal/teamseal.js";
import { bytesEqual, fromBase64, toBase64 } from "../shared/util/bytes.js";
import { uuidBytes } from "../widget/trust.js";
import type { ConsoleApi } from "./api.js";
import type { ReadyDevice } from "./device.js";
import { openWithTeamKeys } from "./preview.js";
import { C, listNotes, openWith, recipients, type Outcome } from "./sealed-content.js";

/**
 * A generation's History Member: its own bundle opened with this device's keys of `team`,
 * else a copy carried over to `team` whose secrets are for the generation's key package.
 */
export async function openGeneration(m: HistoryGenerationView, team: string, device: ReadyDevice): Promise<KeyPackageBundle> {
  try {
    return await openWithTeamKeys(fromBase64(m.sealed_bundle), team, device);
  } catch (original) {
    const keyPackage = fromBase64(m.key_package);
    for (const copy of (m.carried ?? []).filter((c) => c.team_id === team)) {
      try {
        // The re-sealer's chain is checked when the server stored the copy.
        const secrets = await openWithTeamKeys(fromBase64(copy.sealed_bundle), team, device, Math.floor(copy.at / 1000));
        if (bytesEqual(secrets.keyPackage, keyPackage)) return secrets;
      } catch {
        // An altered or foreign copy: the next one, or the original's error.
      }
    }
    throw original;
  }
}

/** A note: the original if this device holds its key, else a copy carried over to a team it holds. */
export async function openNoteOrCopy(device: ReadyDevice, conversation: string, n: NoteView): Promise<Outcome<Note>> {
  const subject = uuidBytes(conversation);
  const candidates = [{ p: n.p, at: n.at }, ...(n.carried ?? []).map((c) => ({ p: c.p, at: c.at }))];
  for (const { p, at } of candidates) {
    const outcome = await openWith(device, p, (bytes, k) => openNote(bytes, subject, k, device.anchor, Math.floor(at / 1000)));
    if (!("elsewhere" in outcome)) return outcome;
  }
  return { elsewhere: true };
}

/**
 * For a note carried over, "Ann D. · agent · carried over by Max M." (the badge says
 * verified); undefined for one that was not. Throws when the author it names does not verify.
 */
export async function carriedText(device: ReadyDevice, opened: Opened<Note>): Promise<string | undefined> {
  const original = await carriedAuthor(opened.content, device.anchor);
  if (original === undefined) return undefined;
  return C.carried(C.author(original.certificate.label, original.certificate.role), opened.author.certificate.label);
}

/**
 * The copies a transfer of `conversation` to `team` carries: every retired and active
 * generation's bundle and every note this device opens, re-sealed, and how many it could not
 * open (they stay unread for the new team; a key version this device was never given does
 * not hold the transfer up).
 */
export async function carriedCopies(api: ConsoleApi, device: ReadyDevice, tenant: string, conversation: string, fromTeam: string, team: string): Promise<{ carry: CarryOverUpload; skipped: number }> {
  const to = await recipients(api, device, tenant, team, true);
  const [tenantBytes, teamBytes] = [uuidBytes(tenant), uuidBytes(team)];
  const hm = await api.historyMember(tenant, conversation);
  const bundles: CarryOverUpload["bundles"] = [];
  let skipped = 0;
  for (const m of (hm.members ?? []).filter((g) => g.state === "retired" || g.state === "active")) {
    let secrets;
    try {
      secrets = await openGeneration(m, fromTeam, device);
    } catch {
      skipped += 1;
      continue;
    }
    const sealed = await sealBundle(secrets, tenantBytes, teamBytes, device.chain, to, device.seed);
    bundles.push({ generation: m.generation, sealed_bundle: toBase64(sealed) });
  }
  const notes: CarryOverUpload["notes"] = [];
  for (const n of (await listNotes(api, tenant, conversation)).notes) {
    const outcome = await openNoteOrCopy(device, conversation, n);
    // A note that does not verify is not vouched for by this device either.
    if (!("ok" in outcome)) {
      skipped += 1;
      continue;
    }
    // The original author: the note's own sealer, or whom an earlier carry named.
    const note: Note = { ...outcome.ok.content };
    note.carriedFrom ??= { chain: parseTeamSealed(fromBase64(n.p)).chain, recordedMs: BigInt(n.at) };
    const sealed = await sealNote(note, tenantBytes, teamBytes, device.chain, to, device.seed);
    notes.push({ seq: n.seq, p: toBase64(sealed) });
  }
  return { carry: { bundles, notes }, skipped };
}
