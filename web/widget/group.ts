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

export class VisitorGroup {
  private constructor(
    private group: MlsGroup,
    private socket: SealdeskSocket,
    readonly conversation: string,
  ) {}

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
    const policy: MlsPolicy = {
      // Called by ts-mls for every leaf of a Welcome or commit it processes: a member that
      // fails the chain check makes the commit fail (E2EE.md §4, the hard stop).
      validateIdentity: async (identity, key) => (await checkMember(-1, identity, key, anchor)).verified,
    };
    const identity = concat(VISITOR_MAGIC, crypto.getRandomValues(new Uint8Array(16)));
    const own = await generateKeyPackage(identity, "device");
    const group = new VisitorGroup(await MlsGroup.create(own, policy), socket, conversation);
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
    // Throws (and the pending state is dropped) if the server refuses the commit.
    await this.socket.send(this.conversation, "handshake", commit, newClientId("c"));
    this.group = pending;
    if (welcome !== null) await this.socket.send(this.conversation, "welcome", welcome, newClientId("w"));
  }

  /** Encrypts and sends a payload body; resolves with the entry's seq once acked. */
  async send(body: Body, clientId = newClientId("v")): Promise<number> {
    const payload = encodePayload({ msgId: crypto.getRandomValues(new Uint8Array(16)), sentAtMs: BigInt(Date.now()), body });
    const { message, group } = await this.group.send(payload);
    // The new state replaces the old one before the message leaves (no ratchet reuse).
    this.group = group;
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

  /** After a reconnect: the new connection carries every later send. */
  useSocket(socket: SealdeskSocket): void {
    this.socket = socket;
  }

  get active(): boolean {
    return this.group.active;
  }
}

