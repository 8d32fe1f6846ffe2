// A plain TCP relay in front of the server, so that a test can cut the widget's connections
// (a network drop) without stopping the server.
import { createServer, connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export interface Relay {
  readonly url: string;
  /** Destroys every open connection (new ones are accepted). */
  cut(): void;
  /** Stops forwarding the server's bytes to the clients (their own still reach the server). */
  mute(): void;
  close(): Promise<void>;
}

export async function relay(target: string): Promise<Relay> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  let muted = false;
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on("close", () => open.delete(s));
      s.on("error", () => s.destroy());
    }
    client.pipe(upstream);
    upstream.on("data", (chunk: Buffer) => {
      if (!muted) client.write(chunk);
    });
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut: () => {
      open.forEach((s) => s.destroy());
      muted = false;
    },
    mute: () => {
      muted = true;
    },
    close: () => {
      open.forEach((s) => s.destroy());
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
