// How a conversation reads in the console: who wrote each line (checked credentials only),
// the visitor's form, messages as text in log order. Text nodes only (dom.ts).

import { safeFileName } from "../shared/files/attachment.js";
import type { Body, FileRef } from "../shared/mls/payload.js";
import { previewControls } from "./attachment-preview.js";
import { describeFile } from "./attachments.js";
import { byId, el, messageText } from "./dom.js";
import type { Who } from "./members.js";
import type { Line } from "./preview.js";

export function whoText(who: Who): string {
  if (who.kind === "visitor") return "Visitor";
  if (who.kind === "staff") return `${who.label} — verified ${who.role}`;
  return "Unverified member";
}

/** The last text line, for the queue. */
export function previewText(lines: readonly Line[] | undefined): string {
  if (lines === undefined) return "Decrypting…";
  const last = [...lines].reverse().find((l) => l.body.kind === "text");
  return last !== undefined && last.body.kind === "text" ? last.body.text : "No message yet";
}

/** The name the visitor typed in the form, if the inbox asks for one. */
export function visitorName(lines: readonly Line[] | undefined, fallback: string): string {
  for (const l of lines ?? []) if (l.body.kind === "prechat") for (const [k, v] of l.body.fields) if (k === "name" && v.trim() !== "") return v;
  return fallback;
}

/** What a Download button does (set by the desk for the conversation on the screen). */
let download: ((ref: FileRef) => Promise<void>) | undefined;

export function onDownload(fn: ((ref: FileRef) => Promise<void>) | undefined): void {
  download = fn;
}

/** A file: its name, size and type as text, a button that saves it and, for an image, one that previews it. */
function fileElement(ref: FileRef): HTMLElement {
  const box = el("div", "file");
  box.append(el("p", "text", `Attachment: ${describeFile(ref)}`));
  const b = el("button", "download", "Download");
  b.type = "button";
  b.setAttribute("aria-label", `Download ${safeFileName(ref.name)}`);
  b.addEventListener("click", () => {
    if (download === undefined) return;
    b.disabled = true;
    void download(ref).finally(() => (b.disabled = false));
  });
  box.append(b, ...previewControls(ref));
  return box;
}

function bodyElement(body: Body, who: Who, confirmLink: (url: string) => void): HTMLElement {
  if (body.kind === "text") return messageText(body.text, confirmLink);
  if (body.kind === "file") return fileElement(body.file);
  if (body.kind === "leave_request") return el("p", "text", who.kind === "visitor" ? "The visitor asked to end the conversation." : "Asked to leave the conversation.");
  return el("p", "text", "");
}

/** Adds a line to the open conversation: the form to #prechat, messages to #log in seq order. */
export function addLine(l: Line, mine: boolean, labels: Map<string, string>, confirmLink: (url: string) => void): void {
  if (l.body.kind === "prechat") {
    const dl = byId("prechat");
    for (const [name, value] of l.body.fields) dl.append(el("dt", "", labels.get(name) ?? name), el("dd", "", value));
    return;
  }
  const li = el("li", `msg ${mine ? "mine" : l.who.kind}`);
  li.dataset.seq = String(l.seq);
  li.append(el("span", "meta who", mine ? "You" : whoText(l.who)));
  li.append(bodyElement(l.body, l.who, confirmLink));
  // In log order, also when a gap is filled after later messages arrived; replies still on
  // their way stay last.
  const log = byId("log");
  const later = Array.from(log.children).find((n) => {
    const d = (n as HTMLElement).dataset;
    return d.pending !== undefined || Number(d.seq) > l.seq;
  });
  log.insertBefore(li, later ?? null);
  li.scrollIntoView({ block: "end" });
}

function pendingLine(key: string): HTMLElement | undefined {
  return Array.from(byId("log").children).find((n) => (n as HTMLElement).dataset.pending === key) as HTMLElement | undefined;
}

/** A reply of ours the server has not acknowledged yet (the connection may be down): last, marked. */
export function addPending(key: string, body: Body, confirmLink: (url: string) => void): void {
  const li = el("li", "msg mine pending");
  li.dataset.pending = key;
  li.append(el("span", "meta who", "You · sending…"));
  li.append(bodyElement(body, { kind: "staff", role: "agent", label: "", verified: true }, confirmLink));
  byId("log").append(li);
  li.scrollIntoView({ block: "end" });
}

/** The reply was sequenced: its pending line gives way to the real one (added by `addLine`). */
export function settlePending(key: string): void {
  pendingLine(key)?.remove();
}

/** The server refused the reply: its line says so. */
export function failPending(key: string, reason: string): void {
  const li = pendingLine(key);
  if (li === undefined) return;
  li.classList.remove("pending");
  li.classList.add("failed");
  delete li.dataset.pending;
  const meta = li.querySelector(".meta");
  if (meta !== null) meta.textContent = `You · not sent (${reason})`;
}
