// The visitor's side of a conversation, without any DOM: configuration and consent, the
// prechat form, the ticket and conversation, the WebSocket, the MLS group (group.ts) and the
// log loop that turns entries into transcript items. The view (ui.ts) only renders
// `state` and calls the methods below; the unit tests drive this class in Node.
//
// Bad input never crashes it (ASVS 4.0 V5.1 input validation, applied to frames): a frame or
// entry that cannot be decoded, decrypted or verified is dropped and shown as "could not be
// verified"; what was received before stays.

import { ApiError, RestClient } from "../shared/protocol/rest.js";
import { SealdeskSocket, type TransportFactory } from "../shared/protocol/socket.js";
import type { EntryFrame, EphemeralFrame, WidgetConfig } from "../shared/protocol/types.js";
import type { TrustAnchor } from "../shared/mls/certs.js";
import type { Body } from "../shared/mls/payload.js";
import { fromBase64, fromUtf8 } from "../shared/util/bytes.js";
import { TrustError, VisitorGroup, type GroupSnapshot } from "./group.js";
import { fromJson, toJson, type Saved } from "./saved.js";
import type { StateStore } from "./store.js";
import { initialState, type ChatItem, type EventCode, type WidgetState } from "./state.js";
import { serverAgrees, uuidBytes } from "./trust.js";

export interface SessionOptions {
  server: string;
  tenant: string;
  team: string;
  anchor: TrustAnchor;
  transport: TransportFactory;
  /** Where the conversation is saved to resume after a reload (none: nothing is kept). */
  store?: StateStore | null;
  /** Takes the one-tab-per-inbox lock; false when another tab has the widget. */
  lock?: () => Promise<boolean>;
}

