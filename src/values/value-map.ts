/**
 * JavaScript values ↔ PValues for the PLC data types (docs/NODES.md §6,
 * docs/PROTOCOL.md §19.4). Reads are decoded leniently about the integer width
 * the controller chose; writes are checked for type and range before
 * anything goes on the wire, with errors that name the tag and the value.
 *
 * Structs and arrays of strings or structs are not single values on the
 * wire: the client reads and writes their leaves one by one, so they are
 * refused here.
 */
import { ValueError } from "../errors.js";
import type { DatatypeName } from "../protocol/constants.js";
import { pv, type Element, type PValue } from "../protocol/pvalue.js";
import {
  checkTimeOfDayMs,
  dateAndTimeToDate,
  dateFromDays,
  dateToDateAndTime,
  dateToDtl,
  dateToLdt,
  daysFromDate,
  dtlToDate,
  formatValue,
  ldtToDate,
  msToS5Time,
  s5TimeToMs,
} from "./plc-time.js";
import { elementCount, formatPlcType, type ArrayType, type ElementaryTypeName, type PlcType, type StringType } from "./plc-type.js";

/** Packed-struct id of a DTL: 0x02000000 + softdatatype 67 (docs/PROTOCOL.md §9.3). */
export const DTL_STRUCT_ID = 0x02000043;
/** Interface timestamp of DTL used when the controller has not reported one (docs/PROTOCOL.md §9.3). */
export const DEFAULT_DTL_INTERFACE_TIMESTAMP = 0x10ff4ad6dfd5774cn;

/** Wire datatype of each elementary PLC type. */
const WIRE: Readonly<Record<Exclude<ElementaryTypeName, "Date_And_Time" | "DTL">, DatatypeName>> = {
  Bool: "Bool",
  Byte: "Byte",
  Char: "USInt",
  Word: "Word",
  Int: "Int",
  DWord: "DWord",
  DInt: "DInt",
  Real: "Real",
  Date: "UInt",
  Time_Of_Day: "UDInt",
  Time: "DInt",
  S5Time: "Word",
  LReal: "LReal",
  ULInt: "ULInt",
  LInt: "LInt",
  LWord: "LWord",
  USInt: "USInt",
  UInt: "UInt",
  UDInt: "UDInt",
  SInt: "SInt",
  WChar: "UInt",
  LTime: "Timespan",
  LTOD: "ULInt",
  LDT: "Timestamp",
};

const INTEGER_RANGE: Readonly<Partial<Record<ElementaryTypeName, readonly [number, number]>>> = {
  Byte: [0, 0xff],
  USInt: [0, 0xff],
  SInt: [-128, 127],
  Word: [0, 0xffff],
  UInt: [0, 0xffff],
  Int: [-32768, 32767],
  DWord: [0, 0xffffffff],
  UDInt: [0, 0xffffffff],
  DInt: [-2147483648, 2147483647],
  Time: [-2147483648, 2147483647],
};

const BIGINT_RANGE: Readonly<Partial<Record<ElementaryTypeName, readonly [bigint, bigint]>>> = {
  ULInt: [0n, 0xffffffffffffffffn],
  LWord: [0n, 0xffffffffffffffffn],
  LInt: [-(2n ** 63n), 2n ** 63n - 1n],
  LTime: [-(2n ** 63n), 2n ** 63n - 1n],
  LTOD: [0n, 86_399_999_999_999n],
};

const REAL_MAX = 3.4028234663852886e38;

export interface ValueContext {
  /** The tag the value belongs to, for messages. */
  tag: string;
  plc?: string;
  /** What the message names when it is more precise than the tag (an array element). */
  label?: string;
}

function fail(ctx: ValueContext, message: string): ValueError {
  return new ValueError(`${ctx.label ?? ctx.tag}: ${message}`, ctx.plc === undefined ? { tag: ctx.tag } : { tag: ctx.tag, plc: ctx.plc });
}

/** True when the type travels as one PValue (elementary, string, array of elementary). */
export function isSingleValueType(type: PlcType): boolean {
  if (type.kind === "struct") return false;
  if (type.kind === "array") return type.element.kind === "elementary";
  return true;
}

// ---------------------------------------------------------------------------
// JS → PValue

/**
 * A finite number for a numeric type. A boolean is refused (true is not 1),
 * and so are NaN and Infinity: a text like "1e400" that only parses to
 * Infinity is out of range, never written as Infinity.
 */
