/**
 * Tag names as users write them (docs/NODES.md §5):
 *
 * - symbolic: `"Motor_DB".Speed`, `Motor_DB.Speed`, `Tank.Level[3]`,
 *   `Line."Station 2".Temp`, `Grid.Cell[1,2]`, `Recipes[2].Name`
 * - absolute, for non-optimized blocks and the I/Q/M areas: `DB1.DBX10.0`,
 *   `DB1.DBB0`, `DB1.DBW8:INT`, `DB1.DBD4:REAL`, `DB1.DBL0`, `DB1.DBB0[20]`
 *   (20 raw bytes), `M10.1`, `MW20`, `IB0`, `QD4:REAL`
 * - system tags: `@PLC1@ForceConnectionState`, `@PLC1@UseAlternativeAddress`,
 *   `@PLC1@AlternativeAddress`
 *
 * A malformed name is a TagError that quotes the name and points at the
 * offending character (1-based).
 */
import { TagError } from "../errors.js";

export interface PathElement {
  name: string;
  /** Array subscripts written after the name: `[3]` → [3], `[1,2]` → [1, 2]. */
  indices: number[];
}

export interface SymbolicTag {
  kind: "symbolic";
  text: string;
  /** First element: the data block (or area tag table) name; then members. */
  path: PathElement[];
}

export type AbsoluteArea = "DB" | "I" | "Q" | "M";
export type AbsoluteWidth = "X" | "B" | "W" | "D" | "L";

/** The PLC type an absolute address is read and written as. */
export type AbsoluteType =
  | "BOOL"
  | "BYTE"
  | "USINT"
  | "SINT"
  | "CHAR"
  | "WORD"
  | "INT"
  | "UINT"
  | "DWORD"
  | "DINT"
  | "UDINT"
  | "REAL"
  | "TIME"
  | "LWORD"
  | "LINT"
  | "ULINT"
  | "LREAL"
  | "RAW";

export interface AbsoluteTag {
  kind: "absolute";
  text: string;
  area: AbsoluteArea;
  /** Data block number (area DB only). */
  db?: number;
  width: AbsoluteWidth;
  byteOffset: number;
  /** Bit 0..7 for width X. */
  bitOffset?: number;
  type: AbsoluteType;
  /** Bytes covered on the controller. */
  byteLength: number;
}

export const SYSTEM_TAG_NAMES = ["ForceConnectionState", "UseAlternativeAddress", "AlternativeAddress"] as const;
export type SystemTagName = (typeof SYSTEM_TAG_NAMES)[number];

export interface SystemTag {
  kind: "system";
  text: string;
  connection: string;
  tag: SystemTagName;
}

export type TagAddress = SymbolicTag | AbsoluteTag | SystemTag;

const WIDTH_BYTES: Record<AbsoluteWidth, number> = { X: 1, B: 1, W: 2, D: 4, L: 8 };
const DEFAULT_TYPE: Record<AbsoluteWidth, AbsoluteType> = { X: "BOOL", B: "BYTE", W: "WORD", D: "DWORD", L: "LWORD" };
const TYPES_BY_WIDTH: Record<AbsoluteWidth, readonly AbsoluteType[]> = {
  X: ["BOOL"],
  B: ["BYTE", "USINT", "SINT", "CHAR"],
  W: ["WORD", "INT", "UINT"],
  D: ["DWORD", "DINT", "UDINT", "REAL", "TIME"],
  L: ["LWORD", "LINT", "ULINT", "LREAL"],
};
/** Largest byte offset a classic address can carry (the controller's limit is far lower). */
const MAX_OFFSET = 0xffff;
const MAX_RAW_LENGTH = 65535;

function syntaxError(text: string, position: number, reason: string): TagError {
  const shown = position < text.length ? ` ("${text[position]}")` : "";
  return new TagError("ERR_S7_TAG_SYNTAX", `malformed tag "${text}": ${reason} at character ${position + 1}${shown}`, {
    tag: text,
  });
}

/** Parses one tag name. Throws TagError (ERR_S7_TAG_SYNTAX) on a malformed name. */
export function parseTagName(input: string): TagAddress {
  if (typeof input !== "string") {
    throw new TagError("ERR_S7_TAG_SYNTAX", `tag name must be a string, got ${typeof input}`);
  }
  const text = input.trim();
  if (text.length === 0) throw new TagError("ERR_S7_TAG_SYNTAX", "empty tag name");
  if (text.startsWith("@")) return parseSystemTag(text);
  const absolute = parseAbsolute(text);
  if (absolute !== undefined) return absolute;
  return { kind: "symbolic", text, path: parseSymbolicPath(text) };
}

