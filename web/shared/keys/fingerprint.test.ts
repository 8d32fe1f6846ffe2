import { describe, expect, it } from "vitest";
import { deviceFingerprint, keyFingerprint } from "./fingerprint.js";

describe("device fingerprint", () => {
  // The server's known answer (crates/sealdesk-server/src/app/devices.rs): SHA-256 of 32 × 0x01
  // then 32 × 0x02, first 128 bits, printed as the server prints it (8 groups of 4).
  it("matches the server's known answer", async () => {
    const fp = await deviceFingerprint(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2));
    expect(fp.replace(/ /g, "")).toBe("f818afd37a6dc3bc92fb447310112770");
    expect(fp).toBe("f818 afd3 7a6d c3bc 92fb 4473 1011 2770");
  });
  it("depends on the order of the keys", async () => {
    expect(await deviceFingerprint(new Uint8Array(32).fill(2), new Uint8Array(32).fill(1))).not.toBe("f818 afd3 7a6d c3bc 92fb 4473 1011 2770");
  });
  it("refuses keys of another length", async () => {
    await expect(deviceFingerprint(new Uint8Array(31), new Uint8Array(32))).rejects.toThrow();
  });
  it("prints a root key's whole SHA-256 as the admin CLI does", async () => {
    // python3 -c "import hashlib; print(hashlib.sha256(b'\x01'*32).hexdigest())", in groups of four.
    expect(await keyFingerprint(new Uint8Array(32).fill(1))).toBe("72cd 6e84 22c4 07fb 6d09 8690 f113 0b7d ed7e c2f7 f5e1 d30b d9d5 21f0 1536 3793");
  });
});
