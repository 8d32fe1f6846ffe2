// Team-sealed content (SDT1), the twin of crates/sealdesk-mls/src/teamseal.rs: a
// conversation's internal notes and a team's canned responses, sealed by the staff member's
// certified device to the team key and, for notes, the tenant's archive key (docs/e2ee.md,
// "Internal notes and canned responses"). The server stores them opaquely.
//
//   "SDT1" ‖ kind (u8: 1 internal note, 2 canned response) ‖ tenant (16) ‖ team (16)
//   ‖ chain<V> (the sealing device's SDCH credential chain)
//   ‖ count (u8, 1..=4) ‖ count × { key kind (u8: 1 team, 2 archive) ‖ key_version (u32 BE)
//                                   ‖ recipient (32) ‖ sealed<V> (an SDS1 object) }
//
// Each SDS1 (seal.ts: HPKE base mode, RFC 9180 §5.1.1; Ed25519-signed by the device the chain
// certifies) has purpose "internal-note" / "internal-note-archive" or "canned-response" /
// "canned-response-archive"; info binds it with the tenant, team, key version and recipient.
// The plaintext names what it belongs to, so the server cannot move it:
//
//   note:   version (1) ‖ 1 ‖ conversation (16) ‖ note_id (16) ‖ written_ms (u64) ‖ text<V> ‖ padding<V>
//   carried note (to another team at a transfer; names the original author, checked at the
//   time the server recorded the original):
//           version (2) ‖ 1 ‖ conversation (16) ‖ note_id (16) ‖ written_ms (u64)
//           ‖ author_chain<V> ‖ recorded_ms (u64) ‖ text<V> ‖ padding<V>
//   canned: version (1) ‖ 2 ‖ team (16) ‖ written_ms (u64) ‖ title<V> ‖ text<V> ‖ padding<V>
//
// padding: zeros up to a multiple of 256 bytes. <V> is an MLS vector (RFC 9420 §2.1.2).
// Decoding is strict, and the checks run in the Rust order.

import { chainSubject, verifyIdentity, type CertBody, type TrustAnchor, type Verified } from "../mls/certs.js";
import { bytesEqual, fromUtf8, utf8 } from "../util/bytes.js";
import { ed25519PublicKey } from "../util/ed25519.js";
import { concat, Reader, u32, u64, vec } from "../util/wire.js";
import { keyKindByte, keyKindOf, type KeyKind, type OpeningKey, type Recipient } from "./bundle.js";
import { open, seal, SealError, type SealContext } from "./seal.js";

const MAGIC = utf8("SDT1");
const MAX_RECIPIENTS = 4;
/** The plaintext version this code writes and reads. */
export const CONTENT_VERSION = 1;
/** The note plaintext version that names the original author (a note carried over). */
export const CARRIED_VERSION = 2;
/** Longest note or canned-response text, in bytes of UTF-8. */
export const MAX_TEXT = 8 * 1024;
/** Longest canned-response title, in bytes of UTF-8. */
export const MAX_TITLE = 200;
const BUCKET = 256;

export type ContentKind = "note" | "canned";
const KIND_BYTE: Record<ContentKind, number> = { note: 1, canned: 2 };
const PURPOSE: Record<ContentKind, Record<KeyKind, string>> = {
  note: { team: "internal-note", archive: "internal-note-archive" },
  canned: { team: "canned-response", archive: "canned-response-archive" },
};

/** An internal note on a conversation. */
export interface Note {
  conversation: Uint8Array; // 16: the conversation's id
  id: Uint8Array; // 16, random: a note the server repeats has the same id
  writtenMs: bigint; // the writer's clock, for display
  text: string; // 1 to MAX_TEXT bytes
  /** Set on a copy carried over to another team: who wrote the original (version 2). */
  carriedFrom?: Origin;
}

/** The original author of a note carried over to another team. */
export interface Origin {
  chain: Uint8Array; // the original sealing device's credential chain
  recordedMs: bigint; // when the server recorded the original: its chain is checked then
}

/** A team's canned response. */
export interface CannedResponse {
  team: Uint8Array; // 16
  writtenMs: bigint;
  title: string; // 1 to MAX_TITLE bytes; what the picker matches
  text: string; // 1 to MAX_TEXT bytes
}

/** An object's parts, before anything is opened. */
export interface Envelope {
  kind: ContentKind;
  tenant: Uint8Array;
  team: Uint8Array;
  chain: Uint8Array;
  seals: Array<{ recipient: Recipient; sealed: Uint8Array }>;
}

