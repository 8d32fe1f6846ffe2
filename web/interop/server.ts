// Our real server as a child process: a throwaway data directory provisioned with the admin
// CLI, `sealdesk serve` on an OS-chosen loopback port, and a staff member (admin role) in one
// team, logged in over REST, available, with manual routing so that claims decide assignment.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { RestClient } from "../shared/protocol/rest.js";
import { binaryPath } from "./agent.js";

export const serverPath = (): string => binaryPath("sealdesk", "SEALDESK_BIN");

export interface TestServer {
  readonly url: string;
  readonly tenant: string;
  readonly team: string;
  readonly staffId: string;
  /** The staff member's CLI session token (bearer). */
  readonly staffToken: string;
  /** REST client authenticated as the staff member. */
  readonly staff: RestClient;
  /** Runs `sealdesk admin … --json` on the server's data directory. */
  admin(args: string[], stdin?: string): Promise<Record<string, unknown>>;
  /** The throwaway directory (key files may be written there). */
  readonly dir: string;
  stop(): Promise<void>;
}

/** Provisioning beyond the default tenant, team and admin (before `serve` starts). */
export interface ServerOptions {
  /** Origins allowed to embed the widget. */
  origins?: string[];
  /** Runs after the default provisioning, with the admin CLI and the ids. */
  prepare?: (run: TestServer["admin"], ids: { tenant: string; team: string; staffId: string; dir: string }) => Promise<void>;
}

/**
 * The environment of every `sealdesk` child: our own SEALDESK_* variables (SEALDESK_BIN,
 * SEALDESK_MLS_AGENT) are removed because the server refuses unknown SEALDESK_* keys.
 */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SEALDESK_")) env[k] = v;
  env.SEALDESK_LOG__FILTER = "warn";
  // The test sends bursts of frames on one connection; the default is 20/s (bursts of 40).
  env.SEALDESK_CHAT__MESSAGES_PER_SECOND = "1000";
  return env;
}

async function admin(bin: string, cwd: string, dataDir: string, args: string[], stdin = ""): Promise<Record<string, unknown>> {
  const child = spawn(bin, ["admin", "--data-dir", dataDir, ...args, "--json"], { cwd, env: childEnv() });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (err += c.toString("utf8")));
  child.stdin.end(stdin);
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`sealdesk admin ${args.join(" ")} failed (${code}): ${err.trim()}`);
  return JSON.parse(out) as Record<string, unknown>;
}

function idOf(value: Record<string, unknown>, what: string): string {
  if (typeof value.id !== "string") throw new Error(`${what} printed no id: ${JSON.stringify(value)}`);
  return value.id;
}

async function waitForAddress(child: ChildProcess, stderr: () => string): Promise<string> {
  if (child.stdout === null) throw new Error("no stdout pipe");
  const lines = createInterface({ input: child.stdout });
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no address printed within 60 s; stderr: ${stderr()}`)), 60_000);
    lines.on("line", (line) => {
      const rest = line.split(" listening on ")[1];
      if (rest !== undefined) {
        clearTimeout(timer);
        resolve(rest.trim());
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`sealdesk serve exited (${code}); stderr: ${stderr()}`));
    });
  });
}

async function waitReady(url: string): Promise<void> {
  let last = "";
  for (let i = 0; i < 300; i++) {
    try {
      const res = await fetch(new URL("/readyz", url));
      if (res.ok) return;
      last = `${res.status}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server not ready after 30 s: ${last}`);
}

/** A tenant without a second-factor requirement, a team, and an admin with a password. */
async function provision(bin: string, dir: string, dataDir: string, password: string, origins: string[]) {
  const originArgs = origins.flatMap((o) => ["--origin", o]);
  const tenant = idOf(
    await admin(bin, dir, dataDir, ["tenant", "create", "--name", "Interop", "--domain", "interop.localhost", "--no-require-2fa", ...originArgs]),
    "tenant create",
  );
  const team = idOf(await admin(bin, dir, dataDir, ["team", "create", "--tenant", tenant, "--name", "Support"]), "team create");
  const staffArgs = ["staff", "create", "--tenant", tenant, "--email", "agent@interop.localhost", "--role", "admin", "--password-stdin"];
  const staffId = idOf(await admin(bin, dir, dataDir, staffArgs, `${password}\n`), "staff create");
  return { tenant, team, staffId };
}

export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  const bin = serverPath();
  if (!existsSync(bin)) throw new Error(`sealdesk binary not found at ${bin}: cargo build -p sealdesk, or set SEALDESK_BIN`);
  // The working directory is the temp dir too, so no ./sealdesk.toml is picked up.
  const dir = await mkdtemp(join(tmpdir(), "sealdesk-interop-"));
  const dataDir = join(dir, "data");
  const password = `${crypto.randomUUID()}-Zq7!`;
  let ids: { tenant: string; team: string; staffId: string };
  const run = (args: string[], stdin?: string) => admin(bin, dir, dataDir, args, stdin);
  try {
    ids = await provision(bin, dir, dataDir, password, options.origins ?? []);
    await options.prepare?.(run, { ...ids, dir });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const { tenant, team, staffId } = ids;

  let stderr = "";
  const child = spawn(bin, ["serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--no-metrics"], {
    cwd: dir,
    env: childEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr?.on("data", (c: Buffer) => (stderr = (stderr + c.toString("utf8")).slice(-4000)));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const url = await waitForAddress(child, () => stderr);
    await waitReady(url);
    const login = await new RestClient(url).login(tenant, "agent@interop.localhost", password);
    if (login.token === undefined) throw new Error("CLI login returned no token");
    const staff = new RestClient(url, login.token);
    await staff.addTeamMember(tenant, team, staffId);
    await staff.setRouting(tenant, team, "manual");
    await staff.setAvailability("online");
    return { url, tenant, team, staffId, staffToken: login.token, staff, admin: run, dir, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
