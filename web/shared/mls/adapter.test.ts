// ts-mls ↔ ts-mls through our adapter: the profile and the operations the interop gate uses,
// without a server or the Rust agent.
import { describe, expect, it } from "vitest";
import { fromUtf8, utf8 } from "../util/bytes.js";
import {
  generateKeyPackage,
  importKeyPackage,
  isWelcomeFor,
  keyPackageInfo,
  MlsGroup,
  peekMessage,
  type KeyPackageBundle,
  type MlsPolicy,
} from "./adapter.js";

const acceptAll: MlsPolicy = { validateIdentity: async () => true };

async function expectSameEpoch(groups: MlsGroup[]): Promise<void> {
  const infos = await Promise.all(groups.map((g) => g.epochInfo()));
  for (const info of infos.slice(1)) expect(info).toEqual(infos[0]);
}

/** Visitor creates the group and adds the HM and an agent in one commit. */
async function threeMembers() {
  const visitorKp = await generateKeyPackage(utf8("visitor"), "device");
  const hmKp = await generateKeyPackage(utf8("history"), "history");
  const agentKp = await generateKeyPackage(utf8("agent"), "device");
  const visitor0 = await MlsGroup.create(visitorKp, acceptAll);
  const { commit, welcome, pending } = await visitor0.commit({ add: [hmKp.keyPackage, agentKp.keyPackage] });
  expect(peekMessage(commit)).toEqual({ wire: "public", epoch: 0 });
  expect(welcome).not.toBeNull();
  // Not adopted before the (simulated) server ack: the current group stays at epoch 0.
  expect(visitor0.epoch).toBe(0);
  expect(pending.epoch).toBe(1);
  const agent = await MlsGroup.join(welcome!, agentKp, acceptAll);
  return { visitor: pending, agent, hmKp, welcome: welcome!, commit };
}

