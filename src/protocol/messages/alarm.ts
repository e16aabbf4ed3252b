/**
 * Alarms (docs/PROTOCOL.md §29): the alarm subscription's CreateObject, the
 * alarm-instance (DAI) objects of alarm notifications and of the
 * active-alarm Explore, their HmiInfo and associated values, and the
 * acknowledgement, whose layout no public source shows (UNVERIFIED, see
 * docs/PROTOCOL-NOTES.md "Alarms").
 */
import { DecodeError } from "../../errors.js";
import { ByteReader, ByteWriter } from "../bytes.js";
import { Opcode, PValueFlags } from "../constants.js";
import { getAttribute, makeObject, readPObjectList, writePObject, type PObject } from "../pobject.js";
import { numberOf, pv, structMember, type BlobElement, type Element, type PValue } from "../pvalue.js";
import type { CreateObjectRequest } from "./createObject.js";
import type { ExploreRequest } from "./explore.js";
import type { SetVariableRequest } from "./singleVariable.js";

/** Object and attribute ids of §29.1. */
export const AlarmIds = {
  AlarmSubsystem: 8,
  ReferenceTriggerAndTransmitMode: 1005,
  AlarmDomain: 2659,
  ItsAlarmSubsystem: 2660,
  ClassAlarmSubscriptionRef: 2662,
  UpdateRelevantDAI: 2667,
  CpuAlarmId: 2670,
  AllStatesInfo: 2671,
  DaiAlarmDomain: 2672,
  Coming: 2673,
  Going: 2677,
  ClassDai: 2681,
  AlarmTexts: 2715,
  CgsAllStatesInfo: 3474,
  CgsTimestamp: 3475,
  CgsAssociatedValues: 3476,
  CgsAckTimestamp: 3646,
  MessageType: 4079,
  AlarmDomain2: 7731,
  HmiInfo: 7813,
  SequenceCounter: 7917,
  SendAlarmTexts: 8173,
  AlarmTextLanguages: 8181,
  ObjectVariableTypeName: 233,
  /** Attribute 1082 of an alarm subscription. */
  FunctionClassAlarms: 2,
  RouteModeAlarms: 2,
  /** RelationId of the child object (CS and PY, meaning unknown). */
  ReferenceRelation: 0x51010001,
} as const;

/** Windows LCIDs of the languages this package names (§29.1). */
export const LANGUAGE_IDS: Readonly<Record<string, number>> = { "de-DE": 1031, "en-US": 1033, "es-ES": 1034, "fr-FR": 1036, "it-IT": 1040, "zh-CN": 2052 };

/** Text ids inside AlarmTexts keys (§29.3): 1 info text, 2 alarm text. */
export const TextId = { Info: 1, Alarm: 2 } as const;

// ---------------------------------------------------------------------------
// The subscription (§29.2)

export interface AlarmSubscriptionSpec {
  containerId: number;
  relationId: number;
  /** LCIDs whose texts come with every event; empty = as CS sends it. */
  languages: readonly number[];
  creditLimit: number;
  integrityId?: number;
}

export function makeAlarmSubscriptionRequest(s: AlarmSubscriptionSpec): CreateObjectRequest {
  const child = makeObject(AlarmIds.ReferenceRelation, AlarmIds.ClassAlarmSubscriptionRef, [
    [AlarmIds.ObjectVariableTypeName, pv.wstring("S7Secure_Alarms")],
    [AlarmIds.ReferenceTriggerAndTransmitMode, pv.usint(3)],
    [AlarmIds.AlarmDomain, pv.array("UInt", new Array<Element>(10).fill({ type: "UInt", value: 0 }))],
    [AlarmIds.AlarmDomain2, pv.array("UInt", [{ type: "UInt", value: 65535 }], PValueFlags.AddressArray)],
    [AlarmIds.AlarmTextLanguages, pv.addressArray(s.languages)],
    [AlarmIds.SendAlarmTexts, pv.bool(true)],
  ]);
  child.elements.push({ tag: "relation", id: AlarmIds.ItsAlarmSubsystem, value: AlarmIds.AlarmSubsystem });
  const object = makeObject(
    s.relationId,
    1001,
    [
      [233, pv.wstring(`Subscription_${s.relationId >>> 0}`)],
      [1082, pv.usint(AlarmIds.FunctionClassAlarms)],
      [1002, pv.uint(0)],
      [1003, pv.lint(0n)],
      [1040, pv.usint(AlarmIds.RouteModeAlarms)],
      [1041, pv.bool(true)],
      [1048, pv.addressArray([0x80010000, 0, 0])],
      [1049, pv.udint(0)],
      [1050, pv.udint(0)],
      [1051, pv.usint(0)],
      [1052, pv.usint(0)],
      [1053, pv.int(s.creditLimit)],
      [1054, pv.uint(65535)],
    ],
    [child],
  );
  const m: CreateObjectRequest = { requestId: s.containerId, requestValue: pv.udint(0), reserved: 0, object };
  if (s.integrityId !== undefined) m.integrityId = s.integrityId;
  return m;
}

