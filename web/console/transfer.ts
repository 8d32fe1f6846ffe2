// Handing a conversation to a colleague (shared/design/E2EE.md §5.4): this device adds the
// colleague's devices (each certificate checked under the pinned roots) in one commit with
// its Welcome, then the server moves the conversation. MLS lets no member remove itself
// (RFC 9420 §12.2), so the new assignee's console removes the previous agent's devices when
// it reads the transfer (the terminal agent does the same). A transfer to another team's
// queue carries the earlier history and notes over, re-sealed for that team (carry.ts);
// whoever takes it there removes this person's devices (handover.ts) and re-keys its History
// Member for their team (rekey.ts).

import type { ConversationView } from "../shared/protocol/types.js";
import { fromBase64 } from "../shared/util/bytes.js";
import type { ConsoleApi, StaffInfo } from "./api.js";
import { carriedCopies } from "./carry.js";
import type { LiveChat } from "./chat.js";
import type { ReadyDevice } from "./device.js";
import { byId, el } from "./dom.js";
import { T } from "./strings.js";

/** Where the picker's choice goes: `agent:ID` or `team:ID`. */
export type TransferTarget = { agent: string } | { team: string };

export function transferTarget(value: string): TransferTarget | undefined {
  const m = /^(agent|team):(.+)$/.exec(value);
  if (m?.[2] === undefined) return undefined;
  return m[1] === "agent" ? { agent: m[2] } : { team: m[2] };
}

/** Fills the picker: the conversation team's members by name (without oneself), then the tenant's other enabled teams. */
export async function fillColleagues(api: ConsoleApi, c: ConversationView, me: StaffInfo): Promise<void> {
  const select = byId<HTMLSelectElement>("transfer-to");
  const [{ members }, staff, teams] = await Promise.all([api.teamMembers(c.tenant_id, c.team_id), api.staff(c.tenant_id), api.teams(c.tenant_id)]);
  const names = new Map(staff.map((s) => [s.id, s.display_name]));
  const group = (label: string, options: Array<[string, string]>): HTMLOptGroupElement[] => {
    if (options.length === 0) return [];
    const g = el("optgroup");
    g.label = label;
    g.replaceChildren(...options.map(([value, text]) => Object.assign(el("option", "", text), { value })));
    return [g];
  };
  const previous = select.value;
  select.replaceChildren(
    ...group(T.colleagues, members.filter((id) => id !== me.id).map((id) => [`agent:${id}`, names.get(id) ?? id])),
    ...group(T.teams, teams.filter((t) => t.id !== c.team_id && !t.disabled).map((t) => [`team:${t.id}`, t.name])),
  );
  if (previous !== "" && Array.from(select.options).some((o) => o.value === previous)) select.value = previous;
}

/** Why a transfer failed, in words, with the error's stable code. */
export function transferFailure(code: string): string {
  return T.failed((Object.hasOwn(T.why, code) ? T.why[code] : undefined) ?? T.other, code);
}

export async function transferTo(api: ConsoleApi, chat: LiveChat, c: ConversationView, to: string): Promise<void> {
  const { key_packages } = await api.takeKeyPackages(c.tenant_id, c.id, to);
  if (key_packages.length === 0) throw new Error("this colleague has no enrolled device yet");
  await chat.addStaffDevices(key_packages.map((k) => fromBase64(k.key_package)), ["agent", "supervisor"]);
  await api.transfer(c.tenant_id, c.id, to);
}

/**
 * To another team's queue, carrying the earlier History Member bundles and the notes over,
 * re-sealed for that team (carry.ts): the server stores them with the move. This device stays
 * in the group until it is removed.
 */
export async function transferToTeam(api: ConsoleApi, c: ConversationView, team: string, device: ReadyDevice): Promise<void> {
  const { carry } = await carriedCopies(api, device, c.tenant_id, c.id, c.team_id, team);
  await api.transferToTeam(c.tenant_id, c.id, team, carry);
}

/** The signature keys of this person's certified devices (kept in the group after a transfer). */
export async function myDeviceKeys(api: ConsoleApi): Promise<Uint8Array[]> {
  const { devices } = await api.devices();
  return devices.filter((d) => d.status === "certified").map((d) => fromBase64(d.signature_key));
}
