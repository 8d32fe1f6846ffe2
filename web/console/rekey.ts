// The History Member re-key after a team key rotation (shared/design/E2EE.md §3 "Rotation",
// docs/e2ee.md "History Member rotation"; the terminal agent's `agent rekey` does the same).
// A removed team member keeps the team key versions they were given and, with them, every
// History Member bundle sealed to those: so once this device holds a newer team key, each
// open conversation assigned to this person whose History Member is sealed to an older
// version is re-keyed: the server's pending rotation member is taken, checked (a History
// Member certificate of the conversation's team under the pinned root, as the widget checks
// the first one; its bundle opens with the newest team key into exactly that key package,
// RFC 9420 §5.2), and one commit Remove(old History Member) + Add(new) goes out with its
// Welcome. A commit that lost the epoch (`stale_epoch`, E2EE.md §9.2) is discarded, the log
// caught up, and the commit rebuilt (a few attempts).

import { keyPackageInfo } from "../shared/mls/adapter.js";
import type { ConversationView } from "../shared/protocol/types.js";
import { SocketError } from "../shared/protocol/socket.js";
import { openBundle } from "../shared/seal/bundle.js";
import { bytesEqual, fromBase64 } from "../shared/util/bytes.js";
import { ed25519PublicKey } from "../shared/util/ed25519.js";
import { checkHistoryMember, uuidBytes } from "../widget/trust.js";
import { ApiError, type ConsoleApi } from "./api.js";
import type { LiveChat } from "./chat.js";
import { newestTeamKey, type ReadyDevice } from "./device.js";
import { sealedForAnotherTeam, sealedVersion } from "./rekey-plan.js";

/** Attempts per conversation when other members' commits keep winning the epoch. */
export const ATTEMPTS = 3;

const now = (): number => Math.floor(Date.now() / 1000);

export class RekeyError extends Error {
  override name = "RekeyError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What a conversation needs: re-keying from the version its History Member is sealed to (if readable), or nothing. */
export interface RekeyTarget {
  /** The team key version the current History Member's bundle names. */
  current: number | undefined;
  /** The newest version of the team's key this device holds. */
  newest: number;
  /** The current member was made for another team (the conversation was transferred). */
  moved: boolean;
}

export async function rekeyTarget(api: ConsoleApi, device: ReadyDevice, c: ConversationView): Promise<RekeyTarget | undefined> {
  const newest = newestTeamKey(device, c.team_id);
  if (newest === undefined) return undefined;
  const sealed = (await api.historyMember(c.tenant_id, c.id)).sealed_bundle;
  const current = sealedVersion(sealed);
  const moved = sealedForAnotherTeam(sealed, uuidBytes(c.team_id));
  return !moved && current !== undefined && current >= newest.version ? undefined : { current, newest: newest.version, moved };
}

/**
 * The rotation member, checked: a History Member certificate of the conversation's team under
 * the pinned root, valid now, whose bundle opens with one of this device's team keys newer
 * than `target.current` into the very key package offered (same bytes, so same reference;
 * and its signing key is the leaf's). The server's member is sealed to the team's newest
 * announced key, or is a pending one from an earlier rotation (then a later pass rotates
 * again to the newest).
 */
export async function checkedRotationMember(api: ConsoleApi, device: ReadyDevice, c: ConversationView, target: RekeyTarget): Promise<{ keyPackage: Uint8Array; generation: number }> {
  const member = await api.historyRotation(c.tenant_id, c.id);
  const version = member.team_key_version ?? target.newest;
  if (!target.moved && target.current !== undefined && version <= target.current) {
    throw new RekeyError("bad_bundle", `the new History Member is sealed to team key version ${version}, not newer than the current ${target.current}`);
  }
  const key = device.teamKeys.find((k) => k.team === c.team_id && k.version === version);
  if (key === undefined) throw new RekeyError("no_team_key", `this device does not hold team key version ${version}`);
  const keyPackage = fromBase64(member.key_package);
  let info;
  try {
    info = keyPackageInfo(keyPackage);
  } catch (e) {
    throw new RekeyError("untrusted_history", `the new History Member's key package is unreadable (${e instanceof Error ? e.message : String(e)})`);
  }
  const checked = await checkHistoryMember(info.identity, info.signatureKey, device.anchor, uuidBytes(c.team_id));
  if (!checked.verified) throw new RekeyError("untrusted_history", `the new History Member: ${checked.reason}`);
  if (info.notAfter <= now() || info.notBefore > now() + 300) throw new RekeyError("untrusted_history", "the new History Member's key package is not valid now");
  let secrets;
  try {
    secrets = await openBundle(fromBase64(member.sealed_bundle), { kind: "team", keyVersion: version, ...key.keys }, device.anchor, now());
  } catch (e) {
    throw new RekeyError("bad_bundle", `the new History Member's bundle does not open with team key version ${version} (${e instanceof Error ? e.message : String(e)})`);
  }
  const signing = await ed25519PublicKey(secrets.signaturePrivate.slice(-32));
  if (!bytesEqual(secrets.keyPackage, keyPackage) || !bytesEqual(signing, info.signatureKey)) {
    throw new RekeyError("bad_bundle", "the new History Member's bundle is not its key package's private half");
  }
  return { keyPackage, generation: member.generation };
}

/**
 * Re-keys one conversation through `chat` (joined, its log followed): catches up, takes and
 * checks the rotation member, commits; on `stale_epoch` catches up again and rebuilds.
 * Returns the new generation.
 */
export async function rekeyConversation(api: ConsoleApi, device: ReadyDevice, c: ConversationView, target: RekeyTarget, chat: LiveChat): Promise<number> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const fresh = await api.conversation(c.tenant_id, c.id);
    if (fresh.state !== "assigned") throw new RekeyError("conversation_closed", "the conversation is no longer open");
    // A commit on an epoch the log has moved past would only be refused (stale_epoch).
    if (!(await chat.caughtUp(fresh.last_seq))) throw new RekeyError("behind", "the conversation's log could not be read up to its end");
    const { keyPackage, generation } = await checkedRotationMember(api, device, c, target);
    try {
      await chat.replaceHistoryMember(keyPackage);
      // Sequenced; the new History Member reads nothing until its Welcome is in the log.
      if (!(await chat.deliver())) throw new RekeyError("welcome_unsent", "the new History Member's Welcome is not delivered yet");
      return generation;
    } catch (e) {
      if (!(e instanceof SocketError && e.code === "stale_epoch") || attempt === ATTEMPTS) throw e;
      await new Promise((r) => setTimeout(r, 300 * attempt));
    }
  }
  throw new RekeyError("stale_epoch", "other commits kept winning the epoch");
}

/** Whether the server said there is nothing to rotate to (yet): a retry later may succeed. */
export function nothingToRotate(e: unknown): boolean {
  return e instanceof ApiError && e.status === 409 && e.code === "conflict";
}

/**
 * A failure the next try is expected to get past on its own (nothing in the pool yet, a log
 * not read to its end, a Welcome not delivered yet, another commit first): not worth an alert.
 */
export function transient(e: unknown): boolean {
  if (nothingToRotate(e)) return true;
  if (e instanceof RekeyError) return ["behind", "welcome_unsent", "stale_epoch"].includes(e.code);
  return e instanceof SocketError && e.code === "stale_epoch";
}
