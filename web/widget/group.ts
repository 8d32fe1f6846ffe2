// The visitor's MLS group for one conversation (shared/design/E2EE.md §5): created with its
// epoch-0 GroupInfo as the first handshake entry, then one commit adding the History Member
// and its Welcome (the order of web/interop/harness.ts and the Rust self-test), later commits
// adding the assigned agent's devices. Every commit is adopted only after the server's ack
// (RFC 9420 §14: the delivery service orders commits; a refused one is thrown away).
//
// Credential checks happen BEFORE anything is added, and the same checks run on every commit
// another member makes (the MlsPolicy below), so no unverified leaf is ever silently accepted.

import {
  generateKeyPackage, keyPackageInfo, MlsGroup, peekMessage, type MlsPolicy,
} from "../shared/mls/adapter.js";
import { VISITOR_MAGIC, type TrustAnchor } from "../shared/mls/certs.js";
import { decodePayload, encodePayload, type Body, type Payload } from "../shared/mls/payload.js";
import type { SealdeskSocket } from "../shared/protocol/socket.js";
import { newClientId } from "../shared/protocol/socket.js";
import { concat } from "../shared/util/wire.js";
import { checkHistoryMember, checkMember, checkStaffKeyPackage, type CheckedMember } from "./trust.js";

export class TrustError extends Error {
  override name = "TrustError";
  constructor(
    readonly reason: "untrusted_member" | "untrusted_history",
    detail: string,
  ) {
    super(detail);
  }
}

/** What processing one incoming MLS message gave. */
export type Incoming =
  | { kind: "payload"; payload: Payload; sender: number }
  | { kind: "commit"; removedSelf: boolean }
  | { kind: "ignored" };

/**
 * What must survive a crash (E2EE.md §5.7, "a journal so a crash in the middle of a commit
 * cannot fork the group"): the group, and a commit between "built" and "Welcome acked".
 */
export interface GroupSnapshot {
  group: Uint8Array;
  /** A commit that may or may not have reached the log, with the group it leads to. */
  pending?: { group: Uint8Array; commit: Uint8Array; commitId: string; welcome: Uint8Array | null; welcomeId: string };
}

/** Where the snapshot goes before anything leaves (IndexedDB in the browser). */
export type Journal = (snapshot: GroupSnapshot) => Promise<void>;

function policyFor(anchor: TrustAnchor): MlsPolicy {
  return {
    // Called by ts-mls for every leaf of a Welcome or commit it processes: a member that
    // fails the chain check makes the commit fail (E2EE.md §4, the hard stop).
    validateIdentity: async (identity, key) => (await checkMember(-1, identity, key, anchor)).verified,
  };
}

export class VisitorGroup {
  private journal: Journal = async () => undefined;
  private anchor: TrustAnchor = { tenant: new Uint8Array(16), roots: [] };
  /** A commit sent on a connection that died before its ack. */
  private inFlight: GroupSnapshot["pending"];

  private constructor(
    private group: MlsGroup,
    private socket: SealdeskSocket,
    readonly conversation: string,
  ) {}

  /**
   * A group saved before a reload. A commit journaled as pending is sent again with the same
   * client id: the server's idempotent sends (docs/protocol.md) answer with the first seq if
   * it was appended, append it if not, or refuse it if the group moved on (then it is dropped).
   */
  static async restore(snapshot: GroupSnapshot, socket: SealdeskSocket, conversation: string, anchor: TrustAnchor, journal: Journal): Promise<VisitorGroup> {
    const g = new VisitorGroup(await MlsGroup.decode(snapshot.group, policyFor(anchor)), socket, conversation);
    g.journal = journal;
    g.anchor = anchor;
    g.inFlight = snapshot.pending;
    await g.settle();
    return g;
  }

  /** Resolves a commit whose fate is unknown (its connection was lost before the ack). */
  private async settle(): Promise<void> {
    const p = this.inFlight;
    if (p === undefined) return;
    try {
      await this.socket.send(this.conversation, "handshake", p.commit, p.commitId);
      this.group = await MlsGroup.decode(p.group, policyFor(this.anchor));
      if (p.welcome !== null) await this.socket.send(this.conversation, "welcome", p.welcome, p.welcomeId);
    } catch (e) {
      // Lost again: keep it for the next connection; refused: it never entered the history.
      if (this.socket.isClosed) throw e;
    }
    this.inFlight = undefined;
    await this.journal({ group: this.group.encode() });
  }

  setJournal(journal: Journal): void {
    this.journal = journal;
  }

  /** What to save now: the group, and a commit whose fate is still unknown. */
  snapshot(): GroupSnapshot {
    return this.inFlight === undefined ? { group: this.group.encode() } : { group: this.group.encode(), pending: this.inFlight };
  }

