// Our adapter over ts-mls: the ONLY module that imports ts-mls. Everything else (widget,
// console, tests) uses the types below, so the ts-mls 1.x → 2.x API change stays in this file.
//
// Profile (shared/design/E2EE.md, section 2): ciphersuite 1, commits as PublicMessage (the
// server validates them with openmls PublicGroup) with the ratchet_tree extension in Welcomes,
// application messages as PrivateMessage padded to 256-byte buckets, 4 past epochs of keys,
// explicit key-package lifetimes, and a credential validator supplied by the caller (ts-mls's
// default authService accepts every credential).
//
// ts-mls state is immutable: every operation returns a new MlsGroup and leaves the old one
// valid. A commit's result is returned as `pending` and must only be adopted after the server
// acks the commit; on rejection the caller keeps the current group.

import {
  createApplicationMessage, createCommit, createGroup, decodeGroupState, decodeMlsMessage, defaultCapabilities,
  emptyPskIndex, encodeGroupState, encodeMlsMessage, generateKeyPackage as tsGenerateKeyPackage, generateKeyPackageWithKey,
  getCiphersuiteFromName, getCiphersuiteImpl, joinGroup, mlsExporter, processMessage,
  type CiphersuiteImpl, type ClientConfig, type ClientState, type IncomingMessageCallback, type KeyPackage,
  type MLSMessage, type PrivateKeyPackage, type Proposal,
} from "ts-mls";
// Deep imports (allowed by the package's "./*.js" export map) for what index.js does not export.
import { defaultClientConfig } from "ts-mls/clientConfig.js";
import { createGroupInfoWithRatchetTree } from "ts-mls/createCommit.js";
import { makeKeyPackageRef } from "ts-mls/keyPackage.js";
import { decryptSenderData } from "ts-mls/privateMessage.js";
import { bytesEqual, toHex } from "../util/bytes.js";
import { ED25519_PKCS8_PREFIX, ed25519PublicKey } from "../util/ed25519.js";

export const CIPHERSUITE = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519" as const;
const DAY = 86_400n;
/** Our lifetime policy (E2EE.md section 2): device key packages 30 days, HM 90 days. */
export const KEY_PACKAGE_LIFETIME_DAYS = { device: 30, history: 90 } as const;
/** not_before is set this far in the past to tolerate clock skew (openmls uses the same 1 h). */
const CLOCK_SKEW_MARGIN = 3_600n;
/** ≥ the longest lifetime we issue (HM: 90 days + margin). Note: ts-mls 1.6.4 never reads it. */
const MAXIMUM_TOTAL_LIFETIME = 90n * DAY + 2n * CLOCK_SKEW_MARGIN;
const PADDING_BUCKET = 256;
const RETAIN_EPOCHS = 4;

export class MlsProfileError extends Error {
  override name = "MlsProfileError";
}

/** What the caller decides; never defaulted, so no group can run with "accept everything". */
export interface MlsPolicy {
  /** Whether a leaf's Basic credential identity (with its signature key) may be a member. */
  validateIdentity(identity: Uint8Array, signaturePublicKey: Uint8Array): Promise<boolean>;
  /** Check key-package lifetimes of received leaves (default true; off for late archive replay). */
  validateLifetimes?: boolean;
}

export type KeyPackageKind = keyof typeof KEY_PACKAGE_LIFETIME_DAYS;

/**
 * A key package with its private keys, all private keys in raw 32-byte form (X25519 scalars,
 * Ed25519 seed): the form openmls and our sealed HM bundles use. ts-mls in Node produces the
 * Ed25519 key as 48-byte PKCS#8; it is cut to the seed here, and ts-mls signs with either.
 */
export interface KeyPackageBundle {
  /** MLSMessage-encoded KeyPackage: what is uploaded and what an Add takes. */
  readonly keyPackage: Uint8Array;
  readonly initPrivate: Uint8Array;
  readonly encryptionPrivate: Uint8Array;
  readonly signaturePrivate: Uint8Array;
}

