// The application payload inside MLS application messages (shared/design/E2EE.md §2), the
// same encoding as crates/sealdesk-mls/src/payload.rs: version, kind, 16-byte msg id,
// sent-at (ms), then the body as an MLS variable-length vector (RFC 9420 §2.1.2, lengths as
// RFC 9000 §16 varints). Decoding is strict: anything unexpected is an error, which the UI
// shows as "message could not be read" without losing what was already received.

export const PAYLOAD_VERSION = 1;
export const MAX_TEXT = 16 * 1024;
const MAX_FIELD = 1024;
const HEADER = 26;

export interface FileRef {
  sha256: Uint8Array; // 32 bytes: the encrypted blob's name on the server
  size: bigint;
  key: Uint8Array; // 32 bytes, AES-256-GCM
  nonce: Uint8Array; // 12 bytes
  name: string;
  mediaType: string;
}

export type Body =
  | { kind: "text"; text: string }
  | { kind: "file"; file: FileRef }
  | { kind: "typing"; on: boolean }
  | { kind: "read"; seq: bigint }
  | { kind: "leave_request" }
  | { kind: "prechat"; fields: Array<[string, string]> };

export interface Payload {
  msgId: Uint8Array; // 16 random bytes; a resend keeps it
  sentAtMs: bigint;
  body: Body;
}

export class PayloadError extends Error {
  override name = "PayloadError";
}

const KINDS = { text: 1, file: 2, typing: 3, read: 4, leave_request: 5, prechat: 6 } as const;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function u64(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v);
  return out;
}

function varint(len: number): Uint8Array {
  if (len < 64) return Uint8Array.of(len);
  if (len < 16384) return Uint8Array.of(0x40 | (len >> 8), len & 0xff);
  if (len < 0x40000000) return Uint8Array.of(0x80 | (len >>> 24), (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
  throw new PayloadError("too long");
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const vec = (bytes: Uint8Array): Uint8Array => concat([varint(bytes.length), bytes]);

function fixed(bytes: Uint8Array, n: number, what: string): Uint8Array {
  if (bytes.length !== n) throw new PayloadError(`${what} is ${n} bytes`);
  return bytes;
}

function field(text: string): Uint8Array {
  const bytes = encoder.encode(text);
  if (bytes.length > MAX_FIELD) throw new PayloadError("a field is at most 1,024 bytes");
  return vec(bytes);
}

function encodeBody(body: Body): Uint8Array {
  switch (body.kind) {
    case "text": {
      const t = encoder.encode(body.text);
      if (t.length === 0 || t.length > MAX_TEXT) throw new PayloadError("a text is 1 to 16,384 bytes");
      return t;
    }
    case "file": {
      const f = body.file;
      return concat([
        fixed(f.sha256, 32, "sha256"), u64(f.size), fixed(f.key, 32, "key"), fixed(f.nonce, 12, "nonce"),
        field(f.name), field(f.mediaType),
      ]);
    }
    case "typing":
      return Uint8Array.of(body.on ? 1 : 0);
    case "read":
      return u64(body.seq);
    case "leave_request":
      return new Uint8Array(0);
    case "prechat":
      return concat(body.fields.flatMap(([k, v]) => [field(k), field(v)]));
  }
}

export function encodePayload(p: Payload): Uint8Array {
  return concat([
    Uint8Array.of(PAYLOAD_VERSION, KINDS[p.body.kind]), fixed(p.msgId, 16, "msg id"), u64(p.sentAtMs),
    vec(encodeBody(p.body)),
  ]);
}

class Reader {
  constructor(private bytes: Uint8Array, private at = 0) {}
  get done(): boolean {
    return this.at === this.bytes.length;
  }
  remaining(): number {
    return this.bytes.length - this.at;
  }
  take(n: number): Uint8Array {
    if (this.at + n > this.bytes.length) throw new PayloadError("truncated");
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  u8(): number {
    return this.take(1)[0]!;
  }
  u64(): bigint {
    return new DataView(this.take(8).slice().buffer).getBigUint64(0);
  }
  vec(): Uint8Array {
    const first = this.u8();
    let len: number;
    let min: number;
    switch (first >> 6) {
      case 0: [len, min] = [first & 0x3f, 0]; break;
      case 1: [len, min] = [((first & 0x3f) << 8) | this.u8(), 64]; break;
      case 2: {
        const r = this.take(3);
        [len, min] = [((first & 0x3f) * 2 ** 24) + (r[0]! << 16) + (r[1]! << 8) + r[2]!, 16384];
        break;
      }
      default: throw new PayloadError("length prefix");
    }
    if (len < min) throw new PayloadError("non-minimal length");
    return this.take(len);
  }
  text(max: number): string {
    const raw = this.vec();
    if (raw.length > max) throw new PayloadError("text too long");
    return utf8Strict(raw);
  }
}

function utf8Strict(raw: Uint8Array): string {
  try {
    return decoder.decode(raw);
  } catch {
    throw new PayloadError("not UTF-8");
  }
}

function decodeBody(kind: number, b: Reader): Body {
  switch (kind) {
    case 1: {
      const raw = b.take(b.remaining());
      if (raw.length === 0 || raw.length > MAX_TEXT) throw new PayloadError("a text is 1 to 16,384 bytes");
      return { kind: "text", text: utf8Strict(raw) };
    }
    case 2:
      return {
        kind: "file",
        file: {
          sha256: b.take(32).slice(), size: b.u64(), key: b.take(32).slice(), nonce: b.take(12).slice(),
          name: b.text(MAX_FIELD), mediaType: b.text(MAX_FIELD),
        },
      };
    case 3: {
      const on = b.u8();
      if (on > 1) throw new PayloadError("typing is 0 or 1");
      return { kind: "typing", on: on === 1 };
    }
    case 4:
      return { kind: "read", seq: b.u64() };
    case 5:
      return { kind: "leave_request" };
    case 6: {
      const fields: Array<[string, string]> = [];
      while (!b.done) fields.push([b.text(MAX_FIELD), b.text(MAX_FIELD)]);
      return { kind: "prechat", fields };
    }
    default:
      throw new PayloadError("unknown kind");
  }
}

export function decodePayload(bytes: Uint8Array): Payload {
  if (bytes.length < HEADER) throw new PayloadError("truncated");
  const r = new Reader(bytes);
  if (r.u8() !== PAYLOAD_VERSION) throw new PayloadError("unknown version");
  const kind = r.u8();
  const msgId = r.take(16).slice();
  const sentAtMs = r.u64();
  const body = new Reader(r.vec());
  if (!r.done) throw new PayloadError("trailing bytes");
  const decoded = decodeBody(kind, body);
  if (!body.done) throw new PayloadError("trailing bytes in the body");
  return { msgId, sentAtMs, body: decoded };
}
