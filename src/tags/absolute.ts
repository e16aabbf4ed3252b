/**
 * Absolute ("classic") access to non-optimized data blocks and I/Q/M
 * (docs/NODES.md §5, docs/PROTOCOL.md §19.3): LIDs [3, byteOffset, byteLength(, bit)],
 * symbol CRC 0, values as a Blob of the covered bytes (big-endian, as in the
 * controller's memory) or a Bool for a single bit.
 */
import { ValueError } from "../errors.js";
import { Ids } from "../protocol/constants.js";
import { dbArea, type ItemAddress } from "../protocol/address.js";
import { bytesOf, pv, type PValue } from "../protocol/pvalue.js";
import { formatValue } from "../values/plc-time.js";
import type { AbsoluteArea, AbsoluteTag, AbsoluteType } from "./tag-name.js";
import { encodeValue } from "../values/value-map.js";
import type { ElementaryTypeName } from "../values/plc-type.js";

const CLASSIC_BLOB_LID = 3;
const AREA: Record<Exclude<AbsoluteArea, "DB">, number> = { I: Ids.AreaInputs, Q: Ids.AreaOutputs, M: Ids.AreaMarkers };

export function absoluteAddress(tag: AbsoluteTag): ItemAddress {
  const area = tag.area === "DB" ? dbArea(tag.db ?? 0) : AREA[tag.area];
  const subArea = tag.area === "DB" ? Ids.DBValueActual : Ids.ControllerAreaValueActual;
  const lids = [CLASSIC_BLOB_LID, tag.byteOffset, tag.byteLength];
  if (tag.bitOffset !== undefined) lids.push(tag.bitOffset);
  return { symbolCrc: 0, area, subArea, lids };
}

/** PLC type names whose range checks apply to an absolute type. */
const CHECKED_AS: Partial<Record<AbsoluteType, ElementaryTypeName>> = {
  BYTE: "Byte",
  USINT: "USInt",
  SINT: "SInt",
  WORD: "Word",
  INT: "Int",
  UINT: "UInt",
  DWORD: "DWord",
  DINT: "DInt",
  UDINT: "UDInt",
  REAL: "Real",
  TIME: "Time",
  LWORD: "LWord",
  LINT: "LInt",
  ULINT: "ULInt",
  LREAL: "LReal",
  CHAR: "Char",
  BOOL: "Bool",
};

function fail(tag: AbsoluteTag, message: string, plc?: string): ValueError {
  return new ValueError(`${tag.text}: ${message}`, { tag: tag.text, ...(plc === undefined ? {} : { plc }) });
}

/** Bytes (or a bit) read from the controller → the JS value of the tag's type. */
export function decodeAbsolute(tag: AbsoluteTag, value: PValue, plc?: string): unknown {
  if (tag.type === "BOOL") {
    if (value.kind === "scalar" && value.value.type === "Bool") return value.value.value;
    const b = bytesOf(value);
    if (b === undefined || b.length < 1) throw fail(tag, "the controller sent no byte for the bit", plc);
    // A whole byte came back: pick the bit (some firmware ignores the bit LID).
    return b.length === 1 && b[0]! <= 1 ? b[0] === 1 : ((b[0]! >> (tag.bitOffset ?? 0)) & 1) === 1;
  }
  const b = bytesOf(value);
  if (b === undefined) throw fail(tag, `the controller sent ${value.kind === "scalar" ? value.value.type : value.datatype} instead of bytes`, plc);
  if (b.length !== tag.byteLength) throw fail(tag, `the controller sent ${b.length} byte(s), ${tag.byteLength} expected`, plc);
  switch (tag.type) {
    case "RAW":
      return Buffer.from(b);
    case "BYTE":
    case "USINT":
      return b.readUInt8(0);
    case "SINT":
      return b.readInt8(0);
    case "CHAR":
      return String.fromCharCode(b[0]!);
    case "WORD":
    case "UINT":
      return b.readUInt16BE(0);
    case "INT":
      return b.readInt16BE(0);
    case "DWORD":
    case "UDINT":
      return b.readUInt32BE(0);
    case "DINT":
    case "TIME":
      return b.readInt32BE(0);
    case "REAL":
      return b.readFloatBE(0);
    case "LWORD":
    case "ULINT":
      return b.readBigUInt64BE(0);
    case "LINT":
      return b.readBigInt64BE(0);
    case "LREAL":
      return b.readDoubleBE(0);
  }
}

/** A JS value → the PValue of an absolute write (checked first; nothing is sent on error). */
export function encodeAbsolute(tag: AbsoluteTag, value: unknown, plc?: string): PValue {
  // No validated driver writes a single bit through ClassicBlob, and firmware that ignores the
  // bit LID would overwrite the whole byte (docs/PROTOCOL-NOTES.md); reads of bits stay.
  if (tag.type === "BOOL") {
    throw fail(tag, "absolute bit writes are refused (a controller may ignore the bit and overwrite the whole byte); write this Bool by its symbolic name, e.g. \"DataBlock.Member\", with optimized or standard access", plc);
  }
  if (tag.type === "RAW") {
    if (!Buffer.isBuffer(value) && !(Array.isArray(value) && value.every((v) => Number.isInteger(v) && v >= 0 && v <= 255))) {
      throw fail(tag, `${formatValue(value)} is not a Buffer or an array of bytes`, plc);
    }
    const data = Buffer.from(value as Buffer | number[]);
    if (data.length !== tag.byteLength) throw fail(tag, `${data.length} byte(s) given, the range covers ${tag.byteLength}`, plc);
    return pv.blob(data);
  }
  // Reuse the range checks of the symbolic types, then lay the value out big-endian.
  const checked = encodeValue({ kind: "elementary", name: CHECKED_AS[tag.type]! }, value, { tag: tag.text, ...(plc === undefined ? {} : { plc }) });
  if (checked.kind !== "scalar") throw fail(tag, "unexpected value shape", plc);
  const e = checked.value;
  const out = Buffer.alloc(tag.byteLength);
  const n = "value" in e ? e.value : 0;
  switch (tag.type) {
    case "BYTE":
    case "USINT":
    case "CHAR":
      out.writeUInt8(n as number, 0);
      break;
    case "SINT":
      out.writeInt8(n as number, 0);
      break;
    case "WORD":
    case "UINT":
      out.writeUInt16BE(n as number, 0);
      break;
    case "INT":
      out.writeInt16BE(n as number, 0);
      break;
    case "DWORD":
    case "UDINT":
      out.writeUInt32BE(n as number, 0);
      break;
    case "DINT":
    case "TIME":
      out.writeInt32BE(n as number, 0);
      break;
    case "REAL":
      out.writeFloatBE(n as number, 0);
      break;
    case "LWORD":
    case "ULINT":
      out.writeBigUInt64BE(n as bigint, 0);
      break;
    case "LINT":
      out.writeBigInt64BE(n as bigint, 0);
      break;
    case "LREAL":
      out.writeDoubleBE(n as number, 0);
      break;
  }
  return pv.blob(out);
}
