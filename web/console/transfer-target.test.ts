// The transfer picker's choices (transfer.ts): a colleague or another team's queue, and the
// failure shown in words with the server's stable code.
import { describe, expect, it } from "vitest";
import { transferFailure, transferTarget } from "./transfer.js";

describe("transferTarget", () => {
  it("reads a colleague and a team", () => {
    expect(transferTarget("agent:0190e3a0-aaaa")).toEqual({ agent: "0190e3a0-aaaa" });
    expect(transferTarget("team:0190e3a0-bbbb")).toEqual({ team: "0190e3a0-bbbb" });
  });

  it("refuses anything else (nothing chosen, no id, an unknown kind)", () => {
    for (const v of ["", "agent:", "team:", "0190e3a0-aaaa", "tenant:x", ":x"]) expect(transferTarget(v)).toBeUndefined();
  });
});

describe("transferFailure", () => {
  it("says why in words and keeps the stable code", () => {
    expect(transferFailure("forbidden")).toBe("Not transferred: you may no longer transfer this conversation (forbidden).");
    expect(transferFailure("conversation_closed")).toBe("Not transferred: the conversation is closed (conversation_closed).");
    expect(transferFailure("not_found")).toBe("Not transferred: the conversation or that team is no longer there (not_found).");
  });

  it("still gives the code of a failure it has no words for", () => {
    expect(transferFailure("unavailable")).toBe("Not transferred: it could not be done (unavailable).");
    expect(transferFailure("constructor")).toBe("Not transferred: it could not be done (constructor).");
  });
});
