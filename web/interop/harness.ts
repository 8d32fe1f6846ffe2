// The orchestrator of the interop gate: MLS members (ts-mls through our adapter, or the Rust
// openmls agent) that send every MLS message through the server's WebSocket and read the
// conversation's log back from the server, in sequence order, each with its own cursor.

import { expect } from "vitest";
import { MlsGroup, peekMessage, type EpochInfo, type KeyPackageBundle, type MlsPolicy } from "../shared/mls/adapter.js";
import { nodeTransport } from "../shared/protocol/node-transport.js";
import { RestClient } from "../shared/protocol/rest.js";
import { SealdeskSocket } from "../shared/protocol/socket.js";
import type { EntryFrame } from "../shared/protocol/types.js";
import { bytesEqual, fromBase64, fromUtf8, utf8 } from "../shared/util/bytes.js";
import type { RustAgent } from "./agent.js";
import type { TestServer } from "./server.js";

/** The spike accepts every Basic credential; certificate chains come with phase 1. */
export const POLICY: MlsPolicy = { validateIdentity: async () => true };

/** One subscription's view of the log: entries fetched from the socket on demand, kept. */
export class Log {
  readonly entries: EntryFrame[] = [];
  private constructor(
    readonly socket: SealdeskSocket,
    readonly conversation: string,
  ) {}

  static async open(socket: SealdeskSocket, conversation: string, after = 0): Promise<Log> {
    await socket.subscribe(conversation, after);
    return new Log(socket, conversation);
  }

  /** The entry with this seq (1-based), waiting for the server to deliver it. */
  async at(seq: number): Promise<EntryFrame> {
    while (this.entries.length < seq) this.entries.push(await this.socket.nextEntry(this.conversation));
    const entry = this.entries[seq - 1];
    if (entry === undefined || entry.seq !== seq) throw new Error(`log out of step at ${seq}`);
    return entry;
  }

  async send(kind: "handshake" | "application" | "welcome", payload: Uint8Array): Promise<number> {
    return (await this.socket.send(this.conversation, kind, payload)).seq;
  }
}

export type Received = { kind: "application"; text: string; sender: number } | { kind: "commit"; epoch: number; removedSelf: boolean };

/** What the orchestrator needs of a member, whichever library implements it. */
export abstract class Member {
  /** seq of the last log entry this member has handled. */
  cursor = 0;
  readonly own = new Set<number>();
  readonly transcript: string[] = [];
  removed = false;

  constructor(
    readonly name: string,
    readonly log: Log,
  ) {}

  abstract epochInfo(): Promise<EpochInfo>;
  abstract joinFrom(welcome: Uint8Array): Promise<void>;
  /** Builds a commit without adopting it. */
  abstract prepareCommit(ops: { add?: Uint8Array[]; remove?: number[] }): Promise<{ commit: Uint8Array; welcome: Uint8Array | null }>;
  /** Builds an empty commit with an update path (fresh leaf keys) without adopting it. */
  abstract prepareSelfUpdate(): Promise<Uint8Array>;
  abstract adoptCommit(): Promise<void>;
  /** Throws the pending commit away (the server refused it). */
  abstract discardCommit(): Promise<void>;
  abstract encrypt(text: string): Promise<Uint8Array>;
  abstract receive(message: Uint8Array): Promise<Received>;

  /** Sends the new group's epoch-0 GroupInfo as the conversation's first handshake entry. */
  protected async announce(groupInfo: Uint8Array): Promise<void> {
    this.own.add(await this.log.send("handshake", groupInfo));
  }

  /** Commits through the server: the new state is adopted only after the server's ack. */
  async commit(ops: { add?: Uint8Array[]; remove?: number[] } | "self-update"): Promise<{ commitSeq: number; welcomeSeq: number | null }> {
    const { commit, welcome } = ops === "self-update" ? { commit: await this.prepareSelfUpdate(), welcome: null } : await this.prepareCommit(ops);
    let commitSeq: number;
    try {
      commitSeq = await this.log.send("handshake", commit);
    } catch (e) {
      await this.discardCommit();
      throw e;
    }
    await this.adoptCommit();
    this.own.add(commitSeq);
    const welcomeSeq = welcome === null ? null : await this.log.send("welcome", welcome);
    if (welcomeSeq !== null) this.own.add(welcomeSeq);
    return { commitSeq, welcomeSeq };
  }

