// Wire types of the Sealdesk server (docs/protocol.md, docs/openapi.json). They mirror
// crates/sealdesk-proto (ws.rs, conversations.rs, auth.rs, error.rs); only the fields the
// clients use are typed, and clients ignore fields they do not know (protocol v1 only adds).

export const SUBPROTOCOL = "sealdesk.v1";
export const PROTOCOL_VERSION = 1;

/** What a log entry carries. `system` is written only by the server. */
export type WireKind = "handshake" | "application" | "welcome" | "system";
export type ClientKind = Exclude<WireKind, "system">;

export type WireParty =
  | { kind: "visitor"; id: string }
  | { kind: "staff"; id: string }
  | { kind: "system" };

export type ClientFrame =
  | { t: "auth"; token: string }
  | { t: "sub"; c: string; after: number }
  | { t: "unsub"; c: string }
  | { t: "send"; c: string; id: string; k: ClientKind; p: string }
  | { t: "typing"; c: string; on: boolean }
  | { t: "read"; c: string; seq: number }
  | { t: "ping"; n: number };

export interface EntryFrame {
  t: "entry";
  c: string;
  seq: number;
  k: WireKind;
  from: WireParty;
  id?: string;
  /** Unix milliseconds. */
  at: number;
  /** Standard base64. */
  p: string;
}

/** Typing and read receipts of another participant: forwarded by the server, never stored. */
export type EphemeralFrame =
  | { t: "typing"; c: string; from: WireParty; on: boolean }
  | { t: "read"; c: string; from: WireParty; seq: number };

export interface WsErrorFrame {
  t: "error";
  code: string;
  message: string;
  c?: string;
  id?: string;
}

export type ServerFrame =
  | { t: "ready"; v: number; me: WireParty; heartbeat_s: number; max_payload: number }
  | { t: "subscribed"; c: string; last_seq: number; state: string }
  | { t: "unsubscribed"; c: string }
  | EntryFrame
  | { t: "ack"; c: string; id: string; seq: number; dup?: boolean }
  | EphemeralFrame
  | { t: "resync"; c: string; after: number }
  | { t: "notice"; what: "queued" | "assigned" | "closed"; c: string; team: string; assignee?: string }
  | WsErrorFrame
  | { t: "pong"; n: number };

/** The JSON error body of every REST error. */
export interface ErrorBody {
  code: string;
  message: string;
}

export interface StaffView {
  id: string;
  tenant_id: string;
  email: string;
  display_name: string;
  role: string;
}

export interface LoginResponse {
  session: { session_id: string; staff: StaffView; kind: string; restricted: boolean };
  /** CLI logins: the bearer token, shown once. */
  token?: string;
}

export interface TicketResponse {
  ticket: string;
  expires_at: string;
  visitor_id: string;
  visitor_key?: string;
}

export interface ConversationView {
  id: string;
  tenant_id: string;
  team_id: string;
  visitor_id: string;
  /** `open`, `queued`, `assigned` or `closed`. */
  state: string;
  assignee?: string;
  last_seq: number;
  /** The privacy notice version the visitor accepted (servers with privacy notices). */
  consent_notice?: string;
  /** When the visitor asked for the conversation to be deleted (RFC 3339), if they did. */
  erasure_requested_at?: string | null;
}

export interface EntryView {
  seq: number;
  k: WireKind;
  from: WireParty;
  id?: string;
  at: number;
  p: string;
}

/** A prechat field an inbox asks for (the widget shows only these). */
export interface PrechatField {
  name: string;
  label: string;
  kind: "text" | "email" | "tel" | "textarea";
  required: boolean;
}

export interface PrivacyNotice {
  version: string;
  text: string;
  url?: string;
}

/** `GET /api/widget/{tenant}/{team}/config`. Newer fields are optional until every server has them. */
export interface WidgetConfig {
  tenant_id: string;
  tenant_name: string;
  team_id: string;
  team_name: string;
  protocol: number;
  max_payload: number;
  attachment_max: number;
  /** The tenant's registered root keys (base64): informational, the snippet's keys are trusted. */
  root_keys?: string[];
  privacy_notice?: PrivacyNotice | null;
  prechat_fields?: PrechatField[];
}

export interface KeyPackageView {
  device_key: string;
  key_package: string;
  last_resort: boolean;
}

export interface HistoryMemberView {
  key_package: string;
  sealed_bundle?: string | null;
}