/** What a server needs of an alarm subscription; undefined when the object is no alarm subscription. */
export function parseAlarmSubscriptionRequest(m: CreateObjectRequest): { relationId: number; languages: number[]; creditLimit: number } | undefined {
  const o = m.object;
  if (o.classId !== 1001 || numberOf(getAttribute(o, 1082)) !== AlarmIds.FunctionClassAlarms) return undefined;
  const child = o.elements.find((e) => e.tag === "object" && e.object.classId === AlarmIds.ClassAlarmSubscriptionRef);
  if (child === undefined || child.tag !== "object") throw new DecodeError("alarm subscription without its class-2662 child object");
  const langs = getAttribute(child.object, AlarmIds.AlarmTextLanguages);
  const languages = langs?.kind === "array" ? langs.elements.map((e) => (e.type === "UDInt" ? e.value : 0)) : [];
  return { relationId: o.relationId, languages, creditLimit: numberOf(getAttribute(o, 1053)) ?? -1 };
}

// ---------------------------------------------------------------------------
// HmiInfo (7813, §29.3)

export interface HmiInfo {
  syntaxId: number;
  version: number;
  clientAlarmId: number;
  priority: number;
  alarmClass: number;
  producer: number;
  groupId: number;
  flags: number;
}

export function decodeHmiInfo(data: Uint8Array): HmiInfo {
  const r = new ByteReader(data);
  const h: HmiInfo = { syntaxId: r.u16(), version: r.u16(), clientAlarmId: r.u32(), priority: r.u8(), alarmClass: 0, producer: 0, groupId: 0, flags: 0 };
  if (h.syntaxId >= 257) r.bytes(3, "HmiInfo reserved");
  if (h.syntaxId >= 258) {
    h.alarmClass = r.u16();
    h.producer = r.u8();
    h.groupId = r.u8();
    h.flags = r.u8();
  }
  if (!r.atEnd) throw new DecodeError(`${r.remaining} byte(s) after the HmiInfo`, r.offset);
  return h;
}

export function encodeHmiInfo(h: HmiInfo): Buffer {
  const w = new ByteWriter(17);
  w.u16(h.syntaxId).u16(h.version).u32(h.clientAlarmId).u8(h.priority);
  if (h.syntaxId >= 257) w.u8(0).u8(0).u8(0);
  if (h.syntaxId >= 258) w.u16(h.alarmClass).u8(h.producer).u8(h.groupId).u8(h.flags);
  return w.toBuffer();
}

// ---------------------------------------------------------------------------
// Associated values (3476, §29.3)

export type AssociatedValue = { type: "Bool"; value: boolean } | { type: "Int" | "DInt" | "USInt" | "UInt" | "UDInt" | "SInt" | "Real" | "LReal"; value: number } | { type: "String" | "WString"; value: string; max: number };

const SOFT_TYPE = 0x02000000;
const NUMERIC: Record<number, { type: "Int" | "DInt" | "USInt" | "UInt" | "UDInt" | "SInt" | "Real" | "LReal"; size: number }> = {
  0x05: { type: "Int", size: 2 },
  0x07: { type: "DInt", size: 4 },
  0x08: { type: "Real", size: 4 },
  0x30: { type: "LReal", size: 8 },
  0x34: { type: "USInt", size: 1 },
  0x35: { type: "UInt", size: 2 },
  0x36: { type: "UDInt", size: 4 },
  0x37: { type: "SInt", size: 1 },
};
const SOFT_OF: Record<string, number> = { Bool: 0x01, Int: 0x05, DInt: 0x07, Real: 0x08, LReal: 0x30, USInt: 0x34, UInt: 0x35, UDInt: 0x36, SInt: 0x37 };
const BLOB_HEADER = { unknown: Buffer.alloc(8), blobType: 2 };

