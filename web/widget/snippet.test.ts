import { describe, expect, it } from "vitest";
import { toBase64 } from "../shared/util/bytes.js";
import { parseSnippet } from "./snippet.js";

const TENANT = "0190b1c2-0000-7000-8000-000000000001";
const TEAM = "0190b1c2-0000-7000-8000-000000000002";
const KEY = toBase64(new Uint8Array(32).fill(1));
const attrs = (a: Record<string, string>) => (n: string) => a[n] ?? null;

describe("snippet", () => {
  it("takes the server from the module's origin unless given", () => {
    const s = parseSnippet(attrs({ "data-sealdesk-inbox": `${TENANT}/${TEAM}`, "data-sealdesk-tenant-key": `${KEY},${KEY}` }), "http://cdn.example:8080/w/sealdesk-widget.js");
    expect(s).toMatchObject({ server: "http://cdn.example:8080", tenant: TENANT, team: TEAM, lang: "en" });
    expect(s?.anchor.roots).toHaveLength(2);
    const t = parseSnippet(attrs({ "data-sealdesk-inbox": `${TENANT}/${TEAM}`, "data-sealdesk-tenant-key": KEY, "data-sealdesk-server": "https://chat.example/x" }), "http://cdn.example/w.js");
    expect(t?.server).toBe("https://chat.example");
  });

  it("carries the page's identity token, and refuses one that is not a compact JWT", () => {
    const url = "http://cdn.example/w.js";
    const base = { "data-sealdesk-inbox": `${TENANT}/${TEAM}`, "data-sealdesk-tenant-key": KEY };
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjdXN0LTQyIn0.c2lnbmF0dXJl";
    expect(parseSnippet(attrs({ ...base, "data-sealdesk-identity": jwt }), url)?.identityToken).toBe(jwt);
    expect(parseSnippet(attrs(base), url)?.identityToken).toBeUndefined();
    expect(parseSnippet(attrs({ ...base, "data-sealdesk-identity": "a.b" }), url)).toBeNull();
    expect(parseSnippet(attrs({ ...base, "data-sealdesk-identity": "a.b.c<script>" }), url)).toBeNull();
    expect(parseSnippet(attrs({ ...base, "data-sealdesk-identity": `a.${"b".repeat(9000)}.c` }), url)).toBeNull();
  });

  it("refuses missing or malformed attributes", () => {
    const url = "http://cdn.example/w.js";
    expect(parseSnippet(attrs({ "data-sealdesk-inbox": `${TENANT}/${TEAM}` }), url)).toBeNull();
    expect(parseSnippet(attrs({ "data-sealdesk-inbox": TENANT, "data-sealdesk-tenant-key": KEY }), url)).toBeNull();
    expect(parseSnippet(attrs({ "data-sealdesk-inbox": `${TENANT}/${TEAM}`, "data-sealdesk-tenant-key": "short" }), url)).toBeNull();
    expect(parseSnippet(attrs({ "data-sealdesk-inbox": `${TENANT}/../x`, "data-sealdesk-tenant-key": KEY }), url)).toBeNull();
  });
});
