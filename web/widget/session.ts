// The visitor's side of a conversation, without any DOM: configuration and consent, the
// prechat form, the ticket and conversation, sending texts and files, resuming after a
// reload. The log loop is log.ts, the plumbing core.ts, the MLS group group.ts. The view
// (ui.ts) only renders `state` and calls the methods below; the unit tests drive this class
// in Node.

import { openFile, sealFile } from "../shared/files/attachment.js";
import { ApiError } from "../shared/protocol/rest.js";
import { newClientId, SealdeskSocket } from "../shared/protocol/socket.js";
import type { WidgetConfig } from "../shared/protocol/types.js";
import { fromBase64 } from "../shared/util/bytes.js";
import { hex, refFromJson, refToJson } from "./files.js";
import { TrustError, VisitorGroup } from "./group.js";
import { SessionLog } from "./log.js";
import { fromJson, type Saved } from "./saved.js";
import { serverAgrees, uuidBytes } from "./trust.js";

export type { SessionOptions } from "./core.js";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export class VisitorSession extends SessionLog {
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
      tenantName: config.tenant_name, teamName: config.team_name, notice, fields, attachmentMax: config.attachment_max,
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
    const clientId = newClientId("v");
    this.push({ key, kind: "text", from: "visitor", author: "", text: trimmed, at: Date.now(), status: "sending", clientId });
    try {
      const group = await this.ensureGroup();
      if (this.state.blocked !== null) throw new Error("blocked");
      const seq = await this.exclusive(() => group.send({ kind: "text", text: trimmed }, clientId));
      this.setItem(key, { status: "sent", seq });
      void this.persist();
      return true;
    } catch {
      this.setItem(key, { status: "failed" });
      return false;
    }
  }

  /** Encrypts a file in the browser, uploads the ciphertext, and sends its reference (payload v1 `file`). */
  async sendFile(name: string, mediaType: string, bytes: Uint8Array): Promise<boolean> {
    if (this.state.blocked !== null || this.state.phase !== "chat") return false;
    if (bytes.length + 16 > this.state.attachmentMax) {
      this.update({ error: "file_too_large" });
      return false;
    }
    const key = this.nextKey("f");
    const clientId = newClientId("f");
    this.push({ key, kind: "file", from: "visitor", author: "", name, size: bytes.length, at: Date.now(), status: "sending", clientId });
    try {
      const group = await this.ensureGroup();
      if (this.state.blocked !== null || this.visitor === undefined) throw new Error("blocked");
      const { blob, ref } = await sealFile(bytes, name, mediaType);
      await this.visitor.uploadVisitorAttachment(group.conversation, blob);
      const seq = await this.exclusive(() => group.send({ kind: "file", file: ref }, clientId));
      this.setItem(key, { status: "sent", seq, ref: refToJson(ref) });
      void this.persist();
      return true;
    } catch {
      this.setItem(key, { status: "failed" });
      return false;
    }
  }

  /** Fetches, checks and decrypts an attachment of the transcript; null if it cannot. */
  async openAttachment(key: string): Promise<{ name: string; bytes: Uint8Array } | null> {
    try {
      return await this.fetchAttachment(key);
    } catch {
      this.update({ error: "file_unreadable" });
      return null;
    }
  }

  /**
   * The decrypted bytes of a file for its image preview (checked like a download), or null;
   * a failure is not the visitor's concern here (no preview, the download still tells).
   */
  async previewBytes(key: string): Promise<Uint8Array | null> {
    try {
      return (await this.fetchAttachment(key))?.bytes ?? null;
    } catch {
      return null;
    }
  }

  /** Fetches a file of the conversation, checks its size and SHA-256 and decrypts it. */
  private async fetchAttachment(key: string): Promise<{ name: string; bytes: Uint8Array } | null> {
    const item = this.state.items.find((i) => i.key === key);
    if (item?.kind !== "file" || item.ref === undefined || this.group === undefined || this.visitor === undefined) return null;
    const ref = refFromJson(item.ref);
    const blob = await this.visitor.downloadVisitorAttachment(this.group.conversation, hex(ref.sha256));
    return { name: ref.name, bytes: await openFile(blob, ref) };
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

  /**
   * "Delete this conversation" (GDPR art. 17): the server closes it and deletes it at its next
   * retention sweep; this browser forgets it at once (its encrypted record included).
   */
  async deleteChat(): Promise<boolean> {
    if (this.group === undefined || this.visitor === undefined) return false;
    try {
      await this.visitor.requestErasure(this.group.conversation);
    } catch {
      this.update({ error: "network" });
      return false;
    }
    this.socket?.close();
    await this.options.store?.clear().catch(() => undefined);
    this.update({ phase: "closed", items: [], answers: [], members: [], deleted: true });
    return true;
  }

  /** Whether there is a conversation to end. */
  get hasConversation(): boolean {
    return this.group !== undefined;
  }

  /** Ends the session on this page: a reconnection under way stops, the socket closes. */
  close(): void {
    this.retrier?.stop();
    this.socket?.close();
  }

  protected ensureGroup(): Promise<VisitorGroup> {
    this.starting ??= this.begin().catch((e: unknown) => {
      this.starting = undefined;
      throw e;
    });
    return this.starting;
  }

  /** Ticket, conversation (with consent), socket, group with the History Member, prechat. */
  protected async begin(): Promise<VisitorGroup> {
    this.update({ starting: true, error: null });
    try {
      const { tenant, team, anchor } = this.options;
      const ticket = await this.rest.ticket(tenant, team, undefined, this.options.identityToken);
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

  /** After a reload: a ticket for the same visitor, the saved group, the log after the last entry. */
  protected async resume(saved: Saved): Promise<VisitorGroup> {
    this.update({ starting: true, error: null });
    try {
      const ticket = await this.rest.ticket(this.options.tenant, this.options.team, saved.visitorKey, this.options.identityToken);
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
}