function toNumber(value: unknown, ctx: ValueContext, typeName: string): number {
  let n: number;
  if (typeof value === "number") n = value;
  else if (typeof value === "bigint") n = Number(value);
  else if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) n = Number(value);
  else if (typeof value === "boolean") throw fail(ctx, `${formatValue(value)} is a boolean, not a number (${typeName}); write 1 or 0`);
  else throw fail(ctx, `${formatValue(value)} is not a number (${typeName})`);
  if (Number.isNaN(n)) throw fail(ctx, `NaN is not a number (${typeName})`);
  if (!Number.isFinite(n)) throw fail(ctx, `${typeof value === "number" ? String(value) : formatValue(value)} is outside the range of ${typeName}`);
  return n;
}

function toBigInt(value: unknown, ctx: ValueContext, typeName: string): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw fail(ctx, `${formatValue(value)} is not an integer (${typeName})`);
    if (!Number.isSafeInteger(value)) {
      throw fail(ctx, `${formatValue(value)} is beyond 2^53 and has lost precision; pass a BigInt or a string (${typeName})`);
    }
    return BigInt(value);
  }
  if (typeof value === "string" && /^\s*-?\d+\s*$/.test(value)) return BigInt(value.trim());
  if (typeof value === "boolean") throw fail(ctx, `${formatValue(value)} is a boolean, not a number (${typeName}); write 1 or 0`);
  throw fail(ctx, `${formatValue(value)} is not an integer (${typeName})`);
}

function toBool(value: unknown, ctx: ValueContext): boolean {
  if (typeof value === "boolean") return value;
  if (value === 0 || value === 1) return value === 1;
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw fail(ctx, `${formatValue(value)} is not a Bool (use true or false)`);
}

function toChar(value: unknown, ctx: ValueContext, wide: boolean): number {
  if (typeof value !== "string" || [...value].length !== 1) {
    throw fail(ctx, `${formatValue(value)} is not a single character (${wide ? "WChar" : "Char"})`);
  }
  const code = value.codePointAt(0)!;
  if (wide ? code > 0xffff : code > 0xff) {
    throw fail(ctx, `${formatValue(value)} is outside the ${wide ? "UCS-2" : "Latin-1"} range of ${wide ? "WChar" : "Char"}`);
  }
  return code;
}

/** One elementary value as a wire element. */
function elementaryElement(name: ElementaryTypeName, value: unknown, ctx: ValueContext): Element {
  const guard = <T>(f: () => T): T => {
    try {
      return f();
    } catch (err) {
      if (err instanceof ValueError && !err.message.startsWith(ctx.label ?? ctx.tag)) throw fail(ctx, err.message);
      throw err;
    }
  };
  switch (name) {
    case "Bool":
      return { type: "Bool", value: toBool(value, ctx) };
    case "Char":
      return { type: "USInt", value: toChar(value, ctx, false) };
    case "WChar":
      return { type: "UInt", value: toChar(value, ctx, true) };
    case "Real":
    case "LReal": {
      const n = toNumber(value, ctx, name);
      if (name === "Real" && Number.isFinite(n) && Math.abs(n) > REAL_MAX) throw fail(ctx, `${formatValue(value)} is outside the range of Real`);
      return { type: name, value: n };
    }
    case "Date":
      return { type: "UInt", value: guard(() => daysFromDate(value, "Date")) };
    case "Time_Of_Day":
      return { type: "UDInt", value: guard(() => checkTimeOfDayMs(toNumber(value, ctx, name), "Time_Of_Day")) };
    case "S5Time":
      return { type: "Word", value: guard(() => msToS5Time(toNumber(value, ctx, name), "S5Time")) };
    case "LDT":
      return { type: "Timestamp", value: guard(() => dateToLdt(value, "LDT")) };
    case "ULInt":
    case "LInt":
    case "LWord":
    case "LTime":
    case "LTOD": {
      const n = toBigInt(value, ctx, name);
      const [lo, hi] = BIGINT_RANGE[name]!;
      if (n < lo || n > hi) throw fail(ctx, `${formatValue(value)} is outside ${lo} … ${hi} (${name})`);
      const wire = WIRE[name] as "ULInt" | "LInt" | "LWord" | "Timespan";
      return { type: wire, value: n };
    }
    case "Date_And_Time":
    case "DTL":
      throw fail(ctx, `${name} is not an elementary wire value`);
    default: {
      const n = toNumber(value, ctx, name);
      const [lo, hi] = INTEGER_RANGE[name]!;
      if (!Number.isInteger(n)) throw fail(ctx, `${formatValue(value)} is not an integer (${name})`);
      if (n < lo || n > hi) throw fail(ctx, `${formatValue(value)} is outside ${lo} … ${hi} (${name})`);
      return { type: WIRE[name] as "Byte", value: n };
    }
  }
}

