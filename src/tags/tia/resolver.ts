/**
 * Several engineering files loaded together, and names looked up in them:
 * a PLC tag (`Speed_SP` → %MW20, Int) or a data block member
 * (`DB_Line.Motor.Speed`, through PLC data type references and array
 * subscripts). PLC tags and data blocks share one namespace, PLC data types
 * have their own; a name defined twice is an error naming both places.
 */
import { ConfigError, TagError } from "../../errors.js";
import { parseTagName, type PathElement } from "../tag-name.js";
import { parseDataType } from "./data-type.js";
import type { ArrayBound, GlobalDataBlock, Member, MultilingualText, PlcStruct, PlcTagEntry, SourceLocation, TagFileModel } from "./model.js";

export interface PlcTagLookup {
  kind: "plc-tag";
  name: string;
  address: string;
  dataType: string;
  comment: MultilingualText;
  table: string;
  source: SourceLocation;
}

export interface MemberLookup {
  kind: "member";
  /** The name as looked up. */
  name: string;
  block: string;
  dataType: string;
  comment: MultilingualText;
  /** Set when the result is a whole array. */
  arrayBounds?: ArrayBound[];
  /** Members of a Struct or PLC data type result. */
  members?: Member[];
  source: SourceLocation;
}

export type TableLookup = PlcTagLookup | MemberLookup;

type NamedObject = { kind: "tag"; tag: PlcTagEntry; source: SourceLocation } | { kind: "db"; db: GlobalDataBlock; source: SourceLocation };

export class TagTableSet {
  private readonly symbols = new Map<string, NamedObject>();
  private readonly types = new Map<string, PlcStruct>();
  readonly files: readonly TagFileModel[];

  constructor(models: readonly TagFileModel[]) {
    this.files = [...models];
    for (const model of models) {
      for (const table of model.tagTables) for (const tag of table.tags) this.define(this.symbols, tag.name, { kind: "tag", tag, source: tag.source }, "name");
      for (const db of model.dataBlocks) this.define(this.symbols, db.name, { kind: "db", db, source: db.source }, "name");
      for (const type of model.types) this.define(this.types, type.name, type, "PLC data type");
    }
  }

  /** What a name means in the tables, or undefined when the tables do not define it. */
  lookup(name: string): TableLookup | undefined {
    const result = this.find(name);
    return typeof result === "string" ? undefined : result;
  }

  /** Like lookup, but says why a name does not resolve (TagError ERR_S7_TAG_NOT_FOUND). */
  resolve(name: string): TableLookup {
    const result = this.find(name);
    if (typeof result === "string") throw new TagError("ERR_S7_TAG_NOT_FOUND", `"${name}" is not in the tag tables: ${result}`, { tag: name });
    return result;
  }

  get plcTags(): PlcTagEntry[] {
    return [...this.symbols.values()].flatMap((s) => (s.kind === "tag" ? [s.tag] : []));
  }

  private define<T extends { source: SourceLocation }>(map: Map<string, T>, name: string, value: T, what: string): void {
    const key = name.toLowerCase();
    const first = map.get(key)?.source;
    if (first !== undefined) {
      const { source } = value;
      throw new ConfigError(`duplicate ${what} "${name}": ${first.file}:${first.line} and ${source.file}:${source.line}`, { file: source.file });
    }
    map.set(key, value);
  }

  private find(name: string): TableLookup | string {
    let path: PathElement[];
    try {
      const parsed = parseTagName(name);
      if (parsed.kind !== "symbolic") return "not a symbolic name";
      path = parsed.path;
    } catch (err) {
      return (err as Error).message;
    }
    const [first, ...rest] = path as [PathElement, ...PathElement[]];
    const symbol = this.symbols.get(first.name.toLowerCase());
    if (symbol === undefined) return `no PLC tag or data block "${first.name}"`;
    if (symbol.kind === "tag") {
      const { tag } = symbol;
      if (first.indices.length > 0 || rest.length > 0) return `PLC tag ${tag.name} is a ${tag.dataType} without members or elements`;
      return { kind: "plc-tag", name: tag.name, address: tag.address, dataType: tag.dataType, comment: tag.comment, table: tag.table, source: tag.source };
    }
    const { db } = symbol;
    if (first.indices.length > 0) return `data block ${db.name} is not an array`;
    if (rest.length === 0) return `${db.name} is a data block; name one of its members`;
    return this.walk(name, db, rest);
  }

  private walk(name: string, db: GlobalDataBlock, path: PathElement[]): MemberLookup | string {
    let members: Member[] | undefined = db.members;
    let where = db.name;
    for (let i = 0; i < path.length; i++) {
      const element = path[i]!;
      const member: Member | undefined = members?.find((m) => m.name.toLowerCase() === element.name.toLowerCase());
      if (member === undefined) return `${where} has no member ${element.name}`;
      where = `${where}.${member.name}`;
      let dataType: string = member.dataType;
      if (element.indices.length > 0) {
        const bounds: ArrayBound[] | undefined = member.arrayBounds;
        if (bounds === undefined) return `${where} is a ${member.dataType}, not an array`;
        if (bounds.length !== element.indices.length) return `${where} has ${bounds.length} dimension${bounds.length > 1 ? "s" : ""}, ${element.indices.length} subscript${element.indices.length > 1 ? "s" : ""} given`;
        const outside = element.indices.findIndex((x, d) => x < bounds[d]!.low || x > bounds[d]!.high);
        if (outside >= 0) return `subscript ${element.indices[outside]} of ${where} is outside ${bounds[outside]!.low}..${bounds[outside]!.high}`;
        dataType = member.elementType!;
        where = `${where}[${element.indices.join(",")}]`;
      }
      const last = i === path.length - 1;
      const isArray: boolean = member.arrayBounds !== undefined && element.indices.length === 0;
      const inner: Member[] | string | undefined = isArray ? undefined : this.membersOf(dataType, member);
      if (last) {
        const result: MemberLookup = { kind: "member", name, block: db.name, dataType, comment: member.comment, source: member.source };
        if (isArray) result.arrayBounds = member.arrayBounds!;
        if (inner !== undefined && typeof inner !== "string") result.members = inner;
        return result;
      }
      if (isArray) return `${where} is an array; give a subscript before .${path[i + 1]!.name}`;
      if (inner === undefined) return `${where} is a ${dataType} without members`;
      if (typeof inner === "string") return inner;
      members = inner;
    }
    return `${where} is incomplete`;
  }

  /** Members of a Struct or PLC data type value; a reason when the data type is not loaded. */
  private membersOf(dataType: string, member: Member): Member[] | string | undefined {
    const type = parseDataType(dataType);
    if (type?.kind === "struct") return member.members ?? [];
    if (type?.kind === "udt") {
      const udt = this.types.get(type.name.toLowerCase());
      return udt === undefined ? `PLC data type "${type.name}" is not in the loaded files` : udt.members;
    }
    return undefined;
  }
}