export interface Member {
  readonly leaf: number;
  readonly identity: Uint8Array;
}

/** A roster leaf with the key it signs with: what a certificate chain must be bound to. */
export interface Leaf extends Member {
  readonly signatureKey: Uint8Array;
}

export interface EpochInfo {
  readonly epoch: number;
  /** Hex of the epoch authenticator (equal on all members of an epoch). */
  readonly authenticator: string;
  /** Hex of MLS-Exporter("lc-test", empty context, 32). */
  readonly exporter: string;
  readonly members: readonly Member[];
}

export interface PendingCommit {
  /** MLSMessage(PublicMessage) to send as a `handshake` entry. */
  readonly commit: Uint8Array;
  /** MLSMessage(Welcome) for the added members, or null when nobody was added. */
  readonly welcome: Uint8Array | null;
  /** The group after the commit: adopt it only once the server acked the commit. */
  readonly pending: MlsGroup;
}

/** An incoming message after processing; `group` replaces the current group. */
export type Processed =
  | { readonly kind: "application"; readonly plaintext: Uint8Array; readonly sender: number; readonly epoch: number; readonly group: MlsGroup }
  | { readonly kind: "commit"; readonly sender: number; readonly epoch: number; readonly removedSelf: boolean; readonly group: MlsGroup };

/** What can be read from a message without any key (for routing and replay). */
export interface MessageHeader {
  readonly wire: "public" | "private" | "welcome" | "key_package" | "group_info";
  /** Epoch for public and private messages. */
  readonly epoch?: number;
}

let suitePromise: Promise<CiphersuiteImpl> | undefined;
function suite(): Promise<CiphersuiteImpl> {
  suitePromise ??= getCiphersuiteImpl(getCiphersuiteFromName(CIPHERSUITE));
  return suitePromise;
}

/** A full ClientConfig: ts-mls must never fall back to its accept-everything defaults. */
function clientConfig(policy: MlsPolicy): ClientConfig {
  return {
    keyRetentionConfig: { ...defaultClientConfig.keyRetentionConfig, retainKeysForEpochs: RETAIN_EPOCHS },
    lifetimeConfig: { maximumTotalLifetime: MAXIMUM_TOTAL_LIFETIME, validateLifetimeOnReceive: policy.validateLifetimes ?? true },
    keyPackageEqualityConfig: defaultClientConfig.keyPackageEqualityConfig,
    // Replaced per application message by bucket padding (see paddingFor).
    paddingConfig: { kind: "padUntilLength", padUntilLength: PADDING_BUCKET },
    authService: {
      async validateCredential(credential, signaturePublicKey) {
        if (credential.credentialType !== "basic") return false;
        return policy.validateIdentity(credential.identity, signaturePublicKey);
      },
    },
  };
}

function decode(bytes: Uint8Array): MLSMessage {
  const decoded = decodeMlsMessage(bytes, 0);
  if (decoded === undefined || decoded[1] !== bytes.length) throw new MlsProfileError("not a single MLSMessage");
  return decoded[0];
}

function encodeKeyPackageMessage(keyPackage: KeyPackage): Uint8Array {
  return encodeMlsMessage({ version: "mls10", wireformat: "mls_key_package", keyPackage });
}

function decodeKeyPackage(bytes: Uint8Array): KeyPackage {
  const msg = decode(bytes);
  if (msg.wireformat !== "mls_key_package") throw new MlsProfileError(`expected a key package, got ${msg.wireformat}`);
  if (msg.keyPackage.cipherSuite !== CIPHERSUITE) throw new MlsProfileError(`key package of suite ${msg.keyPackage.cipherSuite}`);
  return msg.keyPackage;
}

function rawSignatureKey(key: Uint8Array): Uint8Array {
  if (key.length === 32) return key;
  if (key.length === 48 && bytesEqual(key.subarray(0, 16), ED25519_PKCS8_PREFIX)) return key.slice(16);
  throw new MlsProfileError(`unexpected Ed25519 private key encoding (${key.length} bytes)`);
}

