// generated from docs/openapi.json by web/scripts/gen-types.ts; do not edit.
// The wire types of sealdesk-proto, REST bodies and WebSocket frames alike.

/** `POST /api/invitations/accept`. */
export interface AcceptInvitation {
  /** Browser or CLI session afterwards. */
  client?: ClientKind;
  /** The password to set. */
  password: Secret;
  /** The invitation token. */
  token: Secret;
}

/** A created API token, shown once. */
export interface ApiTokenCreated {
  /** Expiry. */
  expires_at: string;
  /** Public id, to revoke it. */
  id: string;
  /** The bearer token. */
  token: string;
}

/** `POST /api/tenants/{tenant}/api-tokens`. */
export interface ApiTokenRequest {
  /** Days until it expires (1 to 365). */
  expires_in_days: number;
  /** A label. */
  name: string;
}

/** A stored attachment: the address to fetch it by and its size. */
export interface AttachmentRef {
  /** SHA-256 of the bytes as stored (the client-encrypted blob), 64 lowercase hex digits. */
  sha256: string;
  /** Size in bytes. */
  size: number;
}

/** An audit log entry (content-free). */
export interface AuditEntryView {
  /** What. */
  action: string;
  /** Who: `staff:<id>`, `operator`, `system` or `anonymous`. */
  actor: string;
  /** When. */
  at: string;
  /** Details (reason codes, counts; never content or secrets). */
  details: Record<string, string>;
  /** The entry's chain hash. */
  hash: string;
  /** Source address (truncated). */
  ip?: string;
  /** Position in the chain. */
  seq: number;
  /** On what. */
  target?: string;
}

/** One's own availability. */
export interface AvailabilityRequest {
  /** `online`, `away` or `offline`. */
  availability: string;
  /**
   * How many conversations at once (1 to 100); left out, the current one stays (5 until
   * first set).
   */
  capacity?: number | null;
}

/** One's own availability as the server routes by it. */
export interface AvailabilityView {
  /** Conversations assigned to one now, across every team. */
  active: number;
  /** `online`, `away` or `offline` (`offline` until first set). */
  availability: string;
  /** How many conversations at once. */
  capacity: number;
}

/** A canned response id (UUID). */
export type CannedResponseId = string;

/** A team's canned responses. */
export interface CannedResponseList {
  /** Oldest first. */
  canned_responses: CannedResponseView[];
}

/** One canned response of a team. */
export interface CannedResponseView {
  /**
   * When the server stored its current payload (readers check the sealing device's
   * certificate at this time).
   */
  created_at: string;
  /** Who stored its current payload (created it, or last edited or re-sealed it). */
  created_by: StaffId;
  /** Id. */
  id: CannedResponseId;
  /** Payload (title and text, encrypted by clients), standard base64. */
  p: string;
  /** The team. */
  team_id: TeamId;
}

/** A generation's bundle, re-sealed (`SDB1`, its header naming the new team). */
export interface CarriedBundleUpload {
  /** The History Member generation it re-seals. */
  generation: number;
  /** The new envelope, standard base64. */
  sealed_bundle: string;
}

/** A bundle re-sealed to another team's key at a transfer. */
export interface CarriedBundleView {
  /**
   * When the server stored it, Unix milliseconds (readers check the re-sealer's chain
   * then).
   */
  at: number;
  /** Whose device re-sealed it. */
  resealed_by: StaffId;
  /** The re-sealed bundle (`SDB1`), base64. */
  sealed_bundle: string;
  /** The team whose key it is sealed to. */
  team_id: TeamId;
  /** The team key version its header names. */
  team_key_version: number;
}

/** A note, re-sealed (`SDT1`, kind note, to the new team). */
export interface CarriedNoteUpload {
  /** The new envelope, standard base64. */
  p: string;
  /** The note's number in the conversation. */
  seq: number;
}

/** A note re-sealed to another team's key at a transfer. */
export interface CarriedNoteView {
  /**
   * When the server stored it, Unix milliseconds (readers check the re-sealer's chain
   * then).
   */
  at: number;
  /** The re-sealed note (`SDT1`), standard base64. */
  p: string;
  /** Whose device re-sealed it. */
  resealed_by: StaffId;
  /** The team whose key it is sealed to. */
  team_id: TeamId;
}

/** Copies a transfer to another team carries over. */
export interface CarryOverUpload {
  /** At most one per History Member generation. */
  bundles?: CarriedBundleUpload[];
  /** At most one per note. */
  notes?: CarriedNoteUpload[];
}

/**
 * `POST /api/tenants/{t}/devices/{id}/certificate`: the chain an admin made after comparing
 * fingerprints.
 */
export interface CertifyDevice {
  /** The certificate chain (device certificate ‖ issuing certificate), base64. */
  credential: string;
  /** The fingerprint the admin confirmed (as shown, spaces allowed): must be the device's. */
  fingerprint: string;
}

