// The widget's ticket requests against a real server: a server under attack (the tenant's
// visitor_challenge = "always") refuses a ticket without a proof of work and the REST client
// solves it; an identity token from the tenant's page makes the visitor that customer,
// verified.

import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RestClient } from "../shared/protocol/rest.js";
import { startServer, type TestServer } from "./server.js";

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server?.stop();
});

async function staffCall(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${server.staffToken}`, "content-type": "application/json" } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(new URL(path, server.url), init);
  expect(res.ok, `${method} ${path}: ${res.status}`).toBe(true);
  return (await res.json()) as Record<string, unknown>;
}

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString("base64url");
}

/** An HS256 JWT (RFC 7519) as a tenant's website would sign it. */
function jwt(secret: Buffer, claims: Record<string, unknown>): string {
  const head = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = base64url(JSON.stringify(claims));
  const mac = createHmac("sha256", secret).update(`${head}.${body}`).digest();
  return `${head}.${body}.${base64url(mac)}`;
}

describe("identified visitors", () => {
  it("get a ticket for the customer the page's token names", async () => {
    const identity = await staffCall("PUT", `/api/tenants/${server.tenant}/teams/${server.team}/identity`, { kind: "hs256" });
    const secret = Buffer.from(String(identity.secret), "base64url");
    const now = Math.floor(Date.now() / 1000);
    const token = jwt(secret, { sub: "cust-42", aud: server.team, iat: now, exp: now + 600 });
    const ticket = await new RestClient(server.url).ticket(server.tenant, server.team, undefined, token);
    const visitor = await staffCall("GET", `/api/tenants/${server.tenant}/visitors/${ticket.visitor_id}`);
    expect(visitor.verified).toBe(true);
    expect(visitor.external_id).toBe("cust-42");
    // A token signed with another secret is refused.
    const forged = jwt(Buffer.alloc(32, 7), { sub: "cust-43", aud: server.team, iat: now, exp: now + 600 });
    await expect(new RestClient(server.url).ticket(server.tenant, server.team, undefined, forged)).rejects.toThrow();
  });
});

describe("proof of work before a visitor ticket", () => {
  it("is solved by the widget's REST client when the server asks for it", async () => {
    const path = `/api/tenants/${server.tenant}/settings`;
    const settings = await staffCall("GET", path);
    await staffCall("PUT", path, { ...settings, visitor_challenge: "always" });

    const bare = await fetch(new URL(`/api/widget/${server.tenant}/${server.team}/tickets`, server.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(bare.status).toBe(429);
    expect(((await bare.json()) as { code: string }).code).toBe("challenge_required");

    const ticket = await new RestClient(server.url).ticket(server.tenant, server.team);
    expect(ticket.ticket).toMatch(/^sd_vt_/);
    await staffCall("PUT", path, { ...settings, visitor_challenge: "auto" });
  }, 60_000);
});
