import { describe, expect, it } from "vitest";
import { fromJson, toJson, type Saved } from "./saved.js";

const saved: Saved = {
  conversation: "c1", visitorKey: "vk", lastSeq: 7,
  group: { group: Uint8Array.of(1, 2, 3), pending: { group: Uint8Array.of(4), commit: Uint8Array.of(5), commitId: "c-1", welcome: null, welcomeId: "w-1" } },
  items: [
    { key: "a", kind: "text", from: "visitor", author: "", text: "sent", at: 1, status: "sent", seq: 3 },
    { key: "b", kind: "text", from: "visitor", author: "", text: "in flight", at: 2, status: "sending" },
  ],
  answers: [["name", "Ada"]],
  blocked: "untrusted_member",
};

describe("the saved record", () => {
  it("round-trips through JSON, and a message still sending is marked not sent", () => {
    const back = fromJson(JSON.parse(JSON.stringify(toJson(saved))));
    expect(back?.group).toEqual(saved.group);
    expect(back?.lastSeq).toBe(7);
    expect(back?.items.map((i) => (i.kind === "text" ? i.status : i.kind))).toEqual(["sent", "failed"]);
    expect(back?.answers).toEqual([["name", "Ada"]]);
    expect(back?.blocked).toBe("untrusted_member");
    expect(fromJson({ ...toJson(saved), blocked: "whatever" })?.blocked).toBe("unverifiable_change");
    expect(fromJson({ ...toJson(saved), blocked: null })?.blocked).toBeNull();
  });

  it("ignores records of another shape", () => {
    expect(fromJson(undefined)).toBeNull();
    expect(fromJson({ v: 2 })).toBeNull();
    expect(fromJson({ ...toJson(saved), group: "not base64!" })).toBeNull();
    expect(fromJson({ ...toJson(saved), lastSeq: "7" })).toBeNull();
  });
});
