// A conversation as the team sees it before anyone joins (shared/design/E2EE.md §5.2): the
// conversation's History Member bundle, sealed to the team key, is opened here, the History
// Member joins from its Welcome as a passive client, and the log is replayed. Nothing is sent.

import { importKeyPackage, isWelcomeFor, MlsGroup, peekMessage } from "../shared/mls/adapter.js";
import { decodePayload, type Body } from "../shared/mls/payload.js";
import { openBundle } from "../shared/seal/bundle.js";
import { bytesEqual, fromBase64 } from "../shared/util/bytes.js";
import type { ConsoleApi } from "./api.js";
import type { ReadyDevice } from "./device.js";
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

/** Replays the log through the History Member; `last` is the last seq read. */
export async function replayHistory(api: ConsoleApi, tenant: string, team: string, conversation: string, device: ReadyDevice): Promise<{ lines: Line[]; last: number; failed: number }> {
  const hm = await api.historyMember(tenant, conversation);
  if (hm.sealed_bundle === undefined || hm.sealed_bundle === null) throw new Error("this conversation has no History Member yet");
  const sealed = fromBase64(hm.sealed_bundle);
  let secrets;
  let lastError: unknown = new Error("no key of this team is on this device");
  for (const k of device.teamKeys.filter((t) => t.team === team).sort((a, b) => b.version - a.version)) {
    try {
      secrets = await openBundle(sealed, { kind: "team", keyVersion: k.version, ...k.keys }, device.anchor, now());
      break;
    } catch (e) {
      lastError = e;
    }
  }
  if (secrets === undefined) throw lastError;
  const bundle = importKeyPackage(secrets);
  const { entries } = await api.entries(tenant, conversation);
  const policy = policyFor(device.anchor);
  let group: MlsGroup | undefined;
  const lines: Line[] = [];
  let last = 0;
  let failed = 0;
  for (const e of entries) {
    last = e.seq;
    if (e.k === "system") continue;
    const bytes = fromBase64(e.p);
    try {
      if (group === undefined) {
        if (e.k === "welcome" && (await isWelcomeFor(bytes, bundle.keyPackage))) group = await MlsGroup.join(bytes, bundle, policy);
        continue;
      }
      if (e.k === "welcome" || peekMessage(bytes).wire === "group_info") continue;
      const r = await group.process(bytes);
      group = r.group;
      if (r.kind !== "application") continue;
      const body = decodePayload(r.plaintext).body;
      if (body.kind === "typing" || body.kind === "read") continue;
      const leaf = group.leaves().find((l) => l.leaf === r.sender);
      lines.push({ seq: e.seq, at: e.at, who: await whoIs(leaf, device.anchor), body, mine: leaf !== undefined && bytesEqual(leaf.signatureKey, device.signatureKey) });
    } catch {
      failed += 1; // Dropped: shown as a count, never as content.
    }
  }
  return { lines, last, failed };
}
