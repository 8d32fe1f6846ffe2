// Test A of shared/design/E2EE.md: the official MLS test vectors (../shared/data/mls-test-vectors,
// beside the repository) through the ts-mls build we ship, for ciphersuite 1. The npm package
// has no tests of its own, so this re-proves the exact installed version.
//
// This file imports ts-mls directly, unlike the rest of web/: it tests the library itself,
// including features our profile excludes (proposals by reference, PSKs), which the adapter
// deliberately does not expose.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  acceptAll,
  bytesToBase64,
  decodeMlsMessage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  joinGroup,
  makePskIndex,
  processMessage,
  type CiphersuiteImpl,
  type ClientState,
  type GroupContext,
  type MLSMessage,
  type RatchetTree,
} from "ts-mls";
import { decodeCommit, encodeCommit } from "ts-mls/commit.js";
import { verifyGroupInfoConfirmationTag, verifyGroupInfoSignature } from "ts-mls/groupInfo.js";
import { decodeGroupSecrets, encodeGroupSecrets } from "ts-mls/groupSecrets.js";
import { defaultKeyRetentionConfig } from "ts-mls/keyRetentionConfig.js";
import { makeKeyPackageRef } from "ts-mls/keyPackage.js";
import { encodeMlsMessage } from "ts-mls/message.js";
import { unprotectPrivateMessage } from "ts-mls/messageProtection.js";
import { unprotectPublicMessage } from "ts-mls/messageProtectionPublic.js";
import * as p from "ts-mls/proposal.js";
import { decodeRatchetTree, encodeRatchetTree } from "ts-mls/ratchetTree.js";
import { createSecretTree } from "ts-mls/secretTree.js";
import { decryptGroupInfo, decryptGroupSecrets } from "ts-mls/welcome.js";
import { REPO_ROOT } from "./agent.js";

const VECTORS = join(REPO_ROOT, "..", "shared", "data", "mls-test-vectors");
const SUITE = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";

type Hex = string;
function load<T>(name: string): T[] {
  const path = join(VECTORS, name);
  if (!existsSync(path)) throw new Error(`test vectors not found at ${path} (expected ../shared beside the repository)`);
  return JSON.parse(readFileSync(path, "utf8")) as T[];
}
const hex = (h: Hex): Uint8Array => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
const toHex = (b: Uint8Array): Hex => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

function mls(h: Hex): MLSMessage {
  const bytes = hex(h);
  const d = decodeMlsMessage(bytes, 0);
  if (d === undefined || d[1] !== bytes.length) throw new Error("cannot decode MLSMessage");
  return d[0];
}
function only<T extends MLSMessage["wireformat"]>(m: MLSMessage, w: T): Extract<MLSMessage, { wireformat: T }> {
  if (m.wireformat !== w) throw new Error(`expected ${w}, got ${m.wireformat}`);
  return m as Extract<MLSMessage, { wireformat: T }>;
}

const suite = (): Promise<CiphersuiteImpl> => getCiphersuiteImpl(getCiphersuiteFromName(SUITE));

interface PassiveClient {
  cipher_suite: number;
  external_psks: { psk_id: Hex; psk: Hex }[];
  key_package: Hex;
  signature_priv: Hex;
  encryption_priv: Hex;
  init_priv: Hex;
  welcome: Hex;
  ratchet_tree: Hex | null;
  initial_epoch_authenticator: Hex;
  epochs: { proposals: Hex[]; commit: Hex; epoch_authenticator: Hex }[];
}

async function runPassiveClient(v: PassiveClient, cs: CiphersuiteImpl): Promise<void> {
  const psks = Object.fromEntries(v.external_psks.map((e) => [bytesToBase64(hex(e.psk_id)), hex(e.psk)]));
  const tree = v.ratchet_tree === null ? undefined : decodeRatchetTree(hex(v.ratchet_tree), 0)?.[0];
  let state: ClientState = await joinGroup(
    only(mls(v.welcome), "mls_welcome").welcome,
    only(mls(v.key_package), "mls_key_package").keyPackage,
    { initPrivateKey: hex(v.init_priv), hpkePrivateKey: hex(v.encryption_priv), signaturePrivateKey: hex(v.signature_priv) },
    makePskIndex(undefined, psks),
    cs,
    tree,
  );
  expect(toHex(state.keySchedule.epochAuthenticator)).toBe(v.initial_epoch_authenticator);
  for (const [i, epoch] of v.epochs.entries()) {
    for (const msg of [...epoch.proposals, epoch.commit]) {
      const m = mls(msg);
      if (m.wireformat !== "mls_public_message" && m.wireformat !== "mls_private_message") throw new Error(`unexpected ${m.wireformat}`);
      state = (await processMessage(m, state, makePskIndex(state, psks), acceptAll, cs)).newState;
    }
    expect(toHex(state.keySchedule.epochAuthenticator), `epoch ${i}`).toBe(epoch.epoch_authenticator);
  }
}

