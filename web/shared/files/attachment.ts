// Client-encrypted attachments (payload v1 `file`, shared/design/E2EE.md §2; the server stores
// opaque blobs named by their SHA-256): AES-256-GCM (NIST SP 800-38D) under a fresh random key
// and nonce per file, carried only inside the MLS-encrypted payload. The opener checks the
// blob's size and SHA-256 against the reference before decrypting, so a server cannot swap it.

import type { FileRef } from "../mls/payload.js";
import { bytesEqual } from "../util/bytes.js";

export class AttachmentError extends Error {
  override name = "AttachmentError";
}

const buf = (b: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(b);

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buf(bytes)));
}

/** Encrypts a file; the blob goes to the server, the reference into the MLS payload. */
export async function sealFile(plain: Uint8Array, name: string, mediaType: string): Promise<{ blob: Uint8Array; ref: FileRef }> {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const aes = await crypto.subtle.importKey("raw", key, "AES-GCM", false, ["encrypt"]);
  const blob = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce }, aes, buf(plain)));
  return { blob, ref: { sha256: await sha256(blob), size: BigInt(blob.length), key, nonce, name, mediaType } };
}

/** Checks a downloaded blob against its reference, then decrypts it. */
export async function openFile(blob: Uint8Array, ref: FileRef): Promise<Uint8Array> {
  if (BigInt(blob.length) !== ref.size || !bytesEqual(await sha256(blob), ref.sha256)) {
    throw new AttachmentError("the file is not the one that was sent");
  }
  const aes = await crypto.subtle.importKey("raw", buf(ref.key), "AES-GCM", false, ["decrypt"]);
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: buf(ref.nonce) }, aes, buf(blob)));
  } catch {
    throw new AttachmentError("the file could not be decrypted");
  }
}

/** A file name safe to save under: no path, no control characters, not empty. */
export function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? "";
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, "").replace(/^\.+/, "").trim().slice(0, 120);
  return clean === "" ? "attachment" : clean;
}
