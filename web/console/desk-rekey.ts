// The History Member re-key after a team key rotation (shared/design/E2EE.md §3), as the desk
// runs it: a pass over one's own conversations every few seconds (desk.ts), each re-keyed once
// per conversation and team key version through the open view's live chat or a quiet one in
// the background (rekey.ts), failures tried again with backoff (rekey-plan.ts).

import type { ConversationView } from "../shared/protocol/types.js";
import type { ConsoleApi, StaffInfo } from "./api.js";
import { LiveChat, type ChatEvents } from "./chat.js";
import { bundleOf, newestTeamKey, refreshTeamKeys, type ReadyDevice } from "./device.js";
import { byId } from "./dom.js";
import type { DeviceRecord, DeviceStore } from "./keystore.js";
import { rekeyConversation, rekeyTarget, transient, type RekeyTarget } from "./rekey.js";
import { RekeySchedule } from "./rekey-plan.js";
import { R } from "./strings.js";

/** What the re-key needs of the desk. */
export interface RekeyView {
  /** The open view's live chat, if any. */
  chat(): LiveChat | undefined;
  /** The conversation being opened (its chat not set up yet). */
  opening(): string | undefined;
  /** The conversation open in the view. */
  selected(): string | undefined;
  alert(text: string): void;
  /** Load the lists again. */
  refresh(): void;
  /** Signed out or revoked: nothing more is sent. */
  stopped(): boolean;
  /** A used key package's private half is deleted. */
  forget(kp: Uint8Array): Promise<void>;
}

export class Rekeyer {
  private readonly rekeys = new RekeySchedule();
  /** A conversation being re-keyed: opening or leaving it waits for the re-key's commit. */
  readonly busy = new Map<string, Promise<unknown>>();

  constructor(
    private readonly api: ConsoleApi,
    private readonly device: ReadyDevice,
    private readonly store: DeviceStore,
    private readonly record: DeviceRecord,
    private readonly me: StaffInfo,
    private readonly view: RekeyView,
  ) {}

  /**
   * After a team key rotation (shared/design/E2EE.md §3): once this device holds a newer key of
   * a conversation's team than the one its History Member is sealed to, the conversation is
   * re-keyed (rekey.ts), once per conversation and team key version; a failure is tried again
   * with backoff (rekey-plan.ts). `wraps`: read the device's team key wraps again first.
   */
  async pass(mine: ConversationView[], wraps: boolean): Promise<void> {
    if (wraps) {
      try {
        await refreshTeamKeys(this.api, this.record, this.device, this.me.tenant_id);
      } catch {
        // The keys already held stay; the next refresh tries again.
      }
    }
    this.rekeys.keep(mine.map((c) => c.id));
    let rekeyed = 0;
    for (const c of mine) {
      if (this.view.stopped()) return; // Signed out or revoked: nothing more is sent.
      if (c.state !== "assigned" || c.assignee !== this.me.id) continue;
      const held = newestTeamKey(this.device, c.team_id)?.version ?? 0;
      if (!this.rekeys.due(c.id, held, Date.now())) continue;
      try {
        const target = await rekeyTarget(this.api, this.device, c);
        // Nothing to rotate: done once a commit or Welcome of ours left journaled is delivered.
        const run = target === undefined ? this.settle(c) : this.rekeyOne(c, target);
        if (run === undefined) {
          this.rekeys.later(c.id, held, Date.now()); // Not in the group here (yet), or opening.
          continue;
        }
        this.busy.set(c.id, run.catch(() => undefined));
        try {
          const ok = await run;
          if (ok && target === undefined) this.rekeys.done(c.id, held);
          // No group for it in this browser (another device of the agent's has it): now and then.
          else if (!ok && target !== undefined) this.rekeys.failed(c.id, held, Date.now());
          // Re-keyed: the next pass looks again (and finds it done, or a newer key to go to).
          else this.rekeys.later(c.id, held, Date.now());
          if (ok && target !== undefined) rekeyed += 1;
        } finally {
          this.busy.delete(c.id);
        }
      } catch (e) {
        this.rekeys.failed(c.id, held, Date.now());
        // No package sealed to the new key in the pool yet is normal right after a rotation.
        if (!transient(e) && this.view.selected() === c.id) this.view.alert(R.rekeyFailed(codeOf(e)));
      }
    }
    if (rekeyed > 0) {
      byId("rekey-status").textContent = rekeyed === 1 ? R.rekeyed : R.rekeyedMany(rekeyed);
      this.view.refresh();
    }
  }

  /**
   * Re-keys through the open view's live chat, or a quiet one on the saved group; undefined
   * when this device cannot commit in the conversation now. Resolves true once committed.
   */
  private rekeyOne(c: ConversationView, target: RekeyTarget): Promise<boolean> | undefined {
    const rekey = async (chat: LiveChat): Promise<boolean> => {
      await rekeyConversation(this.api, this.device, c, target, chat);
      return true;
    };
    // The open view's chat, once connected (never a second chat beside it on the same group).
    const open = this.view.chat();
    if (open !== undefined && open.conversation === c.id) return open.live ? rekey(open) : undefined;
    if (this.view.opening() === c.id) return undefined; // Opening right now: next time.
    return this.quietly(c, rekey);
  }

  /** Delivers what a commit of ours left journaled (its Welcome, say); true when nothing is left. */
  private settle(c: ConversationView): Promise<boolean> | undefined {
    const open = this.view.chat();
    if (open !== undefined && open.conversation === c.id) return open.live ? open.deliver() : open.joined ? undefined : Promise.resolve(true);
    if (this.view.opening() === c.id) return undefined;
    return (async () => {
      if (!LiveChat.unsettled(await this.store.loadGroup(c.id))) return true;
      return (await this.quietly(c, async (chat) => chat.caughtUp((await this.api.conversation(c.tenant_id, c.id)).last_seq))) === true;
    })();
  }

  /**
   * Runs `fn` on a live chat of the saved group that shows nothing (the conversation is not
   * open here); false when this device has no group for it.
   */
  private async quietly(c: ConversationView, fn: (chat: LiveChat) => Promise<boolean>): Promise<boolean> {
    if ((await this.store.loadGroup(c.id)) === undefined) return false;
    const quiet = new LiveChat(c.id, this.device, () => this.record.keyPackages.map(bundleOf), (kp) => this.view.forget(kp), this.store, Number.MAX_SAFE_INTEGER, QUIET);
    try {
      await quiet.start();
      return quiet.joined && (await fn(quiet));
    } finally {
      quiet.stop();
    }
  }
}

/** A chat that shows nothing (a background re-key on a conversation not open here). */
const QUIET: ChatEvents = {
  line: () => undefined, joined: () => undefined, membersChanged: () => undefined, typing: () => undefined, read: () => undefined,
  problem: () => undefined, closed: () => undefined, supervisorJoined: () => undefined, leaveRequested: () => undefined,
  removed: () => undefined, handover: () => undefined, connection: () => undefined, outgoing: () => undefined,
  delivered: () => undefined, undelivered: () => undefined,
};

function codeOf(e: unknown): string {
  if (e !== null && typeof e === "object" && "code" in e && typeof e.code === "string") return e.code;
  return e instanceof Error ? e.message : String(e);
}
