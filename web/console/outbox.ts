// The live chat's outbox: our encrypted messages from the moment they are made until the
// server acknowledged them (or the log shows them), in the order they were written. It is
// saved with the conversation's group, so a lost connection or a reload never loses a reply;
// a resend uses the same client message id, which the server appends once
// (docs/protocol.md "Idempotent sends"). Pure: the unit tests run it in Node.

export interface OutboxItem {
  /** Stable while the item lives (the view's handle on its line). */
  key: string;
  /** The client message id it is sent under now (a new one after a rebuild). */
  id: string;
  /** The payload v1 bytes, base64 (shown while pending; encrypted again after `stale_epoch`). */
  payload: string;
  /** The MLS PrivateMessage, base64. */
  message: string;
  /** How often it was encrypted again after `stale_epoch`. */
  rebuilt?: number;
}

export class Outbox {
  private readonly items: OutboxItem[];

  constructor(saved: readonly OutboxItem[] = []) {
    this.items = saved.map((i) => ({ ...i }));
  }

  get size(): number {
    return this.items.length;
  }

  /** The oldest item not yet acknowledged. */
  first(): OutboxItem | undefined {
    return this.items[0];
  }

  all(): readonly OutboxItem[] {
    return this.items;
  }

  add(item: OutboxItem): void {
    if (this.items.some((i) => i.id === item.id || i.key === item.key)) throw new Error(`outbox: ${item.id} is already waiting`);
    this.items.push({ ...item });
  }

  /**
   * Delivered under `id` (acknowledged, or seen in the log): removed and returned; undefined
   * when it was not waiting (settled already by the other of the two ways).
   */
  settle(id: string): OutboxItem | undefined {
    const at = this.items.findIndex((i) => i.id === id);
    if (at < 0) return undefined;
    return this.items.splice(at, 1)[0];
  }

  /** Encrypted again under a new id (the old one was refused as too old): same place in line. */
  rebuild(id: string, nextId: string, message: string): OutboxItem {
    const item = this.items.find((i) => i.id === id);
    if (item === undefined) throw new Error(`outbox: ${id} is not waiting`);
    item.id = nextId;
    item.message = message;
    item.rebuilt = (item.rebuilt ?? 0) + 1;
    return item;
  }

  /** What is saved with the group. */
  saved(): OutboxItem[] {
    return this.items.map((i) => ({ ...i }));
  }
}
