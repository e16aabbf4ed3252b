/**
 * GetMultiVariables (`05 4c`, docs/PROTOCOL.md §17) and SetMultiVariables
 * (`05 42`, §14 session setup and §18).
 *
 * When the object id (LinkId / InObjectId) is 0 the addresses are item
 * addresses (§19.1); otherwise they are plain attribute ids of that object
 * (session setup; TIA V12 reads of object attributes).
 */
import { DecodeError } from "../../errors.js";
import { ByteReader, ByteWriter } from "../bytes.js";
import { readItemAddress, writeItemAddress } from "../address.js";
import { Ids } from "../constants.js";
import type { PValue } from "../pvalue.js";
import {
  decodeBody,
  encodeBody,
  fieldCountOf,
  readErrorList,
  readQualifierField,
  readTail,
  readValueList,
  writeErrorList,
  writeObjectQualifier,
  writeTail,
  writeValueList,
  type IntegrityTail,
  type ItemError,
  type ItemValue,
  type ObjectQualifier,
  type VariableAddress,
} from "./common.js";

export interface GetMultiVariablesRequest extends IntegrityTail {
  /** 0 for item addresses; an object id for attribute reads. */
  linkId: number;
  addresses: VariableAddress[];
  /** Only when the received FieldCount differs from the computed one. */
  fieldCount?: number;
  /** Only when it differs from the standard 23 bytes. */
  qualifier?: ObjectQualifier;
}

export interface GetMultiVariablesResponse extends IntegrityTail {
  returnValue: bigint;
  values: ItemValue[];
  errors: ItemError[];
}

export interface SetMultiVariablesRequest extends IntegrityTail {
  /** 0 for item addresses; the session id for the session setup. */
  inObjectId: number;
  addresses: VariableAddress[];
  values: ItemValue[];
  fieldCount?: number;
  qualifier?: ObjectQualifier;
}

export interface SetMultiVariablesResponse extends IntegrityTail {
  returnValue: bigint;
  errors: ItemError[];
}

function readAddresses(r: ByteReader, objectId: number): { addresses: VariableAddress[]; fieldCount?: number } {
  const at = r.offset;
  const count = r.vlqU32();
  if (count > r.remaining) throw new DecodeError(`item count ${count} exceeds the bytes left`, at);
  const fieldCount = r.vlqU32();
  const addresses: VariableAddress[] = [];
  for (let i = 0; i < count; i++) addresses.push(objectId !== 0 ? r.vlqU32() : readItemAddress(r));
  return fieldCount === fieldCountOf(addresses) ? { addresses } : { addresses, fieldCount };
}

function writeAddresses(w: ByteWriter, objectId: number, addresses: readonly VariableAddress[], fieldCount?: number): void {
  w.vlqU32(addresses.length).vlqU32(fieldCount ?? fieldCountOf(addresses));
  for (const a of addresses) {
    if (typeof a === "number") {
      if (objectId === 0) throw new RangeError("attribute-id addresses need an object id ≠ 0");
      w.vlqU32(a);
    } else {
      if (objectId !== 0) throw new RangeError("item addresses need object id 0");
      writeItemAddress(w, a);
    }
  }
}

export function readGetMultiVariablesRequest(r: ByteReader): GetMultiVariablesRequest {
  const linkId = r.u32();
  const { addresses, fieldCount } = readAddresses(r, linkId);
  const qualifier = readQualifierField(r);
  const m: GetMultiVariablesRequest = { linkId, addresses, ...readTail(r) };
  if (fieldCount !== undefined) m.fieldCount = fieldCount;
  if (qualifier !== undefined) m.qualifier = qualifier;
  return m;
}

export function writeGetMultiVariablesRequest(w: ByteWriter, m: GetMultiVariablesRequest): void {
  w.u32(m.linkId);
  writeAddresses(w, m.linkId, m.addresses, m.fieldCount);
  writeObjectQualifier(w, m.qualifier);
  writeTail(w, m);
}

export function readGetMultiVariablesResponse(r: ByteReader): GetMultiVariablesResponse {
  const returnValue = r.vlqU64();
  const values = readValueList(r);
  const errors = readErrorList(r);
  return { returnValue, values, errors, ...readTail(r) };
}

export function writeGetMultiVariablesResponse(w: ByteWriter, m: GetMultiVariablesResponse): void {
  w.vlqU64(m.returnValue);
  writeValueList(w, m.values);
  writeErrorList(w, m.errors);
  writeTail(w, m);
}

export function readSetMultiVariablesRequest(r: ByteReader): SetMultiVariablesRequest {
  const inObjectId = r.u32();
  const { addresses, fieldCount } = readAddresses(r, inObjectId);
  const values = readValueList(r);
  const qualifier = readQualifierField(r);
  const m: SetMultiVariablesRequest = { inObjectId, addresses, values, ...readTail(r) };
  if (fieldCount !== undefined) m.fieldCount = fieldCount;
  if (qualifier !== undefined) m.qualifier = qualifier;
  return m;
}

export function writeSetMultiVariablesRequest(w: ByteWriter, m: SetMultiVariablesRequest): void {
  w.u32(m.inObjectId);
  writeAddresses(w, m.inObjectId, m.addresses, m.fieldCount);
  writeValueList(w, m.values);
  writeObjectQualifier(w, m.qualifier);
  writeTail(w, m);
}

export function readSetMultiVariablesResponse(r: ByteReader): SetMultiVariablesResponse {
  const returnValue = r.vlqU64();
  const errors = readErrorList(r);
  return { returnValue, errors, ...readTail(r) };
}

export function writeSetMultiVariablesResponse(w: ByteWriter, m: SetMultiVariablesResponse): void {
  w.vlqU64(m.returnValue);
  writeErrorList(w, m.errors);
  writeTail(w, m);
}

export const decodeGetMultiVariablesRequest = (b: Uint8Array): GetMultiVariablesRequest =>
  decodeBody(b, "GetMultiVariables request", readGetMultiVariablesRequest);
export const encodeGetMultiVariablesRequest = (m: GetMultiVariablesRequest): Buffer => encodeBody(m, writeGetMultiVariablesRequest);
export const decodeGetMultiVariablesResponse = (b: Uint8Array): GetMultiVariablesResponse =>
  decodeBody(b, "GetMultiVariables response", readGetMultiVariablesResponse);
export const encodeGetMultiVariablesResponse = (m: GetMultiVariablesResponse): Buffer => encodeBody(m, writeGetMultiVariablesResponse);
export const decodeSetMultiVariablesRequest = (b: Uint8Array): SetMultiVariablesRequest =>
  decodeBody(b, "SetMultiVariables request", readSetMultiVariablesRequest);
export const encodeSetMultiVariablesRequest = (m: SetMultiVariablesRequest): Buffer => encodeBody(m, writeSetMultiVariablesRequest);
export const decodeSetMultiVariablesResponse = (b: Uint8Array): SetMultiVariablesResponse =>
  decodeBody(b, "SetMultiVariables response", readSetMultiVariablesResponse);
export const encodeSetMultiVariablesResponse = (m: SetMultiVariablesResponse): Buffer => encodeBody(m, writeSetMultiVariablesResponse);

/**
 * The session-setup request (§14): InObjectId = SessionId, one item, address
 * 306, the ServerSessionVersion struct as received, no IntegrityId.
 */
export function makeSessionSetupRequest(sessionId: number, serverSessionVersion: PValue): SetMultiVariablesRequest {
  return { inObjectId: sessionId, addresses: [Ids.ServerSessionVersion], values: [{ itemNumber: 1, value: serverSessionVersion }] };
}
