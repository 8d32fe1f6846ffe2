// Who removes the previous agent after a change of hands (handover.ts): the state the log's
// routing entries leave, and which members a Remove takes.
import { describe, expect, it } from "vitest";
import { afterEvent, due, previousAgents, type Checked, type Handover, type RoutingEvent } from "./handover.js";

const A = "agent-a";
const B = "agent-b";
const C = "agent-c";

/** The state after reading `events` in order from `start`. */
const read = (events: RoutingEvent[], start: Handover = {}): Handover => events.reduce(afterEvent, start);

describe("afterEvent", () => {
  it("makes the assignee of a conversation another team's agent sent the one to act, not before it is assigned", () => {
    const queued = read([{ event: "assigned", agent: A }, { event: "transferred_to_team", from: A, team: "t2" } as RoutingEvent]);
    expect(queued).toEqual({ fromAgent: true });
    expect(due(queued, B)).toBe(false);
    const taken = afterEvent(queued, { event: "assigned", agent: B });
    expect(taken).toEqual({ to: B });
    expect(due(taken, B)).toBe(true);
    expect(due(taken, A)).toBe(false);
  });

  it("makes the new agent of a transfer to an agent the one to act", () => {
    const h = read([{ event: "assigned", agent: A }, { event: "transferred_to_agent", from: A, to: B }]);
    expect(due(h, B)).toBe(true);
    expect(due(h, A)).toBe(false);
  });

  it("asks nothing of a first claim, nor after a team transfer of a conversation nobody had", () => {
    expect(read([{ event: "assigned", agent: A }])).toEqual({});
    // A queued conversation moved by a supervisor: no agent's devices are in the group.
    expect(read([{ event: "transferred_to_team", from: null }, { event: "assigned", agent: B }])).toEqual({});
    expect(read([{ event: "transferred_to_team" }, { event: "assigned", agent: B }])).toEqual({});
  });

  it("follows the last change of hands: handed on again, the earlier assignee has nothing to do", () => {
    const h = read([{ event: "transferred_to_team", from: A }, { event: "assigned", agent: B }, { event: "transferred_to_agent", from: B, to: C }]);
    expect(due(h, B)).toBe(false);
    expect(due(h, C)).toBe(true);
    // Back to a queue before the new assignee acted: the next one to take it acts instead.
    const again = read([{ event: "transferred_to_team", from: C }], h);
    expect(due(again, C)).toBe(false);
    expect(due(afterEvent(again, { event: "assigned", agent: A }), A)).toBe(true);
  });

  it("keeps its state across other entries, and drops it when the conversation closes", () => {
    const h: Handover = { to: B };
    expect(afterEvent(h, { event: "supervisor_joined" })).toBe(h);
    expect(afterEvent(h, {})).toBe(h);
    expect(afterEvent({ fromAgent: true }, { event: "supervisor_joined" })).toEqual({ fromAgent: true });
    expect(afterEvent(h, { event: "closed" })).toEqual({});
    expect(afterEvent({ fromAgent: true }, { event: "closed" })).toEqual({});
  });

  it("ignores malformed entries' names", () => {
    expect(afterEvent({ fromAgent: true }, { event: "assigned" })).toEqual({});
    expect(afterEvent({}, { event: "transferred_to_agent" })).toEqual({});
    expect(afterEvent({}, { event: "transferred_to_agent", to: 7 as unknown as string })).toEqual({});
  });

  it("survives a reload: the saved state, read on, gives the same answer as reading from the start", () => {
    const log: RoutingEvent[] = [{ event: "assigned", agent: A }, { event: "transferred_to_team", from: A }, { event: "assigned", agent: B }, { event: "supervisor_joined" }];
    for (let cut = 0; cut <= log.length; cut++) {
      const saved = JSON.parse(JSON.stringify(read(log.slice(0, cut)))) as Handover;
      expect(read(log.slice(cut), saved)).toEqual(read(log));
    }
  });
});

describe("previousAgents", () => {
  const key = (n: number): Uint8Array => new Uint8Array(32).fill(n);
  const staff = (role: string): Checked["who"] => ({ kind: "staff", role, label: role, verified: true });
  const group: Checked[] = [
    { leaf: 0, signatureKey: key(1), who: { kind: "visitor" } },
    { leaf: 1, signatureKey: key(2), who: staff("history") },
    { leaf: 2, signatureKey: key(3), who: staff("agent") }, // the previous team's agent, one device
    { leaf: 3, signatureKey: key(4), who: staff("agent") }, // … and another of theirs
    { leaf: 4, signatureKey: key(5), who: staff("supervisor") },
    { leaf: 5, signatureKey: key(6), who: staff("agent") }, // this device
    { leaf: 6, signatureKey: key(7), who: staff("agent") }, // this person's other device
    { leaf: 7, signatureKey: key(8), who: { kind: "unverified", reason: "expired" } },
  ];

  it("takes the other agents' devices and none of the visitor, History Member, supervisor, oneself or an unverified member", () => {
    expect(previousAgents(group, [key(6), key(7)], 5)).toEqual([2, 3]);
  });

  it("never takes this device's own leaf, even when the device list missed it", () => {
    expect(previousAgents(group, [key(7)], 5)).toEqual([2, 3]);
  });

  it("takes nothing once they are gone (a second pass settles without a commit)", () => {
    expect(previousAgents(group.filter((m) => m.leaf !== 2 && m.leaf !== 3), [key(6), key(7)], 5)).toEqual([]);
  });
});
