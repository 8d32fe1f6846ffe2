// The widget's saved state in the host page's IndexedDB, so that a reload resumes the
// conversation on the same browser: one record per inbox, encrypted with AES-256-GCM under a
// non-extractable WebCrypto key kept in the same database (its bytes can never be read out,
// by the page or anyone copying the storage; OWASP ASVS 4.0 V6.4.1, V8.2.2). The inbox id is
// the additional data, so a record cannot be moved to another inbox.

import { fromUtf8, utf8 } from "../shared/util/bytes.js";

const DB = "sealdesk-widget";
const KEYS = "keys";
const STATES = "states";

export interface StateStore {
  load(): Promise<unknown>;
  save(value: unknown): Promise<void>;
  clear(): Promise<void>;
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
    r.result.createObjectStore(STATES);
  };
  return request(r);
}

async function tx<T>(db: IDBDatabase, store: string, mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  return request(op(db.transaction(store, mode).objectStore(store)));
}

/** The inbox's encrypted record store, or null where IndexedDB or WebCrypto is missing. */
export async function openStateStore(inbox: string): Promise<StateStore | null> {
  if (typeof indexedDB === "undefined" || crypto.subtle === undefined) return null;
  const db = await openDb();
  let key = (await tx(db, KEYS, "readonly", (s) => s.get("state"))) as CryptoKey | undefined;
  if (key === undefined) {
    key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
    await tx(db, KEYS, "readwrite", (s) => s.put(key, "state"));
  }
  const aesKey = key;
  const aad = new Uint8Array(utf8(`sealdesk widget state v1 ${inbox}`));
  return {
    async load() {
      const record = (await tx(db, STATES, "readonly", (s) => s.get(inbox))) as { iv: Uint8Array<ArrayBuffer>; data: ArrayBuffer } | undefined;
      if (record === undefined) return undefined;
      try {
        const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: record.iv, additionalData: aad }, aesKey, record.data);
        return JSON.parse(fromUtf8(new Uint8Array(plain))) as unknown;
      } catch {
        return undefined; // A record we cannot open is as good as none.
      }
    },
    async save(value) {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, aesKey, new Uint8Array(utf8(JSON.stringify(value))));
      await tx(db, STATES, "readwrite", (s) => s.put({ iv, data }, inbox));
    },
    async clear() {
      await tx(db, STATES, "readwrite", (s) => s.delete(inbox));
    },
  };
}

/**
 * Runs `body` while holding the inbox's Web Lock (one widget per inbox across tabs); returns
 * false at once if another tab holds it. The lock is kept for the page's lifetime.
 */
export async function holdInboxLock(inbox: string): Promise<boolean> {
  if (typeof navigator === "undefined" || navigator.locks === undefined) return true;
  return new Promise<boolean>((resolve) => {
    void navigator.locks.request(`sealdesk-widget:${inbox}`, { ifAvailable: true }, (lock) => {
      resolve(lock !== null);
      // Held until the page goes away.
      return lock === null ? undefined : new Promise<void>(() => undefined);
    });
  });
}