/** One associated value from its Blob; undefined for an empty entry or a type this package does not read. */
export function decodeAssociatedValue(b: BlobElement): AssociatedValue | undefined {
  if (b.data.length === 0 || b.rootId < SOFT_TYPE) return undefined;
  const r = new ByteReader(b.data);
  const soft = b.rootId - SOFT_TYPE;
  if (soft === 0x01) return { type: "Bool", value: r.u8() !== 0 };
  const n = NUMERIC[soft];
  if (n !== undefined) {
    const buf = Buffer.from(r.bytes(n.size, "associated value"));
    const value = { Int: () => buf.readInt16BE(), DInt: () => buf.readInt32BE(), Real: () => buf.readFloatBE(), LReal: () => buf.readDoubleBE(), USInt: () => buf.readUInt8(), UInt: () => buf.readUInt16BE(), UDInt: () => buf.readUInt32BE(), SInt: () => buf.readInt8() }[n.type]();
    return { type: n.type, value };
  }
  if ((b.rootId & 0xffff0000) >>> 0 === 0x020a0000) {
    const max = r.u8();
    const length = r.u8();
    return { type: "String", max, value: Buffer.from(r.bytes(length, "String value")).toString("latin1") };
  }
  if ((b.rootId & 0xffff0000) >>> 0 === 0x020b0000) {
    const max = r.u16();
    const length = r.u16();
    return { type: "WString", max, value: Buffer.from(r.bytes(length * 2, "WString value")).swap16().toString("utf16le") };
  }
  return undefined;
}

export function encodeAssociatedValue(v: AssociatedValue): BlobElement {
  const w = new ByteWriter(8);
  let rootId: number;
  switch (v.type) {
    case "Bool":
      rootId = SOFT_TYPE + 0x01;
      w.u8(v.value ? 1 : 0);
      break;
    case "String": {
      const bytes = Buffer.from(v.value, "latin1");
      rootId = 0x020a0000 + v.max;
      w.u8(v.max).u8(bytes.length).bytes(bytes);
      break;
    }
    case "WString": {
      const bytes = Buffer.from(v.value, "utf16le").swap16();
      rootId = 0x020b0000 + v.max;
      w.u16(v.max).u16(bytes.length / 2).bytes(bytes);
      break;
    }
    default: {
      rootId = SOFT_TYPE + SOFT_OF[v.type]!;
      const size = Object.values(NUMERIC).find((n) => n.type === v.type)!.size;
      const buf = Buffer.alloc(size);
      ({ Int: () => buf.writeInt16BE(v.value), DInt: () => buf.writeInt32BE(v.value), Real: () => buf.writeFloatBE(v.value), LReal: () => buf.writeDoubleBE(v.value), USInt: () => buf.writeUInt8(v.value), UInt: () => buf.writeUInt16BE(v.value), UDInt: () => buf.writeUInt32BE(v.value), SInt: () => buf.writeInt8(v.value) })[v.type]();
      w.bytes(buf);
    }
  }
  return { type: "Blob", rootId, header: BLOB_HEADER, data: w.toBuffer() };
}

/** The 17-entry Blob array of AS_CGS.AssociatedValues: the type header, SD_1 … SD_10, empty rest. */
function associatedValuesPValue(values: readonly (AssociatedValue | undefined)[]): PValue {
  if (values.length > 10) throw new RangeError(`an alarm carries at most 10 associated values, not ${values.length}`);
  const elements: Element[] = [{ type: "Blob", rootId: 0, data: Buffer.from([1, 1, 0, 0]) }];
  for (let i = 0; i < 16; i++) {
    const v = values[i];
    elements.push(v === undefined ? { type: "Blob", rootId: 0, data: Buffer.alloc(0) } : encodeAssociatedValue(v));
  }
  return pv.array("Blob", elements);
}

