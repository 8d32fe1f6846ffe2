// Inline image previews of attachments in the transcript. A file its sender calls an image,
// at most MAX_PREVIEW_BYTES, is fetched, checked (size, SHA-256) and decrypted as for a
// download; the decrypted bytes then decide (shared/files/image.ts: PNG, JPEG, GIF or WebP by
// their signature, never SVG, pixel caps before an <img> sees it; OWASP ASVS v5.0.0-5.2.1,
// 5.2.2). The <img> reads a blob: URL that is revoked once the image loaded or failed, and any
// still pending when the transcript goes (clear). A host page whose CSP has no
// `img-src blob:` blocks the image: the preview is then removed and the file stays a download.
// The preview is a button (keyboard reachable) that enlarges the image within the window; its
// name is the alt text, made from the file name as text.

import { safeFileName } from "../shared/files/attachment.js";
import { checkImage, mayPreview } from "../shared/files/image.js";
import { el } from "./dom.js";
import type { VisitorSession } from "./session.js";
import { t, type Strings } from "./strings.js";

type FileItem = { key: string; name: string; size: number; ref?: { name: string; mediaType: string } };

export class Previews {
  /** Each file's preview slot, kept across re-renders of its line (the image stays loaded). */
  private readonly slots = new Map<string, HTMLElement>();
  /** Blob URLs whose image has not loaded yet. */
  private readonly live = new Set<string>();
  /** Files seen before the conversation was back (after a reload): fetched once it is. */
  private readonly waiting = new Map<string, { name: string; slot: HTMLElement }>();
  /** One preview fetched at a time (a resumed transcript may hold many). */
  private queue: Promise<void> = Promise.resolve();
  private generation = 0;

  constructor(
    private readonly session: VisitorSession,
    private readonly s: Strings,
  ) {}

  /** The preview slot of a file line (empty until the image is shown), or null for no preview. */
  slot(item: FileItem): HTMLElement | null {
    if (item.ref === undefined) return null;
    const known = this.slots.get(item.key);
    if (known !== undefined) return known;
    if (!mayPreview({ name: item.ref.name, mediaType: item.ref.mediaType, size: item.size })) return null;
    const slot = el("span", { class: "preview-slot" });
    this.slots.set(item.key, slot);
    this.enqueue(item.key, safeFileName(item.name), slot);
    return slot;
  }

  /** After each render: the files that waited for the conversation are fetched once it is there. */
  resume(): void {
    if (!this.session.hasConversation || this.waiting.size === 0) return;
    const ready = [...this.waiting];
    this.waiting.clear();
    for (const [key, { name, slot }] of ready) this.enqueue(key, name, slot);
  }

  private enqueue(key: string, name: string, slot: HTMLElement): void {
    const generation = this.generation;
    this.queue = this.queue.then(() => (generation === this.generation ? this.load(key, name, slot) : undefined)).catch(() => undefined);
  }

  /** The transcript left the screen: drop every slot and revoke the URLs not yet loaded. */
  clear(): void {
    this.generation += 1;
    this.slots.clear();
    this.waiting.clear();
    for (const url of this.live) URL.revokeObjectURL(url);
    this.live.clear();
  }

  private async load(key: string, name: string, slot: HTMLElement): Promise<void> {
    if (!this.session.hasConversation) {
      this.waiting.set(key, { name, slot });
      return;
    }
    const bytes = await this.session.previewBytes(key);
    if (bytes === null) return;
    let checked;
    try {
      checked = await checkImage(bytes);
    } catch {
      // Not an image by its bytes, or too large once decoded: the file stays a download only.
      return;
    }
    if (this.slots.get(key) !== slot) return;
    const url = URL.createObjectURL(checked.blob);
    this.live.add(url);
    const revoke = (): void => {
      URL.revokeObjectURL(url);
      this.live.delete(url);
    };
    const img = el("img", { class: "preview", width: String(checked.width), height: String(checked.height), decoding: "async" });
    img.alt = t(this.s, "previewAlt", { name });
    const button = el("button", { type: "button", class: "preview", "aria-expanded": "false", title: this.s.previewEnlarge }, img);
    button.addEventListener("click", () => button.setAttribute("aria-expanded", String(button.getAttribute("aria-expanded") !== "true")));
    img.addEventListener("load", revoke, { once: true });
    img.addEventListener("error", () => {
      // Blocked (the host page's CSP) or undecodable after all: no preview.
      revoke();
      button.remove();
    }, { once: true });
    img.src = url;
    slot.replaceChildren(button);
  }
}
