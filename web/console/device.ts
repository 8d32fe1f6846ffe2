// This browser as a staff device (docs/e2ee.md, "Device enrolment and team-key wraps"): its
// Ed25519 signing key (the MLS leaf key, kept as the 32-byte seed) and X25519 wrap key are made
// here and never leave the encrypted store; the server gets the public halves and an admin
// certifies them after comparing the fingerprint (NIST SP 800-57 Pt 1 §8.1.5.1). Once
// certified, the chain is checked against the tenant's roots (RFC 9420 §5.3.1, credential
// validation is the application's), the team keys wrapped to the device are opened and each
// checked against its signed announcement, and key packages are published.

import { generateKeyPackage, type KeyPackageBundle } from "../shared/mls/adapter.js";
import { decodeChain, verifyIdentity, type TrustAnchor } from "../shared/mls/certs.js";
import { deviceFingerprint } from "../shared/keys/fingerprint.js";
import { verifyAnnouncement } from "../shared/seal/announcement.js";
import { deriveKeys, open, type HpkeKeys } from "../shared/seal/seal.js";
import { bytesEqual, fromBase64, toBase64 } from "../shared/util/bytes.js";
import { ed25519PublicKey } from "../shared/util/ed25519.js";
import { anchorFrom, uuidBytes } from "../widget/trust.js";
import type { ConsoleApi, DeviceView, KeyWrap, SealingKey } from "./api.js";
import type { DeviceRecord, DeviceStore } from "./keystore.js";

/** How many single-use key packages one refill publishes. */
export const KEY_PACKAGE_BATCH = 20;

export interface TeamKey {
  team: string;
  version: number;
  keys: HpkeKeys;
}

/** A certified device, ready for conversations. */
export interface ReadyDevice {
  id: string;
  seed: Uint8Array;
  /** The Ed25519 public key (the leaf's signature key in every group). */
  signatureKey: Uint8Array;
  chain: Uint8Array;
  label: string;
  anchor: TrustAnchor;
  teamKeys: TeamKey[];
}

export class EnrolmentError extends Error {
  override name = "EnrolmentError";
}

const now = (): number => Math.floor(Date.now() / 1000);

/** Loads this browser's device for the member, or makes and registers a new one. */
export async function registerDevice(api: ConsoleApi, store: DeviceStore, label: string): Promise<{ record: DeviceRecord; fingerprint: string }> {
  let record = await store.load();
  if (record === undefined) {
    const wrap = await deriveKeys(crypto.getRandomValues(new Uint8Array(32))); // RFC 9180 §7.1.3 DeriveKeyPair
    record = {
      signingSeed: toBase64(crypto.getRandomValues(new Uint8Array(32))),
      wrapPrivate: toBase64(wrap.privateKey),
      wrapPublic: toBase64(wrap.publicKey),
      keyPackages: [],
    };
    await store.save(record); // Saved before the server hears of it: a lost key is never registered.
  }
  const signatureKey = await ed25519PublicKey(fromBase64(record.signingSeed));
  const fingerprint = await deviceFingerprint(signatureKey, fromBase64(record.wrapPublic));
  if (record.deviceId === undefined) {
    const view = await api.registerDevice(label, toBase64(signatureKey), record.wrapPublic);
    if (view.fingerprint !== fingerprint) throw new EnrolmentError("the server computed another fingerprint for this device's keys");
    record.deviceId = view.id;
    await store.save(record);
  }
  return { record, fingerprint };
}

/** The server's view of this device (its status and, once certified, its chain). */
export async function deviceStatus(api: ConsoleApi, record: DeviceRecord, fingerprint: string): Promise<DeviceView> {
  const { devices } = await api.devices();
  const mine = devices.find((d) => d.id === record.deviceId);
  if (mine === undefined) throw new EnrolmentError("the server no longer knows this device");
  if (mine.fingerprint !== fingerprint || mine.wrap_key !== record.wrapPublic) throw new EnrolmentError("the server holds other keys for this device");
  return mine;
}

/**
 * The roots this device trusts: pinned at certification from the tenant's registered keys
 * (trust on first use, shown to the agent as fingerprints), never replaced silently after.
 */
async function trustAnchor(api: ConsoleApi, store: DeviceStore, record: DeviceRecord, tenant: string, team: string): Promise<TrustAnchor> {
  let roots = record.pinnedRoots;
  if (roots === undefined) {
    roots = (await api.widgetConfig(tenant, team)).root_keys ?? [];
    if (roots.length === 0) throw new EnrolmentError("the tenant has registered no root key");
    record.pinnedRoots = roots;
    await store.save(record);
  }
  return anchorFrom(tenant, roots.join(","));
}

/** Checks the certified chain, opens every team key wrapped to the device, and checks each. */
export async function readyDevice(api: ConsoleApi, store: DeviceStore, record: DeviceRecord, view: DeviceView, tenant: string): Promise<ReadyDevice> {
  if (view.status !== "certified" || view.credential === undefined) throw new EnrolmentError(`the device is ${view.status}`);
  const seed = fromBase64(record.signingSeed);
  const signatureKey = await ed25519PublicKey(seed);
  const chain = fromBase64(view.credential);
  const { wraps } = await api.keyWraps(view.id);
  const first = wraps[0];
  if (first === undefined) throw new EnrolmentError("no team key has been wrapped to this device yet");
  const anchor = await trustAnchor(api, store, record, tenant, first.team_id);
  const verified = await verifyIdentity(chain, signatureKey, anchor, now());
  if (verified.kind !== "device" || (verified.body.role !== "agent" && verified.body.role !== "supervisor")) {
    throw new EnrolmentError("the certificate is not an agent's or a supervisor's");
  }
  const teamKeys = await openWraps(api, record, chain, anchor, wraps, tenant, []);
  return { id: view.id, seed, signatureKey, chain, label: verified.body.label, anchor, teamKeys };
}

