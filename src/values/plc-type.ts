/**
 * The data types of an S7 program as the driver sees them: elementary types
 * with their softdatatype ids and wire encodings (docs/PROTOCOL.md §19.4),
 * strings with a maximum length, arrays and structs/UDTs. Used by the client
 * (to decode what it reads and check what it writes) and by the simulator
 * (to describe its tag table).
 */
import { ConfigError } from "../errors.js";
import { Softdatatype } from "../protocol/constants.js";

export type ElementaryTypeName =
  | "Bool"
  | "Byte"
  | "Char"
  | "Word"
  | "Int"
  | "DWord"
  | "DInt"
  | "Real"
  | "Date"
  | "Time_Of_Day"
  | "Time"
  | "S5Time"
  | "Date_And_Time"
  | "LReal"
  | "ULInt"
  | "LInt"
  | "LWord"
  | "USInt"
  | "UInt"
  | "UDInt"
  | "SInt"
  | "WChar"
  | "LTime"
  | "LTOD"
  | "LDT"
  | "DTL";

export type StringTypeName = "String" | "WString";

export interface ElementaryType {
  kind: "elementary";
  name: ElementaryTypeName;
}
export interface StringType {
  kind: "string";
  name: StringTypeName;
  /** Maximum number of characters (String ≤ 254, WString ≤ 16382). */
  maxLength: number;
}
export interface ArrayDimension {
  lower: number;
  count: number;
}
export interface ArrayType {
  kind: "array";
  element: ElementaryType | StringType | StructType;
  /** Outermost first, as written in the program (`Array[0..1, 0..3]`). */
  dimensions: ArrayDimension[];
}
export interface StructMemberType {
  name: string;
  /** The member's LID inside its parent (§19.2). */
  lid: number;
  type: PlcType;
}
export interface StructType {
  kind: "struct";
  /** UDT name, when the struct is an instance of one. */
  typeName?: string;
  members: StructMemberType[];
}
export type PlcType = ElementaryType | StringType | ArrayType | StructType;

/** Softdatatype ids (§19.4, §19.5) under the names TIA Portal shows. */
export const SOFTDATATYPE: Readonly<Record<ElementaryTypeName | StringTypeName | "Array" | "Struct", number>> = {
  Bool: Softdatatype.Bool,
  Byte: Softdatatype.Byte,
  Char: Softdatatype.Char,
  Word: Softdatatype.Word,
  Int: Softdatatype.Int,
  DWord: Softdatatype.DWord,
  DInt: Softdatatype.DInt,
  Real: Softdatatype.Real,
  Date: Softdatatype.Date,
  Time_Of_Day: Softdatatype.TimeOfDay,
  Time: Softdatatype.Time,
  S5Time: Softdatatype.S5Time,
  Date_And_Time: Softdatatype.DateAndTime,
  Array: Softdatatype.Array,
  Struct: Softdatatype.Struct,
  String: Softdatatype.String,
  LReal: Softdatatype.LReal,
  ULInt: Softdatatype.ULInt,
  LInt: Softdatatype.LInt,
  LWord: Softdatatype.LWord,
  USInt: Softdatatype.USInt,
  UInt: Softdatatype.UInt,
  UDInt: Softdatatype.UDInt,
  SInt: Softdatatype.SInt,
  WChar: Softdatatype.WChar,
  WString: Softdatatype.WString,
  LTime: Softdatatype.LTime,
  LTOD: Softdatatype.LTOD,
  LDT: Softdatatype.LDT,
  DTL: Softdatatype.DTL,
};

const BY_SOFTDATATYPE: ReadonlyMap<number, ElementaryTypeName | StringTypeName> = new Map(
  (Object.entries(SOFTDATATYPE) as [ElementaryTypeName | StringTypeName | "Array" | "Struct", number][])
    .filter((e): e is [ElementaryTypeName | StringTypeName, number] => e[0] !== "Array" && e[0] !== "Struct")
    .map(([name, id]) => [id, name]),
);

/** The elementary or string type name of a softdatatype id (BBOOL 40 counts as Bool), or undefined. */
export function typeNameOfSoftdatatype(id: number): ElementaryTypeName | StringTypeName | undefined {
  return id === Softdatatype.BBool ? "Bool" : BY_SOFTDATATYPE.get(id);
}