  /**
   * Creates the group with the conversation's History Member, after checking its certificate
   * (role history, this tenant and team, signed under a pinned root).
   */
  static async create(
    socket: SealdeskSocket,
    conversation: string,
    historyKeyPackage: Uint8Array,
    anchor: TrustAnchor,
    team: Uint8Array,
  ): Promise<VisitorGroup> {
    const info = keyPackageInfo(historyKeyPackage);
    const hm = await checkHistoryMember(info.identity, info.signatureKey, anchor, team);
    if (!hm.verified) throw new TrustError("untrusted_history", hm.reason);
    const identity = concat(VISITOR_MAGIC, crypto.getRandomValues(new Uint8Array(16)));
    const own = await generateKeyPackage(identity, "device");
    const group = new VisitorGroup(await MlsGroup.create(own, policyFor(anchor)), socket, conversation);
    group.anchor = anchor;
    await socket.send(conversation, "handshake", await group.group.groupInfo(), newClientId("gi"));
    await group.commitAdd([historyKeyPackage]);
    return group;
  }

  /** Checks every key package (agent or supervisor of the pinned tenant), then adds them all. */
  async addStaff(keyPackages: Uint8Array[], anchor: TrustAnchor): Promise<void> {
    if (keyPackages.length === 0) return;
    for (const kp of keyPackages) {
      let ok: CheckedMember;
      try {
        const info = keyPackageInfo(kp);
        ok = await checkStaffKeyPackage(info.identity, info.signatureKey, anchor);
      } catch (e) {
        ok = { leaf: -1, verified: false, reason: e instanceof Error ? e.message : "unreadable key package" };
      }
      if (!ok.verified) throw new TrustError("untrusted_member", ok.reason);
    }
    await this.commitAdd(keyPackages);
  }

  private async commitAdd(keyPackages: Uint8Array[]): Promise<void> {
    const { commit, welcome, pending } = await this.group.commit({ add: keyPackages });
    const record = { group: pending.encode(), commit, commitId: newClientId("c"), welcome, welcomeId: newClientId("w") };
    await this.journal({ group: this.group.encode(), pending: record });
    try {
      await this.socket.send(this.conversation, "handshake", commit, record.commitId);
    } catch (e) {
      // Lost with the connection: settled on the next one (or after a reload, from the
      // journal). Refused: the current group stays.
      if (this.socket.isClosed) this.inFlight = record;
      else await this.journal({ group: this.group.encode() });
      throw e;
    }
    this.group = pending;
    if (welcome !== null) {
      try {
        await this.socket.send(this.conversation, "welcome", welcome, record.welcomeId);
      } catch (e) {
        // Sending the whole record again is idempotent (same client ids).
        if (this.socket.isClosed) this.inFlight = record;
        throw e;
      }
    }
    await this.journal({ group: this.group.encode() });
  }

  /** Encrypts and sends a payload body; resolves with the entry's seq once acked. */
  async send(body: Body, clientId = newClientId("v")): Promise<number> {
    const payload = encodePayload({ msgId: crypto.getRandomValues(new Uint8Array(16)), sentAtMs: BigInt(Date.now()), body });
    const { message, group } = await this.group.send(payload);
    // The new state replaces the old one, and is saved, before the message leaves: a reused
    // ratchet generation would reuse an AES-GCM nonce (RFC 9420 §9, secret tree keys and nonces).
    this.group = group;
    await this.journal({ group: group.encode() });
    return (await this.socket.send(this.conversation, "application", message, clientId)).seq;
  }

  /** Processes another member's handshake or application message. Throws if it is invalid. */
  async receive(bytes: Uint8Array): Promise<Incoming> {
    if (peekMessage(bytes).wire === "group_info") return { kind: "ignored" };
    const r = await this.group.process(bytes);
    this.group = r.group;
    if (r.kind === "commit") return { kind: "commit", removedSelf: r.removedSelf };
    return { kind: "payload", payload: decodePayload(r.plaintext), sender: r.sender };
  }

  /** Every member other than ourselves, each with the outcome of its chain check. */
  async members(anchor: TrustAnchor): Promise<CheckedMember[]> {
    const own = this.group.ownLeaf;
    const leaves = this.group.leaves().filter((l) => l.leaf !== own);
    return Promise.all(leaves.map((l) => checkMember(l.leaf, l.identity, l.signatureKey, anchor)));
  }

  /** After a reconnect: the new connection carries every later send, a lost commit first. */
  async useSocket(socket: SealdeskSocket): Promise<void> {
    this.socket = socket;
    await this.settle();
  }

  get active(): boolean {
    return this.group.active;
  }
}