describe("MLS adapter (ts-mls 1.6.4)", () => {
  it("issues key packages with our lifetimes and raw private keys", async () => {
    const now = Date.now() / 1000;
    const device = await generateKeyPackage(utf8("d"), "device");
    const hm = await generateKeyPackage(utf8("h"), "history");
    for (const kp of [device, hm]) {
      expect([kp.initPrivate.length, kp.encryptionPrivate.length, kp.signaturePrivate.length]).toEqual([32, 32, 32]);
    }
    const d = keyPackageInfo(device.keyPackage);
    expect(fromUtf8(d.identity)).toBe("d");
    expect(d.notBefore).toBeLessThan(now);
    expect((d.notAfter - now) / 86_400).toBeCloseTo(30, 1);
    expect((keyPackageInfo(hm.keyPackage).notAfter - now) / 86_400).toBeCloseTo(90, 1);
    expect(peekMessage(device.keyPackage)).toEqual({ wire: "key_package" });
  });

  it("adds two members in one commit; messages flow both ways with sender leaves", async () => {
    const { visitor, agent } = await threeMembers();
    await expectSameEpoch([visitor, agent]);
    const info = await visitor.epochInfo();
    expect(info.members.map((m) => [m.leaf, fromUtf8(m.identity)])).toEqual([[0, "visitor"], [1, "history"], [2, "agent"]]);
    expect(info.exporter).toMatch(/^[0-9a-f]{64}$/);

    const v = await visitor.send(utf8("hello"));
    const got = await agent.process(v.message);
    expect(got).toMatchObject({ kind: "application", sender: 0, epoch: 1 });
    if (got.kind === "application") expect(fromUtf8(got.plaintext)).toBe("hello");
    const a = await got.group.send(utf8("hi, how can I help?"));
    const back = await v.group.process(a.message);
    expect(back.kind === "application" && fromUtf8(back.plaintext)).toBe("hi, how can I help?");
    expect(back.kind === "application" && back.sender).toBe(2);
  });

  it("replays the log as a History Member holding only the private key package", async () => {
    const { visitor, agent, hmKp, welcome, commit } = await threeMembers();
    const log: Uint8Array[] = [commit, welcome];
    let v = visitor;
    let a = agent;
    const sent: string[] = [];
    for (const text of ["first", "second"]) {
      const m = await v.send(utf8(text));
      v = m.group;
      a = (await a.process(m.message)).group;
      log.push(m.message);
      sent.push(text);
    }
    const upd = await a.selfUpdate();
    a = upd.pending;
    v = (await v.process(upd.commit)).group;
    log.push(upd.commit);
    const m = await a.send(utf8("after update"));
    log.push(m.message);
    sent.push("after update");

    // A sealed HM bundle carries exactly these bytes; nothing else of the visitor's session.
    const bundle: KeyPackageBundle = importKeyPackage({ ...hmKp });
    const replayed: string[] = [];
    let hm: MlsGroup | undefined;
    for (const entry of log) {
      if (hm === undefined) {
        if (peekMessage(entry).wire === "welcome" && (await isWelcomeFor(entry, bundle.keyPackage))) {
          hm = await MlsGroup.join(entry, bundle, acceptAll);
        }
        continue;
      }
      const r = await hm.process(entry);
      hm = r.group;
      if (r.kind === "application") replayed.push(fromUtf8(r.plaintext));
    }
    expect(replayed).toEqual(sent);
    await expectSameEpoch([hm!, a, v]);
  });

  it("a removed member cannot decrypt later messages", async () => {
    const { visitor, agent } = await threeMembers();
    const rm = await visitor.commit({ remove: [2] });
    const removed = await agent.process(rm.commit);
    expect(removed).toMatchObject({ kind: "commit", removedSelf: true, sender: 0, epoch: 2 });
    expect(removed.group.active).toBe(false);
    const later = await rm.pending.send(utf8("secret"));
    await expect(removed.group.process(later.message)).rejects.toThrow(/removed/);
    // Even with its state from before the commit (ignoring its removal) it has no keys.
    await expect(agent.process(later.message)).rejects.toThrow(/future epoch/);
    expect((await rm.pending.epochInfo()).members.map((m) => m.leaf)).toEqual([0, 1]);
  });

  // The new member takes the removed member's leaf: ts-mls 1.6.4 then fails to notice its own
  // removal (InternalError "No overlap between provided private keys and update path"); the
  // adapter reports it as a removal. See MlsGroup.process.
  it("adds and removes in one commit (the newcomer reuses the removed leaf)", async () => {
    const { visitor, agent } = await threeMembers();
    const second = await generateKeyPackage(utf8("agent-2"), "device");
    const c = await agent.commit({ add: [second.keyPackage], remove: [0] });
    const newcomer = await MlsGroup.join(c.welcome!, second, acceptAll);
    const v = await visitor.process(c.commit);
    expect(v).toMatchObject({ kind: "commit", removedSelf: true, sender: 2, epoch: 2 });
    expect((await newcomer.epochInfo()).members.map((m) => [m.leaf, fromUtf8(m.identity)])).toEqual([
      [0, "agent-2"],
      [1, "history"],
      [2, "agent"],
    ]);
    await expectSameEpoch([c.pending, newcomer]);
  });

  it("self-updates from both sides, survives encode/decode, decrypts a late message", async () => {
    const { visitor, agent } = await threeMembers();
    const late = await visitor.send(utf8("late"));
    let v = late.group;
    const u1 = await v.selfUpdate();
    v = u1.pending;
    let a = (await agent.process(u1.commit)).group;
    await expectSameEpoch([v, a]);
    a = await MlsGroup.decode(a.encode(), acceptAll);
    const u2 = await a.selfUpdate();
    a = u2.pending;
    v = (await v.process(u2.commit)).group;
    await expectSameEpoch([v, a]);
    expect(a.epoch).toBe(3);
    // A message of epoch 1 processed at epoch 3: within the 4 retained epochs.
    const r = await a.process(late.message);
    expect(r.kind === "application" && fromUtf8(r.plaintext)).toBe("late");
    // The decoded state keeps working with both sides.
    const m = await a.send(utf8("still here"));
    expect((await v.process(m.message)).kind).toBe("application");
  });

  it("pads application messages to 256-byte buckets", async () => {
    const { visitor } = await threeMembers();
    const size = async (n: number) => (await visitor.send(new Uint8Array(n))).message.length;
    const base = await size(0);
    expect(await size(63)).toBe(base);
    expect(await size(189)).toBe(base);
    expect(await size(190)).toBe(base + 256);
    expect(await size(445)).toBe(base + 256);
    expect(await size(446)).toBe(base + 512);
  });

  it("uses the caller's credential validator for adds and joins", async () => {
    const policy: MlsPolicy = { validateIdentity: async (id) => fromUtf8(id) !== "mallory" };
    const owner = await generateKeyPackage(utf8("visitor"), "device");
    const mallory = await generateKeyPackage(utf8("mallory"), "device");
    const group = await MlsGroup.create(owner, policy);
    await expect(group.commit({ add: [mallory.keyPackage] })).rejects.toThrow(/credential/i);
    // Mallory's own client refuses a group whose roster fails its policy.
    const bob = await generateKeyPackage(utf8("bob"), "device");
    const c = await group.commit({ add: [bob.keyPackage] });
    const strict: MlsPolicy = { validateIdentity: async (id) => fromUtf8(id) === "bob" };
    await expect(MlsGroup.join(c.welcome!, bob, strict)).rejects.toThrow();
  });

  it("exports the epoch-0 GroupInfo a new conversation starts with", async () => {
    const owner = await generateKeyPackage(utf8("visitor"), "device");
    const group = await MlsGroup.create(owner, acceptAll);
    const info = await group.groupInfo();
    expect(peekMessage(info)).toEqual({ wire: "group_info" });
    // Not processable as a message by members (it is for the server's view only).
    await expect(group.process(info)).rejects.toThrow(/group_info/);
  });

  it("refuses what the v1 profile excludes", async () => {
    const { visitor, agent, welcome } = await threeMembers();
    await expect(agent.process(welcome)).rejects.toThrow(/welcome/);
    const kp = await generateKeyPackage(utf8("x"), "device");
    await expect(agent.process(kp.keyPackage)).rejects.toThrow(/key_package/);
    await expect(visitor.process(new Uint8Array([0, 1, 2]))).rejects.toThrow();
  });
});
