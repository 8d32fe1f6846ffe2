// What the console says about a file (attachments.ts): name, size and type as text, failures.
// Which decrypted bytes may be previewed is tested with shared/files/image.ts.
import { describe, expect, it } from "vitest";
import { AttachmentError, sealFile } from "../shared/files/attachment.js";
import { ApiError } from "./api.js";
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
