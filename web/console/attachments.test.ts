// What the console says about a file (attachments.ts): name, size and type as text, failures;
// and which decrypted bytes may be previewed as an image (attachment-preview.ts).
import { describe, expect, it } from "vitest";
import { AttachmentError, sealFile } from "../shared/files/attachment.js";
import { ApiError } from "./api.js";
import { checkImage, MAX_PREVIEW_BYTES, mayPreview, PreviewRefused, sniffImage } from "./attachment-preview.js";
import { describeFile, fileFailure, plainSize } from "./attachments.js";

describe("console attachments", () => {
  it("describes a file by its own size, a safe name and its type", async () => {
    const { ref } = await sealFile(new Uint8Array(3000), "../../etc/receipt.bin", "application/pdf");
    expect(plainSize(ref)).toBe(3000);
    expect(describeFile(ref)).toBe("receipt.bin · 3 KB · application/pdf");
    expect(describeFile({ ...ref, name: "", mediaType: " ", size: 16n })).toBe("attachment · 0 B · unknown type");
    expect(plainSize({ ...ref, size: 3n })).toBe(0);
  });

  it("explains failures", () => {
    expect(fileFailure(new AttachmentError("the file is not the one that was sent"), true)).toBe("The attachment was refused: the file is not the one that was sent.");
    expect(fileFailure(new ApiError(404, "not_found", "no"), true)).toBe("The attachment could not be downloaded (not_found).");
    expect(fileFailure(new ApiError(413, "payload_too_large", "no"), false)).toBe("The file was not sent (payload_too_large).");
    expect(fileFailure(new AttachmentError("too big"), false)).toBe("Not sent: too big.");
  });
});

const bytes = (...parts: Array<number[] | string>): Uint8Array =>
  new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? Array.from(p, (c) => c.charCodeAt(0)) : p)));
const PNG = bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], [0, 0, 0, 13], "IHDR");
const SVG = bytes(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1" height="1"/></svg>`);
const HTML = bytes("<!doctype html><script>alert(1)</script>");
/** A decoder that reports a bitmap of the given size (the browser test decodes for real). */
const decoded = (width: number, height: number) => async () => ({ width, height, close: () => undefined });

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof PreviewRefused) return e.message;
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
    for (const other of [SVG, HTML, bytes("RIFF", [0, 0, 0, 0], "WAVEfmt "), bytes([0x89, 0x50, 0x4e]), bytes("GIF88a"), new Uint8Array()]) {
      expect(sniffImage(other)).toBeUndefined();
    }
  });

  it("are offered for files their sender calls images, and decided by the bytes", async () => {
    const { ref } = await sealFile(new Uint8Array(10), "cat.png", "image/png");
    expect(mayPreview(ref)).toBe(true);
    expect(mayPreview({ ...ref, name: "cat.bin", mediaType: "image/svg+xml" })).toBe(true);
    expect(mayPreview({ ...ref, name: "photo.JPG", mediaType: "application/octet-stream" })).toBe(true);
    expect(mayPreview({ ...ref, name: "notes.txt", mediaType: "text/plain" })).toBe(false);
    // An SVG or an HTML page named and typed as a PNG never reaches the decoder.
    let decodes = 0;
    const counting = async () => {
      decodes++;
      return { width: 1, height: 1, close: () => undefined };
    };
    expect(await refusal(checkImage(SVG, counting))).toBe("not a PNG, JPEG, GIF or WebP image");
    expect(await refusal(checkImage(HTML, counting))).toBe("not a PNG, JPEG, GIF or WebP image");
    expect(decodes).toBe(0);
  });

  it("cap the file size and the decoded pixels", async () => {
    const shown = await checkImage(PNG, decoded(640, 480));
    expect([shown.blob.type, shown.width, shown.height]).toEqual(["image/png", 640, 480]);
    const big = new Uint8Array(MAX_PREVIEW_BYTES + 1);
    big.set(PNG);
    expect(await refusal(checkImage(big, decoded(1, 1)))).toBe("larger than 5 MiB");
    expect(await refusal(checkImage(PNG, decoded(10_000, 10_000)))).toBe("the image is too large to preview");
    expect(await refusal(checkImage(PNG, decoded(20_000, 1)))).toBe("the image is too large to preview");
    expect(await refusal(checkImage(PNG, decoded(0, 0)))).toBe("the image has no pixels");
    expect(await refusal(checkImage(PNG, () => Promise.reject(new Error("broken"))))).toBe("the image does not decode");
  });
});
