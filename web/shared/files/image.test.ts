// Which decrypted bytes may be previewed as an image (image.ts), for the console and the widget.
import { describe, expect, it } from "vitest";
import { sealFile } from "./attachment.js";
import { checkImage, MAX_PREVIEW_BYTES, mayPreview, PreviewRefused, sniffImage } from "./image.js";

const bytes = (...parts: Array<number[] | string>): Uint8Array =>
  new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? Array.from(p, (c) => c.charCodeAt(0)) : p)));
const PNG = bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], [0, 0, 0, 13], "IHDR");
const SVG = bytes(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1" height="1"/></svg>`);
const HTML = bytes("<!doctype html><script>alert(1)</script>");
/** A decoder that reports a bitmap of the given size (the browser tests decode for real). */
const decoded = (width: number, height: number) => async () => ({ width, height, close: () => undefined });

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof PreviewRefused) return `${e.reason}: ${e.message}`;
    throw e;
  }
  return "shown";
}

describe("image previews", () => {
  it("recognise PNG, JPEG, GIF and WebP by their signature only", () => {
    expect(sniffImage(PNG)).toBe("image/png");
    expect(sniffImage(bytes([0xff, 0xd8, 0xff, 0xe0]))).toBe("image/jpeg");
    expect(sniffImage(bytes("GIF89a", [1, 0]))).toBe("image/gif");
    expect(sniffImage(bytes("GIF87a"))).toBe("image/gif");
    expect(sniffImage(bytes("RIFF", [0, 0, 0, 0], "WEBPVP8 "))).toBe("image/webp");
    expect(sniffImage(bytes("RIFF", [0, 0, 0, 0], "WEBPVP8L"))).toBe("image/webp");
    const others = [SVG, HTML, bytes("RIFF", [0, 0, 0, 0], "WAVEfmt "), bytes("RIFF", [0, 0, 0, 0], "WEBP"), bytes([0x89, 0x50, 0x4e]),
      bytes([0xff, 0xd8]), bytes("GIF88a"), bytes(" ", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), new Uint8Array()];
    for (const other of others) expect(sniffImage(other)).toBeUndefined();
  });

  it("are offered for files their sender calls images within the size cap, and decided by the bytes", async () => {
    const { ref } = await sealFile(new Uint8Array(10), "cat.png", "image/png");
    expect(mayPreview(ref)).toBe(true);
    expect(mayPreview({ ...ref, name: "cat.bin", mediaType: "image/svg+xml" })).toBe(true);
    expect(mayPreview({ ...ref, name: "photo.JPG", mediaType: "application/octet-stream" })).toBe(true);
    expect(mayPreview({ ...ref, name: "notes.txt", mediaType: "text/plain" })).toBe(false);
    // Above the cap the file is not even fetched (the declared size; the bytes are checked again).
    expect(mayPreview({ name: "big.png", mediaType: "image/png", size: MAX_PREVIEW_BYTES })).toBe(true);
    expect(mayPreview({ name: "big.png", mediaType: "image/png", size: MAX_PREVIEW_BYTES + 1 })).toBe(false);
    expect(mayPreview({ name: "big.png", mediaType: "image/png", size: BigInt(MAX_PREVIEW_BYTES + 1) })).toBe(false);
    // An SVG or an HTML page named and typed as a PNG never reaches the decoder.
    let decodes = 0;
    const counting = async () => {
      decodes++;
      return { width: 1, height: 1, close: () => undefined };
    };
    expect(await refusal(checkImage(SVG, counting))).toBe("not_image: not a PNG, JPEG, GIF or WebP image");
    expect(await refusal(checkImage(HTML, counting))).toBe("not_image: not a PNG, JPEG, GIF or WebP image");
    expect(decodes).toBe(0);
  });

  it("cap the file size and the decoded pixels", async () => {
    const shown = await checkImage(PNG, decoded(640, 480));
    expect([shown.blob.type, shown.width, shown.height]).toEqual(["image/png", 640, 480]);
    expect(new Uint8Array(await shown.blob.arrayBuffer())).toEqual(PNG);
    const big = new Uint8Array(MAX_PREVIEW_BYTES + 1);
    big.set(PNG);
    expect(await refusal(checkImage(big, decoded(1, 1)))).toBe("too_large: larger than 5 MiB");
    expect(await refusal(checkImage(PNG, decoded(10_000, 10_000)))).toBe("too_many_pixels: the image is too large to preview");
    expect(await refusal(checkImage(PNG, decoded(20_000, 1)))).toBe("too_many_pixels: the image is too large to preview");
    expect(await refusal(checkImage(PNG, decoded(0, 0)))).toBe("no_pixels: the image has no pixels");
    expect(await refusal(checkImage(PNG, () => Promise.reject(new Error("broken"))))).toBe("undecodable: the image does not decode");
  });
});
