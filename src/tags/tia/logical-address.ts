/**
 * Logical addresses of PLC tags as TIA Portal writes them (`%MW20`,
 * `%I0.0`, `%QD4`, `%MB3`), checked against the tag's data type, and turned
 * into the absolute tag syntax of tag-name.ts (`MW20:INT`, `I0.0`).
 */
import { TagError } from "../../errors.js";
import { parseTagName, type AbsoluteTag, type AbsoluteType, type AbsoluteWidth } from "../tag-name.js";
import { parseDataType } from "./data-type.js";

export interface LogicalAddress {
  area: "I" | "Q" | "M";
  /** X for a bit, else B/W/D/L. */
  width: AbsoluteWidth;
  byteOffset: number;
  bitOffset?: number;
}

const PATTERN = /^%([IQM])([BWDLX]?)(\d{1,5})(?:\.(\d+))?$/;
const WIDTH_BYTES: Record<AbsoluteWidth, number> = { X: 0, B: 1, W: 2, D: 4, L: 8 };
/** What tag-name.ts reads a width as without a type suffix. */
const WIDTH_DEFAULT: Record<AbsoluteWidth, AbsoluteType> = { X: "BOOL", B: "BYTE", W: "WORD", D: "DWORD", L: "LWORD" };

/** Parses a logical address; a string saying what is wrong when it is not one. */
export function parseLogicalAddress(text: string): LogicalAddress | string {
  const m = PATTERN.exec(text.trim());
  if (!m) {
    if (!text.trim().startsWith("%")) return `address "${text}" must start with % (like %MW20)`;
    return `address "${text}" is not an I/Q/M address like %I0.0, %MB3, %MW20, %QD4`;
  }
  const area = m[1] as LogicalAddress["area"];
  const offset = Number(m[3]);
  if (offset > 0xffff) return `address "${text}": byte offset ${offset} is too large`;
  const letter = m[2] as AbsoluteWidth | "";
  if (m[4] !== undefined) {
    if (letter !== "" && letter !== "X") return `address "${text}": only bit addresses take ".<bit>"`;
    const bit = Number(m[4]);
    if (bit > 7) return `address "${text}": bit ${bit} is outside 0..7`;
    return { area, width: "X", byteOffset: offset, bitOffset: bit };
  }
  if (letter === "" || letter === "X") return `address "${text}": a bit address needs ".<bit>" (or write ${area}B/${area}W/${area}D for bytes)`;
  return { area, width: letter, byteOffset: offset };
}

/**
 * Why a data type cannot sit at an address, or undefined when it fits:
 * Bool on a bit, Int on a word, Real on a double word; types without a fixed
 * size (String, UDTs) on a byte address.
 */
export function addressTypeMismatch(address: LogicalAddress, dataType: string): string | undefined {
  const type = parseDataType(dataType);
  const size = type?.kind === "elementary" ? type.byteSize : undefined;
  if (size === undefined) return address.width === "B" ? undefined : `a ${dataType} tag needs a byte address (like %MB10)`;
  if (WIDTH_BYTES[address.width] === size) return undefined;
  const wanted = size === 0 ? "a bit address (like %M0.0)" : `a ${["", "byte", "word", "", "double word", "", "", "", "long word"][size]} address`;
  return `a ${dataType} tag needs ${wanted}`;
}

/** The absolute type a PLC tag type is read as; undefined for types without one (Date, S5Time: read as raw bits). */
const ABSOLUTE_TYPE: Readonly<Record<string, AbsoluteType>> = {
  BOOL: "BOOL", BYTE: "BYTE", USINT: "USINT", SINT: "SINT", CHAR: "CHAR",
  WORD: "WORD", INT: "INT", UINT: "UINT",
  DWORD: "DWORD", DINT: "DINT", UDINT: "UDINT", REAL: "REAL", TIME: "TIME",
  LWORD: "LWORD", LINT: "LINT", ULINT: "ULINT", LREAL: "LREAL",
};

/**
 * The absolute tag the client reads for a PLC tag: `%MW20` Int → `MW20:INT`,
 * `%M0.0` Bool → `M0.0`. Fixed-size types without an absolute type of their
 * own (Date, S5Time, Time_Of_Day, …) read as the width's raw type (WORD,
 * DWORD); types without a fixed size have no absolute form (TagError).
 */
export function absoluteTagOf(tag: { name: string; dataType: string; address: string }): AbsoluteTag {
  const address = parseLogicalAddress(tag.address);
  if (typeof address === "string") throw new TagError("ERR_S7_TAG_SYNTAX", `tag ${tag.name}: ${address}`, { tag: tag.name });
  const mismatch = addressTypeMismatch(address, tag.dataType);
  const type = parseDataType(tag.dataType);
  if (mismatch !== undefined || type?.kind !== "elementary" || type.byteSize === undefined) {
    throw new TagError("ERR_S7_TAG_SYNTAX", `tag ${tag.name}: a ${tag.dataType} at ${tag.address} has no absolute form${mismatch ? ` (${mismatch})` : ""}`, { tag: tag.name });
  }
  const absoluteType = ABSOLUTE_TYPE[type.name.toUpperCase()];
  const place = address.width === "X" ? `${address.area}${address.byteOffset}.${address.bitOffset}` : `${address.area}${address.width}${address.byteOffset}`;
  const suffix = absoluteType === undefined || absoluteType === WIDTH_DEFAULT[address.width] ? "" : `:${absoluteType}`;
  const parsed = parseTagName(place + suffix);
  if (parsed.kind !== "absolute") throw new TagError("ERR_S7_TAG_SYNTAX", `tag ${tag.name}: ${tag.address} does not give an absolute address`, { tag: tag.name });
  return parsed;
}
