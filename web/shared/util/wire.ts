// Readers and writers of our binary formats (certificates, sealed objects, bundles, key
// announcements): big-endian integers, fixed-size fields and MLS variable-length vectors
// (RFC 9420 §2.1.2), of which, like crates/sealdesk-mls/src/wire.rs, we write only the minimal
// 1- and 2-byte length forms (under 16 KiB) and read nothing else, so every object has exactly
// one encoding.

/** Concatenates byte strings. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function u16(v: number): Uint8Array {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError("not a u16");
  return Uint8Array.of(v >> 8, v & 0xff);
}

export function u32(v: number): Uint8Array {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new RangeError("not a u32");
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v);
  return out;
}

export function u64(v: bigint): Uint8Array {
  if (v < 0n || v >= 1n << 64n) throw new RangeError("not a u64");
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v);
  return out;
}

/** The largest vector we write: the 2-byte length form's limit. */
export const MAX_VEC = 16_383;

/** `bytes` as an MLS vector; `null` when too long for the forms we write. */
export function vec(bytes: Uint8Array): Uint8Array | null {
  const len = bytes.length;
  if (len < 64) return concat(Uint8Array.of(len), bytes);
  if (len <= MAX_VEC) return concat(Uint8Array.of(0x40 | (len >> 8), len & 0xff), bytes);
  return null;
}

/** A cursor over bytes; every failure is reported through `fail` (the caller's error type). */
export class Reader {
  private at = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly fail: (what: string) => Error,
  ) {}

  get remaining(): number {
    return this.bytes.length - this.at;
  }

  /** Where the cursor is (an offset into the bytes). */
  get offset(): number {
    return this.at;
  }

  take(n: number): Uint8Array {
    if (this.remaining < n) throw this.fail("truncated");
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  u8(): number {
    return this.take(1)[0] ?? 0;
  }

  u16(): number {
    const b = this.take(2);
    return ((b[0] ?? 0) << 8) | (b[1] ?? 0);
  }

  u32(): number {
    const b = this.take(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
  }

  u64(): bigint {
    const b = this.take(8);
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
  }

  /** An MLS vector in the minimal 1- or 2-byte length form (RFC 9420 §2.1.2). */
  vec(): Uint8Array {
    const first = this.take(1)[0] ?? 0;
    let len: number;
    switch (first >> 6) {
      case 0:
        len = first & 0x3f;
        break;
      case 1:
        len = ((first & 0x3f) << 8) | this.u8();
        if (len < 64) throw this.fail("non-minimal vector length");
        break;
      default:
        throw this.fail("vector length form not used here");
    }
    return this.take(len);
  }
}
