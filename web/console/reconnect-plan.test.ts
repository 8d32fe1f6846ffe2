// The live chat's reconnection schedule, close codes and status line (reconnect-plan.ts).
import { describe, expect, it } from "vitest";
import { connectionText, finalRefusal, reconnectDelay, RECONNECT_BASE_MS, RECONNECT_MAX_MS, retryAfterClose } from "./reconnect-plan.js";

describe("reconnectDelay", () => {
  it("doubles its ceiling from RECONNECT_BASE_MS up to RECONNECT_MAX_MS", () => {
    const top = (n: number) => reconnectDelay(n, () => 1);
    expect([1, 2, 3, 4, 5, 6, 7].map(top)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(top(1)).toBe(RECONNECT_BASE_MS);
    expect(top(1_000)).toBe(RECONNECT_MAX_MS);
    // Nonsense attempts count as the first.
    expect(top(0)).toBe(RECONNECT_BASE_MS);
    expect(top(-3)).toBe(RECONNECT_BASE_MS);
  });

  it("jitters within the upper half of the ceiling, never right away", () => {
    expect(reconnectDelay(1, () => 0)).toBe(500);
    expect(reconnectDelay(3, () => 0)).toBe(2_000);
    expect(reconnectDelay(3, () => 0.5)).toBe(3_000);
    expect(reconnectDelay(20, () => 0)).toBe(RECONNECT_MAX_MS / 2);
    // A broken random source stays within bounds.
    expect(reconnectDelay(2, () => 7)).toBe(2_000);
    expect(reconnectDelay(2, () => -1)).toBe(1_000);
    for (let attempt = 1; attempt <= 10; attempt++) {
      const ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** (attempt - 1));
      for (let i = 0; i < 50; i++) {
        const d = reconnectDelay(attempt);
        expect(d).toBeGreaterThanOrEqual(ceiling / 2);
        expect(d).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it("spreads consoles dropped at the same moment", () => {
    const delays = new Set(Array.from({ length: 20 }, () => reconnectDelay(4)));
    expect(delays.size).toBeGreaterThan(10);
  });
});

describe("what is tried again", () => {
  it("reconnects after drops, restarts and timeouts, not after a refused frame or origin", () => {
    for (const code of [undefined, 1000, 1001, 1006, 1011, 4001, 4004, 4008, 4009, 4029]) expect(retryAfterClose(code)).toBe(true);
    for (const code of [1007, 1009, 4003]) expect(retryAfterClose(code)).toBe(false);
  });

  it("gives up on a subscription refused for good", () => {
    expect(finalRefusal("not_found")).toBe(true);
    expect(finalRefusal("forbidden")).toBe(true);
    expect(finalRefusal("closed")).toBe(false);
    expect(finalRefusal("unavailable")).toBe(false);
    expect(finalRefusal(undefined)).toBe(false);
  });
});

describe("connectionText", () => {
  it("says nothing while all is well, and what is going on otherwise", () => {
    expect(connectionText({ kind: "connecting" })).toBe("");
    expect(connectionText({ kind: "live", again: false })).toBe("");
    expect(connectionText({ kind: "live", again: true })).toBe("Connected again: messages are up to date.");
    expect(connectionText({ kind: "reconnecting", attempt: 3, delayMs: 3_600 })).toMatch(/^Reconnecting… .*next try in 4 s \(attempt 3\)/);
    expect(connectionText({ kind: "reconnecting", attempt: 1, delayMs: 200 })).toMatch(/next try in 1 s/);
    expect(connectionText({ kind: "ended", reason: "not_found" })).toBe("The live connection ended (not_found). Open the conversation again.");
  });
});
