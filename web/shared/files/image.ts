// Which decrypted attachments may be shown as an image preview, for the console and the
// widget alike. The decrypted bytes decide, never the declared type or name: only PNG, JPEG,
// GIF and WebP, recognised by their signature (WHATWG MIME Sniffing §6.1, "Matching an image
// type pattern"), never SVG (a document that can carry script), at most MAX_PREVIEW_BYTES,
// and decoded first with createImageBitmap to check the pixel count before an <img> shows it
// (a small file can decode to a huge bitmap: OWASP ASVS v5.0.0-5.2.1, 5.2.2, file size and
// content checks). The caller shows the returned blob from a blob: URL it revokes once the
// image has loaded or failed.

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

/**
 * Whether a file is worth fetching for a preview: its sender says it is an image (a hint
 * only; the bytes decide) and its size (of the decrypted file, as its reference declares it)
 * is within the cap.
 */
export function mayPreview(ref: { name: string; mediaType: string; size?: bigint | number }): boolean {
  if (ref.size !== undefined && Number(ref.size) > MAX_PREVIEW_BYTES) return false;
  const type = ref.mediaType.trim().toLowerCase();
  const name = ref.name.trim().toLowerCase();
  return type.startsWith("image/") || /\.(png|jpe?g|gif|webp)$/.test(name);
}

/** Why no preview is shown (stable codes; `message` is English for the console). */
export type RefusalReason = "too_large" | "not_image" | "undecodable" | "no_pixels" | "too_many_pixels";

export class PreviewRefused extends Error {
  override name = "PreviewRefused";
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
  }
}

type Decode = (b: Blob) => Promise<{ width: number; height: number; close(): void }>;

/** What may be shown: the sniffed type and the decoded size. Throws PreviewRefused otherwise. */
export async function checkImage(bytes: Uint8Array, decode: Decode = createImageBitmap): Promise<{ blob: Blob; width: number; height: number }> {
  if (bytes.length > MAX_PREVIEW_BYTES) throw new PreviewRefused("too_large", "larger than 5 MiB");
  const type = sniffImage(bytes);
  if (type === undefined) throw new PreviewRefused("not_image", "not a PNG, JPEG, GIF or WebP image");
  const blob = new Blob([new Uint8Array(bytes)], { type });
  let bitmap;
  try {
    bitmap = await decode(blob);
  } catch {
    throw new PreviewRefused("undecodable", "the image does not decode");
  }
  const { width, height } = bitmap;
  bitmap.close();
  if (width === 0 || height === 0) throw new PreviewRefused("no_pixels", "the image has no pixels");
  if (width > MAX_PREVIEW_SIDE || height > MAX_PREVIEW_SIDE || width * height > MAX_PREVIEW_PIXELS) {
    throw new PreviewRefused("too_many_pixels", "the image is too large to preview");
  }
  return { blob, width, height };
}