/** Who wrote an object: the certificate of the device that sealed it, verified. */
export interface Author {
  device: Uint8Array;
  certificate: CertBody;
}

/** An opened object: its content, verified author, and the team and key it was sealed to. */
export interface Opened<T> {
  content: T;
  author: Author;
  team: Uint8Array;
  key: Recipient;
}

const malformed = (what: string): SealError => new SealError("malformed", what);
const rejected = (what: string): SealError => new SealError("rejected", what);

function textVec(text: string, max: number, what: string): Uint8Array {
  const bytes = utf8(text);
  if (bytes.length === 0 || bytes.length > max) throw rejected(`${what} must be 1 to ${max} bytes`);
  return vec(bytes) as Uint8Array; // max < MAX_VEC
}

/** Zero padding to the next multiple of 256 bytes (the vector's length byte(s) count). */
function pad(length: number): Uint8Array {
  let padding = (BUCKET - ((length + 1) % BUCKET)) % BUCKET;
  if (padding >= 64) {
    // A 2-byte length: one byte more to cover; a length under 64 would not be minimal.
    padding = (BUCKET - ((length + 2) % BUCKET)) % BUCKET;
    if (padding < 64) padding += BUCKET;
  }
  return vec(new Uint8Array(padding)) as Uint8Array;
}

function padded(...parts: Uint8Array[]): Uint8Array {
  const body = concat(...parts);
  return concat(body, pad(body.length));
}

function fixed(bytes: Uint8Array, n: number, what: string): Uint8Array {
  if (bytes.length !== n) throw malformed(`${what} is ${n} bytes`);
  return bytes;
}

export function encodeNote(note: Note): Uint8Array {
  const origin = note.carriedFrom;
  const head = [
    Uint8Array.of(origin === undefined ? CONTENT_VERSION : CARRIED_VERSION, KIND_BYTE.note),
    fixed(note.conversation, 16, "a conversation id"), fixed(note.id, 16, "a note id"), u64(note.writtenMs),
  ];
  if (origin !== undefined) {
    if (origin.chain.length === 0) throw rejected("a carried note names its author");
    const chain = vec(origin.chain);
    if (chain === null) throw rejected("sealed objects are under 16 KiB");
    head.push(chain, u64(origin.recordedMs));
  }
  return padded(...head, textVec(note.text, MAX_TEXT, "a note"));
}

export function encodeCanned(canned: CannedResponse): Uint8Array {
  return padded(
    Uint8Array.of(CONTENT_VERSION, KIND_BYTE.canned), fixed(canned.team, 16, "a team id"), u64(canned.writtenMs),
    textVec(canned.title, MAX_TITLE, "a title"), textVec(canned.text, MAX_TEXT, "a canned response"),
  );
}

function reader(bytes: Uint8Array, kind: ContentKind): { r: Reader; version: number } {
  const r = new Reader(bytes, (what) => malformed(`team-sealed content: ${what}`));
  const version = r.u8();
  const known = version === CONTENT_VERSION || (kind === "note" && version === CARRIED_VERSION);
  if (!known) throw malformed(`content version ${version}`);
  if (r.u8() !== KIND_BYTE[kind]) throw malformed("another kind of content");
  return { r, version };
}

function readText(r: Reader, max: number, what: string): string {
  const bytes = r.vec();
  if (bytes.length === 0 || bytes.length > max) throw malformed(`${what} must be 1 to ${max} bytes`);
  try {
    return fromUtf8(bytes);
  } catch {
    throw malformed(`${what}: not UTF-8`);
  }
}

function unpad(r: Reader): void {
  const padding = r.vec();
  if (padding.some((b) => b !== 0) || r.remaining !== 0) throw malformed("team-sealed content: trailing bytes");
}

export function decodeNote(bytes: Uint8Array): Note {
  const { r, version } = reader(bytes, "note");
  const conversation = r.take(16).slice();
  const id = r.take(16).slice();
  const writtenMs = r.u64();
  let carriedFrom: Origin | undefined;
  if (version === CARRIED_VERSION) {
    const chain = r.vec().slice();
    if (chain.length === 0) throw malformed("a carried note names its author");
    carriedFrom = { chain, recordedMs: r.u64() };
  }
  const note: Note = { conversation, id, writtenMs, text: readText(r, MAX_TEXT, "a note") };
  if (carriedFrom !== undefined) note.carriedFrom = carriedFrom;
  unpad(r);
  return note;
}