/** A proof-of-work challenge. */
export interface ChallengeResponse {
  /** Leading zero bits required. */
  bits: number;
  /** The challenge text. */
  challenge: string;
  /** When it expires. */
  expires_at: string;
}

/** `POST /api/account/password`. */
export interface ChangePassword {
  /** The current password. */
  current_password: Secret;
  /** The new password. */
  new_password: Secret;
}

/** Frames a client sends. */
export type ClientFrame =
  | {
      t: "auth";
      /** The bearer token. */
      token: string;
    }
  | {
      t: "sub";
      /** The last sequence number the client already has (0: from the start). */
      after?: number;
      /** The conversation. */
      c: ConversationId;
    }
  | {
      t: "unsub";
      /** The conversation. */
      c: ConversationId;
    }
  | {
      t: "send";
      /** The conversation. */
      c: ConversationId;
      /** The client's id for this send; a retry with the same id is appended once. */
      id: string;
      /** What the payload is (`system` is refused: only the server writes it). */
      k: WireKind;
      /** The payload, standard base64. */
      p: string;
    }
  | {
      t: "typing";
      /** The conversation. */
      c: ConversationId;
      /** Typing (true) or stopped (false). */
      on: boolean;
    }
  | {
      t: "read";
      /** The conversation. */
      c: ConversationId;
      /** The last sequence number read. */
      seq: number;
    }
  | {
      t: "ping";
      /** Any number. */
      n?: number;
    };

/** Which kind of client is logging in. */
export type ClientKind = "browser" | "cli";

/** A WebSocket close code the server uses (RFC 6455 §7.4: 4000–4999 are Sealdesk's). */
export type CloseCode =
  | 1000
  | 1001
  | 1007
  | 1009
  | 1011
  | 4001
  | 4003
  | 4004
  | 4008
  | 4009
  | 4029;
export const CloseCode = {
  /** Normal closure. */
  NORMAL: 1000,
  /** The server is shutting down; reconnect later. */
  GOING_AWAY: 1001,
  /** A frame could not be decoded (binary frame, bad JSON, unknown type). */
  INVALID_FRAME: 1007,
  /** A frame was larger than the limit. */
  TOO_BIG: 1009,
  /** The server failed. */
  INTERNAL: 1011,
  /** No valid credentials within the authentication timeout, or they were refused. */
  UNAUTHENTICATED: 4001,
  /** The `Origin` is not an allowed widget origin of the tenant. */
  FORBIDDEN_ORIGIN: 4003,
  /** The session or ticket expired or was revoked. */
  SESSION_ENDED: 4004,
  /** The client did not answer heartbeats. */
  IDLE_TIMEOUT: 4008,
  /** The client could not keep up with its deliveries for too long. */
  SLOW_CONSUMER: 4009,
  /** Too many frames or connections. */
  RATE_LIMITED: 4029,
} as const;

/** A visitor's acceptance of the inbox's privacy notice, sent when opening a conversation. */
export interface Consent {
  /** The version accepted: must be the inbox's current one. */
  notice_version: string;
}

/** A conversation id (UUID). */
export type ConversationId = string;

/** A page of conversations. */
export interface ConversationList {
  /** Newest first. */
  conversations: ConversationView[];
}

/** A conversation's routing metadata. */
export interface ConversationView {
  /** The agent answering it. */
  assignee?: StaffId;
  /** When it was closed. */
  closed_at?: string | null;
  /** The privacy-notice version the visitor accepted when opening it. */
  consent_notice?: string;
  /** Creation time. */
  created_at: string;
  /** When the visitor asked for it to be deleted (the next retention sweep deletes it). */
  erasure_requested_at?: string | null;
  /** Id. */
  id: ConversationId;
  /** Last sequence number of its log. */
  last_seq: number;
  /** The conversation it continues. */
  reopened_from?: ConversationId;
  /** `open`, `queued`, `assigned` or `closed`. */
  state: string;
  /** Team whose queue it is in. */
  team_id: TeamId;
  /** Tenant. */
  tenant_id: TenantId;
  /** Last change. */
  updated_at: string;
  /** Visitor. */
  visitor_id: VisitorId;
}

/** A device id (UUID). */
export type DeviceId = string;

/** Devices, oldest request first. */
export interface DeviceList {
  /** The devices. */
  devices: DeviceView[];
}

/** `POST /api/account/devices`: this device asks to be enrolled. */
export interface DeviceRequest {
  /** What the person calls it ("Jane's laptop"), 1–64 characters. */
  label: string;
  /** Ed25519 public key (32 bytes, base64): signs the device's MLS messages and seals. */
  signature_key: string;
  /** X25519 public key (32 bytes, base64): team keys are wrapped to it. */
  wrap_key: string;
}

/** The caller's devices. */
export interface DeviceStockList {
  /** One entry per device, by key. */
  devices: DeviceStockView[];
  /** Below this many single-use packages a device should upload more. */
  low_water: number;
}

