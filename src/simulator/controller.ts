/**
 * The simulated controller's state shared by all its connections: identity
 * (PAOM string), protection, limits, RUN/STOP, counters, and the item and
 * explore services over the tag table (docs/SIMULATOR.md §9, §10, §12, §15).
 */
import { EventEmitter } from "node:events";
import { Ids } from "../protocol/constants.js";
import type { ItemAddress } from "../protocol/address.js";
import { pv, bytesOf, type PValue } from "../protocol/pvalue.js";
import type { PObject, ObjectElement } from "../protocol/pobject.js";
import { makeObject } from "../protocol/pobject.js";
import { ValueError } from "../errors.js";
import { decodeValue, encodeValue } from "../values/value-map.js";
import type { PlcType } from "../values/plc-type.js";
import { decodeAbsolute, encodeAbsolute } from "../tags/absolute.js";
import type { AbsoluteTag, AbsoluteType } from "../tags/tag-name.js";
import type { SubscriptionLimits } from "./subscriptions.js";
import { ItemCode, type ClassicMember, type SimDataBlock, type SimMember, type TagTable } from "./tag-table.js";

export type RunState = "RUN" | "STOP";

export interface ControllerIdentityConfig {
  name: string;
  orderNumber: string;
  firmware: string;
  password?: string;
  username?: string;
  protectionLevel: number;
  readMax: number;
  writeMax: number;
  runState: RunState;
  /** Subscription limits (SystemLimits LIDs 0 and 1) and the shortest cycle time. */
  subscriptionsMax?: number;
  subscriptionItemsMax?: number;
  subscriptionMinCycleMs?: number;
}

export interface ControllerStats {
  connectionsOpen: number;
  connectionsTotal: number;
  requests: number;
  requestsByService: Record<string, number>;
  itemsRead: number;
  itemsWritten: number;
  /** The most requests one session had outstanding at once (received, not yet answered). */
  maxOutstandingPerSession: number;
  /** Notifications sent, and subscriptions deleted by a write on their session (resetSubscriptionOnWrite). */
  notifications: number;
  subscriptionsReset: number;
}

const CLASSIC_LID = 3;
const AREA_SIZE = 1024;
const CLASS_CPU_EXEC_UNIT = 2179;
const ATTR_OPERATING_STATE_STRUCT = 2237;
const STRUCT_OPERATING_STATE = 3481;
const MEMBER_OPERATING_STATE = 3486;
const ATTR_RUN_STOP_WORD = 8020;

export class ControllerModel extends EventEmitter {
  readonly name: string;
  readonly paom: string;
  readonly password: string | undefined;
  readonly username: string | undefined;
  readonly protectionLevel: number;
  readonly readMax: number;
  readonly writeMax: number;
  private state: RunState;
  /** Controller-wide subscription limits and use (shared by every session's subscriptions). */
  readonly subscriptionLimits: SubscriptionLimits;
  readonly stats: ControllerStats = { connectionsOpen: 0, connectionsTotal: 0, requests: 0, requestsByService: {}, itemsRead: 0, itemsWritten: 0, maxOutstandingPerSession: 0, notifications: 0, subscriptionsReset: 0 };
  /** Process image of inputs, outputs and markers for absolute access. */
  private readonly areas = new Map<number, Buffer>([
    [Ids.AreaInputs, Buffer.alloc(AREA_SIZE)],
    [Ids.AreaOutputs, Buffer.alloc(AREA_SIZE)],
    [Ids.AreaMarkers, Buffer.alloc(AREA_SIZE)],
  ]);

  constructor(config: ControllerIdentityConfig) {
    super();
    this.name = config.name;
    this.paom = `1;${config.orderNumber};V${config.firmware}`;
    this.password = config.password;
    this.username = config.username;
    this.protectionLevel = config.protectionLevel;
    this.readMax = config.readMax;
    this.writeMax = config.writeMax;
    this.state = config.runState;
    this.subscriptionLimits = {
      subscriptionsMax: config.subscriptionsMax ?? 20,
      itemsMax: config.subscriptionItemsMax ?? 2000,
      minCycleMs: config.subscriptionMinCycleMs ?? 100,
      inUse: { subscriptions: 0, items: 0 },
    };
  }

