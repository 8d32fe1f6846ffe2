// Wire types of the Sealdesk server (docs/protocol.md, docs/openapi.json), as the clients use
// them. They come from generated.ts, which `npm run gen:types` writes from the OpenAPI
// document that sealdesk-proto describes; a change on the Rust side that breaks a client
// therefore fails `tsc --noEmit`. The few types the clients deliberately keep different are
// derived from the generated ones or checked against them in wire-checks.ts.

import type * as G from "./generated.js";

export { CloseCode } from "./generated.js";

export const SUBPROTOCOL: G.Subprotocol = "sealdesk.v1";
export const PROTOCOL_VERSION: G.ProtocolVersion = 1;

/** What a log entry carries. `system` is written only by the server. */
export type WireKind = G.WireKind;
/** The kinds a client may send (`system` is refused: only the server writes it). */
export type ClientKind = Exclude<WireKind, "system">;

export type WireParty = G.WireParty;

/** Frames a client sends: the generated ones, with `send` narrowed to the kinds a client may send. */
export type ClientFrame =
  | Exclude<G.ClientFrame, { t: "send" }>
  | (Extract<G.ClientFrame, { t: "send" }> & { k: ClientKind });

export type ServerFrame = G.ServerFrame;
export type EntryFrame = Extract<ServerFrame, { t: "entry" }>;
/** Typing and read receipts of another participant: forwarded by the server, never stored. */
export type EphemeralFrame = Extract<ServerFrame, { t: "typing" | "read" }>;
export type WsErrorFrame = Extract<ServerFrame, { t: "error" }>;

/** The JSON payload of a `system` entry: a content-free routing event. */
export type SystemEvent = G.SystemEvent;

/** The JSON error body of every REST error. */
export type ErrorBody = G.ErrorBody;
export type StaffView = G.StaffView;
export type LoginResponse = G.LoginResponse;
export type TicketResponse = G.TicketResponse;
export type ConversationView = G.ConversationView;
export type EntryView = G.EntryView;
/** A prechat field an inbox asks for (the widget shows only these). */
export type PrechatField = G.PrechatField;
export type PrivacyNotice = G.PrivacyNotice;
export type KeyPackageView = G.KeyPackageView;
export type HistoryMemberView = G.HistoryMemberView;
/** One History Member generation of a conversation (E2EE.md §3, rotation). */
export type HistoryGenerationView = G.HistoryGenerationView;

/**
 * `GET /api/widget/{tenant}/{team}/config`. Newer fields are optional until every server has
 * them (the widget may meet an older server); wire-checks.ts keeps it a supertype of the
 * generated `WidgetConfig`.
 */
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
