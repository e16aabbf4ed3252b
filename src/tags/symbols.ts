/**
 * The controller's symbol table (docs/PROTOCOL.md §20): data blocks from an
 * Explore of the PLC program, their type-info RIDs via LID 1, and type
 * objects explored lazily and cached per connection. Resolves symbolic tag
 * names to item addresses (LIDs, §19.2) with their PLC type and symbol CRC.
 */
import { TagError } from "../errors.js";
import { Ids, Softdatatype } from "../protocol/constants.js";
import { childObjects, getAttribute, typeLists, type PObject } from "../protocol/pobject.js";
import { typeMembers, type TypeMember } from "../protocol/typeinfo.js";
import { isDbArea, dbNumberOf, type ItemAddress } from "../protocol/address.js";
import { numberOf, stringOf, type PValue } from "../protocol/pvalue.js";
import { symbolCrc, type SymbolPathElement } from "../protocol/crc.js";
import { arrayElementLid } from "../protocol/array-lid.js";
import type { ExploreRequest, ExploreResponse } from "../protocol/messages/explore.js";
import {
  formatPlcType,
  typeNameOfSoftdatatype,
  STRING_MAX,
  type ArrayType,
  type PlcType,
  type StructType,
  type StructMemberType,
} from "../values/plc-type.js";
import { formatNamePart, type SymbolicTag } from "./tag-name.js";
import { symbolPathElement } from "../values/symbol-crc.js";

/** The services the symbol table uses (a Session provides them). */
export interface SymbolSource {
  readonly plc: string;
  explore(request: Pick<ExploreRequest, "exploreId" | "childsRecursive" | "attributeIds"> & Partial<ExploreRequest>): Promise<ExploreResponse>;
  getMultiVariables(addresses: ItemAddress[]): Promise<{ values: Map<number, PValue>; errors: Map<number, bigint> }>;
}

export interface DataBlock {
  name: string;
  number: number;
  /** AccessArea 0x8A0E0000 + number. */
  area: number;
}

export interface ResolvedTag {
  text: string;
  address: ItemAddress;
  type: PlcType;
}

/** A node of the browse tree (DBs at the top, then members). */
export interface SymbolNode {
  name: string;
  /** The tag name to use in s7-read / s7-write. */
  tag: string;
  type: string;
  children?: SymbolNode[];
}

/** Type objects nest; a cycle or a runaway depth is a controller fault, not a reason to hang. */
const MAX_TYPE_DEPTH = 16;
/** Nested struct of an array-of-struct element (§19.2). */
const ARRAY_OF_STRUCT_LID = 1;
/** LID 1 of a DB answers the DB's type-info RID (§20.4). */
const DB_TYPE_INFO_LID = 1;

export class SymbolTable {
  private blocks: Promise<DataBlock[]> | undefined;
  private readonly typeRids = new Map<number, Promise<number>>();
  private readonly types = new Map<number, Promise<StructType>>();

  constructor(private readonly source: SymbolSource) {}

  /** Forgets everything (the controller's program changed). */
  invalidate(): void {
    this.blocks = undefined;
    this.typeRids.clear();
    this.types.clear();
  }

  dataBlocks(): Promise<DataBlock[]> {
    this.blocks ??= this.loadDataBlocks().catch((err: unknown) => {
      this.blocks = undefined;
      throw err;
    });
    return this.blocks;
  }

  private async loadDataBlocks(): Promise<DataBlock[]> {
    const res = await this.source.explore({
      exploreId: Ids.PLCProgram,
      childsRecursive: 1,
      attributeIds: [Ids.ObjectVariableTypeName, Ids.BlockNumber],
    });
    const out: DataBlock[] = [];
    const visit = (o: PObject, depth: number): void => {
      if (depth > 4) return;
      if (o.classId === Ids.ClassDB && isDbArea(o.relationId)) {
        const name = stringOf(getAttribute(o, Ids.ObjectVariableTypeName));
        const number = dbNumberOf(o.relationId);
        if (name !== undefined && number !== undefined) out.push({ name, number, area: o.relationId });
      }
      for (const child of childObjects(o)) visit(child, depth + 1);
    };
    for (const o of res.objects) visit(o, 0);
    return out.sort((a, b) => a.number - b.number);
  }

  async findDataBlock(name: string): Promise<DataBlock | undefined> {
    const blocks = await this.dataBlocks();
    return blocks.find((b) => b.name === name) ?? blocks.find((b) => b.name.toLowerCase() === name.toLowerCase());
  }