function privatePackage(b: KeyPackageBundle): PrivateKeyPackage {
  return { initPrivateKey: b.initPrivate, hpkePrivateKey: b.encryptionPrivate, signaturePrivateKey: b.signaturePrivate };
}

/**
 * A fresh key package whose Basic credential identity is `identity`. With `signatureSeed` (a
 * device's certified Ed25519 key, 32 raw bytes) the leaf signs with that key, so a certificate
 * chain naming it can be the identity; otherwise a new signature key is made.
 */
export async function generateKeyPackage(
  identity: Uint8Array,
  kind: KeyPackageKind,
  signatureSeed?: Uint8Array,
): Promise<KeyPackageBundle> {
  const cs = await suite();
  const now = BigInt(Math.floor(Date.now() / 1000));
  const lifetime = { notBefore: now - CLOCK_SKEW_MARGIN, notAfter: now + BigInt(KEY_PACKAGE_LIFETIME_DAYS[kind]) * DAY };
  const credential = { credentialType: "basic", identity } as const;
  const { publicPackage, privatePackage: priv } = signatureSeed === undefined
    ? await tsGenerateKeyPackage(credential, defaultCapabilities(), lifetime, [], cs)
    : await generateKeyPackageWithKey(
        credential, defaultCapabilities(), lifetime, [],
        { signKey: rawSignatureKey(signatureSeed), publicKey: await ed25519PublicKey(rawSignatureKey(signatureSeed)) }, cs,
      );
  return importKeyPackage({
    keyPackage: encodeKeyPackageMessage(publicPackage),
    initPrivate: priv.initPrivateKey,
    encryptionPrivate: priv.hpkePrivateKey,
    signaturePrivate: priv.signaturePrivateKey,
  });
}

/** Checks and normalises a key package with private keys generated elsewhere (openmls, a sealed HM bundle). */
export function importKeyPackage(bundle: KeyPackageBundle): KeyPackageBundle {
  decodeKeyPackage(bundle.keyPackage);
  if (bundle.initPrivate.length !== 32 || bundle.encryptionPrivate.length !== 32) {
    throw new MlsProfileError("X25519 private keys must be 32 raw bytes");
  }
  return {
    keyPackage: bundle.keyPackage,
    initPrivate: bundle.initPrivate,
    encryptionPrivate: bundle.encryptionPrivate,
    signaturePrivate: rawSignatureKey(bundle.signaturePrivate),
  };
}

export interface KeyPackageInfo {
  readonly identity: Uint8Array;
  /** The leaf's Ed25519 signature key (a certificate chain must certify this very key). */
  readonly signatureKey: Uint8Array;
  /** Unix seconds. */
  readonly notBefore: number;
  readonly notAfter: number;
}

/** Credential identity and lifetime of a key package (for the caller's checks before adding). */
export function keyPackageInfo(keyPackage: Uint8Array): KeyPackageInfo {
  const leaf = decodeKeyPackage(keyPackage).leafNode;
  if (leaf.credential.credentialType !== "basic") throw new MlsProfileError("not a Basic credential");
  return { identity: leaf.credential.identity, signatureKey: leaf.signaturePublicKey, notBefore: Number(leaf.lifetime.notBefore), notAfter: Number(leaf.lifetime.notAfter) };
}

/** Whether `welcome` carries group secrets for this key package (finding the HM's Welcome in a log). */
export async function isWelcomeFor(welcome: Uint8Array, keyPackage: Uint8Array): Promise<boolean> {
  const msg = decode(welcome);
  if (msg.wireformat !== "mls_welcome") return false;
  const ref = await makeKeyPackageRef(decodeKeyPackage(keyPackage), (await suite()).hash);
  return msg.welcome.secrets.some((s) => bytesEqual(s.newMember, ref));
}

