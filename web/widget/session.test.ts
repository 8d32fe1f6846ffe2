// The session's screens and rules without a server: the configuration decides the first
// screen (privacy notice, prechat form, chat), the form is validated, and nothing is sent
// before consent or while a member is unverified.
import { describe, expect, it } from "vitest";
import { nodeTransport } from "../shared/protocol/node-transport.js";
import type { WidgetConfig } from "../shared/protocol/types.js";
import { toBase64 } from "../shared/util/bytes.js";
import { VisitorSession } from "./session.js";
import { initialState } from "./state.js";
import { en } from "./strings.js";
import { transcriptText } from "./transcript.js";
import { TestHierarchy } from "./testkeys.js";
import { uuidBytes } from "./trust.js";

const TENANT = "0190b1c2-0000-7000-8000-000000000001";
const TEAM = "0190b1c2-0000-7000-8000-000000000002";
const base: WidgetConfig = {
  tenant_id: TENANT, tenant_name: "ACME", team_id: TEAM, team_name: "Billing", protocol: 1, max_payload: 65536, attachment_max: 1,
};

async function session(): Promise<{ s: VisitorSession; key: string }> {
  const h = await TestHierarchy.create(uuidBytes(TENANT));
  const anchor = await h.anchor();
  // An unroutable server: these tests must never reach the network.
  return { s: new VisitorSession({ server: "http://127.0.0.1:9", tenant: TENANT, team: TEAM, anchor, transport: nodeTransport }), key: toBase64(anchor.roots[0]!) };
}

describe("VisitorSession screens", () => {
  it("shows the privacy notice first, then the prechat form, then the chat", async () => {
    const { s, key } = await session();
    s.applyConfig({
      ...base, root_keys: [key],
      privacy_notice: { version: "2026-01", text: "We keep chats 30 days.", url: "https://acme.example/privacy" },
      prechat_fields: [
        { name: "name", label: "Name", kind: "text", required: true },
        { name: "email", label: "Email", kind: "email", required: false },
      ],
    });
    expect(s.state.phase).toBe("consent");
    expect(s.state.keyMismatch).toBe(false);
    expect(s.submitPrechat({ name: "x" })).toEqual([]); // ignored: not on the form yet
    expect(s.state.phase).toBe("consent");
    expect(await s.send("hello")).toBe(false); // nothing leaves before consent
    expect(s.state.items).toEqual([]);
    s.acceptConsent();
    expect(s.state.phase).toBe("prechat");
    expect(s.submitPrechat({ name: " ", email: "nope" })).toEqual(["name", "email"]);
    expect(s.state.phase).toBe("prechat");
    expect(s.submitPrechat({ name: "<img src=x onerror=alert(1)>", email: "" })).toEqual([]);
    expect(s.state.phase).toBe("chat");
    expect(s.state.answers).toEqual([["name", "<img src=x onerror=alert(1)>"]]);
  });

  it("goes straight to the chat without a notice or fields (a server without them)", async () => {
    const { s } = await session();
    s.applyConfig(base);
    expect(s.state.phase).toBe("chat");
    expect(s.state.notice).toBeNull();
    expect(s.state.fields).toEqual([]);
  });

  it("warns when the snippet's key is not among the server's registered keys", async () => {
    const { s } = await session();
    s.applyConfig({ ...base, root_keys: [toBase64(new Uint8Array(32).fill(7))] });
    expect(s.state.keyMismatch).toBe(true);
  });

  it("marks a message it could not send as failed and keeps it", async () => {
    const { s } = await session();
    s.applyConfig(base);
    expect(await s.send("first")).toBe(false);
    expect(s.state.items).toMatchObject([{ kind: "text", text: "first", status: "failed" }]);
    expect(s.state.error).toBe("network");
  });
});

describe("transcript", () => {
  it("lists the answers and every item as plain text", () => {
    const text = transcriptText({
      ...initialState(), teamName: "Billing", fields: [{ name: "name", label: "Your name", kind: "text", required: true }],
      answers: [["name", "<b>Ada</b>"]],
      items: [
        { key: "1", kind: "text", from: "visitor", author: "", text: "Hi", at: 0, status: "read" },
        { key: "2", kind: "event", event: "agent_joined", name: "Jane D.", at: 1000 },
        { key: "3", kind: "text", from: "staff", author: "Jane D.", text: "Hello", at: 2000, status: "received" },
        { key: "4", kind: "unverified", at: 3000, seq: 9 },
        { key: "5", kind: "text", from: "visitor", author: "", text: "Lost", at: 4000, status: "failed" },
      ],
    }, en);
    expect(text).toBe([
      "Chat with Billing", "", "Your name: <b>Ada</b>", "",
      "[1970-01-01 00:00:00] You: Hi",
      "[1970-01-01 00:00:01] Jane D. joined the conversation.",
      "[1970-01-01 00:00:02] Jane D.: Hello",
      "[1970-01-01 00:00:03] A message could not be verified and was not shown.",
      "[1970-01-01 00:00:04] You: Lost (Not sent)", "",
    ].join("\n"));
  });
});
