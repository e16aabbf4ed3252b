/**
 * The simulated controller's data blocks: their types (with LIDs and
 * type-info RIDs as a real CPU reports them, docs/SIMULATOR.md §12), the values
 * of every leaf, symbolic resolution of item addresses (docs/PROTOCOL.md §19.2) with the
 * symbol-CRC check, and the classic byte image of non-optimized blocks
 * (docs/PROTOCOL.md §19.3).
 */
import { ConfigError } from "../errors.js";
import { Ids, Softdatatype } from "../protocol/constants.js";
import { symbolCrc, type SymbolPathElement } from "../protocol/crc.js";
import { memberInnerCrc, arrayMemberInnerCrc } from "../protocol/crc.js";
import type { OffsetInfo, VartypeElement } from "../protocol/typeinfo.js";
import { PlcDate } from "../values/plc-time.js";
import { encodeValue } from "../values/value-map.js";
import { SOFTDATATYPE, elementCount, parsePlcTypeName, softdatatypeOf, type ArrayType, type PlcType, type StructType } from "../values/plc-type.js";
import { symbolPathElement } from "../values/symbol-crc.js";
import { arrayElementPosition } from "../protocol/array-lid.js";
import type { Animation, DataBlockConfig, MemberConfig } from "./config.js";

/** Per-item error codes (low 16 bits, docs/SIMULATOR.md §9). */
export const ItemCode = {
  ObjectNotFound: -12,
  InvalidCRC: -17,
  InvalidValueType: -2,
  InvalidValueRange: -61,
  AccessDenied: -100,
  InvalidLID: -255,
} as const;

export interface SimMember {
  name: string;
  lid: number;
  type: PlcType;
  /** The member's own struct type (struct, or the element of an array of struct). */
  struct?: SimStruct;
  /** Byte offset (and bit) in a non-optimized block, and the bytes it covers (1 for a Bool). */
  classic?: { offset: number; bit?: number; size: number };
  animation?: { kind: Animation; periodMs: number; amplitude: number };
}

export interface SimStruct {
  rid: number;
  typeName?: string;
  members: SimMember[];
  /** Members by LID (built on first use; the member list does not change after start). */
  byLid?: Map<number, SimMember>;
}

export interface SimDataBlock {
  name: string;
  number: number;
  area: number;
  optimized: boolean;
  type: SimStruct;
  /** Size of the classic image (non-optimized blocks). */
  classicSize: number;
  /** The members of a non-optimized block by byte offset (Bools of one byte share it). */
  classicMembers: ClassicMember[];
  /** Leaf values by key (LID path joined with "."). */
  values: Map<string, unknown>;
}

/** A member of a non-optimized block and the bytes [start, end) it occupies. */
export interface ClassicMember {
  start: number;
  end: number;
  key: string;
  member: SimMember;
}

/** Work done for absolute access, counted so tests can compare costs without timing. */
export interface ClassicWork {
  /** Members whose bytes were built or decoded. */
  membersVisited: number;
  /** Bytes of classic image built. */
  bytesBuilt: number;
}

/** What an item address points at. */
export type Resolved =
  | { kind: "typeRid"; rid: number }
  | { kind: "value"; db: SimDataBlock; key: string; type: PlcType; member: SimMember }
  | { kind: "dtlPart"; db: SimDataBlock; key: string; part: number; type: PlcType; member: SimMember }
  | { kind: "element"; db: SimDataBlock; key: string; index: number; type: PlcType; array: ArrayType; member: SimMember }
  | { kind: "error"; code: number };

const FIRST_LID = 10;
/** DTL members by LID − 9 (docs/PROTOCOL.md §19.2) and their types. */
export const DTL_PARTS = ["YEAR", "MONTH", "DAY", "WEEKDAY", "HOUR", "MINUTE", "SECOND", "NANOSECOND"] as const;
const DTL_PART_TYPES = ["UInt", "USInt", "USInt", "USInt", "USInt", "USInt", "USInt", "UDInt"] as const;
const DB_TYPE_RID_BASE = 0x92000000;
const UDT_RID_BASE = 0x91000000;

