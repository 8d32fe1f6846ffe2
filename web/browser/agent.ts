// The agent side of the browser tests, in Node with the shared TypeScript modules: a staff
// device whose Ed25519 key the tenant's issuing key certified (`sealdesk admin keys certify`),
// publishing certified key packages, filling its team's History Member pool with bundles
// sealed to a team key, claiming a conversation, joining the widget's group from the Welcome,
// and chatting (payload v1). It checks every member against the pinned root as the widget does.

import {
  generateKeyPackage, importKeyPackage, isWelcomeFor, MlsGroup, peekMessage, type KeyPackageBundle, type MlsPolicy,
} from "../shared/mls/adapter.js";
import { verifyIdentity, type TrustAnchor } from "../shared/mls/certs.js";
import { openFile, sealFile } from "../shared/files/attachment.js";
import { decodePayload, encodePayload, type Body, type FileRef } from "../shared/mls/payload.js";
import { nodeTransport } from "../shared/protocol/node-transport.js";
import type { RestClient } from "../shared/protocol/rest.js";
import { SealdeskSocket } from "../shared/protocol/socket.js";
import type { EntryFrame, EphemeralFrame } from "../shared/protocol/types.js";
import { openBundle, sealBundle } from "../shared/seal/bundle.js";
import type { HpkeKeys } from "../shared/seal/seal.js";
import { fromBase64, toBase64 } from "../shared/util/bytes.js";

/** A certified device: its 32-byte Ed25519 seed and its credential (SDCH chain). */
export interface Device {
  seed: Uint8Array;
  chain: Uint8Array;
}

const now = (): number => Math.floor(Date.now() / 1000);

export function policyFor(anchor: TrustAnchor): MlsPolicy {
  return {
    validateIdentity: async (identity, key) => {
      try {
        await verifyIdentity(identity, key, anchor, now());
        return true;
      } catch {
        return false;
      }
    },
  };
}

export type Said = { seq: number; sender: number; body: Body };

export class NodeAgent {
  private readonly bundles: KeyPackageBundle[] = [];
  private socket: SealdeskSocket | undefined;
  private group: MlsGroup | undefined;
  private cursor = 0;
  readonly entries: EntryFrame[] = [];
  /** Typing and read frames the visitor sent. */
  readonly ephemeral: EphemeralFrame[] = [];

  constructor(
    readonly url: string,
    readonly tenant: string,
    readonly rest: RestClient,
    readonly token: string,
    readonly device: Device,
    readonly anchor: TrustAnchor,
  ) {}

  /** Publishes `n` key packages signed with the certified device key. */
  async publishKeyPackages(n: number): Promise<void> {
    for (let i = 0; i < n; i++) this.bundles.push(await generateKeyPackage(this.device.chain, "device", this.device.seed));
    await this.rest.publishKeyPackages(this.bundles.slice(-n).map((b) => toBase64(b.keyPackage)));
  }

  /** History Member key packages (certified History devices) sealed to the team key by this device. */
  async fillHistoryPool(team: string, teamBytes: Uint8Array, members: Device[], teamKey: HpkeKeys): Promise<void> {
    const entries = [];
    for (const hm of members) {
      const kp = await generateKeyPackage(hm.chain, "history", hm.seed);
      const sealed = await sealBundle(kp, this.anchor.tenant, teamBytes, this.device.chain, [{ kind: "team", keyVersion: 1, publicKey: teamKey.publicKey }], this.device.seed);
      entries.push({ key_package: toBase64(kp.keyPackage), sealed_bundle: toBase64(sealed) });
    }
    await this.rest.publishHistoryPool(this.tenant, team, entries);
  }

