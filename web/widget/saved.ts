// The record a reload resumes from (kept encrypted by store.ts): the conversation, the
// visitor's key for new tickets, the last log entry handled, the MLS group with its journal,
// and the transcript as shown. Decoding is strict: a record of another shape is ignored.

import { fromBase64, toBase64 } from "../shared/util/bytes.js";
import type { GroupSnapshot } from "./group.js";
import type { BlockReason, ChatItem } from "./state.js";

export interface Saved {
  conversation: string;
  visitorKey?: string;
  lastSeq: number;
  group: GroupSnapshot;
  items: ChatItem[];
  answers: Array<[string, string]>;
  /** A hard stop survives the reload: the refused member is not re-offered by the log. */
  blocked: BlockReason | null;
}

const BLOCK_REASONS: readonly BlockReason[] = ["untrusted_member", "untrusted_history", "unverifiable_change"];

interface SavedJson {
  v: 1;
  conversation: string;
  visitorKey?: string;
  lastSeq: number;
  group: string;
  pending?: { group: string; commit: string; commitId: string; welcome: string | null; welcomeId: string };
  items: ChatItem[];
  answers: Array<[string, string]>;
  blocked: BlockReason | null;
}

export function toJson(s: Saved): SavedJson {
  const p = s.group.pending;
  return {
    v: 1, conversation: s.conversation, visitorKey: s.visitorKey, lastSeq: s.lastSeq, group: toBase64(s.group.group),
    pending: p === undefined ? undefined : {
      group: toBase64(p.group), commit: toBase64(p.commit), commitId: p.commitId,
      welcome: p.welcome === null ? null : toBase64(p.welcome), welcomeId: p.welcomeId,
    },
    // A message still "sending" when the page went away may not have left: say so.
    items: s.items.map((i) => (i.kind === "text" && i.status === "sending" ? { ...i, status: "failed" } : i)),
    answers: s.answers,
    blocked: s.blocked,
  };
}

export function fromJson(value: unknown): Saved | null {
  const j = value as Partial<SavedJson> | undefined;
  if (typeof j !== "object" || j === null || j.v !== 1 || typeof j.conversation !== "string" || typeof j.lastSeq !== "number"
    || typeof j.group !== "string" || !Array.isArray(j.items) || !Array.isArray(j.answers)) return null;
  try {
    const p = j.pending;
    return {
      conversation: j.conversation, visitorKey: typeof j.visitorKey === "string" ? j.visitorKey : undefined, lastSeq: j.lastSeq,
      group: {
        group: fromBase64(j.group),
        pending: p === undefined ? undefined : {
          group: fromBase64(p.group), commit: fromBase64(p.commit), commitId: p.commitId,
          welcome: p.welcome === null ? null : fromBase64(p.welcome), welcomeId: p.welcomeId,
        },
      },
      items: j.items.filter((i) => typeof i === "object" && i !== null && typeof i.key === "string"),
      answers: j.answers.filter((a) => Array.isArray(a) && typeof a[0] === "string" && typeof a[1] === "string"),
      // Anything unreadable here errs on the side of stopping.
      blocked: j.blocked === null || j.blocked === undefined ? null : BLOCK_REASONS.includes(j.blocked) ? j.blocked : "unverifiable_change",
    };
  } catch {
    return null;
  }
}
