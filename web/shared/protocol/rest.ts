// A minimal typed REST client of the Sealdesk API: the routes the widget, the console and the
// interop tests need. Uses the global fetch (browsers, Node ≥ 18). Bearer tokens only: the
// cookie + CSRF flow of the web console comes with the console. Bodies and answers are the
// generated types of docs/openapi.json (request bodies checked with `satisfies`).

import type * as G from "./generated.js";
import type {
  ConversationView, ErrorBody, HistoryMemberView, LoginResponse, TicketResponse, WidgetConfig,
} from "./types.js";
import { solveChallenge } from "./pow.js";

export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

type Method = "GET" | "POST" | "PUT" | "DELETE";

function apiError(status: number, text: string): ApiError {
  let err: Partial<ErrorBody> = {};
  try {
    err = JSON.parse(text) as ErrorBody;
  } catch {
    // Not our JSON error body (a proxy, say): keep the raw text.
  }
  return new ApiError(status, err.code ?? "unknown", err.message ?? text);
}

export class RestClient {
  /** @param baseUrl such as `http://127.0.0.1:8080` (no trailing slash needed). */
  constructor(
    readonly baseUrl: string,
    private readonly token?: string,
  ) {}

  /** The same server with a bearer token (a staff session or a visitor ticket). */
  withToken(token: string): RestClient {
    return new RestClient(this.baseUrl, token);
  }