  /** The type-info RID of a DB (§20.4 step 2). */
  typeRidOf(block: DataBlock): Promise<number> {
    let rid = this.typeRids.get(block.number);
    if (rid === undefined) {
      rid = (async () => {
        const res = await this.source.getMultiVariables([{ symbolCrc: 0, area: block.area, subArea: Ids.DBValueActual, lids: [DB_TYPE_INFO_LID] }]);
        const value = numberOf(res.values.get(0));
        if (value === undefined) {
          throw new TagError("ERR_S7_TAG_NOT_FOUND", `data block "${block.name}" (DB${block.number}) has no type information (only in load memory?)`, {
            plc: this.source.plc,
            tag: block.name,
          });
        }
        return value;
      })();
      rid.catch(() => this.typeRids.delete(block.number));
      this.typeRids.set(block.number, rid);
    }
    return rid;
  }

  /** The struct type behind a type-info RID, nested types included. */
  structType(rid: number, depth = 0): Promise<StructType> {
    if (depth > MAX_TYPE_DEPTH) return Promise.reject(new TagError("ERR_S7_TAG_NOT_FOUND", `types nested deeper than ${MAX_TYPE_DEPTH} levels (RID 0x${rid.toString(16)})`, { plc: this.source.plc }));
    let t = this.types.get(rid);
    if (t === undefined) {
      t = this.loadStructType(rid, depth);
      t.catch(() => this.types.delete(rid));
      this.types.set(rid, t);
    }
    return t;
  }

  private async loadStructType(rid: number, depth: number): Promise<StructType> {
    const res = await this.source.explore({ exploreId: rid, childsRecursive: 1, attributeIds: [] });
    const object = findTypeObject(res.objects, rid);
    const lists = object === undefined ? {} : typeLists(object);
    if (lists.types === undefined || lists.names === undefined) {
      throw new TagError("ERR_S7_TAG_NOT_FOUND", `the controller sent no type information for RID 0x${rid.toString(16)}`, { plc: this.source.plc });
    }
    const members: StructMemberType[] = [];
    for (const m of typeMembers(lists.types, lists.names)) {
      members.push({ name: m.name, lid: m.lid, type: await this.memberType(m, depth) });
    }
    const typeName = object === undefined ? undefined : stringOf(getAttribute(object, Ids.ObjectVariableTypeName));
    return typeName !== undefined && typeName !== "" ? { kind: "struct", typeName, members } : { kind: "struct", members };
  }

  private async memberType(m: TypeMember, depth: number): Promise<PlcType> {
    const info = m.offsetInfo;
    const elementary = (): PlcType => {
      if (info.kind === "string") {
        const name = m.softdatatype === Softdatatype.WString ? "WString" : "String";
        return { kind: "string", name, maxLength: info.maxLength || STRING_MAX[name] };
      }
      const name = typeNameOfSoftdatatype(m.softdatatype);
      if (name === undefined) return { kind: "struct", typeName: `softdatatype ${m.softdatatype}`, members: [] };
      if (name === "String" || name === "WString") return { kind: "string", name, maxLength: STRING_MAX[name] };
      return { kind: "elementary", name };
    };
    switch (info.kind) {
      case "std":
      case "structElemStd":
      case "string":
        return elementary();
      case "array1Dim":
      case "arrayMDim": {
        const element = elementary();
        if (element.kind === "array") return element;
        return { kind: "array", element, dimensions: dimensionsOf(info) };
      }
      case "struct":
      case "fbSfb":
        if (m.softdatatype === Softdatatype.DTL) return { kind: "elementary", name: "DTL" };
        return this.structType(info.relationId, depth + 1);
      case "struct1Dim":
      case "structMDim": {
        const element = await this.structType(info.relationId, depth + 1);
        return { kind: "array", element, dimensions: dimensionsOf(info) };
      }
      case "fbArray":
        return { kind: "array", element: await this.structType(info.relationId, depth + 1), dimensions: dimensionsOf(info) };
    }
  }

