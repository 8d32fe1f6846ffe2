// The log loop (docs/protocol.md): entries in order, each turned into transcript items, group
// changes or routing events; the assignee's devices added after their chains verify; typing
// and read frames; reconnecting after a lost connection. Bad input never crashes it (OWASP
// ASVS 4.0 V5.1, applied to frames): an entry that cannot be decoded, decrypted or verified is
// dropped and shown as "could not be verified"; what was received before stays.

import { ApiError } from "../shared/protocol/rest.js";
import { SealdeskSocket } from "../shared/protocol/socket.js";
import type { EntryFrame, EphemeralFrame } from "../shared/protocol/types.js";
import type { Body } from "../shared/mls/payload.js";
import { fromBase64, fromUtf8 } from "../shared/util/bytes.js";
import { SessionCore } from "./core.js";
import { refToJson } from "./files.js";
import { TrustError, type VisitorGroup } from "./group.js";
import { conversationGone, Retrier } from "./retry.js";
import type { EventCode } from "./state.js";

/** setTimeout's largest delay: "wait for the next entry as long as the page lives". */
const FOREVER = 2_147_483_647;
const TYPING_TIMEOUT_MS = 6_000;

export abstract class SessionLog extends SessionCore {
  /**
   * Our own entry: it was applied when sent. A message shown as not sent (its page went away
   * before the ack) that the log holds after all is marked sent.
   */
  protected ownEntry(entry: EntryFrame): void {
    if (entry.id === undefined || entry.k !== "application") return;
    const mine = this.state.items.find((i) => (i.kind === "text" || i.kind === "file") && i.clientId === entry.id && i.status === "failed");
    if (mine !== undefined) this.setItem(mine.key, { status: "sent", seq: entry.seq });
  }

  /** Reads the log in order; when the connection ends, reconnects and resumes after the last entry. */
  protected async loop(socket: SealdeskSocket, group: VisitorGroup): Promise<void> {
    for (;;) {
      let entry: EntryFrame;
      try {
        entry = await socket.nextEntry(group.conversation, FOREVER);
      } catch (e) {
        if (this.state.phase === "closed") return;
        // The server ended the subscription: the conversation is gone (deleted).
        if (conversationGone(e)) {
          await this.gone();
          return;
        }
        const next = await this.reconnect(group);
        if (next === null) return;
        socket = next;
        continue;
      }
      await this.exclusive(async () => {
        await this.handle(entry, group);
        await this.persist();
      });
    }
  }

  /**
   * After a lost connection: a new ticket for the same visitor, a new connection subscribed
   * after the last entry handled (docs/protocol.md "Resume"), tried again with backoff for as
   * long as the page is open (retry.ts), at once when the network is back or the page visible
   * again, or when the visitor asks. Null when it stopped: the session closed, a refusal no
   * retry can fix (shown), or the conversation gone.
   */
  protected async reconnect(group: VisitorGroup): Promise<SealdeskSocket | null> {
    this.update({ error: "disconnected" });
    const retrier = new Retrier(() => this.reconnectOnce(group), (s) => {
      this.reconnecting = s;
      this.update({});
    });
    this.retrier = retrier;
    const wake = (): void => {
      if (typeof document === "undefined" || document.visibilityState === "visible") retrier.now();
    };
    if (typeof window !== "undefined") window.addEventListener("online", wake);
    if (typeof document !== "undefined") document.addEventListener("visibilitychange", wake);
    try {
      const socket = await retrier.run();
      if (socket !== null && retrier.isStopped) {
        // The widget was closed while this try was under way: the connection is not kept.
        socket.close();
        return null;
      }
      if (socket !== null) this.update({ error: null });
      return socket;
    } catch (e) {
      if (conversationGone(e)) await this.gone();
      else this.update({ error: "offline" });
      return null;
    } finally {
      if (typeof window !== "undefined") window.removeEventListener("online", wake);
      if (typeof document !== "undefined") document.removeEventListener("visibilitychange", wake);
      if (this.retrier === retrier) this.retrier = undefined;
      this.reconnecting = null;
      this.update({});
    }
  }

  /** One reconnection try; throws what failed. */
  private async reconnectOnce(group: VisitorGroup): Promise<SealdeskSocket> {
    const ticket = await this.rest.ticket(this.options.tenant, this.options.team, this.visitorKey, this.options.identityToken);
    const socket = await SealdeskSocket.connect(this.options.transport, this.options.server, { via: "frame", token: ticket.ticket });
    socket.onEphemeral = (f) => this.onEphemeral(f);
    try {
      // Entries are handled under the lock; wait for the last one before reading the cursor.
      await this.exclusive(async () => {
        await socket.subscribe(group.conversation, this.lastSeq);
        await group.useSocket(socket);
      });
    } catch (e) {
      socket.close();
      throw e;
    }
    this.socket = socket;
    this.visitor = this.rest.withToken(ticket.ticket);
    return socket;
  }

  /** The conversation no longer exists on the server (erased): over, and forgotten here. */
  private async gone(): Promise<void> {
    this.closedForGood = true;
    await this.options.store?.clear().catch(() => undefined);
    this.update({ phase: "closed", error: "gone" });
  }

