/**
 * Type information lists of a type object (docs/PROTOCOL.md §20.5):
 * VartypeList (`ab`) and VarnameList (`ac`). Numbers inside are
 * little-endian except the block lengths and the attribute flags.
 */
import { DecodeError } from "../errors.js";
import { ByteReader, ByteWriter } from "./bytes.js";

/** Offset-info layouts by type number (bits 15–12 of attributeFlags). */
export type OffsetInfo =
  | { kind: "std"; type: 8; optimizedOffset: number; nonOptimizedOffset: number }
  | { kind: "structElemStd"; type: 1; nonOptimizedOffset: number; optimizedOffset: number }
  | { kind: "string"; type: 9 | 2; maxLength: number; maxLengthPlus2: number; optimizedOffset: number; nonOptimizedOffset: number }
  | {
      kind: "array1Dim";
      type: 10 | 3;
      head: [number, number];
      optimizedOffset: number;
      nonOptimizedOffset: number;
      lowerBound: number;
      count: number;
    }
  | {
      kind: "arrayMDim";
      type: 11 | 4;
      head: [number, number];
      optimizedOffset: number;
      nonOptimizedOffset: number;
      lowerBound: number;
      count: number;
      /** Six dimensions, innermost first; unused = 0. */
      lowerBounds: number[];
      counts: number[];
    }
  | {
      kind: "struct";
      type: 12 | 5;
      head: [number, number];
      optimizedOffset: number;
      nonOptimizedOffset: number;
      relationId: number;
      reserved: number[];
    }
  | {
      kind: "struct1Dim";
      type: 13 | 6;
      head: [number, number];
      optimizedOffset: number;
      nonOptimizedOffset: number;
      lowerBound: number;
      count: number;
      nonOptimizedStructSize: number;
      optimizedStructSize: number;
      relationId: number;
      reserved: number[];
    }
  | {
      kind: "structMDim";
      type: 14 | 7;
      head: [number, number];
      optimizedOffset: number;
      nonOptimizedOffset: number;
      lowerBound: number;
      count: number;
      lowerBounds: number[];
      counts: number[];
      nonOptimizedStructSize: number;
      optimizedStructSize: number;
      relationId: number;
      reserved: number[];
    }
  | {
      kind: "fbSfb";
      type: 15;
      head: [number, number];
      optimizedOffset: number;
      nonOptimizedOffset: number;
      relationId: number;
      reserved: number[];
      retainOffset: number;
      volatileOffset: number;
    }
  | {
      kind: "fbArray";
      type: 0;
      head: [number, number];
      optimizedOffset: number;
      nonOptimizedOffset: number;
      relationId: number;
      reserved: number[];
      retainOffset: number;
      volatileOffset: number;
      count: number;
      classicSize: number;
      retainSize: number;
      volatileSize: number;
      lowerBounds: number[];
      counts: number[];
    };

/** Size in bytes of each offset-info type 0…15. */
export const OFFSET_INFO_SIZES: readonly number[] = [104, 4, 12, 20, 68, 32, 48, 96, 4, 12, 20, 68, 32, 48, 96, 40];

export interface VartypeElement {
  lid: number;
  /** CRC(name ++ softdatatype), the "inner" value of §19.5. */
  symbolCrc: number;
  softdatatype: number;
  /** u16: bits 15–12 offset-info type, HMI flags, optimized, section, bit offset. */
  attributeFlags: number;
  /** u8: 0x80 retain, 0x70 non-optimized bit offset, 0x08 classic, 0x07 optimized bit offset. */
  bitOffsetInfo: number;
  offsetInfo: OffsetInfo;
}

export interface VartypeList {
  firstId: number;
  elements: VartypeElement[];
  /** Block lengths as received (the first counts the 4-byte firstId); omitted = one block. */
  blockLengths?: number[];
}

export interface VarnameList {
  names: string[];
  /** Block lengths as received; omitted = one block. */
  blockLengths?: number[];
}

export interface AttributeFlagBits {
  offsetInfoType: number;
  hmiVisible: boolean;
  hmiReadOnly: boolean;
  hmiAccessible: boolean;
  optimized: boolean;
  /** 1 input, 2 output, 3 in/out, 4 static, 5 dynamic, 6 return, 7 operand. */
  section: number;
  bitOffset: number;
}

