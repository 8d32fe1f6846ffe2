// Test helper for the team-transfer browser tests: a second team, "Billing" (its team key and
// agent through the admin CLI, manual routing through REST, its History Member pool on
// demand), and its agent's sign-in with a device certified for Billing's key.

import type { Page } from "playwright-core";
import { RestClient } from "../shared/protocol/rest.js";
import { signInAndEnrol } from "./console-steps.js";
import { ISSUING_PASS, ROOT_PASS, type ConsoleWorld } from "./console-world.js";

const BILLING_PASS = "billing team key passphrase 42";

const id = (v: Record<string, unknown>): string => {
  if (typeof v.id !== "string") throw new Error(`no id in ${JSON.stringify(v)}`);
  return v.id;
};

/** The second team: its key (CLI), the agent in it, manual routing (REST). No History Member pool yet. */
export async function billing(world: ConsoleWorld, email = "bo@interop.localhost"): Promise<{ agent: { email: string; password: string }; pool: () => Promise<void> }> {
  const team = id(await world.admin(["team", "create", "--tenant", world.tenant, "--name", "Billing"]));
  await world.admin(["keys", "team", "--tenant", world.tenant, "--team", team, "--root", world.keyPath("root.key"), "--out", world.keyPath("billing.key"),
    "--passphrase-stdin"], `${ROOT_PASS}\n${BILLING_PASS}\n`);
  const agent = { email, password: `${crypto.randomUUID()}-Zq7!` };
  const staff = id(await world.admin(["staff", "create", "--tenant", world.tenant, "--email", agent.email, "--role", "agent", "--password-stdin"], `${agent.password}\n`));
  const login = await new RestClient(world.apiUrl).login(world.tenant, world.adminUser.email, world.adminUser.password);
  const owner = new RestClient(world.apiUrl, login.token);
  await owner.addTeamMember(world.tenant, team, staff);
  await owner.setRouting(world.tenant, team, "manual");
  const pool = async (): Promise<void> => {
    await world.admin(["keys", "history-pool", "--tenant", world.tenant, "--team", team, "--issuing", world.keyPath("issuing.key"), "--team-key",
      world.keyPath("billing.key"), "--count", "4", "--passphrase-stdin"], `${ISSUING_PASS}\n${BILLING_PASS}\n`);
  };
  return { agent, pool };
}

/** Signs in and has the administrator certify the device with Billing's team key (fingerprint off the screen). */
export async function billingAgentSignsIn(page: Page, world: ConsoleWorld, who: { email: string; password: string }): Promise<void> {
  await signInAndEnrol(page, world, who, "agent", (device, fingerprint) =>
    world.admin(["keys", "enrol", "--tenant", world.tenant, "--device", device, "--fingerprint", fingerprint, "--issuing", world.keyPath("issuing.key"),
      "--role", "agent", "--team-key", world.keyPath("billing.key"), "--passphrase-stdin"], `${ISSUING_PASS}\n${BILLING_PASS}\n`));
}