/** What one device holds in the directory. */
export interface DeviceStockView {
  /** Single-use key packages left (refill below the low-water mark). */
  available: number;
  /** The device's Ed25519 signature key, base64. */
  device_key: string;
  /** Whether a last-resort key package is held. */
  last_resort: boolean;
}

/** A device as staff and admins see it. */
export interface DeviceView {
  /** The certificate chain (base64) once certified: the device's MLS credential. */
  credential?: string;
  /** When it was certified or revoked. */
  decided_at?: string | null;
  /**
   * SHA-256 of the signature key then the wrap key, hex in groups of four: what the admin
   * compares with the device's screen before certifying it.
   */
  fingerprint: string;
  /** Id. */
  id: DeviceId;
  /** Label. */
  label: string;
  /** When it asked. */
  requested_at: string;
  /** Ed25519 public key, base64. */
  signature_key: string;
  /** Whose device. */
  staff_id: StaffId;
  /** `pending`, `certified` or `revoked`. */
  status: string;
  /** X25519 public key, base64. */
  wrap_key: string;
}

/** A page of a conversation's log. */
export interface EntryPage {
  /** Oldest first. */
  entries: EntryView[];
}

/** One log entry as the REST history returns it (the same fields as the `entry` frame). */
export interface EntryView {
  /** Unix milliseconds. */
  at: number;
  /** Writer. */
  from: WireParty;
  /** The writer's client message id. */
  id?: string;
  /** Kind. */
  k: WireKind;
  /** Payload, standard base64. */
  p: string;
  /** Sequence number. */
  seq: number;
}

/** The body of every error response: `{"code": …, "message": …, "request_id": …}`. */
export interface ErrorBody {
  /** The stable error code. */
  code: ErrorCode;
  /** For `invalid_input`: the field that failed, when there is one. */
  field?: string;
  /** Human-readable text that is safe to show; never contains internal details. */
  message: string;
  /** The request id, also sent as the `x-request-id` header; quote it in support requests. */
  request_id?: string;
}

/**
 * A stable error code. Clients switch on this value, never on the message text.
 *
 * Codes are only ever added, never renamed or removed: a renamed code breaks every deployed
 * widget. The HTTP status of each code is fixed by the server's error table.
 */
export type ErrorCode = "invalid_input" | "unauthenticated" | "invalid_credentials" | "reauthentication_required" | "forbidden" | "second_factor_required" | "not_found" | "method_not_allowed" | "timeout" | "conflict" | "conversation_closed" | "stale_epoch" | "mls_rejected" | "challenge_required" | "consent_required" | "payload_too_large" | "unsupported_media_type" | "rate_limited" | "internal" | "unavailable";

/** Answer of `GET /healthz` and `GET /readyz`. */
export interface HealthStatus {
  /** `"ok"` when healthy (ready); otherwise the endpoint answers with an error body. */
  status: string;
}

/** One History Member of a conversation (E2EE.md §3 "Rotation"). */
export interface HistoryGenerationView {
  /**
   * Copies of this generation's bundle carried over to other teams at transfers
   * (docs/e2ee.md, "Transfer to another team"), by team.
   */
  carried?: CarriedBundleView[];
  /** 1 for the member the group started with, one more per rotation. */
  generation: number;
  /** The key package (`MLSMessage`), base64. */
  key_package: string;
  /** The sealed private key package (`SDB1`), base64. */
  sealed_bundle: string;
  /** Where it stands. */
  state: HistoryMemberState;
  /** The team key version the bundle's header names, when known (the opener checks it). */
  team_key_version?: number;
}

/** Where one of a conversation's History Members stands. */
export type HistoryMemberState = "pending" | "active" | "retired" | "abandoned";

/**
 * A conversation's History Member: the key package its group adds, and (for staff) the
 * sealed bundle that lets team members replay the conversation. `key_package` and
 * `sealed_bundle` are the current (active) member's; `members` lists every one the
 * conversation had after team key rotations (E2EE.md §3), to replay each part of the log.
 */
export interface HistoryMemberView {
  /** The key package (`MLSMessage`), base64. */
  key_package: string;
  /**
   * Staff only: every History Member of the conversation, by generation (1 first). A
   * reader opens each bundle it can and replays the log with all of them in order: each
   * reads up to the commit that removes it, the next joins from its Welcome.
   */
  members?: HistoryGenerationView[];
  /** The sealed private key package, base64 (staff only). */
  sealed_bundle?: string;
}

/** One History Member key package and its sealed bundle. */
export interface HistoryPoolEntry {
  /** The key package (`MLSMessage`), base64; its certificate names the team. */
  key_package: string;
  /** The sealed private key package, base64 (at most 8 KiB decoded). */
  sealed_bundle: string;
}

/** A team's pool. */
export interface HistoryPoolStock {
  /** Valid packages left. */
  available: number;
  /** Below this, team consoles should refill. */
  low_water: number;
}

/**
 * History Member key packages for a team's pool, each with its private key package sealed
 * by the uploading console to the team and archive keys (opaque to the server).
 */
