/**
 * PValue: the typed value of S7CommPlus (docs/PROTOCOL.md §9), in the VLQ
 * form used by every PDU body and the fixed-width form of SystemEvent
 * payloads (§8.5).
 *
 * The flag byte is kept as received (including the 0x80 bit an S7-1511
 * FW V1.0 sets on every value) so that a decoded value re-encodes to the
 * same bytes; it is masked when deciding between scalar, array and sparse
 * array.
 */
import { DecodeError } from "../errors.js";
import { ByteReader, ByteWriter } from "./bytes.js";
import { Datatype, PValueFlags, type DatatypeName } from "./constants.js";

/** Nesting limit for structs inside values (a forged frame cannot recurse deeper). */
export const MAX_PVALUE_DEPTH = 32;

export type NumberTypeName =
  | "USInt"
  | "UInt"
  | "UDInt"
  | "SInt"
  | "Int"
  | "DInt"
  | "Byte"
  | "Word"
  | "DWord"
  | "Real"
  | "LReal"
  | "RID"
  | "AID";
export type BigIntTypeName = "ULInt" | "LInt" | "LWord" | "Timestamp" | "Timespan";

export interface NullElement {
  type: "Null";
}
export interface BoolElement {
  type: "Bool";
  value: boolean;
}
export interface NumberElement {
  type: NumberTypeName;
  value: number;
}
export interface BigIntElement {
  type: BigIntTypeName;
  /** ULInt/LWord/Timestamp unsigned, LInt/Timespan signed; Timestamp in ns since 1970, Timespan in ns. */
  value: bigint;
}
/** Extra header of a Blob whose rootId is above 1 (§9.2). */
export interface BlobHeader {
  /** 8 bytes of unknown meaning (zeros seen). */
  unknown: Buffer;
  blobType: number;
}
export interface BlobElement {
  type: "Blob";
  rootId: number;
  header?: BlobHeader;
  data: Buffer;
}
export interface WStringElement {
  type: "WString";
  value: string;
  /** The bytes as received when they are not valid UTF-8 (they win over `value` when encoding). */
  raw?: Buffer;
}
export interface StructMember {
  id: number;
  value: PValue;
}
export interface StructElement {
  type: "Struct";
  id: number;
  /** Members in wire order. */
  members: StructMember[];
}
/** A struct whose members travel as raw bytes (§9.3). */
export interface PackedStructElement {
  type: "PackedStruct";
  id: number;
  interfaceTimestamp: bigint;
  transportFlags: number;
  count: number;
  /** Present when transportFlags bit 10 is set; then it is the byte count. */
  count2?: number;
  data: Buffer;
}

export type Element =
  | NullElement
  | BoolElement
  | NumberElement
  | BigIntElement
  | BlobElement
  | WStringElement
  | StructElement
  | PackedStructElement;

export interface ScalarPValue {
  kind: "scalar";
  /** The flag byte as on the wire (0 for a plain scalar; 0x80 from old firmware). */
  flags: number;
  value: Element;
}
export interface ArrayPValue {
  kind: "array";
  /** Contains 0x10 (array) or 0x20 (address array), possibly 0x80. */
  flags: number;
  datatype: DatatypeName;
  elements: Element[];
}
export interface SparseEntry {
  key: number;
  value: Element;
}
export interface SparseArrayPValue {
  kind: "sparse";
  /** Contains 0x40, possibly 0x80. */
  flags: number;
  datatype: DatatypeName;
  entries: SparseEntry[];
}
export type PValue = ScalarPValue | ArrayPValue | SparseArrayPValue;

const NUMBER_TYPES: ReadonlySet<string> = new Set([
  "USInt",
  "UInt",
  "UDInt",
  "SInt",
  "Int",
  "DInt",
  "Byte",
  "Word",
  "DWord",
  "Real",
  "LReal",
  "RID",
  "AID",
]);

const DATATYPE_NAMES: ReadonlyMap<number, DatatypeName> = new Map(
  (Object.entries(Datatype) as [DatatypeName, number][]).map(([name, id]) => [id, name]),
);

export function isPackedStructId(id: number): boolean {
  return (id > 0x90000000 && id < 0x9fffffff) || (id > 0x02000000 && id < 0x02ffffff);
}

/** Bit 10 of a packed struct's transport flags: a second count (the byte count) follows. */
export const PACKED_COUNT2_FLAG = 0x400;