export class TagTable {
  readonly blocks: SimDataBlock[] = [];
  private readonly byNumber = new Map<number, SimDataBlock>();
  private readonly structs = new Map<number, SimStruct>();
  private nextUdtRid = UDT_RID_BASE + 1;

  /** false: non-zero symbol CRCs are accepted without a check. */
  checkCrc = true;

  /** Work of absolute access since start (diagnostics and tests). */
  readonly classicWork: ClassicWork = { membersVisited: 0, bytesBuilt: 0 };

  constructor(configs: DataBlockConfig[]) {
    for (const c of configs) {
      const optimized = c.optimized ?? true;
      const type = this.buildStruct(c.members, `DB "${c.name}"`, DB_TYPE_RID_BASE + c.number, undefined);
      const db: SimDataBlock = { name: c.name, number: c.number, area: (Ids.DBArea + c.number) >>> 0, optimized, type, classicSize: 0, classicMembers: [], values: new Map() };
      if (!optimized) {
        db.classicSize = layoutClassic(type, c.name);
        // Only elementary and string members at the top level have a classic layout (layoutClassic).
        db.classicMembers = type.members.map((m) => ({ start: m.classic!.offset, end: m.classic!.offset + m.classic!.size, key: `${m.lid}`, member: m }));
      }
      this.initValues(db, type, "", c.members, `DB "${c.name}"`);
      this.blocks.push(db);
      this.byNumber.set(c.number, db);
    }
  }

  block(area: number): SimDataBlock | undefined {
    const n = (area - Ids.DBArea) >>> 0;
    return n <= 0xffff ? this.byNumber.get(n) : undefined;
  }

  blockByName(name: string): SimDataBlock | undefined {
    return this.blocks.find((b) => b.name === name);
  }

  struct(rid: number): SimStruct | undefined {
    return this.structs.get(rid);
  }

  private readonly resolved = new Map<string, Resolved>();

  /** Forgets cached resolutions after the program (names, members) was changed in place. */
  programChanged(): void {
    this.resolved.clear();
  }

  /** Resolves DB area + LIDs (symbolic access) with the optional CRC check; results are cached. */
  resolve(area: number, lids: number[], crcGiven: number): Resolved {
    const crc = this.checkCrc ? crcGiven : 0;
    const key = `${area}:${crc}:${lids.join(".")}`;
    let r = this.resolved.get(key);
    if (r === undefined) {
      r = this.resolveUncached(area, lids, crc);
      if (this.resolved.size < 100_000) this.resolved.set(key, r);
    }
    return r;
  }

