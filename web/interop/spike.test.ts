// The MLS interop gate (issue 5, step 0; shared/design/E2EE.md "Cross-implementation test
// approaches" B): ts-mls 1.6.4 through our adapter against openmls (the Rust agent), every MLS
// message going through our real server's WebSocket and read back from its log in order.
// After every commit all members must agree on epoch, epoch authenticator and exporter.
// The server validates MLS (openmls PublicGroup): a group's first handshake entry is its
// creator's epoch-0 GroupInfo, every later one a commit for the current epoch.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPackage, importKeyPackage, isWelcomeFor } from "../shared/mls/adapter.js";
import { fromBase64, fromUtf8, utf8 } from "../shared/util/bytes.js";
import { RustAgent } from "./agent.js";
import { openConversation, RustMember, sayAndCheck, settle, TsMember, type Conversation, type Log, type Member } from "./harness.js";
import { startServer, type TestServer } from "./server.js";

let server: TestServer;
const agents: RustAgent[] = [];
const conversations: Conversation[] = [];
const tempDirs: string[] = [];

beforeAll(async () => {
  server = await startServer();
});

afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.quit()));
  conversations.splice(0).forEach((c) => c.close());
  await Promise.all(tempDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

afterAll(async () => {
  await server?.stop();
});

/** A directory for agent state files, removed after the test. */
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sealdesk-agent-state-"));
  tempDirs.push(dir);
  return dir;
}

async function conversation(): Promise<Conversation> {
  const c = await openConversation(server);
  conversations.push(c);
  return c;
}

async function tsMember(name: string, log: Log, kind: "device" | "history" = "device"): Promise<TsMember> {
  return new TsMember(name, log, await generateKeyPackage(utf8(name), kind));
}

async function rustMember(name: string, log: Log, trustedPrefixes: string[] = []): Promise<RustMember> {
  const agent = RustAgent.spawn(name);
  agents.push(agent);
  await agent.init(utf8(name), trustedPrefixes);
  return new RustMember(name, log, agent);
}

/** Visitor (ts-mls) creates the group and adds a live HM (ts-mls) and the openmls agent in one commit. */
async function visitorGroup(c: Conversation) {
  const visitor = await tsMember("visitor", c.visitor);
  await visitor.create();
  const hm = await tsMember("history", await c.staffReplay(), "history");
  const rust = await rustMember("agent-rust", c.staff);
  const { welcomeSeq } = await visitor.commit({ add: [hm.bundle.keyPackage, await rust.agent.keyPackage()] });
  await rust.join(welcomeSeq!);
  await hm.join(welcomeSeq!);
  const all: Member[] = [visitor, hm, rust];
  const info = await settle(all, welcomeSeq!);
  expect(info.epoch).toBe(1);
  expect(info.members.map((m) => m.leaf)).toEqual([0, 1, 2]);
  return { visitor, hm, rust, all };
}

