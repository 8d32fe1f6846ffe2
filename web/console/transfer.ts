// Handing a conversation to a colleague (shared/design/E2EE.md §5.4): this device adds the
// colleague's devices (each certificate checked under the pinned roots) in one commit with
// its Welcome, then the server moves the conversation. MLS lets no member remove itself
// (RFC 9420 §12.2), so the new assignee's console removes the previous agent's devices when
// it reads the transfer (the terminal agent does the same).

import type { ConversationView } from "../shared/protocol/types.js";
import { fromBase64 } from "../shared/util/bytes.js";
import type { ConsoleApi, StaffInfo } from "./api.js";
import type { LiveChat } from "./chat.js";
import { byId, el } from "./dom.js";

/** Fills the colleague picker with the conversation team's members, by name, without oneself. */
export async function fillColleagues(api: ConsoleApi, c: ConversationView, me: StaffInfo): Promise<void> {
  const select = byId<HTMLSelectElement>("transfer-to");
  const [{ members }, staff] = await Promise.all([api.teamMembers(c.tenant_id, c.team_id), api.staff(c.tenant_id)]);
  const names = new Map(staff.map((s) => [s.id, s.display_name]));
  const options = members.filter((id) => id !== me.id).map((id) => {
    const o = el("option", "", names.get(id) ?? id);
    o.value = id;
    return o;
  });
  select.replaceChildren(...options);
}

export async function transferTo(api: ConsoleApi, chat: LiveChat, c: ConversationView, to: string): Promise<void> {
  const { key_packages } = await api.takeKeyPackages(c.tenant_id, c.id, to);
  if (key_packages.length === 0) throw new Error("this colleague has no enrolled device yet");
  await chat.addStaffDevices(key_packages.map((k) => fromBase64(k.key_package)), ["agent", "supervisor"]);
  await api.transfer(c.tenant_id, c.id, to);
}

/** The signature keys of this person's certified devices (kept in the group after a transfer). */
export async function myDeviceKeys(api: ConsoleApi): Promise<Uint8Array[]> {
  const { devices } = await api.devices();
  return devices.filter((d) => d.status === "certified").map((d) => fromBase64(d.signature_key));
}
