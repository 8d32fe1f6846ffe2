// A server under attack (the tenant's visitor_challenge = "always") refuses a ticket without
// a proof of work (429 challenge_required); the REST client the widget uses fetches the
// challenge, solves it and gets the ticket.

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
