// What the notes panel (notes.ts) and the canned responses (canned.ts) share: their REST
// calls (opaque payloads, standard base64), the keys they seal to (the team's newest announced
// key and the newest archive key, each announcement verified under the pinned roots, never a
// key the server merely names), opening an SDT1 object with whichever team key this device
// holds (shared/seal/teamseal.ts; docs/e2ee.md "Internal notes and canned responses"), and
// their strings, in one table for translation.

import type { CannedResponseList, CannedResponseView, NoteList, NoteView } from "../shared/protocol/generated.js";
import { verifyAnnouncement } from "../shared/seal/announcement.js";
import type { OpeningKey, Recipient } from "../shared/seal/bundle.js";
import { SealError } from "../shared/seal/seal.js";
import { parseTeamSealed, type Author, type Opened } from "../shared/seal/teamseal.js";
import { bytesEqual, fromBase64, toBase64 } from "../shared/util/bytes.js";
import { uuidBytes } from "../widget/trust.js";
import type { ConsoleApi } from "./api.js";
import type { ReadyDevice } from "./device.js";

/** The roles that may add and delete canned responses (the server's ManageCannedResponses). */
export const MANAGING_ROLES = ["supervisor", "admin", "owner"];

export const C = {
  notesTitle: "Internal notes",
  notesBadge: "Staff only · never sent to the visitor",
  notesEmpty: "No internal notes yet.",
  noteLabel: "New internal note (staff only)",
  noteAdd: "Add internal note",
  noteAdded: "Internal note added.",
  noteTooLong: "A note has at most 8 KiB of text.",
  noteFailed: (code: string) => `The note was not added (${code}).`,
  notesFailed: (code: string) => `Internal notes could not be loaded (${code}).`,
  notesHidden: (n: number) => `${n} note(s) could not be verified and are not shown.`,
  notesSealedElsewhere: (n: number) => `${n} note(s) are sealed to a team key this device does not hold.`,
  verified: "verified",
  author: (label: string, role: string) => `${label} · ${role}`,
  carried: (author: string, resealer: string) => `${author} · carried over by ${resealer}`,
  carriedUnverified: "the author this note names does not verify",
  cannedTitle: "Canned responses",
  cannedFilter: "Find a canned response",
  cannedEmpty: "This team has no canned responses yet.",
  cannedNone: "No canned response matches.",
  cannedInsert: (title: string) => `Insert “${title}”`,
  cannedInserted: "Inserted into the reply: edit it, then send.",
  cannedNoReply: "Open a conversation you are in to insert a canned response.",
  cannedDelete: "Delete",
  cannedDeleted: "Canned response deleted.",
  cannedAddTitle: "Title",
  cannedAddText: "Text",
  cannedAdd: "Save canned response",
  cannedAdded: "Canned response saved, end-to-end encrypted to the team.",
  cannedInvalid: "A canned response needs a title (up to 200 bytes) and a text (up to 8 KiB).",
  cannedFailed: (code: string) => `Not done (${code}).`,
  cannedHidden: (n: number) => `${n} canned response(s) could not be verified or opened and are not shown.`,
  by: (author: string) => `by ${author}`,
};

export const codeOf = (e: unknown): string =>
  e instanceof SealError ? e.code : e instanceof Error && "code" in e && typeof e.code === "string" ? e.code : "error";

export const listNotes = (api: ConsoleApi, tenant: string, id: string): Promise<NoteList> =>
  api.request<NoteList>("GET", `/api/tenants/${tenant}/conversations/${id}/notes`);

export const addNote = (api: ConsoleApi, tenant: string, id: string, sealed: Uint8Array): Promise<NoteView> =>
  api.request<NoteView>("POST", `/api/tenants/${tenant}/conversations/${id}/notes`, { p: toBase64(sealed) });

export const listCanned = (api: ConsoleApi, tenant: string, team: string): Promise<CannedResponseList> =>
  api.request<CannedResponseList>("GET", `/api/tenants/${tenant}/teams/${team}/canned-responses`);

export const addCanned = (api: ConsoleApi, tenant: string, team: string, sealed: Uint8Array): Promise<CannedResponseView> =>
  api.request<CannedResponseView>("POST", `/api/tenants/${tenant}/teams/${team}/canned-responses`, { p: toBase64(sealed) });

export const deleteCanned = (api: ConsoleApi, tenant: string, team: string, id: string): Promise<void> =>
  api.request<void>("DELETE", `/api/tenants/${tenant}/teams/${team}/canned-responses/${id}`);

/**
 * The keys to seal to: `team`'s newest announced key and, with `archive`, the newest archive
 * key (so the business's archive keeps notes), each announcement verified against the roots
 * this device pinned. Throws when the team has no announced key.
 */
export async function recipients(api: ConsoleApi, device: ReadyDevice, tenant: string, team: string, archive: boolean): Promise<Recipient[]> {
  const { keys } = await api.sealingKeys(tenant);
  const teamBytes = uuidBytes(team);
  let newestTeam: Recipient | undefined;
  let newestArchive: Recipient | undefined;
  for (const k of keys) {
    let a;
    try {
      a = await verifyAnnouncement(fromBase64(k.announcement), device.anchor);
    } catch {
      continue; // Not signed under the pinned roots: never sealed to.
    }
    const r: Recipient = { kind: a.kind, keyVersion: a.version, publicKey: a.publicKey };
    if (a.kind === "team" && bytesEqual(a.team, teamBytes)) {
      if (newestTeam === undefined || newestTeam.keyVersion < a.version) newestTeam = r;
    } else if (a.kind === "archive" && archive) {
      if (newestArchive === undefined || newestArchive.keyVersion < a.version) newestArchive = r;
    }
  }
  if (newestTeam === undefined) throw new SealError("rejected", "the team has no announced key");
  return newestArchive === undefined ? [newestTeam] : [newestTeam, newestArchive];
}

/** The team key this device holds that `sealed` is sealed to, or undefined. */
export function openingKeyFor(device: ReadyDevice, sealed: Uint8Array): OpeningKey | undefined {
  const { seals } = parseTeamSealed(sealed);
  for (const k of device.teamKeys) {
    const r: Recipient = { kind: "team", keyVersion: k.version, publicKey: k.keys.publicKey };
    if (seals.some((s) => s.recipient.kind === "team" && s.recipient.keyVersion === r.keyVersion && bytesEqual(s.recipient.publicKey, r.publicKey))) {
      return { ...r, privateKey: k.keys.privateKey };
    }
  }
  return undefined;
}

/** What opening one object gave: the content with its author, not for this device, or refused. */
export type Outcome<T> = { ok: Opened<T> } | { elsewhere: true } | { refused: string };

/** Opens `p` (base64) with the device's team keys through `open`; never throws. */
export async function openWith<T>(
  device: ReadyDevice, p: string, open: (bytes: Uint8Array, key: OpeningKey) => Promise<Opened<T>>,
): Promise<Outcome<T>> {
  try {
    const bytes = fromBase64(p);
    const key = openingKeyFor(device, bytes);
    if (key === undefined) return { elsewhere: true };
    return { ok: await open(bytes, key) };
  } catch (e) {
    return { refused: codeOf(e) };
  }
}

/** "Jane D. · agent": the author's certified name and role (to be set as text). */
export const authorText = (a: Author): string => C.author(a.certificate.label, a.certificate.role);
