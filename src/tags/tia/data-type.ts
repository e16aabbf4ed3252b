/**
 * Data type names as TIA Portal writes them in exports: elementary types,
 * `String[20]`, `Array[0..9] of Int`, `Array[0..1, 0..2] of "Motor_UDT"`,
 * `Struct`, a UDT in double quotes, and the system types of the instruction
 * libraries (IEC_TIMER, Hw_*, …). Anything else is an unknown type.
 */
import type { ArrayBound } from "./model.js";

export type DataTypeSyntax =
  | { kind: "elementary"; name: string; byteSize: number | undefined }
  | { kind: "struct" }
  | { kind: "udt"; name: string }
  | { kind: "system"; name: string }
  | { kind: "array"; bounds: ArrayBound[]; elementType: string };

/**
 * Elementary types and their size in bytes on an I/Q/M address (0 = a bit;
 * undefined = no fixed size there). Keys are upper case.
 */
const ELEMENTARY: ReadonlyMap<string, number | undefined> = new Map([
  ["BOOL", 0],
  ["BYTE", 1], ["CHAR", 1], ["SINT", 1], ["USINT", 1],
  ["WORD", 2], ["INT", 2], ["UINT", 2], ["WCHAR", 2], ["DATE", 2], ["S5TIME", 2],
  ["DWORD", 4], ["DINT", 4], ["UDINT", 4], ["REAL", 4], ["TIME", 4], ["TIME_OF_DAY", 4], ["TOD", 4],
  ["LWORD", 8], ["LINT", 8], ["ULINT", 8], ["LREAL", 8], ["LTIME", 8], ["LTIME_OF_DAY", 8], ["LTOD", 8], ["LDT", 8],
  ["DATE_AND_TIME", 8], ["DT", 8],
  ["STRING", undefined], ["WSTRING", undefined], ["DTL", undefined],
  ["VARIANT", undefined], ["POINTER", undefined], ["ANY", undefined],
]);

/** System data types of the instruction libraries that appear unquoted in DB interfaces. */
const SYSTEM_TYPE = /^(IEC_[A-Z]+|T(ON|OF|P|ONR)_(L?TIME)|CTU?D?_[A-Z]+|Hw_[A-Za-z]+|Conn_[A-Za-z]+|DB_(ANY|WWW|DYN)|ErrorStruct|Event_[A-Za-z]+|OB_[A-Za-z]+|TADDR_Param|TCON_[A-Za-z]+|AOM_IDENT|Block_[A-Z]+|Timer|Counter|Remote|Void)$/;

/** Parses a type name; undefined when it is not a type TIA Portal writes. */
export function parseDataType(text: string): DataTypeSyntax | undefined {
  // Older exports append a library version to system types ("DTL:v1.0"); newer ones use a Version attribute.
  const t = text.trim().replace(/^([^"]+):v\d+(\.\d+)*$/i, "$1");
  if (/^"[^"]+"$/.test(t)) return { kind: "udt", name: t.slice(1, -1) };
  if (/^struct$/i.test(t)) return { kind: "struct" };
  const array = /^Array\s*\[(.+?)\]\s+of\s+(.+)$/is.exec(t);
  if (array) {
    const bounds: ArrayBound[] = [];
    for (const dim of array[1]!.split(",")) {
      const m = /^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*$/.exec(dim);
      if (!m || Number(m[1]) > Number(m[2])) return undefined;
      bounds.push({ low: Number(m[1]), high: Number(m[2]) });
    }
    const elementType = array[2]!.trim();
    const element = parseDataType(elementType);
    if (element === undefined || element.kind === "array") return undefined;
    return { kind: "array", bounds, elementType };
  }
  const sized = /^(W?STRING)\s*\[\s*\d+\s*\]$/i.exec(t);
  const base = (sized ? sized[1]! : t).toUpperCase();
  if (ELEMENTARY.has(base)) return { kind: "elementary", name: t, byteSize: sized ? undefined : ELEMENTARY.get(base) };
  if (SYSTEM_TYPE.test(t)) return { kind: "system", name: t };
  return undefined;
}
