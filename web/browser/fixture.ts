// The world of the browser tests: a real `sealdesk serve` whose tenant has a key hierarchy made
// with the admin CLI (root → issuing key → certified agent and History Member devices), a
// second registered root that the snippet does NOT pin (its certificates stand for a forger
// the server accepts but the widget must refuse), agents logged in over REST, the team's
// History Member pool filled, and a host page on another loopback origin embedding the built
// widget with its SRI value.

import { createServer, type Server } from "node:http";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { RestClient } from "../shared/protocol/rest.js";
import { deriveKeys, type HpkeKeys } from "../shared/seal/seal.js";
import { fromBase64, toBase64 } from "../shared/util/bytes.js";
import { ed25519PublicKey } from "../shared/util/ed25519.js";
import { startServer, type TestServer } from "../interop/server.js";
import { buildWidget, WIDGET_FILE, type Manifest } from "../widget/bundle.js";
import { anchorFrom, uuidBytes } from "../widget/trust.js";
import { NodeAgent, type Device } from "./agent.js";
import { SHOP_CSS } from "./pages.js";
import { relay, type Relay } from "./proxy.js";

const PASS = "correct horse battery staple 42";
const ISSUING_PASS = "issuing key passphrase 42";

export const LABELS = { agent: "Jane D.", forged: "Jane D.", xss: `<img src=x onerror="window.__xss=1">` } as const;

export const NOTICE = {
  version: "2026-11",
  text: "ACME keeps this chat for 30 days to answer your questions. Messages are end-to-end encrypted.",
  url: "https://acme.example/privacy",
};
export const FIELDS = [
  { name: "name", label: "Your name", kind: "text" as const, required: true },
  { name: "order", label: "Order number", kind: "text" as const, required: false },
];

export interface HostPage {
  readonly origin: string;
  /** Serves `html` at `path` (the widget itself is at /sealdesk-widget.js). */
  set(path: string, html: string): void;
  close(): Promise<void>;
}

