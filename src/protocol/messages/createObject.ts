/**
 * CreateObject (`04 ca`): the session (docs/PROTOCOL.md §13, V1) and
 * subscriptions (§24.1, V2).
 *
 * Request: `RequestId u32 | RequestValue PValue | 00 00 00 00 | [IntegrityId VLQ] | object | fill`
 * (no IntegrityId in the session CreateObject and on pre-integrity firmware).
 * Response: `ReturnValue | count u8 | ObjectId VLQ × count | objects | [IntegrityId] | fill`.
 */
import { DecodeError } from "../../errors.js";
import { ByteReader, ByteWriter } from "../bytes.js";
import { ElementTag, Ids } from "../constants.js";
import { getAttribute, makeObject, readPObject, readPObjectList, writePObject, type PObject } from "../pobject.js";
import { numberOf, pv, readPValue, stringOf, structMember, writePValue, type PValue } from "../pvalue.js";
import { decodeBody, encodeBody, readTail, tailOf, writeTail, type IntegrityTail } from "./common.js";

export interface CreateObjectRequest {
  /** 285 for the session; SessionId2 for a subscription. */
  requestId: number;
  /** UDInt 0 in every known request. */
  requestValue: PValue;
  /** The u32 after the request value (0). */
  reserved: number;
  /** Write-counter IntegrityId (subscriptions with TLS firmware). */
  integrityId?: number;
  object: PObject;
  /** End of the body (fill or digest); never an IntegrityId. */
  trailer?: Omit<IntegrityTail, "integrityId">;
}

export interface CreateObjectResponse extends IntegrityTail {
  returnValue: bigint;
  /** Session: [SessionId, SessionId2]; subscription: [its object id]. */
  objectIds: number[];
  /** The session object (session CreateObject) or an error object; usually none for subscriptions. */
  objects: PObject[];
}

export function readCreateObjectRequest(r: ByteReader): CreateObjectRequest {
  const requestId = r.u32();
  const requestValue = readPValue(r);
  const reserved = r.u32();
  const integrityId = r.peek() === ElementTag.StartOfObject ? undefined : r.vlqU32();
  const object = readPObject(r);
  const tail = readTail(r);
  if (tail.integrityId !== undefined) throw new DecodeError("unexpected bytes after the CreateObject object", r.offset);
  const msg: CreateObjectRequest = { requestId, requestValue, reserved, object };
  if (integrityId !== undefined) msg.integrityId = integrityId;
  if (tail.digest !== undefined || tail.fillLength !== undefined) msg.trailer = tailOf(tail);
  return msg;
}

export function writeCreateObjectRequest(w: ByteWriter, m: CreateObjectRequest): void {
  w.u32(m.requestId);
  writePValue(w, m.requestValue);
  w.u32(m.reserved);
  if (m.integrityId !== undefined) w.vlqU32(m.integrityId);
  writePObject(w, m.object);
  writeTail(w, { ...(m.trailer ?? {}) });
}

export function readCreateObjectResponse(r: ByteReader): CreateObjectResponse {
  const returnValue = r.vlqU64();
  const count = r.u8();
  if (count > r.remaining) throw new DecodeError(`object id count ${count} exceeds the bytes left`, r.offset);
  const objectIds: number[] = [];
  for (let i = 0; i < count; i++) objectIds.push(r.vlqU32());
  const objects = readPObjectList(r);
  return { returnValue, objectIds, objects, ...readTail(r) };
}

export function writeCreateObjectResponse(w: ByteWriter, m: CreateObjectResponse): void {
  if (m.objectIds.length > 0xff) throw new RangeError("at most 255 object ids");
  w.vlqU64(m.returnValue).u8(m.objectIds.length);
  for (const id of m.objectIds) w.vlqU32(id);
  for (const o of m.objects) writePObject(w, o);
  writeTail(w, m);
}

export const decodeCreateObjectRequest = (body: Uint8Array): CreateObjectRequest =>
  decodeBody(body, "CreateObject request", readCreateObjectRequest);
export const encodeCreateObjectRequest = (m: CreateObjectRequest): Buffer => encodeBody(m, writeCreateObjectRequest);
export const decodeCreateObjectResponse = (body: Uint8Array): CreateObjectResponse =>
  decodeBody(body, "CreateObject response", readCreateObjectResponse);
export const encodeCreateObjectResponse = (m: CreateObjectResponse): Buffer => encodeBody(m, writeCreateObjectResponse);

// ---------------------------------------------------------------------------
// Session helpers

/** ServerSessionClientRID that CS and JS send. */
export const DEFAULT_CLIENT_RID = 0x80c3c901;

/**
 * The session CreateObject body (§13.1): object of class 287 with attribute
 * 300 (and any further attributes given), child of class 255.
 */
export function makeSessionCreateObjectRequest(
  options: { clientRid?: number; attributes?: readonly (readonly [number, PValue])[]; containerName?: string } = {},
): CreateObjectRequest {
  const attributes = options.attributes ?? [[Ids.ServerSessionClientRID, pv.rid(options.clientRid ?? DEFAULT_CLIENT_RID)]];
  const child = makeObject(
    Ids.GetNewRIDOnServer,
    Ids.ClassSubscriptions,
    options.containerName === undefined ? [] : [[Ids.ObjectVariableTypeName, pv.wstring(options.containerName)]],
  );
  return {
    requestId: Ids.ObjectServerSessionContainer,
    requestValue: pv.udint(0),
    reserved: 0,
    object: makeObject(Ids.GetNewRIDOnServer, Ids.ClassServerSession, attributes, [child]),
  };
}

export interface SessionInfo {
  returnValue: bigint;
  sessionId: number;
  sessionId2: number;
  /** Attribute 306 exactly as received (echoed in the session setup). */
  serverSessionVersion: PValue;
  /** Member 319 SystemPAOMString, when present. */
  paom?: string;
  /** Members 315–318 when present. */
  systemOms?: number;
  projectOms?: number;
}

/** Pulls SessionId, SessionId2, attribute 306 and the PAOM string out of a session CreateObject response. */
export function sessionInfoFromResponse(m: CreateObjectResponse): SessionInfo {
  const [sessionId, sessionId2] = m.objectIds;
  if (sessionId === undefined || sessionId2 === undefined) {
    throw new DecodeError(`session CreateObject response with ${m.objectIds.length} object id(s), 2 expected`);
  }
  const session = m.objects.find((o) => o.classId === Ids.ClassServerSession) ?? m.objects[0];
  const version = session === undefined ? undefined : getAttribute(session, Ids.ServerSessionVersion);
  if (version === undefined) throw new DecodeError("session CreateObject response without attribute 306 ServerSessionVersion");
  const info: SessionInfo = { returnValue: m.returnValue, sessionId, sessionId2, serverSessionVersion: version };
  const paom = stringOf(structMember(version, Ids.SystemPAOMString));
  if (paom !== undefined) info.paom = paom;
  const systemOms = numberOf(structMember(version, Ids.SystemOMS));
  if (systemOms !== undefined) info.systemOms = systemOms;
  const projectOms = numberOf(structMember(version, Ids.ProjectOMS));
  if (projectOms !== undefined) info.projectOms = projectOms;
  return info;
}
