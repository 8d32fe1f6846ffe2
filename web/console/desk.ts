// The agent's desk (availability is in availability.ts): the team queue with a History Member preview of each
// conversation, claiming, and the end-to-end encrypted chat. Every name and message is
// rendered as text (dom.ts).

import type { ConversationView, PrechatField } from "../shared/protocol/types.js";
import { SocketError } from "../shared/protocol/socket.js";
import { fromBase64, toBase64 } from "../shared/util/bytes.js";
import { type ConsoleApi, type StaffInfo } from "./api.js";
import { downloadFile, fileFailure, uploadFile } from "./attachments.js";
import { LiveChat, OpenElsewhereError } from "./chat.js";
import { ConnectionView } from "./connection-view.js";
import { bundleOf, type ReadyDevice } from "./device.js";
import { byId, el, show } from "./dom.js";
import { Inbox } from "./inbox.js";
import { addLine, addPending, failPending, onDownload, settlePending, visitorName, whoText } from "./lines.js";
import type { DeviceRecord, DeviceStore } from "./keystore.js";
import { replayHistory } from "./preview.js";
import { Rekeyer } from "./desk-rekey.js";
import { R, T } from "./strings.js";
import { fillColleagues, myDeviceKeys, transferFailure, transferTarget, transferTo, transferToTeam } from "./transfer.js";

/** The History Member re-key's pass over one's conversations (no request unless one is due). */
const REKEY_MS = 2_000;
const SUPERVISING_ROLES = ["supervisor", "admin", "owner"];
const ADD_ATTEMPTS = 4;
/** The device's team key wraps are read again every this many re-key passes (a rotation's rewrap). */
const WRAPS_EVERY = 5;

export class Desk {
  /** The lists, kept live by the desk's staff WebSocket (inbox.ts). */
  private readonly inbox: Inbox;
  /** One's own assigned conversations, as last loaded (the re-key passes go over them). */
  private mine: ConversationView[] | undefined;
  private readonly fieldLabels = new Map<string, Map<string, string>>();
  private selected: ConversationView | undefined;
  /** The last seq the open view shows (from its History Member replay). */
  private shownUpTo = 0;
  private chat: LiveChat | undefined;
  /** The conversation being opened (its preview and chat not set up yet): re-keys wait. */
  private opening: string | undefined;
  private readonly conn = new ConnectionView();
  private timer: number | undefined;
  private typingTimer: number | undefined;
  private mineCount = -1;
  private polls = 0;
  /** The History Member re-key after a team key rotation (rekey.ts): one pass at a time. */
  private rekeying = false;
  private stopped = false;
  private readonly rekeyer: Rekeyer;

  constructor(
    private readonly api: ConsoleApi,
    private readonly me: StaffInfo,
    private readonly device: ReadyDevice,
    private readonly store: DeviceStore,
    private readonly record: DeviceRecord,
    private readonly confirmLink: (url: string) => void,
    /** The server no longer knows the session (expired, revoked, logged out elsewhere). */
    private readonly sessionEnded: () => void,
    /** One's own conversations changed in number (the router's count moved). */
    private readonly mineChanged: () => void = () => undefined,
  ) {
    this.rekeyer = new Rekeyer(api, device, store, record, me, {
      chat: () => this.chat, opening: () => this.opening, selected: () => this.selected?.id,
      alert: (text) => this.alert(text), refresh: () => void this.refresh(), stopped: () => this.stopped,
      forget: (kp) => this.forget(kp),
    });
    this.inbox = new Inbox(api, me, device, {
      selected: () => this.selected?.id,
      pick: (c) => void this.select(c),
      fresh: (c) => this.fresh(c),
      missing: (id) => void this.missing(id),
      mine: (list) => {
        this.mine = list;
        if (list.length !== this.mineCount) {
          this.mineCount = list.length;
          this.mineChanged();
        }
      },
      sessionEnded: () => {
        this.stop();
        this.sessionEnded();
      },
    });
  }

  private get supervises(): boolean {
    return SUPERVISING_ROLES.includes(this.me.role);
  }

