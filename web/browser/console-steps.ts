// Steps of the console's browser test: the visitor starting a chat in the widget, a console
// signing in and having its device certified by the admin CLI, and forged log entries.

import type { Page } from "playwright-core";
import { expect } from "vitest";
import { nodeTransport } from "../shared/protocol/node-transport.js";
import { RestClient } from "../shared/protocol/rest.js";
import { SealdeskSocket } from "../shared/protocol/socket.js";
import { fromBase64 } from "../shared/util/bytes.js";
import type { Watched } from "./chromium.js";
import type { ConsoleWorld } from "./console-world.js";
import { FIELDS, NOTICE } from "./fixture.js";

export const XSS = {
  name: `<img src=x onerror="window.__xss=1">Ada`,
  order: `<script>window.__xss=2</script>`,
  first: `Hello <b>there</b><img src=x onerror="window.__xss=3"> see https://evil.example/login?next=<svg/onload=alert(1)>`,
};

export async function visitorStarts(page: Page, name = XSS.name, first = XSS.first): Promise<void> {
  await page.getByRole("button", { name: "Open chat" }).click();
  const dialog = page.getByRole("dialog");
  await expect.poll(() => dialog.getByText(NOTICE.text).count()).toBe(1);
  await dialog.getByRole("button", { name: "I agree, start the chat" }).click();
  await dialog.getByLabel(`${FIELDS[0]?.label} (required)`).fill(name);
  await dialog.getByLabel(FIELDS[1]?.label ?? "").fill(name === XSS.name ? XSS.order : "");
  await dialog.getByRole("button", { name: "Continue" }).click();
  const box = dialog.getByLabel("Your message");
  await box.fill(first);
  await box.press("Enter");
}

/**
 * Signs in on a fresh browser and has the administrator certify its device (CLI, fingerprint
 * from the screen); `enrol` replaces the default certification (the world's team key).
 */
export async function signInAndEnrol(
  page: Page,
  world: ConsoleWorld,
  who: { email: string; password: string },
  role: "agent" | "supervisor",
  enrol: (device: string, fingerprint: string) => Promise<unknown> = (device, fingerprint) => world.enrol(device, fingerprint, role),
): Promise<void> {
  await page.goto(`${world.url}/console/?tenant=${world.tenant}`);
  await page.getByLabel("E-mail").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  const fp = page.locator("#fingerprint");
  await expect.poll(() => fp.textContent(), { timeout: 30_000 }).toMatch(/^([0-9a-f]{4} ){7}[0-9a-f]{4}$/);
  const shown = (await fp.textContent()) ?? "";
  const { devices } = (await world.admin(["keys", "devices", "--tenant", world.tenant, "--status", "pending"])) as { devices: Array<{ id: string; fingerprint: string }> };
  const mine = devices.find((d) => d.fingerprint === shown);
  if (mine === undefined) throw new Error("the device on the screen is not pending");
  await enrol(mine.id, shown);
  await expect.poll(() => page.locator("#desk").isVisible(), { timeout: 60_000 }).toBe(true);
}

export async function inert(w: Watched): Promise<void> {
  expect(await w.page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  expect(w.dialogs).toEqual([]);
}

/**
 * As the agent's own second session (a CLI login), sends into the agent's conversation a copy
 * of the visitor's last message with one bit of its AEAD tag flipped, then an exact replay.
 */
export async function forgeEntries(world: ConsoleWorld, id: string): Promise<void> {
  const login = await new RestClient(world.apiUrl).login(world.tenant, world.agent.email, world.agent.password);
  const token = login.token ?? "";
  const rest = new RestClient(world.apiUrl, token);
  const c = await rest.conversation(world.tenant, id);
  const { entries } = await rest.entries(world.tenant, c.id);
  const last = [...entries].reverse().find((e) => e.k === "application" && e.from.kind === "visitor");
  if (last === undefined) throw new Error("no visitor message");
  const socket = await SealdeskSocket.connect(nodeTransport, world.apiUrl, { via: "header", token });
  try {
    await socket.subscribe(c.id, c.last_seq);
    const forged = fromBase64(last.p);
    forged[forged.length - 1] = (forged[forged.length - 1] ?? 0) ^ 1;
    await socket.send(c.id, "application", forged);
    await socket.send(c.id, "application", fromBase64(last.p));
  } finally {
    socket.close();
  }
}