  /** Sends `text`, or a ciphertext of it encrypted earlier (a late message of a past epoch). */
  async say(text: string, prepared?: Uint8Array): Promise<number> {
    const seq = await this.log.send("application", prepared ?? (await this.encrypt(text)));
    this.own.add(seq);
    this.transcript.push(text);
    return seq;
  }

  /** Joins from the Welcome at `seq` as the server delivers it; later entries are processed. */
  async join(seq: number): Promise<void> {
    const entry = await this.log.at(seq);
    if (entry.k !== "welcome") throw new Error(`entry ${seq} is a ${entry.k}, not a welcome`);
    await this.joinFrom(fromBase64(entry.p));
    this.cursor = seq;
  }

  /** Processes every log entry up to `seq` that is not its own, a Welcome or a system entry. */
  async catchUp(seq: number): Promise<Received[]> {
    const out: Received[] = [];
    for (let s = this.cursor + 1; s <= seq; s++) {
      const entry = await this.log.at(s);
      this.cursor = s;
      if (this.own.has(s) || entry.k === "system" || entry.k === "welcome") continue;
      const bytes = fromBase64(entry.p);
      // A group's first handshake entry is its epoch-0 GroupInfo, for the server's view.
      if (entry.k === "handshake" && peekMessage(bytes).wire === "group_info") continue;
      const r = await this.receive(bytes);
      if (r.kind === "application") this.transcript.push(r.text);
      if (r.kind === "commit" && r.removedSelf) this.removed = true;
      out.push(r);
    }
    return out;
  }
}

export class TsMember extends Member {
  private group: MlsGroup | undefined;
  private pending: MlsGroup | undefined;

  constructor(
    name: string,
    log: Log,
    readonly bundle: KeyPackageBundle,
    readonly policy: MlsPolicy = POLICY,
  ) {
    super(name, log);
  }

  get mls(): MlsGroup {
    if (this.group === undefined) throw new Error(`${this.name} has no group`);
    return this.group;
  }

  async create(): Promise<void> {
    this.group = await MlsGroup.create(this.bundle, this.policy);
    await this.announce(await this.group.groupInfo());
  }

  async joinFrom(welcome: Uint8Array): Promise<void> {
    this.group = await MlsGroup.join(welcome, this.bundle, this.policy);
  }

  /** encode → decode, as after a reload from storage. */
  async reload(): Promise<void> {
    this.group = await MlsGroup.decode(this.mls.encode(), this.policy);
  }

  epochInfo(): Promise<EpochInfo> {
    return this.mls.epochInfo();
  }

  async prepareCommit(ops: { add?: Uint8Array[]; remove?: number[] }) {
    const c = await this.mls.commit(ops);
    this.pending = c.pending;
    return { commit: c.commit, welcome: c.welcome };
  }

  async prepareSelfUpdate(): Promise<Uint8Array> {
    const c = await this.mls.selfUpdate();
    this.pending = c.pending;
    return c.commit;
  }

  async adoptCommit(): Promise<void> {
    if (this.pending === undefined) throw new Error("no pending commit");
    this.group = this.pending;
    this.pending = undefined;
  }

  async discardCommit(): Promise<void> {
    this.pending = undefined;
  }

  async encrypt(text: string): Promise<Uint8Array> {
    const { message, group } = await this.mls.send(utf8(text));
    this.group = group;
    return message;
  }

  async receive(message: Uint8Array): Promise<Received> {
    const r = await this.mls.process(message);
    this.group = r.group;
    return r.kind === "application"
      ? { kind: "application", text: fromUtf8(r.plaintext), sender: r.sender }
      : { kind: "commit", epoch: r.epoch, removedSelf: r.removedSelf };
  }
}

export class RustMember extends Member {
  constructor(
    name: string,
    log: Log,
    readonly agent: RustAgent,
  ) {
    super(name, log);
  }

