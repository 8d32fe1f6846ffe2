// Re-sealing a team's canned responses after a team key rotation (docs/e2ee.md "Internal
// notes and canned responses"). A canned response is sealed to one team key version; after a
// rotation (a member removed) a new member holding only the new version could not read it,
// and the removed member's old key still could. So a console of a role that manages canned
// responses (supervisors and above), once it holds the team's newest announced key, opens
// each response sealed to an older version (the author's chain verified, the response naming
// this team), seals the same title, text and time to the newest key only, checks that the new
// object opens with that key into the same content, and replaces it on the server with a
// compare-and-swap on the version it read (`PUT …/canned-responses/{id}`): a console that
// lost the race to another gets `conflict` and leaves the other's result. It never re-seals
// what it could not open and verify.

import type { CannedResponseView, ReplaceCannedResponse } from "../shared/protocol/generated.js";
import type { OpeningKey } from "../shared/seal/bundle.js";
import { openCanned, sealCanned, teamKeyVersion, type CannedResponse } from "../shared/seal/teamseal.js";
import { bytesEqual, fromBase64, toBase64 } from "../shared/util/bytes.js";
import { uuidBytes } from "../widget/trust.js";
import { ApiError, type ConsoleApi } from "./api.js";
import { newestTeamKey, type ReadyDevice } from "./device.js";
import { listCanned, openWith, recipients } from "./sealed-content.js";

/** What one pass over a team's canned responses did. */
export interface ResealReport {
  /** The newest team key version this device holds and the team announced, if both agree. */
  newest: number | undefined;
  /** Replaced with a copy sealed to `newest`. */
  resealed: number;
  /** Another console replaced it first (`conflict`): left as it is. */
  raced: number;
  /** Sealed to an older version but not opened or verified here: left as it is. */
  skipped: number;
}

/**
 * `PUT …/canned-responses/{id}`: replaces the payload if it is still the one `read` listed
 * (its SHA-256), sealed to `readVersion`; else `conflict`, so two editors never overwrite each
 * other unknowingly.
 */
export async function replaceCanned(api: ConsoleApi, tenant: string, team: string, read: CannedResponseView, readVersion: number, sealed: Uint8Array): Promise<CannedResponseView> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(fromBase64(read.p))));
  const body: ReplaceCannedResponse = { key_version: readVersion, read_sha256: toBase64(digest), p: toBase64(sealed) };
  return api.request<CannedResponseView>("PUT", `/api/tenants/${tenant}/teams/${team}/canned-responses/${read.id}`, body);
}

/** The time the server recorded a canned response's payload, in Unix seconds (when its chain is checked). */
export const recordedAt = (v: CannedResponseView): number => Math.floor(Date.parse(v.created_at) / 1000);

const sameCanned = (a: CannedResponse, b: CannedResponse): boolean =>
  bytesEqual(a.team, b.team) && a.writtenMs === b.writtenMs && a.title === b.title && a.text === b.text;

/** One pass per team at a time in this page (the picker and the management page both start them). */
const running = new Map<string, Promise<ResealReport>>();

/** Re-seals every canned response of `team` under an older key version to the newest one. */
export function resealTeam(api: ConsoleApi, device: ReadyDevice, tenant: string, team: string): Promise<ResealReport> {
  const key = `${tenant}/${team}`;
  const busy = running.get(key);
  if (busy !== undefined) return busy;
  const pass = resealPass(api, device, tenant, team).finally(() => running.delete(key));
  running.set(key, pass);
  return pass;
}

async function resealPass(api: ConsoleApi, device: ReadyDevice, tenant: string, team: string): Promise<ResealReport> {
  const report: ResealReport = { newest: undefined, resealed: 0, raced: 0, skipped: 0 };
  const held = newestTeamKey(device, team);
  if (held === undefined) return report;
  // The newest announced key, verified under the pinned roots; this device must hold exactly it.
  const [to] = await recipients(api, device, tenant, team, false);
  if (to === undefined || to.keyVersion !== held.version || !bytesEqual(to.publicKey, held.keys.publicKey)) return report;
  report.newest = held.version;
  const teamBytes = uuidBytes(team);
  const newestKey: OpeningKey = { ...to, privateKey: held.keys.privateKey };
  const { canned_responses: views } = await listCanned(api, tenant, team);
  for (const v of views) {
    const from = teamKeyVersion(fromBase64(v.p));
    if (from === undefined || from >= held.version) continue;
    const opened = await openWith(device, v.p, (bytes, k) => openCanned(bytes, teamBytes, k, device.anchor, recordedAt(v)));
    if (!("ok" in opened)) {
      report.skipped++;
      continue;
    }
    const content = opened.ok.content;
    const sealed = await sealCanned(content, uuidBytes(tenant), device.chain, [to], device.seed);
    // The copy must open with the newest key into the very same response before it replaces it.
    const check = await openCanned(sealed, teamBytes, newestKey, device.anchor, Math.floor(Date.now() / 1000));
    if (!sameCanned(check.content, content)) {
      report.skipped++;
      continue;
    }
    try {
      await replaceCanned(api, tenant, team, v, from, sealed);
      report.resealed++;
    } catch (e) {
      if (e instanceof ApiError && e.code === "conflict") report.raced++;
      else throw e;
    }
  }
  return report;
}

/**
 * Watches this device's team keys (the desk reads its wraps again after a rotation) and, for
 * the roles that manage canned responses, re-seals each team's canned responses once when it
 * starts and again whenever a newer version of that team's key arrives.
 */
export class ResealWatch {
  private readonly done = new Map<string, number>();
  private timer: number | undefined;

  constructor(
    private readonly api: ConsoleApi,
    private readonly device: ReadyDevice,
    private readonly tenant: string,
    private readonly onReport: (team: string, r: ResealReport) => void = () => undefined,
  ) {}

  start(everyMs = 5_000): void {
    void this.check();
    this.timer = window.setInterval(() => void this.check(), everyMs);
  }

  stop(): void {
    window.clearInterval(this.timer);
  }

  private async check(): Promise<void> {
    const teams = new Set(this.device.teamKeys.map((k) => k.team));
    for (const team of teams) {
      const held = newestTeamKey(this.device, team)?.version ?? 0;
      if ((this.done.get(team) ?? 0) >= held) continue;
      try {
        const r = await resealTeam(this.api, this.device, this.tenant, team);
        // A version the team has not announced as its newest yet is tried again later.
        if (r.newest !== undefined) this.done.set(team, r.newest);
        this.onReport(team, r);
      } catch {
        // Offline or refused: the next check tries again.
      }
    }
  }
}