/**
 * Opens the wraps not yet in `known` (by team and version): each signed by the issuing key
 * that certified this device (docs/e2ee.md) and checked against its signed announcement.
 * `strict`: one that does not check fails the whole; otherwise it is left out (not trusted).
 */
async function openWraps(api: ConsoleApi, record: DeviceRecord, chain: Uint8Array, anchor: TrustAnchor, wraps: KeyWrap[], tenant: string, known: readonly TeamKey[], strict = true): Promise<TeamKey[]> {
  const fresh = wraps.filter((w) => !known.some((k) => k.team === w.team_id && k.version === w.version));
  if (fresh.length === 0) return [];
  const issuingKey = (await decodeChain(chain)).issuing.body.subject;
  const { keys } = await api.sealingKeys(tenant);
  const teamKeys: TeamKey[] = [];
  for (const w of fresh) {
    try {
      teamKeys.push(await openWrap(record, anchor, issuingKey, keys, w));
    } catch (e) {
      if (strict) throw e;
    }
  }
  return teamKeys;
}

async function openWrap(record: DeviceRecord, anchor: TrustAnchor, issuingKey: Uint8Array, keys: SealingKey[], w: KeyWrap): Promise<TeamKey> {
  const context = {
    purpose: "team-key-wrap", tenant: anchor.tenant, team: uuidBytes(w.team_id), keyVersion: w.version,
    recipient: fromBase64(record.wrapPublic),
  };
  const ikm = await open(fromBase64(w.sealed), context, fromBase64(record.wrapPrivate), issuingKey);
  if (ikm.length !== 32) throw new EnrolmentError("a team key wrap does not hold a 32-byte seed");
  const derived = await deriveKeys(ikm); // RFC 9180 §7.1.3
  const listed = keys.find((k) => k.scope === w.team_id && k.version === w.version);
  if (listed === undefined) throw new EnrolmentError("a wrapped team key has no announcement");
  const announced = await verifyAnnouncement(fromBase64(listed.announcement), anchor);
  if (announced.kind !== "team" || announced.version !== w.version || !bytesEqual(announced.team, context.team) || !bytesEqual(announced.publicKey, derived.publicKey)) {
    throw new EnrolmentError("a wrapped team key differs from its signed announcement");
  }
  return { team: w.team_id, version: w.version, keys: derived };
}

/**
 * Reads the device's wraps again (after a team key rotation the owner rewraps the new
 * version to it) and adds the team keys not held yet to `device.teamKeys`; returns how many.
 */
export async function refreshTeamKeys(api: ConsoleApi, record: DeviceRecord, device: ReadyDevice, tenant: string): Promise<number> {
  const { wraps } = await api.keyWraps(device.id);
  const added = await openWraps(api, record, device.chain, device.anchor, wraps, tenant, device.teamKeys, false);
  device.teamKeys.push(...added);
  return added.length;
}

/** The newest version of `team`'s key this device holds (each checked against its announcement). */
export function newestTeamKey(device: ReadyDevice, team: string): TeamKey | undefined {
  let best: TeamKey | undefined;
  for (const k of device.teamKeys) if (k.team === team && (best === undefined || k.version > best.version)) best = k;
  return best;
}

export function bundleOf(k: DeviceRecord["keyPackages"][number]): KeyPackageBundle {
  return {
    keyPackage: fromBase64(k.keyPackage), initPrivate: fromBase64(k.initPrivate),
    encryptionPrivate: fromBase64(k.encryptionPrivate), signaturePrivate: fromBase64(k.signaturePrivate),
  };
}

/** Tops the device's key packages up when the server's stock is below its low-water mark. */
export async function refillKeyPackages(api: ConsoleApi, store: DeviceStore, record: DeviceRecord, device: ReadyDevice): Promise<number> {
  const stock = await api.keyPackageStock();
  const me = toBase64(await ed25519PublicKey(device.seed));
  const available = stock.devices.find((d) => d.device_key === me)?.available ?? 0;
  if (available >= stock.low_water) return available;
  const fresh: KeyPackageBundle[] = [];
  for (let i = 0; i < KEY_PACKAGE_BATCH; i++) fresh.push(await generateKeyPackage(device.chain, "device", device.seed));
  // The private halves are stored before the public ones are published.
  record.keyPackages.push(...fresh.map((b) => ({
    keyPackage: toBase64(b.keyPackage), initPrivate: toBase64(b.initPrivate),
    encryptionPrivate: toBase64(b.encryptionPrivate), signaturePrivate: toBase64(b.signaturePrivate),
  })));
  await store.save(record);
  return (await api.publishKeyPackages(fresh.map((b) => toBase64(b.keyPackage)))).available;
}
