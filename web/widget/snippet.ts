// Reads the embedding <script> element's attributes. The server is data-sealdesk-server when
// given, else the origin the module was loaded from; the tenant root keys pinned here are the
// widget's only trust anchor (E2EE.md §4).

import type { TrustAnchor } from "../shared/mls/certs.js";
import { anchorFrom } from "./trust.js";

export interface Snippet {
  server: string;
  tenant: string;
  team: string;
  anchor: TrustAnchor;
  lang: string;
  /**
   * A signed identity token (JWT) the tenant's page renders for its logged-in customer
   * (`data-sealdesk-identity`): the ticket is then for that customer, verified.
   */
  identityToken?: string;
}

/** A compact JWS: three base64url parts; bounded so a page cannot make us send megabytes. */
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_JWT = 8192;

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Parses one script element's attributes; null if they are missing or invalid. */
export function parseSnippet(attrs: (name: string) => string | null, moduleUrl: string): Snippet | null {
  const inbox = attrs("data-sealdesk-inbox")?.split("/") ?? [];
  const keys = attrs("data-sealdesk-tenant-key");
  const [tenant, team] = inbox;
  if (inbox.length !== 2 || tenant === undefined || team === undefined || !UUID.test(tenant) || !UUID.test(team) || keys === null) return null;
  let server: string;
  let anchor: TrustAnchor;
  try {
    server = new URL(attrs("data-sealdesk-server") ?? new URL(moduleUrl).origin).origin;
    anchor = anchorFrom(tenant, keys);
  } catch {
    return null;
  }
  const snippet: Snippet = { server, tenant, team, anchor, lang: attrs("data-sealdesk-lang") ?? "en" };
  const token = attrs("data-sealdesk-identity")?.trim();
  if (token !== undefined && token !== "") {
    if (token.length > MAX_JWT || !JWT.test(token)) return null;
    snippet.identityToken = token;
  }
  return snippet;
}

/** Finds the script element that loaded `moduleUrl` and parses it. */
export function readSnippet(doc: Document, moduleUrl: string): Snippet | null {
  for (const script of Array.from(doc.querySelectorAll<HTMLScriptElement>("script[data-sealdesk-inbox]"))) {
    if (script.src === moduleUrl) return parseSnippet((n) => script.getAttribute(n), moduleUrl);
  }
  return null;
}
