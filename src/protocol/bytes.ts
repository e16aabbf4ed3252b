/**
 * Bounds-checked big-endian byte reading and a growable writer, with the
 * S7CommPlus variable-length quantities (VLQ, docs/PROTOCOL.md §8).
 *
 * Every read checks the remaining length first and throws a DecodeError
 * naming the offset, so a malformed frame can never read out of range or
 * make the decoder allocate more than the frame holds.
 */
import { DecodeError } from "../errors.js";

const MASK32 = 0xffffffff;

export class ByteReader {
  private pos: number;
  private readonly end: number;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
  ) {
    if (start < 0 || end > buf.length || start > end) throw new DecodeError("reader range outside buffer", start);
    this.pos = start;
    this.end = end;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  /** Whether the bytes from the current position on begin with `prefix` (nothing is read). */
  startsWith(prefix: Uint8Array): boolean {
    if (this.end - this.pos < prefix.length) return false;
    for (let i = 0; i < prefix.length; i++) if (this.buf[this.pos + i] !== prefix[i]) return false;
    return true;
  }

  /** Throws unless `n` more bytes are available. */
  need(n: number, what = "value"): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new DecodeError(`truncated ${what}: need ${n} byte(s), ${this.end - this.pos} left`, this.pos);
    }
  }

  peek(ahead = 0): number {
    if (this.pos + ahead >= this.end) throw new DecodeError("truncated: nothing left to peek", this.pos);
    return this.buf[this.pos + ahead]!;
  }

  skip(n: number): void {
    this.need(n, "field");
    this.pos += n;
  }

  u8(): number {
    this.need(1, "u8");
    return this.buf[this.pos++]!;
  }

  i8(): number {
    const v = this.u8();
    return v >= 0x80 ? v - 0x100 : v;
  }

  u16(): number {
    this.need(2, "u16");
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  i16(): number {
    const v = this.u16();
    return v >= 0x8000 ? v - 0x10000 : v;
  }

  u32(): number {
    this.need(4, "u32");
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  i32(): number {
    return this.u32() | 0;
  }

  u64(): bigint {
    const hi = BigInt(this.u32());
    const lo = BigInt(this.u32());
    return (hi << 32n) | lo;
  }

  i64(): bigint {
    return BigInt.asIntN(64, this.u64());
  }

  u32le(): number {
    this.need(4, "u32");
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  i32le(): number {
    return this.u32le() | 0;
  }

  u16le(): number {
    this.need(2, "u16");
    const v = this.buf[this.pos]! | (this.buf[this.pos + 1]! << 8);
    this.pos += 2;
    return v;
  }

  f32(): number {
    this.need(4, "Real");
    const v = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, 4).readFloatBE(0);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.need(8, "LReal");
    const v = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, 8).readDoubleBE(0);
    this.pos += 8;
    return v;
  }

  /** The next `n` bytes without copying them (for a caller that only looks at them). */
  view(n: number, what = "bytes"): Buffer {
    this.need(n, what);
    const b = this.buf;
    const out = Buffer.from(b.buffer, b.byteOffset + this.pos, n);
    this.pos += n;
    return out;
  }

  /** A copy of the next `n` bytes. */
  bytes(n: number, what = "bytes"): Buffer {
    this.need(n, what);
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  /** UInt32 VLQ (§8.2): up to 5 bytes, kept modulo 2^32, non-minimal forms accepted. */
  vlqU32(): number {
    const start = this.pos;
    let v = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      v = ((v << 7) | (b & 0x7f)) >>> 0;
      if ((b & 0x80) === 0) return v;
    }
    throw new DecodeError("UInt32 VLQ longer than 5 bytes", start);
  }

  /** Int32 VLQ (§8.3): sign in bit 0x40 of the first byte, up to 5 bytes, result sign-extended from 32 bits. */
  vlqI32(): number {
    const start = this.pos;
    const first = this.u8();
    let v = first & 0x40 ? -64 + (first & 0x3f) : first & 0x3f;
    if ((first & 0x80) === 0) return v;
    for (let i = 1; i < 5; i++) {
      const b = this.u8();
      v = (v << 7) | (b & 0x7f);
      if ((b & 0x80) === 0) return v | 0;
    }
    throw new DecodeError("Int32 VLQ longer than 5 bytes", start);
  }

  /** UInt64 VLQ (§8.4): 7 bits per byte for 8 bytes, a 9th byte carries 8 bits. */
  vlqU64(): bigint {
    return BigInt.asUintN(64, this.vlq64(false));
  }

  /** Int64 VLQ (§8.4): like UInt64 with the sign in bit 0x40 of the first byte. */
  vlqI64(): bigint {
    return BigInt.asIntN(64, this.vlq64(true));
  }

  private vlq64(signed: boolean): bigint {
    const start = this.pos;
    const first = this.u8();
    let v = signed && first & 0x40 ? BigInt(-64 + (first & 0x3f)) : BigInt(first & (signed ? 0x3f : 0x7f));
    if ((first & 0x80) === 0) return v;
    for (let i = 1; i < 8; i++) {
      const b = this.u8();
      v = v * 128n + BigInt(b & 0x7f);
      if ((b & 0x80) === 0) return v;
    }
    // Eight bytes with continuation: the ninth carries the last 8 bits in full.
    if (this.atEnd) throw new DecodeError("truncated 64-bit VLQ", start);
    return v * 256n + BigInt(this.u8());
  }
}

