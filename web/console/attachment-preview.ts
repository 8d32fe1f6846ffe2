// Image previews of attachments in the console. Only when the agent asks ("Show preview"):
// fetching every image as it arrives would tell a visitor when an agent looks at the
// conversation. The blob is fetched, its size and SHA-256 checked and decrypted as for a
// download (attachments.ts); then the decrypted bytes decide, never the declared type or
// name: only PNG, JPEG, GIF and WebP, recognised by their signature (WHATWG MIME Sniffing
// §6.1, "Matching an image type pattern"), never SVG (a document that can carry script), at
// most MAX_PREVIEW_BYTES, and decoded first with createImageBitmap to check the pixel count
// before an <img> shows it (a small file can decode to a huge bitmap: OWASP ASVS v5.0.0-5.2.1,
// 5.2.2, file size and content checks). The <img> reads a blob: URL typed with the sniffed
// type; the URL is revoked once the image has loaded, and any left when the view changes
// (revokePreviews). The console's CSP allows `img-src 'self' data: blob:`.

import { safeFileName } from "../shared/files/attachment.js";
import type { FileRef } from "../shared/mls/payload.js";
import { el } from "./dom.js";

/** Largest decrypted file shown as a preview. */
export const MAX_PREVIEW_BYTES = 5 * 1024 * 1024;
/** Largest decoded image shown as a preview (width × height). */
export const MAX_PREVIEW_PIXELS = 25_000_000;
/** Largest side of a decoded image shown as a preview. */
export const MAX_PREVIEW_SIDE = 16_384;

export type PreviewType = "image/png" | "image/jpeg" | "image/gif" | "image/webp";

const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));
const startsWith = (b: Uint8Array, sig: number[], at = 0): boolean => b.length >= at + sig.length && sig.every((v, i) => b[at + i] === v);

/** The image type the bytes' signature names (WHATWG MIME Sniffing §6.1), or undefined. */
export function sniffImage(bytes: Uint8Array): PreviewType | undefined {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (startsWith(bytes, ascii("GIF87a")) || startsWith(bytes, ascii("GIF89a"))) return "image/gif";
  if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBPVP"), 8)) return "image/webp";
  return undefined;
}

/** Whether a file line offers "Show preview": its sender says it is an image (a hint only). */
export function mayPreview(ref: FileRef): boolean {
  const type = ref.mediaType.trim().toLowerCase();
  const name = safeFileName(ref.name).toLowerCase();
  return type.startsWith("image/") || /\.(png|jpe?g|gif|webp)$/.test(name);
}

export class PreviewRefused extends Error {
  override name = "PreviewRefused";
}

/** What may be shown: the sniffed type and the decoded size. Throws PreviewRefused otherwise. */
export async function checkImage(bytes: Uint8Array, decode: (b: Blob) => Promise<{ width: number; height: number; close(): void }> = createImageBitmap): Promise<{ blob: Blob; width: number; height: number }> {
  if (bytes.length > MAX_PREVIEW_BYTES) throw new PreviewRefused("larger than 5 MiB");
  const type = sniffImage(bytes);
  if (type === undefined) throw new PreviewRefused("not a PNG, JPEG, GIF or WebP image");
  const blob = new Blob([new Uint8Array(bytes)], { type });
  let bitmap;
  try {
    bitmap = await decode(blob);
  } catch {
    throw new PreviewRefused("the image does not decode");
  }
  const { width, height } = bitmap;
  bitmap.close();
  if (width === 0 || height === 0) throw new PreviewRefused("the image has no pixels");
  if (width > MAX_PREVIEW_SIDE || height > MAX_PREVIEW_SIDE || width * height > MAX_PREVIEW_PIXELS) {
    throw new PreviewRefused("the image is too large to preview");
  }
  return { blob, width, height };
}

/** Blob URLs of previews not yet loaded. */
const live = new Set<string>();

/** Revokes every preview URL still held (the conversation on the screen changed). */
export function revokePreviews(): void {
  for (const url of live) URL.revokeObjectURL(url);
  live.clear();
}

/** Fetches, checks and decrypts a file of the conversation on the screen (set by staff-content.ts). */
let fetchFile: ((ref: FileRef) => Promise<Uint8Array>) | undefined;

export function onFetchFile(fn: ((ref: FileRef) => Promise<Uint8Array>) | undefined): void {
  fetchFile = fn;
}

/** The "Show preview" button and where the preview goes, for a file line; nothing for other files. */
export function previewControls(ref: FileRef): HTMLElement[] {
  if (!mayPreview(ref)) return [];
  const name = safeFileName(ref.name);
  const button = el("button", "show-preview", "Show preview");
  button.type = "button";
  button.setAttribute("aria-label", `Show a preview of ${name}`);
  const slot = el("div", "preview-slot");
  const status = el("p", "muted small preview-status");
  status.setAttribute("role", "status");
  button.addEventListener("click", () => {
    const fetch = fetchFile;
    if (fetch === undefined) return;
    button.disabled = true;
    status.textContent = "Decrypting…";
    void (async () => {
      try {
        const { blob, width, height } = await checkImage(await fetch(ref));
        const url = URL.createObjectURL(blob);
        live.add(url);
        const img = el("img", "attachment-preview");
        const done = (): void => {
          URL.revokeObjectURL(url);
          live.delete(url);
        };
        img.addEventListener("load", done, { once: true });
        img.addEventListener("error", done, { once: true });
        img.alt = `Preview of ${name}`;
        img.width = width;
        img.height = height;
        img.style.maxWidth = "100%";
        img.style.height = "auto";
        img.decoding = "async";
        img.src = url;
        slot.replaceChildren(img);
        status.textContent = "";
        button.remove();
      } catch (e) {
        status.textContent = e instanceof PreviewRefused ? `No preview: ${e.message}.` : `No preview: the file could not be fetched (${e instanceof Error ? e.message : String(e)}).`;
        button.disabled = false;
      }
    })();
  });
  return [button, status, slot];
}
