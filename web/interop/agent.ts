// The Rust openmls test agent (crates/sealdesk-mls/src/bin/sealdesk-mls-agent.rs) as a
// subprocess speaking JSON lines: one request per line on stdin, one response per request on
// stdout, logs on stderr. Byte strings are standard base64. One MLS client per process.

import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { fromBase64, toBase64 } from "../shared/util/bytes.js";
import type { EpochInfo, KeyPackageBundle } from "../shared/mls/adapter.js";

/** The repository root (web/..): CI clones it next to ../shared. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * A Cargo-built binary: `$envVar` if set, else the first existing of
 * `$CARGO_TARGET_DIR/debug/<name>`, `~/.cache/sealdesk-target/debug/<name>` (what .ci/run
 * uses) and `<repo>/target/debug/<name>` (a plain `cargo build`).
 */
export function binaryPath(name: string, envVar: string): string {
  const explicit = process.env[envVar];
  if (explicit !== undefined && explicit !== "") return explicit;
  const dirs = [process.env.CARGO_TARGET_DIR, join(homedir(), ".cache", "sealdesk-target"), join(REPO_ROOT, "target")];
  const candidates = dirs.filter((d): d is string => d !== undefined && d !== "").map((d) => join(d, "debug", name));
  return candidates.find((p) => existsSync(p)) ?? candidates[0] ?? name;
}

export const agentPath = (): string => binaryPath("sealdesk-mls-agent", "SEALDESK_MLS_AGENT");

/** A failed request, with the exact request and response lines for the bug report. */
export class AgentError extends Error {
  override name = "AgentError";
  constructor(
    readonly op: string,
    readonly request: string,
    readonly response: string,
  ) {
    super(`agent ${op} failed: ${response} (request ${request.length > 300 ? `${request.slice(0, 300)}…` : request})`);
  }
}

type Json = Record<string, unknown>;
interface Pending {
  op: string;
  line: string;
  resolve(value: Json): void;
  reject(err: Error): void;
}

export type AgentProcessed =
  | { kind: "application"; plaintext: Uint8Array; sender: number }
  | { kind: "commit"; epoch: number; removedSelf: boolean };

