// The agent's live side of one conversation: the WebSocket (authenticated by the session
// cookie on the upgrade, from this server's own origin; docs/protocol.md), the Welcome that
// the visitor's widget sends once it added this device (RFC 9420 §12.4.3.1), then every
// commit and message processed in order, and our own messages as payload v1. The connection
// (link.ts) comes back by itself after a drop and resumes after the last entry handled; our
// messages wait in the outbox (outbox.ts) and our commits in the journal until the server has
// them, each sent again under its own client message id.

import { isWelcomeFor, keyPackageInfo, MlsGroup, peekMessage, type KeyPackageBundle } from "../shared/mls/adapter.js";
import { decodePayload, encodePayload, type Body, type FileRef } from "../shared/mls/payload.js";
import { newClientId, SealdeskSocket, SocketError, type Ack } from "../shared/protocol/socket.js";
import type { EntryFrame, EphemeralFrame } from "../shared/protocol/types.js";
import { bytesEqual, fromBase64, fromUtf8, toBase64 } from "../shared/util/bytes.js";
import { cookieTransport, OpenElsewhereError, type ChatEvents, type ChatOptions } from "./chat-events.js";
import type { ReadyDevice } from "./device.js";
import { afterEvent, due, previousAgents, type Handover, type RoutingEvent } from "./handover.js";
import type { DeviceStore, SavedGroup } from "./keystore.js";
import { ConversationLink } from "./link.js";
import { keyPackageWho, policyFor, roleOf, whoIs, type Who } from "./members.js";
import { Outbox, type OutboxItem } from "./outbox.js";
import type { Line } from "./preview.js";

export { OpenElsewhereError, type ChatEvents, type ChatOptions } from "./chat-events.js";

/** Client ids of our sends kept (the last ones are saved): a device cannot decrypt its own. */
const SENT_KEPT = 256;
/** How long a commit waits for a lost connection to come back before it fails. */
const COMMIT_WAIT_MS = 30_000;
/** How often a message refused as too old (`stale_epoch`) is encrypted again before giving up. */
const REBUILDS = 3;
/** How long a chat waits for another one of the same conversation to let go of it. */
const LOCK_WAIT_MS = 5_000;

interface CommitOps {
  add?: Uint8Array[];
  remove?: number[];
}
/** A change worked out on the group at commit time; null: nothing to commit after all. */
type Change = CommitOps | ((group: MlsGroup) => Promise<CommitOps | null>);

export class LiveChat {
  private link: ConversationLink | undefined;
  private group: MlsGroup | undefined;
  /** Client ids of our sends (insertion order; the last SENT_KEPT are saved). */
  private readonly sent = new Set<string>();
  private stopped = false;
  private released = false;
  cursor = 0;

  /** One change of the group at a time: a send and a received commit must never interleave. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Our commit in flight (saved with the group: the journal). */
  private pending: SavedGroup["pending"];
  /** The Welcome of our sequenced commit, until acknowledged (saved with the group). */
  private unsentWelcome: SavedGroup["welcome"];
  /** Lets go of the conversation's Web Lock. */
  private unlock: (() => void) | undefined;
  /** Our messages until the server has them (saved with the group). */
  private outbox = new Outbox();
  /** The outbox being sent on this connection (one sender at a time, in order). */
  private pumpSocket: SealdeskSocket | undefined;
  private pumpRun: Promise<void> = Promise.resolve();
  /** What became of our commits whose connection was lost: adopted (true) or refused (false). */
  private readonly commitOutcomes = new Map<string, boolean>();
  /** Who removes the previous agent after a change of hands (handover.ts; saved with the group). */
  private handover: Handover = {};
  /** The `handover` event was given on this connection (asked again on the next one until done). */
  private handoverAsked = false;
  private readonly online = (): void => this.link?.retryNow();

  constructor(
    readonly conversation: string,
    private readonly device: ReadyDevice,
    private readonly keyPackages: () => KeyPackageBundle[],
    private readonly usedKeyPackage: (kp: Uint8Array) => Promise<void>,
    private readonly store: DeviceStore,
    /** Entries up to this seq were shown from the History Member replay. */
    private readonly shownUpTo: number,
    private readonly events: ChatEvents,
    private readonly options: ChatOptions = {},
  ) {}

  get joined(): boolean {
    return this.group !== undefined;
  }

