import { describe, expect, it } from "vitest";
import { splitLinks } from "./links.js";

describe("splitLinks", () => {
  it("keeps plain text as one piece", () => {
    expect(splitLinks("Hello <b>there</b>")).toEqual([{ text: "Hello <b>there</b>" }]);
  });
  it("finds http and https addresses and stops at markup", () => {
    expect(splitLinks("see https://evil.example/login?next=<svg/onload=alert(1)> now")).toEqual([
      { text: "see " }, { url: "https://evil.example/login?next=" }, { text: "<svg/onload=alert(1)> now" },
    ]);
    expect(splitLinks("http://a.example and https://b.example/x")).toEqual([
      { url: "http://a.example" }, { text: " and " }, { url: "https://b.example/x" },
    ]);
  });
  it("leaves sentence punctuation out of the address", () => {
    expect(splitLinks("Go to https://shop.example/help.")).toEqual([{ text: "Go to " }, { url: "https://shop.example/help" }, { text: "." }]);
  });
  it("never makes a link of other schemes", () => {
    // eslint-disable-next-line no-script-url -- test data: such addresses must stay text.
    expect(splitLinks("javascript:alert(1) data:text/html,x")).toEqual([{ text: "javascript:alert(1) data:text/html,x" }]);
  });
});
