// The console's checks of a rotation member (rekey.ts) with real certificates, key packages
// and sealed bundles made here (widget/testkeys.ts): what the server offers is refused unless
// it is a History Member of the conversation's team under the pinned root whose bundle opens
// with a newer team key this device holds into that very key package. And the commit's
// orchestration: caught up first, rebuilt after `stale_epoch`, done only once the Welcome is
// delivered. The server and the chat are stand-ins here; the browser test runs the real ones.
import { describe, expect, it } from "vitest";
import { SocketError } from "../shared/protocol/socket.js";
import type { ConversationView, HistoryGenerationView } from "../shared/protocol/types.js";
import { sealBundle } from "../shared/seal/bundle.js";
import { deriveKeys } from "../shared/seal/seal.js";
import { toBase64 } from "../shared/util/bytes.js";
import { ed25519PublicKey } from "../shared/util/ed25519.js";
import { TestHierarchy } from "../widget/testkeys.js";
import { uuidBytes } from "../widget/trust.js";
import { ApiError, type ConsoleApi } from "./api.js";
import type { LiveChat } from "./chat.js";
import type { ReadyDevice } from "./device.js";
import { checkedRotationMember, rekeyConversation, RekeyError, transient, type RekeyTarget } from "./rekey.js";

const TEAM = "0b6f3c2e-5a4d-4e8f-9a1b-2c3d4e5f6a7b";
const OTHER_TEAM = "1c7a4d3f-6b5e-4f9a-8b2c-3d4e5f6a7b8c";
const TENANT = "2d8b5e4a-7c6f-4a0b-9c3d-4e5f6a7b8c9d";
/** A UUID's 16 bytes, in a buffer of their own. */
const idBytes = (id: string): Uint8Array<ArrayBuffer> => new Uint8Array(uuidBytes(id));

interface World {
  h: TestHierarchy;
  device: ReadyDevice;
  /** The server's rotation member: a History Member of TEAM sealed to team key version 2. */
  member: HistoryGenerationView;
  seal(keyPackage: Awaited<ReturnType<TestHierarchy["keyPackage"]>>, version?: number): Promise<string>;
}

async function world(): Promise<World> {
  const h = await TestHierarchy.create(idBytes(TENANT));
  const anchor = await h.anchor();
  const sealer = await h.device("agent", "Jane D.");
  const keys = { 1: await deriveKeys(crypto.getRandomValues(new Uint8Array(32))), 2: await deriveKeys(crypto.getRandomValues(new Uint8Array(32))) };
  const seal: World["seal"] = async (kp, version = 2) =>
    toBase64(await sealBundle(kp, h.tenant, idBytes(TEAM), sealer.chain, [{ kind: "team", keyVersion: version, publicKey: keys[version === 1 ? 1 : 2].publicKey }], sealer.seed));
  const hm = await h.keyPackage("history", "Support", idBytes(TEAM));
  const me = await h.device("agent", "Jane D.");
  const device: ReadyDevice = {
    id: "device", seed: me.seed, signatureKey: await ed25519PublicKey(me.seed), chain: me.chain, label: "Jane D.", anchor,
    teamKeys: [{ team: TEAM, version: 1, keys: keys[1] }, { team: TEAM, version: 2, keys: keys[2] }],
  };
  const member: HistoryGenerationView = { generation: 2, key_package: toBase64(hm.keyPackage), sealed_bundle: await seal(hm), state: "pending", team_key_version: 2 };
  return { h, device, member, seal };
}

const conversation = { id: "c1", tenant_id: TENANT, team_id: TEAM, state: "assigned", last_seq: 7 } as ConversationView;
const target: RekeyTarget = { current: 1, newest: 2, moved: false };

/** The server as far as the re-key asks it: the conversation and its rotation member. */
function server(member: HistoryGenerationView, state = "assigned"): ConsoleApi & { rotations: number } {
  const api = {
    rotations: 0,
    historyRotation: async () => {
      api.rotations += 1;
      return member;
    },
    conversation: async () => ({ ...conversation, state }),
  };
  return api as unknown as ConsoleApi & { rotations: number };
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RekeyError) return e.code;
    throw e;
  }
  return "accepted";
}