export function describeAttributeFlags(flags: number): AttributeFlagBits {
  return {
    offsetInfoType: (flags >>> 12) & 0x0f,
    hmiVisible: (flags & 0x0800) !== 0,
    hmiReadOnly: (flags & 0x0400) !== 0,
    hmiAccessible: (flags & 0x0200) !== 0,
    optimized: (flags & 0x0080) !== 0,
    section: (flags >>> 4) & 0x07,
    bitOffset: flags & 0x07,
  };
}

/** Joins the two lists: the n-th name belongs to the n-th element. */
export interface TypeMember extends VartypeElement {
  name: string;
}

export function typeMembers(types: VartypeList, names: VarnameList): TypeMember[] {
  return types.elements.map((e, i) => ({ ...e, name: names.names[i] ?? "" }));
}

// ---------------------------------------------------------------------------

/** Reads blocks `len u16 BE | bytes` until a zero length; returns the joined bytes and the lengths. */
function readBlocks(r: ByteReader): { data: Buffer; lengths: number[] } {
  const parts: Buffer[] = [];
  const lengths: number[] = [];
  for (;;) {
    const len = r.u16();
    if (len === 0) break;
    parts.push(r.bytes(len, "type-info block"));
    lengths.push(len);
  }
  return { data: Buffer.concat(parts), lengths };
}

function writeBlocks(w: ByteWriter, data: Buffer, lengths: readonly number[] | undefined): void {
  let ls: number[];
  if (lengths !== undefined && lengths.reduce((a, b) => a + b, 0) === data.length && lengths.every((l) => l > 0 && l <= 0xffff)) {
    ls = [...lengths];
  } else {
    ls = [];
    for (let rest = data.length; rest > 0; rest -= 0xffff) ls.push(Math.min(rest, 0xffff));
  }
  let off = 0;
  for (const l of ls) {
    w.u16(l).bytes(data.subarray(off, off + l));
    off += l;
  }
  w.u16(0);
}

function u32s(r: ByteReader, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(r.u32le());
  return out;
}
function i32s(r: ByteReader, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(r.i32le());
  return out;
}

