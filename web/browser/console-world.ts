// The world of the console's browser test: a real `sealdesk serve --web-dir` serving the
// freshly built console and widget, a tenant whose key hierarchy (root, issuing key, team key)
// and History Member pool were made with the admin CLI, an agent account that has no device
// yet (the console enrols one), and the shop page on another origin embedding the widget.
// The test plays the administrator with the same CLI (`admin keys devices` / `admin keys enrol`).

import { spawn } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { RestClient } from "../shared/protocol/rest.js";
import { buildConsole } from "../console/bundle.js";
import { serverPath } from "../interop/server.js";
import { buildWidget, WIDGET_FILE } from "../widget/bundle.js";
import { FIELDS, hostPage, NOTICE, type HostPage } from "./fixture.js";
import { shopPage } from "./pages.js";

export const ROOT_PASS = "root key passphrase 42";
export const ISSUING_PASS = "issuing key passphrase 42";
const TEAM_PASS = "team key passphrase 42";
export const SUPERVISOR_NAME = `<img src=x onerror="window.__xss=9">Sara`;

export interface ConsoleWorld {
  /** The console's origin: `localhost`, a secure context where the `__Host-` cookie is kept. */
  url: string;
  /** The same server by its loopback address, for Node clients. */
  apiUrl: string;
  tenant: string;
  team: string;
  agent: { email: string; password: string; name: string };
  /** A second agent, for the sign-in with an authentication code. */
  totpAgent: { email: string; password: string };
  /** A third agent, who takes over a conversation. */
  nextAgent: { email: string; password: string };
  /** A supervisor of the team. */
  supervisor: { email: string; password: string };
  /** The tenant's administrator (who set it up over REST). */
  adminUser: { email: string; password: string };
  tenantKey: string;
  /** The root key's fingerprint as `keys init` printed it. */
  rootFingerprint: string;
  host: HostPage;
  /** `sealdesk admin … --json` on the server's data directory. */
  admin(args: string[], stdin?: string): Promise<Record<string, unknown>>;
  /** Where the owner's key files are (`root.key`, `issuing.key`, `team.key`, …). */
  keyPath(name: string): string;
  /** The administrator certifies a device after comparing `fingerprint` (as read on the screen). */
  enrol(device: string, fingerprint: string, role?: "agent" | "supervisor"): Promise<Record<string, unknown>>;
  /** The administrator revokes a device over REST (`DELETE /api/tenants/{t}/devices/{id}`). */
  revoke(device: string): Promise<void>;
  snippet(): string;
  stop(): Promise<void>;
}

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SEALDESK_")) env[k] = v;
  env.SEALDESK_LOG__FILTER = "warn";
  return env;
}

function runAdmin(dir: string, dataDir: string, args: string[], stdin = ""): Promise<Record<string, unknown>> {
  const child = spawn(serverPath(), ["admin", "--data-dir", dataDir, ...args, "--json"], { cwd: dir, env: childEnv() });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (err += c.toString("utf8")));
  // A command that refuses before reading its passphrases (a wrong fingerprint, say) may exit
  // before stdin is written: EPIPE then, and the exit code tells what happened.
  child.stdin.on("error", () => undefined);
  child.stdin.end(stdin);
  return new Promise((resolve, reject) =>
    child.on("exit", (code) => {
      if (code !== 0) reject(new Error(`sealdesk admin ${args.join(" ")} failed (${code}): ${err.trim()}`));
      else resolve(JSON.parse(out === "" ? "{}" : out) as Record<string, unknown>);
    }),
  );
}

const id = (v: Record<string, unknown>): string => {
  if (typeof v.id !== "string") throw new Error(`no id in ${JSON.stringify(v)}`);
  return v.id;
};

/** A loopback port nobody listens on now (for a server whose public URL must be known before it starts). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export interface WorldOptions {
  /**
   * Passkeys on: the server's public URL (`server.public_url`, the WebAuthn relying party)
   * is the console's own address, `http://localhost:PORT`.
   */
  passkeys?: boolean;
}