export function decodeCanned(bytes: Uint8Array): CannedResponse {
  const { r } = reader(bytes, "canned");
  const canned: CannedResponse = {
    team: r.take(16).slice(), writtenMs: r.u64(), title: readText(r, MAX_TITLE, "a title"),
    text: readText(r, MAX_TEXT, "a canned response"),
  };
  unpad(r);
  return canned;
}

const sameKey = (a: Recipient, b: Recipient): boolean => a.kind === b.kind && a.keyVersion === b.keyVersion;

function context(kind: ContentKind, tenant: Uint8Array, team: Uint8Array, r: Recipient): SealContext {
  return { purpose: PURPOSE[kind][r.kind], tenant, team, keyVersion: r.keyVersion, recipient: r.publicKey };
}

async function sealObject(
  kind: ContentKind, plaintext: Uint8Array, tenant: Uint8Array, team: Uint8Array, chain: Uint8Array,
  recipients: Recipient[], signerSeed: Uint8Array,
): Promise<Uint8Array> {
  if (recipients.length === 0 || recipients.length > MAX_RECIPIENTS) throw rejected("1 to 4 recipient keys");
  if (recipients.some((r, i) => recipients.slice(0, i).some((o) => sameKey(o, r)))) throw rejected("a key appears twice");
  const subject = await chainSubject(chain);
  if (subject === null || !bytesEqual(subject, await ed25519PublicKey(signerSeed))) {
    throw rejected("the chain must certify the sealing device's key");
  }
  const chainVec = vec(chain);
  if (chainVec === null) throw rejected("sealed objects are under 16 KiB");
  const parts = [MAGIC, Uint8Array.of(KIND_BYTE[kind]), fixed(tenant, 16, "tenant"), fixed(team, 16, "team"), chainVec,
    Uint8Array.of(recipients.length)];
  for (const r of recipients) {
    const sealed = vec(await seal(r.publicKey, context(kind, tenant, team, r), plaintext, signerSeed));
    if (sealed === null) throw rejected("sealed objects are under 16 KiB");
    parts.push(Uint8Array.of(keyKindByte(r.kind)), u32(r.keyVersion), r.publicKey, sealed);
  }
  return concat(...parts);
}

/** Parses an object (no cryptography). Rust: `teamseal::parse`. */
export function parseTeamSealed(bytes: Uint8Array): Envelope {
  const r = new Reader(bytes, (what) => malformed(`team-sealed object: ${what}`));
  if (!bytesEqual(r.take(4), MAGIC)) throw malformed("not a team-sealed object");
  const kindByte = r.u8();
  const kind: ContentKind | null = kindByte === 1 ? "note" : kindByte === 2 ? "canned" : null;
  if (kind === null) throw malformed("unknown content kind");
  const tenant = r.take(16).slice();
  const team = r.take(16).slice();
  const chain = r.vec().slice();
  const count = r.u8();
  if (count === 0 || count > MAX_RECIPIENTS) throw malformed("1 to 4 recipient keys");
  const seals: Envelope["seals"] = [];
  for (let i = 0; i < count; i++) {
    const keyKind = keyKindOf(r.u8());
    if (keyKind === null) throw malformed("unknown key kind");
    const recipient: Recipient = { kind: keyKind, keyVersion: r.u32(), publicKey: r.take(32).slice() };
    const sealed = r.vec().slice();
    if (seals.some((s) => sameKey(s.recipient, recipient))) throw malformed("a key appears twice");
    seals.push({ recipient, sealed });
  }
  if (r.remaining !== 0) throw malformed("team-sealed object: trailing bytes");
  return { kind, tenant, team, chain, seals };
}

/**
 * The team key version an object's cleartext header names (the highest team seal), or
 * undefined for bytes that are not a team-sealed object. No cryptography: what the server
 * also reads to compare-and-swap a canned response's re-seal (docs/e2ee.md).
 */
export function teamKeyVersion(bytes: Uint8Array): number | undefined {
  let envelope: Envelope;
  try {
    envelope = parseTeamSealed(bytes);
  } catch {
    return undefined;
  }
  const versions = envelope.seals.filter((s) => s.recipient.kind === "team").map((s) => s.recipient.keyVersion);
  return versions.length === 0 ? undefined : Math.max(...versions);
}

