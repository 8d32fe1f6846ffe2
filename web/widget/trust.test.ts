import { describe, expect, it } from "vitest";
import { keyPackageInfo } from "../shared/mls/adapter.js";
import { toBase64 } from "../shared/util/bytes.js";
import { TestHierarchy } from "./testkeys.js";
import { anchorFrom, checkHistoryMember, checkStaffKeyPackage, serverAgrees, uuidBytes } from "./trust.js";

const TEAM = crypto.getRandomValues(new Uint8Array(16));

describe("credential checks against the pinned root", () => {
  it("verifies an agent's key package and gives its certified name", async () => {
    const h = await TestHierarchy.create();
    const kp = keyPackageInfo((await h.keyPackage("agent", "Jane D.")).keyPackage);
    expect(await checkStaffKeyPackage(kp.identity, kp.signatureKey, await h.anchor())).toEqual({ leaf: -1, verified: true, role: "agent", label: "Jane D." });
  });

  it("refuses a chain signed under a root that is not pinned (a forged agent)", async () => {
    const pinned = await TestHierarchy.create();
    const forger = await TestHierarchy.create(pinned.tenant);
    const kp = keyPackageInfo((await forger.keyPackage("agent", "Jane D.")).keyPackage);
    const r = await checkStaffKeyPackage(kp.identity, kp.signatureKey, await pinned.anchor());
    expect(r.verified).toBe(false);
  });

  it("refuses a chain bound to another leaf key, and a History Member where an agent is expected", async () => {
    const h = await TestHierarchy.create();
    const a = keyPackageInfo((await h.keyPackage("agent", "A")).keyPackage);
    const b = keyPackageInfo((await h.keyPackage("agent", "B")).keyPackage);
    expect((await checkStaffKeyPackage(a.identity, b.signatureKey, await h.anchor())).verified).toBe(false);
    const hm = keyPackageInfo((await h.keyPackage("history", "Archive", TEAM)).keyPackage);
    expect((await checkStaffKeyPackage(hm.identity, hm.signatureKey, await h.anchor())).verified).toBe(false);
  });

  it("accepts a History Member only for its own team", async () => {
    const h = await TestHierarchy.create();
    const hm = keyPackageInfo((await h.keyPackage("history", "Billing", TEAM)).keyPackage);
    expect(await checkHistoryMember(hm.identity, hm.signatureKey, await h.anchor(), TEAM)).toMatchObject({ verified: true, label: "Billing" });
    expect((await checkHistoryMember(hm.identity, hm.signatureKey, await h.anchor(), new Uint8Array(16))).verified).toBe(false);
    const agent = keyPackageInfo((await h.keyPackage("agent", "Jane")).keyPackage);
    expect((await checkHistoryMember(agent.identity, agent.signatureKey, await h.anchor(), TEAM)).verified).toBe(false);
  });

  it("reads the snippet's anchor and compares it with the server's keys", async () => {
    const h = await TestHierarchy.create(uuidBytes("0190b1c2-0000-7000-8000-000000000001"));
    const key = toBase64((await h.anchor()).roots[0]!);
    const anchor = anchorFrom("0190b1c2-0000-7000-8000-000000000001", ` ${key} ,`);
    expect(anchor.roots).toHaveLength(1);
    expect(serverAgrees(anchor, undefined)).toBe(true);
    expect(serverAgrees(anchor, [key, "junk"])).toBe(true);
    expect(serverAgrees(anchor, [toBase64(new Uint8Array(32))])).toBe(false);
    expect(() => anchorFrom("0190b1c2-0000-7000-8000-000000000001", "AAAA")).toThrow();
    expect(() => uuidBytes("not-a-uuid")).toThrow();
    // The CLI's form: ed25519: and unpadded base64url.
    const cli = `ed25519:${key.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
    expect(anchorFrom("0190b1c2-0000-7000-8000-000000000001", cli).roots).toEqual(anchor.roots);
    expect(serverAgrees(anchor, [cli])).toBe(true);
  });
});