export async function startConsoleWorld(options: WorldOptions = {}): Promise<ConsoleWorld> {
  const dir = await mkdtemp(join(tmpdir(), "sealdesk-console-"));
  const dataDir = join(dir, "data");
  const dist = join(dir, "dist");
  await buildWidget(dist);
  await buildConsole(dist);
  const host = await hostPage(await readFile(join(dist, WIDGET_FILE)));
  const admin = (args: string[], stdin?: string) => runAdmin(dir, dataDir, args, stdin);
  const key = (name: string) => join(dir, name);
  const adminPass = `${crypto.randomUUID()}-Zq7!`;
  const agent = { email: "jane@interop.localhost", password: `${crypto.randomUUID()}-Zq7!`, name: "" };
  const totpAgent = { email: "omar@interop.localhost", password: `${crypto.randomUUID()}-Zq7!` };
  const supervisor = { email: "sara@interop.localhost", password: `${crypto.randomUUID()}-Zq7!` };
  const nextAgent = { email: "lee@interop.localhost", password: `${crypto.randomUUID()}-Zq7!` };

  const tenant = id(await admin(["tenant", "create", "--name", "Interop", "--domain", "interop.localhost", "--no-require-2fa", "--origin", host.origin]));
  const team = id(await admin(["team", "create", "--tenant", tenant, "--name", "Support"]));
  await admin(["staff", "create", "--tenant", tenant, "--email", "owner@interop.localhost", "--role", "admin", "--password-stdin"], `${adminPass}\n`);
  const agentView = await admin(["staff", "create", "--tenant", tenant, "--email", agent.email, "--role", "agent", "--password-stdin"], `${agent.password}\n`);
  agent.name = typeof agentView.display_name === "string" ? agentView.display_name : "";
  await admin(["staff", "create", "--tenant", tenant, "--email", totpAgent.email, "--role", "agent", "--password-stdin"], `${totpAgent.password}\n`);
  const nextView = await admin(["staff", "create", "--tenant", tenant, "--email", nextAgent.email, "--role", "agent", "--password-stdin"], `${nextAgent.password}\n`);
  // Markup in a colleague's name: the certificate label every console and widget shows.
  const supervisorView = await admin(["staff", "create", "--tenant", tenant, "--email", supervisor.email, "--role", "supervisor", "--name", SUPERVISOR_NAME,
    "--password-stdin"], `${supervisor.password}\n`);
  const root = await admin(["keys", "init", "--tenant", tenant, "--out", key("root.key"), "--passphrase-stdin"], `${ROOT_PASS}\n`);
  const rootFingerprint = String(root.fingerprint);
  const tenantKey = String(root.snippet).replace(/^data-sealdesk-tenant-key="(.*)"$/, "$1");
  await admin(["keys", "issue", "--tenant", tenant, "--root", key("root.key"), "--out", key("issuing.key"), "--passphrase-stdin"], `${ROOT_PASS}\n${ISSUING_PASS}\n`);
  await admin(["keys", "team", "--tenant", tenant, "--team", team, "--root", key("root.key"), "--out", key("team.key"), "--passphrase-stdin"], `${ROOT_PASS}\n${TEAM_PASS}\n`);
  await admin(["keys", "history-pool", "--tenant", tenant, "--team", team, "--issuing", key("issuing.key"), "--team-key", key("team.key"), "--count", "4", "--passphrase-stdin"], `${ISSUING_PASS}\n${TEAM_PASS}\n`);

  let stderr = "";
  const env = childEnv();
  let listen = "127.0.0.1:0";
  if (options.passkeys === true) {
    const port = await freePort();
    listen = `127.0.0.1:${port}`;
    env.SEALDESK_SERVER__PUBLIC_URL = `http://localhost:${port}/`;
  }
  const child = spawn(serverPath(), ["serve", "--data-dir", dataDir, "--listen", listen, "--no-metrics", "--web-dir", dist], {
    cwd: dir, env, stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr?.on("data", (c: Buffer) => (stderr = (stderr + c.toString("utf8")).slice(-4000)));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    await host.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no address within 60 s: ${stderr}`)), 60_000);
      createInterface({ input: child.stdout }).on("line", (line) => {
        const rest = line.split(" listening on ")[1];
        if (rest !== undefined) {
          clearTimeout(timer);
          resolve(rest.trim());
        }
      });
      child.on("exit", (code) => reject(new Error(`sealdesk serve exited (${code}): ${stderr}`)));
    });
    const url = address.replace("127.0.0.1", "localhost");
    let ready = false;
    for (let i = 0; i < 300 && !ready; i++) {
      ready = await fetch(new URL("/readyz", address)).then((r) => r.ok, () => false);
      if (!ready) await new Promise((r) => setTimeout(r, 100));
    }
    if (!ready) throw new Error(`server not ready after 30 s: ${stderr}`);
    // The administrator's set-up over REST: the agent in the team, manual routing, the inbox.
    const login = await new RestClient(address).login(tenant, "owner@interop.localhost", adminPass);
    const owner = new RestClient(address, login.token);
    await owner.addTeamMember(tenant, team, id(agentView));
    await owner.addTeamMember(tenant, team, id(supervisorView));
    await owner.addTeamMember(tenant, team, id(nextView));
    await owner.setRouting(tenant, team, "manual");
    await owner.setWidgetSettings(tenant, team, { privacy_notice: NOTICE, prechat_fields: FIELDS });
    const snippet = () =>
      `<script type="module" src="${host.origin}/sealdesk-widget.js" crossorigin="anonymous" ` +
      `data-sealdesk-inbox="${tenant}/${team}" data-sealdesk-tenant-key="${tenantKey}" data-sealdesk-server="${address}"></script>`;
    const enrol = (device: string, fingerprint: string, role: "agent" | "supervisor" = "agent") =>
      admin(["keys", "enrol", "--tenant", tenant, "--device", device, "--fingerprint", fingerprint, "--issuing", key("issuing.key"), "--role", role,
        "--team-key", key("team.key"), "--passphrase-stdin"], `${ISSUING_PASS}\n${TEAM_PASS}\n`);
    const revoke = async (device: string): Promise<void> => {
      const res = await fetch(new URL(`/api/tenants/${tenant}/devices/${device}`, address), { method: "DELETE", headers: { authorization: `Bearer ${login.token}` } });
      if (!res.ok) throw new Error(`revoke: ${res.status} ${await res.text()}`);
    };
    const adminUser = { email: "owner@interop.localhost", password: adminPass };
    return { url, apiUrl: address, revoke, adminUser, tenant, team, agent, totpAgent, supervisor, nextAgent, tenantKey, rootFingerprint, host, admin, keyPath: key, enrol, snippet, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Puts the demo shop page, embedding the world's widget snippet, at the host's `/`. */
export function serveShop(world: ConsoleWorld): void {
  const snippet = world.snippet();
  world.host.set("/", shopPage(snippet, world.host.origin, snippet.match(/data-sealdesk-server="([^"]+)"/)?.[1] ?? ""));
}