function stringBytes(type: StringType, value: unknown, ctx: ValueContext): PValue {
  if (typeof value !== "string") throw fail(ctx, `${formatValue(value)} is not a string (${type.name})`);
  if (type.name === "String") {
    if ([...value].some((c) => c.codePointAt(0)! > 0xff)) {
      throw fail(ctx, `${formatValue(value)} has characters outside Latin-1; use a WString tag`);
    }
    const bytes = Buffer.from(value, "latin1");
    if (bytes.length > type.maxLength) throw fail(ctx, `${formatValue(value)} is ${bytes.length} characters, longer than String[${type.maxLength}]`);
    const out = Buffer.alloc(type.maxLength + 2);
    out[0] = type.maxLength;
    out[1] = bytes.length;
    bytes.copy(out, 2);
    return pv.usintArray(out);
  }
  const units: number[] = [];
  for (let i = 0; i < value.length; i++) units.push(value.charCodeAt(i));
  if (units.length > type.maxLength) throw fail(ctx, `${formatValue(value)} is ${units.length} characters, longer than WString[${type.maxLength}]`);
  const all = [type.maxLength, units.length, ...units];
  while (all.length < type.maxLength + 2) all.push(0);
  return pv.array("UInt", all.map((u): Element => ({ type: "UInt", value: u })));
}

/** The elements of a (nested) JS array in wire order, checked against the dimensions. */
export function flattenArray(type: ArrayType, value: unknown, ctx: ValueContext, depth = 0): unknown[] {
  const dim = type.dimensions[depth]!;
  if (!Array.isArray(value)) throw fail(ctx, `${formatValue(value)} is not an array (${formatPlcType(type)})`);
  if (value.length !== dim.count) {
    throw fail(ctx, `array has ${value.length} elements, ${formatPlcType(type)} needs ${dim.count}${depth > 0 ? " in dimension " + (depth + 1) : ""}`);
  }
  if (depth === type.dimensions.length - 1) return value;
  return value.flatMap((v) => flattenArray(type, v, ctx, depth + 1));
}

/** A JS value as the PValue a write of this type carries. */
export function encodeValue(type: PlcType, value: unknown, ctx: ValueContext, dtlTimestamp = DEFAULT_DTL_INTERFACE_TIMESTAMP): PValue {
  switch (type.kind) {
    case "string":
      return stringBytes(type, value, ctx);
    case "struct":
      throw fail(ctx, `a struct (${formatPlcType(type)}) is written member by member`);
    case "array": {
      if (type.element.kind !== "elementary") throw fail(ctx, `${formatPlcType(type)} is written element by element`);
      const name = type.element.name;
      const flat = flattenArray(type, value, ctx);
      if (name === "Date_And_Time" || name === "DTL") throw fail(ctx, `${formatPlcType(type)} is written element by element`);
      const elements = flat.map((v, i) => elementaryElement(name, v, { ...ctx, label: `${ctx.tag}[${i}]` }));
      return pv.array(WIRE[name], elements);
    }
    case "elementary":
      if (type.name === "Date_And_Time") {
        try {
          return pv.usintArray(dateToDateAndTime(value, "Date_And_Time"));
        } catch (err) {
          throw err instanceof ValueError ? fail(ctx, err.message) : err;
        }
      }
      if (type.name === "DTL") {
        let data: Buffer;
        try {
          data = dateToDtl(value, "DTL");
        } catch (err) {
          throw err instanceof ValueError ? fail(ctx, err.message) : err;
        }
        return pv.scalar({ type: "PackedStruct", id: DTL_STRUCT_ID, interfaceTimestamp: dtlTimestamp, transportFlags: 2, count: 12, data });
      }
      return pv.scalar(elementaryElement(type.name, value, ctx));
  }
}

// ---------------------------------------------------------------------------
// PValue → JS

function describe(v: PValue): string {
  return v.kind === "scalar" ? v.value.type : `${v.kind} of ${v.datatype}`;
}

function elementNumber(e: Element): number | undefined {
  switch (e.type) {
    case "Bool":
      return e.value ? 1 : 0;
    case "USInt":
    case "UInt":
    case "UDInt":
    case "SInt":
    case "Int":
    case "DInt":
    case "Byte":
    case "Word":
    case "DWord":
    case "Real":
    case "LReal":
      return e.value;
    case "ULInt":
    case "LInt":
    case "LWord":
    case "Timestamp":
    case "Timespan":
      return Number(e.value);
    default:
      return undefined;
  }
}

function elementBigInt(e: Element): bigint | undefined {
  if (e.type === "ULInt" || e.type === "LInt" || e.type === "LWord" || e.type === "Timestamp" || e.type === "Timespan") return e.value;
  const n = elementNumber(e);
  return n !== undefined && Number.isInteger(n) ? BigInt(n) : undefined;
}