  start(): void {
    show(byId("team-title"), this.supervises);
    show(byId("team"), this.supervises);
    byId("join").addEventListener("click", () => void this.join());
    byId("leave").addEventListener("click", () => void this.leave());
    byId("transfer").addEventListener("click", () => void this.transfer());
    byId("claim").addEventListener("click", () => void this.claim());
    byId("close").addEventListener("click", () => void this.closeConversation());
    const reply = byId<HTMLTextAreaElement>("reply");
    byId<HTMLFormElement>("composer").addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.send();
    });
    reply.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey) {
        ev.preventDefault();
        void this.send();
      }
    });
    const attach = byId<HTMLInputElement>("attach-input");
    byId("attach").addEventListener("click", () => attach.click());
    attach.addEventListener("change", () => {
      const file = attach.files?.[0];
      attach.value = "";
      if (file !== undefined) void this.sendFile(file);
    });
    reply.addEventListener("input", () => {
      this.chat?.typing(true);
      window.clearTimeout(this.typingTimer);
      this.typingTimer = window.setTimeout(() => this.chat?.typing(false), 3_000);
    });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.chat?.read();
    });
    this.inbox.start();
    this.timer = window.setInterval(() => this.rekeyPass(), REKEY_MS);
  }

  stop(): void {
    this.stopped = true;
    window.clearInterval(this.timer);
    this.inbox.stop();
    this.chat?.stop();
  }

  private refresh(): Promise<void> {
    return this.inbox.refresh();
  }

  /** One re-key pass over one's conversations (one at a time); the key wraps every few. */
  private rekeyPass(): void {
    const mine = this.mine;
    if (mine === undefined || this.rekeying || this.stopped) return;
    this.rekeying = true;
    void this.rekeyer.pass(mine, this.polls++ % WRAPS_EVERY === 0).finally(() => (this.rekeying = false));
  }

  /** The open conversation as the lists just loaded it: a change of state shows. */
  private fresh(c: ConversationView): void {
    const sel = this.selected;
    if (sel === undefined || sel.id !== c.id || (c.state === sel.state && c.assignee === sel.assignee)) return;
    this.selected = c;
    // Moved to a colleague or back to the queue: no longer ours to write (a supervisor keeps it).
    const chat = this.chat;
    if (chat?.conversation === c.id && c.state !== "closed" && c.assignee !== this.me.id && !this.supervises) void chat.release();
    this.renderHead();
    if (c.state === "closed" && sel.state !== "closed") this.ended();
  }

  /** The open conversation is in none of the lists: a queued one a colleague claimed. */
  private async missing(id: string): Promise<void> {
    const sel = this.selected;
    if (sel?.id !== id || sel.state !== "queued") return;
    try {
      this.fresh(await this.api.conversation(sel.tenant_id, id));
    } catch {
      if (this.selected !== sel) return;
      this.selected = { ...sel, state: "assigned" };
      this.renderHead();
      this.alert("A colleague took this conversation.");
    }
  }

  private alert(text: string): void {
    byId("conv-alert").textContent = text;
  }

  /** The open conversation was closed (here, by the visitor or by a colleague). */
  private ended(text = "This conversation is closed."): void {
    this.chat?.stop();
    this.chat = undefined;
    this.conn.clear();
    this.setComposer(false);
    byId("typing").textContent = text;
  }

  private async labelsFor(c: ConversationView): Promise<Map<string, string>> {
    let labels = this.fieldLabels.get(c.team_id);
    if (labels === undefined) {
      let fields: PrechatField[] = [];
      try {
        fields = (await this.api.widgetConfig(c.tenant_id, c.team_id)).prechat_fields ?? [];
      } catch {
        // Field names are shown instead of labels.
      }
      labels = new Map(fields.map((f) => [f.name, f.label]));
      this.fieldLabels.set(c.team_id, labels);
    }
    return labels;
  }

  private async select(c: ConversationView): Promise<void> {
    this.opening = c.id;
    try {
      await this.open(c);
    } finally {
      if (this.opening === c.id) this.opening = undefined;
    }
  }

  private async open(c: ConversationView): Promise<void> {
    // A re-key committing through the open view finishes (commit and Welcome) before it closes.
    const leaving = this.chat === undefined ? undefined : this.rekeyer.busy.get(this.chat.conversation);
    if (leaving !== undefined) {
      byId("typing").textContent = R.rekeyFinishing;
      await leaving;
    }
    this.chat?.stop();
    this.chat = undefined;
    this.conn.clear();
    this.selected = c;
    this.shownUpTo = 0;
    show(byId("conv-empty"), false);
    show(byId("conv"), true);
    this.alert("");
    byId("log").replaceChildren();
    byId("prechat").replaceChildren();
    onDownload(async (ref) => {
      try {
        await downloadFile(this.api, c.tenant_id, c.id, ref);
      } catch (e) {
        if (this.selected?.id === c.id) this.alert(fileFailure(e, true));
      }
    });
    byId("typing").textContent = "";
    this.setComposer(false);
    this.renderHead();
    await this.rekeyer.busy.get(c.id);
    const p = await this.inbox.previewOf(c, true);
    if (this.selected !== c) return;
    if (p === undefined) {
      // One's own with this device's group saved (taken from another team, its History Member
      // not re-keyed for this team yet, say): live from the group, without what came before.
      const own = c.state === "assigned" && c.assignee === this.me.id && (await this.store.loadGroup(c.id)) !== undefined;
      this.alert(own ? R.noReplay : "This conversation could not be decrypted with the team key on this device.");
      if (own && this.selected === c) await this.openLive(c, 0);
      return;
    }
    this.shownUpTo = p.last;
    byId("conv-title").textContent = visitorName(p.lines, "Visitor");
    const labels = await this.labelsFor(c);
    for (const l of p.lines) addLine(l, l.mine === true, labels, this.confirmLink);
    if (p.failed > 0) this.alert(`${p.failed} message(s) could not be verified and are not shown.`);
    else if (p.unreadable > 0) this.alert(R.unreadable(p.unreadable));
    if (c.state === "assigned" && c.assignee === this.me.id) await this.openLive(c, p.last);
    // A supervisor who joined earlier resumes from the saved group.
    else if (c.state === "assigned" && (await this.store.loadGroup(c.id)) !== undefined) await this.openLive(c, p.last);
  }

  private renderHead(): void {
    const c = this.selected;
    if (c === undefined) return;
    show(byId("claim"), c.state === "queued");
    show(byId("join"), this.supervises && c.state === "assigned" && c.assignee !== this.me.id && this.chat === undefined);
    show(byId("leave"), c.state === "assigned" && c.assignee !== this.me.id && this.chat?.joined === true);
    const canTransfer = c.state === "assigned" && c.assignee === this.me.id && this.chat?.joined === true;
    show(byId("transfer-box"), canTransfer);
    if (canTransfer) void fillColleagues(this.api, c, this.me).catch(() => undefined);
    show(byId("close"), c.state === "assigned" && c.assignee === this.me.id);
  }

  private setComposer(on: boolean): void {
    byId<HTMLTextAreaElement>("reply").disabled = !on;
    byId<HTMLButtonElement>("send").disabled = !on;
    byId<HTMLButtonElement>("attach").disabled = !on;
  }

  private async openLive(c: ConversationView, shownUpTo: number, waiting = "Waiting for the visitor's browser to add this device…"): Promise<void> {
    const labels = await this.labelsFor(c);
    byId("typing").textContent = waiting;
    const chat = new LiveChat(c.id, this.device, () => this.record.keyPackages.map(bundleOf), async (kp) => this.forget(kp), this.store, shownUpTo, {
      line: (l, mine) => {
        addLine(l, mine, labels, this.confirmLink);
        if (!mine && document.visibilityState === "visible") chat.read();
      },
      joined: (welcomeSeq) => {
        window.setTimeout(() => this.renderHead(), 0);
        if (welcomeSeq !== undefined && welcomeSeq > shownUpTo + 1) void this.fillGap(c, shownUpTo, welcomeSeq, labels);
        byId("typing").textContent = "";
        this.setComposer(true);
        this.renderMembers(chat);
        byId<HTMLTextAreaElement>("reply").focus();
      },
      membersChanged: () => this.renderMembers(chat),
      typing: (on) => (byId("typing").textContent = on ? "The visitor is typing…" : ""),
      read: () => undefined,
      problem: (text) => this.alert(text),
      supervisorJoined: (staff) => {
        if (c.assignee === this.me.id) void this.addSupervisor(chat, c, staff);
      },
      leaveRequested: (leaf) => {
        if (c.assignee === this.me.id) void this.retried(() => chat.removeLeaf(leaf), "A supervisor could not be removed");
      },
      handover: (to) => {
        if (to !== this.me.id) return;
        void this.retried(async () => {
          await chat.removePreviousAgents(to, await myDeviceKeys(this.api));
        }, "The previous agent could not be removed");
      },
      removed: () => {
        if (this.selected?.id !== c.id) return;
        this.ended("This device is no longer in the conversation.");
        this.renderHead();
      },
      closed: (byVisitor) => {
        if (this.selected?.id !== c.id) return;
        this.selected = { ...c, state: "closed" };
        this.renderHead();
        this.ended(byVisitor ? "The visitor ended the conversation." : "This conversation is closed.");
        void this.refresh();
      },
      connection: (state) => {
        if (this.chat !== chat) return;
        this.conn.show(state);
        // Given up for good, or no longer ours: the chat lets go of the conversation (and of
        // its Web Lock); no resubscription.
        if (state.kind === "ended" || state.kind === "lost_access") {
          chat.stop();
          this.chat = undefined;
          this.setComposer(false);
        }
        if (state.kind === "lost_access") {
          byId("typing").textContent = "";
          this.renderHead();
          void this.refresh();
        }
      },
      // Replies of a chat no longer on the screen (another conversation opened) stay off it.
      outgoing: (key, body) => {
        if (this.chat === chat) addPending(key, body, this.confirmLink);
      },
      delivered: (key, line) => {
        if (this.chat !== chat) return;
        settlePending(key);
        addLine(line, true, labels, this.confirmLink);
      },
      undelivered: (key, reason) => {
        if (this.chat !== chat) return;
        failPending(key, reason);
        this.alert(`Not sent (${reason}).`);
      },
    }, { retryFirst: true });
    this.chat = chat;
    try {
      await chat.start();
    } catch (e) {
      this.alert(e instanceof OpenElsewhereError ? "This conversation is open in another tab of this browser: continue there." : `The live connection failed (${codeOf(e)}).`);
    }
  }

  /**
   * What was written after the preview and before this device was added cannot be decrypted
   * by it (it was not a member yet): the History Member replay fills that gap.
   */
  private async fillGap(c: ConversationView, after: number, before: number, labels: Map<string, string>): Promise<void> {
    try {
      const r = await replayHistory(this.api, c.tenant_id, c.team_id, c.id, this.device);
      if (this.selected?.id !== c.id) return;
      for (const l of r.lines) if (l.seq > after && l.seq < before) addLine(l, l.mine === true, labels, this.confirmLink);
    } catch {
      this.alert("Messages written before you joined could not be decrypted.");
    }
  }

  private renderMembers(chat: LiveChat): void {
    void chat.members().then((members) => {
      const items = members.map(({ who, self }) => {
        const li = el("li", who.kind === "unverified" ? "unverified" : who.kind === "staff" ? "verified" : "", self ? "You" : whoText(who));
        li.dataset.role = who.kind === "staff" ? who.role : who.kind;
        return li;
      });
      byId("members").replaceChildren(...items);
      if (members.some((m) => m.who.kind === "unverified")) {
        this.alert("A participant's certificate does not check against your workspace's root key. Do not share anything until an administrator looked at it.");
        this.setComposer(false);
      }
    });
  }

  /** A used key package's private half is deleted (single use, RFC 9420 §16.8). */
  private async forget(kp: Uint8Array): Promise<void> {
    const b64 = toBase64(kp);
    this.record.keyPackages = this.record.keyPackages.filter((k) => k.keyPackage !== b64);
    await this.store.save(this.record);
  }

  /**
   * The assignee's console adds a supervisor who joined (shared/design/E2EE.md §5.5): its
   * devices' key packages, each checked for a supervisor certificate, in one commit.
   */
  private async addSupervisor(chat: LiveChat, c: ConversationView, staff: string): Promise<void> {
    await this.retried(async () => {
      const { key_packages } = await this.api.takeKeyPackages(c.tenant_id, c.id, staff);
      await chat.addStaffDevices(key_packages.map((k) => fromBase64(k.key_package)), ["supervisor"]);
    }, "A supervisor could not be added");
  }

  /** A membership commit, tried again when another commit won the epoch (stale_epoch). */
  private async retried(op: () => Promise<void>, failure: string): Promise<void> {
    for (let attempt = 1; attempt <= ADD_ATTEMPTS; attempt++) {
      try {
        await op();
        return;
      } catch (e) {
        if (attempt === ADD_ATTEMPTS || !(e instanceof SocketError)) {
          this.alert(`${failure} (${codeOf(e)}).`);
          return;
        }
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
  }

  private async transfer(): Promise<void> {
    const c = this.selected;
    const select = byId<HTMLSelectElement>("transfer-to");
    const to = transferTarget(select.value);
    if (c === undefined || this.chat === undefined || to === undefined) return;
    this.alert("");
    try {
      if ("team" in to) await transferToTeam(this.api, c, to.team, this.device);
      else await transferTo(this.api, this.chat, c, to.agent);
      // The conversation is no longer ours to read: this device's copy goes now.
      await this.store.deleteGroup(c.id);
      if ("agent" in to) {
        this.selected = { ...c, assignee: to.agent };
        this.renderHead();
      } else {
        // In another team's queue: nothing here to claim, join or close.
        for (const id of ["claim", "join", "leave", "transfer-box", "close"]) show(byId(id), false);
        this.selected = undefined;
      }
      this.ended("agent" in to ? T.toColleague : T.toTeam(select.selectedOptions[0]?.textContent ?? ""));
      void this.refresh();
    } catch (e) {
      this.alert(transferFailure(codeOf(e)));
    }
  }

  /** A supervisor leaves: an authenticated request the assignee's console turns into a Remove. */
  private async leave(): Promise<void> {
    try {
      await this.chat?.leave();
      byId("typing").textContent = "Leaving: the agent's console removes this device…";
      show(byId("leave"), false);
    } catch (e) {
      this.alert(`Not left (${codeOf(e)}).`);
    }
  }

  /** A supervisor joins a colleague's conversation; the assignee's console adds this device. */
  private async join(): Promise<void> {
    const c = this.selected;
    if (c === undefined) return;
    try {
      await this.api.join(c.tenant_id, c.id);
      await this.openLive(c, this.shownUpTo, "Waiting for the agent's console to add this device…");
      this.renderHead();
    } catch (e) {
      this.alert(`Not joined (${codeOf(e)}).`);
    }
  }

  private async claim(): Promise<void> {
    const c = this.selected;
    if (c === undefined) return;
    try {
      const claimed = await this.api.claim(c.tenant_id, c.id);
      this.selected = claimed;
      this.renderHead();
      await this.openLive(claimed, this.shownUpTo);
      void this.refresh();
    } catch (e) {
      this.alert(`Not claimed (${codeOf(e)}).`);
    }
  }

  private async closeConversation(): Promise<void> {
    const c = this.selected;
    if (c === undefined) return;
    try {
      this.selected = await this.api.close(c.tenant_id, c.id);
      this.renderHead();
      this.ended();
      void this.refresh();
    } catch (e) {
      this.alert(`Not closed (${codeOf(e)}).`);
    }
  }

  /** A file from the composer: encrypted here, uploaded, its reference sent in the group. */
  private async sendFile(file: File): Promise<void> {
    const c = this.selected;
    const chat = this.chat;
    if (c === undefined || chat === undefined || !chat.joined) return;
    this.alert("");
    try {
      const max = (await this.api.widgetConfig(c.tenant_id, c.team_id)).attachment_max;
      await chat.sendFile(await uploadFile(this.api, c.tenant_id, c.id, file, max));
    } catch (e) {
      if (this.selected?.id === c.id) this.alert(fileFailure(e, false));
    }
  }

  private async send(): Promise<void> {
    const reply = byId<HTMLTextAreaElement>("reply");
    const text = reply.value.trim();
    if (text === "" || this.chat === undefined || !this.chat.joined) return;
    reply.value = "";
    this.chat.typing(false);
    try {
      await this.chat.say(text);
    } catch (e) {
      reply.value = text;
      this.alert(`Not sent (${codeOf(e)}).`);
    }
  }
}

export function codeOf(e: unknown): string {
  if (e !== null && typeof e === "object" && "code" in e && typeof e.code === "string") return e.code;
  return e instanceof Error ? e.message : String(e);
}
