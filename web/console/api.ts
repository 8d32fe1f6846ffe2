// The console's REST client: a browser session (docs/authentication.md), so no token ever
// reaches this script. The server sets an HttpOnly `__Host-` cookie at login and answers with
// a CSRF token that must accompany every state-changing request in `X-CSRF-Token` (OWASP ASVS
// v5.0.0-3.5.1, synchronizer token). The CSRF token lives in sessionStorage: it dies with the
// tab, and a reload keeps the session usable without a second login.

import { ApiError } from "../shared/protocol/rest.js";
import type { CarryOverUpload } from "../shared/protocol/generated.js";
import type { ConversationView, EntryView, HistoryGenerationView, HistoryMemberView, WidgetConfig } from "../shared/protocol/types.js";

export { ApiError };

export interface StaffInfo {
  id: string;
  tenant_id: string;
  email: string;
  display_name: string;
  role: string;
}

export interface SessionInfo {
  session_id: string;
  staff: StaffInfo;
  restricted: boolean;
  second_factor: boolean;
  /** When the session lapses without activity (RFC 3339), if it has an idle limit. */
  idle_expires_at?: string | null;
  /** A browser session's CSRF token, given again by `GET /api/auth/session` (a new tab). */
  csrf_token?: string;
}

export interface AvailabilityView {
  availability: string;
  capacity: number;
  active: number;
}

export interface DeviceView {
  id: string;
  label: string;
  signature_key: string;
  wrap_key: string;
  fingerprint: string;
  status: "pending" | "certified" | "revoked";
  credential?: string;
}

export interface KeyWrap {
  device_id: string;
  team_id: string;
  version: number;
  sealed: string;
}

export interface SealingKey {
  scope: string;
  version: number;
  public_key: string;
  announcement: string;
}

export type Method = "GET" | "POST" | "PUT" | "DELETE";
const CSRF_KEY = "sealdesk-console-csrf";

/** What `POST /api/auth/login`, the passkey login and `POST /api/auth/reauth` answer. */
export interface LoginAnswer {
  session: SessionInfo;
  csrf_token?: string | null;
}

/**
 * Asked when the server wants a fresh proof of identity (`reauthentication_required`):
 * resolves true once the person re-authenticated (the request is then sent again), false
 * when they cancelled.
 */
export type ReauthPrompt = () => Promise<boolean>;

function apiError(status: number, text: string): ApiError {
  try {
    const body = JSON.parse(text) as { code?: string; message?: string };
    return new ApiError(status, body.code ?? "unknown", body.message ?? text);
  } catch {
    return new ApiError(status, "unknown", text.slice(0, 200));
  }
}

export class ConsoleApi {
  private csrf: string | null = sessionStorage.getItem(CSRF_KEY);
  /** Set by the console once signed in (reauth.ts). */
  reauthPrompt: ReauthPrompt | undefined;

  /**
   * A request of the account and admin pages: when the server asks for a recent proof of
   * identity, the person is asked for it (the prompt), then the request goes again once.
   */
  async request<T>(method: Method, path: string, body?: unknown): Promise<T> {
    try {
      return await this.call<T>(method, path, body);
    } catch (e) {
      if (!(e instanceof ApiError) || e.code !== "reauthentication_required" || this.reauthPrompt === undefined) throw e;
      if (!(await this.reauthPrompt())) throw e;
      return this.call<T>(method, path, body);
    }
  }

  /** A request without the re-authentication prompt (the prompt's own requests). */
  plain<T>(method: Method, path: string, body?: unknown): Promise<T> {
    return this.call<T>(method, path, body);
  }

  /** Keeps the CSRF token of a new session (login, passkey login, re-authentication). */
  adopt(r: LoginAnswer): SessionInfo {
    if (r.csrf_token === undefined || r.csrf_token === null) throw new Error("the server sent no CSRF token");
    this.csrf = r.csrf_token;
    sessionStorage.setItem(CSRF_KEY, r.csrf_token);
    return r.session;
  }