describe("MLS interop through sealdesk serve", () => {
  it("baseline: ts-mls members only, through the server", async () => {
    const c = await conversation();
    const visitor = await tsMember("visitor", c.visitor);
    await visitor.create();
    const agent = await tsMember("agent-ts", c.staff);
    const { welcomeSeq } = await visitor.commit({ add: [agent.bundle.keyPackage] });
    await agent.join(welcomeSeq!);
    await settle([visitor, agent], welcomeSeq!);
    await sayAndCheck(visitor, "hello", [visitor, agent]);
    await sayAndCheck(agent, "hi", [visitor, agent]);
  });

  it("1: ts-mls visitor adds the HM and the openmls agent in one commit; messages both ways", async () => {
    const c = await conversation();
    const { visitor, rust, all } = await visitorGroup(c);
    await sayAndCheck(visitor, "hello from ts-mls", all);
    await sayAndCheck(rust, "hello from openmls", all);
    await sayAndCheck(visitor, "x".repeat(1000), all);
  });

  it("2: openmls agent creates the group and adds ts-mls members (visitor, HM from an openmls key package)", async () => {
    const c = await conversation();
    const rust = await rustMember("agent-rust", c.staff);
    await rust.create(crypto.getRandomValues(new Uint8Array(16)));
    const visitor = await tsMember("visitor", c.visitor);
    // An HM whose key package openmls generated: its private keys go to ts-mls.
    const kpMaker = RustAgent.spawn("hm-maker");
    agents.push(kpMaker);
    await kpMaker.init(utf8("history"));
    await kpMaker.keyPackage({ history: true });
    const hm = new TsMember("history", await c.staffReplay(), importKeyPackage(await kpMaker.exportKeyPackagePrivate()));
    const all: Member[] = [rust, visitor, hm];
    const { welcomeSeq } = await rust.commit({ add: [visitor.bundle.keyPackage, hm.bundle.keyPackage] });
    await visitor.join(welcomeSeq!);
    await hm.join(welcomeSeq!);
    await settle(all, welcomeSeq!);
    await sayAndCheck(rust, "hello from openmls", all);
    await sayAndCheck(visitor, "hello from ts-mls", all);
    // ts-mls processes openmls commits: a self-update, then an Add of a second ts-mls member.
    const u = await rust.commit("self-update");
    expect((await settle(all, u.commitSeq)).epoch).toBe(2);
    const second = await tsMember("agent-ts", c.staff);
    const add = await rust.commit({ add: [second.bundle.keyPackage] });
    await second.join(add.welcomeSeq!);
    all.push(second);
    expect((await settle(all, add.welcomeSeq!)).epoch).toBe(3);
    await sayAndCheck(second, "second agent here", all);
    await sayAndCheck(rust, "welcome", all);
  });

  it("3: HM replay from the server log, in ts-mls and in openmls, gives identical transcripts", async () => {
    const c = await conversation();
    const { visitor, hm, rust, all } = await visitorGroup(c);
    await sayAndCheck(visitor, "my order #123 is late", all);
    await sayAndCheck(rust, "let me check", all);
    await settle(all, (await rust.commit("self-update")).commitSeq);
    await sayAndCheck(visitor, "thanks", all);
    await settle(all, (await visitor.commit("self-update")).commitSeq);
    const second = await tsMember("agent-ts", c.staff);
    const add = await rust.commit({ add: [second.bundle.keyPackage] });
    await second.join(add.welcomeSeq!);
    all.push(second);
    await settle(all, add.welcomeSeq!);
    await sayAndCheck(second, "a colleague joins", all);
    const last = await sayAndCheck(visitor, "bye", all);
    const expected = ["my order #123 is late", "let me check", "thanks", "a colleague joins", "bye"];
    expect(hm.transcript).toEqual(expected);

    // Only the private key package (what a sealed HM bundle holds) survives into the replays.
    const bundle = importKeyPackage({ ...hm.bundle });
    const replay = async (member: Member): Promise<void> => {
      let welcome: number | undefined;
      for (let s = 1; s <= last && welcome === undefined; s++) {
        const e = await member.log.at(s);
        if (e.k === "welcome" && (await isWelcomeFor(fromBase64(e.p), bundle.keyPackage))) welcome = s;
      }
      if (welcome === undefined) throw new Error("no Welcome for the HM in the log");
      await member.join(welcome);
      await member.catchUp(last);
    };
    const tsReplay = new TsMember("history", await c.staffReplay(), bundle);
    await replay(tsReplay);
    const rustAgent = RustAgent.spawn("hm-replay");
    agents.push(rustAgent);
    // The agent wants init first; import_key_package then replaces identity and signature key.
    await rustAgent.init(utf8("history"));
    await rustAgent.importKeyPackage(bundle);
    const rustReplay = new RustMember("history", await c.staffReplay(), rustAgent);
    await replay(rustReplay);
    expect(tsReplay.transcript).toEqual(expected);
    expect(rustReplay.transcript).toEqual(tsReplay.transcript);
    await settle([...all, tsReplay, rustReplay], last);
  });

  it("4a: a member removed by a ts-mls commit (openmls) cannot decrypt later messages", async () => {
    const c = await conversation();
    const { visitor, hm, rust } = await visitorGroup(c);
    // Keep the agent's state from before the removal: even ignoring the commit, it must not
    // be able to read the next epoch.
    const dir = await tempDir();
    await rust.agent.save(join(dir, "before-removal"));
    const removal = await visitor.commit({ remove: [2] });
    const got = await rust.catchUp(removal.commitSeq);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ kind: "commit", removedSelf: true });
    const info = await settle([visitor, hm], removal.commitSeq);
    expect(info.members.map((m) => m.leaf)).toEqual([0, 1]);
    const seq = await sayAndCheck(visitor, "after removal", [visitor, hm]);
    const later = fromBase64((await rust.log.at(seq)).p);
    await expect(rust.receive(later)).rejects.toThrow();
    const stale = RustAgent.spawn("agent-rust-stale");
    agents.push(stale);
    expect(await stale.load(join(dir, "before-removal"))).toBe(1);
    await expect(stale.process(later)).rejects.toThrow(/epoch/);
  });

  it("4b: openmls commits Add+Remove; the removed ts-mls member cannot decrypt later messages", async () => {
    const c = await conversation();
    const { visitor, hm, rust, all } = await visitorGroup(c);
    const first = await tsMember("agent-ts-1", c.staff);
    const add = await visitor.commit({ add: [first.bundle.keyPackage] });
    await first.join(add.welcomeSeq!);
    all.push(first);
    await settle(all, add.welcomeSeq!);
    // A transfer: agent-ts-1 (leaf 3) out, agent-ts-2 in, in one openmls commit.
    const second = await tsMember("agent-ts-2", c.staff);
    const firstBefore = first.mls;
    const tr = await rust.commit({ add: [second.bundle.keyPackage], remove: [3] });
    expect(await first.catchUp(tr.commitSeq)).toEqual([{ kind: "commit", epoch: 3, removedSelf: true }]);
    await second.join(tr.welcomeSeq!);
    const remaining = [visitor, hm, rust, second];
    const info = await settle(remaining, tr.welcomeSeq!);
    expect(info.members.map((m) => m.identity)).not.toContainEqual(utf8("agent-ts-1"));
    const seq = await sayAndCheck(rust, "after the transfer", remaining);
    const later = fromBase64((await first.log.at(seq)).p);
    await expect(first.receive(later)).rejects.toThrow();
    // Nor with its state from before the commit (as if it had ignored its removal).
    await expect(firstBefore.process(later)).rejects.toThrow();
  });

  it("5: self-updates from each side; ts-mls encode/decode and openmls save/load mid-conversation", async () => {
    const c = await conversation();
    const { visitor, hm, rust } = await visitorGroup(c);
    const dir = await tempDir();
    await sayAndCheck(visitor, "before", [visitor, hm, rust]);
    // Late messages: encrypted in epoch 1, sequenced after the commits to epochs 2 and 3;
    // both libraries keep past-epoch keys (4 epochs) to read them.
    const lateTs = await visitor.encrypt("late from ts-mls");
    const lateRust = await rust.encrypt("late from openmls");
    expect((await settle([visitor, hm, rust], (await visitor.commit("self-update")).commitSeq)).epoch).toBe(2);
    expect((await settle([visitor, hm, rust], (await rust.commit("self-update")).commitSeq)).epoch).toBe(3);
    await sayAndCheck(visitor, "late from ts-mls", [visitor, hm, rust], lateTs);
    await sayAndCheck(rust, "late from openmls", [visitor, hm, rust], lateRust);

    // Both sides persist and restore: ts-mls in place, openmls into a fresh process.
    await visitor.reload();
    const path = join(dir, "agent.state");
    await rust.agent.save(path);
    const restarted = RustAgent.spawn("agent-rust-restarted");
    agents.push(restarted);
    expect(await restarted.load(path)).toBe(3);
    const rust2 = new RustMember("agent-rust", rust.log, restarted);
    rust2.cursor = rust.cursor;
    rust.own.forEach((s) => rust2.own.add(s));
    await rust.agent.quit();
    const all: Member[] = [visitor, hm, rust2];
    await settle(all, rust2.cursor);
    await sayAndCheck(visitor, "after reload", all);
    await sayAndCheck(rust2, "after load", all);
    expect((await settle(all, (await rust2.commit("self-update")).commitSeq)).epoch).toBe(4);
    expect((await settle(all, (await visitor.commit("self-update")).commitSeq)).epoch).toBe(5);
    await sayAndCheck(rust2, "still in sync", all);
  });

  it("6: both libraries refuse a member their credential check rejects", async () => {
    const c = await conversation();
    const trusted = (id: Uint8Array) => ["visitor", "history", "agent-"].some((p) => fromUtf8(id).startsWith(p));
    const kp = await generateKeyPackage(utf8("visitor"), "device");
    const visitor = new TsMember("visitor", c.visitor, kp, { validateIdentity: async (id) => trusted(id) });
    await visitor.create();
    const mallory = await generateKeyPackage(utf8("mallory"), "device");
    // ts-mls refuses to commit an Add of an untrusted credential…
    await expect(visitor.mls.commit({ add: [mallory.keyPackage] })).rejects.toThrow(/credential/i);
    // …and openmls refuses a Welcome into a group holding one (another conversation: one group each).
    const c2 = await conversation();
    const rust = await rustMember("agent-rust", c2.staff, ["visitor", "history", "agent-"]);
    const lax = await tsMember("visitor-lax", c2.visitor);
    await lax.create();
    const bad = await lax.commit({ add: [mallory.keyPackage, await rust.agent.keyPackage()] });
    await expect(rust.join(bad.welcomeSeq!)).rejects.toThrow(/untrusted identity|mallory/);
    // A commit from openmls adding mallory is refused by the ts-mls visitor.
    const rust2 = await rustMember("agent-rust-2", c.staff);
    const ok = await visitor.commit({ add: [await rust2.agent.keyPackage()] });
    await rust2.join(ok.welcomeSeq!);
    await settle([visitor, rust2], ok.welcomeSeq!);
    const evil = await rust2.commit({ add: [mallory.keyPackage] });
    await expect(visitor.catchUp(evil.commitSeq)).rejects.toThrow(/credential/i);
  });

  it("7: two commits for one epoch: the server sequences one, the loser discards and retries", async () => {
    const c = await conversation();
    const { visitor, rust, all } = await visitorGroup(c);
    for (const [winner, loser] of [[visitor, rust], [rust, visitor]] as const) {
      const epoch = (await visitor.epochInfo()).epoch;
      // The loser builds its commit on the same epoch before it sees the winner's.
      const late = await loser.prepareSelfUpdate();
      const won = await winner.commit("self-update");
      await expect(loser.log.send("handshake", late)).rejects.toThrow(/stale_epoch/);
      await loser.discardCommit();
      expect((await settle(all, won.commitSeq)).epoch).toBe(epoch + 1);
      const retried = await loser.commit("self-update");
      expect((await settle(all, retried.commitSeq)).epoch).toBe(epoch + 2);
      await sayAndCheck(loser, `${loser.name} recovered`, all);
    }
  });
});