describe("official MLS test vectors, ciphersuite 1, installed ts-mls", () => {
  for (const file of ["passive-client-welcome.json", "passive-client-handling-commit.json", "passive-client-random.json"]) {
    it(file, async () => {
      const cs = await suite();
      const vectors = load<PassiveClient>(file).filter((v) => v.cipher_suite === 1);
      expect(vectors.length).toBeGreaterThan(0);
      for (const v of vectors) await runPassiveClient(v, cs);
    });
  }

  it("welcome.json", async () => {
    const cs = await suite();
    const vectors = load<{ cipher_suite: number; init_priv: Hex; key_package: Hex; signer_pub: Hex; welcome: Hex }>("welcome.json");
    const mine = vectors.filter((x) => x.cipher_suite === 1);
    expect(mine.length).toBeGreaterThan(0);
    for (const v of mine) {
      const kp = only(mls(v.key_package), "mls_key_package").keyPackage;
      const welcome = only(mls(v.welcome), "mls_welcome").welcome;
      const initKey = await cs.hpke.importPrivateKey(hex(v.init_priv));
      const secrets = await decryptGroupSecrets(initKey, await makeKeyPackageRef(kp, cs.hash), welcome, cs.hpke);
      if (secrets === undefined) throw new Error("no group secrets for the key package");
      const noPsk = new Uint8Array(cs.kdf.size);
      const gi = await decryptGroupInfo(welcome, secrets.joinerSecret, noPsk, cs);
      if (gi === undefined) throw new Error("cannot decrypt the GroupInfo");
      expect(await verifyGroupInfoSignature(gi, hex(v.signer_pub), cs.signature)).toBe(true);
      expect(await verifyGroupInfoConfirmationTag(gi, secrets.joinerSecret, noPsk, cs)).toBe(true);
    }
  });

  it("message-protection.json", async () => {
    const cs = await suite();
    type V = Record<string, Hex> & { cipher_suite: number; epoch: number };
    const mine = load<V>("message-protection.json").filter((x) => x.cipher_suite === 1);
    expect(mine.length).toBeGreaterThan(0);
    for (const v of mine) {
      const gc: GroupContext = {
        version: "mls10",
        cipherSuite: SUITE,
        groupId: hex(v.group_id!),
        epoch: BigInt(v.epoch),
        treeHash: hex(v.tree_hash!),
        confirmedTranscriptHash: hex(v.confirmed_transcript_hash!),
        extensions: [],
      };
      // Two members, the sender at leaf 1 (node 2). Signatures are checked with signature_pub
      // (passed explicitly), so the leaf only has to exist for ts-mls's sender-data check.
      const tree = [undefined, undefined, { nodeType: "leaf" }] as unknown as RatchetTree;
      const sig = hex(v.signature_pub!);
      const open = async (field: string) => {
        const pm = only(mls(v[field]!), "mls_private_message").privateMessage;
        const secretTree = await createSecretTree(2, hex(v.encryption_secret!), cs.kdf);
        return (await unprotectPrivateMessage(hex(v.sender_data_secret!), pm, secretTree, tree, gc, defaultKeyRetentionConfig, cs, sig)).content.content;
      };
      const verify = async (field: string) => {
        const pm = only(mls(v[field]!), "mls_public_message").publicMessage;
        return (await unprotectPublicMessage(hex(v.membership_key!), gc, tree, pm, cs, sig)).content;
      };
      const app = await open("application_priv");
      expect(app.contentType === "application" && toHex(app.applicationData)).toBe(v.application);
      for (const c of [await open("proposal_priv"), await verify("proposal_pub")]) {
        expect(c.contentType === "proposal" && toHex(p.encodeProposal(c.proposal))).toBe(v.proposal);
      }
      for (const c of [await open("commit_priv"), await verify("commit_pub")]) {
        expect(c.contentType === "commit" && toHex(encodeCommit(c.commit))).toBe(v.commit);
      }
    }
  });

  it("messages.json (decode, re-encode, byte-identical)", () => {
    type Codec = [(b: Uint8Array, o: number) => [unknown, number] | undefined, (x: never) => Uint8Array];
    const mlsMessage: Codec = [decodeMlsMessage, encodeMlsMessage];
    const codecs: Record<string, Codec> = {
      mls_welcome: mlsMessage,
      mls_group_info: mlsMessage,
      mls_key_package: mlsMessage,
      ratchet_tree: [decodeRatchetTree, encodeRatchetTree],
      group_secrets: [decodeGroupSecrets, encodeGroupSecrets],
      add_proposal: [p.decodeAdd, p.encodeAdd],
      update_proposal: [p.decodeUpdate, p.encodeUpdate],
      remove_proposal: [p.decodeRemove, p.encodeRemove],
      pre_shared_key_proposal: [p.decodePSK, p.encodePSK],
      re_init_proposal: [p.decodeReinit, p.encodeReinit],
      external_init_proposal: [p.decodeExternalInit, p.encodeExternalInit],
      group_context_extensions_proposal: [p.decodeGroupContextExtensions, p.encodeGroupContextExtensions],
      commit: [decodeCommit, encodeCommit],
      public_message_application: mlsMessage,
      public_message_proposal: mlsMessage,
      public_message_commit: mlsMessage,
      private_message: mlsMessage,
    };
    const failures: string[] = [];
    load<Record<string, Hex>>("messages.json").forEach((v, i) => {
      for (const [field, [dec, enc]] of Object.entries(codecs)) {
        const bytes = hex(v[field] ?? "");
        try {
          const d = dec(bytes, 0);
          if (d === undefined || d[1] !== bytes.length) failures.push(`${i}.${field}: decode`);
          else if (toHex(enc(d[0] as never)) !== v[field]) failures.push(`${i}.${field}: re-encode differs`);
        } catch (e) {
          failures.push(`${i}.${field}: ${String(e)}`);
        }
      }
    });
    expect(failures).toEqual([]);
  });
});