export interface HistoryPoolUpload {
  /** At most 50 per request. */
  entries: HistoryPoolEntry[];
}

/** Sets an inbox's identity-token key (`PUT …/teams/{team}/identity`). */
export interface InboxIdentityRequest {
  /**
   * `hs256` (the server generates a secret, shown once), `ed25519` (give `public_key`), or
   * `off`.
   */
  kind: string;
  /** The tenant's Ed25519 public key, 32 bytes in base64url (for `ed25519`). */
  public_key?: string | null;
  /** Refuse tickets without a valid identity token. */
  required?: boolean;
}

/** An inbox's identity-token settings. */
export interface InboxIdentityView {
  /** The audience identity tokens must carry (`aud`). */
  audience: string;
  /** `hs256`, `ed25519` or `off`. */
  kind: string;
  /** The Ed25519 public key (base64url). */
  public_key?: string;
  /** Tickets need a valid identity token. */
  required: boolean;
  /** The new HS256 secret (base64url), returned once when it is generated. */
  secret?: string;
}

/** `GET`/`PUT /api/tenants/{tenant}/teams/{team}/widget`. */
export interface InboxWidgetSettings {
  /** The pre-chat fields, in order (at most 10). Collect only what the team needs. */
  prechat_fields?: PrechatField[];
  /** The notice visitors must accept; none: the widget asks for no consent. */
  privacy_notice?: PrivacyNotice | null;
}

/** `POST /api/tenants/{tenant}/invitations`. */
export interface InviteRequest {
  /** Their display name. */
  display_name?: string | null;
  /** The invitee's e-mail. */
  email: string;
  /** Their role. */
  role: string;
}

/** An issued invitation: deliver the token to the invitee out of band; it is shown once. */
export interface InviteResponse {
  /** Expiry. */
  expires_at: string;
  /** Single-use token. */
  invitation_token: string;
  /** The new (password-less) account. */
  staff: StaffView;
}

/** One key package per device not yet in the conversation's group. */
export interface KeyPackageList {
  /** By device. */
  key_packages: KeyPackageView[];
}

/** Key packages of one device (every one must carry the same certified device key). */
export interface KeyPackageUpload {
  /** Single-use key packages (`MLSMessage`, base64), at most 100 per request. */
  key_packages?: string[];
  /** The device's last-resort key package, replacing the previous one. */
  last_resort?: string;
}

/** One device's key package, for an Add. */
export interface KeyPackageView {
  /** The device's signature key, base64. */
  device_key: string;
  /** The key package (`MLSMessage`), base64. */
  key_package: string;
  /** Whether it is the device's last-resort package (reused until the device refills). */
  last_resort: boolean;
}

/** One team key sealed to one device. */
export interface KeyWrapItem {
  /** The device. */
  device_id: DeviceId;
  /** The sealed object (`SDS1`, purpose `team-key-wrap`), base64. */
  sealed: string;
  /** The team. */
  team_id: TeamId;
  /** The team key's version. */
  version: number;
}

/** A device's wraps (`GET /api/account/devices/{id}/key-wraps`). */
export interface KeyWrapList {
  /** By team, then version. */
  wraps: KeyWrapItem[];
}

/** `POST /api/tenants/{t}/key-wraps`. */
export interface KeyWrapUpload {
  /** At most 100 wraps. */
  wraps: KeyWrapItem[];
}

/**
 * `POST /api/auth/login` and `POST /api/auth/reauth`. Give every factor the account has in
 * one request: a failure never says which one was wrong.
 */
export interface LoginRequest {
  /** Browser or CLI (default CLI). */
  client?: ClientKind;
  /** Login e-mail (ignored by reauth). */
  email: string;
  /** Password. */
  password: Secret;
  /** A recovery code, instead of the TOTP code. */
  recovery_code?: Secret | null;
  /** The tenant whose staff account this is (ignored by reauth). */
  tenant_id: TenantId;
  /** A current TOTP code, when the account has TOTP. */
  totp?: Secret | null;
}

/** Answer of a successful login. */
export interface LoginResponse {
  /** For browser logins: send it as `X-CSRF-Token` on every state-changing request. */
  csrf_token?: string;
  /** The new session. */
  session: SessionInfo;
  /** For CLI logins: the bearer token, shown once. Browsers get a cookie instead. */
  token?: string;
}

/** Adds an internal note, or creates a canned response. */
export interface NewPayload {
  /** The opaque payload, standard base64 (1 byte to `max_payload` decoded). */
  p: string;
}

/** `POST /api/tenants/{tenant}/teams`. */
export interface NewTeamRequest {
  /** Team name. */
  name: string;
}

/** A conversation's notes. */
export interface NoteList {
  /** Oldest first. */
  notes: NoteView[];
}