  private resolveUncached(area: number, lids: number[], crc: number): Resolved {
    const db = this.block(area);
    if (db === undefined) return { kind: "error", code: ItemCode.ObjectNotFound };
    if (lids.length === 1 && lids[0] === 1) return { kind: "typeRid", rid: db.type.rid };
    let struct: SimStruct | undefined = db.type;
    let member: SimMember | undefined;
    const keyParts: number[] = [];
    const crcPath: SymbolPathElement[] = [];
    let i = 0;
    while (i < lids.length) {
      if (struct === undefined) return { kind: "error", code: ItemCode.InvalidLID };
      const lid = lids[i++]!;
      struct.byLid ??= new Map(struct.members.map((m) => [m.lid, m]));
      member = struct.byLid.get(lid);
      if (member === undefined) return { kind: "error", code: ItemCode.InvalidLID };
      keyParts.push(lid);
      crcPath.push(symbolPathElement(member.name, member.type));
      struct = undefined;
      if (member.type.kind === "struct") {
        struct = member.struct;
        continue;
      }
      if (member.type.kind === "array") {
        if (i === lids.length) break; // the whole array
        const el = member.type.element;
        const index = arrayElementPosition(member.type.dimensions, lids[i++]!, el.kind === "elementary" && el.name === "Bool");
        if (index === undefined) return { kind: "error", code: ItemCode.InvalidValueRange };
        if (member.type.element.kind === "struct") {
          if (lids[i++] !== 1) return { kind: "error", code: ItemCode.InvalidLID };
          keyParts.push(index, 1);
          struct = member.struct;
          continue;
        }
        if (i !== lids.length) return { kind: "error", code: ItemCode.InvalidLID };
        if (crc !== 0 && crc !== symbolCrc(crcPath)) return { kind: "error", code: ItemCode.InvalidCRC };
        const key = keyParts.join(".");
        if (member.type.element.kind === "string") {
          return { kind: "value", db, key: `${key}.${index}`, type: member.type.element, member };
        }
        return { kind: "element", db, key, index, type: member.type.element, array: member.type, member };
      }
      if (i !== lids.length && member.type.kind === "string" && lids.length - i === 2 && lids[i] === 0) {
        // WinCC addresses a String with the extra LIDs 0 and 256 and reads it as USInt[256] (docs/PROTOCOL.md §19.2).
        if (crc !== 0 && crc !== symbolCrc(crcPath)) return { kind: "error", code: ItemCode.InvalidCRC };
        return { kind: "value", db, key: keyParts.join("."), type: member.type, member };
      }
      if (i !== lids.length) {
        // DTL members are addressable one by one: YEAR 9 … NANOSECOND 16 (docs/PROTOCOL.md §19.2).
        const part = lids[i]!;
        if (member.type.kind === "elementary" && member.type.name === "DTL" && i + 1 === lids.length && part >= 9 && part <= 16) {
          if (crc !== 0 && crc !== symbolCrc([...crcPath, { name: DTL_PARTS[part - 9]!, softdatatype: SOFTDATATYPE[DTL_PART_TYPES[part - 9]!] }])) {
            return { kind: "error", code: ItemCode.InvalidCRC };
          }
          return { kind: "dtlPart", db, key: keyParts.join("."), part, type: { kind: "elementary", name: DTL_PART_TYPES[part - 9]! }, member };
        }
        return { kind: "error", code: ItemCode.InvalidLID };
      }
    }
    if (member === undefined) return { kind: "error", code: ItemCode.InvalidLID };
    if (crc !== 0 && crc !== symbolCrc(crcPath)) return { kind: "error", code: ItemCode.InvalidCRC };
    if (member.type.kind === "struct" || (member.type.kind === "array" && member.type.element.kind !== "elementary")) {
      // Whole structs are read member by member by every client we know; refuse like an unknown LID.
      return { kind: "error", code: ItemCode.InvalidLID };
    }
    return { kind: "value", db, key: keyParts.join("."), type: member.type, member };
  }