  private async call<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    const init: RequestInit = { method, headers };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(new URL(path, this.baseUrl), init);
    const text = await res.text();
    if (!res.ok) throw apiError(res.status, text);
    return (text === "" ? undefined : JSON.parse(text)) as T;
  }

  /** Uploads client-encrypted bytes (application/octet-stream); returns where they are stored. */
  private async upload(path: string, bytes: Uint8Array): Promise<G.AttachmentRef> {
    const headers: Record<string, string> = { accept: "application/json", "content-type": "application/octet-stream" };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    const res = await fetch(new URL(path, this.baseUrl), { method: "POST", headers, body: new Uint8Array(bytes) });
    const text = await res.text();
    if (!res.ok) throw apiError(res.status, text);
    return JSON.parse(text) as G.AttachmentRef;
  }

  private async download(path: string): Promise<Uint8Array> {
    const headers: Record<string, string> = {};
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    const res = await fetch(new URL(path, this.baseUrl), { headers });
    if (!res.ok) throw apiError(res.status, await res.text());
    return new Uint8Array(await res.arrayBuffer());
  }

  // Staff.
  login(tenantId: string, email: string, password: string): Promise<LoginResponse> {
    return this.call("POST", "/api/auth/login", { tenant_id: tenantId, email, password, client: "cli" } satisfies G.LoginRequest);
  }

  addTeamMember(tenant: string, team: string, staff: string): Promise<void> {
    return this.call("PUT", `/api/tenants/${tenant}/teams/${team}/members/${staff}`);
  }

  /** `manual`, `least_busy` or `round_robin`. */
  setRouting(tenant: string, team: string, assignment: string): Promise<G.RoutingSettings> {
    return this.call("PUT", `/api/tenants/${tenant}/teams/${team}/routing`, { assignment } satisfies G.RoutingSettings);
  }

  setAvailability(availability: "online" | "away" | "offline", capacity?: number): Promise<void> {
    const body: G.AvailabilityRequest = capacity === undefined ? { availability } : { availability, capacity };
    return this.call("PUT", "/api/account/availability", body);
  }

  claim(tenant: string, conversation: string): Promise<ConversationView> {
    return this.call("POST", `/api/tenants/${tenant}/conversations/${conversation}/claim`);
  }

  /** A page of the tenant's conversations, newest first (`state`: open, queued, assigned, closed). */
  listConversations(tenant: string, filter: { state?: string; team?: string } = {}): Promise<G.ConversationList> {
    const q = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => e[1] !== undefined));
    return this.call("GET", `/api/tenants/${tenant}/conversations${q.size === 0 ? "" : `?${q}`}`);
  }

  conversation(tenant: string, conversation: string): Promise<ConversationView> {
    return this.call("GET", `/api/tenants/${tenant}/conversations/${conversation}`);
  }

  entries(tenant: string, conversation: string, after = 0, limit = 500): Promise<G.EntryPage> {
    return this.call("GET", `/api/tenants/${tenant}/conversations/${conversation}/entries?after=${after}&limit=${limit}`);
  }

  /** Publishes key packages of the caller's certified device (base64 MLSMessages). */
  publishKeyPackages(keyPackages: string[], lastResort?: string): Promise<G.DeviceStockView> {
    const body: G.KeyPackageUpload = lastResort === undefined ? { key_packages: keyPackages } : { key_packages: keyPackages, last_resort: lastResort };
    return this.call("POST", "/api/account/key-packages", body);
  }

  /** Adds History Member key packages, each with its sealed bundle (base64), to a team's pool. */
  publishHistoryPool(tenant: string, team: string, entries: G.HistoryPoolEntry[]): Promise<G.HistoryPoolStock> {
    return this.call("POST", `/api/tenants/${tenant}/teams/${team}/history-pool`, { entries } satisfies G.HistoryPoolUpload);
  }

  /** A conversation's History Member with its sealed bundle (staff). */
  historyBundle(tenant: string, conversation: string): Promise<HistoryMemberView> {
    return this.call("GET", `/api/tenants/${tenant}/conversations/${conversation}/history-member`);
  }

  /** An inbox's privacy notice and prechat fields (admins). */
  setWidgetSettings(
    tenant: string,
    team: string,
    settings: G.InboxWidgetSettings,
  ): Promise<G.InboxWidgetSettings> {
    return this.call("PUT", `/api/tenants/${tenant}/teams/${team}/widget`, settings);
  }

  // Visitors.
  widgetConfig(tenant: string, team: string): Promise<WidgetConfig> {
    return this.call("GET", `/api/widget/${tenant}/${team}/config`);
  }

  /**
   * A visitor ticket. A server under attack answers `challenge_required`: the challenge is
   * then fetched, solved (proof of work) and the request sent again with the solution.
   */
  async ticket(tenant: string, team: string, visitorKey?: string, identityToken?: string): Promise<TicketResponse> {
    const path = `/api/widget/${tenant}/${team}/tickets`;
    const body: G.TicketRequest = {};
    if (visitorKey !== undefined) body.visitor_key = visitorKey;
    if (identityToken !== undefined) body.identity_token = identityToken;
    try {
      return await this.call("POST", path, body);
    } catch (e) {
      if (!(e instanceof ApiError) || e.code !== "challenge_required") throw e;
    }
    const { challenge, bits } = await this.call<G.ChallengeResponse>("GET", `/api/widget/${tenant}/${team}/challenge`);
    body.pow = { challenge, solution: await solveChallenge(challenge, bits) };
    return this.call("POST", path, body);
  }

  /** As a visitor (this client's token is the ticket). */
  openConversation(reopen?: string, consent?: G.Consent): Promise<ConversationView> {
    const body: G.OpenConversation = {};
    if (reopen !== undefined) body.reopen = reopen;
    if (consent !== undefined) body.consent = consent;
    return this.call("POST", "/api/visitor/conversations", body);
  }

  /** The conversation's History Member key package (taken from the team's pool once). */
  historyMember(conversation: string): Promise<HistoryMemberView> {
    return this.call("POST", `/api/visitor/conversations/${conversation}/history-member`);
  }

  /** As a visitor: stores an encrypted attachment in one of its conversations. */
  uploadVisitorAttachment(conversation: string, blob: Uint8Array): Promise<G.AttachmentRef> {
    return this.upload(`/api/visitor/conversations/${conversation}/attachments`, blob);
  }

  downloadVisitorAttachment(conversation: string, sha256Hex: string): Promise<Uint8Array> {
    return this.download(`/api/visitor/conversations/${conversation}/attachments/${sha256Hex}`);
  }

  /** As staff. */
  uploadAttachment(tenant: string, conversation: string, blob: Uint8Array): Promise<G.AttachmentRef> {
    return this.upload(`/api/tenants/${tenant}/conversations/${conversation}/attachments`, blob);
  }

  downloadAttachment(tenant: string, conversation: string, sha256Hex: string): Promise<Uint8Array> {
    return this.download(`/api/tenants/${tenant}/conversations/${conversation}/attachments/${sha256Hex}`);
  }

  /** Ends one of the visitor's conversations. */
  closeVisitorConversation(conversation: string): Promise<ConversationView> {
    return this.call("POST", `/api/visitor/conversations/${conversation}/close`);
  }

  /** The visitor asks for the conversation to be deleted (closed now, deleted at the next retention sweep). */
  requestErasure(conversation: string): Promise<ConversationView> {
    return this.call("POST", `/api/visitor/conversations/${conversation}/erasure`);
  }

  /** One key package per device of the assignee that is not yet in the group. */
  takeKeyPackages(conversation: string): Promise<G.KeyPackageList> {
    return this.call("POST", `/api/visitor/conversations/${conversation}/key-packages`, {} satisfies G.TakeKeyPackages);
  }
}