/** One internal note: visible to staff only, never to the visitor. */
export interface NoteView {
  /** Unix milliseconds. */
  at: number;
  /** Who wrote it. */
  author: StaffId;
  /**
   * Copies carried over to other teams at transfers (docs/e2ee.md, "Transfer to another
   * team"), by team.
   */
  carried?: CarriedNoteView[];
  /** The conversation. */
  conversation_id: ConversationId;
  /** Payload, standard base64. */
  p: string;
  /** Position among the conversation's notes, from 1. */
  seq: number;
}

/** A routing change a staff connection is told about. */
export interface Notice {
  /** Its assignee now. */
  assignee?: StaffId;
  /** The conversation. */
  c: ConversationId;
  /** Its team now. */
  team: TeamId;
  /** What happened. */
  what: NoticeKind;
}

/** Kinds of [`Notice`]. */
export type NoticeKind = "queued" | "assigned" | "closed";

/** Opens a conversation (as a visitor). */
export interface OpenConversation {
  /**
   * The privacy notice the visitor accepted: required (and must be the current version)
   * when the inbox has one, else `consent_required`.
   */
  consent?: Consent | null;
  /** A closed conversation of this visitor to continue; the new one links to it. */
  reopen?: ConversationId | null;
}

/**
 * A signed passkey challenge: the ceremony and the authenticator's answer. Used by
 * re-authentication (`POST /api/auth/reauth`, field `passkey`).
 */
export interface PasskeyAssertion {
  /** From [`PasskeyChallenge`]. */
  ceremony_id: string;
  /** The `PublicKeyCredential` the browser returned from `get()`, as JSON. */
  credential: Record<string, unknown>;
}

/**
 * A started WebAuthn ceremony: its id (send it back with the result) and the options for
 * the browser (`publicKey` inside, as `navigator.credentials.create/get` expect).
 */
export interface PasskeyChallenge {
  /** The ceremony; single use, valid for five minutes. */
  ceremony_id: string;
  /** `CredentialCreationOptions` (registration) or `CredentialRequestOptions` (login). */
  options: Record<string, unknown>;
}

/** `POST /api/auth/passkey/finish`. */
export interface PasskeyLoginFinish {
  /** From [`PasskeyChallenge`]. */
  ceremony_id: string;
  /** Browser or CLI (default CLI). */
  client?: ClientKind;
  /** The `PublicKeyCredential` the browser returned from `get()`, as JSON. */
  credential: Record<string, unknown>;
  /**
   * The password, to use the passkey as a second factor; without it the passkey (which
   * verified the user) is the whole login.
   */
  password?: Secret;
}

/** `POST /api/auth/passkey/start`. */
export interface PasskeyLoginStart {
  /**
   * The account's e-mail; leave it out for a discoverable-credential (username-less)
   * login, where the passkey names the account.
   */
  email?: string;
  /** The tenant to log in to. */
  tenant_id: TenantId;
}

/** `POST /api/account/passkeys/register/finish`. */
export interface PasskeyRegisterFinish {
  /** From [`PasskeyChallenge`]. */
  ceremony_id: string;
  /** The `PublicKeyCredential` the browser returned from `create()`, as JSON. */
  credential: Record<string, unknown>;
  /** A name to recognise the passkey by (1 to 64 characters). */
  name: string;
}

/** One of the caller's passkeys. */
export interface PasskeyView {
  /** Registered. */
  created_at: string;
  /** Public id (for removal). */
  id: string;
  /** Last used to log in. */
  last_used_at?: string | null;
  /** The name given at registration. */
  name: string;
}

/** A solved proof-of-work challenge. */
export interface PowSolution {
  /** The challenge from `GET …/challenge`. */
  challenge: string;
  /** A number n such that SHA-256(challenge ":" n) starts with `bits` zero bits. */
  solution: number;
}

/** One field the widget asks for before the chat starts. */
export interface PrechatField {
  /** Input kind. */
  kind: PrechatKind;
  /** What the visitor reads (at most 80 characters). */
  label: string;
  /** Key of the answer in the encrypted pre-chat form (`[a-z][a-z0-9_]*`, at most 32). */
  name: string;
  /** Whether the widget insists on an answer. */
  required?: boolean;
}

/** What a pre-chat field holds (the widget picks its input from it). */
export type PrechatKind = "text" | "email" | "tel" | "textarea";

/** The privacy notice shown before the first message. */
export interface PrivacyNotice {
  /** The notice as plain text (at most 8,000 characters), rendered as text. */
  text: string;
  /** The full policy's address (https), shown as a link. */
  url?: string;
  /**
   * The version a visitor accepts (letters, digits, `.`, `-`, `_`; at most 64). Change
   * it whenever the text changes: conversations record the version they started under.
   */
  version: string;
}

/** The WebSocket protocol version this server speaks (`v` of `ready`). */
export type ProtocolVersion = 1;

/** Who the connection is, as the server sees it. */
export interface ReadyInfo {
  /** Seconds between server heartbeats; a client silent for three of them is dropped. */
  heartbeat_s: number;
  /** The largest payload accepted in `send`, in bytes (decoded). */
  max_payload: number;
  /** The authenticated party. */
  me: WireParty;
  /** The protocol version. */
  v: number;
}