export function peekMessage(bytes: Uint8Array): MessageHeader {
  const msg = decode(bytes);
  if (msg.wireformat === "mls_public_message") return { wire: "public", epoch: Number(msg.publicMessage.content.epoch) };
  if (msg.wireformat === "mls_private_message") return { wire: "private", epoch: Number(msg.privateMessage.epoch) };
  return { wire: msg.wireformat === "mls_welcome" ? "welcome" : msg.wireformat === "mls_key_package" ? "key_package" : "group_info" };
}

/** v1 allows commits carrying by-value Add and Remove only (and empty/self-update commits). */
const profileCallback: IncomingMessageCallback = (incoming) => {
  if (incoming.kind !== "commit") return "reject";
  const allowed = incoming.proposals.every((p) => p.proposal.proposalType === "add" || p.proposal.proposalType === "remove");
  return allowed ? "accept" : "reject";
};

/**
 * Bucket padding: ts-mls 1.6.4 only knows "pad up to N" and "always pad N", so the padding
 * that rounds the encoded PrivateMessageContent (varint length, data, 65-byte signature field)
 * up to a multiple of 256 is computed per message and passed as "always pad".
 */
function paddingFor(plaintextLength: number): number {
  const varint = plaintextLength < 64 ? 1 : plaintextLength < 16_384 ? 2 : 4;
  const encoded = varint + plaintextLength + 1 + 64;
  return (PADDING_BUCKET - (encoded % PADDING_BUCKET)) % PADDING_BUCKET;
}

export class MlsGroup {
  private constructor(
    private readonly state: ClientState,
    private readonly cs: CiphersuiteImpl,
  ) {}

  /** A new group (random 16-byte group id unless given) with `owner` as its only member. */
  static async create(owner: KeyPackageBundle, policy: MlsPolicy, groupId?: Uint8Array): Promise<MlsGroup> {
    const cs = await suite();
    const id = groupId ?? crypto.getRandomValues(new Uint8Array(16));
    const state = await createGroup(id, decodeKeyPackage(owner.keyPackage), privatePackage(owner), [], cs, clientConfig(policy));
    return new MlsGroup(state, cs);
  }

  /** Joins from an MLSMessage(Welcome) with the ratchet_tree extension, using `bundle`'s keys. */
  static async join(welcome: Uint8Array, bundle: KeyPackageBundle, policy: MlsPolicy): Promise<MlsGroup> {
    const cs = await suite();
    const msg = decode(welcome);
    if (msg.wireformat !== "mls_welcome") throw new MlsProfileError(`expected a Welcome, got ${msg.wireformat}`);
    const kp = decodeKeyPackage(bundle.keyPackage);
    const state = await joinGroup(msg.welcome, kp, privatePackage(bundle), emptyPskIndex, cs, undefined, undefined, clientConfig(policy));
    return new MlsGroup(state, cs);
  }

  /** Restores a group from encode(); the ClientConfig (not serialised by ts-mls) is re-attached. */
  static async decode(bytes: Uint8Array, policy: MlsPolicy): Promise<MlsGroup> {
    const decoded = decodeGroupState(bytes, 0);
    if (decoded === undefined || decoded[1] !== bytes.length) throw new MlsProfileError("cannot decode group state");
    return new MlsGroup({ ...decoded[0], clientConfig: clientConfig(policy) }, await suite());
  }

  encode(): Uint8Array {
    return encodeGroupState(this.state);
  }

  /**
   * MLSMessage(GroupInfo) of the current epoch with the ratchet_tree extension, signed by us:
   * a new conversation's first handshake entry, from which the server's openmls PublicGroup
   * starts validating. Deliberately without external_pub: ts-mls 1.6.4 encodes that extension
   * without its length prefix and openmls cannot parse such a GroupInfo (E2EE.md).
   */
  async groupInfo(): Promise<Uint8Array> {
    const s = this.state;
    const groupInfo = await createGroupInfoWithRatchetTree(s.groupContext, s.confirmationTag, s, s.ratchetTree, [], this.cs);
    return encodeMlsMessage({ version: "mls10", wireformat: "mls_group_info", groupInfo });
  }