/** A plain http server on another loopback port: the tenant's website. */
export async function hostPage(widget: Uint8Array): Promise<HostPage> {
  const pages = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/sealdesk-widget.js") {
      res.writeHead(200, { "content-type": "text/javascript", "cache-control": "no-store" });
      res.end(widget);
      return;
    }
    if (path === "/shop.css") {
      res.writeHead(200, { "content-type": "text/css" });
      res.end(SHOP_CSS);
      return;
    }
    if (path === "/favicon.ico") {
      res.writeHead(204).end();
      return;
    }
    const html = pages.get(path);
    if (html === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    set: (path, html) => void pages.set(path, html),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface World {
  server: TestServer;
  host: HostPage;
  manifest: Manifest;
  /** The snippet's tenant-key attribute value, as `keys init` printed it (root 1 only). */
  tenantKey: string;
  agent: NodeAgent;
  forger: NodeAgent;
  xss: NodeAgent;
  teamKey: HpkeKeys;
  /** What the widget connects through (data-sealdesk-server): cut it to drop the connection. */
  relay: Relay;
  /** The inbox whose History Member pool holds only a member certified under the unpinned root. */
  otherTeam: string;
  snippet(extra?: string, team?: string): string;
  stop(): Promise<void>;
}

async function newDevice(): Promise<{ seed: Uint8Array; subject: string }> {
  const seed = crypto.getRandomValues(new Uint8Array(32));
  return { seed, subject: toBase64(await ed25519PublicKey(seed)) };
}

export async function startWorld(): Promise<World> {
  const dist = await mkdtemp(join(tmpdir(), "sealdesk-widget-dist-"));
  const { manifest } = await buildWidget(dist);
  const host = await hostPage(await readFile(join(dist, WIDGET_FILE)));
  const devices = {
    agent: await newDevice(), forged: await newDevice(), xss: await newDevice(),
    // One History Member per conversation the tests open, and spares.
    history: await Promise.all(Array.from({ length: 8 }, newDevice)),
  };
  const chains: { agent: Uint8Array; forged: Uint8Array; xss: Uint8Array; history: Uint8Array[]; forgedHistory: Uint8Array } = {
    agent: new Uint8Array(), forged: new Uint8Array(), xss: new Uint8Array(), history: [], forgedHistory: new Uint8Array(),
  };
  const forgedHistory = await newDevice();
  let otherTeam = "";
  let tenantKey = "";
  const staffPasswords = { forged: `${crypto.randomUUID()}-Zq7!`, xss: `${crypto.randomUUID()}-Zq7!` };
  const server = await startServer({
    origins: [host.origin],
    prepare: async (run, { tenant, team, dir }) => {
      const root = await run(["keys", "init", "--tenant", tenant, "--out", join(dir, "root1.key"), "--passphrase-stdin"], `${PASS}\n`);
      tenantKey = String(root.snippet).replace(/^data-sealdesk-tenant-key="(.*)"$/, "$1");
      await run(["keys", "issue", "--tenant", tenant, "--root", join(dir, "root1.key"), "--out", join(dir, "issuing1.key"), "--passphrase-stdin"], `${PASS}\n${ISSUING_PASS}\n`);
      const certify = async (issuing: string, role: string, label: string, subject: string, extra: string[] = []) =>
        fromBase64(String((await run(["keys", "certify", "--tenant", tenant, "--issuing", join(dir, issuing), "--role", role, "--label", label,
          "--subject", subject, ...extra, "--passphrase-stdin"], `${ISSUING_PASS}\n`)).credential));
      chains.agent = await certify("issuing1.key", "agent", LABELS.agent, devices.agent.subject);
      chains.xss = await certify("issuing1.key", "agent", LABELS.xss, devices.xss.subject);
      for (const hm of devices.history) chains.history.push(await certify("issuing1.key", "history", "Support archive", hm.subject, ["--team", team, "--days", "120"]));
      // A second registered root that the snippet does not pin: the server accepts its
      // devices (defence in depth only checks "some root of the tenant"), the widget must not.
      await run(["keys", "init", "--tenant", tenant, "--out", join(dir, "root2.key"), "--passphrase-stdin"], `${PASS}\n`);
      await run(["keys", "issue", "--tenant", tenant, "--root", join(dir, "root2.key"), "--out", join(dir, "issuing2.key"), "--passphrase-stdin"], `${PASS}\n${ISSUING_PASS}\n`);
      chains.forged = await certify("issuing2.key", "agent", LABELS.forged, devices.forged.subject);
      // A second inbox whose only History Member is certified under the unpinned root.
      otherTeam = String((await run(["team", "create", "--tenant", tenant, "--name", "Sales"])).id);
      chains.forgedHistory = await certify("issuing2.key", "history", "Sales archive", forgedHistory.subject, ["--team", otherTeam, "--days", "120"]);
      for (const who of ["forged", "xss"] as const) {
        await run(["staff", "create", "--tenant", tenant, "--email", `${who}@interop.localhost`, "--role", "agent", "--password-stdin"], `${staffPasswords[who]}\n`);
      }
    },
  });
  try {
    const anchor = anchorFrom(server.tenant, tenantKey);
    const staffIds = new Map<string, string>();
    const login = async (email: string, password: string) => {
      const r = await new RestClient(server.url).login(server.tenant, email, password);
      if (r.token === undefined) throw new Error("no token");
      staffIds.set(email, r.session.staff.id);
      return r.token;
    };
    const make = async (token: string, device: Device): Promise<NodeAgent> => {
      const rest = server.staff.withToken(token);
      return new NodeAgent(server.url, server.tenant, rest, token, device, anchor);
    };
    const agent = await make(server.staffToken, { seed: devices.agent.seed, chain: chains.agent });
    const forgerToken = await login("forged@interop.localhost", staffPasswords.forged);
    const xssToken = await login("xss@interop.localhost", staffPasswords.xss);
    const forger = await make(forgerToken, { seed: devices.forged.seed, chain: chains.forged });
    const xss = await make(xssToken, { seed: devices.xss.seed, chain: chains.xss });
    for (const [token, email] of [[forgerToken, "forged@interop.localhost"], [xssToken, "xss@interop.localhost"]] as const) {
      await server.staff.addTeamMember(server.tenant, server.team, staffIds.get(email) ?? "");
      await server.staff.withToken(token).setAvailability("online");
    }
    await server.staff.setWidgetSettings(server.tenant, server.team, { privacy_notice: NOTICE, prechat_fields: FIELDS });
    for (const a of [agent, forger, xss]) await a.publishKeyPackages(3);
    const teamKey = await deriveKeys(crypto.getRandomValues(new Uint8Array(32)));
    await agent.fillHistoryPool(server.team, uuidBytes(server.team), devices.history.map((h, i) => ({ seed: h.seed, chain: chains.history[i] ?? new Uint8Array() })), teamKey);
    const serverRelay = await relay(server.url);
    await server.staff.addTeamMember(server.tenant, otherTeam, server.staffId);
    await agent.fillHistoryPool(otherTeam, uuidBytes(otherTeam), [{ seed: forgedHistory.seed, chain: chains.forgedHistory }], teamKey);
    const snippet = (extra = "", team = server.team) =>
      `<script type="module" src="${host.origin}/sealdesk-widget.js" integrity="${manifest.widget.integrity}" crossorigin="anonymous" ` +
      `data-sealdesk-inbox="${server.tenant}/${team}" data-sealdesk-tenant-key="${tenantKey}" data-sealdesk-server="${serverRelay.url}"${extra}></script>`;
    return {
      server, host, manifest, tenantKey, agent, forger, xss, teamKey, snippet, relay: serverRelay, otherTeam,
      stop: async () => {
        for (const a of [agent, forger, xss]) a.close();
        await serverRelay.close();
        await server.stop();
        await host.close();
        await rm(dist, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await server.stop();
    await host.close();
    throw e;
  }
}
