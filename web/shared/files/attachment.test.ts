import { describe, expect, it } from "vitest";
import { utf8 } from "../util/bytes.js";
import { AttachmentError, openFile, safeFileName, sealFile } from "./attachment.js";

describe("attachments", () => {
  it("round-trips and names the blob by its SHA-256", async () => {
    const { blob, ref } = await sealFile(utf8("invoice"), "invoice.pdf", "application/pdf");
    expect(blob.length).toBe(7 + 16);
    expect(ref.size).toBe(23n);
    expect(new TextDecoder().decode(await openFile(blob, ref))).toBe("invoice");
  });

  it("refuses a swapped or altered blob", async () => {
    const a = await sealFile(utf8("a"), "a", "text/plain");
    const b = await sealFile(utf8("b"), "b", "text/plain");
    await expect(openFile(b.blob, a.ref)).rejects.toBeInstanceOf(AttachmentError);
    const altered = a.blob.slice();
    altered[0] = (altered[0] ?? 0) ^ 1;
    await expect(openFile(altered, a.ref)).rejects.toBeInstanceOf(AttachmentError);
    // Right blob, wrong key: the hash matches, the AEAD does not.
    await expect(openFile(a.blob, { ...a.ref, key: b.ref.key })).rejects.toThrow("could not be decrypted");
  });

  it("makes safe file names", () => {
    expect(safeFileName("../../etc/passwd")).toBe("passwd");
    expect(safeFileName("C:\\\\x\\\\report.pdf")).toBe("report.pdf");
    expect(safeFileName("..hidden")).toBe("hidden");
    expect(safeFileName("a\u0000b\nc.txt")).toBe("abc.txt");
    expect(safeFileName("")).toBe("attachment");
  });
});