function decodeElement(name: ElementaryTypeName, e: Element, ctx: ValueContext): unknown {
  const bad = (): ValueError => fail(ctx, `the controller sent ${e.type} for a ${name}`);
  switch (name) {
    case "Bool":
      if (e.type === "Bool") return e.value;
      throw bad();
    case "Char":
    case "WChar": {
      const n = elementNumber(e);
      if (n === undefined) throw bad();
      return String.fromCharCode(n);
    }
    case "Date": {
      const n = elementNumber(e);
      if (n === undefined) throw bad();
      return dateFromDays(n);
    }
    case "S5Time": {
      const n = elementNumber(e);
      if (n === undefined) throw bad();
      return s5TimeToMs(n);
    }
    case "LDT": {
      const n = elementBigInt(e);
      if (n === undefined) throw bad();
      return ldtToDate(n);
    }
    case "ULInt":
    case "LInt":
    case "LWord":
    case "LTime":
    case "LTOD": {
      const n = elementBigInt(e);
      if (n === undefined) throw bad();
      return n;
    }
    case "Date_And_Time":
    case "DTL":
      throw bad();
    default: {
      const n = elementNumber(e);
      if (n === undefined || e.type === "Bool") throw bad();
      return n;
    }
  }
}

function bytesOfArray(v: PValue): Buffer | undefined {
  if (v.kind === "scalar" && v.value.type === "Blob") return v.value.data;
  if (v.kind !== "array") return undefined;
  const out = Buffer.alloc(v.elements.length);
  for (let i = 0; i < v.elements.length; i++) {
    const n = elementNumber(v.elements[i]!);
    if (n === undefined) return undefined;
    out[i] = n;
  }
  return out;
}

/** Wire-order elements → nested JS arrays, outermost dimension first. */
export function nestArray(flat: unknown[], type: ArrayType): unknown[] {
  let out: unknown[] = flat;
  for (let d = type.dimensions.length - 1; d > 0; d--) {
    const size = type.dimensions[d]!.count;
    const grouped: unknown[] = [];
    for (let i = 0; i < out.length; i += size) grouped.push(out.slice(i, i + size));
    out = grouped;
  }
  return out;
}

/** A read PValue as the JS value of docs/NODES.md §6 (64-bit integers as BigInt). */
export function decodeValue(type: PlcType, value: PValue, ctx: ValueContext): unknown {
  switch (type.kind) {
    case "struct":
      throw fail(ctx, `a struct (${formatPlcType(type)}) is read member by member`);
    case "string": {
      if (type.name === "WString" && value.kind === "scalar" && value.value.type === "WString") return value.value.value;
      if (value.kind !== "array") throw fail(ctx, `the controller sent ${describe(value)} for a ${type.name}`);
      const units = value.elements.map(elementNumber);
      if (units.some((u) => u === undefined) || units.length < 2) throw fail(ctx, `the controller sent ${describe(value)} for a ${type.name}`);
      const nums = units as number[];
      const length = Math.min(nums[1]!, nums[0]!, nums.length - 2);
      const chars = nums.slice(2, 2 + length);
      return type.name === "String" ? Buffer.from(chars).toString("latin1") : String.fromCharCode(...chars);
    }
    case "array": {
      if (type.element.kind !== "elementary") throw fail(ctx, `${formatPlcType(type)} is read element by element`);
      if (value.kind !== "array") throw fail(ctx, `the controller sent ${describe(value)} for ${formatPlcType(type)}`);
      const expected = elementCount(type);
      if (value.elements.length !== expected) {
        throw fail(ctx, `the controller sent ${value.elements.length} elements for ${formatPlcType(type)} (${expected})`);
      }
      const name = type.element.name;
      const flat = value.elements.map((e, i) => decodeElement(name, e, { ...ctx, label: `${ctx.tag}[${i}]` }));
      return nestArray(flat, type);
    }
    case "elementary": {
      if (type.name === "Date_And_Time") {
        const bytes = bytesOfArray(value);
        if (bytes === undefined || bytes.length !== 8) throw fail(ctx, `the controller sent ${describe(value)} for a Date_And_Time`);
        return wrap(ctx, () => dateAndTimeToDate(bytes));
      }
      if (type.name === "DTL") {
        if (value.kind === "scalar" && value.value.type === "PackedStruct") {
          const data = value.value.data;
          return wrap(ctx, () => dtlToDate(data));
        }
        const bytes = bytesOfArray(value);
        if (bytes === undefined || bytes.length !== 12) throw fail(ctx, `the controller sent ${describe(value)} for a DTL`);
        return wrap(ctx, () => dtlToDate(bytes));
      }
      if (value.kind !== "scalar") throw fail(ctx, `the controller sent ${describe(value)} for a ${type.name}`);
      return decodeElement(type.name, value.value, ctx);
    }
  }
}

function wrap<T>(ctx: ValueContext, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw err instanceof ValueError ? fail(ctx, err.message) : err;
  }
}
