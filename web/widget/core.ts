// The session's plumbing, shared by the log handling (log.ts) and the visitor's actions
// (session.ts): the observable state, one-at-a-time MLS operations, and saving for resume.

import { RestClient } from "../shared/protocol/rest.js";
import type { SealdeskSocket, TransportFactory } from "../shared/protocol/socket.js";
import type { TrustAnchor } from "../shared/mls/certs.js";
import type { GroupSnapshot, VisitorGroup } from "./group.js";
import type { Retrier, RetryState } from "./retry.js";
import { toJson, type Saved } from "./saved.js";
import type { StateStore } from "./store.js";
import { initialState, type ChatItem, type FileRefJson, type WidgetState } from "./state.js";

export interface SessionOptions {
  server: string;
  tenant: string;
  team: string;
  anchor: TrustAnchor;
  transport: TransportFactory;
  /** The customer's identity token from the page (identified visitors), if any. */
  identityToken?: string;
  /** Where the conversation is saved to resume after a reload (none: nothing is kept). */
  store?: StateStore | null;
  /** Takes the one-tab-per-inbox lock; false when another tab has the widget. */
  lock?: () => Promise<boolean>;
}

export abstract class SessionCore {
  state: WidgetState = initialState();
  protected readonly listeners = new Set<(s: WidgetState) => void>();
  protected readonly rest: RestClient;
  protected socket: SealdeskSocket | undefined;
  protected group: VisitorGroup | undefined;
  protected starting: Promise<VisitorGroup> | undefined;
  protected mlsQueue: Promise<unknown> = Promise.resolve();
  protected lastSeq = 0;
  protected lastReadSent = 0;
  protected closedForGood = false;
  protected locked = false;
  /** The visitor's key from the first ticket: later tickets (reconnects) are for the same visitor. */
  protected visitorKey: string | undefined;
  protected visitor: RestClient | undefined;
  protected typingTimer: ReturnType<typeof setTimeout> | undefined;
  protected itemCounter = 0;
  /** Item keys must not collide with those of a transcript restored from an earlier page. */
  protected readonly keyPrefix = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, "0")).join("");
  protected saving: Promise<unknown> = Promise.resolve();
  /** Where a reconnection after a lost connection stands (null: connected, or not trying). */
  reconnecting: RetryState | null = null;
  protected retrier: Retrier<SealdeskSocket> | undefined;

  constructor(protected readonly options: SessionOptions) {
    this.rest = new RestClient(options.server);
  }

  subscribe(listener: (s: WidgetState) => void): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  /** The visitor's "Retry now": the waiting reconnection tries at once. */
  retryNow(): void {
    this.retrier?.now();
  }

  protected update(change: Partial<WidgetState>): void {
    this.state = { ...this.state, ...change };
    for (const l of this.listeners) l(this.state);
  }

  protected push(item: ChatItem): void {
    this.update({ items: [...this.state.items, item] });
  }

  protected nextKey(prefix: string): string {
    this.itemCounter += 1;
    return `${prefix}${this.keyPrefix}-${this.itemCounter}`;
  }

  protected setItem(key: string, change: { status: "sent" | "failed"; seq?: number; ref?: FileRefJson }): void {
    this.update({ items: this.state.items.map((i) => (i.key === key && (i.kind === "text" || i.kind === "file") ? { ...i, ...change } : i)) });
  }

  /** Runs MLS operations one at a time (the log loop and sends share one group state). */
  protected exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.mlsQueue.then(fn, fn);
    this.mlsQueue = run.catch(() => undefined);
    return run;
  }

  /** Saves the conversation (in order: a later save never loses to an earlier one). */
  protected persist(snapshot?: GroupSnapshot): Promise<void> {
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
}