  /** Waits for a conversation of the given state that is not in `seen`. */
  async waitForConversation(state: string, seen: Set<string>, timeoutMs = 60_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const { conversations } = await this.rest.listConversations(this.tenant, { state });
      const fresh = conversations.find((c) => !seen.has(c.id));
      if (fresh !== undefined) return fresh.id;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`no new ${state} conversation within ${timeoutMs} ms`);
  }

  async open(conversation: string): Promise<void> {
    this.socket = await SealdeskSocket.connect(nodeTransport, this.url, { via: "header", token: this.token });
    this.socket.onEphemeral = (f) => this.ephemeral.push(f);
    await this.socket.subscribe(conversation, 0);
  }

  private async next(conversation: string, timeoutMs: number): Promise<EntryFrame> {
    if (this.socket === undefined) throw new Error("not connected");
    const e = await this.socket.nextEntry(conversation, timeoutMs);
    this.entries.push(e);
    return e;
  }

  /** Reads the log until the widget's Welcome for one of our key packages, and joins. */
  async join(conversation: string, timeoutMs = 60_000): Promise<void> {
    for (;;) {
      const e = await this.next(conversation, timeoutMs);
      this.cursor = e.seq;
      if (e.k !== "welcome") continue;
      const welcome = fromBase64(e.p);
      for (const b of this.bundles) {
        if (await isWelcomeFor(welcome, b.keyPackage)) {
          this.group = await MlsGroup.join(welcome, b, policyFor(this.anchor));
          return;
        }
      }
    }
  }

  /** Whether the log up to now holds a Welcome for one of our key packages (reads what has arrived). */
  async welcomedWithin(conversation: string, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      let e: EntryFrame;
      try {
        e = await this.next(conversation, Math.max(1, end - Date.now()));
      } catch {
        return false;
      }
      if (e.k !== "welcome") continue;
      for (const b of this.bundles) if (await isWelcomeFor(fromBase64(e.p), b.keyPackage)) return true;
    }
    return false;
  }

  /** Processes entries until a payload satisfying `want` from another member arrives. */
  async waitFor(conversation: string, want: (s: Said) => boolean, timeoutMs = 30_000): Promise<Said> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const e = await this.next(conversation, Math.max(1, end - Date.now()));
      this.cursor = e.seq;
      if (e.k === "system" || e.k === "welcome" || e.from.kind === "staff") continue;
      const bytes = fromBase64(e.p);
      if (peekMessage(bytes).wire === "group_info") continue;
      const r = await this.mls.process(bytes);
      this.group = r.group;
      if (r.kind !== "application") continue;
      const said = { seq: e.seq, sender: r.sender, body: decodePayload(r.plaintext).body };
      if (want(said)) return said;
    }
  }

  async say(conversation: string, text: string, tamper = false): Promise<number> {
    return this.sayBody(conversation, { kind: "text", text }, tamper);
  }

  /** An attachment: encrypted here, the blob uploaded, its reference sent in the group. */
  async sendFile(conversation: string, name: string, bytes: Uint8Array, mediaType = "text/plain"): Promise<number> {
    const { blob, ref } = await sealFile(bytes, name, mediaType);
    await this.rest.uploadAttachment(this.tenant, conversation, blob);
    return this.sayBody(conversation, { kind: "file", file: ref });
  }

  /** Downloads a received attachment and opens it (size, SHA-256, AES-GCM). */
  async openFile(conversation: string, ref: FileRef): Promise<Uint8Array> {
    const hexName = Array.from(ref.sha256, (b) => b.toString(16).padStart(2, "0")).join("");
    return openFile(await this.rest.downloadAttachment(this.tenant, conversation, hexName), ref);
  }

  async sayBody(conversation: string, body: Body, tamper = false): Promise<number> {
    const payload = encodePayload({ msgId: crypto.getRandomValues(new Uint8Array(16)), sentAtMs: BigInt(Date.now()), body });
    const { message, group } = await this.mls.send(payload);
    this.group = group;
    // A forged message: one bit of the AEAD tag flipped (what a malicious server could send).
    if (tamper) message[message.length - 1] = (message[message.length - 1] ?? 0) ^ 1;
    return (await this.sock.send(conversation, "application", message)).seq;
  }

  typing(conversation: string, on: boolean): void {
    this.sock.typing(conversation, on);
  }

  read(conversation: string): void {
    this.sock.read(conversation, this.cursor);
  }

  /**
   * The team's view through the conversation's History Member (E2EE.md §5.2): the sealed
   * bundle opened with the team key, joined from its Welcome, every message decrypted.
   */
  async replayHistory(conversation: string, teamKey: HpkeKeys): Promise<Body[]> {
    const hm = await this.rest.historyBundle(this.tenant, conversation);
    const secrets = await openBundle(fromBase64(hm.sealed_bundle ?? ""), { kind: "team", keyVersion: 1, ...teamKey }, this.anchor, now());
    const bundle = importKeyPackage(secrets);
    const { entries } = await this.rest.entries(this.tenant, conversation);
    let group: MlsGroup | undefined;
    const out: Body[] = [];
    for (const e of entries) {
      if (e.k === "system") continue;
      const bytes = fromBase64(e.p);
      if (group === undefined) {
        if (e.k === "welcome" && (await isWelcomeFor(bytes, bundle.keyPackage))) group = await MlsGroup.join(bytes, bundle, policyFor(this.anchor));
        continue;
      }
      if (e.k === "welcome") continue;
      const r = await group.process(bytes);
      group = r.group;
      if (r.kind === "application") out.push(decodePayload(r.plaintext).body);
    }
    return out;
  }

  close(): void {
    this.socket?.close();
  }

  private get mls(): MlsGroup {
    if (this.group === undefined) throw new Error("not in the group");
    return this.group;
  }

  private get sock(): SealdeskSocket {
    if (this.socket === undefined) throw new Error("not connected");
    return this.socket;
  }
}