function readOffsetInfo(r: ByteReader, type: number): OffsetInfo {
  const head = (): [number, number] => [r.u16le(), r.u16le()];
  switch (type) {
    case 8: {
      const optimizedOffset = r.u16le();
      return { kind: "std", type, optimizedOffset, nonOptimizedOffset: r.u16le() };
    }
    case 1: {
      const nonOptimizedOffset = r.u16le();
      return { kind: "structElemStd", type, nonOptimizedOffset, optimizedOffset: r.u16le() };
    }
    case 9:
    case 2: {
      const maxLength = r.u16le();
      const maxLengthPlus2 = r.u16le();
      const optimizedOffset = r.u32le();
      return { kind: "string", type, maxLength, maxLengthPlus2, optimizedOffset, nonOptimizedOffset: r.u32le() };
    }
    case 10:
    case 3: {
      const h = head();
      const optimizedOffset = r.u32le();
      const nonOptimizedOffset = r.u32le();
      const lowerBound = r.i32le();
      return { kind: "array1Dim", type, head: h, optimizedOffset, nonOptimizedOffset, lowerBound, count: r.u32le() };
    }
    case 11:
    case 4: {
      const h = head();
      const optimizedOffset = r.u32le();
      const nonOptimizedOffset = r.u32le();
      const lowerBound = r.i32le();
      const count = r.u32le();
      const lowerBounds = i32s(r, 6);
      return { kind: "arrayMDim", type, head: h, optimizedOffset, nonOptimizedOffset, lowerBound, count, lowerBounds, counts: u32s(r, 6) };
    }
    case 12:
    case 5: {
      const h = head();
      const optimizedOffset = r.u32le();
      const nonOptimizedOffset = r.u32le();
      const relationId = r.u32le();
      return { kind: "struct", type, head: h, optimizedOffset, nonOptimizedOffset, relationId, reserved: u32s(r, 4) };
    }
    case 13:
    case 6: {
      const h = head();
      const optimizedOffset = r.u32le();
      const nonOptimizedOffset = r.u32le();
      const lowerBound = r.i32le();
      const count = r.u32le();
      const nonOptimizedStructSize = r.u32le();
      const optimizedStructSize = r.u32le();
      const relationId = r.u32le();
      return {
        kind: "struct1Dim",
        type,
        head: h,
        optimizedOffset,
        nonOptimizedOffset,
        lowerBound,
        count,
        nonOptimizedStructSize,
        optimizedStructSize,
        relationId,
        reserved: u32s(r, 4),
      };
    }
    case 14:
    case 7: {
      const h = head();
      const optimizedOffset = r.u32le();
      const nonOptimizedOffset = r.u32le();
      const lowerBound = r.i32le();
      const count = r.u32le();
      const lowerBounds = i32s(r, 6);
      const counts = u32s(r, 6);
      const nonOptimizedStructSize = r.u32le();
      const optimizedStructSize = r.u32le();
      const relationId = r.u32le();
      return {
        kind: "structMDim",
        type,
        head: h,
        optimizedOffset,
        nonOptimizedOffset,
        lowerBound,
        count,
        lowerBounds,
        counts,
        nonOptimizedStructSize,
        optimizedStructSize,
        relationId,
        reserved: u32s(r, 4),
      };
    }
    case 15: {
      const h = head();
      const optimizedOffset = r.u32le();
      const nonOptimizedOffset = r.u32le();
      const relationId = r.u32le();
      const reserved = u32s(r, 4);
      const retainOffset = r.u32le();
      return { kind: "fbSfb", type, head: h, optimizedOffset, nonOptimizedOffset, relationId, reserved, retainOffset, volatileOffset: r.u32le() };
    }
    case 0: {
      const h = head();
      const optimizedOffset = r.u32le();
      const nonOptimizedOffset = r.u32le();
      const relationId = r.u32le();
      const reserved = u32s(r, 4);
      const [retainOffset, volatileOffset, count, classicSize, retainSize, volatileSize] = u32s(r, 6) as [
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      const lowerBounds = i32s(r, 6);
      return {
        kind: "fbArray",
        type,
        head: h,
        optimizedOffset,
        nonOptimizedOffset,
        relationId,
        reserved,
        retainOffset,
        volatileOffset,
        count,
        classicSize,
        retainSize,
        volatileSize,
        lowerBounds,
        counts: u32s(r, 6),
      };
    }
    default:
      throw new DecodeError(`unknown offset-info type ${type}`, r.offset);
  }
}

function fixed(list: readonly number[], n: number, what: string): readonly number[] {
  if (list.length !== n) throw new RangeError(`${what} needs ${n} entries, got ${list.length}`);
  return list;
}

function writeOffsetInfo(w: ByteWriter, o: OffsetInfo): void {
  const u32 = (v: number): void => void w.u32le(v);
  const i32 = (v: number): void => void w.u32le(v >>> 0);
  switch (o.kind) {
    case "std":
      w.u16le(o.optimizedOffset).u16le(o.nonOptimizedOffset);
      return;
    case "structElemStd":
      w.u16le(o.nonOptimizedOffset).u16le(o.optimizedOffset);
      return;
    case "string":
      w.u16le(o.maxLength).u16le(o.maxLengthPlus2);
      u32(o.optimizedOffset);
      u32(o.nonOptimizedOffset);
      return;
    default:
      break;
  }
  w.u16le(o.head[0]).u16le(o.head[1]);
  u32(o.optimizedOffset);
  u32(o.nonOptimizedOffset);
  switch (o.kind) {
    case "array1Dim":
      i32(o.lowerBound);
      u32(o.count);
      return;
    case "arrayMDim":
      i32(o.lowerBound);
      u32(o.count);
      fixed(o.lowerBounds, 6, "lowerBounds").forEach(i32);
      fixed(o.counts, 6, "counts").forEach(u32);
      return;
    case "struct":
      u32(o.relationId);
      fixed(o.reserved, 4, "reserved").forEach(u32);
      return;
    case "struct1Dim":
      i32(o.lowerBound);
      u32(o.count);
      u32(o.nonOptimizedStructSize);
      u32(o.optimizedStructSize);
      u32(o.relationId);
      fixed(o.reserved, 4, "reserved").forEach(u32);
      return;
    case "structMDim":
      i32(o.lowerBound);
      u32(o.count);
      fixed(o.lowerBounds, 6, "lowerBounds").forEach(i32);
      fixed(o.counts, 6, "counts").forEach(u32);
      u32(o.nonOptimizedStructSize);
      u32(o.optimizedStructSize);
      u32(o.relationId);
      fixed(o.reserved, 4, "reserved").forEach(u32);
      return;
    case "fbSfb":
      u32(o.relationId);
      fixed(o.reserved, 4, "reserved").forEach(u32);
      u32(o.retainOffset);
      u32(o.volatileOffset);
      return;
    case "fbArray":
      u32(o.relationId);
      fixed(o.reserved, 4, "reserved").forEach(u32);
      [o.retainOffset, o.volatileOffset, o.count, o.classicSize, o.retainSize, o.volatileSize].forEach(u32);
      fixed(o.lowerBounds, 6, "lowerBounds").forEach(i32);
      fixed(o.counts, 6, "counts").forEach(u32);
      return;
  }
}

/** Reads a VartypeList (after its `ab` tag). */
export function readVartypeList(r: ByteReader): VartypeList {
  const start = r.offset;
  const { data, lengths } = readBlocks(r);
  if (data.length === 0) return { firstId: 0, elements: [], blockLengths: [] };
  const inner = new ByteReader(data);
  const firstId = inner.u32le();
  const elements: VartypeElement[] = [];
  while (!inner.atEnd) {
    const lid = inner.u32le();
    const symbolCrc = inner.u32le();
    const softdatatype = inner.u8();
    const attributeFlags = inner.u16();
    const bitOffsetInfo = inner.u8();
    let offsetInfo: OffsetInfo;
    try {
      offsetInfo = readOffsetInfo(inner, (attributeFlags >>> 12) & 0x0f);
    } catch (err) {
      if (err instanceof DecodeError) throw new DecodeError(`VartypeList element ${elements.length}: ${err.message}`, start);
      throw err;
    }
    elements.push({ lid, symbolCrc, softdatatype, attributeFlags, bitOffsetInfo, offsetInfo });
  }
  return { firstId, elements, blockLengths: lengths };
}

export function writeVartypeList(w: ByteWriter, list: VartypeList): void {
  const inner = new ByteWriter(16 + list.elements.length * 24);
  if (list.elements.length > 0 || (list.blockLengths?.length ?? 1) > 0) inner.u32le(list.firstId);
  for (const e of list.elements) {
    if ((e.attributeFlags >>> 12) !== e.offsetInfo.type) {
      throw new RangeError(`attributeFlags type ${e.attributeFlags >>> 12} does not match offset info type ${e.offsetInfo.type}`);
    }
    inner.u32le(e.lid).u32le(e.symbolCrc).u8(e.softdatatype).u16(e.attributeFlags).u8(e.bitOffsetInfo);
    writeOffsetInfo(inner, e.offsetInfo);
  }
  writeBlocks(w, inner.toBuffer(), list.blockLengths);
}

/** Reads a VarnameList (after its `ac` tag). */
export function readVarnameList(r: ByteReader): VarnameList {
  const { data, lengths } = readBlocks(r);
  const inner = new ByteReader(data);
  const names: string[] = [];
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  while (!inner.atEnd) {
    const at = inner.offset;
    const len = inner.u8();
    const bytes = inner.bytes(len, "name");
    if (inner.u8() !== 0) throw new DecodeError("VarnameList name not followed by 00", at);
    try {
      names.push(utf8.decode(bytes));
    } catch {
      throw new DecodeError("VarnameList name is not UTF-8", at);
    }
  }
  return { names, blockLengths: lengths };
}

export function writeVarnameList(w: ByteWriter, list: VarnameList): void {
  const inner = new ByteWriter(64);
  for (const name of list.names) {
    const bytes = Buffer.from(name, "utf8");
    if (bytes.length > 0xff) throw new RangeError(`member name longer than 255 bytes: ${name}`);
    inner.u8(bytes.length).bytes(bytes).u8(0);
  }
  writeBlocks(w, inner.toBuffer(), list.blockLengths);
}

export function decodeVartypeList(data: Uint8Array): VartypeList {
  const r = new ByteReader(data);
  const list = readVartypeList(r);
  if (!r.atEnd) throw new DecodeError(`${r.remaining} byte(s) after the VartypeList`, r.offset);
  return list;
}

export function decodeVarnameList(data: Uint8Array): VarnameList {
  const r = new ByteReader(data);
  const list = readVarnameList(r);
  if (!r.atEnd) throw new DecodeError(`${r.remaining} byte(s) after the VarnameList`, r.offset);
  return list;
}

export function encodeVartypeList(list: VartypeList): Buffer {
  const w = new ByteWriter(64);
  writeVartypeList(w, list);
  return w.toBuffer();
}

export function encodeVarnameList(list: VarnameList): Buffer {
  const w = new ByteWriter(64);
  writeVarnameList(w, list);
  return w.toBuffer();
}
