// The widget's commit journal against the real server, in Node (no page needed): a page that
// dies after journaling a commit, before or after the server appended it, must resume into
// the group everyone else is in. The journal resends the commit with its client id and the
// server's idempotent sends decide (docs/protocol.md, "Idempotent sends").

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeTransport } from "../shared/protocol/node-transport.js";
import { SealdeskSocket } from "../shared/protocol/socket.js";
import { fromBase64 } from "../shared/util/bytes.js";
import { VisitorGroup, type GroupSnapshot } from "../widget/group.js";
import { uuidBytes } from "../widget/trust.js";
import { startWorld, type World } from "./fixture.js";

describe("the widget's commit journal", () => {
  let world: World;
  const seen = new Set<string>();
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(() => world?.stop());

  /** A visitor's conversation with its group (History Member added), claimed by the agent. */
  async function conversation() {
    const { server, agent } = world;
    const anchor = agent.anchor;
    const ticket = await server.staff.withToken("").ticket(server.tenant, server.team);
    const visitor = server.staff.withToken(ticket.ticket);
    const c = (await visitor.openConversation(undefined, { notice_version: "2026-11" })).id;
    const connect = async () => {
      const s = await SealdeskSocket.connect(nodeTransport, server.url, { via: "frame", token: ticket.ticket });
      await s.subscribe(c, 0);
      return s;
    };
    const socket = await connect();
    const hm = await visitor.historyMember(c);
    const group = await VisitorGroup.create(socket, c, fromBase64(hm.key_package), anchor, uuidBytes(server.team));
    await group.send({ kind: "text", text: "hello" });
    await agent.waitForConversation("queued", seen);
    seen.add(c);
    await agent.rest.claim(server.tenant, c);
    const packages = (await visitor.takeKeyPackages(c)).key_packages.map((k) => fromBase64(k.key_package));
    return { c, group, socket, connect, packages, anchor };
  }

  it("sends a journaled commit the page died before sending, and the agent joins", async () => {
    const { c, group, socket, connect, packages, anchor } = await conversation();
    let journaled: GroupSnapshot | undefined;
    group.setJournal(async (snap) => {
      if (snap.pending !== undefined && journaled === undefined) {
        journaled = snap;
        throw new Error("the page died here");
      }
    });
    await expect(group.addStaff(packages, anchor)).rejects.toThrow("the page died here");
    socket.close();
    if (journaled === undefined) throw new Error("nothing journaled");
    const again = await VisitorGroup.restore(journaled, await connect(), c, anchor, async () => undefined);
    await world.agent.open(c);
    await world.agent.join(c);
    await again.send({ kind: "text", text: "after the restart" });
    expect((await world.agent.waitFor(c, (s) => s.body.kind === "text")).body).toEqual({ kind: "text", text: "after the restart" });
  });

  it("adopts a journaled commit the server had appended before the page died", async () => {
    const { c, group, socket, connect, packages, anchor } = await conversation();
    let journaled: GroupSnapshot | undefined;
    group.setJournal(async (snap) => {
      journaled ??= snap.pending !== undefined ? snap : undefined;
    });
    await group.addStaff(packages, anchor);
    socket.close();
    if (journaled === undefined) throw new Error("nothing journaled");
    // The page died before it saved the ack: it restarts from the journal, pre-commit state
    // plus the commit in doubt. Sending it again is answered "already appended".
    const again = await VisitorGroup.restore(journaled, await connect(), c, anchor, async () => undefined);
    await world.agent.open(c);
    await world.agent.join(c);
    await again.send({ kind: "text", text: "no fork" });
    expect((await world.agent.waitFor(c, (s) => s.body.kind === "text")).body).toEqual({ kind: "text", text: "no fork" });
    // Exactly one commit adding the agent and one Welcome are in the log.
    const { entries } = await world.server.staff.entries(world.server.tenant, c);
    expect(entries.filter((e) => e.k === "welcome")).toHaveLength(2); // History Member, agent
  });
});