  /**
   * The members of a non-optimized block that overlap bytes [offset, offset + length),
   * found by binary search: the cost follows the bytes asked for, not the block size.
   */
  classicMembersIn(db: SimDataBlock, offset: number, length: number): ClassicMember[] {
    const all = db.classicMembers;
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (all[mid]!.end <= offset) lo = mid + 1;
      else hi = mid;
    }
    const out: ClassicMember[] = [];
    for (let i = lo; i < all.length && all[i]!.start < offset + length; i++) out.push(all[i]!);
    this.classicWork.membersVisited += out.length;
    return out;
  }

  /** Every leaf of a block with its key, type and member (for animation). */
  *leaves(db: SimDataBlock): Generator<{ key: string; type: PlcType; member: SimMember }> {
    yield* walkLeaves(db.type, "");
  }

  /** The VartypeList elements and names of a struct type (docs/PROTOCOL.md §20.5). */
  typeInfo(struct: SimStruct, optimized: boolean): { elements: VartypeElement[]; names: string[] } {
    return {
      elements: struct.members.map((m) => vartypeElement(m, optimized)),
      names: struct.members.map((m) => m.name),
    };
  }

  private buildStruct(members: MemberConfig[], where: string, rid: number, typeName: string | undefined): SimStruct {
    const struct: SimStruct = { rid, ...(typeName ? { typeName } : {}), members: [] };
    this.structs.set(rid, struct);
    const seen = new Set<string>();
    const usedLids = new Set<number>();
    let nextLid = Math.max(FIRST_LID - 1, ...members.map((m) => m.lid ?? 0)) + 1;
    members.forEach((m, i) => {
      const at = `${where}.${m.name ?? `[${i}]`}`;
      if (typeof m.name !== "string" || m.name === "") throw new ConfigError(`${where}: member ${i} has no name`);
      if (seen.has(m.name)) throw new ConfigError(`${at}: member defined twice`);
      seen.add(m.name);
      if (m.lid !== undefined && (!Number.isInteger(m.lid) || m.lid < 2 || m.lid > 0xffffff)) throw new ConfigError(`${at}: lid ${m.lid} is not a whole number ≥ 2`);
      const lid = m.lid ?? nextLid++;
      if (usedLids.has(lid)) throw new ConfigError(`${at}: lid ${lid} used twice`);
      usedLids.add(lid);
      const member: SimMember = { name: m.name, lid, type: { kind: "struct", members: [] } };
      if (m.type === undefined || /^struct$/i.test(m.type)) {
        member.struct = this.buildStruct(m.members ?? [], at, this.nextUdtRid++, m.typeName);
        member.type = structTypeOf(member.struct);
      } else {
        const arrayOfStruct = /^array\s*\[([^\]]+)\]\s+of\s+struct$/i.exec(m.type.trim());
        if (arrayOfStruct) {
          const dims = parsePlcTypeName(`Array[${arrayOfStruct[1]}] of Int`) as ArrayType;
          member.struct = this.buildStruct(m.members ?? [], at, this.nextUdtRid++, m.typeName);
          member.type = { kind: "array", element: structTypeOf(member.struct), dimensions: dims.dimensions };
        } else {
          try {
            member.type = parsePlcTypeName(m.type);
          } catch (err) {
            throw new ConfigError(`${at}: ${(err as Error).message}`);
          }
          if (member.type.kind === "array" && member.type.dimensions.length > 1 && member.type.element.kind !== "elementary") {
            throw new ConfigError(`${at}: multi-dimensional arrays of strings are not simulated`);
          }
        }
      }
      if (m.animation !== undefined) {
        if (!["counter", "sine", "toggle"].includes(m.animation)) throw new ConfigError(`${at}: unknown animation "${m.animation}"`);
        member.animation = { kind: m.animation, periodMs: m.periodMs ?? (m.animation === "sine" ? 10_000 : 1000), amplitude: m.amplitude ?? 100 };
      }
      struct.members.push(member);
    });
    return struct;
  }

  private initValues(db: SimDataBlock, struct: SimStruct, prefix: string, configs: MemberConfig[], where: string): void {
    struct.members.forEach((m, i) => {
      const cfg = configs[i]!;
      const key = prefix === "" ? `${m.lid}` : `${prefix}.${m.lid}`;
      const at = `${where}.${m.name}`;
      if (m.type.kind === "struct") return this.initValues(db, m.struct!, key, cfg.members ?? [], at);
      if (m.type.kind === "array" && m.type.element.kind === "struct") {
        for (let k = 0; k < elementCount(m.type); k++) this.initValues(db, m.struct!, `${key}.${k}.1`, cfg.members ?? [], `${at}[${k}]`);
        return;
      }
      if (m.type.kind === "array" && m.type.element.kind === "string") {
        const given = Array.isArray(cfg.value) ? cfg.value : [];
        for (let k = 0; k < elementCount(m.type); k++) db.values.set(`${key}.${k}`, checked(m.type.element, given[k] ?? "", `${at}[${k}]`));
        return;
      }
      db.values.set(key, checked(m.type, cfg.value === undefined ? zeroValue(m.type) : fromJson(m.type, cfg.value), at));
    });
  }
}

function structTypeOf(s: SimStruct): StructType {
  return { kind: "struct", ...(s.typeName ? { typeName: s.typeName } : {}), members: s.members.map((m) => ({ name: m.name, lid: m.lid, type: m.type })) };
}