  get epoch(): number { return Number(this.state.groupContext.epoch); }
  get ownLeaf(): number { return this.state.privatePath.leafIndex; }
  get groupId(): Uint8Array { return this.state.groupContext.groupId; }
  /** False once a processed commit removed this member. */
  get active(): boolean { return this.state.groupActiveState.kind === "active"; }

  /** A commit adding `add` (MLSMessage key packages, by value) and removing leaves `remove`. */
  async commit(ops: { add?: readonly Uint8Array[]; remove?: readonly number[] } = {}): Promise<PendingCommit> {
    const proposals: Proposal[] = [
      ...(ops.add ?? []).map((kp): Proposal => ({ proposalType: "add", add: { keyPackage: decodeKeyPackage(kp) } })),
      ...(ops.remove ?? []).map((leaf): Proposal => ({ proposalType: "remove", remove: { removed: leaf } })),
    ];
    const result = await createCommit(
      { state: this.state, cipherSuite: this.cs },
      { wireAsPublicMessage: true, ratchetTreeExtension: true, extraProposals: proposals },
    );
    const welcome = result.welcome === undefined
      ? null
      : encodeMlsMessage({ version: "mls10", wireformat: "mls_welcome", welcome: result.welcome });
    return { commit: encodeMlsMessage(result.commit), welcome, pending: new MlsGroup(result.newState, this.cs) };
  }

  /** An empty commit with an update path: fresh leaf keys (post-compromise security). */
  selfUpdate(): Promise<PendingCommit> {
    return this.commit({});
  }

  /**
   * An application message. The returned group must replace this one at once (and be
   * persisted before the message leaves): reusing the old state would reuse a ratchet
   * generation, i.e. an AES-GCM nonce.
   */
  async send(plaintext: Uint8Array): Promise<{ message: Uint8Array; group: MlsGroup }> {
    const padded: ClientState = {
      ...this.state,
      clientConfig: { ...this.state.clientConfig, paddingConfig: { kind: "alwaysPad", paddingLength: paddingFor(plaintext.length) } },
    };
    const { newState, privateMessage } = await createApplicationMessage(padded, plaintext, this.cs);
    const message = encodeMlsMessage({ version: "mls10", wireformat: "mls_private_message", privateMessage });
    return { message, group: new MlsGroup({ ...newState, clientConfig: this.state.clientConfig }, this.cs) };
  }

