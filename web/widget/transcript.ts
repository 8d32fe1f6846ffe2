// The transcript the visitor downloads: made in the browser from what it decrypted, as plain
// text (nothing is fetched; the server has only ciphertext).

import { humanSize } from "./files.js";
import type { ChatItem, WidgetState } from "./state.js";
import { t, type Strings } from "./strings.js";

const EVENTS = { agent_joined: "eventJoined", transferred: "eventTransferred", supervisor_joined: "eventSupervisor", closed: "eventClosed" } as const;

function line(item: ChatItem, s: Strings, state: WidgetState): string {
  const at = new Date(item.at).toISOString().replace("T", " ").slice(0, 19);
  if (item.kind === "unverified") return `[${at}] ${s.unverified}`;
  if (item.kind === "event") return `[${at}] ${t(s, EVENTS[item.event], { name: item.name || s.agent, tenant: state.tenantName })}`;
  const who = item.from === "visitor" ? s.you : item.author || s.agent;
  const failed = item.status === "failed" ? ` (${s.statusFailed})` : "";
  const body = item.kind === "text" ? item.text : `[${s.file}] ${item.name} (${humanSize(item.size)})`;
  return `[${at}] ${who}: ${body}${failed}`;
}

export function transcriptText(state: WidgetState, s: Strings): string {
  const head = [t(s, "title", { team: state.teamName || state.tenantName }), ""];
  const answers = state.answers.map(([k, v]) => `${state.fields.find((f) => f.name === k)?.label ?? k}: ${v}`);
  return [...head, ...answers, ...(answers.length > 0 ? [""] : []), ...state.items.map((i) => line(i, s, state)), ""].join("\n");
}

/**
 * Saves bytes or text as a file through a detached link (never added to the page). Always as
 * a download, never opened in the page: the declared media type is not trusted.
 */
export function download(content: string | Uint8Array, filename: string): void {
  const blob = typeof content === "string"
    ? new Blob([content], { type: "text/plain;charset=utf-8" })
    : new Blob([new Uint8Array(content)], { type: "application/octet-stream" });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
