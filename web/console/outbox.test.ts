// The live chat's outbox (outbox.ts): order, settling once by either way, rebuilds, saving.
import { describe, expect, it } from "vitest";
import { Outbox, type OutboxItem } from "./outbox.js";

const item = (n: number): OutboxItem => ({ key: `k${n}`, id: `c-${n}`, payload: `p${n}`, message: `m${n}` });

describe("Outbox", () => {
  it("keeps messages in the order written until each is settled, once", () => {
    const o = new Outbox();
    o.add(item(1));
    o.add(item(2));
    o.add(item(3));
    expect(o.first()?.id).toBe("c-1");
    // The log shows the second before its acknowledgement arrives.
    expect(o.settle("c-2")?.key).toBe("k2");
    expect(o.settle("c-2")).toBeUndefined();
    expect(o.all().map((i) => i.id)).toEqual(["c-1", "c-3"]);
    expect(o.settle("c-1")?.key).toBe("k1");
    expect(o.first()?.id).toBe("c-3");
    expect(o.settle("unknown")).toBeUndefined();
    expect(o.size).toBe(1);
  });

  it("refuses the same message twice", () => {
    const o = new Outbox([item(1)]);
    expect(() => o.add(item(1))).toThrow(/already waiting/);
    expect(() => o.add({ ...item(2), key: "k1" })).toThrow(/already waiting/);
  });

  it("rebuilds a message under a new id in its place, keeping its key", () => {
    const o = new Outbox([item(1), item(2)]);
    const r = o.rebuild("c-1", "c-9", "m9");
    expect(r).toEqual({ key: "k1", id: "c-9", payload: "p1", message: "m9", rebuilt: 1 });
    expect(o.all().map((i) => i.id)).toEqual(["c-9", "c-2"]);
    // Only the new id settles it now.
    expect(o.settle("c-1")).toBeUndefined();
    expect(o.rebuild("c-9", "c-10", "m10").rebuilt).toBe(2);
    expect(() => o.rebuild("c-1", "c-11", "m11")).toThrow(/not waiting/);
  });

  it("saves copies, and restores from them", () => {
    const saved = [item(1), item(2)];
    const o = new Outbox(saved);
    o.settle("c-1");
    expect(saved).toHaveLength(2);
    const copy = o.saved();
    for (const c of copy) c.id = "changed";
    expect(o.first()?.id).toBe("c-2");
    expect(new Outbox(o.saved()).all()).toEqual([item(2)]);
  });
});