function associatedValuesOf(p: PValue | undefined): (AssociatedValue | undefined)[] {
  if (p === undefined || p.kind !== "array") return [];
  const out = p.elements.slice(1, 11).map((e) => (e.type === "Blob" ? decodeAssociatedValue(e) : undefined));
  while (out.length > 0 && out[out.length - 1] === undefined) out.pop();
  return out;
}

// ---------------------------------------------------------------------------
// Alarm instances (DAI, class 2681)

/** AS_CGS: one came or went event of an alarm. */
export interface AlarmTransition {
  allStatesInfo: number;
  /** ns since 1970 UTC. */
  timestamp: bigint;
  /** ns since 1970 UTC; 0 = not acknowledged. */
  ackTimestamp: bigint;
  /** SD_1 … SD_n (undefined where empty or of an unread type). */
  values: (AssociatedValue | undefined)[];
}

export interface AlarmInstance {
  name: string;
  cpuAlarmId: bigint;
  allStatesInfo: number;
  domain: number;
  messageType: number;
  hmi: HmiInfo;
  sequenceCounter: number;
  /** Exactly one of the two: which one tells whether the alarm came or went. */
  coming?: AlarmTransition;
  going?: AlarmTransition;
  /** Keyed by `(LCID << 16) | textId`. */
  texts: Map<number, string>;
}

function cgsPValue(t: AlarmTransition): PValue {
  return pv.struct(0, [
    [AlarmIds.CgsAllStatesInfo, pv.usint(t.allStatesInfo)],
    [AlarmIds.CgsTimestamp, pv.bigint("Timestamp", t.timestamp)],
    [AlarmIds.CgsAssociatedValues, associatedValuesPValue(t.values)],
    [AlarmIds.CgsAckTimestamp, pv.bigint("Timestamp", t.ackTimestamp)],
  ]);
}

function bigOf(p: PValue | undefined): bigint {
  return p !== undefined && p.kind === "scalar" && (p.value.type === "Timestamp" || p.value.type === "LWord") ? p.value.value : 0n;
}

function cgsOf(p: PValue): AlarmTransition {
  return {
    allStatesInfo: numberOf(structMember(p, AlarmIds.CgsAllStatesInfo)) ?? 0,
    timestamp: bigOf(structMember(p, AlarmIds.CgsTimestamp)),
    ackTimestamp: bigOf(structMember(p, AlarmIds.CgsAckTimestamp)),
    values: associatedValuesOf(structMember(p, AlarmIds.CgsAssociatedValues)),
  };
}

export function makeAlarmObject(a: AlarmInstance, relationId = 0): PObject {
  const attributes: [number, PValue][] = [
    [AlarmIds.ObjectVariableTypeName, pv.wstring(a.name)],
    [AlarmIds.CpuAlarmId, pv.bigint("LWord", a.cpuAlarmId)],
    [AlarmIds.AllStatesInfo, pv.usint(a.allStatesInfo)],
    [AlarmIds.DaiAlarmDomain, pv.uint(a.domain)],
    [AlarmIds.MessageType, pv.dint(a.messageType)],
    [AlarmIds.HmiInfo, pv.blob(encodeHmiInfo(a.hmi))],
    [AlarmIds.SequenceCounter, pv.udint(a.sequenceCounter)],
  ];
  if ((a.coming === undefined) === (a.going === undefined)) throw new RangeError("an alarm instance carries exactly one of Coming and Going");
  if (a.coming !== undefined) attributes.push([AlarmIds.Coming, cgsPValue(a.coming)]);
  if (a.going !== undefined) attributes.push([AlarmIds.Going, cgsPValue(a.going)]);
  if (a.texts.size > 0) {
    const entries = [...a.texts].map(([key, text]) => ({ key, value: { type: "Blob", rootId: 0, data: Buffer.from(text, "utf8") } as Element }));
    attributes.push([AlarmIds.AlarmTexts, { kind: "sparse", flags: PValueFlags.SparseArray, datatype: "Blob", entries }]);
  }
  return makeObject(relationId, AlarmIds.ClassDai, attributes);
}