describe("the rotation member's checks", () => {
  it("accept a History Member of the team whose bundle opens with the new key into that key package", async () => {
    const w = await world();
    const checked = await checkedRotationMember(server(w.member), w.device, conversation, target);
    expect(checked.generation).toBe(2);
    expect(toBase64(checked.keyPackage)).toBe(w.member.key_package);
  });

  it("refuse a member of another team, of another role, or under another root", async () => {
    const w = await world();
    const other = await w.h.keyPackage("history", "Billing", idBytes(OTHER_TEAM));
    const agent = await w.h.keyPackage("agent", "Mallory", idBytes(TEAM));
    const foreign = await (await TestHierarchy.create(idBytes(TENANT))).keyPackage("history", "Support", idBytes(TEAM));
    for (const kp of [other, agent, foreign]) {
      const member = { ...w.member, key_package: toBase64(kp.keyPackage), sealed_bundle: await w.seal(kp) };
      expect(await refusal(checkedRotationMember(server(member), w.device, conversation, target))).toBe("untrusted_history");
    }
  });

  it("refuse a bundle that is not the offered key package's private half", async () => {
    const w = await world();
    const another = await w.h.keyPackage("history", "Support", idBytes(TEAM));
    const member = { ...w.member, sealed_bundle: await w.seal(another) };
    expect(await refusal(checkedRotationMember(server(member), w.device, conversation, target))).toBe("bad_bundle");
  });

  it("refuse a member sealed to the old key, or to a key this device was not given", async () => {
    const w = await world();
    // The server says version 2, the bundle is sealed to 1 (which the removed member holds).
    const old = { ...w.member, sealed_bundle: await w.seal(await w.h.keyPackage("history", "Support", idBytes(TEAM)), 1) };
    expect(await refusal(checkedRotationMember(server(old), w.device, conversation, target))).toBe("bad_bundle");
    // Honest about it: not newer than what the conversation has.
    expect(await refusal(checkedRotationMember(server({ ...w.member, team_key_version: 1 }), w.device, conversation, target))).toBe("bad_bundle");
    // Version 3 was announced but not wrapped to this device.
    expect(await refusal(checkedRotationMember(server({ ...w.member, team_key_version: 3 }), w.device, conversation, { current: 1, newest: 3, moved: false }))).toBe("no_team_key");
    const onlyOld = { ...w.device, teamKeys: w.device.teamKeys.filter((k) => k.version === 1) };
    expect(await refusal(checkedRotationMember(server(w.member), onlyOld, conversation, target))).toBe("no_team_key");
  });
});

/** The chat as the re-key drives it: how far it read, the commit, the Welcome. */
function chat(options: { behind?: boolean; staleTimes?: number; undelivered?: boolean }): LiveChat & { commits: number; catchUps: number } {
  let stale = options.staleTimes ?? 0;
  const c = {
    commits: 0,
    catchUps: 0,
    caughtUp: async () => {
      c.catchUps += 1;
      return options.behind !== true;
    },
    replaceHistoryMember: async () => {
      c.commits += 1;
      if (stale > 0) {
        stale -= 1;
        throw new SocketError("stale_epoch", "another commit came first");
      }
    },
    deliver: async () => options.undelivered !== true,
  };
  return c as unknown as LiveChat & { commits: number; catchUps: number };
}

describe("the re-key's commit", () => {
  it("catches up, commits, and after a lost epoch reads the log again and rebuilds", async () => {
    const w = await world();
    const api = server(w.member);
    const live = chat({ staleTimes: 2 });
    expect(await rekeyConversation(api, w.device, conversation, target, live)).toBe(2);
    expect([live.catchUps, live.commits, api.rotations]).toEqual([3, 3, 3]);
  });

  it("gives up after three lost epochs, for a later pass", async () => {
    const w = await world();
    const live = chat({ staleTimes: 5 });
    await expect(rekeyConversation(server(w.member), w.device, conversation, target, live)).rejects.toThrow(SocketError);
    expect(live.commits).toBe(3);
  });

  it("commits nothing on a log it could not read to the end, or in a closed conversation", async () => {
    const w = await world();
    const behind = chat({ behind: true });
    expect(await refusal(rekeyConversation(server(w.member), w.device, conversation, target, behind))).toBe("behind");
    const closed = chat({});
    expect(await refusal(rekeyConversation(server(w.member, "closed"), w.device, conversation, target, closed))).toBe("conversation_closed");
    expect(behind.commits + closed.commits).toBe(0);
  });

  it("is not done until the new member's Welcome is delivered", async () => {
    const w = await world();
    expect(await refusal(rekeyConversation(server(w.member), w.device, conversation, target, chat({ undelivered: true })))).toBe("welcome_unsent");
  });

  it("tells what the next try gets past on its own from what needs someone", () => {
    expect(transient(new ApiError(409, "conflict", "nothing sealed to version 2"))).toBe(true);
    expect(transient(new ApiError(409, "conversation_closed", "closed"))).toBe(false);
    expect(transient(new SocketError("stale_epoch", "lost"))).toBe(true);
    expect(transient(new SocketError("mls_rejected", "refused"))).toBe(false);
    for (const code of ["behind", "welcome_unsent", "stale_epoch"]) expect(transient(new RekeyError(code, code))).toBe(true);
    for (const code of ["untrusted_history", "bad_bundle", "no_team_key"]) expect(transient(new RekeyError(code, code))).toBe(false);
  });
});
