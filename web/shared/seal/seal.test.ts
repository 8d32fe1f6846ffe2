// SDS1 sealed objects on @hpke/core: RFC 9180 Appendix A.1 (the values of the Rust test
// `rfc9180_a1_base_mode` in crates/sealdesk-mls/src/seal.rs), then our own refusals. The
// Rust-made and TS-made objects are exchanged in vectors.test.ts.
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { describe, expect, it } from "vitest";
import { toHex, utf8 } from "../util/bytes.js";
import { ed25519PublicKey } from "../util/ed25519.js";
import { deriveKeys, open, seal, SealError, sealInfo, type SealContext } from "./seal.js";

const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));

describe("RFC 9180 Appendix A.1 (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base)", () => {
  it("derives both parties' key pairs", async () => {
    const recipient = await deriveKeys(hex("6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037"));
    expect(toHex(recipient.publicKey)).toBe("3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d");
    expect(toHex(recipient.privateKey)).toBe("4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8");
    const ephemeral = await deriveKeys(hex("7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234"));
    expect(toHex(ephemeral.publicKey)).toBe("37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431");
    expect(toHex(ephemeral.privateKey)).toBe("52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736");
  });

  it("opens the first encryption with the derived key (sequence number 0)", async () => {
    const kem = new DhkemX25519HkdfSha256();
    const suite = new CipherSuite({ kem, kdf: new HkdfSha256(), aead: new Aes128Gcm() });
    const recipient = await deriveKeys(hex("6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037"));
    const plaintext = await suite.open(
      {
        recipientKey: await kem.deserializePrivateKey(recipient.privateKey),
        enc: hex("37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431"),
        info: hex("4f6465206f6e2061204772656369616e2055726e"),
      },
      hex("f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a"),
      hex("436f756e742d30"),
    );
    expect(toHex(new Uint8Array(plaintext))).toBe("4265617574792069732074727574682c20747275746820626561757479");
  });
});

const ADMIN = new Uint8Array(32).fill(6);

async function fixture(): Promise<{ ctx: SealContext; priv: Uint8Array; pub: Uint8Array; admin: Uint8Array }> {
  const device = await deriveKeys(new Uint8Array(32).fill(5));
  const ctx: SealContext = {
    purpose: "team-key-wrap", tenant: new Uint8Array(16).fill(1), team: new Uint8Array(16).fill(2), keyVersion: 3,
    recipient: device.publicKey,
  };
  return { ctx, priv: device.privateKey, pub: device.publicKey, admin: await ed25519PublicKey(ADMIN) };
}

async function refused(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SealError) return e.code;
    throw e;
  }
  return "accepted";
}

describe("sealed objects (SDS1)", () => {
  it("bind the purpose, tenant, team, version and recipient into info", async () => {
    const { ctx } = await fixture();
    const info = sealInfo(ctx);
    expect(info.length).toBe("lc-e2ee/v1/team-key-wrap".length + 16 + 16 + 4 + 32);
    expect(toHex(info.subarray(24 + 32, 24 + 36))).toBe("00000003");
  });

  it("open only as sealed", async () => {
    const { ctx, priv, pub, admin } = await fixture();
    const sealed = await seal(pub, ctx, utf8("team private key"), ADMIN);
    expect(toHex(sealed.subarray(0, 5))).toBe(`${toHex(utf8("SDS1"))}20`);
    expect(await open(sealed, ctx, priv, admin)).toEqual(utf8("team private key"));
    for (const other of [
      { ...ctx, purpose: "history-bundle" }, { ...ctx, keyVersion: 4 }, { ...ctx, team: new Uint8Array(16).fill(9) },
      { ...ctx, tenant: new Uint8Array(16) },
    ]) {
      expect(await refused(open(sealed, other, priv, admin))).toBe("rejected");
    }
    const stranger = await deriveKeys(new Uint8Array(32).fill(7));
    expect(await refused(open(sealed, ctx, stranger.privateKey, admin))).toBe("rejected");
    expect(await refused(open(sealed, ctx, priv, await ed25519PublicKey(new Uint8Array(32).fill(8))))).toBe("rejected");
    for (const i of [0, 5, 40, sealed.length - 70, sealed.length - 1]) {
      const altered = sealed.slice();
      altered[i] = (altered[i] ?? 0) ^ 1;
      expect(await refused(open(altered, ctx, priv, admin)), `byte ${i}`).not.toBe("accepted");
    }
    expect(await refused(open(sealed.subarray(0, 99), ctx, priv, admin))).toBe("malformed");
    // A server that re-signs with its own key is caught by the expected signer.
    const forged = await seal(pub, ctx, utf8("attacker's key"), new Uint8Array(32).fill(9));
    expect(await refused(open(forged, ctx, priv, admin))).toBe("rejected");
  });

  it("use two-byte lengths past 63 bytes and refuse what they cannot encode", async () => {
    const { ctx, priv, pub, admin } = await fixture();
    const big = new Uint8Array(300).fill(3);
    const sealed = await seal(pub, ctx, big, ADMIN);
    expect(toHex(sealed.subarray(37, 39))).toBe((0x4000 | (300 + 16)).toString(16));
    expect(await open(sealed, ctx, priv, admin)).toEqual(big);
    expect(await refused(seal(pub, ctx, new Uint8Array(16_368), ADMIN))).toBe("rejected");
    expect(toHex((await open(await seal(pub, ctx, new Uint8Array(16_367), ADMIN), ctx, priv, admin)).subarray(0, 1))).toBe("00");
    expect(await refused(seal(pub, { ...ctx, tenant: new Uint8Array(15) }, big, ADMIN))).toBe("malformed");
  });
});
