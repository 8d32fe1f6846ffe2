// Attachments in the widget: FileRef ⇄ JSON for the transcript state, and the item a file
// payload becomes. The crypto is shared/files/attachment.ts.

import type { FileRef } from "../shared/mls/payload.js";
import { fromBase64, toBase64 } from "../shared/util/bytes.js";
import type { FileRefJson } from "./state.js";

export function refToJson(r: FileRef): FileRefJson {
  return {
    sha256: toBase64(r.sha256), size: r.size.toString(), key: toBase64(r.key), nonce: toBase64(r.nonce), name: r.name, mediaType: r.mediaType,
  };
}

export function refFromJson(j: FileRefJson): FileRef {
  return {
    sha256: fromBase64(j.sha256), size: BigInt(j.size), key: fromBase64(j.key), nonce: fromBase64(j.nonce), name: j.name, mediaType: j.mediaType,
  };
}

export const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** "12 KB"-style size for people. */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