  get runState(): RunState {
    return this.state;
  }

  setRunState(state: RunState): void {
    if (state === this.state) return;
    this.state = state;
    this.emit("runState", state);
  }

  countRequest(service: string): void {
    this.stats.requests++;
    this.stats.requestsByService[service] = (this.stats.requestsByService[service] ?? 0) + 1;
  }

  countItems(kind: "read" | "write", n: number): void {
    if (kind === "read") this.stats.itemsRead += n;
    else this.stats.itemsWritten += n;
  }

  // -------------------------------------------------------------------------
  // Items

  /** A value, or a negative item code. */
  readItem(table: TagTable, a: ItemAddress, level: number): PValue | number {
    if (a.area === Ids.ObjectRoot && a.subArea === Ids.SystemLimits) {
      const lid = a.lids[0];
      const sl = this.subscriptionLimits;
      const values: Record<number, number> = { 1000: this.readMax, 1001: this.writeMax, 0: sl.subscriptionsMax, 1: sl.itemsMax, 2: 100000 };
      return lid !== undefined && a.lids.length === 1 && values[lid] !== undefined ? pv.dint(values[lid]!) : ItemCode.InvalidLID;
    }
    if (a.area === Ids.ObjectRoot && a.subArea === Ids.FreeItems) {
      const sl = this.subscriptionLimits;
      const free: Record<number, number> = { 0: sl.subscriptionsMax - sl.inUse.subscriptions, 1: sl.itemsMax - sl.inUse.items, 2: 100000 };
      const lid = a.lids[0];
      return lid !== undefined && free[lid] !== undefined ? pv.dint(free[lid]!) : ItemCode.InvalidLID;
    }
    if (a.area === Ids.CPUcommon && a.subArea === Ids.CPUProtectionLevel) return pv.dint(this.protectionLevel);
    if (level >= 4) return ItemCode.AccessDenied;
    const area = this.areas.get(a.area);
    if (area !== undefined) {
      if (a.subArea !== Ids.ControllerAreaValueActual || a.lids[0] !== CLASSIC_LID) return ItemCode.InvalidLID;
      return classicRead(area, a.lids);
    }
    if (a.subArea !== Ids.DBValueActual && a.subArea !== Ids.DBValueInitial) return ItemCode.InvalidLID;
    const db = table.block(a.area);
    if (db === undefined) return ItemCode.ObjectNotFound;
    if (a.lids[0] === CLASSIC_LID) {
      if (db.optimized) return ItemCode.InvalidLID;
      const span = classicSpan(table, db, a.lids);
      return typeof span === "number" ? span : classicRead(span.image, span.lids);
    }
    const r = table.resolve(a.area, a.lids, a.symbolCrc);
    switch (r.kind) {
      case "error":
        return r.code;
      case "typeRid":
        return pv.rid(r.rid);
      case "value":
        return encodeValue(r.type, r.db.values.get(r.key), { tag: r.member.name });
      case "element": {
        const flat = flatten(r.db.values.get(r.key));
        return encodeValue(r.type, flat[r.index], { tag: r.member.name });
      }
      case "dtlPart":
        return encodeValue(r.type, dtlPart(r.db.values.get(r.key), r.part), { tag: r.member.name });
    }
  }

  /** 0 when written, else a negative item code. */
  writeItem(table: TagTable, a: ItemAddress, value: PValue, level: number): number {
    // Level 2 = read access only, 4 = no access (docs/PROTOCOL.md §16.1).
    if (level === 2 || level >= 4) return ItemCode.AccessDenied;
    const area = this.areas.get(a.area);
    if (area !== undefined) {
      if (a.subArea !== Ids.ControllerAreaValueActual || a.lids[0] !== CLASSIC_LID) return ItemCode.InvalidLID;
      return classicWrite(area, a.lids, value);
    }
    if (a.subArea !== Ids.DBValueActual) return ItemCode.InvalidLID;
    const db = table.block(a.area);
    if (db === undefined) return ItemCode.ObjectNotFound;
    if (a.lids[0] === CLASSIC_LID) {
      if (db.optimized) return ItemCode.InvalidLID;
      const span = classicSpan(table, db, a.lids);
      if (typeof span === "number") return span;
      const code = classicWrite(span.image, span.lids, value);
      if (code === 0) applyClassicSpan(table, db, span);
      return code;
    }
    const r = table.resolve(a.area, a.lids, a.symbolCrc);
    if (r.kind === "error") return r.code;
    if (r.kind === "typeRid" || r.kind === "dtlPart") return ItemCode.AccessDenied;
    const current = r.kind === "value" ? r.db.values.get(r.key) : flatten(r.db.values.get(r.key))[r.index];
    const checked = checkWrite(r.type, current, value, r.member.name);
    if ("code" in checked) return checked.code;
    if (r.kind === "value") r.db.values.set(r.key, checked.value);
    else setFlat(r.db.values.get(r.key), r.index, checked.value);
    this.emit("write", r.db.name, r.key);
    return 0;
  }

