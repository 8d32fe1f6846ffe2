// The device's private keys (and the MLS state of its conversations, so that a reload
// resumes them) in this browser's IndexedDB, one record per staff member and tenant, encrypted with AES-256-GCM under a non-extractable WebCrypto key of that same
// member (its bytes can never be read out by the page or by anyone copying the storage;
// OWASP ASVS 4.0 V6.4.1, V8.2.2). The record's name is the additional data, so a record
// cannot be moved to another person's slot.

import { fromUtf8, utf8 } from "../shared/util/bytes.js";
import type { Handover } from "./handover.js";
import type { OutboxItem } from "./outbox.js";

const DB = "sealdesk-console";
const KEYS = "keys";
const RECORDS = "records";

/** What the device keeps (byte strings in base64). */
export interface DeviceRecord {
  /** Set once the server registered the device. */
  deviceId?: string;
  /** Ed25519 seed (32 bytes): the MLS leaf key and the seal signer. */
  signingSeed: string;
  /** X25519 private and public key: team keys are wrapped to it. */
  wrapPrivate: string;
  wrapPublic: string;
  /** The tenant root keys pinned when the device was certified (trust on first use). */
  pinnedRoots?: string[];
  /** Private halves of the key packages published (what a Welcome is opened with). */
  keyPackages: Array<{ keyPackage: string; initPrivate: string; encryptionPrivate: string; signaturePrivate: string }>;
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error("IndexedDB request failed"));
  });
}

function openDb(): Promise<IDBDatabase> {
  const r = indexedDB.open(DB, 1);
  r.onupgradeneeded = () => {
    r.result.createObjectStore(KEYS);
    r.result.createObjectStore(RECORDS);
  };
  return request(r);
}

function tx<T>(db: IDBDatabase, store: string, mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  return request(op(db.transaction(store, mode).objectStore(store)));
}

/** A conversation's MLS state and how far the log was processed with it. */
export interface SavedGroup {
  group: string;
  cursor: number;
  /** Client ids of our recent sends: a device cannot decrypt its own messages, so it skips them. */
  sent?: string[];
  /**
   * A commit of ours not known to be sequenced (the journal): its group is adopted when the
   * log shows its client id, so a reload in between cannot fork the group.
   */
  pending?: { id: string; group: string; welcomeId: string; welcome?: string; commit?: string };
  /**
   * The Welcome of a commit of ours that was sequenced, until the server acknowledged it: sent
   * again (same client id, an idempotent send) when the conversation is next opened, so a
   * member we added (a History Member after a rotation, say) is never left without it.
   */
  welcome?: { id: string; data: string };
  /** Our messages not yet acknowledged, oldest first (outbox.ts): sent again under their ids. */
  outbox?: OutboxItem[];
  /** A Remove of the previous agent the log still asks for (handover.ts). */
  handover?: Handover;
}

export interface DeviceStore {
  load(): Promise<DeviceRecord | undefined>;
  save(record: DeviceRecord): Promise<void>;
  clear(): Promise<void>;
  loadGroup(conversation: string): Promise<SavedGroup | undefined>;
  saveGroup(conversation: string, saved: SavedGroup): Promise<void>;
  deleteGroup(conversation: string): Promise<void>;
}

/** The store of one staff member of one tenant. */
export async function openDeviceStore(tenant: string, staff: string): Promise<DeviceStore> {
  const name = `${tenant}/${staff}`;
  const db = await openDb();
  let key = (await tx(db, KEYS, "readonly", (s) => s.get(name))) as CryptoKey | undefined;
  if (key === undefined) {
    key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
    await tx(db, KEYS, "readwrite", (s) => s.put(key, name));
  }
  const aesKey = key;
  // The slot's name is the additional data: a record cannot be moved to another slot.
  const read = async (slot: string): Promise<unknown> => {
    const rec = (await tx(db, RECORDS, "readonly", (s) => s.get(slot))) as { iv: Uint8Array<ArrayBuffer>; data: ArrayBuffer } | undefined;
    if (rec === undefined) return undefined;
    const aad = new Uint8Array(utf8(`sealdesk console v1 ${slot}`));
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: rec.iv, additionalData: aad }, aesKey, rec.data);
    return JSON.parse(fromUtf8(new Uint8Array(plain))) as unknown;
  };
  const write = async (slot: string, value: unknown): Promise<void> => {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const aad = new Uint8Array(utf8(`sealdesk console v1 ${slot}`));
    const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, aesKey, new Uint8Array(utf8(JSON.stringify(value))));
    await tx(db, RECORDS, "readwrite", (s) => s.put({ iv, data }, slot));
  };
  return {
    load: async () => (await read(name)) as DeviceRecord | undefined,
    save: (record) => write(name, record),
    /** Deletes the device's keys and every conversation state it saved. */
    async clear() {
      await tx(db, RECORDS, "readwrite", (s) => s.delete(IDBKeyRange.bound(`${name}/group/`, `${name}/group/\uffff`)));
      await tx(db, RECORDS, "readwrite", (s) => s.delete(name));
    },
    loadGroup: async (conversation) => (await read(`${name}/group/${conversation}`)) as SavedGroup | undefined,
    saveGroup: (conversation, saved) => write(`${name}/group/${conversation}`, saved),
    async deleteGroup(conversation) {
      await tx(db, RECORDS, "readwrite", (s) => s.delete(`${name}/group/${conversation}`));
    },
  };
}