/** Reads a DAI object; a DecodeError when a required attribute is missing. */
export function parseAlarmObject(o: PObject): AlarmInstance {
  if (o.classId !== AlarmIds.ClassDai) throw new DecodeError(`object of class ${o.classId} is no alarm instance (2681)`);
  const hmi = getAttribute(o, AlarmIds.HmiInfo);
  const id = getAttribute(o, AlarmIds.CpuAlarmId);
  if (hmi === undefined || hmi.kind !== "scalar" || hmi.value.type !== "Blob" || id === undefined) throw new DecodeError("alarm instance without CPUAlarmID or HmiInfo");
  const a: AlarmInstance = {
    name: (() => {
      const n = getAttribute(o, AlarmIds.ObjectVariableTypeName);
      return n?.kind === "scalar" && n.value.type === "WString" ? n.value.value : "";
    })(),
    cpuAlarmId: bigOf(id),
    allStatesInfo: numberOf(getAttribute(o, AlarmIds.AllStatesInfo)) ?? 0,
    domain: numberOf(getAttribute(o, AlarmIds.DaiAlarmDomain)) ?? 0,
    messageType: numberOf(getAttribute(o, AlarmIds.MessageType)) ?? 0,
    hmi: decodeHmiInfo(hmi.value.data),
    sequenceCounter: numberOf(getAttribute(o, AlarmIds.SequenceCounter)) ?? 0,
    texts: new Map(),
  };
  const coming = getAttribute(o, AlarmIds.Coming);
  const going = getAttribute(o, AlarmIds.Going);
  if (coming !== undefined) a.coming = cgsOf(coming);
  if (going !== undefined) a.going = cgsOf(going);
  if (a.coming === undefined && a.going === undefined) throw new DecodeError("alarm instance with neither Coming nor Going");
  const texts = getAttribute(o, AlarmIds.AlarmTexts);
  if (texts?.kind === "sparse") for (const e of texts.entries) if (e.value.type === "Blob") a.texts.set(e.key, e.value.data.toString("utf8"));
  return a;
}

/** The text of one language and text id, or undefined. */
export function alarmText(a: AlarmInstance, lcid: number, textId: number = TextId.Alarm): string | undefined {
  return a.texts.get(((lcid << 16) | textId) >>> 0);
}

/**
 * Substitutes `@<n>%<format>@` placeholders with associated value SD_n
 * (§29.3); `%d`/`%i` round, `%x` hex, anything else prints the value. An
 * unknown value leaves the placeholder as it is.
 */
export function substitutePlaceholders(text: string, values: readonly (AssociatedValue | undefined)[]): string {
  return text.replace(/@(\d+)%([0-9.]*)([a-zA-Z])@/g, (all, n: string, width: string, conv: string) => {
    const v = values[Number(n) - 1];
    if (v === undefined) return all;
    const raw = v.value;
    let s: string;
    if (typeof raw === "number" && (conv === "d" || conv === "i" || conv === "u")) s = String(Math.round(raw));
    else if (typeof raw === "number" && (conv === "x" || conv === "X")) s = Math.round(raw).toString(16)[conv === "X" ? "toUpperCase" : "toLowerCase"]();
    else if (typeof raw === "number" && conv === "f" && width.includes(".")) s = raw.toFixed(Number(width.split(".")[1]));
    else s = String(raw);
    return s;
  });
}

// ---------------------------------------------------------------------------
// Alarm notifications (§29.3)

export interface AlarmNotification {
  subscriptionId: number;
  creditTick: number;
  sequenceNumber: number;
  /** µs since 1970. */
  timestamp: bigint;
  changeCounter: number;
  unknown: number;
  alarms: AlarmInstance[];
}

/** Return value of the second part: objects follow. */
const OBJECTS_FOLLOW = 0x81;

export function encodeAlarmNotification(n: AlarmNotification): Buffer {
  const w = new ByteWriter(256);
  w.u8(Opcode.Notification).u32(n.subscriptionId).u16(0x0400).u16(0).u16(0);
  w.u8(n.creditTick).vlqU32(n.sequenceNumber).u64(n.timestamp).u8(n.changeCounter);
  w.u8(0); // the (empty) item list
  w.u32(n.subscriptionId).u16(n.unknown).u8(OBJECTS_FOLLOW);
  for (const a of n.alarms) writePObject(w, makeAlarmObject(a));
  w.u8(0).u32(0);
  return w.toBuffer();
}

