/**
 * Data subscriptions (docs/PROTOCOL.md §24, docs/PROTOCOL.md §24): the
 * CreateObject of a class-1001 object below SessionId2, its answer, the
 * credit-limit SetVariable (attribute 1053) and the DeleteObject of the
 * subscription. The notifications themselves are in notification.ts.
 *
 * These helpers build and read the message bodies; the generic codecs of
 * createObject.ts, singleVariable.ts and deleteObject.ts put them on the wire.
 */
import { DecodeError } from "../../errors.js";
import { Ids, PValueFlags } from "../constants.js";
import type { ItemAddress } from "../address.js";
import { getAttribute, makeObject } from "../pobject.js";
import { numberOf, pv, type PValue } from "../pvalue.js";
import type { CreateObjectRequest, CreateObjectResponse } from "./createObject.js";
import type { DeleteObjectRequest } from "./deleteObject.js";
import type { SetVariableRequest } from "./singleVariable.js";

/** Reference-list word 0: bit 31 "create new", bits 16–23 the change counter (§24.1). */
const CREATE_NEW = 0x80000000;
/** Item head: `0x80040000 | (1 + number of LIDs)` (§24.1). */
const ITEM_HEAD = 0x80040000;
/** Route mode that sends a notification only for cycles with changes (§24.2). */
export const ROUTE_MODE_CHANGES_ONLY = 0x20;
/** Ticks attribute 1054 as every known sender puts it. */
const TICKS = 65535;
/** Credit limit meaning "never stop" (§24.2). */
export const UNLIMITED_CREDITS = -1;

/** One subscribed item: the id that comes back in notifications and the item's address. */
export interface SubscriptionItem {
  referenceId: number;
  address: ItemAddress;
}

/** What a subscription CreateObject carries. */
export interface SubscriptionSpec {
  /** SessionId2, the subscription container of the session (§13.2). */
  containerId: number;
  /** Chosen by the client (CS/JS/PY start at 0x7FFFC001). */
  relationId: number;
  items: SubscriptionItem[];
  cycleTimeMs: number;
  /** −1 unlimited, 0 none, n > 0 stop at credit tick n (§24.2). */
  creditLimit: number;
  routeMode: number;
  /** Bits 16–23 of reference-list word 0 (1 in every known sender). */
  changeCounter: number;
  /** Attribute 1082 (0 data, 2 alarms; TIA sends 3). */
  functionClassId?: number;
  /** Attribute 1050, sent by the TP1200 only. */
  delayTimeMs?: number;
  /** Attribute 1055 (CS, PY, TIA send 0; JS and the TP1200 leave it out). */
  with1055?: boolean;
  /** Write-counter IntegrityId (TLS firmware). */
  integrityId?: number;
}

/** The UDInt words of a reference list (attribute 1048). */
export function referenceListWords(items: readonly SubscriptionItem[], changeCounter: number): number[] {
  if (!Number.isInteger(changeCounter) || changeCounter < 0 || changeCounter > 0xff) throw new RangeError(`change counter ${changeCounter} is not 0…255`);
  const words = [(CREATE_NEW | (changeCounter << 16)) >>> 0, 0, items.length];
  for (const { referenceId, address } of items) {
    words.push((ITEM_HEAD | (1 + address.lids.length)) >>> 0, referenceId >>> 0, 0, address.area >>> 0, address.symbolCrc >>> 0, address.subArea >>> 0, ...address.lids);
  }
  return words;
}

/** Reads the items of a reference list; a malformed list is a DecodeError. */
export function parseReferenceList(words: readonly number[]): { changeCounter: number; removed: number; items: SubscriptionItem[] } {
  const [head, removed, count] = words;
  if (head === undefined || removed === undefined || count === undefined) throw new DecodeError("subscription reference list shorter than 3 words");
  const items: SubscriptionItem[] = [];
  let at = 3;
  for (let i = 0; i < count; i++) {
    const itemHead = words[at];
    if (itemHead === undefined || (itemHead & 0xffff0000) >>> 0 !== ITEM_HEAD) throw new DecodeError(`subscription reference list: item ${i + 1} has no item head`);
    const lidCount = (itemHead & 0xffff) - 1;
    const fields = words.slice(at + 1, at + 6 + lidCount);
    if (lidCount < 0 || fields.length !== 5 + lidCount) throw new DecodeError(`subscription reference list: item ${i + 1} is cut short`);
    const [referenceId, , area, symbolCrc, subArea, ...lids] = fields as [number, number, number, number, number, ...number[]];
    items.push({ referenceId, address: { area, symbolCrc, subArea, lids } });
    at += 6 + lidCount;
  }
  if (at !== words.length) throw new DecodeError(`subscription reference list: ${words.length - at} word(s) after the items`);
  return { changeCounter: (head >>> 16) & 0xff, removed, items };
}