  // -------------------------------------------------------------------------
  // Explore (docs/SIMULATOR.md §12)

  explore(table: TagTable, id: number, attributeIds: number[]): PObject[] | undefined {
    const want = (attr: number): boolean => attributeIds.length === 0 ? attr === Ids.ObjectVariableTypeName : attributeIds.includes(attr);
    if (id === Ids.PLCProgram) {
      const dbs = table.blocks.map((db) => {
        const attrs: [number, PValue][] = [];
        if (want(Ids.ObjectVariableTypeName)) attrs.push([Ids.ObjectVariableTypeName, pv.wstring(db.name)]);
        if (want(Ids.BlockNumber)) attrs.push([Ids.BlockNumber, pv.uint(db.number)]);
        if (want(Ids.Comment)) attrs.push([Ids.Comment, pv.wstring("")]);
        return makeObject(db.area, Ids.ClassDB, attrs, [], 0x20);
      });
      return [makeObject(Ids.PLCProgram, Ids.ClassPLCProgram, [[Ids.ObjectVariableTypeName, pv.wstring("PLCProgram")]], dbs, 0x30)];
    }
    if (id === Ids.ObjectOMSTypeInfoContainer) {
      const types = [...table.blocks.map((db) => this.typeObject(table, db.type.rid, db)), ...this.udtObjects(table)];
      return [makeObject(Ids.ObjectOMSTypeInfoContainer, Ids.ClassOMSTypeInfoContainer, [], types.filter((t): t is PObject => t !== undefined), 0x30)];
    }
    if (id === Ids.CPUexecUnit) {
      const run = this.state === "RUN";
      return [
        makeObject(Ids.CPUexecUnit, CLASS_CPU_EXEC_UNIT, [
          [ATTR_OPERATING_STATE_STRUCT, pv.struct(STRUCT_OPERATING_STATE, [[MEMBER_OPERATING_STATE, pv.dint(run ? 8 : 4)]])],
          [ATTR_RUN_STOP_WORD, pv.uint(run ? 0 : 0xffff)],
        ]),
      ];
    }
    const t = this.typeObject(table, id);
    return t === undefined ? undefined : [t];
  }

  private udtObjects(table: TagTable): (PObject | undefined)[] {
    const out: (PObject | undefined)[] = [];
    for (let rid = 0x91000001; table.struct(rid) !== undefined; rid++) out.push(this.typeObject(table, rid));
    return out;
  }

  private typeObject(table: TagTable, rid: number, db?: SimDataBlock): PObject | undefined {
    const struct = table.struct(rid);
    if (struct === undefined) return undefined;
    const owner = db ?? table.blocks.find((b) => containsStruct(b, rid));
    const info = table.typeInfo(struct, owner?.optimized ?? true);
    const elements: ObjectElement[] = [];
    if (struct.typeName) elements.push({ tag: "attribute", id: Ids.ObjectVariableTypeName, value: pv.wstring(struct.typeName) });
    elements.push({ tag: "vartypeList", list: { firstId: struct.members[0]?.lid ?? 0, elements: info.elements } });
    elements.push({ tag: "varnameList", list: { names: info.names } });
    return { relationId: rid, classId: Ids.ClassTypeInfo, classFlags: 0x20, attributeId: 0, elements };
  }
}

