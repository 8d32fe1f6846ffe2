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
}

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
  return { server, tenant, team, anchor, lang: attrs("data-sealdesk-lang") ?? "en" };
}

/** Finds the script element that loaded `moduleUrl` and parses it. */
export function readSnippet(doc: Document, moduleUrl: string): Snippet | null {
  for (const script of Array.from(doc.querySelectorAll<HTMLScriptElement>("script[data-sealdesk-inbox]"))) {
    if (script.src === moduleUrl) return parseSnippet((n) => script.getAttribute(n), moduleUrl);
  }
  return null;
}