/** The CreateObject body of a data subscription, attributes in the order CS sends them (§24.1). */
export function makeSubscriptionRequest(s: SubscriptionSpec): CreateObjectRequest {
  const attributes: [number, PValue][] = [
    [Ids.ObjectVariableTypeName, pv.wstring(`Subscription_${s.relationId >>> 0}`)],
    [Ids.SubscriptionFunctionClassId, pv.usint(s.functionClassId ?? 0)],
    [Ids.SubscriptionMissedSendings, pv.uint(0)],
    [Ids.SubscriptionSubsystemError, pv.lint(0n)],
    [Ids.SubscriptionRouteMode, pv.usint(s.routeMode)],
    [Ids.SubscriptionActive, pv.bool(true)],
    [Ids.SubscriptionReferenceList, pv.addressArray(referenceListWords(s.items, s.changeCounter))],
    [Ids.SubscriptionCycleTime, pv.udint(s.cycleTimeMs)],
  ];
  if (s.delayTimeMs !== undefined) attributes.push([Ids.SubscriptionDelayTime, pv.udint(s.delayTimeMs)]);
  attributes.push(
    [Ids.SubscriptionDisabled, pv.usint(0)],
    [Ids.SubscriptionCount, pv.usint(0)],
    [Ids.SubscriptionCreditLimit, pv.int(s.creditLimit)],
    [Ids.SubscriptionTicks, pv.uint(TICKS)],
  );
  if (s.with1055 !== false) attributes.push([Ids.Subscription1055, pv.usint(0)]);
  const m: CreateObjectRequest = {
    requestId: s.containerId,
    requestValue: pv.udint(0),
    reserved: 0,
    object: makeObject(s.relationId, Ids.ClassSubscription, attributes),
  };
  if (s.integrityId !== undefined) m.integrityId = s.integrityId;
  return m;
}

/** What a server needs of a subscription CreateObject; undefined when the object is not a subscription. */
export interface ParsedSubscription {
  containerId: number;
  relationId: number;
  items: SubscriptionItem[];
  changeCounter: number;
  cycleTimeMs: number;
  creditLimit: number;
  routeMode: number;
  active: boolean;
}

export function parseSubscriptionRequest(m: CreateObjectRequest): ParsedSubscription | undefined {
  const o = m.object;
  if (o.classId !== Ids.ClassSubscription) return undefined;
  const list = getAttribute(o, Ids.SubscriptionReferenceList);
  if (list === undefined || list.kind !== "array" || list.datatype !== "UDInt" || (list.flags & ~PValueFlags.Unknown80) !== PValueFlags.AddressArray) {
    throw new DecodeError("subscription without a UDInt reference list (attribute 1048)");
  }
  const words = list.elements.map((e) => (e.type === "UDInt" ? e.value : 0));
  const { changeCounter, items } = parseReferenceList(words);
  const active = getAttribute(o, Ids.SubscriptionActive);
  return {
    containerId: m.requestId,
    relationId: o.relationId,
    items,
    changeCounter,
    cycleTimeMs: numberOf(getAttribute(o, Ids.SubscriptionCycleTime)) ?? 1000,
    creditLimit: numberOf(getAttribute(o, Ids.SubscriptionCreditLimit)) ?? UNLIMITED_CREDITS,
    routeMode: numberOf(getAttribute(o, Ids.SubscriptionRouteMode)) ?? 0,
    active: active === undefined || (active.kind === "scalar" && active.value.type === "Bool" && active.value.value),
  };
}

/** The subscription's object id from the CreateObject answer (the key of its notifications). */
export function subscriptionIdOf(m: CreateObjectResponse): number {
  const id = m.objectIds[0];
  if (m.objectIds.length !== 1 || id === undefined) throw new DecodeError(`subscription CreateObject answer with ${m.objectIds.length} object id(s), 1 expected`);
  return id;
}

/** The answer a PLC gives to a subscription CreateObject (no object follows, §24.1). */
export function makeSubscriptionResponse(subscriptionId: number, integrityId: number, returnValue = 0n): CreateObjectResponse {
  return { returnValue, objectIds: returnValue === 0n ? [subscriptionId] : [], objects: [], integrityId };
}

/**
 * The credit top-up: SetVariable of attribute 1053 on the subscription
 * object, sent with transport flags `74` (no answer wanted, §24.2). The
 * limit is absolute, compared with the notification's credit tick.
 */
export function makeCreditLimitRequest(subscriptionId: number, limit: number, integrityId?: number): SetVariableRequest {
  if (!Number.isInteger(limit) || limit < -1 || limit > 0x7fff) throw new RangeError(`credit limit ${limit} is not −1…32767`);
  const m: SetVariableRequest = { inObjectId: subscriptionId, address: Ids.SubscriptionCreditLimit, value: pv.int(limit) };
  if (integrityId !== undefined) m.integrityId = integrityId;
  return m;
}

/** The new limit once the credit tick has come within one of it: +`step`, wrapping below 255 and never 0 (CS, PY). */
export function nextCreditLimit(limit: number, step: number): number {
  const next = (limit + step) % 255;
  return next === 0 ? step : next;
}

/** DeleteObject of one subscription (its object id, as JS and PY do; §24.4). */
export function makeSubscriptionDeleteRequest(subscriptionId: number): DeleteObjectRequest {
  return { objectId: subscriptionId, withQualifier: true };
}
