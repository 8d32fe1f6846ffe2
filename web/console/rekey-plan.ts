// The pure half of the History Member re-key (rekey.ts): which team key version a sealed
// bundle names, and when the desk looks at a conversation again. No DOM, no network, so
// the unit tests run it in Node (rekey-plan.test.ts).

import { parseBundle } from "../shared/seal/bundle.js";
import { fromBase64 } from "../shared/util/bytes.js";

/** A failed re-key (no pool package sealed to the new key yet, say) is tried again after this, doubling. */
export const RETRY_MS = 5_000;
export const RETRY_MAX_MS = 60_000;
/** A conversation that cannot be re-keyed here yet (not in its group, opening) is looked at again after this. */
export const WAIT_MS = 2_000;

/**
 * The newest team key version a sealed bundle's cleartext header names (the seal itself is
 * checked on opening); undefined for no bundle, an unreadable one, or one without a team seal.
 */
export function sealedVersion(sealedB64: string | null | undefined): number | undefined {
  if (sealedB64 === undefined || sealedB64 === null) return undefined;
  try {
    const versions = parseBundle(fromBase64(sealedB64)).seals.filter((s) => s.recipient.kind === "team").map((s) => s.recipient.keyVersion);
    return versions.length === 0 ? undefined : Math.max(...versions);
  } catch {
    return undefined;
  }
}

/**
 * Whether a sealed bundle was made for another team than `team` (16 bytes): the conversation
 * moved to another team (docs/e2ee.md, "Transfer to another team"), whose key cannot open it,
 * so its History Member is replaced whatever the versions (they count per team). False for no
 * bundle or an unreadable one.
 */
export function sealedForAnotherTeam(sealedB64: string | null | undefined, team: Uint8Array): boolean {
  if (sealedB64 === undefined || sealedB64 === null) return false;
  try {
    const sealedTeam = parseBundle(fromBase64(sealedB64)).team;
    return sealedTeam.length !== team.length || sealedTeam.some((b, i) => b !== team[i]);
  } catch {
    return false;
  }
}

/** The delay before the `failures`-th retry: RETRY_MS, doubling, at most RETRY_MAX_MS. */
export function backoff(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_MS * 2 ** Math.max(0, Math.min(failures, 16) - 1));
}

interface Entry {
  /** The newest team key version this device held when the conversation was last looked at. */
  version: number;
  done: boolean;
  retryAt: number;
  failures: number;
}

/**
 * Where each conversation's re-key stands, per team key version: done once per version (a
 * newer key held here starts over), a failure retried with backoff, a conversation that is
 * not ready looked at again shortly.
 */
export class RekeySchedule {
  private readonly entries = new Map<string, Entry>();

  private entry(conversation: string, version: number): Entry {
    const known = this.entries.get(conversation);
    if (known !== undefined && known.version === version) return known;
    const fresh = { version, done: false, retryAt: 0, failures: 0 };
    this.entries.set(conversation, fresh);
    return fresh;
  }

  /** Whether the conversation is to be looked at now, for team key `version`. */
  due(conversation: string, version: number, now: number): boolean {
    const e = this.entry(conversation, version);
    return !e.done && e.retryAt <= now;
  }

  done(conversation: string, version: number): void {
    const e = this.entry(conversation, version);
    e.done = true;
    e.failures = 0;
  }

  /** A failure: retried after a growing delay; returns it. */
  failed(conversation: string, version: number, now: number): number {
    const e = this.entry(conversation, version);
    e.failures += 1;
    const delay = backoff(e.failures);
    e.retryAt = now + delay;
    return delay;
  }

  /** Not ready here yet (no failure): looked at again after WAIT_MS. */
  later(conversation: string, version: number, now: number): void {
    this.entry(conversation, version).retryAt = now + WAIT_MS;
  }

  /** Forgets conversations no longer listed (closed, transferred). */
  keep(conversations: Iterable<string>): void {
    const kept = new Set(conversations);
    for (const id of [...this.entries.keys()]) if (!kept.has(id)) this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }
}