/** The datatype byte an element is encoded with. */
export function elementDatatype(e: Element): DatatypeName {
  return e.type === "PackedStruct" ? "Struct" : e.type;
}

/** How a flag byte is interpreted (0x80 masked). */
export function flagKind(flags: number): PValue["kind"] {
  const f = flags & ~PValueFlags.Unknown80;
  if (f & PValueFlags.SparseArray) return "sparse";
  if (f & (PValueFlags.Array | PValueFlags.AddressArray)) return "array";
  return "scalar";
}

// ---------------------------------------------------------------------------
// Decoding

interface Mode {
  fixed: boolean;
}

/** Decodes one PValue (VLQ form) from the reader. */
export function readPValue(r: ByteReader, depth = 0): PValue {
  return readValue(r, depth, { fixed: false });
}

/** Decodes one PValue in the fixed-width form of SystemEvents (§8.5). */
export function readFixedPValue(r: ByteReader, depth = 0): PValue {
  return readValue(r, depth, { fixed: true });
}

/** Decodes a buffer that holds exactly one PValue. */
export function decodePValue(data: Uint8Array): PValue {
  const r = new ByteReader(data);
  const v = readPValue(r);
  if (!r.atEnd) throw new DecodeError(`${r.remaining} byte(s) after the PValue`, r.offset);
  return v;
}

function readValue(r: ByteReader, depth: number, mode: Mode): PValue {
  if (depth > MAX_PVALUE_DEPTH) throw new DecodeError(`PValue nesting deeper than ${MAX_PVALUE_DEPTH}`, r.offset);
  let flags: number;
  let dtId: number;
  const start = r.offset;
  if (mode.fixed) {
    r.u8();
    flags = r.u8();
    r.u8();
    dtId = r.u8();
  } else {
    flags = r.u8();
    dtId = r.u8();
  }
  const datatype = DATATYPE_NAMES.get(dtId);
  if (datatype === undefined) throw new DecodeError(`unknown PValue datatype 0x${dtId.toString(16)}`, start + 1);
  const kind = flagKind(flags);
  if (kind === "scalar") return { kind, flags, value: readElement(r, datatype, depth, mode) };
  if (kind === "array") {
    const count = mode.fixed ? r.u32() : r.vlqU32();
    if (count > r.remaining) throw new DecodeError(`array count ${count} exceeds the ${r.remaining} bytes left`, r.offset);
    const elements: Element[] = [];
    for (let i = 0; i < count; i++) elements.push(readElement(r, datatype, depth, mode));
    return { kind, flags, datatype, elements };
  }
  const entries: SparseEntry[] = [];
  for (;;) {
    const key = mode.fixed ? r.u32() : r.vlqU32();
    if (key === 0) break;
    entries.push({ key, value: readElement(r, datatype, depth, mode) });
  }
  return { kind, flags, datatype, entries };
}

function readElement(r: ByteReader, datatype: DatatypeName, depth: number, mode: Mode): Element {
  const fixed = mode.fixed;
  switch (datatype) {
    case "Null":
      return { type: "Null" };
    case "Bool":
      return { type: "Bool", value: r.u8() !== 0 };
    case "USInt":
    case "Byte":
      return { type: datatype, value: r.u8() };
    case "SInt":
      return { type: datatype, value: r.i8() };
    case "UInt":
    case "Word":
      return { type: datatype, value: r.u16() };
    case "Int":
      return { type: datatype, value: r.i16() };
    case "UDInt":
    case "AID":
      return { type: datatype, value: fixed ? r.u32() : r.vlqU32() };
    case "DInt":
      return { type: datatype, value: fixed ? r.i32() : r.vlqI32() };
    case "DWord":
    case "RID":
      return { type: datatype, value: r.u32() };
    case "Real":
      return { type: datatype, value: r.f32() };
    case "LReal":
      return { type: datatype, value: r.f64() };
    case "ULInt":
      return { type: datatype, value: fixed ? r.u64() : r.vlqU64() };
    case "LInt":
    case "Timespan":
      return { type: datatype, value: fixed ? r.i64() : r.vlqI64() };
    case "LWord":
    case "Timestamp":
      return { type: datatype, value: r.u64() };
    case "Blob":
      return readBlob(r, fixed);
    case "WString": {
      const len = fixed ? r.u32() : r.vlqU32();
      const raw = r.bytes(len, "WString");
      return wstringFromBytes(raw);
    }
    case "Struct":
      return readStruct(r, depth, mode);
    case "Variant":
    case "S7String":
      throw new DecodeError(`PValue datatype ${datatype} cannot be decoded`, r.offset);
  }
}