/**
 * `POST /api/auth/reauth`: prove identity again before a sensitive action, with the password
 * (and the second factor the account has) or with a passkey. The answer is a new session
 * that replaces the current one, as after a login.
 */
export interface ReauthRequest {
  /**
   * A passkey assertion, instead of the password: start the ceremony with
   * `POST /api/auth/reauth/passkey`, pass its options to `navigator.credentials.get()`.
   */
  passkey?: PasskeyAssertion;
  /** Password; leave it out when proving identity with `passkey`. */
  password?: Secret;
  /** A recovery code, instead of the TOTP code. */
  recovery_code?: Secret;
  /** A current TOTP code, with the password, when the account has TOTP. */
  totp?: Secret;
}

/** Fresh recovery codes, shown once. */
export interface RecoveryCodes {
  /** Ten single-use codes. */
  recovery_codes: string[];
}

/**
 * Replaces a canned response's sealed payload (an edit, or a re-seal to the team's newest
 * key version after a rotation), if it is still the one the client read.
 */
export interface ReplaceCannedResponse {
  /**
   * The team key version the stored payload was sealed to when the client read it; the
   * server refuses the replacement (`conflict`) if the payload has changed since.
   */
  key_version: number;
  /**
   * The new payload, standard base64: an `SDT1` canned response of this tenant and team
   * sealed to the team's newest key version only.
   */
  p: string;
  /**
   * SHA-256 of the payload the client read (standard base64, 32 bytes): the server refuses
   * the replacement (`conflict`) unless the stored payload is still that one, so two
   * editors working from the same version cannot overwrite each other unknowingly.
   */
  read_sha256: string;
}

/** `PUT /api/tenants/{tenant}/staff/{staff}/role`. */
export interface RoleChange {
  /** `owner`, `admin`, `supervisor` or `agent`. */
  role: string;
}

/** A team's routing settings. */
export interface RoutingSettings {
  /** `manual`, `least_busy` or `round_robin`. */
  assignment: string;
}

/** The tenant's team and archive keys, every version, by scope then version. */
export interface SealingKeyList {
  /** The keys. */
  keys: SealingKeyView[];
}

/**
 * A team or archive key announcement to publish (E2EE.md §3): the public X25519 key signed
 * by the tenant root or a certified issuing key (`sealdesk_mls::announce`).
 */
export interface SealingKeyUpload {
  /** The signed announcement, base64. */
  announcement: string;
}

/** One version of a team or archive key. */
export interface SealingKeyView {
  /** The signed announcement, base64: verify it against the pinned root before sealing. */
  announcement: string;
  /** The X25519 public key, base64. */
  public_key: string;
  /** A team id, or `archive`. */
  scope: string;
  /** 1, 2, … per scope. */
  version: number;
}

/** A password or one-time code in a request. `Debug` never shows it. */
export type Secret = string;

/** Frames the server sends. */
export type ServerFrame =
  | (ReadyInfo & {
      t: "ready";
    })
  | {
      t: "subscribed";
      /** The conversation. */
      c: ConversationId;
      /** The conversation's last sequence number when the subscription started. */
      last_seq: number;
      /** The conversation's state. */
      state: string;
    }
  | {
      t: "unsubscribed";
      /** The conversation. */
      c: ConversationId;
    }
  | {
      t: "entry";
      /** Append time, Unix milliseconds. */
      at: number;
      /** The conversation. */
      c: ConversationId;
      /** The writer. */
      from: WireParty;
      /** The writer's client message id, if it gave one. */
      id?: string;
      /** What the payload is. */
      k: WireKind;
      /** The payload, standard base64. */
      p: string;
      /** Sequence number. */
      seq: number;
    }
  | {
      t: "ack";
      /** The conversation. */
      c: ConversationId;
      /** True when the entry had been appended before (a retry). */
      dup?: boolean;
      /** The client message id of the send. */
      id: string;
      /** The entry's sequence number. */
      seq: number;
    }
  | {
      t: "typing";
      /** The conversation. */
      c: ConversationId;
      /** Who. */
      from: WireParty;
      /** Typing or stopped. */
      on: boolean;
    }
  | {
      t: "read";
      /** The conversation. */
      c: ConversationId;
      /** Who. */
      from: WireParty;
      /** Up to which entry. */
      seq: number;
    }
  | {
      t: "resync";
      /** The last sequence number delivered before the gap. */
      after: number;
      /** The conversation. */
      c: ConversationId;
    }
  | (Notice & {
      t: "notice";
    })
  | {
      t: "teams";
      /** The teams the staff member belongs to now. */
      teams: TeamId[];
    }
  | (WsError & {
      t: "error";
    })
  | {
      t: "pong";
      /** The ping's number. */
      n: number;
    };

