// The widget's reconnection plan (retry.ts) with fake timers: it never gives up on what a
// retry can fix (well past the 8 tries the widget used to stop at), waits grow to 30 s and
// stay there with jitter, a wake-up cuts the wait short, and it stops on what no retry fixes.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../shared/protocol/rest.js";
import { SocketError } from "../shared/protocol/socket.js";
import { Retrier, retryCannotFix, retryDelay, type RetryState } from "./retry.js";

describe("retryDelay", () => {
  it("doubles from about a second up to 30 s, with half of each wait random", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20, 1000].map((n) => retryDelay(n, () => 1))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000]);
    expect([1, 2, 6, 50].map((n) => retryDelay(n, () => 0))).toEqual([500, 1_000, 15_000, 15_000]);
    expect(retryDelay(9, () => 0.5)).toBe(22_500);
    // Odd inputs stay in range.
    expect(retryDelay(0, () => 7)).toBe(1_000);
    expect(retryDelay(Number.NaN, () => -1)).toBe(15_000);
  });
});

describe("retryCannotFix", () => {
  it("stops on refusals and a conversation that is gone, not on outages or rate limits", () => {
    expect(retryCannotFix(new ApiError(403, "forbidden", "origin"))).toBe(true);
    expect(retryCannotFix(new ApiError(401, "unauthenticated", "token expired"))).toBe(true);
    expect(retryCannotFix(new ApiError(404, "not_found", "inbox"))).toBe(true);
    expect(retryCannotFix(new SocketError("not_found", "erased"))).toBe(true);
    expect(retryCannotFix(new SocketError("unsubscribed", "erased"))).toBe(true);
    expect(retryCannotFix(new ApiError(429, "rate_limited", "slow down"))).toBe(false);
    expect(retryCannotFix(new ApiError(408, "timeout", ""))).toBe(false);
    expect(retryCannotFix(new ApiError(503, "unavailable", ""))).toBe(false);
    expect(retryCannotFix(new SocketError("closed", "connection closed (1006)"))).toBe(false);
    expect(retryCannotFix(new TypeError("Failed to fetch"))).toBe(false);
  });
});

describe("Retrier", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function harness(fail: () => unknown) {
    const states: RetryState[] = [];
    const tries: number[] = [];
    let down = true;
    const retrier = new Retrier(async () => {
      tries.push(Date.now());
      if (down) throw fail();
      return "socket";
    }, (s) => states.push(s), () => 1);
    return { retrier, states, tries, up: () => (down = false) };
  }

  it("keeps trying through a long outage, 30 s apart at most, and comes back by itself", async () => {
    const { retrier, states, tries, up } = harness(() => new TypeError("Failed to fetch"));
    const start = Date.now();
    const result = retrier.run();
    // Two hours down.
    await vi.advanceTimersByTimeAsync(2 * 60 * 60 * 1000);
    expect(tries.length).toBeGreaterThan(200);
    const gaps = tries.slice(1).map((t, i) => t - (tries[i] ?? 0));
    expect(gaps.slice(0, 5)).toEqual([2_000, 4_000, 8_000, 16_000, 30_000]);
    expect(Math.max(...gaps)).toBe(30_000);
    expect(tries[0]).toBe(start + 1_000);
    // Each wait is announced with its attempt and when it ends; each try as under way.
    expect(states[0]).toEqual({ attempt: 1, at: start + 1_000 });
    expect(states[1]).toEqual({ attempt: 1, trying: true });
    const last = states.at(-1);
    expect(last !== undefined && "at" in last ? last.at - Date.now() : -1).toBeGreaterThan(0);
    up();
    await vi.advanceTimersByTimeAsync(30_000);
    await expect(result).resolves.toBe("socket");
  });

  it("tries at once when woken (network back, page visible, Retry now)", async () => {
    const { retrier, tries, up } = harness(() => new SocketError("closed", "1006"));
    const result = retrier.run();
    await vi.advanceTimersByTimeAsync(1_000 + 2_000 + 4_000);
    expect(tries).toHaveLength(3);
    up();
    retrier.now();
    await vi.advanceTimersByTimeAsync(0);
    expect(tries).toHaveLength(4);
    await expect(result).resolves.toBe("socket");
  });

  it("stops on an error no retry fixes, and when stopped", async () => {
    const refused = harness(() => new ApiError(403, "forbidden", "this website may not embed the widget"));
    const result = refused.retrier.run();
    const caught = result.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(refused.tries).toHaveLength(1);
    expect(await caught).toBeInstanceOf(ApiError);

    const stopped = harness(() => new TypeError("Failed to fetch"));
    const run = stopped.retrier.run();
    await vi.advanceTimersByTimeAsync(1_000);
    stopped.retrier.stop();
    await expect(run).resolves.toBeNull();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(stopped.tries).toHaveLength(1);
  });
});
