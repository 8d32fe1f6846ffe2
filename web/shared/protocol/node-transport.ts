// Node only (tests, tools): Node 20 has no global WebSocket without a flag, so the `ws`
// package implements our Transport. Browser bundles must not import this file.

import WebSocket from "ws";
import type { TransportFactory } from "./socket.js";

export const nodeTransport: TransportFactory = (url, options, events) =>
  new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (options.bearer !== undefined) headers.authorization = `Bearer ${options.bearer}`;
    const ws = new WebSocket(url, options.protocol, { headers });
    let open = false;
    ws.on("open", () => {
      open = true;
      resolve({ send: (t) => ws.send(t), close: (c, r) => ws.close(c, r) });
    });
    // Before open: the upgrade failed (401 with the JSON error body, 429, …).
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      res.on("end", () => reject(new Error(`WebSocket upgrade refused: ${res.statusCode} ${body}`)));
    });
    ws.on("error", (err) => {
      if (!open) reject(err);
    });
    ws.on("message", (data, isBinary) => {
      if (!isBinary) events.onText(utf8(data));
    });
    ws.on("close", (code, reason) => events.onClose(code, reason.toString()));
  });

/** A text message's data: a Buffer with ws's default binaryType, but every RawData shape is decoded. */
function utf8(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.isBuffer(data) ? data.toString("utf8") : new TextDecoder().decode(data);
}