/** The current session, as `GET /api/auth/session` and login return it. */
export interface SessionInfo {
  /** Last proof of identity (login or reauth). */
  authenticated_at: string;
  /**
   * For a browser session asking `GET /api/auth/session`: its CSRF token again, so a new
   * tab of the console can work without signing in again (same-origin script only: the
   * cookie is `SameSite=Strict` and the API sends no CORS headers to other origins).
   */
  csrf_token?: string;
  /** Absolute expiry. */
  expires_at: string;
  /** When the session lapses without activity, if it has an idle limit. */
  idle_expires_at?: string | null;
  /** `browser`, `cli` or `api_token`. */
  kind: string;
  /**
   * The tenant requires a second factor and the account has none: only enrolment and
   * logout are allowed until one is confirmed.
   */
  restricted: boolean;
  /** Whether the account has a confirmed second factor. */
  second_factor: boolean;
  /** The session's public id (for listing and revoking; not a credential). */
  session_id: string;
  /** The staff account. */
  staff: StaffView;
}

/** One of the caller's sessions or API tokens. */
export interface SessionView {
  /** Created. */
  created_at: string;
  /** This is the session making the request. */
  current: boolean;
  /** Absolute expiry. */
  expires_at: string;
  /** Public id. */
  id: string;
  /** Client address (truncated). */
  ip?: string;
  /** `browser`, `cli` or `api_token`. */
  kind: string;
  /** Last activity. */
  last_seen_at: string;
  /** API-token label. */
  name?: string;
  /** Client software. */
  user_agent?: string;
}

/** A staff id (UUID). */
export type StaffId = string;

/** A staff account as shown to admins. Never carries credentials. */
export interface StaffView {
  /** Creation time (RFC 3339). */
  created_at: string;
  /** A disabled account cannot log in. */
  disabled: boolean;
  /** Name shown to colleagues and, once verified, to customers. */
  display_name: string;
  /** Login e-mail, unique within the tenant (stored lower-case). */
  email: string;
  /** Whether a password has been set. */
  has_password: boolean;
  /** The staff member's id. */
  id: StaffId;
  /** `owner`, `admin`, `supervisor` or `agent`. */
  role: string;
  /** The tenant the account belongs to. */
  tenant_id: TenantId;
}

/** The WebSocket sub-protocol clients offer (`Sec-WebSocket-Protocol`). */
export type Subprotocol = "sealdesk.v1";

/** A server-written routing event: the JSON payload of a `system` entry. Content-free. */
export type SystemEvent =
  | {
      event: "queued";
      /** The team. */
      team: TeamId;
    }
  | {
      event: "assigned";
      /** The agent. */
      agent: StaffId;
    }
  | {
      event: "transferred_to_agent";
      /** The previous agent. */
      from: StaffId;
      /** The new agent. */
      to: StaffId;
    }
  | {
      event: "transferred_to_team";
      /** The previous agent, if any. */
      from?: StaffId;
      /** The team. */
      team: TeamId;
    }
  | {
      event: "supervisor_joined";
      /** The supervisor. */
      staff: StaffId;
    }
  | {
      event: "closed";
      /** Who closed it. */
      by: WireParty;
    };

/** Which staff member's key packages to take (default: the conversation's assignee). */
export interface TakeKeyPackages {
  /** A staff member of the tenant (staff callers only; visitors get the assignee's). */
  staff?: StaffId;
}

/** A team id (UUID). */
export type TeamId = string;

/** A team's members. */
export interface TeamMembers {
  /** Staff ids. */
  members: StaffId[];
}

/** A team (inbox) of a tenant. */
export interface TeamView {
  /** Creation time (RFC 3339). */
  created_at: string;
  /** A disabled team receives no new conversations. */
  disabled: boolean;
  /** The team's id. */
  id: TeamId;
  /** Display name, unique (case-insensitively) within the tenant. */
  name: string;
  /** The tenant the team belongs to. */
  tenant_id: TenantId;
}

/** A tenant id (UUID). */
export type TenantId = string;

/** A tenant's security and privacy settings (`GET`/`PUT /api/tenants/{tenant}/settings`). */
export interface TenantSettingsView {
  /** Every staff member must have a second factor. */
  require_second_factor: boolean;
  /** Days after which closed conversations are deleted (1 to 3650). */
  retention_days: number;
  /** Sessions end this many hours after login (1 to 720). */
  session_absolute_hours: number;
  /** Browser sessions lapse after this many idle minutes (5 to 1440). */
  session_idle_minutes: number;
  /** When not empty, staff may log in only from these CIDR ranges. */
  staff_ip_allowlist: string[];
  /** Visitors from these CIDR ranges get no ticket and no connection. */
  visitor_blocklist?: string[];
  /**
   * When new visitors must solve a proof-of-work challenge: `off`, `auto` (under attack;
   * the default) or `always`.
   */
  visitor_challenge?: string;
}