function* walkLeaves(struct: SimStruct, prefix: string): Generator<{ key: string; type: PlcType; member: SimMember }> {
  for (const m of struct.members) {
    const key = prefix === "" ? `${m.lid}` : `${prefix}.${m.lid}`;
    if (m.type.kind === "struct") yield* walkLeaves(m.struct!, key);
    else if (m.type.kind === "array" && m.type.element.kind === "struct") {
      for (let k = 0; k < elementCount(m.type); k++) yield* walkLeaves(m.struct!, `${key}.${k}.1`);
    } else if (m.type.kind === "array" && m.type.element.kind === "string") {
      for (let k = 0; k < elementCount(m.type); k++) yield { key: `${key}.${k}`, type: m.type.element, member: m };
    } else yield { key, type: m.type, member: m };
  }
}

function checked(type: PlcType, value: unknown, at: string): unknown {
  try {
    encodeValue(type, value, { tag: at });
  } catch (err) {
    throw new ConfigError(`start value: ${(err as Error).message}`);
  }
  return value;
}

/** JSON start values → JS values of docs/NODES.md §6 (64-bit as BigInt, dates as Date). */
export function fromJson(type: PlcType, value: unknown): unknown {
  if (type.kind === "array") {
    if (!Array.isArray(value)) return value;
    const inner: PlcType = type.dimensions.length > 1 ? { ...type, dimensions: type.dimensions.slice(1) } : type.element;
    return value.map((v) => fromJson(inner, v));
  }
  if (type.kind !== "elementary") return value;
  switch (type.name) {
    case "ULInt":
    case "LInt":
    case "LWord":
    case "LTime":
    case "LTOD":
      return typeof value === "string" || typeof value === "number" ? BigInt(value) : value;
    case "Date":
    case "Date_And_Time":
      return typeof value === "string" ? new Date(value) : value;
    case "DTL":
    case "LDT":
      if (typeof value === "string") {
        const d = new Date(value);
        return new PlcDate(d.getTime(), (d.getTime() % 1000) * 1_000_000);
      }
      return value;
    default:
      return value;
  }
}

export function zeroValue(type: PlcType): unknown {
  switch (type.kind) {
    case "string":
      return "";
    case "struct":
      return {};
    case "array": {
      const inner: PlcType = type.dimensions.length > 1 ? { ...type, dimensions: type.dimensions.slice(1) } : type.element;
      return Array.from({ length: type.dimensions[0]!.count }, () => zeroValue(inner));
    }
    case "elementary":
      switch (type.name) {
        case "Bool":
          return false;
        case "Char":
        case "WChar":
          return " ";
        case "ULInt":
        case "LInt":
        case "LWord":
        case "LTime":
        case "LTOD":
          return 0n;
        case "Date":
          return new Date(Date.UTC(1990, 0, 1));
        case "Date_And_Time":
          return new Date(Date.UTC(1990, 0, 1));
        case "DTL":
          return new PlcDate(Date.UTC(1970, 0, 1), 0);
        case "LDT":
          return new PlcDate(0, 0);
        default:
          return 0;
      }
  }
}

// ---------------------------------------------------------------------------
// Type info (docs/PROTOCOL.md §20.5, docs/SIMULATOR.md §12)

const SECTION_STATIC = 4 << 4;
const HMI_VISIBLE = 0x0800;
const HMI_ACCESSIBLE = 0x0200;
const OPTIMIZED = 0x0080;