function containsStruct(db: SimDataBlock, rid: number): boolean {
  const visit = (members: SimMember[]): boolean => members.some((m) => m.struct !== undefined && (m.struct.rid === rid || visit(m.struct.members)));
  return db.type.rid === rid || visit(db.type.members);
}

/** Checks a written PValue against the tag's exact wire type (docs/SIMULATOR.md §10) and decodes it. */
function checkWrite(type: PlcType, current: unknown, value: PValue, tag: string): { value: unknown } | { code: number } {
  const wrongType = { code: ItemCode.InvalidValueType };
  const expected = encodeValue(type, current, { tag });
  if (expected.kind !== value.kind) return wrongType;
  if (expected.kind === "scalar" && value.kind === "scalar") {
    if (expected.value.type !== value.value.type) return wrongType;
    if (expected.value.type === "PackedStruct" && value.value.type === "PackedStruct") {
      if (expected.value.id !== value.value.id || expected.value.interfaceTimestamp !== value.value.interfaceTimestamp) return wrongType;
    }
  } else if (expected.kind === "array" && value.kind === "array") {
    if (expected.datatype !== value.datatype || expected.elements.length !== value.elements.length) return wrongType;
  }
  try {
    return { value: decodeValue(type, value, { tag }) };
  } catch (err) {
    if (err instanceof ValueError) return { code: ItemCode.InvalidValueRange };
    throw err;
  }
}

function flatten(v: unknown): unknown[] {
  return Array.isArray(v) ? v.flatMap((x) => (Array.isArray(x) ? flatten(x) : [x])) : [];
}

function setFlat(arr: unknown, index: number, value: unknown): void {
  let i = index;
  const visit = (a: unknown[]): boolean => {
    for (let k = 0; k < a.length; k++) {
      if (Array.isArray(a[k])) {
        if (visit(a[k] as unknown[])) return true;
      } else if (i-- === 0) {
        a[k] = value;
        return true;
      }
    }
    return false;
  };
  if (Array.isArray(arr)) visit(arr);
}

// ---------------------------------------------------------------------------
// Classic byte images (docs/PROTOCOL.md §19.3)

function classicRead(image: Buffer, lids: number[]): PValue | number {
  const [, offset, length, bit] = lids;
  if (offset === undefined || length === undefined || lids.length > 4) return ItemCode.InvalidLID;
  if (length < 1 || offset + length > image.length) return ItemCode.InvalidValueRange;
  if (bit !== undefined) {
    if (bit > 7 || length !== 1) return ItemCode.InvalidValueRange;
    return pv.bool(((image[offset]! >> bit) & 1) === 1);
  }
  return pv.blob(image.subarray(offset, offset + length));
}

function classicWrite(image: Buffer, lids: number[], value: PValue): number {
  const [, offset, length, bit] = lids;
  if (offset === undefined || length === undefined || lids.length > 4) return ItemCode.InvalidLID;
  if (length < 1 || offset + length > image.length) return ItemCode.InvalidValueRange;
  if (bit !== undefined) {
    if (bit > 7 || length !== 1) return ItemCode.InvalidValueRange;
    if (value.kind !== "scalar" || value.value.type !== "Bool") return ItemCode.InvalidValueType;
    image[offset] = value.value.value ? image[offset]! | (1 << bit) : image[offset]! & ~(1 << bit);
    return 0;
  }
  const bytes = value.kind === "scalar" && value.value.type === "Blob" ? value.value.data : bytesOf(value);
  if (bytes === undefined) return ItemCode.InvalidValueType;
  if (bytes.length !== length) return ItemCode.InvalidValueRange;
  bytes.copy(image, offset);
  return 0;
}

const ABSOLUTE_TYPE: Partial<Record<string, AbsoluteType>> = {
  Bool: "BOOL", Byte: "BYTE", Char: "CHAR", USInt: "USINT", SInt: "SINT", Word: "WORD", Int: "INT", UInt: "UINT",
  DWord: "DWORD", DInt: "DINT", UDInt: "UDINT", Real: "REAL", Time: "TIME", LWord: "LWORD", LInt: "LINT", ULInt: "ULINT", LReal: "LREAL",
};

