// The live chat's contract with its view (chat.ts): the events it reports, its options, the
// error of a conversation already open in another tab, and the cookie-authenticated
// WebSocket it (and the desk's inbox link) connects with. Kept apart so that chat.ts stays
// about the group and its connection.

import type { Body } from "../shared/mls/payload.js";
import { browserTransport, type TransportFactory } from "../shared/protocol/socket.js";
import type { Line } from "./preview.js";
import type { LinkState } from "./reconnect-plan.js";

/** The conversation's group is in use by another chat in this browser (another tab). */
export class OpenElsewhereError extends Error {
  override name = "OpenElsewhereError";
  readonly code = "open_in_another_tab";
}

export interface ChatEvents {
  line(line: Line, mine: boolean): void;
  /** In the group; `welcomeSeq` is the Welcome's seq on a fresh join (absent on a resume). */
  joined(welcomeSeq?: number): void;
  membersChanged(): void;
  typing(on: boolean): void;
  read(seq: number): void;
  problem(text: string): void;
  /** The server's `closed` entry: by the visitor, or by staff. */
  closed(byVisitor: boolean): void;
  /** The server's `supervisor_joined` entry (the assignee's console adds the supervisor). */
  supervisorJoined(staff: string): void;
  /** A supervisor's authenticated leave request (MLS cannot remove oneself; E2EE.md §5.5). */
  leaveRequested(leaf: number): void;
  /** A commit removed this device: its state for the conversation is gone. */
  removed(): void;
  /**
   * The log names `to` as the one whose device removes the previous agent's (a transfer to
   * them, or their taking a conversation another team's agent sent; handover.ts). Given once
   * this device is in the group, caught up and live, once a connection until it is done.
   */
  handover(to: string): void;
  /** The connection: live, lost and being tried again, or ended for good. */
  connection(state: LinkState): void;
  /** A message of ours, encrypted and saved, waiting for the server (`key` names it until it settles). */
  outgoing(key: string, body: Body): void;
  /** That message, sequenced: its line. */
  delivered(key: string, line: Line): void;
  /** That message, refused by the server (`reason`: its error code): it was not delivered. */
  undelivered(key: string, reason: string): void;
}

export interface ChatOptions {
  /** A first connection that fails is tried again with backoff (the open view); else `start` throws. */
  retryFirst?: boolean;
}

/** The browser's WebSocket with no token: the server reads the HttpOnly session cookie. */
export const cookieTransport: TransportFactory = (url, options, events) => browserTransport(url, { protocol: options.protocol }, events);
