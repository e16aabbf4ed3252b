/**
 * DeleteObject (`04 d4`, docs/PROTOCOL.md §25).
 *
 * Requests come in three layouts: CS/captures `id | 00 | OQ | [IntegrityId] | fill`,
 * JS `id | [IntegrityId] | fill`, PY `id | fill`.
 * Response: `ReturnValue | id u32 | [error object] | [IntegrityId, not when the own session was deleted] | fill`.
 */
import { ByteReader, ByteWriter } from "../bytes.js";
import { ElementTag } from "../constants.js";
import { readPObject, writePObject, type PObject } from "../pobject.js";
import {
  decodeBody,
  encodeBody,
  readQualifierField,
  readTail,
  responseIntegrityId,
  writeObjectQualifier,
  writeTail,
  type IntegrityTail,
  type ObjectQualifier,
} from "./common.js";

export interface DeleteObjectRequest extends IntegrityTail {
  objectId: number;
  /** Whether the `00` + ObjectQualifier part is present (CS and real clients: yes; JS/PY: no). */
  withQualifier: boolean;
  qualifier?: ObjectQualifier;
}

export interface DeleteObjectResponse extends IntegrityTail {
  returnValue: bigint;
  objectId: number;
  /** Present when ReturnValue bit 62 announces an error object. */
  errorObject?: PObject;
}

const ERROR_EXTENSION = 1n << 62n;

export function readDeleteObjectRequest(r: ByteReader): DeleteObjectRequest {
  const objectId = r.u32();
  const withQualifier = r.remaining >= 5 && r.peek() === 0 && r.peek(1) === 0 && r.peek(2) === 0 && r.peek(3) === 0x04 && r.peek(4) === 0xe8;
  let qualifier: ObjectQualifier | undefined;
  if (withQualifier) {
    r.u8();
    qualifier = readQualifierField(r);
  }
  const m: DeleteObjectRequest = { objectId, withQualifier, ...readTail(r) };
  if (qualifier !== undefined) m.qualifier = qualifier;
  return m;
}

export function writeDeleteObjectRequest(w: ByteWriter, m: DeleteObjectRequest): void {
  w.u32(m.objectId);
  if (m.withQualifier) {
    w.u8(0);
    writeObjectQualifier(w, m.qualifier);
  } else if (m.qualifier !== undefined) {
    throw new RangeError("a qualifier needs withQualifier");
  }
  writeTail(w, m);
}

export function readDeleteObjectResponse(r: ByteReader): DeleteObjectResponse {
  const returnValue = r.vlqU64();
  const objectId = r.u32();
  let errorObject: PObject | undefined;
  if ((returnValue & ERROR_EXTENSION) !== 0n && !r.atEnd && r.peek() === ElementTag.StartOfObject) errorObject = readPObject(r);
  const m: DeleteObjectResponse = { returnValue, objectId, ...readTail(r) };
  if (errorObject !== undefined) m.errorObject = errorObject;
  return m;
}

export function writeDeleteObjectResponse(w: ByteWriter, m: DeleteObjectResponse): void {
  w.vlqU64(m.returnValue).u32(m.objectId);
  if (m.errorObject !== undefined) writePObject(w, m.errorObject);
  writeTail(w, m);
}

/**
 * The answer a PLC gives (docs/PROTOCOL.md §25, docs/SIMULATOR.md §14): the IntegrityId
 * (seq + request IntegrityId) is present only when the deleted object is not
 * the own session.
 */
export function makeDeleteObjectResponse(args: {
  objectId: number;
  ownSession: boolean;
  sequenceNumber: number;
  requestIntegrityId?: number;
  returnValue?: bigint;
}): DeleteObjectResponse {
  const m: DeleteObjectResponse = { returnValue: args.returnValue ?? 0n, objectId: args.objectId };
  if (!args.ownSession) m.integrityId = responseIntegrityId(args.sequenceNumber, args.requestIntegrityId ?? 0);
  return m;
}

export const decodeDeleteObjectRequest = (b: Uint8Array): DeleteObjectRequest => decodeBody(b, "DeleteObject request", readDeleteObjectRequest);
export const encodeDeleteObjectRequest = (m: DeleteObjectRequest): Buffer => encodeBody(m, writeDeleteObjectRequest);
export const decodeDeleteObjectResponse = (b: Uint8Array): DeleteObjectResponse =>
  decodeBody(b, "DeleteObject response", readDeleteObjectResponse);
export const encodeDeleteObjectResponse = (m: DeleteObjectResponse): Buffer => encodeBody(m, writeDeleteObjectResponse);
