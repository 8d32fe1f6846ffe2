// Image previews of attachments in the console. Only when the agent asks ("Show preview"):
// fetching every image as it arrives would tell a visitor when an agent looks at the
// conversation. The blob is fetched, its size and SHA-256 checked and decrypted as for a
// download (attachments.ts); then the decrypted bytes decide (shared/files/image.ts: PNG,
// JPEG, GIF or WebP by their signature, never SVG, size and pixel caps). The <img> reads a
// blob: URL typed with the sniffed type; the URL is revoked once the image has loaded, and
// any left when the view changes (revokePreviews). The console's CSP allows
// `img-src 'self' data: blob:`.

import { safeFileName } from "../shared/files/attachment.js";
import { checkImage, mayPreview, PreviewRefused } from "../shared/files/image.js";
import type { FileRef } from "../shared/mls/payload.js";
import { plainSize } from "./attachments.js";
import { el } from "./dom.js";

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
  if (!mayPreview({ name: safeFileName(ref.name), mediaType: ref.mediaType, size: plainSize(ref) })) return [];
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