function parseSystemTag(text: string): SystemTag {
  const second = text.indexOf("@", 1);
  if (second < 0) throw syntaxError(text, text.length, "a system tag has the form @<connection>@<tag>, second '@' missing");
  const connection = text.slice(1, second);
  if (connection.length === 0) throw syntaxError(text, 1, "connection name missing");
  const name = text.slice(second + 1);
  const tag = SYSTEM_TAG_NAMES.find((t) => t.toLowerCase() === name.toLowerCase());
  if (tag === undefined) {
    throw syntaxError(text, second + 1, `unknown system tag "${name}" (known: ${SYSTEM_TAG_NAMES.join(", ")})`);
  }
  return { kind: "system", text, connection, tag };
}

const ABSOLUTE_DB = /^DB(\d+)\.DB([XBWDL])(\d+)(?:\.(\d+))?(?:\[(\d+)\])?(?::([A-Za-z]+))?$/i;
const ABSOLUTE_AREA = /^([IQM])([XBWDL]?)(\d+)(?:\.(\d+))?(?:\[(\d+)\])?(?::([A-Za-z]+))?$/i;
/** Looks like an absolute address (so errors are reported as such, not as an unknown symbol). */
const ABSOLUTE_PREFIX = /^(DB\d+\.DB[XBWDL]\d|[IQM][XBWDL]?\d+(\.\d|\[|:|$))/i;

function parseAbsolute(text: string): AbsoluteTag | undefined {
  const db = ABSOLUTE_DB.exec(text);
  const area = db ? undefined : ABSOLUTE_AREA.exec(text);
  if (!db && !area) {
    if (ABSOLUTE_PREFIX.test(text) && !text.includes('"')) throw locateAbsoluteError(text);
    return undefined;
  }
  const m = (db ?? area)!;
  const areaName: AbsoluteArea = db ? "DB" : (m[1]!.toUpperCase() as AbsoluteArea);
  // Both patterns share the group layout: 2 width, 3 offset, 4 bit, 5 range, 6 type.
  const [, , widthGroup = "", offsetGroup = "", bitGroup, rangeGroup, typeGroup] = m;
  // `M10.1` (no width letter, with a bit) is a Bool; `MW20` needs the letter.
  let width: AbsoluteWidth;
  if (widthGroup === "") {
    if (bitGroup === undefined) throw syntaxError(text, text.length, "a bit address needs '.<bit>' (or write MB/MW/MD for bytes)");
    width = "X";
  } else {
    width = widthGroup.toUpperCase() as AbsoluteWidth;
  }
  const dbNumber = db ? Number(m[1]) : undefined;
  if (dbNumber !== undefined && (dbNumber < 1 || dbNumber > 65535)) {
    throw syntaxError(text, 2, `data block number ${dbNumber} is outside 1..65535`);
  }
  const byteOffset = Number(offsetGroup);
  const offsetPos = text.search(/\d+(?:\.\d+)?(?:\[\d+\])?(?::[A-Za-z]+)?$/);
  if (byteOffset > MAX_OFFSET) throw syntaxError(text, offsetPos, `byte offset ${byteOffset} is too large`);
  if (width === "X") {
    if (bitGroup === undefined) throw syntaxError(text, text.length, "a bit address needs '.<bit>' (0..7)");
    if (Number(bitGroup) > 7) throw syntaxError(text, text.lastIndexOf(".") + 1, `bit ${bitGroup} is outside 0..7`);
  } else if (bitGroup !== undefined) {
    throw syntaxError(text, text.indexOf(".", db ? text.indexOf(".") + 1 : 0), "only bit addresses (X) take '.<bit>'");
  }
  let type: AbsoluteType;
  let byteLength = WIDTH_BYTES[width];
  if (rangeGroup !== undefined) {
    if (width !== "B") throw syntaxError(text, text.indexOf("["), "a raw range '[n]' is only allowed on byte addresses (DBB, MB, IB, QB)");
    if (typeGroup !== undefined) throw syntaxError(text, text.indexOf(":"), "a raw range takes no type suffix");
    const length = Number(rangeGroup);
    if (length < 1 || length > MAX_RAW_LENGTH) throw syntaxError(text, text.indexOf("[") + 1, `range length ${length} is outside 1..${MAX_RAW_LENGTH}`);
    type = "RAW";
    byteLength = length;
  } else if (typeGroup !== undefined) {
    const wanted = typeGroup.toUpperCase() as AbsoluteType;
    if (!TYPES_BY_WIDTH[width].includes(wanted)) {
      throw syntaxError(
        text,
        text.indexOf(":") + 1,
        `type ${typeGroup} does not fit a ${width} address (allowed: ${TYPES_BY_WIDTH[width].join(", ")})`,
      );
    }
    type = wanted;
  } else {
    type = DEFAULT_TYPE[width];
  }
  const tag: AbsoluteTag = { kind: "absolute", text, area: areaName, width, byteOffset, type, byteLength };
  if (dbNumber !== undefined) tag.db = dbNumber;
  if (width === "X") tag.bitOffset = Number(bitGroup);
  return tag;
}

/** Finds the first character where an almost-absolute address goes wrong. */
function locateAbsoluteError(text: string): TagError {
  const patterns = [/^DB\d+\.DB[XBWDL]\d*/i, /^[IQM][XBWDL]?\d*/i];
  for (const p of patterns) {
    const m = p.exec(text);
    if (m) {
      let pos = m[0].length;
      if (/\d/.test(text[pos - 1] ?? "")) {
        // after the offset: '.bit', '[n]' or ':TYPE' may follow
        const rest = /^(\.\d+)?(\[\d+\])?(:[A-Za-z]+)?/.exec(text.slice(pos));
        pos += rest ? rest[0].length : 0;
      }
      return syntaxError(text, Math.min(pos, text.length), "invalid absolute address");
    }
  }
  return syntaxError(text, 0, "invalid absolute address");
}

/** Splits `Line."Station 2".Temp[3]` into path elements. */
function parseSymbolicPath(text: string): PathElement[] {
  const path: PathElement[] = [];
  let i = 0;
  for (;;) {
    let name: string;
    if (text[i] === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw syntaxError(text, i, "unterminated quote");
      name = text.slice(i + 1, end);
      if (name.length === 0) throw syntaxError(text, i, "empty quoted name");
      i = end + 1;
    } else {
      const start = i;
      while (i < text.length && !'.[]"'.includes(text[i]!)) {
        const c = text[i]!;
        if (c.charCodeAt(0) < 0x20 || c === " " || c === "\t" || c === ":" || c === "@" || c === ",") {
          throw syntaxError(text, i, "character not allowed in an unquoted name (quote the name)");
        }
        i++;
      }
      if (i === start) throw syntaxError(text, i, "name expected");
      name = text.slice(start, i);
    }
    const indices: number[] = [];
    while (text[i] === "[") {
      const close = text.indexOf("]", i);
      if (close < 0) throw syntaxError(text, i, "unterminated '['");
      const inner = text.slice(i + 1, close);
      let pos = i + 1;
      for (const part of inner.split(",")) {
        const trimmed = part.trim();
        if (!/^-?\d+$/.test(trimmed)) throw syntaxError(text, pos + (part.length - part.trimStart().length), "array index must be a whole number");
        indices.push(Number(trimmed));
        pos += part.length + 1;
      }
      i = close + 1;
    }
    path.push({ name, indices });
    if (i === text.length) return path;
    if (text[i] !== ".") throw syntaxError(text, i, "'.' expected between names");
    i++;
    if (i === text.length) throw syntaxError(text, i, "name expected after '.'");
  }
}

/** One name of a symbolic path as written in a tag: quoted when it is not a plain identifier. */
export function formatNamePart(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `"${name}"`;
}

/** The canonical spelling of a parsed tag, used as a cache key. */
export function formatTag(tag: TagAddress): string {
  switch (tag.kind) {
    case "system":
      return `@${tag.connection}@${tag.tag}`;
    case "absolute": {
      const prefix = tag.area === "DB" ? `DB${tag.db}.DB${tag.width}` : `${tag.area}${tag.width}`;
      const bit = tag.bitOffset === undefined ? "" : `.${tag.bitOffset}`;
      const suffix = tag.type === "RAW" ? `[${tag.byteLength}]` : tag.type === DEFAULT_TYPE[tag.width] ? "" : `:${tag.type}`;
      return `${prefix}${tag.byteOffset}${bit}${suffix}`;
    }
    case "symbolic":
      return tag.path
        .map((p) => {
          const name = formatNamePart(p.name);
          return p.indices.length > 0 ? `${name}[${p.indices.join(",")}]` : name;
        })
        .join(".");
  }
}
