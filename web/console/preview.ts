// A conversation as the team sees it before anyone joins (shared/design/E2EE.md §5.2): the
// conversation's History Member bundle, sealed to the team key, is opened here, the History
// Member joins from its Welcome as a passive client, and the log is replayed. Nothing is sent.

import { importKeyPackage, isWelcomeFor, MlsGroup, peekMessage, type KeyPackageBundle } from "../shared/mls/adapter.js";
import { decodePayload, type Body } from "../shared/mls/payload.js";
import type { HistoryMemberView } from "../shared/protocol/types.js";
import { openBundle } from "../shared/seal/bundle.js";
import { bytesEqual, fromBase64 } from "../shared/util/bytes.js";
import type { ConsoleApi } from "./api.js";
import type { ReadyDevice } from "./device.js";
import { openGeneration } from "./carry.js";
import { policyFor, whoIs, type Who } from "./members.js";

export interface Line {
  seq: number;
  at: number;
  who: Who;
  body: Body;
  /** Sent by this device. */
  mine?: boolean;
}

const now = (): number => Math.floor(Date.now() / 1000);

/** One History Member generation this device opened (E2EE.md §3: one per team key rotation). */
interface Generation {
  bundle: KeyPackageBundle;
  group?: MlsGroup;
  /** A commit removed it (the next generation took over). */
  removed: boolean;
}

/**
 * Opens a conversation's sealed History Member bundle with the newest of the team's keys
 * that opens it (each bundle names the versions it is sealed to; the seal is checked here).
 */
export async function openWithTeamKeys(sealed: Uint8Array, team: string, device: ReadyDevice, atSeconds = now()): Promise<KeyPackageBundle> {
  let lastError: unknown = new Error("no key of this team is on this device");
  for (const k of device.teamKeys.filter((t) => t.team === team).sort((a, b) => b.version - a.version)) {
    try {
      return importKeyPackage(await openBundle(sealed, { kind: "team", keyVersion: k.version, ...k.keys }, device.anchor, atSeconds));
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}

/**
 * Every History Member generation, oldest first, as a way to open it: its own bundle, else a
 * copy carried over to `team` at a transfer (carry.ts). A server without `members`: the
 * current bundle only.
 */
function sealedGenerations(hm: HistoryMemberView, team: string, device: ReadyDevice): Array<() => Promise<KeyPackageBundle>> {
  const members = (hm.members ?? []).filter((m) => m.state !== "abandoned").sort((a, b) => a.generation - b.generation);
  if (members.length > 0) return members.map((m) => () => openGeneration(m, team, device));
  if (hm.sealed_bundle === undefined || hm.sealed_bundle === null) return [];
  const current = fromBase64(hm.sealed_bundle);
  return [() => openWithTeamKeys(current, team, device)];
}

/**
 * Replays the log through the History Member, each generation in turn (the semantics of the
 * Rust `Replay::generations`): a generation joins only from the Welcome that names its key
 * package, follows every commit until one removes it, and the newest generation in the group
 * reads the application messages. A generation this device cannot open only leaves its part
 * of the log unread: those messages are counted in `unreadable`, never shown. `last` is the
 * last seq read.
 */
export async function replayHistory(api: ConsoleApi, tenant: string, team: string, conversation: string, device: ReadyDevice): Promise<{ lines: Line[]; last: number; failed: number; unreadable: number }> {
  const hm = await api.historyMember(tenant, conversation);
  const sealed = sealedGenerations(hm, team, device);
  if (sealed.length === 0) throw new Error("this conversation has no History Member yet");
  const generations: Generation[] = [];
  let lastError: Error = new Error("no History Member opens on this device");
  for (const open of sealed) {
    try {
      generations.push({ bundle: await open(), removed: false });
    } catch (e) {
      // A team key version this device was not given (or a bad seal).
      lastError = e instanceof Error ? e : new Error(String(e));
    }
  }
  if (generations.length === 0) throw lastError;
  const { entries } = await api.entries(tenant, conversation);
  const policy = policyFor(device.anchor);
  const active = (g: Generation): g is Generation & { group: MlsGroup } => g.group !== undefined && !g.removed;
  const lines: Line[] = [];
  let last = 0;
  let failed = 0;
  let unreadable = 0;
  for (const e of entries) {
    last = e.seq;
    if (e.k === "system") continue;
    try {
      const bytes = fromBase64(e.p);
      if (e.k === "welcome") {
        // Ours joins (any failure of it is reported); Welcomes for other members are skipped.
        for (const g of generations) {
          if (g.group !== undefined || g.removed) continue;
          if (await isWelcomeFor(bytes, g.bundle.keyPackage)) {
            g.group = await MlsGroup.join(bytes, g.bundle, policy);
            break;
          }
        }
        continue;
      }
      if (e.k === "handshake") {
        if (peekMessage(bytes).wire === "group_info") continue;
        // Every generation in the group follows a commit; the one it removes stops.
        for (const g of generations.filter(active)) {
          const r = await g.group.process(bytes);
          if (r.kind !== "commit") throw new Error("application data among the handshakes");
          g.group = r.group;
          g.removed = r.removedSelf;
        }
        continue;
      }
      const reader = [...generations].reverse().find(active);
      if (reader === undefined) {
        // Before the first Welcome: nothing yet. After a rotation to a member this device
        // cannot open: written under a team key it was not given.
        if (generations.some((g) => g.removed) || sealed.length > generations.length) unreadable += 1;
        continue;
      }
      const r = await reader.group.process(bytes);
      reader.group = r.group;
      if (r.kind !== "application") throw new Error("a commit among the application messages");
      const body = decodePayload(r.plaintext).body;
      if (body.kind === "typing" || body.kind === "read") continue;
      const leaf = reader.group.leaves().find((l) => l.leaf === r.sender);
      lines.push({ seq: e.seq, at: e.at, who: await whoIs(leaf, device.anchor), body, mine: leaf !== undefined && bytesEqual(leaf.signatureKey, device.signatureKey) });
    } catch {
      failed += 1; // Dropped: shown as a count, never as content.
    }
  }
  return { lines, last, failed, unreadable };
}