  epochInfo(): Promise<EpochInfo> {
    return this.agent.epoch();
  }

  async create(groupId: Uint8Array): Promise<void> {
    await this.agent.createGroup(groupId);
    await this.announce(await this.agent.groupInfo());
  }

  async joinFrom(welcome: Uint8Array): Promise<void> {
    await this.agent.join(welcome);
  }

  prepareCommit(ops: { add?: Uint8Array[]; remove?: number[] }) {
    return this.agent.commit(ops);
  }

  prepareSelfUpdate(): Promise<Uint8Array> {
    return this.agent.selfUpdate();
  }

  async adoptCommit(): Promise<void> {
    await this.agent.merge();
  }

  async discardCommit(): Promise<void> {
    await this.agent.discard();
  }

  encrypt(text: string): Promise<Uint8Array> {
    return this.agent.send(utf8(text));
  }

  async receive(message: Uint8Array): Promise<Received> {
    const r = await this.agent.process(message);
    return r.kind === "application"
      ? { kind: "application", text: fromUtf8(r.plaintext), sender: r.sender }
      : { kind: "commit", epoch: r.epoch, removedSelf: r.removedSelf };
  }
}

/** A conversation opened by a new visitor and claimed by the staff member. */
export interface Conversation {
  readonly id: string;
  /** The visitor's connection (ticket in the `auth` frame). */
  readonly visitor: Log;
  /** The staff member's connection (bearer token on the upgrade). */
  readonly staff: Log;
  /** Another staff connection, subscribed from the start (after=0), for replays. */
  staffReplay(): Promise<Log>;
  close(): void;
}

export async function openConversation(server: TestServer): Promise<Conversation> {
  const ticket = await new RestClient(server.url).ticket(server.tenant, server.team);
  const visitorRest = server.staff.withToken(ticket.ticket);
  const conversation = await visitorRest.openConversation();
  // Only a participant (here: the assignee) may write; claiming an `open` conversation works.
  await server.staff.claim(server.tenant, conversation.id);
  const sockets: SealdeskSocket[] = [];
  const connect = async (via: "header" | "frame", token: string) => {
    const s = await SealdeskSocket.connect(nodeTransport, server.url, { via, token });
    sockets.push(s);
    return s;
  };
  const visitor = await Log.open(await connect("frame", ticket.ticket), conversation.id);
  const staff = await Log.open(await connect("header", server.staffToken), conversation.id);
  expect(visitor.socket.me.kind).toBe("visitor");
  expect(staff.socket.me.kind).toBe("staff");
  return {
    id: conversation.id,
    visitor,
    staff,
    staffReplay: async () => Log.open(await connect("header", server.staffToken), conversation.id, 0),
    close: () => sockets.forEach((s) => s.close()),
  };
}

/** Everyone catches up to `seq`, then all active members must agree on the epoch. */
export async function settle(members: Member[], seq: number): Promise<EpochInfo> {
  for (const m of members) if (!m.removed) await m.catchUp(seq);
  const active = members.filter((m) => !m.removed);
  const infos = await Promise.all(active.map((m) => m.epochInfo()));
  const first = infos[0];
  if (first === undefined) throw new Error("no active member");
  infos.forEach((info, i) => expect(info, `${active[i]?.name} vs ${active[0]?.name}`).toEqual(first));
  return first;
}

/** A message from `from` that every other active member must decrypt, with the right sender. */
export async function sayAndCheck(from: Member, text: string, members: Member[], prepared?: Uint8Array): Promise<number> {
  const senderLeaf = await leafOf(from);
  const seq = await from.say(text, prepared);
  for (const m of members) {
    if (m === from || m.removed) continue;
    const got = await m.catchUp(seq);
    expect(got.at(-1), `${m.name} receiving from ${from.name}`).toEqual({ kind: "application", text, sender: senderLeaf });
  }
  return seq;
}

async function leafOf(member: Member): Promise<number> {
  const info = await member.epochInfo();
  const me = info.members.find((m) => bytesEqual(m.identity, utf8(member.name)));
  if (me === undefined) throw new Error(`${member.name} is not in its own roster`);
  return me.leaf;
}