/** The sealing device, if its chain verifies under `anchor` at `at` for an agent or supervisor. */
async function author(chain: Uint8Array, anchor: TrustAnchor, at: bigint): Promise<Author> {
  // The chain names its own subject; verifyIdentity then binds the chain to that key.
  const device = await chainSubject(chain);
  if (device === null) throw new SealError("credential", "the object's chain is malformed");
  let verified: Verified;
  try {
    verified = await verifyIdentity(chain, device, anchor, at);
  } catch (e) {
    throw new SealError("credential", e instanceof Error ? e.message : String(e));
  }
  if (verified.kind !== "device" || (verified.body.role !== "agent" && verified.body.role !== "supervisor")) {
    throw new SealError("credential", "only agent and supervisor devices write notes and canned responses");
  }
  return { device, certificate: verified.body };
}

async function openObject(
  bytes: Uint8Array, kind: ContentKind, key: OpeningKey, anchor: TrustAnchor, atSeconds: number | bigint,
): Promise<Opened<Uint8Array>> {
  const envelope = parseTeamSealed(bytes);
  if (envelope.kind !== kind) throw rejected("another kind of content");
  if (!bytesEqual(envelope.tenant, anchor.tenant)) throw rejected("another tenant's object");
  const who = await author(envelope.chain, anchor, BigInt(atSeconds));
  const entry = envelope.seals.find((s) => sameKey(s.recipient, key) && bytesEqual(s.recipient.publicKey, key.publicKey));
  if (entry === undefined) throw rejected("not sealed to this key");
  const plaintext = await open(entry.sealed, context(kind, envelope.tenant, envelope.team, key), key.privateKey, who.device);
  const recipient: Recipient = { kind: key.kind, keyVersion: key.keyVersion, publicKey: key.publicKey };
  return { content: plaintext, author: who, team: envelope.team, key: recipient };
}

/** Seals a note (to the team's newest key and the archive key). Rust: `seal_note`. */
export async function sealNote(
  note: Note, tenant: Uint8Array, team: Uint8Array, chain: Uint8Array, recipients: Recipient[], signerSeed: Uint8Array,
): Promise<Uint8Array> {
  return sealObject("note", encodeNote(note), tenant, team, chain, recipients, signerSeed);
}

/**
 * Opens a note the server listed under `conversation`, recorded at `atSeconds`: the author's
 * chain must verify then, and the note must name this conversation. Rust: `open_note`.
 */
export async function openNote(
  bytes: Uint8Array, conversation: Uint8Array, key: OpeningKey, anchor: TrustAnchor, atSeconds: number | bigint,
): Promise<Opened<Note>> {
  const opened = await openObject(bytes, "note", key, anchor, atSeconds);
  const note = decodeNote(opened.content);
  if (!bytesEqual(note.conversation, conversation)) throw rejected("the note belongs to another conversation");
  return { ...opened, content: note };
}

/**
 * The original author a carried note names, verified: their chain under `anchor` at the time
 * the server recorded the original, for an agent or supervisor device; undefined for a note
 * that was not carried over. It proves the re-sealer named a certified author, not that the
 * author wrote this text (the re-sealer's seal vouches for that). Rust: `carried_author`.
 */
export async function carriedAuthor(note: Note, anchor: TrustAnchor): Promise<Author | undefined> {
  const origin = note.carriedFrom;
  if (origin === undefined) return undefined;
  return author(origin.chain, anchor, origin.recordedMs / 1000n);
}

/** Seals a canned response to its team's key. Rust: `seal_canned`. */
export async function sealCanned(
  canned: CannedResponse, tenant: Uint8Array, chain: Uint8Array, recipients: Recipient[], signerSeed: Uint8Array,
): Promise<Uint8Array> {
  return sealObject("canned", encodeCanned(canned), tenant, canned.team, chain, recipients, signerSeed);
}

/** Opens a canned response the server listed under `team`, created at `atSeconds`. Rust: `open_canned`. */
export async function openCanned(
  bytes: Uint8Array, team: Uint8Array, key: OpeningKey, anchor: TrustAnchor, atSeconds: number | bigint,
): Promise<Opened<CannedResponse>> {
  const opened = await openObject(bytes, "canned", key, anchor, atSeconds);
  const canned = decodeCanned(opened.content);
  if (!bytesEqual(opened.team, team) || !bytesEqual(canned.team, team)) {
    throw rejected("the canned response belongs to another team");
  }
  return { ...opened, content: canned };
}