  /** Resolves a symbolic tag to its item address and type (§20.6). */
  async resolve(tag: SymbolicTag): Promise<ResolvedTag> {
    const notFound = (message: string): TagError => new TagError("ERR_S7_TAG_NOT_FOUND", `${tag.text}: ${message}`, { plc: this.source.plc, tag: tag.text });
    const [first, ...rest] = tag.path;
    if (first === undefined) throw notFound("empty name");
    const block = await this.findDataBlock(first.name);
    if (block === undefined) throw notFound(`no data block named "${first.name}" on the controller`);
    if (first.indices.length > 0) throw notFound(`"${first.name}" is a data block, not an array`);
    let type: PlcType = await this.structType(await this.typeRidOf(block));
    const lids: number[] = [];
    const crcPath: SymbolPathElement[] = [];
    for (const element of rest) {
      if (type.kind !== "struct") throw notFound(`"${element.name}" does not exist: the member before it is ${formatPlcType(type)}`);
      const member: StructMemberType | undefined = type.members.find((m) => m.name === element.name) ?? type.members.find((m) => m.name.toLowerCase() === element.name.toLowerCase());
      if (member === undefined) throw notFound(`no member "${element.name}" (members: ${type.members.map((m) => m.name).slice(0, 12).join(", ")})`);
      lids.push(member.lid);
      crcPath.push(symbolPathElement(member.name, member.type));
      type = member.type;
      if (element.indices.length > 0) {
        if (type.kind !== "array") throw notFound(`"${member.name}" is ${formatPlcType(type)}, not an array`);
        lids.push(linearIndex(type, element.indices, notFound, member.name));
        type = type.element;
        if (type.kind === "struct") lids.push(ARRAY_OF_STRUCT_LID);
      }
    }
    if (lids.length === 0) {
      return { text: tag.text, type, address: { symbolCrc: 0, area: block.area, subArea: Ids.DBValueActual, lids } };
    }
    return { text: tag.text, type, address: { symbolCrc: symbolCrc(crcPath), area: block.area, subArea: Ids.DBValueActual, lids } };
  }

  /** The browse tree of every data block. */
  async browse(): Promise<SymbolNode[]> {
    const out: SymbolNode[] = [];
    for (const block of await this.dataBlocks()) {
      let type: StructType;
      try {
        type = await this.structType(await this.typeRidOf(block));
      } catch {
        out.push({ name: block.name, tag: formatNamePart(block.name), type: `DB${block.number} (no type information)` });
        continue;
      }
      out.push({ name: block.name, tag: formatNamePart(block.name), type: `DB${block.number}`, children: memberNodes(formatNamePart(block.name), type, 0) });
    }
    return out;
  }
}

function findTypeObject(objects: PObject[], rid: number): PObject | undefined {
  const stack = [...objects];
  let fallback: PObject | undefined;
  while (stack.length > 0) {
    const o = stack.shift()!;
    const lists = typeLists(o);
    if (lists.types !== undefined) {
      if (o.relationId === rid) return o;
      fallback ??= o;
    }
    stack.push(...childObjects(o));
  }
  return fallback;
}

function dimensionsOf(info: { kind: string; lowerBound?: number; count: number; lowerBounds?: number[]; counts?: number[] }): ArrayType["dimensions"] {
  if (info.lowerBounds !== undefined && info.counts !== undefined) {
    const dims: ArrayType["dimensions"] = [];
    for (let i = 0; i < info.counts.length; i++) if (info.counts[i]! > 0) dims.push({ lower: info.lowerBounds[i]!, count: info.counts[i]! });
    // The type info stores the innermost dimension first (§19.2).
    if (dims.length > 0) return dims.reverse();
  }
  return [{ lower: info.lowerBound ?? 0, count: info.count }];
}

/** Multi-dimensional subscripts → one LID, rightmost varying fastest, Bool arrays padded (§19.2, array-lid.ts). */
function linearIndex(type: ArrayType, indices: number[], notFound: (m: string) => TagError, name: string): number {
  if (indices.length !== type.dimensions.length) {
    throw notFound(`"${name}" has ${type.dimensions.length} dimension(s), ${indices.length} subscript(s) given`);
  }
  const offsets = indices.map((index, d) => {
    const dim = type.dimensions[d]!;
    if (index < dim.lower || index >= dim.lower + dim.count) {
      throw notFound(`index ${index} is outside ${dim.lower}..${dim.lower + dim.count - 1} of "${name}"`);
    }
    return index - dim.lower;
  });
  return arrayElementLid(type.dimensions, offsets, type.element.kind === "elementary" && type.element.name === "Bool");
}

function memberNodes(prefix: string, type: StructType, depth: number): SymbolNode[] {
  if (depth > MAX_TYPE_DEPTH) return [];
  return type.members.map((m) => {
    const tag = `${prefix}.${formatNamePart(m.name)}`;
    const node: SymbolNode = { name: m.name, tag, type: formatPlcType(m.type) };
    if (m.type.kind === "struct") node.children = memberNodes(tag, m.type, depth + 1);
    return node;
  });
}