/** Asks for a visitor ticket. */
export interface TicketRequest {
  /**
   * A JWT from the tenant's website naming its logged-in customer (`sub`), signed with the
   * inbox's identity key, `aud` = the team id. The visitor key is then ignored: the ticket
   * is for the visitor verified as that customer.
   */
  identity_token?: string | null;
  /**
   * A solved proof-of-work challenge, when the server asked for one
   * (`challenge_required`).
   */
  pow?: PowSolution | null;
  /**
   * The visitor key the widget received earlier (`sd_vk_…`), to come back as the same
   * visitor. Omit it to become a new visitor.
   */
  visitor_key?: string | null;
}

/** A visitor ticket. */
export interface TicketResponse {
  /** When it expires; ask for a new one before. */
  expires_at: string;
  /** The ticket (`sd_vt_…`): send it in the WebSocket `auth` frame or as a bearer token. */
  ticket: string;
  /** The visitor. */
  visitor_id: VisitorId;
  /**
   * A new visitor's key (`sd_vk_…`), returned once: keep it to come back as the same
   * visitor. Absent when the request carried a valid key.
   */
  visitor_key?: string;
}

/** `POST /api/account/totp/confirm`. */
export interface TotpConfirm {
  /** The first code from the authenticator app. */
  code: Secret;
}

/**
 * A started TOTP enrolment: show the QR code or the secret to the authenticator app, then
 * confirm with a first code.
 */
export interface TotpEnrollment {
  /** The URI as an SVG QR code. */
  qr_svg: string;
  /** Base32 secret, for typing into the app. */
  secret: string;
  /** `otpauth://` URI. */
  uri: string;
}

/** Where to transfer a conversation: exactly one of the two. */
export interface TransferRequest {
  /** To this agent. */
  agent?: StaffId | null;
  /**
   * With `team` only: earlier History Member bundles and notes, re-sealed by the caller's
   * client to that team's newest key and the archive key (docs/e2ee.md, "Transfer to
   * another team"), stored with the transfer.
   */
  carry?: CarryOverUpload;
  /** Back to this team's queue. */
  team?: TeamId | null;
}

/** Answer of `GET /api/version`. */
export interface VersionInfo {
  /** Always `"sealdesk"`. */
  name: string;
  /** The WebSocket protocol versions this server speaks. */
  protocol_versions: number[];
  /** The storage backend in use: `"sqlite"` or `"postgres"`. */
  storage: string;
  /** The server's semantic version. */
  version: string;
}

/** A visitor id (UUID). */
export type VisitorId = string;

/** A visitor as staff see it. */
export interface VisitorView {
  /** First seen. */
  created_at: string;
  /** The tenant's customer id, when verified. */
  external_id?: string;
  /** Id. */
  id: VisitorId;
  /** Last ticket. */
  last_seen_at: string;
  /** The team whose widget created it. */
  team_id: TeamId;
  /** Whether the tenant's website vouched for it with an identity token. */
  verified: boolean;
}

/** The public configuration a widget loads for one team (inbox). Content-free. */
export interface WidgetConfig {
  /** Largest attachment, in bytes. */
  attachment_max: number;
  /** Largest payload of one message, in bytes. */
  max_payload: number;
  /** The pre-chat fields, in order. */
  prechat_fields: PrechatField[];
  /** The privacy notice to accept before the first message, if the inbox has one. */
  privacy_notice?: PrivacyNotice | null;
  /** WebSocket protocol version the server speaks. */
  protocol: number;
  /**
   * The tenant's registered root public keys, written as in the snippet
   * (`ed25519:<base64url>`). Informational: the widget trusts only the keys pinned in its
   * snippet, and warns when these differ.
   */
  root_keys: string[];
  /** The team (inbox). */
  team_id: TeamId;
  /** The team's name. */
  team_name: string;
  /** The tenant. */
  tenant_id: TenantId;
  /** The tenant's display name. */
  tenant_name: string;
}

/** `GET`/`PUT /api/tenants/{tenant}/widget-origins`: the pages allowed to embed the widget. */
export interface WidgetOrigins {
  /**
   * Origins such as `https://shop.example.com` (no path, no wildcard; at most 50). A
   * browser page elsewhere gets no visitor ticket and no connection.
   */
  origins: string[];
}

/** What a log entry carries, on the wire. */
export type WireKind = "handshake" | "application" | "welcome" | "system";

/** Who wrote an entry or an ephemeral frame. */
export type WireParty =
  | {
      kind: "visitor";
      /** The conversation's visitor. */
      id: VisitorId;
    }
  | {
      kind: "staff";
      /** A staff member. */
      id: StaffId;
    }
  | {
      kind: "system";
    };

/** An error frame. */
export interface WsError {
  /** The conversation the failed request named. */
  c?: ConversationId;
  /** Stable code (the same `snake_case` codes as the REST API's `ErrorCode`). */
  code: ErrorCode;
  /** The client message id of a failed `send`. */
  id?: string;
  /** Human-readable explanation. */
  message: string;
}