/**
 * Reads an alarm notification; undefined when the PDU is a data
 * notification (its item list is not empty or no alarm part follows).
 */
export function decodeAlarmNotification(pdu: Uint8Array): AlarmNotification | undefined {
  const r = new ByteReader(pdu);
  if (r.u8() !== Opcode.Notification) throw new DecodeError("notification does not start with 0x33", 0);
  const subscriptionId = r.u32();
  const marker = r.u16();
  r.u16();
  if (marker === 0x0400) r.u16();
  if (subscriptionId < 0x70000000) return undefined;
  const creditTick = r.u8();
  const sequenceNumber = r.vlqU32();
  const timestamp = r.peek() === 0 ? r.u64() : 0n;
  const changeCounter = r.u8();
  if (r.u8() !== 0) return undefined;
  if (r.atEnd || r.peek() === 0) return undefined;
  r.u32(); // the part's object id (the subscription's, §29.3)
  const unknown = r.u16();
  const rv = r.u8();
  if (rv !== OBJECTS_FOLLOW) throw new DecodeError(`alarm notification with return value 0x${rv.toString(16)}, 0x81 expected`, r.offset - 1);
  const objects = readPObjectList(r);
  const alarms = objects.filter((o) => o.classId === AlarmIds.ClassDai).map(parseAlarmObject);
  if (r.u8() !== 0) throw new DecodeError("alarm notification part does not end with 00", r.offset - 1);
  return { subscriptionId, creditTick, sequenceNumber, timestamp, changeCounter, unknown, alarms };
}

// ---------------------------------------------------------------------------
// Active alarms (§29.4) and acknowledgement (§29.6, UNVERIFIED)

export const ACTIVE_ALARM_ATTRIBUTES: readonly number[] = [2670, 2671, 2672, 2673, 2677, 4079, 7813, 233, 7917, 2715];

export function makeActiveAlarmsExplore(integrityId?: number): ExploreRequest {
  const m: ExploreRequest = { exploreId: AlarmIds.AlarmSubsystem, exploreRequestId: AlarmIds.UpdateRelevantDAI, childsRecursive: 1, unknown: 1, parents: 0, attributeIds: [...ACTIVE_ALARM_ATTRIBUTES] };
  if (integrityId !== undefined) m.integrityId = integrityId;
  return m;
}

/** The alarm instances of an Explore answer (the DAI objects, at any depth). */
export function alarmsOfExplore(objects: readonly PObject[]): AlarmInstance[] {
  const out: AlarmInstance[] = [];
  const visit = (o: PObject): void => {
    if (o.classId === AlarmIds.ClassDai) out.push(parseAlarmObject(o));
    for (const e of o.elements) if (e.tag === "object") visit(e.object);
  };
  objects.forEach(visit);
  return out;
}

/**
 * The acknowledgement as this package sends it (UNVERIFIED on hardware, no
 * public source): SetVariable on theAlarmSubsystem (8), address
 * DAI.CPUAlarmID (2670), value the LWord id of the alarm to acknowledge.
 */
export function makeAlarmAckRequest(cpuAlarmId: bigint, integrityId?: number): SetVariableRequest {
  const m: SetVariableRequest = { inObjectId: AlarmIds.AlarmSubsystem, address: AlarmIds.CpuAlarmId, value: pv.bigint("LWord", cpuAlarmId) };
  if (integrityId !== undefined) m.integrityId = integrityId;
  return m;
}

/** The alarm id of an acknowledgement request; undefined when the request is something else. */
export function parseAlarmAckRequest(m: SetVariableRequest): bigint | undefined {
  if (m.inObjectId !== AlarmIds.AlarmSubsystem || m.address !== AlarmIds.CpuAlarmId) return undefined;
  return m.value.kind === "scalar" && m.value.value.type === "LWord" ? m.value.value.value : undefined;
}

/** CPUAlarmID = (RelationId of the source << 32) | (Alid << 16) (§29.3). */
export function cpuAlarmIdOf(sourceRelationId: number, alid: number): bigint {
  return (BigInt(sourceRelationId >>> 0) << 32n) | (BigInt(alid & 0xffff) << 16n);
}

