// The widget's reconnection plan (log.ts): a customer who leaves the tab open through a long
// outage comes back by themselves. Tries go on with a growing pause (from about a second,
// doubling, never above 30 s, each wait between half and all of that ceiling, so that the
// widgets a server restart dropped do not all come back in the same instant) until one
// succeeds, one fails in a way no retry can fix (the visitor is refused, the conversation is
// gone), or the session stops. `now` cuts the current wait short: the browser's `online`
// event, the page becoming visible, the visitor's "Retry now". No DOM: tested in Node.

import { ApiError } from "../shared/protocol/rest.js";
import { SocketError } from "../shared/protocol/socket.js";

/** The first wait's ceiling; each further one doubles it. */
export const RETRY_BASE_MS = 1_000;
/** No wait is longer than this. */
export const RETRY_MAX_MS = 30_000;

/** The wait before try `attempt` (1, 2, …): half of the ceiling fixed, half random. */
export function retryDelay(attempt: number, random: () => number = Math.random): number {
  // Not a number: as late in the schedule as it gets.
  const n = Number.isNaN(attempt) ? 16 : Math.floor(attempt);
  const step = Math.min(Math.max(n, 1), 16) - 1;
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** step);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(ceiling / 2 + (r * ceiling) / 2);
}

/** The conversation is no longer there to resume (deleted, or not this visitor's). */
export function conversationGone(e: unknown): boolean {
  return e instanceof SocketError && (e.code === "not_found" || e.code === "forbidden" || e.code === "unsubscribed");
}

/**
 * Whether trying again cannot help: a 4xx of the REST API other than a timeout or rate
 * limiting (a refused origin or address, an identity token no longer valid, an inbox that is
 * gone), or the conversation gone. Network failures, 5xx, 408 and 429 are worth another try.
 */
export function retryCannotFix(e: unknown): boolean {
  if (e instanceof ApiError) return e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429;
  return conversationGone(e);
}

/** Where a reconnection stands: the next try's number and time, or a try under way. */
export type RetryState = { attempt: number; at: number } | { attempt: number; trying: true };

export class Retrier<T> {
  private wake: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly attempt: () => Promise<T>,
    private readonly state: (s: RetryState) => void,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * Tries until one succeeds (its result) or the retrier is stopped (null); an error no retry
   * can fix is thrown.
   */
  async run(): Promise<T | null> {
    for (let attempt = 1; ; attempt++) {
      const delay = retryDelay(attempt, this.random);
      this.state({ attempt, at: Date.now() + delay });
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, delay);
        this.wake = done;
      });
      if (this.stopped) return null;
      this.state({ attempt, trying: true });
      try {
        return await this.attempt();
      } catch (e) {
        if (this.stopped) return null;
        if (retryCannotFix(e)) throw e;
      }
    }
  }

  /** The next try goes now (nothing happens while one is under way). */
  now(): void {
    this.wake?.();
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** Whether `stop` was called (a try under way when it was may still succeed). */
  get isStopped(): boolean {
    return this.stopped;
  }
}