  private async call<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (method !== "GET") {
      if (this.csrf !== null) headers["x-csrf-token"] = this.csrf;
    }
    const init: RequestInit = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    const text = await res.text();
    if (!res.ok) throw apiError(res.status, text);
    return (text === "" ? undefined : JSON.parse(text)) as T;
  }

  get hasCsrf(): boolean {
    return this.csrf !== null;
  }

  /** One request with every factor (the server answers one `invalid_credentials` for any failure). */
  async login(tenant: string, email: string, password: string, totp?: string): Promise<SessionInfo> {
    const body: Record<string, string> = { tenant_id: tenant, email, password, client: "browser" };
    if (totp !== undefined && totp !== "") body.totp = totp;
    return this.adopt(await this.call<LoginAnswer>("POST", "/api/auth/login", body));
  }

  /** Starts a passkey login (`email` empty: the passkey names the account). */
  passkeyLoginStart(tenant: string, email: string): Promise<{ ceremony_id: string; options: unknown }> {
    const body: Record<string, string> = { tenant_id: tenant };
    if (email !== "") body.email = email;
    return this.call("POST", "/api/auth/passkey/start", body);
  }

  async passkeyLoginFinish(ceremony: string, credential: unknown): Promise<SessionInfo> {
    return this.adopt(await this.call<LoginAnswer>("POST", "/api/auth/passkey/finish", { ceremony_id: ceremony, credential, client: "browser" }));
  }

  async logout(): Promise<void> {
    try {
      await this.call("POST", "/api/auth/logout");
    } finally {
      this.csrf = null;
      sessionStorage.removeItem(CSRF_KEY);
    }
  }

  /** The current session; a new tab takes its CSRF token from it. */
  async session(): Promise<SessionInfo> {
    const info = await this.call<SessionInfo>("GET", "/api/auth/session");
    if (this.csrf === null && info.csrf_token !== undefined) {
      this.csrf = info.csrf_token;
      sessionStorage.setItem(CSRF_KEY, info.csrf_token);
    }
    return info;
  }

  devices(): Promise<{ devices: DeviceView[] }> {
    return this.call("GET", "/api/account/devices");
  }

  registerDevice(label: string, signatureKey: string, wrapKey: string): Promise<DeviceView> {
    return this.call("POST", "/api/account/devices", { label, signature_key: signatureKey, wrap_key: wrapKey });
  }

  keyWraps(device: string): Promise<{ wraps: KeyWrap[] }> {
    return this.call("GET", `/api/account/devices/${encodeURIComponent(device)}/key-wraps`);
  }

  sealingKeys(tenant: string): Promise<{ keys: SealingKey[] }> {
    return this.call("GET", `/api/tenants/${encodeURIComponent(tenant)}/sealing-keys`);
  }

  widgetConfig(tenant: string, team: string): Promise<WidgetConfig> {
    return this.call("GET", `/api/widget/${encodeURIComponent(tenant)}/${encodeURIComponent(team)}/config`);
  }

  keyPackageStock(): Promise<{ devices: Array<{ device_key: string; available: number }>; low_water: number }> {
    return this.call("GET", "/api/account/key-packages");
  }

  publishKeyPackages(keyPackages: string[]): Promise<{ available: number }> {
    return this.call("POST", "/api/account/key-packages", { key_packages: keyPackages });
  }

  /** What the router sees: availability, capacity and how many conversations one has now. */
  availability(): Promise<AvailabilityView> {
    return this.call("GET", "/api/account/availability");
  }

  /** Always with the capacity: the server resets a missing one to its default. */
  setAvailability(availability: "online" | "away", capacity: number): Promise<void> {
    return this.call("PUT", "/api/account/availability", { availability, capacity });
  }

  /** The team queue, or with `mine` the caller's own (an agent never sees colleagues' assigned ones). */
  conversations(tenant: string, state: string, mine = false): Promise<{ conversations: ConversationView[] }> {
    const q = `state=${encodeURIComponent(state)}${mine ? "&mine=true" : ""}`;
    return this.call("GET", `/api/tenants/${encodeURIComponent(tenant)}/conversations?${q}`);
  }

  claim(tenant: string, id: string): Promise<ConversationView> {
    return this.call("POST", `/api/tenants/${encodeURIComponent(tenant)}/conversations/${encodeURIComponent(id)}/claim`);
  }

  /** The tenant's staff (names for the transfer list). */
  staff(tenant: string): Promise<StaffInfo[]> {
    return this.call("GET", `/api/tenants/${encodeURIComponent(tenant)}/staff`);
  }

  teamMembers(tenant: string, team: string): Promise<{ members: string[] }> {
    return this.call("GET", `/api/tenants/${encodeURIComponent(tenant)}/teams/${encodeURIComponent(team)}/members`);
  }

  transfer(tenant: string, id: string, agent: string): Promise<ConversationView> {
    return this.call("POST", `/api/tenants/${encodeURIComponent(tenant)}/conversations/${encodeURIComponent(id)}/transfer`, { agent });
  }

  /** Moves a conversation to another team's queue (`transferred_to_team`). */
  transferToTeam(tenant: string, id: string, team: string, carry?: CarryOverUpload): Promise<ConversationView> {
    return this.call("POST", `/api/tenants/${encodeURIComponent(tenant)}/conversations/${encodeURIComponent(id)}/transfer`, carry === undefined ? { team } : { team, carry });
  }

  /** The tenant's teams (the transfer list's other teams). */
  teams(tenant: string): Promise<Array<{ id: string; name: string; disabled: boolean }>> {
    return this.call("GET", `/api/tenants/${encodeURIComponent(tenant)}/teams`);
  }

  /** A supervisor joins a conversation (the assignee's console then adds its devices). */
  join(tenant: string, id: string): Promise<ConversationView> {
    return this.call("POST", `/api/tenants/${encodeURIComponent(tenant)}/conversations/${encodeURIComponent(id)}/join`);
  }

  /** One key package per device of `staff` not yet in the conversation's group. */
  takeKeyPackages(tenant: string, id: string, staff: string): Promise<{ key_packages: Array<{ device_key: string; key_package: string }> }> {
    return this.call("POST", `/api/tenants/${encodeURIComponent(tenant)}/conversations/${encodeURIComponent(id)}/key-packages`, { staff });
  }

  close(tenant: string, id: string): Promise<ConversationView> {
    return this.call("POST", `/api/tenants/${encodeURIComponent(tenant)}/conversations/${encodeURIComponent(id)}/close`);
  }

  entries(tenant: string, id: string, after = 0): Promise<{ entries: EntryView[] }> {
    return this.call("GET", `/api/tenants/${encodeURIComponent(tenant)}/conversations/${encodeURIComponent(id)}/entries?after=${after}&limit=500`);
  }

  historyMember(tenant: string, id: string): Promise<HistoryMemberView> {
    return this.call("GET", `/api/tenants/${encodeURIComponent(tenant)}/conversations/${encodeURIComponent(id)}/history-member`);
  }

  /** One conversation as the server sees it now (its last seq, state and assignee). */
  conversation(tenant: string, id: string): Promise<ConversationView> {
    return this.call("GET", `/api/tenants/${encodeURIComponent(tenant)}/conversations/${encodeURIComponent(id)}`);
  }

  /**
   * The History Member to rotate to after a team key rotation (docs/e2ee.md, "History Member
   * rotation"): the same pending one until it is committed. 409 `conflict` when there is
   * nothing to rotate (or no pool package sealed to the newest key yet).
   */
  historyRotation(tenant: string, id: string): Promise<HistoryGenerationView> {
    return this.call("POST", `/api/tenants/${encodeURIComponent(tenant)}/conversations/${encodeURIComponent(id)}/history-member/rotation`);
  }

  /** Stores an attachment's encrypted bytes (docs/protocol.md "Attachments"); the server answers their SHA-256. */
  async uploadAttachment(tenant: string, id: string, blob: Uint8Array): Promise<{ sha256: string; size: number }> {
    const headers: Record<string, string> = { accept: "application/json", "content-type": "application/octet-stream" };
    if (this.csrf !== null) headers["x-csrf-token"] = this.csrf;
    const res = await fetch(`/api/tenants/${encodeURIComponent(tenant)}/conversations/${encodeURIComponent(id)}/attachments`, {
      method: "POST", headers, credentials: "same-origin", cache: "no-store", body: new Uint8Array(blob),
    });
    const text = await res.text();
    if (!res.ok) throw apiError(res.status, text);
    return JSON.parse(text) as { sha256: string; size: number };
  }

  /** An attachment's encrypted bytes, by the SHA-256 its reference names. */
  async downloadAttachment(tenant: string, id: string, sha256Hex: string): Promise<Uint8Array> {
    const res = await fetch(`/api/tenants/${encodeURIComponent(tenant)}/conversations/${encodeURIComponent(id)}/attachments/${sha256Hex}`, {
      credentials: "same-origin", cache: "no-store",
    });
    if (!res.ok) throw apiError(res.status, await res.text());
    return new Uint8Array(await res.arrayBuffer());
  }
}