function vartypeElement(m: SimMember, optimized: boolean): VartypeElement {
  const t = m.type;
  const off = m.classic?.offset ?? 0;
  let softdatatype: number;
  let offsetInfo: OffsetInfo;
  let symbolCrcValue: number;
  if (t.kind === "array") {
    const el = t.element;
    // A CPU reports the elements of a Bool array as BBOOL (docs/PROTOCOL.md §20.6).
    softdatatype = el.kind === "struct" ? Softdatatype.Struct : el.kind === "elementary" && el.name === "Bool" ? Softdatatype.BBool : SOFTDATATYPE[el.name];
    symbolCrcValue = arrayMemberInnerCrc(m.name, softdatatype, t.dimensions[0]!.lower);
    const first = t.dimensions[0]!;
    if (el.kind === "struct") {
      offsetInfo = { kind: "struct1Dim", type: 13, head: [0, 0], optimizedOffset: 0, nonOptimizedOffset: off, lowerBound: first.lower, count: elementCount(t), nonOptimizedStructSize: 0, optimizedStructSize: 0, relationId: m.struct!.rid, reserved: [0, 0, 0, 0] };
    } else if (t.dimensions.length === 1) {
      offsetInfo = { kind: "array1Dim", type: 10, head: [0, 0], optimizedOffset: 0, nonOptimizedOffset: off, lowerBound: first.lower, count: first.count };
    } else {
      // Innermost dimension first, six slots.
      const dims = [...t.dimensions].reverse();
      const lowerBounds = [0, 0, 0, 0, 0, 0].map((_, i) => dims[i]?.lower ?? 0);
      const counts = [0, 0, 0, 0, 0, 0].map((_, i) => dims[i]?.count ?? 0);
      offsetInfo = { kind: "arrayMDim", type: 11, head: [0, 0], optimizedOffset: 0, nonOptimizedOffset: off, lowerBound: first.lower, count: elementCount(t), lowerBounds, counts };
    }
  } else if (t.kind === "struct") {
    softdatatype = Softdatatype.Struct;
    symbolCrcValue = memberInnerCrc(m.name, softdatatype);
    offsetInfo = { kind: "struct", type: 12, head: [0, 0], optimizedOffset: 0, nonOptimizedOffset: off, relationId: m.struct!.rid, reserved: [0, 0, 0, 0] };
  } else if (t.kind === "string") {
    softdatatype = SOFTDATATYPE[t.name];
    symbolCrcValue = memberInnerCrc(m.name, softdatatype);
    offsetInfo = { kind: "string", type: 9, maxLength: t.maxLength, maxLengthPlus2: t.maxLength + 2, optimizedOffset: 0, nonOptimizedOffset: off };
  } else {
    softdatatype = softdatatypeOf(t);
    symbolCrcValue = memberInnerCrc(m.name, softdatatype);
    offsetInfo = { kind: "std", type: 8, optimizedOffset: 0, nonOptimizedOffset: off };
  }
  const attributeFlags = (offsetInfo.type << 12) | HMI_VISIBLE | HMI_ACCESSIBLE | (optimized ? OPTIMIZED : 0) | SECTION_STATIC;
  const bit = m.classic?.bit ?? 0;
  return { lid: m.lid, symbolCrc: symbolCrcValue, softdatatype, attributeFlags, bitOffsetInfo: optimized ? 0 : bit << 4, offsetInfo };
}

// ---------------------------------------------------------------------------
// Classic layout of non-optimized blocks (S7 rules: Bools packed, others at even addresses)

const CLASSIC_SIZE: Partial<Record<string, number>> = {
  Byte: 1, Char: 1, USInt: 1, SInt: 1,
  Word: 2, Int: 2, UInt: 2,
  DWord: 4, DInt: 4, UDInt: 4, Real: 4, Time: 4,
  LWord: 8, LInt: 8, ULInt: 8, LReal: 8,
};

function layoutClassic(struct: SimStruct, dbName: string): number {
  let offset = 0;
  let bit = -1;
  for (const m of struct.members) {
    const t = m.type;
    if (t.kind === "elementary" && t.name === "Bool") {
      if (bit < 0 || bit === 7) {
        if (bit === 7) offset++;
        bit = 0;
      } else bit++;
      m.classic = { offset, bit, size: 1 };
      continue;
    }
    if (bit >= 0) {
      offset++;
      bit = -1;
    }
    let size: number | undefined;
    if (t.kind === "string" && t.name === "String") size = t.maxLength + 2;
    else if (t.kind === "elementary") size = CLASSIC_SIZE[t.name];
    if (size === undefined) throw new ConfigError(`DB "${dbName}".${m.name}: ${t.kind === "elementary" || t.kind === "string" ? t.name : t.kind} is not simulated in a non-optimized block`);
    if (size > 1 && offset % 2 === 1) offset++;
    m.classic = { offset, size };
    offset += size;
  }
  if (bit >= 0) offset++;
  return offset + (offset % 2);
}
