/**
 * Explore (`04 bb`, docs/PROTOCOL.md §20).
 *
 * Request: `ExploreId u32 | ExploreRequestId VLQ | ChildsRecursive u8 | unknown u8 | Parents u8 |
 * filter | AddressCount VLQ | attribute ids | IntegrityId | 00 00 00 00 00`.
 * Response: `ReturnValue | object id u32 | IntegrityId | objects | 00 00 00 00`
 * (pre-integrity firmware: no IntegrityId, 4-byte fill in requests too).
 */
import { DecodeError } from "../../errors.js";
import { ByteReader, ByteWriter } from "../bytes.js";
import { ElementTag, Ids } from "../constants.js";
import { readPObjectList, writePObject, type PObject } from "../pobject.js";
import { pv, readPValue, writePValue, type PValue } from "../pvalue.js";
import { decodeBody, encodeBody, expectByte, readTail, writeTail, type IntegrityTail } from "./common.js";

/** Zero bytes at the end of an Explore request with TLS firmware. */
export const EXPLORE_REQUEST_FILL = 5;

export interface ExploreRequest extends IntegrityTail {
  exploreId: number;
  exploreRequestId: number;
  childsRecursive: number;
  /** CS/JS send 1; TIA sent 0 or 1. */
  unknown: number;
  parents: number;
  /** CS's filter Struct 1246 (§20.2), sent as `01 <PValue> 00`; absent = `00`. */
  filter?: PValue;
  attributeIds: number[];
}

export interface ExploreResponse {
  returnValue: bigint;
  /** The u32 after the ReturnValue (observed: the explored object's parent). */
  objectId: number;
  /** Read counter result; absent on pre-integrity firmware. */
  integrityId?: number;
  objects: PObject[];
  /** End of the body (fill or digest); never an IntegrityId. */
  trailer?: Omit<IntegrityTail, "integrityId">;
}

export function readExploreRequest(r: ByteReader): ExploreRequest {
  const exploreId = r.u32();
  const exploreRequestId = r.vlqU32();
  const childsRecursive = r.u8();
  const unknown = r.u8();
  const parents = r.u8();
  const filterAt = r.offset;
  const filterFlag = r.u8();
  let filter: PValue | undefined;
  if (filterFlag === 1) {
    filter = readPValue(r);
    expectByte(r, 0, "end of filter");
  } else if (filterFlag !== 0) {
    throw new DecodeError(`unknown Explore filter marker 0x${filterFlag.toString(16)}`, filterAt);
  }
  const at = r.offset;
  const count = r.vlqU32();
  if (count > r.remaining) throw new DecodeError(`attribute count ${count} exceeds the bytes left`, at);
  const attributeIds: number[] = [];
  for (let i = 0; i < count; i++) attributeIds.push(r.vlqU32());
  const m: ExploreRequest = { exploreId, exploreRequestId, childsRecursive, unknown, parents, attributeIds, ...readTail(r, EXPLORE_REQUEST_FILL) };
  if (filter !== undefined) m.filter = filter;
  return m;
}

export function writeExploreRequest(w: ByteWriter, m: ExploreRequest): void {
  w.u32(m.exploreId).vlqU32(m.exploreRequestId).u8(m.childsRecursive).u8(m.unknown).u8(m.parents);
  if (m.filter === undefined) w.u8(0);
  else {
    w.u8(1);
    writePValue(w, m.filter);
    w.u8(0);
  }
  w.vlqU32(m.attributeIds.length);
  for (const id of m.attributeIds) w.vlqU32(id);
  writeTail(w, m, EXPLORE_REQUEST_FILL);
}

export function readExploreResponse(r: ByteReader): ExploreResponse {
  const returnValue = r.vlqU64();
  const objectId = r.u32();
  const m: ExploreResponse = { returnValue, objectId, objects: [] };
  const rest = r.bytes(r.remaining);
  const probe = new ByteReader(rest);
  let withObjects = !probe.atEnd && probe.peek() === ElementTag.StartOfObject;
  if (!withObjects) {
    try {
      const iid = probe.vlqU32();
      if (!probe.atEnd && probe.peek() === ElementTag.StartOfObject) {
        m.integrityId = iid;
        withObjects = true;
      }
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
    }
  }
  if (!withObjects) {
    // No objects: the rest is `[IntegrityId] fill`.
    const t = readTail(new ByteReader(rest));
    if (t.integrityId !== undefined) m.integrityId = t.integrityId;
    if (t.digest !== undefined || t.fillLength !== undefined) m.trailer = trailerOf(t);
    return m;
  }
  m.objects = readPObjectList(probe);
  const t = readTail(probe);
  if (t.integrityId !== undefined) throw new DecodeError("unexpected bytes after the Explore objects", r.offset);
  if (t.digest !== undefined || t.fillLength !== undefined) m.trailer = trailerOf(t);
  return m;
}

function trailerOf(t: IntegrityTail): Omit<IntegrityTail, "integrityId"> {
  const out: Omit<IntegrityTail, "integrityId"> = {};
  if (t.digest !== undefined) out.digest = t.digest;
  if (t.fillLength !== undefined) out.fillLength = t.fillLength;
  return out;
}

export function writeExploreResponse(w: ByteWriter, m: ExploreResponse): void {
  w.vlqU64(m.returnValue).u32(m.objectId);
  if (m.integrityId !== undefined) w.vlqU32(m.integrityId);
  for (const o of m.objects) writePObject(w, o);
  writeTail(w, { ...(m.trailer ?? {}) });
}

export const decodeExploreRequest = (b: Uint8Array): ExploreRequest => decodeBody(b, "Explore request", readExploreRequest);
export const encodeExploreRequest = (m: ExploreRequest): Buffer => encodeBody(m, writeExploreRequest);
export const decodeExploreResponse = (b: Uint8Array): ExploreResponse => decodeBody(b, "Explore response", readExploreResponse);
export const encodeExploreResponse = (m: ExploreResponse): Buffer => encodeBody(m, writeExploreResponse);

/** CS's DB filter (§20.2): Struct 1246 {1247 DInt 8, 1249 UDInt 0, 1250 UDInt[32] zeros, 1251 RID 2574}. */
export function dbExploreFilter(): PValue {
  return pv.struct(Ids.FilterStruct, [
    [Ids.FilterOperation, pv.dint(8)],
    [Ids.FilterAddressCount, pv.udint(0)],
    [Ids.FilterAddress, pv.array("UDInt", Array.from({ length: 32 }, () => ({ type: "UDInt" as const, value: 0 })))],
    [Ids.FilterValue, pv.rid(Ids.ClassDB)],
  ]);
}