function readBlob(r: ByteReader, fixed: boolean): BlobElement {
  const rootId = fixed ? r.u32() : r.vlqU32();
  let header: BlobHeader | undefined;
  if (rootId > 1) {
    const unknown = r.bytes(8, "Blob header");
    const blobType = r.u8();
    if (blobType !== 0x02 && blobType !== 0x03) {
      throw new DecodeError(`Blob type 0x${blobType.toString(16)} is not supported`, r.offset - 1);
    }
    header = { unknown, blobType };
  }
  const size = fixed ? r.u32() : r.vlqU32();
  const data = r.bytes(size, "Blob");
  return header === undefined ? { type: "Blob", rootId, data } : { type: "Blob", rootId, header, data };
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

function wstringFromBytes(raw: Buffer): WStringElement {
  try {
    const value = UTF8.decode(raw);
    if (Buffer.from(value, "utf8").equals(raw)) return { type: "WString", value };
  } catch {
    // not UTF-8: keep the bytes
  }
  return { type: "WString", value: raw.toString("latin1"), raw };
}

function readStruct(r: ByteReader, depth: number, mode: Mode): StructElement | PackedStructElement {
  const id = r.u32();
  if (isPackedStructId(id)) {
    const interfaceTimestamp = r.u64();
    const transportFlags = mode.fixed ? r.u32() : r.vlqU32();
    const count = mode.fixed ? r.u32() : r.vlqU32();
    let count2: number | undefined;
    if (transportFlags & PACKED_COUNT2_FLAG) count2 = mode.fixed ? r.u32() : r.vlqU32();
    const data = r.bytes(count2 ?? count, "packed struct");
    const packed: PackedStructElement = { type: "PackedStruct", id, interfaceTimestamp, transportFlags, count, data };
    if (count2 !== undefined) packed.count2 = count2;
    return packed;
  }
  const members: StructMember[] = [];
  for (;;) {
    const memberId = mode.fixed ? r.u32() : r.vlqU32();
    if (memberId === 0) break;
    members.push({ id: memberId, value: readValue(r, depth + 1, mode) });
  }
  return { type: "Struct", id, members };
}

// ---------------------------------------------------------------------------
// Encoding

/** Appends one PValue (VLQ form). Throws RangeError for values that do not fit their type. */
export function writePValue(w: ByteWriter, v: PValue): void {
  writeValue(w, v, { fixed: false }, 0);
}

/** Appends one PValue in the fixed-width form of SystemEvents (§8.5). */
export function writeFixedPValue(w: ByteWriter, v: PValue): void {
  writeValue(w, v, { fixed: true }, 0);
}

export function encodePValue(v: PValue): Buffer {
  const w = new ByteWriter(64);
  writePValue(w, v);
  return w.toBuffer();
}

function writeValue(w: ByteWriter, v: PValue, mode: Mode, depth: number): void {
  if (depth > MAX_PVALUE_DEPTH) throw new RangeError(`PValue nesting deeper than ${MAX_PVALUE_DEPTH}`);
  if (!Number.isInteger(v.flags) || v.flags < 0 || v.flags > 0xff) throw new RangeError(`bad PValue flags ${v.flags}`);
  if (flagKind(v.flags) !== v.kind) throw new RangeError(`PValue flags 0x${v.flags.toString(16)} do not match kind ${v.kind}`);
  const datatype = v.kind === "scalar" ? elementDatatype(v.value) : v.datatype;
  if (mode.fixed) w.u8(0).u8(v.flags).u8(0).u8(Datatype[datatype]);
  else w.u8(v.flags).u8(Datatype[datatype]);
  if (v.kind === "scalar") {
    writeElement(w, v.value, mode, depth);
  } else if (v.kind === "array") {
    if (mode.fixed) w.u32(v.elements.length);
    else w.vlqU32(v.elements.length);
    for (const e of v.elements) {
      if (elementDatatype(e) !== datatype) throw new RangeError(`array of ${datatype} holds a ${e.type}`);
      writeElement(w, e, mode, depth);
    }
  } else {
    for (const entry of v.entries) {
      if (entry.key === 0) throw new RangeError("sparse array key 0 is the terminator");
      if (elementDatatype(entry.value) !== datatype) throw new RangeError(`sparse array of ${datatype} holds a ${entry.value.type}`);
      if (mode.fixed) w.u32(entry.key);
      else w.vlqU32(entry.key);
      writeElement(w, entry.value, mode, depth);
    }
    if (mode.fixed) w.u32(0);
    else w.u8(0);
  }
}

function checkInt(value: number, min: number, max: number, type: string): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${type} value out of range: ${value}`);
  return value;
}

function checkBig(value: bigint, signed: boolean, type: string): bigint {
  const ok = signed ? BigInt.asIntN(64, value) === value : BigInt.asUintN(64, value) === value;
  if (!ok) throw new RangeError(`${type} value out of range: ${value}`);
  return value;
}

function writeElement(w: ByteWriter, e: Element, mode: Mode, depth: number): void {
  const fixed = mode.fixed;
  switch (e.type) {
    case "Null":
      return;
    case "Bool":
      w.u8(e.value ? 1 : 0);
      return;
    case "USInt":
    case "Byte":
      w.u8(checkInt(e.value, 0, 0xff, e.type));
      return;
    case "SInt":
      w.u8(checkInt(e.value, -0x80, 0x7f, e.type));
      return;
    case "UInt":
    case "Word":
      w.u16(checkInt(e.value, 0, 0xffff, e.type));
      return;
    case "Int":
      w.u16(checkInt(e.value, -0x8000, 0x7fff, e.type));
      return;
    case "UDInt":
    case "AID":
      checkInt(e.value, 0, 0xffffffff, e.type);
      if (fixed) w.u32(e.value);
      else w.vlqU32(e.value);
      return;
    case "DInt":
      checkInt(e.value, -0x80000000, 0x7fffffff, e.type);
      if (fixed) w.u32(e.value);
      else w.vlqI32(e.value);
      return;
    case "DWord":
    case "RID":
      w.u32(checkInt(e.value, 0, 0xffffffff, e.type));
      return;
    case "Real":
      w.f32(e.value);
      return;
    case "LReal":
      w.f64(e.value);
      return;
    case "ULInt":
      checkBig(e.value, false, e.type);
      if (fixed) w.u64(e.value);
      else w.vlqU64(e.value);
      return;
    case "LInt":
    case "Timespan":
      checkBig(e.value, true, e.type);
      if (fixed) w.u64(e.value);
      else w.vlqI64(e.value);
      return;
    case "LWord":
    case "Timestamp":
      w.u64(checkBig(e.value, false, e.type));
      return;
    case "Blob":
      checkInt(e.rootId, 0, 0xffffffff, "Blob rootId");
      if (fixed) w.u32(e.rootId);
      else w.vlqU32(e.rootId);
      if (e.rootId > 1) {
        if (e.header === undefined || e.header.unknown.length !== 8) throw new RangeError("a Blob with rootId > 1 needs an 8-byte header");
        w.bytes(e.header.unknown).u8(e.header.blobType);
      }
      if (fixed) w.u32(e.data.length);
      else w.vlqU32(e.data.length);
      w.bytes(e.data);
      return;
    case "WString": {
      const bytes = e.raw ?? Buffer.from(e.value, "utf8");
      if (fixed) w.u32(bytes.length);
      else w.vlqU32(bytes.length);
      w.bytes(bytes);
      return;
    }
    case "Struct":
      if (isPackedStructId(e.id)) throw new RangeError(`struct id 0x${e.id.toString(16)} requires the packed form`);
      w.u32(checkInt(e.id, 0, 0xffffffff, "struct id"));
      for (const m of e.members) {
        if (m.id === 0) throw new RangeError("struct member id 0 is the terminator");
        if (fixed) w.u32(m.id);
        else w.vlqU32(m.id);
        writeValue(w, m.value, mode, depth + 1);
      }
      if (fixed) w.u32(0);
      else w.u8(0);
      return;
    case "PackedStruct": {
      if (!isPackedStructId(e.id)) throw new RangeError(`struct id 0x${e.id.toString(16)} is not a packed struct id`);
      const hasCount2 = (e.transportFlags & PACKED_COUNT2_FLAG) !== 0;
      if (hasCount2 !== (e.count2 !== undefined)) throw new RangeError("count2 must be present exactly when transportFlags bit 10 is set");
      if ((e.count2 ?? e.count) !== e.data.length) throw new RangeError("packed struct byte count does not match its data");
      w.u32(e.id).u64(e.interfaceTimestamp);
      if (fixed) {
        w.u32(e.transportFlags).u32(e.count);
        if (e.count2 !== undefined) w.u32(e.count2);
      } else {
        w.vlqU32(e.transportFlags).vlqU32(e.count);
        if (e.count2 !== undefined) w.vlqU32(e.count2);
      }
      w.bytes(e.data);
      return;
    }
  }
}

// ---------------------------------------------------------------------------
// Construction helpers

function scalar(value: Element, flags = 0): ScalarPValue {
  return { kind: "scalar", flags, value };
}

/** Short constructors for common values. */
export const pv = {
  scalar,
  null: (): ScalarPValue => scalar({ type: "Null" }),
  bool: (value: boolean): ScalarPValue => scalar({ type: "Bool", value }),
  number: (type: NumberTypeName, value: number): ScalarPValue => scalar({ type, value }),
  bigint: (type: BigIntTypeName, value: bigint): ScalarPValue => scalar({ type, value }),
  usint: (value: number): ScalarPValue => scalar({ type: "USInt", value }),
  uint: (value: number): ScalarPValue => scalar({ type: "UInt", value }),
  udint: (value: number): ScalarPValue => scalar({ type: "UDInt", value }),
  int: (value: number): ScalarPValue => scalar({ type: "Int", value }),
  dint: (value: number): ScalarPValue => scalar({ type: "DInt", value }),
  lint: (value: bigint): ScalarPValue => scalar({ type: "LInt", value }),
  rid: (value: number): ScalarPValue => scalar({ type: "RID", value }),
  aid: (value: number): ScalarPValue => scalar({ type: "AID", value }),
  wstring: (value: string): ScalarPValue => scalar({ type: "WString", value }),
  blob: (data: Uint8Array, rootId = 0): ScalarPValue => scalar({ type: "Blob", rootId, data: Buffer.from(data) }),
  struct: (id: number, members: readonly (readonly [number, PValue])[]): ScalarPValue =>
    scalar({ type: "Struct", id, members: members.map(([memberId, value]) => ({ id: memberId, value })) }),
  array: (datatype: DatatypeName, elements: Element[], flags: number = PValueFlags.Array): ArrayPValue => ({
    kind: "array",
    flags,
    datatype,
    elements,
  }),
  /** USInt array (`10 02 n …`), e.g. a String or a 20-byte challenge. */
  usintArray: (bytes: Uint8Array): ArrayPValue => ({
    kind: "array",
    flags: PValueFlags.Array,
    datatype: "USInt",
    elements: Array.from(bytes, (value): Element => ({ type: "USInt", value })),
  }),
  /** UDInt address array (`20 04 n …`). */
  addressArray: (values: readonly number[]): ArrayPValue => ({
    kind: "array",
    flags: PValueFlags.AddressArray,
    datatype: "UDInt",
    elements: values.map((value): Element => ({ type: "UDInt", value })),
  }),
};

// ---------------------------------------------------------------------------
// Reading helpers

/** The member of a (non-packed) Struct PValue, or undefined. */
export function structMember(v: PValue, id: number): PValue | undefined {
  if (v.kind !== "scalar" || v.value.type !== "Struct") return undefined;
  return v.value.members.find((m) => m.id === id)?.value;
}

/** The number of a scalar numeric PValue (any integer or float type), or undefined. */
export function numberOf(v: PValue | undefined): number | undefined {
  if (v === undefined || v.kind !== "scalar") return undefined;
  return NUMBER_TYPES.has(v.value.type) ? (v.value as NumberElement).value : undefined;
}

/** The string of a scalar WString PValue, or undefined. */
export function stringOf(v: PValue | undefined): string | undefined {
  return v !== undefined && v.kind === "scalar" && v.value.type === "WString" ? v.value.value : undefined;
}

/** The bytes of a USInt/Byte array or a Blob, or undefined. */
export function bytesOf(v: PValue | undefined): Buffer | undefined {
  if (v === undefined) return undefined;
  if (v.kind === "scalar") return v.value.type === "Blob" ? v.value.data : undefined;
  if (v.kind !== "array" || (v.datatype !== "USInt" && v.datatype !== "Byte")) return undefined;
  return Buffer.from(v.elements.map((e) => (e.type === "USInt" || e.type === "Byte" ? e.value : 0)));
}