export class RustAgent {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private stderrTail = "";
  private exited: Error | undefined;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly name: string,
  ) {
    createInterface({ input: child.stdout }).on("line", (line) => this.onLine(line));
    child.stderr.on("data", (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-4000);
    });
    child.on("exit", (code, signal) => {
      this.exited = new Error(`agent ${name} exited (${code ?? signal}); stderr: ${this.stderrTail.trim()}`);
      for (const p of this.pending.values()) p.reject(this.exited);
      this.pending.clear();
    });
  }

  static spawn(name: string, path = agentPath()): RustAgent {
    if (!existsSync(path)) throw new Error(`Rust MLS agent not found at ${path}: build it (cargo build -p sealdesk-mls) or set SEALDESK_MLS_AGENT`);
    const child = spawn(path, [], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, RUST_BACKTRACE: "1" } });
    return new RustAgent(child, name);
  }

  get stderr(): string {
    return this.stderrTail;
  }

  private onLine(line: string): void {
    let msg: Json;
    try {
      msg = JSON.parse(line) as Json;
    } catch {
      this.stderrTail += `\n[stdout, not JSON] ${line}`;
      return;
    }
    const id = typeof msg.id === "number" ? msg.id : -1;
    const p = this.pending.get(id);
    if (p === undefined) {
      this.stderrTail += `\n[stdout, unmatched id] ${line}`;
      return;
    }
    this.pending.delete(id);
    if (msg.ok === true) p.resolve(msg);
    else p.reject(new AgentError(p.op, p.line, line));
  }

  private request(op: string, args: Json = {}, timeoutMs = 30_000): Promise<Json> {
    if (this.exited !== undefined) return Promise.reject(this.exited);
    const id = this.nextId++;
    const line = JSON.stringify({ id, op, ...args });
    return new Promise<Json>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new AgentError(op, line, `no response within ${timeoutMs} ms; stderr: ${this.stderrTail.trim()}`));
      }, timeoutMs);
      this.pending.set(id, {
        op,
        line,
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.child.stdin.write(`${line}\n`);
    });
  }

  /**
   * A new signature key and Basic credential. Required before every other op, import_key_package
   * included (which then replaces identity and key). `trustedPrefixes`: the agent's credential
   * check accepts only identities starting with one of them (every identity when empty).
   */
  async init(identity: Uint8Array, trustedPrefixes: string[] = []): Promise<Uint8Array> {
    const args = trustedPrefixes.length === 0 ? {} : { trusted_prefixes: trustedPrefixes };
    return bytes(await this.request("init", { identity: toBase64(identity), ...args }), "signature_key");
  }

  /** A device key package (30 days), or an HM key package (90 days) with `history`. */
  async keyPackage(opts: { history?: boolean } = {}): Promise<Uint8Array> {
    return bytes(await this.request("key_package", opts.history === true ? { history: true } : {}), "key_package");
  }

  async createGroup(groupId: Uint8Array): Promise<number> {
    return num(await this.request("create_group", { group_id: toBase64(groupId) }), "epoch");
  }

  /**
   * `group_info {}` → `{group_info: b64}`: MLSMessage(GroupInfo) of the current epoch with the
   * ratchet_tree extension, which the server requires as a new group's first handshake entry.
   * (Added after the spike's agent protocol; the op name follows `Client::group_info`.)
   */
  async groupInfo(): Promise<Uint8Array> {
    return bytes(await this.request("group_info"), "group_info");
  }

  async join(welcome: Uint8Array): Promise<number> {
    return num(await this.request("join", { welcome: toBase64(welcome) }), "epoch");
  }

  /** A pending commit: the group advances only on merge() (after the server's ack). */
  async commit(ops: { add?: readonly Uint8Array[]; remove?: readonly number[] }): Promise<{ commit: Uint8Array; welcome: Uint8Array | null }> {
    const r = await this.request("commit", { add: (ops.add ?? []).map(toBase64), remove: ops.remove ?? [] });
    return { commit: bytes(r, "commit"), welcome: r.welcome === null || r.welcome === undefined ? null : bytes(r, "welcome") };
  }

  async selfUpdate(): Promise<Uint8Array> {
    return bytes(await this.request("self_update"), "commit");
  }

  async merge(): Promise<number> {
    return num(await this.request("merge"), "epoch");
  }

  async discard(): Promise<void> {
    await this.request("discard");
  }

  async send(plaintext: Uint8Array): Promise<Uint8Array> {
    return bytes(await this.request("send", { plaintext: toBase64(plaintext) }), "message");
  }

  async process(message: Uint8Array): Promise<AgentProcessed> {
    const r = await this.request("process", { message: toBase64(message) });
    if (r.kind === "application") return { kind: "application", plaintext: bytes(r, "plaintext"), sender: num(r, "sender") };
    if (r.kind === "commit") return { kind: "commit", epoch: num(r, "epoch"), removedSelf: r.removed_self === true };
    throw new AgentError("process", "(see previous)", JSON.stringify(r));
  }

  /** In the adapter's EpochInfo shape, so that both sides compare with toEqual. */
  async epoch(): Promise<EpochInfo> {
    const r = await this.request("epoch");
    const members = (r.members as { leaf: number; identity: string }[]).map((m) => ({ leaf: m.leaf, identity: fromBase64(m.identity) }));
    return {
      epoch: num(r, "epoch"),
      authenticator: String(r.authenticator).toLowerCase(),
      exporter: String(r.exporter).toLowerCase(),
      members,
    };
  }

  async exportKeyPackagePrivate(): Promise<KeyPackageBundle> {
    const r = await this.request("export_key_package_private");
    return {
      keyPackage: bytes(r, "key_package"),
      initPrivate: bytes(r, "init_private"),
      encryptionPrivate: bytes(r, "encryption_private"),
      signaturePrivate: bytes(r, "signature_private"),
    };
  }

  /** Private keys as raw 32-byte values (the adapter's KeyPackageBundle already is). */
  async importKeyPackage(bundle: KeyPackageBundle): Promise<void> {
    await this.request("import_key_package", {
      key_package: toBase64(bundle.keyPackage),
      init_private: toBase64(bundle.initPrivate),
      encryption_private: toBase64(bundle.encryptionPrivate),
      signature_private: toBase64(bundle.signaturePrivate),
    });
  }

  async save(path: string): Promise<void> {
    await this.request("save", { path });
  }

  async load(path: string): Promise<number> {
    return num(await this.request("load", { path }), "epoch");
  }

  /** Asks the agent to exit; kills it if it does not within 5 s. */
  async quit(): Promise<void> {
    if (this.exited !== undefined) return;
    const gone = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.request("quit").catch(() => undefined);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    await gone;
    clearTimeout(timer);
  }
}

function bytes(r: Json, field: string): Uint8Array {
  const v = r[field];
  if (typeof v !== "string") throw new Error(`agent response lacks ${field}: ${JSON.stringify(r)}`);
  return fromBase64(v);
}

function num(r: Json, field: string): number {
  const v = r[field];
  if (typeof v !== "number") throw new Error(`agent response lacks ${field}: ${JSON.stringify(r)}`);
  return v;
}
