// The pure half of the live chat's reconnection (link.ts): how long to wait before the next
// try, which close codes are worth another try (docs/protocol.md "Close codes"), and what the
// agent is told meanwhile. No DOM, no network: the unit tests run it in Node
// (reconnect-plan.test.ts).

import { C } from "./strings.js";

/** The first retry waits about this long; each further one doubles the ceiling. */
export const RECONNECT_BASE_MS = 1_000;
/** No wait is longer than this: an agent back on the network is back within half a minute. */
export const RECONNECT_MAX_MS = 30_000;
/** A connection that stayed up this long starts the schedule over after it drops. */
export const STABLE_MS = 5_000;
/** The client's own heartbeat: a `ping` this often, the connection given up without its `pong`. */
export const HEARTBEAT_MS = 20_000;
export const PONG_TIMEOUT_MS = 10_000;

/**
 * The wait before reconnect attempt `attempt` (1, 2, …): an exponential ceiling
 * (RECONNECT_BASE_MS, doubling, at most RECONNECT_MAX_MS) with "equal jitter": half of it
 * fixed, half random, so that the consoles a server restart dropped do not all come back in
 * the same instant, and no retry comes right on the heels of a failure.
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const step = Math.min(Math.max(Math.floor(attempt), 1), 16) - 1;
  const ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** step);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(ceiling / 2 + (r * ceiling) / 2);
}

/**
 * Whether a connection closed with `code` is tried again. A frame the server could not take
 * (1007, 1009) or an origin it refuses (4003) fails the same way every time; everything else
 * (a network drop, 1006; a restart, 1001; 1011; a lost heartbeat, 4008; a slow reader, 4009;
 * rate limiting, 4029; an ended session, 4001/4004, which the desk notices on its own and
 * signs out) is worth another try with backoff.
 */
export function retryAfterClose(code: number | undefined): boolean {
  return code !== 1007 && code !== 1009 && code !== 4003;
}

/** Whether a refused subscription is final: the conversation is gone, or no longer ours to read. */
export function finalRefusal(code: string | undefined): boolean {
  return code === "not_found" || code === "forbidden";
}

/** Where the live chat's connection stands. */
export type LinkState =
  | { kind: "connecting" }
  /** Subscribed, caught up, and what waited was sent; `again` after a lost connection. */
  | { kind: "live"; again: boolean }
  /** Lost; the next try (`attempt`, 1 on) in `delayMs`. */
  | { kind: "reconnecting"; attempt: number; delayMs: number }
  /** Given up for good (`reason`): the conversation has to be opened again. */
  | { kind: "ended"; reason: string }
  /**
   * The server ended the subscription (`unsubscribed`): this person no longer has access (a
   * transfer away, a removal, the conversation deleted). Not tried again.
   */
  | { kind: "lost_access" };

/** What the conversation view says about the connection ("" when there is nothing to say). */
export function connectionText(state: LinkState): string {
  switch (state.kind) {
    case "connecting":
      return "";
    case "live":
      return state.again ? C.back : "";
    case "reconnecting": {
      const seconds = Math.max(1, Math.round(state.delayMs / 1000));
      return C.reconnecting(seconds, state.attempt);
    }
    case "ended":
      return C.ended(state.reason);
    case "lost_access":
      return C.noAccess;
  }
}
