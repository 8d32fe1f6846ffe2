// After a conversation changed hands, who removes whom (shared/design/E2EE.md §5.4): MLS lets
// no member remove itself (RFC 9420 §12.2), so the new assignee's device commits the Remove of
// the previous agent's devices. The rule is the terminal agent's (`agent read`,
// crates/sealdesk/src/commands/agent/chat.rs and membership.rs): a `transferred_to_agent`
// names the new assignee; a `transferred_to_team` with a previous agent, then the `assigned`
// of whoever took it in the new queue, does too. The state follows the log entry by entry and
// is saved with the group (keystore.ts), so a reload between reading the entries and the
// Remove still does it, once: a Remove that found nothing left to remove settles it.

import { bytesEqual } from "../shared/util/bytes.js";
import type { Who } from "./members.js";

/** What the log says about the last change of hands, as far as it was read. */
export interface Handover {
  /** A `transferred_to_team` with a previous agent was read; its `assigned` not yet. */
  fromAgent?: true;
  /** Whose device must remove the previous agent's, until it did. */
  to?: string;
}

/** The routing events that matter here (the server's `SystemEvent`, docs/protocol.md). */
export interface RoutingEvent {
  event?: string;
  from?: string | null;
  to?: string;
  agent?: string;
}

/** The state after one system entry of the log. */
export function afterEvent(h: Handover, e: RoutingEvent): Handover {
  switch (e.event) {
    case "transferred_to_agent":
      return typeof e.to === "string" ? { to: e.to } : {};
    // Back to a queue: nobody is to act until someone takes it (a queued conversation of no
    // agent has no agent's devices to remove).
    case "transferred_to_team":
      return typeof e.from === "string" ? { fromAgent: true } : {};
    case "assigned":
      return h.fromAgent === true && typeof e.agent === "string" ? { to: e.agent } : {};
    // Nothing more is committed in a closed conversation.
    case "closed":
      return {};
    default:
      return h;
  }
}

/** Whether this person's device has a Remove to make now. */
export function due(h: Handover | undefined, me: string): boolean {
  return h?.to === me;
}

/** One member of the group, as members.ts checked it. */
export interface Checked {
  leaf: number;
  signatureKey: Uint8Array;
  who: Who;
}

/**
 * The leaves to remove: verified agents' devices that are none of `mine` (this person's
 * certified devices) and not this device's own leaf. The visitor, the History Member, a
 * supervisor who joined and any member whose certificate does not verify stay.
 */
export function previousAgents(members: readonly Checked[], mine: readonly Uint8Array[], ownLeaf: number): number[] {
  return members
    .filter((m) => m.leaf !== ownLeaf && m.who.kind === "staff" && m.who.role === "agent" && !mine.some((k) => bytesEqual(k, m.signatureKey)))
    .map((m) => m.leaf);
}