  /** In the group, connected and caught up: a commit can go out now. */
  get live(): boolean {
    return this.group !== undefined && this.link?.ready === true && !this.stopped;
  }

  /** The connection while it is up and caught up with the log. */
  private get socket(): SealdeskSocket | undefined {
    return this.link?.ready === true ? this.link.socket : undefined;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    // Stopped: nothing more touches the group here (the Web Lock goes once the queue is done).
    if (this.stopped) return Promise.reject(new Error("this conversation's chat was stopped"));
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Saved after every change and BEFORE anything made with the new state is sent, so that a
   * reload never reuses a message key (RFC 9420 §9.1: each generation's key is used once).
   */
  private async persist(): Promise<void> {
    if (this.group === undefined) return;
    const sent = [...this.sent].slice(-SENT_KEPT);
    const saved: SavedGroup = { group: toBase64(this.group.encode()), cursor: this.cursor, sent };
    if (this.pending !== undefined) saved.pending = this.pending;
    if (this.unsentWelcome !== undefined) saved.welcome = this.unsentWelcome;
    if (this.outbox.size > 0) saved.outbox = this.outbox.saved();
    if (this.handover.to !== undefined || this.handover.fromAgent === true) saved.handover = this.handover;
    await this.store.saveGroup(this.conversation, saved);
  }

  /**
   * One chat per conversation and device in this browser (tabs included): two copies of one
   * group would fork it, and encrypting from both would reuse a ratchet generation, i.e. an
   * AES-GCM nonce (RFC 9420 §9). The Web Lock is held until `stop`; another holder that does
   * not let go within `LOCK_WAIT_MS` makes `start` fail with `OpenElsewhereError`.
   */
  private async lock(): Promise<void> {
    if (typeof navigator === "undefined" || navigator.locks === undefined) return;
    const name = `sealdesk-console:${this.device.id}:${this.conversation}`;
    await new Promise<void>((resolve, reject) => {
      navigator.locks.request(name, { signal: AbortSignal.timeout(LOCK_WAIT_MS) }, () => {
        resolve();
        return new Promise<void>((release) => (this.unlock = release));
      }).catch(() => reject(new OpenElsewhereError("this conversation is open in another tab of this browser")));
    });
  }

  async start(): Promise<void> {
    await this.lock();
    if (this.stopped) {
      this.unlock?.(); // Stopped while waiting for the lock.
      return;
    }
    const saved = await this.store.loadGroup(this.conversation);
    if (saved !== undefined) {
      this.group = await MlsGroup.decode(fromBase64(saved.group), policyFor(this.device.anchor));
      this.cursor = saved.cursor;
      for (const id of saved.sent ?? []) this.sent.add(id);
      this.pending = saved.pending;
      this.unsentWelcome = saved.welcome;
      this.outbox = new Outbox(saved.outbox ?? []);
      this.handover = saved.handover ?? {};
      this.events.joined();
      // Replies written before a reload that the server never acknowledged: shown, sent again.
      for (const item of this.outbox.all()) this.events.outgoing(item.key, decodePayload(fromBase64(item.payload)).body);
    }
    if (this.stopped) return; // Stopped while loading: no connection.
    this.link = new ConversationLink(this.conversation, () => SealdeskSocket.connect(cookieTransport, location.origin, { via: "header", token: "" }), {
      exclusive: (fn) => this.exclusive(fn),
      cursor: () => this.cursor,
      entry: (e) => this.onEntry(e),
      caughtUp: (socket) => this.resume(socket),
      ephemeral: (f: EphemeralFrame) => {
        if (f.c !== this.conversation || f.from.kind !== "visitor") return;
        if (f.t === "typing") this.events.typing(f.on);
        else this.events.read(f.seq);
      },
      state: (state) => {
        if (state.kind === "lost_access") {
          void this.release();
          return;
        }
        // A reply written while the resume was finishing goes out now.
        if (state.kind === "live" && this.link?.socket !== undefined) this.pump(this.link.socket).catch(() => undefined);
        this.events.connection(state);
        if (state.kind === "live") {
          this.handoverAsked = false;
          this.askHandover();
        }
      },
    });
    if (typeof window !== "undefined") window.addEventListener("online", this.online);
    await this.link.open(this.options.retryFirst === true);
  }

  /**
   * On every connection, once the gap is handled: a Welcome the last connection (or session)
   * could not deliver, then a commit of ours whose fate is unknown, both under their own ids
   * (a resend of what the server has is acknowledged as a duplicate); then the outbox.
   */
  private async resume(socket: SealdeskSocket): Promise<void> {
    await this.exclusive(async () => {
      await this.sendWelcome().catch(() => undefined);
      await this.resendPending(socket);
    });
    await this.pump(socket);
  }

  /**
   * No longer ours (the server ended the subscription, or the conversation went to someone
   * else): what waits in the outbox can never be delivered. Each reply is reported as not
   * sent (its text stays on the screen) and leaves the saved outbox under the lock, so neither
   * a reload nor a later connection sends it; then the chat stops, for good, and says so
   * (`lost_access`). The group stays saved: a spurious end costs no keys.
   */
  async release(): Promise<void> {
    if (this.stopped || this.released) return;
    this.released = true;
    await this.exclusive(async () => {
      const left = [...this.outbox.all()];
      for (const item of left) this.outbox.settle(item.id);
      await this.persist();
      for (const item of left) this.events.undelivered(item.key, "no_access");
    }).catch(() => undefined);
    this.stop();
    this.events.connection({ kind: "lost_access" });
  }

  /** The journaled commit, sent again: adopted when acknowledged, discarded when refused (another won the epoch). */
  private async resendPending(socket: SealdeskSocket): Promise<void> {
    const p = this.pending;
    if (p?.commit === undefined) return;
    try {
      await socket.send(this.conversation, "handshake", fromBase64(p.commit), p.id);
    } catch {
      if (socket.isClosed) return; // Lost again: the next connection tries again.
      this.pending = undefined;
      this.commitOutcomes.set(p.id, false);
      await this.persist();
      return;
    }
    await this.adoptPending();
  }

  /** Whether a commit or a Welcome of ours is journaled but not known to be delivered. */
  static unsettled(saved: SavedGroup | undefined): boolean {
    return saved !== undefined && (saved.pending !== undefined || saved.welcome !== undefined);
  }

  /** One entry of the log, in order (link.ts hands them over across reconnections). */
  private async onEntry(e: EntryFrame): Promise<void> {
    if (this.stopped) return;
    try {
      await this.exclusive(async () => {
        this.cursor = e.seq;
        try {
          await this.handle(e);
        } finally {
          await this.persist();
        }
      });
      this.askHandover();
    } catch (err) {
      // A malformed, forged or replayed entry is dropped; what was shown stays.
      if (e.seq > this.shownUpTo) this.events.problem(`A message could not be verified (${err instanceof Error ? err.message : String(err)}).`);
    }
  }

  private async handle(e: EntryFrame): Promise<void> {
    if (e.k === "system") {
      // Content-free routing events in JSON (docs/protocol.md).
      const event = JSON.parse(fromUtf8(fromBase64(e.p))) as RoutingEvent & { by?: { kind?: string }; staff?: string };
      if (event.event === "closed") this.events.closed(event.by?.kind === "visitor");
      // Only a member can add; events from before our join are settled (the server hands out
      // no key package for a device already in the group).
      if (event.event === "supervisor_joined" && typeof event.staff === "string" && this.group !== undefined) this.events.supervisorJoined(event.staff);
      // Read whether or not this device is a member yet: the new team's assignee joins after
      // the `transferred_to_team` and `assigned` entries.
      const next = afterEvent(this.handover, event);
      if (next !== this.handover) [this.handover, this.handoverAsked] = [next, false];
      return;
    }
    const bytes = fromBase64(e.p);
    if (this.group === undefined) {
      if (e.k !== "welcome") return;
      for (const b of this.keyPackages()) {
        if (await isWelcomeFor(bytes, b.keyPackage)) {
          this.group = await MlsGroup.join(bytes, b, policyFor(this.device.anchor));
          await this.usedKeyPackage(b.keyPackage);
          this.events.joined(e.seq);
          return;
        }
      }
      return;
    }
    // Our own commit, sequenced: its group is the next one (also after a reload).
    if (this.pending !== undefined && e.id === this.pending.id) {
      await this.adoptPending();
      return;
    }
    // Our own messages cannot be decrypted by us (their keys are deleted once used, RFC 9420
    // §9.2): they are known by the client id we gave them. Anything else is processed, so a
    // forged entry under our name is caught like any other.
    if (e.k === "welcome") return;
    if (e.id !== undefined && this.sent.has(e.id)) {
      // Sequenced before its acknowledgement reached us (lost with a connection, say).
      const mine = this.outbox.settle(e.id);
      if (mine !== undefined) this.events.delivered(mine.key, this.ownLine(mine, e.seq, e.at));
      return;
    }
    if (peekMessage(bytes).wire === "group_info") return;
    const r = await this.group.process(bytes);
    this.group = r.group;
    if (r.kind === "commit" && r.removedSelf) {
      this.group = undefined;
      await this.store.deleteGroup(this.conversation);
      this.events.removed();
      return;
    }
    if (r.kind === "commit") this.events.membersChanged();
    if (r.kind !== "application" || e.seq <= this.shownUpTo) return;
    const body = decodePayload(r.plaintext).body;
    if (body.kind === "typing" || body.kind === "read") return;
    const who = await whoIs(this.group.leaves().find((l) => l.leaf === r.sender), this.device.anchor);
    if (body.kind === "leave_request" && who.kind === "staff" && who.role === "supervisor") this.events.leaveRequested(r.sender);
    this.events.line({ seq: e.seq, at: e.at, who, body }, false);
  }

  /** Every member of the group, checked against the pinned roots. */
  async members(): Promise<Array<{ who: Who; self: boolean }>> {
    const group = this.group;
    if (group === undefined) return [];
    return Promise.all(group.leaves().map(async (l) => ({ who: await whoIs(l, this.device.anchor), self: l.leaf === group.ownLeaf })));
  }

  private async adoptPending(): Promise<void> {
    const p = this.pending;
    if (p === undefined) return;
    this.group = await MlsGroup.decode(fromBase64(p.group), policyFor(this.device.anchor));
    this.pending = undefined;
    this.commitOutcomes.set(p.id, true);
    // The Welcome stays journaled until the server has it: lost with the connection, it is
    // sent again by the next start (the added member would otherwise never join).
    if (p.welcome !== undefined) this.unsentWelcome = { id: p.welcomeId, data: p.welcome };
    await this.persist();
    this.events.membersChanged();
    await this.sendWelcome().catch(() => undefined);
  }

  /** Sends a journaled Welcome now; true when none is left to deliver. */
  async deliver(): Promise<boolean> {
    await this.exclusive(() => this.sendWelcome()).catch(() => undefined);
    return this.unsentWelcome === undefined;
  }

  /** The journaled Welcome, right after its commit; a resend with the same client id is a no-op. */
  private async sendWelcome(): Promise<void> {
    const w = this.unsentWelcome;
    const socket = this.link?.socket;
    if (w === undefined || socket === undefined) return;
    await socket.send(this.conversation, "welcome", fromBase64(w.data), w.id);
    this.unsentWelcome = undefined;
    await this.persist();
  }

  /**
   * Adds staff devices (a supervisor who joined) in one commit, after checking every key
   * package's chain against the pinned roots for one of `roles` (RFC 9420 §12.1.1: the
   * committer validates the KeyPackages it adds; shared/design/E2EE.md §5.5).
   */
  async addStaffDevices(keyPackages: Uint8Array[], roles: readonly string[]): Promise<void> {
    if (keyPackages.length === 0) return;
    for (const kp of keyPackages) {
      const who = await keyPackageWho(kp, this.device.anchor);
      if (who.kind !== "staff" || !roles.includes(who.role)) throw new Error(`refused to add a device: ${who.kind === "unverified" ? who.reason : `not a ${roles.join(" or ")}`}`);
    }
    await this.commitChange({ add: keyPackages });
  }

  /** In the group and live, the log says `to` removes the previous agent (handover.ts): asked once a connection. */
  private askHandover(): void {
    const to = this.handover.to;
    if (to === undefined || this.handoverAsked || this.group === undefined || this.link?.ready !== true || this.stopped) return;
    this.handoverAsked = true;
    this.events.handover(to);
  }

  /**
   * Once the log made `me` the assignee after a change of hands: the previous agent's devices
   * (handover.ts `previousAgents`) leave in one commit, as MLS lets no member remove itself
   * (RFC 9420 §12.2). Settled and saved once nothing is left to remove: a reload removes once.
   */
  async removePreviousAgents(me: string, mine: readonly Uint8Array[]): Promise<number> {
    let removed = 0;
    await this.commitChange(async (group) => {
      if (!due(this.handover, me)) return null;
      const members = await Promise.all(group.leaves().map(async (l) => ({ leaf: l.leaf, signatureKey: l.signatureKey, who: await whoIs(l, this.device.anchor) })));
      const leaves = previousAgents(members, mine, group.ownLeaf);
      removed = leaves.length;
      return leaves.length > 0 ? { remove: leaves } : null;
    });
    await this.exclusive(async () => {
      if (!due(this.handover, me)) return;
      this.handover = {};
      await this.persist();
    });
    return removed;
  }

  /** Removes a supervisor who asked to leave (its own leave request named its leaf). */
  async removeLeaf(leaf: number): Promise<void> {
    await this.commitChange({ remove: [leaf] });
  }

  /**
   * One commit, journaled before it is sent and adopted only once the server sequenced it
   * (RFC 9420 §14: the delivery service orders commits; a refused one is discarded).
   */
  private async commitChange(change: Change): Promise<void> {
    // While the connection is being restored (and a commit journaled before settles), wait.
    if (this.link !== undefined && !(await this.link.whenReady(COMMIT_WAIT_MS))) throw new SocketError("unavailable", "not connected to the conversation");
    const lost = await this.exclusive(async () => {
      const socket = this.socket;
      if (this.group === undefined || socket === undefined) throw new SocketError("unavailable", "not in the conversation");
      const ops = typeof change === "function" ? await change(this.group) : change;
      if (ops === null) return undefined;
      const { commit, welcome, pending } = await this.group.commit(ops);
      const journal: NonNullable<SavedGroup["pending"]> = { id: newClientId("c"), group: toBase64(pending.encode()), welcomeId: newClientId("w"), commit: toBase64(commit) };
      if (welcome !== null) journal.welcome = toBase64(welcome);
      this.pending = journal;
      this.sent.add(journal.id);
      this.sent.add(journal.welcomeId);
      await this.persist();
      try {
        await socket.send(this.conversation, "handshake", commit, journal.id);
      } catch (e) {
        // Refused (another commit won the epoch, say): the current group stays.
        if (!socket.isClosed) {
          this.pending = undefined;
          await this.persist();
          throw e;
        }
        // Lost with the connection: the next one settles it (from the log, or sent again).
        return journal.id;
      }
      await this.adoptPending();
      return undefined;
    });
    if (lost === undefined) return;
    await this.link?.whenReady(COMMIT_WAIT_MS);
    const outcome = this.commitOutcomes.get(lost);
    if (outcome === true) return;
    throw new SocketError(outcome === false ? "stale_epoch" : "unavailable", "the commit's connection was lost");
  }

  /**
   * After a team key rotation (E2EE.md §3): one commit removing the group's History Member
   * and adding `keyPackage` (already checked by the caller, rekey.ts), journaled like every
   * commit, its Welcome sent right after. The old member is found by its credential's role,
   * read without the validity check (an expired one must still be replaceable); exactly one.
   */
  async replaceHistoryMember(keyPackage: Uint8Array): Promise<void> {
    const added = keyPackageInfo(keyPackage).signatureKey;
    await this.commitChange(async (group) => {
      const old: number[] = [];
      for (const l of group.leaves()) {
        // Not a rotation at all: the "new" member is one the group already has.
        if (bytesEqual(l.signatureKey, added)) throw new Error("the new History Member is already in the group");
        if ((await roleOf(l.identity)) === "history") old.push(l.leaf);
      }
      if (old.length !== 1) throw new Error(`the group has ${old.length} History Members, not one`);
      return { add: [keyPackage], remove: old };
    });
  }

  /**
   * Resolves true once every entry up to `seq` was processed here and no Welcome of ours is
   * left to deliver (false after `ms`, or once stopped).
   */
  async caughtUp(seq: number, ms = 15_000): Promise<boolean> {
    const until = Date.now() + ms;
    while (this.cursor < seq) {
      if (Date.now() > until || this.stopped || this.link?.done === true) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
    // Whatever is being handled now has finished.
    await this.exclusive(async () => undefined).catch(() => undefined);
    return !this.stopped && this.unsentWelcome === undefined;
  }

  async say(text: string): Promise<void> {
    await this.sayBody({ kind: "text", text });
  }

  /** A file already encrypted and uploaded (attachments.ts): its reference, as payload v1 `file`. */
  async sendFile(file: FileRef): Promise<void> {
    await this.sayBody({ kind: "file", file });
  }

  /** A supervisor's request to be removed (the assignee's console commits the Remove). */
  async leave(): Promise<void> {
    await this.sayBody({ kind: "leave_request" });
  }

  /**
   * Encrypts and saves a message in the outbox, then sends it if the connection is up (and
   * resolves once acknowledged); when it is not, it goes out once the connection is back.
   */
  private async sayBody(body: Body): Promise<void> {
    const payload = encodePayload({ msgId: crypto.getRandomValues(new Uint8Array(16)), sentAtMs: BigInt(Date.now()), body });
    const item = await this.exclusive(async () => {
      if (this.group === undefined) throw new Error("not in the conversation yet");
      const sent = await this.group.send(payload);
      this.group = sent.group;
      const id = newClientId("c");
      this.sent.add(id);
      const waiting: OutboxItem = { key: id, id, payload: toBase64(payload), message: toBase64(sent.message) };
      this.outbox.add(waiting);
      await this.persist();
      return waiting;
    });
    this.events.outgoing(item.key, body);
    const socket = this.socket;
    if (socket !== undefined) await this.pump(socket);
  }

  private ownLine(item: OutboxItem, seq: number, at: number): Line {
    return { seq, at, who: { kind: "staff", role: "agent", label: this.device.label, verified: true }, body: decodePayload(fromBase64(item.payload)).body };
  }

  /** Sends the outbox on `socket`, oldest first; a sender already at work on it takes new items along. */
  private pump(socket: SealdeskSocket): Promise<void> {
    if (this.pumpSocket === socket) return this.pumpRun;
    this.pumpRun = this.pumpRun.catch(() => undefined).then(() => this.drain(socket));
    return this.pumpRun;
  }

  private async drain(socket: SealdeskSocket): Promise<void> {
    this.pumpSocket = socket;
    try {
      for (;;) {
        const item = this.outbox.first();
        if (item === undefined || socket.isClosed || this.stopped) return;
        let ack: Ack;
        try {
          ack = await socket.send(this.conversation, "application", fromBase64(item.message), item.id);
        } catch (e) {
          if (socket.isClosed || this.stopped) return; // Lost with the connection: the next one sends it again.
          if (!(e instanceof SocketError)) {
            // No acknowledgement in time: the connection is given up, the next one resends.
            socket.drop("no acknowledgement");
            return;
          }
          if (e.code === "stale_epoch" && (item.rebuilt ?? 0) < REBUILDS) {
            await new Promise((r) => setTimeout(r, 300));
            await this.rebuild(item.id);
            continue;
          }
          await this.exclusive(async () => {
            if (this.outbox.settle(item.id) === undefined) return;
            await this.persist();
            this.events.undelivered(item.key, e.code);
          });
          continue;
        }
        await this.exclusive(async () => {
          const done = this.outbox.settle(item.id);
          if (done === undefined) return; // The log showed it first.
          await this.persist();
          this.events.delivered(done.key, this.ownLine(done, ack.seq, Date.now()));
        });
      }
    } finally {
      if (this.pumpSocket === socket) this.pumpSocket = undefined;
    }
  }

  /** A message refused as too old for the group's epoch: encrypted again, under a new id (docs/protocol.md). */
  private async rebuild(id: string): Promise<void> {
    await this.exclusive(async () => {
      const item = this.outbox.all().find((i) => i.id === id);
      if (item === undefined || this.group === undefined) return;
      const sent = await this.group.send(fromBase64(item.payload));
      this.group = sent.group;
      const next = newClientId("c");
      this.sent.add(next);
      this.outbox.rebuild(id, next, toBase64(sent.message));
      await this.persist();
    });
  }

  typing(on: boolean): void {
    this.socket?.typing(this.conversation, on);
  }

  read(): void {
    if (this.cursor > 0) this.socket?.read(this.conversation, this.cursor);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.link?.stop();
    // What is under way with the group (a save) finishes before another chat may take it.
    void this.queue.then(() => this.unlock?.());
    if (typeof window !== "undefined") window.removeEventListener("online", this.online);
  }
}
