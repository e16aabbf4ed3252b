/**
 * Pieces shared by the message bodies: the end of a body (IntegrityId,
 * zero fill or the pre-TLS HMAC trailer, docs/PROTOCOL.md §7.3/§7.4,
 * docs/SIMULATOR.md §6.1) and the 23-byte ObjectQualifier (docs/PROTOCOL.md §10.1).
 */
import { DecodeError } from "../../errors.js";
import { ByteReader, ByteWriter, fromHex } from "../bytes.js";
import { Ids } from "../constants.js";
import { readPValue, writePValue, type StructMember } from "../pvalue.js";

/** The end of a body: optional IntegrityId, then zero fill or an HMAC trailer. */
export interface IntegrityTail {
  /** UInt32 VLQ; absent on pre-integrity firmware and in the requests that carry none. */
  integrityId?: number;
  /** Pre-TLS integrity trailer: the 32-byte HMAC that followed `20` instead of the zero fill (docs/PROTOCOL.md §7.4). */
  digest?: Buffer;
  /** Number of zero fill bytes when it differs from the body's usual fill (4, or 5 for Explore requests). */
  fillLength?: number;
}

export const DIGEST_LENGTH = 32;
const DIGEST_MARK = 0x20;

function singleVlq(bytes: Buffer): number | undefined | null {
  if (bytes.length === 0) return undefined;
  const r = new ByteReader(bytes);
  try {
    const v = r.vlqU32();
    return r.atEnd ? v : null;
  } catch {
    return null;
  }
}

/**
 * Reads the rest of the body as `[IntegrityId VLQ] fill` or `[IntegrityId VLQ] 20 HMAC`:
 * what is left before the trailing zeros is either empty or exactly one VLQ.
 */
export function readTail(r: ByteReader, fill = 4): IntegrityTail {
  const at = r.offset;
  const rest = r.view(r.remaining);
  const len = rest.length;
  if (len >= 1 + DIGEST_LENGTH && rest[len - 1 - DIGEST_LENGTH] === DIGEST_MARK) {
    const iid = singleVlq(rest.subarray(0, len - 1 - DIGEST_LENGTH));
    if (iid !== null) {
      const tail: IntegrityTail = { digest: Buffer.from(rest.subarray(len - DIGEST_LENGTH)) };
      if (iid !== undefined) tail.integrityId = iid;
      return tail;
    }
  }
  let zeros = 0;
  while (zeros < len && rest[len - 1 - zeros] === 0) zeros++;
  const candidates = [fill];
  for (let f = zeros; f >= 0; f--) if (f !== fill) candidates.push(f);
  for (const f of candidates) {
    if (f > zeros) continue;
    const iid = singleVlq(rest.subarray(0, len - f));
    if (iid === null) continue;
    const tail: IntegrityTail = {};
    if (iid !== undefined) tail.integrityId = iid;
    if (f !== fill) tail.fillLength = f;
    return tail;
  }
  throw new DecodeError(`unexpected ${len} byte(s) at the end of the body`, at);
}

export function writeTail(w: ByteWriter, tail: IntegrityTail, fill = 4): void {
  if (tail.integrityId !== undefined) w.vlqU32(tail.integrityId);
  if (tail.digest !== undefined) {
    if (tail.digest.length !== DIGEST_LENGTH) throw new RangeError(`integrity digest must be ${DIGEST_LENGTH} bytes`);
    if (tail.fillLength !== undefined) throw new RangeError("a body ends either with a digest or with fill");
    w.u8(DIGEST_MARK).bytes(tail.digest);
    return;
  }
  w.zeros(tail.fillLength ?? fill);
}

/** Copies the tail fields of a decoded message (only those present). */
export function tailOf(t: IntegrityTail): IntegrityTail {
  const out: IntegrityTail = {};
  if (t.integrityId !== undefined) out.integrityId = t.integrityId;
  if (t.digest !== undefined) out.digest = t.digest;
  if (t.fillLength !== undefined) out.fillLength = t.fillLength;
  return out;
}

/** Throws when the reader has bytes left. */
export function expectEnd(r: ByteReader, what: string): void {
  if (!r.atEnd) throw new DecodeError(`${r.remaining} byte(s) after the ${what}`, r.offset);
}

/** Reads one byte and checks its value. */
export function expectByte(r: ByteReader, value: number, what: string): void {
  const at = r.offset;
  const b = r.u8();
  if (b !== value) throw new DecodeError(`expected ${what} 0x${value.toString(16)}, got 0x${b.toString(16)}`, at);
}

// ---------------------------------------------------------------------------
// ObjectQualifier

/** The 23 bytes every client sends (docs/PROTOCOL.md §10.1). */
export const OBJECT_QUALIFIER: Buffer = fromHex("00 00 04 e8 89 69 00 12 00 00 00 00 89 6a 00 13 00 89 6b 00 04 00 00");