  protected async handle(entry: EntryFrame, group: VisitorGroup): Promise<void> {
    this.lastSeq = entry.seq;
    // Our own entries (one visitor per conversation) were applied when sent.
    if (entry.from.kind === "visitor") return this.ownEntry(entry);
    if (entry.k === "welcome") return;
    if (entry.k === "system") return this.onSystem(entry, group);
    try {
      const r = await group.receive(fromBase64(entry.p));
      if (r.kind === "commit") {
        await this.refreshMembers();
        if (r.removedSelf) this.update({ phase: "closed" });
      } else if (r.kind === "payload") {
        this.onPayload(r.payload.body, r.sender, entry);
      }
    } catch {
      if (entry.k === "handshake") {
        // A commit we cannot verify leaves us outside the group's real state: hard stop.
        this.update({ blocked: "unverifiable_change" });
      }
      this.push({ key: this.nextKey("u"), kind: "unverified", at: entry.at, seq: entry.seq });
    }
  }

  protected onPayload(body: Body, sender: number, entry: EntryFrame): void {
    const member = this.state.members.find((m) => m.leaf === sender);
    const author = member?.verified === true ? member.label : "";
    if (body.kind === "text") {
      this.update({ staffTyping: false });
      this.push({ key: this.nextKey("s"), kind: "text", from: "staff", author, text: body.text, at: entry.at, status: "received", seq: entry.seq });
    } else if (body.kind === "file") {
      this.update({ staffTyping: false });
      this.push({
        key: this.nextKey("s"), kind: "file", from: "staff", author, name: body.file.name,
        // The reference gives the encrypted size: the file is 16 bytes (the GCM tag) shorter.
        size: Math.max(0, Number(body.file.size) - 16), at: entry.at,
        status: "received", seq: entry.seq, ref: refToJson(body.file),
      });
    } else if (body.kind === "typing") {
      this.setTyping(body.on);
    }
    // Leave requests and prechat forms are for the staff's consoles.
  }

  protected async onSystem(entry: EntryFrame, group: VisitorGroup): Promise<void> {
    let event: { event?: unknown };
    try {
      event = JSON.parse(fromUtf8(fromBase64(entry.p))) as { event?: unknown };
    } catch {
      return;
    }
    const code: Record<string, EventCode> = {
      assigned: "agent_joined", transferred_to_agent: "transferred", transferred_to_team: "transferred",
      supervisor_joined: "supervisor_joined", closed: "closed",
    };
    const what = typeof event.event === "string" ? code[event.event] : undefined;
    if (what === "closed") {
      this.push({ key: this.nextKey("e"), kind: "event", event: "closed", name: "", at: entry.at });
      this.update({ phase: "closed" });
      // A reload after the end starts a new conversation.
      this.closedForGood = true;
      await this.options.store?.clear().catch(() => undefined);
      return;
    }
    if (event.event === "assigned" || event.event === "transferred_to_agent") await this.addAssignee(group);
    if (what === "transferred" || what === "supervisor_joined") {
      this.push({ key: this.nextKey("e"), kind: "event", event: what, name: "", at: entry.at });
    }
  }

  /** The assignee's devices: take their key packages, check each chain, commit Add. */
  protected async addAssignee(group: VisitorGroup): Promise<void> {
    if (this.state.blocked !== null || this.visitor === undefined) return;
    try {
      const { key_packages } = await this.visitor.takeKeyPackages(group.conversation);
      await group.addStaff(key_packages.map((k) => fromBase64(k.key_package)), this.options.anchor);
    } catch (e) {
      if (e instanceof TrustError) this.update({ blocked: e.reason });
      else if (!(e instanceof ApiError)) this.update({ error: "network" });
      return;
    }
    const before = new Set(this.state.members.filter((m) => m.verified).map((m) => m.leaf));
    await this.refreshMembers();
    for (const m of this.state.members) {
      if (m.verified && !before.has(m.leaf) && (m.role === "agent" || m.role === "supervisor")) {
        this.push({ key: this.nextKey("e"), kind: "event", event: "agent_joined", name: m.label, at: Date.now() });
      }
    }
  }

  protected async refreshMembers(): Promise<void> {
    if (this.group === undefined) return;
    const members = await this.group.members(this.options.anchor);
    const bad = members.some((m) => !m.verified);
    this.update({ members, blocked: bad ? "untrusted_member" : this.state.blocked });
  }

  protected onEphemeral(frame: EphemeralFrame): void {
    if (frame.from.kind !== "staff") return;
    if (frame.t === "typing") this.setTyping(frame.on === true);
    else if (frame.t === "read" && typeof frame.seq === "number") {
      this.update({
        items: this.state.items.map((i) =>
          (i.kind === "text" || i.kind === "file") && i.from === "visitor" && i.seq !== undefined && i.seq <= frame.seq ? { ...i, status: "read" } : i,
        ),
      });
    }
  }

  protected setTyping(on: boolean): void {
    clearTimeout(this.typingTimer);
    if (on) this.typingTimer = setTimeout(() => this.update({ staffTyping: false }), TYPING_TIMEOUT_MS);
    this.update({ staffTyping: on });
  }
}