function classicTag(db: SimDataBlock, m: SimMember, type: PlcType): AbsoluteTag | undefined {
  if (type.kind !== "elementary" || !m.classic) return undefined;
  const t = ABSOLUTE_TYPE[type.name];
  if (t === undefined) return undefined;
  const byteLength = t === "BOOL" ? 1 : t === "BYTE" || t === "CHAR" || t === "USINT" || t === "SINT" ? 1 : t === "WORD" || t === "INT" || t === "UINT" ? 2 : t === "LWORD" || t === "LINT" || t === "ULINT" || t === "LREAL" ? 8 : 4;
  return { kind: "absolute", text: `DB${db.number}.${m.name}`, area: "DB", db: db.number, width: "B", byteOffset: m.classic.offset, ...(m.classic.bit === undefined ? {} : { bitOffset: m.classic.bit }), type: t, byteLength };
}

/** The bytes of a non-optimized block around an absolute range, and the LIDs relative to them. */
interface ClassicSpan {
  /** Image of the members overlapping the range, from the first one's start. */
  image: Buffer;
  base: number;
  members: ClassicMember[];
  /** The request's LIDs with the offset made relative to `base`. */
  lids: number[];
}

/**
 * Builds only the members that overlap the requested range (16.3: work in
 * proportion to the bytes read, not to the block), or a negative item code.
 */
function classicSpan(table: TagTable, db: SimDataBlock, lids: number[]): ClassicSpan | number {
  const [, offset, length] = lids;
  if (offset === undefined || length === undefined || lids.length > 4) return ItemCode.InvalidLID;
  if (length < 1 || offset + length > db.classicSize) return ItemCode.InvalidValueRange;
  const members = table.classicMembersIn(db, offset, length);
  const base = Math.min(offset, members[0]?.start ?? offset);
  const end = Math.max(offset + length, members[members.length - 1]?.end ?? 0);
  const image = Buffer.alloc(end - base);
  table.classicWork.bytesBuilt += image.length;
  for (const c of members) writeMemberBytes(db, c, image, c.start - base);
  const relative = [...lids];
  relative[1] = offset - base;
  return { image, base, members, lids: relative };
}

/** One member's classic bytes (a Bool sets its bit) at `at` in `image`. */
function writeMemberBytes(db: SimDataBlock, c: ClassicMember, image: Buffer, at: number): void {
  const m = c.member;
  const value = db.values.get(c.key);
  if (m.type.kind === "string") {
    const s = Buffer.from(String(value ?? ""), "latin1");
    image[at] = m.type.maxLength;
    image[at + 1] = s.length;
    s.copy(image, at + 2);
    return;
  }
  const tag = classicTag(db, m, m.type);
  if (tag === undefined) return;
  if (tag.type === "BOOL") {
    if (value === true) image[at] = image[at]! | (1 << (tag.bitOffset ?? 0));
    return;
  }
  bytesOf(encodeAbsolute(tag, value))?.copy(image, at);
}

/** Decodes the members of a changed span back into the block's values. */
function applyClassicSpan(table: TagTable, db: SimDataBlock, span: ClassicSpan): void {
  table.classicWork.membersVisited += span.members.length;
  for (const c of span.members) {
    const m = c.member;
    const at = c.start - span.base;
    if (m.type.kind === "string") {
      const len = Math.min(span.image[at + 1]!, m.type.maxLength);
      db.values.set(c.key, span.image.subarray(at + 2, at + 2 + len).toString("latin1"));
      continue;
    }
    const tag = classicTag(db, m, m.type);
    if (tag === undefined) continue;
    const slice = tag.type === "BOOL" ? pv.bool(((span.image[at]! >> (tag.bitOffset ?? 0)) & 1) === 1) : pv.blob(span.image.subarray(at, at + tag.byteLength));
    db.values.set(c.key, decodeAbsolute(tag, slice));
  }
}


/** One member of a DTL value (YEAR 9 … NANOSECOND 16); WEEKDAY counts from 1 = Sunday. */
function dtlPart(value: unknown, part: number): number {
  const d = value instanceof Date ? value : new Date(0);
  const ns = (d as { nanoseconds?: number }).nanoseconds ?? d.getUTCMilliseconds() * 1_000_000;
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCDay() + 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), ns][part - 9] ?? 0;
}