  /** Processes one incoming MLSMessage (a commit of another member, or an application message). */
  async process(bytes: Uint8Array): Promise<Processed> {
    if (!this.active) throw new MlsProfileError("removed from the group");
    const msg = decode(bytes);
    let sender: number;
    if (msg.wireformat === "mls_public_message") {
      // Application data must never travel unencrypted; standalone proposals are not in v1.
      const content = msg.publicMessage.content;
      if (content.contentType !== "commit") throw new MlsProfileError(`${content.contentType} in a PublicMessage`);
      if (content.sender.senderType !== "member") throw new MlsProfileError(`commit from a ${content.sender.senderType}`);
      sender = content.sender.leafIndex;
    } else if (msg.wireformat === "mls_private_message") {
      // Commits must be PublicMessages so that the server can validate them.
      if (msg.privateMessage.contentType !== "application") {
        throw new MlsProfileError(`${msg.privateMessage.contentType} in a PrivateMessage`);
      }
      sender = await this.applicationSender(msg.privateMessage);
    } else {
      throw new MlsProfileError(`cannot process a ${msg.wireformat} here`);
    }
    let result: Awaited<ReturnType<typeof processMessage>>;
    try {
      result = await processMessage(msg, this.state, emptyPskIndex, profileCallback, this.cs);
    } catch (err) {
      // ts-mls 1.6.4 bug: it detects its own removal by finding its leaf blank after the
      // proposals, but an Add in the same commit refills that first blank leaf, so it then
      // fails to decrypt the update path (this InternalError). That step comes after the
      // commit's signature and membership tag were verified and its proposals applied, so
      // this exact failure on a commit that removes us by value is reported as our removal.
      const noOverlap = err instanceof Error && err.message.includes("No overlap between provided private keys and update path");
      if (!noOverlap || !this.removesSelf(msg)) throw err;
      const group = new MlsGroup({ ...this.state, unappliedProposals: {}, groupActiveState: { kind: "removedFromGroup" } }, this.cs);
      return { kind: "commit", sender, epoch: this.epoch + 1, removedSelf: true, group };
    }
    if (result.kind === "applicationMessage") {
      const epoch = msg.wireformat === "mls_private_message" ? Number(msg.privateMessage.epoch) : this.epoch;
      return { kind: "application", plaintext: result.message, sender, epoch, group: new MlsGroup(result.newState, this.cs) };
    }
    if (result.actionTaken !== "accept") throw new MlsProfileError("commit outside the v1 profile (rejected)");
    const group = new MlsGroup(result.newState, this.cs);
    // A removed member's state stays at the old epoch; report the epoch the commit created.
    const removedSelf = !group.active;
    return { kind: "commit", sender, epoch: removedSelf ? this.epoch + 1 : group.epoch, removedSelf, group };
  }

  /** Current epoch, authenticator, exporter and roster: compared across implementations. */
  async epochInfo(): Promise<EpochInfo> {
    const exporter = await mlsExporter(this.state.keySchedule.exporterSecret, "lc-test", new Uint8Array(), 32, this.cs);
    const members: Member[] = [];
    this.state.ratchetTree.forEach((node, index) => {
      if (node?.nodeType === "leaf" && node.leaf.credential.credentialType === "basic") {
        members.push({ leaf: index / 2, identity: node.leaf.credential.identity });
      }
    });
    return { epoch: this.epoch, authenticator: toHex(this.state.keySchedule.epochAuthenticator), exporter: toHex(exporter), members };
  }

  /** Every occupied leaf with its credential identity and signature key. */
  leaves(): Leaf[] {
    const out: Leaf[] = [];
    this.state.ratchetTree.forEach((node, index) => {
      if (node?.nodeType === "leaf" && node.leaf.credential.credentialType === "basic") {
        out.push({ leaf: index / 2, identity: node.leaf.credential.identity, signatureKey: node.leaf.signaturePublicKey });
      }
    });
    return out;
  }

  private removesSelf(msg: MLSMessage): boolean {
    if (msg.wireformat !== "mls_public_message" || msg.publicMessage.content.contentType !== "commit") return false;
    return msg.publicMessage.content.commit.proposals.some(
      (p) => p.proposalOrRefType === "proposal" && p.proposal.proposalType === "remove" && p.proposal.remove.removed === this.ownLeaf,
    );
  }

  /** The sender leaf of a PrivateMessage, from its sender data (ts-mls does not return it). */
  private async applicationSender(pm: Extract<MLSMessage, { wireformat: "mls_private_message" }>["privateMessage"]): Promise<number> {
    const secret = pm.epoch === this.state.groupContext.epoch
      ? this.state.keySchedule.senderDataSecret
      : this.state.historicalReceiverData.get(pm.epoch)?.senderDataSecret;
    if (secret === undefined) {
      const why = pm.epoch > this.state.groupContext.epoch ? "a future epoch" : "past the retained epochs";
      throw new MlsProfileError(`no keys for epoch ${pm.epoch} (${why}; at ${this.epoch})`);
    }
    const senderData = await decryptSenderData(pm, secret, this.cs);
    if (senderData === undefined) throw new MlsProfileError("cannot decrypt sender data");
    return senderData.leafIndex;
  }
}