/** An ObjectQualifier: id 1256 and its attributes (ParentRID, CompositionAID, KeyQualifier). */
export interface ObjectQualifier {
  id: number;
  members: StructMember[];
}

/** Reads an ObjectQualifier (`id u32`, `attribute VLQ, PValue` … `00`). */
export function readObjectQualifier(r: ByteReader): ObjectQualifier {
  const at = r.offset;
  const id = r.u32();
  if (id !== Ids.ObjectQualifier) throw new DecodeError(`expected ObjectQualifier 1256, got ${id}`, at);
  const members: StructMember[] = [];
  for (;;) {
    const memberId = r.vlqU32();
    if (memberId === 0) break;
    members.push({ id: memberId, value: readPValue(r, 1) });
  }
  return { id, members };
}

export function writeObjectQualifier(w: ByteWriter, q?: ObjectQualifier): void {
  if (q === undefined) {
    w.bytes(OBJECT_QUALIFIER);
    return;
  }
  w.u32(q.id);
  for (const m of q.members) {
    w.vlqU32(m.id);
    writePValue(w, m.value);
  }
  w.u8(0);
}

/** Whether a decoded qualifier is the standard one (then it is left out of decoded messages). */
export function isStandardQualifier(q: ObjectQualifier): boolean {
  const w = new ByteWriter(OBJECT_QUALIFIER.length + 8);
  writeObjectQualifier(w, q);
  return w.toBuffer().equals(OBJECT_QUALIFIER);
}

/** Reads a qualifier and returns it only when it differs from the standard bytes. */
export function readQualifierField(r: ByteReader): ObjectQualifier | undefined {
  // Nearly every message carries the standard bytes as they are: recognised without re-encoding.
  if (r.startsWith(OBJECT_QUALIFIER)) {
    r.skip(OBJECT_QUALIFIER.length);
    return undefined;
  }
  const q = readObjectQualifier(r);
  return isStandardQualifier(q) ? undefined : q;
}

/** Response IntegrityId for a request: seq + request IntegrityId, modulo 2^32 (docs/PROTOCOL.md §7.3). */
export function responseIntegrityId(sequenceNumber: number, requestIntegrityId = 0): number {
  return (sequenceNumber + requestIntegrityId) >>> 0;
}

/** Reads an error list `itemNumber VLQ, ErrorValue UInt64 VLQ` … `00`. */
export function readErrorList(r: ByteReader): ItemError[] {
  const out: ItemError[] = [];
  for (;;) {
    const itemNumber = r.vlqU32();
    if (itemNumber === 0) return out;
    out.push({ itemNumber, returnValue: r.vlqU64() });
  }
}

export function writeErrorList(w: ByteWriter, errors: readonly ItemError[]): void {
  for (const e of errors) {
    if (e.itemNumber === 0) throw new RangeError("item number 0 ends the list");
    w.vlqU32(e.itemNumber).vlqU64(e.returnValue);
  }
  w.u8(0);
}

export interface ItemError {
  /** 1-based position of the item in the request. */
  itemNumber: number;
  returnValue: bigint;
}

/** Decodes a whole body with `read`; bytes left over are a DecodeError. */
export function decodeBody<T>(body: Uint8Array, what: string, read: (r: ByteReader) => T): T {
  const r = new ByteReader(body);
  const v = read(r);
  expectEnd(r, what);
  return v;
}

/** Encodes a body with `write`. */
export function encodeBody<T>(msg: T, write: (w: ByteWriter, msg: T) => void): Buffer {
  const w = new ByteWriter(64);
  write(w, msg);
  return w.toBuffer();
}

/** A value in a value list: `itemNumber VLQ, PValue`. */
export interface ItemValue {
  /** 1-based position of the item in the request. */
  itemNumber: number;
  value: import("../pvalue.js").PValue;
}

/** Reads `itemNumber VLQ, PValue` … `00`. */
export function readValueList(r: ByteReader): ItemValue[] {
  const out: ItemValue[] = [];
  for (;;) {
    const itemNumber = r.vlqU32();
    if (itemNumber === 0) return out;
    out.push({ itemNumber, value: readPValue(r) });
  }
}

export function writeValueList(w: ByteWriter, values: readonly ItemValue[]): void {
  for (const v of values) {
    if (v.itemNumber === 0) throw new RangeError("item number 0 ends the list");
    w.vlqU32(v.itemNumber);
    writePValue(w, v.value);
  }
  w.u8(0);
}

/** An address in a multi-variable request: an item address, or a plain attribute id when the object id ≠ 0. */
export type VariableAddress = import("../address.js").ItemAddress | number;

/** FieldCount of an address list (docs/PROTOCOL.md §17): 4 + #LIDs per item address, 1 per attribute id. */
export function fieldCountOf(addresses: readonly VariableAddress[]): number {
  let n = 0;
  for (const a of addresses) n += typeof a === "number" ? 1 : 4 + a.lids.length;
  return n;
}
