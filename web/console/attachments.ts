// Attachments in the console (docs/protocol.md "Attachments", shared/files/attachment.ts):
// a file is encrypted in the browser under a fresh key, its ciphertext uploaded, and its
// reference (hash, size, key, name, type) travels inside the MLS-encrypted payload. A received
// one is shown as text (name, size, type) with a Download button: the blob is fetched, its
// size and SHA-256 checked against the reference, decrypted, and saved as a download, never
// opened in the page. An image may be previewed on request (attachment-preview.ts).

import { AttachmentError, openFile, safeFileName, sealFile } from "../shared/files/attachment.js";
import type { FileRef } from "../shared/mls/payload.js";
import { hex, humanSize } from "../widget/files.js";
import { ApiError, type ConsoleApi } from "./api.js";

/** AES-GCM's tag: the reference counts the encrypted size. */
const TAG = 16;

/** The file's own size (the reference names the encrypted blob's). */
export function plainSize(ref: FileRef): number {
  return Math.max(0, Number(ref.size) - TAG);
}

/** "receipt.txt · 22 B · text/plain": what a file line says, as text. */
export function describeFile(ref: FileRef): string {
  const type = ref.mediaType.trim() === "" ? "unknown type" : ref.mediaType;
  return `${safeFileName(ref.name)} · ${humanSize(plainSize(ref))} · ${type}`;
}

/** Fetches a file of the conversation, checks its size and SHA-256 and decrypts it. */
export async function fetchFile(api: ConsoleApi, tenant: string, conversation: string, ref: FileRef): Promise<Uint8Array> {
  return openFile(await api.downloadAttachment(tenant, conversation, hex(ref.sha256)), ref);
}

/** Fetches a file of the conversation, checks and decrypts it, and saves it as a download. */
export async function downloadFile(api: ConsoleApi, tenant: string, conversation: string, ref: FileRef): Promise<void> {
  const bytes = await fetchFile(api, tenant, conversation, ref);
  // As an opaque download: whatever the sender called its type, the page never renders it.
  const url = URL.createObjectURL(new Blob([new Uint8Array(bytes)], { type: "application/octet-stream" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = safeFileName(ref.name);
  a.rel = "noopener";
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * Encrypts and uploads a file of at most the server's limit (`max`, the encrypted size);
 * returns the reference to send. Throws AttachmentError when the file is too large.
 */
export async function uploadFile(api: ConsoleApi, tenant: string, conversation: string, file: File, max: number): Promise<FileRef> {
  if (file.size + TAG > max) throw new AttachmentError(`the file is larger than this server's limit of ${humanSize(Math.max(0, max - TAG))}`);
  const plain = new Uint8Array(await file.arrayBuffer());
  const { blob, ref } = await sealFile(plain, safeFileName(file.name), file.type === "" ? "application/octet-stream" : file.type);
  const stored = await api.uploadAttachment(tenant, conversation, blob);
  if (stored.sha256 !== hex(ref.sha256)) throw new AttachmentError("the server stored other bytes than were sent");
  return ref;
}

/** What the agent is told when a download or an upload fails. */
export function fileFailure(e: unknown, download: boolean): string {
  if (e instanceof AttachmentError) return download ? `The attachment was refused: ${e.message}.` : `Not sent: ${e.message}.`;
  const code = e instanceof ApiError ? e.code : e instanceof Error ? e.message : String(e);
  return download ? `The attachment could not be downloaded (${code}).` : `The file was not sent (${code}).`;
}