/** Spellings people use in TIA Portal and in tag suffixes. */
const ALIASES: Readonly<Record<string, ElementaryTypeName>> = {
  TOD: "Time_Of_Day",
  TIME_OF_DAY: "Time_Of_Day",
  DT: "Date_And_Time",
  DATE_AND_TIME: "Date_And_Time",
  LTIME_OF_DAY: "LTOD",
  DATE_AND_LTIME: "LDT",
};

const ELEMENTARY_BY_UPPER: ReadonlyMap<string, ElementaryTypeName> = new Map(
  (Object.keys(SOFTDATATYPE) as string[])
    .filter((n) => n !== "Array" && n !== "Struct" && n !== "String" && n !== "WString")
    .map((n) => [n.toUpperCase(), n as ElementaryTypeName]),
);

export function elementaryTypeByName(name: string): ElementaryTypeName | undefined {
  const upper = name.trim().toUpperCase();
  return ALIASES[upper] ?? ELEMENTARY_BY_UPPER.get(upper);
}

export const STRING_MAX = { String: 254, WString: 16382 } as const;

/**
 * Parses a type as written in TIA Portal: `Int`, `String[20]`, `WString`,
 * `Array[0..9] of Real`, `Array[1..2, 0..3] of Bool`. Structs are not
 * written as names; they come from the tag table or the controller.
 */
export function parsePlcTypeName(text: string): ElementaryType | StringType | ArrayType {
  const source = text.trim();
  const array = /^array\s*\[([^\]]+)\]\s+of\s+(.+)$/i.exec(source);
  if (array) {
    const dimensions = array[1]!.split(",").map((d) => {
      const m = /^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*$/.exec(d);
      if (!m) throw new ConfigError(`type "${text}": array bounds "${d.trim()}" are not "low..high"`);
      const lower = Number(m[1]);
      const upper = Number(m[2]);
      if (upper < lower) throw new ConfigError(`type "${text}": upper bound ${upper} is below lower bound ${lower}`);
      return { lower, count: upper - lower + 1 };
    });
    if (dimensions.length > 6) throw new ConfigError(`type "${text}": at most 6 array dimensions`);
    const element = parsePlcTypeName(array[2]!);
    if (element.kind === "array") throw new ConfigError(`type "${text}": an array of arrays is written with several dimensions`);
    return { kind: "array", element, dimensions };
  }
  const str = /^(w?string)\s*(?:\[\s*(\d+)\s*\])?$/i.exec(source);
  if (str) {
    const name: StringTypeName = str[1]!.toLowerCase() === "wstring" ? "WString" : "String";
    const maxLength = str[2] === undefined ? STRING_MAX[name] : Number(str[2]);
    if (maxLength < 1 || maxLength > STRING_MAX[name]) {
      throw new ConfigError(`type "${text}": length must be 1 … ${STRING_MAX[name]}`);
    }
    return { kind: "string", name, maxLength };
  }
  const elementary = elementaryTypeByName(source);
  if (elementary === undefined) throw new ConfigError(`type "${text}" is not a known S7 data type`);
  return { kind: "elementary", name: elementary };
}

/** The TIA Portal spelling of a type (structs by their UDT name or "Struct"). */
export function formatPlcType(type: PlcType): string {
  switch (type.kind) {
    case "elementary":
      return type.name;
    case "string":
      return `${type.name}[${type.maxLength}]`;
    case "array":
      return `Array[${type.dimensions.map((d) => `${d.lower}..${d.lower + d.count - 1}`).join(", ")}] of ${formatPlcType(type.element)}`;
    case "struct":
      return type.typeName !== undefined ? `"${type.typeName}"` : "Struct";
  }
}

/** Total number of elements of an array type. */
export function elementCount(type: ArrayType): number {
  return type.dimensions.reduce((n, d) => n * d.count, 1);
}

/** The softdatatype id that goes into a symbol CRC for this type (§19.5). */
export function softdatatypeOf(type: PlcType): number {
  switch (type.kind) {
    case "elementary":
    case "string":
      return SOFTDATATYPE[type.name];
    case "array":
      return SOFTDATATYPE.Array;
    case "struct":
      return SOFTDATATYPE.Struct;
  }
}
