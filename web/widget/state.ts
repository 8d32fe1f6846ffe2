// The widget's observable state: what the DOM layer renders. Plain data, no DOM, no crypto,
// so that the session can be tested in Node and the view stays a pure function of it.

import type { PrechatField, PrivacyNotice } from "../shared/protocol/types.js";
import type { CheckedMember } from "./trust.js";

/** "elsewhere": the widget is open in another tab of this browser (one writer per inbox). */
export type Phase = "loading" | "consent" | "prechat" | "chat" | "closed" | "error" | "elsewhere";

/** An event line in the transcript; the view picks its translated text. */
export type EventCode = "agent_joined" | "transferred" | "supervisor_joined" | "closed";

export type ChatItem =
  | {
      key: string;
      kind: "text";
      from: "visitor" | "staff";
      /** The certified name of a staff sender (empty for the visitor). */
      author: string;
      text: string;
      at: number;
      status: "sending" | "sent" | "read" | "failed" | "received";
      seq?: number;
      /** The send's client message id: after a reload, the log tells whether it arrived. */
      clientId?: string;
    }
  /** An attachment: its reference (with the key) stays in memory and in the encrypted record. */
  | {
      key: string;
      kind: "file";
      from: "visitor" | "staff";
      author: string;
      name: string;
      size: number;
      at: number;
      status: "sending" | "sent" | "read" | "failed" | "received";
      seq?: number;
      /** The send's client message id: after a reload, the log tells whether it arrived. */
      clientId?: string;
      ref?: FileRefJson;
    }
  /** An entry that was dropped because it could not be decrypted or verified. */
  | { key: string; kind: "unverified"; at: number; seq: number }
  | { key: string; kind: "event"; event: EventCode; name: string; at: number };

/** A payload FileRef as JSON (base64 fields, decimal size). */
export interface FileRefJson {
  sha256: string;
  size: string;
  key: string;
  nonce: string;
  name: string;
  mediaType: string;
}

/** Why sending is refused (a hard stop, E2EE.md §4). */
export type BlockReason = "untrusted_member" | "untrusted_history" | "unverifiable_change";

export interface WidgetState {
  phase: Phase;
  tenantName: string;
  teamName: string;
  notice: PrivacyNotice | null;
  fields: PrechatField[];
  /** The prechat answers, once given (shown back to the visitor as text). */
  answers: Array<[string, string]>;
  items: ChatItem[];
  /** Verified members other than the visitor (agents, supervisors, the History Member). */
  members: CheckedMember[];
  blocked: BlockReason | null;
  /** The snippet's keys are not all registered on the server (a warning, not a stop). */
  keyMismatch: boolean;
  staffTyping: boolean;
  /** The conversation is being set up (ticket, group, History Member). */
  starting: boolean;
  /** Largest attachment the server takes (encrypted bytes). */
  attachmentMax: number;
  /** A short error code for the view ("network", "consent_changed", …), or null. */
  error: string | null;
  /** The visitor asked for the conversation to be deleted; it is gone from this browser. */
  deleted: boolean;
}

export function initialState(): WidgetState {
  return {
    phase: "loading", tenantName: "", teamName: "", notice: null, fields: [], answers: [], items: [], members: [],
    blocked: null, keyMismatch: false, staffTyping: false, starting: false, error: null, attachmentMax: 0, deleted: false,
  };
}