/** Growable big-endian writer. */
export class ByteWriter {
  private buf: Buffer;
  private len = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.len;
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    this.buf.writeUInt16BE(v & 0xffff, this.len);
    this.len += 2;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.len);
    this.len += 4;
    return this;
  }

  u64(v: bigint): this {
    this.ensure(8);
    this.buf.writeBigUInt64BE(BigInt.asUintN(64, v), this.len);
    this.len += 8;
    return this;
  }

  u16le(v: number): this {
    this.ensure(2);
    this.buf.writeUInt16LE(v & 0xffff, this.len);
    this.len += 2;
    return this;
  }

  u32le(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.len);
    this.len += 4;
    return this;
  }

  f32(v: number): this {
    this.ensure(4);
    this.buf.writeFloatBE(v, this.len);
    this.len += 4;
    return this;
  }

  f64(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.len);
    this.len += 8;
    return this;
  }

  bytes(data: Uint8Array | readonly number[]): this {
    this.ensure(data.length);
    if (data instanceof Uint8Array) this.buf.set(data, this.len);
    else for (let i = 0; i < data.length; i++) this.buf[this.len + i] = data[i]! & 0xff;
    this.len += data.length;
    return this;
  }

  zeros(n: number): this {
    this.ensure(n);
    this.buf.fill(0, this.len, this.len + n);
    this.len += n;
    return this;
  }

  /** Canonical UInt32 VLQ: no leading zero groups (§8.2). */
  vlqU32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > MASK32) {
      throw new RangeError(`UInt32 VLQ value out of range: ${value}`);
    }
    const v = value >>> 0;
    // Most significant group first; every group but the last has the continuation bit.
    let shift = 0;
    while (shift < 28 && v >>> (shift + 7) !== 0) shift += 7;
    this.ensure(shift / 7 + 1);
    for (; shift > 0; shift -= 7) this.buf[this.len++] = ((v >>> shift) & 0x7f) | 0x80;
    this.buf[this.len++] = v & 0x7f;
    return this;
  }

  /** Int32 VLQ in the driver's form: 1 + k bytes, k = how often |v| >> 7 stays >= 64 (§8.3). */
  vlqI32(value: number): this {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
      throw new RangeError(`Int32 VLQ value out of range: ${value}`);
    }
    let extra = 0;
    for (let a = Math.abs(value); a >= 64; a = Math.floor(a / 128)) extra++;
    for (let i = extra; i >= 0; i--) {
      const group = (value >> (7 * i)) & 0x7f;
      this.u8(i > 0 ? group | 0x80 : group);
    }
    return this;
  }

  /** UInt64 VLQ: 9-byte form above 0x00FFFFFFFFFFFFFF, minimal groups below (§8.4). */
  vlqU64(value: bigint): this {
    const v = BigInt.asUintN(64, value);
    if (v !== value) throw new RangeError(`UInt64 VLQ value out of range: ${value}`);
    if (v > 0x00ffffffffffffffn) return this.vlq64NineBytes(v);
    let extra = 0;
    for (let a = v >> 7n; a > 0n; a >>= 7n) extra++;
    return this.vlq64Groups(v, extra);
  }

  /** Int64 VLQ: 9-byte form for magnitudes above 0x007FFFFFFFFFFFFF (§8.4). */
  vlqI64(value: bigint): this {
    const v = BigInt.asIntN(64, value);
    if (v !== value) throw new RangeError(`Int64 VLQ value out of range: ${value}`);
    const magnitude = v < 0n ? -v : v;
    if (magnitude > 0x007fffffffffffffn) return this.vlq64NineBytes(BigInt.asUintN(64, v));
    let extra = 0;
    for (let a = magnitude; a >= 64n; a /= 128n) extra++;
    return this.vlq64Groups(v, extra);
  }

  private vlq64Groups(v: bigint, extra: number): this {
    for (let i = extra; i >= 0; i--) {
      const group = Number(BigInt.asUintN(7, v >> BigInt(7 * i)));
      this.u8(i > 0 ? group | 0x80 : group);
    }
    return this;
  }

  private vlq64NineBytes(pattern: bigint): this {
    const high = pattern >> 8n; // bits 63..8 in eight 7-bit groups
    for (let i = 7; i >= 0; i--) this.u8(Number(BigInt.asUintN(7, high >> BigInt(7 * i))) | 0x80);
    return this.u8(Number(pattern & 0xffn));
  }

  /** The written bytes (a copy, independent of later writes). */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

/** Encodes with a fresh writer: `encode(w => w.u8(1).vlqU32(2))`. */
export function encode(build: (w: ByteWriter) => void, initialSize = 64): Buffer {
  const w = new ByteWriter(initialSize);
  build(w);
  return w.toBuffer();
}

/** Parses a hex string with arbitrary whitespace ("72 01 00 12"). */
export function fromHex(hex: string): Buffer {
  const clean = hex.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error("invalid hex string");
  return Buffer.from(clean, "hex");
}

/** "72 01 00 12" style hex, for messages and test diffs. */
export function toHex(data: Uint8Array): string {
  return Buffer.from(data).toString("hex").replace(/(..)(?!$)/g, "$1 ");
}
