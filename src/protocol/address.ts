/**
 * Item addresses (docs/PROTOCOL.md §19.1–§19.3):
 * `SymbolCrc VLQ | AccessArea VLQ | Count VLQ (1 + #LIDs) | AccessSubArea VLQ | LID VLQ × (Count − 1)`.
 */
import { DecodeError } from "../errors.js";
import { ByteReader, ByteWriter } from "./bytes.js";
import { CLASSIC_BLOB_LID, Ids } from "./constants.js";

export interface ItemAddress {
  /** 0 = no check; otherwise the CRC of §19.5. */
  symbolCrc: number;
  /** DB: 0x8A0E0000 + number; I/Q/M/C/T: 80…84; other objects by RID. */
  area: number;
  /** 2550 DB actual values, 2548 start values, 3736 I/Q/M/C/T, or an attribute id. */
  subArea: number;
  /** One per nesting level (may be empty). */
  lids: number[];
}

/** Number of fields an item address contributes to FieldCount (§17). */
export function addressFieldCount(a: ItemAddress): number {
  return 4 + a.lids.length;
}

export function readItemAddress(r: ByteReader): ItemAddress {
  const symbolCrc = r.vlqU32();
  const area = r.vlqU32();
  const start = r.offset;
  const count = r.vlqU32();
  if (count < 1) throw new DecodeError("item address with a count of 0", start);
  if (count - 1 > r.remaining) throw new DecodeError(`item address with ${count - 1} LIDs exceeds the bytes left`, start);
  const subArea = r.vlqU32();
  const lids: number[] = [];
  for (let i = 1; i < count; i++) lids.push(r.vlqU32());
  return { symbolCrc, area, subArea, lids };
}

export function writeItemAddress(w: ByteWriter, a: ItemAddress): void {
  w.vlqU32(a.symbolCrc).vlqU32(a.area).vlqU32(1 + a.lids.length).vlqU32(a.subArea);
  for (const lid of a.lids) w.vlqU32(lid);
}

export function encodeItemAddress(a: ItemAddress): Buffer {
  const w = new ByteWriter(32);
  writeItemAddress(w, a);
  return w.toBuffer();
}

/** Decodes a buffer holding exactly one item address. */
export function decodeItemAddress(data: Uint8Array): ItemAddress {
  const r = new ByteReader(data);
  const a = readItemAddress(r);
  if (!r.atEnd) throw new DecodeError(`${r.remaining} byte(s) after the item address`, r.offset);
  return a;
}

/** AccessArea of DB `n` (1…65535). */
export function dbArea(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new RangeError(`DB number out of range: ${n}`);
  return (Ids.DBArea + n) >>> 0;
}

export function isDbArea(area: number): boolean {
  return area >>> 16 === Ids.DBArea >>> 16;
}

/** The DB number of a DB area, or undefined. */
export function dbNumberOf(area: number): number | undefined {
  return isDbArea(area) ? area & 0xffff : undefined;
}

export const SubArea = {
  DBValueActual: Ids.DBValueActual,
  DBValueInitial: Ids.DBValueInitial,
  ControllerArea: Ids.ControllerAreaValueActual,
} as const;

export const Area = {
  Inputs: Ids.AreaInputs,
  Outputs: Ids.AreaOutputs,
  Markers: Ids.AreaMarkers,
  Counters: Ids.AreaCounters,
  Timers: Ids.AreaTimers,
} as const;

/** LIDs of a classic (absolute) access: `[3, byteOffset, byteLength]` or `[3, byteOffset, 1, bit]` for a Bool. */
export function classicLids(byteOffset: number, byteLength: number, bit?: number): number[] {
  if (bit !== undefined && (bit < 0 || bit > 7 || !Number.isInteger(bit))) throw new RangeError(`bit offset out of range: ${bit}`);
  return bit === undefined ? [CLASSIC_BLOB_LID, byteOffset, byteLength] : [CLASSIC_BLOB_LID, byteOffset, byteLength, bit];
}

/** Address of a classic DB range (non-optimized DB): SymbolCrc 0, sub-area 2550. */
export function classicDbAddress(db: number, byteOffset: number, byteLength: number, bit?: number): ItemAddress {
  return { symbolCrc: 0, area: dbArea(db), subArea: SubArea.DBValueActual, lids: classicLids(byteOffset, byteLength, bit) };
}

/** Address of a classic I/Q/M range: SymbolCrc 0, sub-area 3736. */
export function classicAreaAddress(area: number, byteOffset: number, byteLength: number, bit?: number): ItemAddress {
  return { symbolCrc: 0, area, subArea: SubArea.ControllerArea, lids: classicLids(byteOffset, byteLength, bit) };
}

/** Address of a symbolic DB member: `area(DB) . LID…` with sub-area 2550. */
export function dbMemberAddress(db: number, lids: readonly number[], symbolCrc = 0): ItemAddress {
  return { symbolCrc, area: dbArea(db), subArea: SubArea.DBValueActual, lids: [...lids] };
}