/** setTimeout's largest delay: "wait for the next entry as long as the page lives". */
const FOREVER = 2_147_483_647;
const TYPING_TIMEOUT_MS = 6_000;
const RECONNECT_ATTEMPTS = 8;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export class VisitorSession {
  state: WidgetState = initialState();
  private readonly listeners = new Set<(s: WidgetState) => void>();
  private readonly rest: RestClient;
  private socket: SealdeskSocket | undefined;
  private group: VisitorGroup | undefined;
  private starting: Promise<VisitorGroup> | undefined;
  private lock: Promise<unknown> = Promise.resolve();
  private lastSeq = 0;
  private lastReadSent = 0;
  private closedForGood = false;
  private locked = false;
  /** The visitor's key from the first ticket: later tickets (reconnects) are for the same visitor. */
  private visitorKey: string | undefined;
  private visitor: RestClient | undefined;
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  private itemCounter = 0;
  /** Item keys must not collide with those of a transcript restored from an earlier page. */
  private readonly keyPrefix = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, "0")).join("");
  private saving: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: SessionOptions) {
    this.rest = new RestClient(options.server);
  }

  subscribe(listener: (s: WidgetState) => void): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  private update(change: Partial<WidgetState>): void {
    this.state = { ...this.state, ...change };
    for (const l of this.listeners) l(this.state);
  }

  private push(item: ChatItem): void {
    this.update({ items: [...this.state.items, item] });
  }

  private nextKey(prefix: string): string {
    this.itemCounter += 1;
    return `${prefix}${this.keyPrefix}-${this.itemCounter}`;
  }

  /** Loads the inbox configuration and shows the privacy notice, the form or the chat. */
  async start(): Promise<void> {
    if (!this.locked && this.options.lock !== undefined) {
      if (!(await this.options.lock())) {
        this.update({ phase: "elsewhere" });
        return;
      }
      this.locked = true;
    }
    let config: WidgetConfig;
    try {
      config = await this.rest.widgetConfig(this.options.tenant, this.options.team);
    } catch {
      this.update({ phase: "error", error: "network" });
      return;
    }
    this.applyConfig(config);
    const saved = this.group === undefined ? fromJson(await this.options.store?.load().catch(() => undefined)) : null;
    if (saved !== null) {
      this.update({ phase: "chat", items: saved.items, answers: saved.answers, blocked: saved.blocked });
      this.starting = this.resume(saved).catch((e: unknown) => {
        this.starting = undefined;
        throw e;
      });
      this.starting.catch(() => undefined);
    }
  }

  /** The first screen for a configuration: the privacy notice, else the form, else the chat. */
  applyConfig(config: WidgetConfig): void {
    const notice = config.privacy_notice ?? null;
    const fields = config.prechat_fields ?? [];
    this.update({
      tenantName: config.tenant_name, teamName: config.team_name, notice, fields,
      keyMismatch: !serverAgrees(this.options.anchor, config.root_keys),
      phase: notice !== null ? "consent" : fields.length > 0 ? "prechat" : "chat",
      error: null,
    });
  }

  /** The visitor accepted the privacy notice (its version goes to the server, content-free). */
  acceptConsent(): void {
    if (this.state.phase !== "consent") return;
    this.update({ phase: this.state.fields.length > 0 ? "prechat" : "chat", error: null });
  }

  /** Checks the answers; returns the names of invalid fields (empty when accepted). */
  submitPrechat(values: Record<string, string>): string[] {
    if (this.state.phase !== "prechat") return [];
    const invalid: string[] = [];
    const answers: Array<[string, string]> = [];
    for (const f of this.state.fields) {
      const v = (values[f.name] ?? "").trim();
      if ((f.required && v === "") || (f.kind === "email" && v !== "" && !EMAIL.test(v)) || v.length > 1000) invalid.push(f.name);
      else if (v !== "") answers.push([f.name, v]);
    }
    if (invalid.length === 0) this.update({ answers, phase: "chat" });
    return invalid;
  }

  /** Sends a text; false when sending is refused (an unverified member, no conversation). */
  async send(text: string): Promise<boolean> {
    const trimmed = text.trim();
    if (trimmed === "" || this.state.blocked !== null || this.state.phase !== "chat") return false;
    const key = this.nextKey("v");
    this.push({ key, kind: "text", from: "visitor", author: "", text: trimmed, at: Date.now(), status: "sending" });
    try {
      const group = await this.ensureGroup();
      if (this.state.blocked !== null) throw new Error("blocked");
      const seq = await this.exclusive(() => group.send({ kind: "text", text: trimmed }));
      this.setItem(key, { status: "sent", seq });
      void this.persist();
      return true;
    } catch {
      this.setItem(key, { status: "failed" });
      return false;
    }
  }

  /** Typing indicator to the agent (ephemeral, no content). */
  typing(on: boolean): void {
    if (this.socket !== undefined && this.group !== undefined && !this.socket.isClosed) this.socket.typing(this.group.conversation, on);
  }

  /** Read receipt up to the last entry seen (the window is open and visible). */
  markRead(): void {
    // Once per new entry: the view calls this on every render while the window is open.
    if (this.socket !== undefined && this.group !== undefined && !this.socket.isClosed && this.lastSeq > this.lastReadSent) {
      this.lastReadSent = this.lastSeq;
      this.socket.read(this.group.conversation, this.lastSeq);
    }
  }

  /** Ends the conversation (the server writes a `closed` entry; the log loop shows it). */
  async endChat(): Promise<boolean> {
    if (this.group === undefined || this.visitor === undefined || this.state.phase !== "chat") return false;
    try {
      await this.visitor.closeVisitorConversation(this.group.conversation);
      return true;
    } catch {
      this.update({ error: "network" });
      return false;
    }
  }

  /** Whether there is a conversation to end. */
  get hasConversation(): boolean {
    return this.group !== undefined;
  }

  close(): void {
    this.socket?.close();
  }

  private setItem(key: string, change: Partial<Extract<ChatItem, { kind: "text" }>>): void {
    this.update({ items: this.state.items.map((i) => (i.key === key && i.kind === "text" ? { ...i, ...change } : i)) });
  }

  /** Runs MLS operations one at a time (the log loop and sends share one group state). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private ensureGroup(): Promise<VisitorGroup> {
    this.starting ??= this.begin().catch((e: unknown) => {
      this.starting = undefined;
      throw e;
    });
    return this.starting;
  }

  /** Ticket, conversation (with consent), socket, group with the History Member, prechat. */
  private async begin(): Promise<VisitorGroup> {
    this.update({ starting: true, error: null });
    try {
      const { tenant, team, anchor } = this.options;
      const ticket = await this.rest.ticket(tenant, team);
      this.visitorKey = ticket.visitor_key;
      const visitor = this.rest.withToken(ticket.ticket);
      this.visitor = visitor;
      const notice = this.state.notice;
      const conversation = await visitor.openConversation(undefined, notice === null ? undefined : { notice_version: notice.version });
      const socket = await SealdeskSocket.connect(this.options.transport, this.options.server, { via: "frame", token: ticket.ticket });
      this.socket = socket;
      socket.onEphemeral = (f) => this.onEphemeral(f);
      await socket.subscribe(conversation.id, 0);
      const hm = await visitor.historyMember(conversation.id);
      const group = await VisitorGroup.create(socket, conversation.id, fromBase64(hm.key_package), anchor, uuidBytes(team));
      this.group = group;
      group.setJournal((snap) => this.persist(snap));
      await this.persist();
      await this.refreshMembers();
      if (this.state.answers.length > 0) await group.send({ kind: "prechat", fields: this.state.answers });
      void this.loop(socket, group);
      return group;
    } catch (e) {
      if (e instanceof TrustError) this.update({ blocked: e.reason });
      else if (e instanceof ApiError && e.code === "consent_required") {
        // The notice changed since it was shown: show the current one again.
        await this.start();
        this.update({ error: "consent_changed" });
      } else if (e instanceof ApiError && e.status === 409) {
        // The inbox cannot take a conversation now (its History Member pool is empty).
        this.update({ error: "unavailable" });
      } else this.update({ error: "network" });
      throw e;
    } finally {
      this.update({ starting: false });
    }
  }

  /** Reads the log in order; when the connection ends, reconnects and resumes after the last entry. */
  private async loop(socket: SealdeskSocket, group: VisitorGroup): Promise<void> {
    for (;;) {
      let entry: EntryFrame;
      try {
        entry = await socket.nextEntry(group.conversation, FOREVER);
      } catch {
        if (this.state.phase === "closed") return;
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
   * A new ticket for the same visitor, a new connection subscribed after the last entry
   * handled (docs/protocol.md "Resume"), with backoff; null when it keeps failing.
   */
  private async reconnect(group: VisitorGroup): Promise<SealdeskSocket | null> {
    this.update({ error: "disconnected" });
    for (let attempt = 0; attempt < RECONNECT_ATTEMPTS; attempt++) {
      await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** attempt)));
      try {
        const ticket = await this.rest.ticket(this.options.tenant, this.options.team, this.visitorKey);
        const socket = await SealdeskSocket.connect(this.options.transport, this.options.server, { via: "frame", token: ticket.ticket });
        socket.onEphemeral = (f) => this.onEphemeral(f);
        // Entries are handled under the lock; wait for the last one before reading the cursor.
        await this.exclusive(async () => {
          await socket.subscribe(group.conversation, this.lastSeq);
          await group.useSocket(socket);
        });
        this.socket = socket;
        this.visitor = this.rest.withToken(ticket.ticket);
        this.update({ error: null });
        return socket;
      } catch {
        // Try again after a longer pause.
      }
    }
    this.update({ error: "offline" });
    return null;
  }

  private async handle(entry: EntryFrame, group: VisitorGroup): Promise<void> {
    this.lastSeq = entry.seq;
    // Our own entries (one visitor per conversation) were applied when sent.
    if (entry.from.kind === "visitor" || entry.k === "welcome") return;
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

  private onPayload(body: Body, sender: number, entry: EntryFrame): void {
    const member = this.state.members.find((m) => m.leaf === sender);
    const author = member?.verified === true ? member.label : "";
    if (body.kind === "text") {
      this.update({ staffTyping: false });
      this.push({ key: this.nextKey("s"), kind: "text", from: "staff", author, text: body.text, at: entry.at, status: "received", seq: entry.seq });
    } else if (body.kind === "typing") {
      this.setTyping(body.on);
    }
    // Other kinds (files, leave requests) are not shown by this version of the widget.
  }

  private async onSystem(entry: EntryFrame, group: VisitorGroup): Promise<void> {
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
  private async addAssignee(group: VisitorGroup): Promise<void> {
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

  /** Saves the conversation (in order: a later save never loses to an earlier one). */
  private persist(snapshot?: GroupSnapshot): Promise<void> {
    const store = this.options.store;
    const group = this.group;
    if (store === undefined || store === null || group === undefined || this.closedForGood) return Promise.resolve();
    const saved: Saved = {
      conversation: group.conversation, visitorKey: this.visitorKey, lastSeq: this.lastSeq, group: snapshot ?? group.snapshot(),
      items: this.state.items, answers: this.state.answers, blocked: this.state.blocked,
    };
    const run = this.saving.then(() => store.save(toJson(saved)));
    this.saving = run.catch(() => undefined);
    return run;
  }

  /** After a reload: a ticket for the same visitor, the saved group, the log after the last entry. */
  private async resume(saved: Saved): Promise<VisitorGroup> {
    this.update({ starting: true, error: null });
    try {
      const ticket = await this.rest.ticket(this.options.tenant, this.options.team, saved.visitorKey);
      this.visitorKey = ticket.visitor_key ?? saved.visitorKey;
      this.visitor = this.rest.withToken(ticket.ticket);
      const socket = await SealdeskSocket.connect(this.options.transport, this.options.server, { via: "frame", token: ticket.ticket });
      this.socket = socket;
      socket.onEphemeral = (f) => this.onEphemeral(f);
      await socket.subscribe(saved.conversation, saved.lastSeq);
      this.lastSeq = saved.lastSeq;
      this.lastReadSent = saved.lastSeq;
      const group = await VisitorGroup.restore(saved.group, socket, saved.conversation, this.options.anchor, (snap) => this.persist(snap));
      this.group = group;
      await this.refreshMembers();
      void this.loop(socket, group);
      return group;
    } catch (e) {
      if ((e instanceof ApiError && e.status === 404) || (e instanceof Error && e.message.startsWith("not_found"))) {
        // The conversation is gone (deleted, or another visitor): start afresh.
        await this.options.store?.clear().catch(() => undefined);
        this.update({ items: [], answers: [] });
        await this.start();
      } else this.update({ error: "network" });
      throw e;
    } finally {
      this.update({ starting: false });
    }
  }

  private async refreshMembers(): Promise<void> {
    if (this.group === undefined) return;
    const members = await this.group.members(this.options.anchor);
    const bad = members.some((m) => !m.verified);
    this.update({ members, blocked: bad ? "untrusted_member" : this.state.blocked });
  }

  private onEphemeral(frame: EphemeralFrame): void {
    if (frame.from.kind !== "staff") return;
    if (frame.t === "typing") this.setTyping(frame.on === true);
    else if (frame.t === "read" && typeof frame.seq === "number") {
      this.update({
        items: this.state.items.map((i) =>
          i.kind === "text" && i.from === "visitor" && i.seq !== undefined && i.seq <= frame.seq ? { ...i, status: "read" } : i,
        ),
      });
    }
  }

  private setTyping(on: boolean): void {
    clearTimeout(this.typingTimer);
    if (on) this.typingTimer = setTimeout(() => this.update({ staffTyping: false }), TYPING_TIMEOUT_MS);
    this.update({ staffTyping: on });
  }
}
