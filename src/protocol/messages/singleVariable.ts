/**
 * Single-variable services (docs/PROTOCOL.md §21): SetVariable (`04 f2`),
 * GetVarSubStreamed (`05 86`), SetVarSubStreamed (`05 7c`), and the
 * responses that carry only a ReturnValue (also used by InitSsl and the
 * Error function `04 b1`).
 */
import { DecodeError } from "../../errors.js";
import { ByteReader, ByteWriter } from "../bytes.js";
import { PValueFlags } from "../constants.js";
import { pv, readPValue, writePValue, type PValue } from "../pvalue.js";
import {
  decodeBody,
  encodeBody,
  expectByte,
  readQualifierField,
  readTail,
  writeObjectQualifier,
  writeTail,
  type IntegrityTail,
  type ObjectQualifier,
} from "./common.js";

/** Reads the one-element-or-more UDInt address array `20 04 n a…` of the streamed services. */
function readAddressArray(r: ByteReader): number[] {
  const at = r.offset;
  const v = readPValue(r);
  if (v.kind !== "array" || (v.flags & ~PValueFlags.Unknown80) !== PValueFlags.AddressArray || v.datatype !== "UDInt") {
    throw new DecodeError("expected a UDInt address array", at);
  }
  return v.elements.map((e) => (e.type === "UDInt" ? e.value : 0));
}

function writeAddressArray(w: ByteWriter, addresses: readonly number[]): void {
  writePValue(w, pv.addressArray(addresses));
}

function expectWord(r: ByteReader, value: number, what: string): void {
  const at = r.offset;
  const v = r.u16();
  if (v !== value) throw new DecodeError(`expected ${what} 0x${value.toString(16).padStart(4, "0")}, got 0x${v.toString(16)}`, at);
}

// ---------------------------------------------------------------------------
// GetVarSubStreamed

export interface GetVarSubStreamedRequest extends IntegrityTail {
  inObjectId: number;
  /** Address path, usually one attribute id (1842, 303, …). */
  addresses: number[];
  qualifier?: ObjectQualifier;
}

export interface GetVarSubStreamedResponse extends IntegrityTail {
  returnValue: bigint;
  value: PValue;
}

export function readGetVarSubStreamedRequest(r: ByteReader): GetVarSubStreamedRequest {
  const inObjectId = r.u32();
  const addresses = readAddressArray(r);
  const qualifier = readQualifierField(r);
  expectWord(r, 0x0001, "marker");
  const m: GetVarSubStreamedRequest = { inObjectId, addresses, ...readTail(r) };
  if (qualifier !== undefined) m.qualifier = qualifier;
  return m;
}

export function writeGetVarSubStreamedRequest(w: ByteWriter, m: GetVarSubStreamedRequest): void {
  w.u32(m.inObjectId);
  writeAddressArray(w, m.addresses);
  writeObjectQualifier(w, m.qualifier);
  w.u16(0x0001);
  writeTail(w, m);
}

export function readGetVarSubStreamedResponse(r: ByteReader): GetVarSubStreamedResponse {
  const returnValue = r.vlqU64();
  expectByte(r, 0, "byte after the ReturnValue");
  const value = readPValue(r);
  return { returnValue, value, ...readTail(r) };
}

export function writeGetVarSubStreamedResponse(w: ByteWriter, m: GetVarSubStreamedResponse): void {
  w.vlqU64(m.returnValue).u8(0);
  writePValue(w, m.value);
  writeTail(w, m);
}

// ---------------------------------------------------------------------------
// SetVariable

export interface SetVariableRequest extends IntegrityTail {
  inObjectId: number;
  address: number;
  value: PValue;
  /**
   * "standard" (CS, captures): `01 address … OQ 00`; "addressArray" (JS):
   * `20 04 01 address … OQ 00 01`. Absent = standard.
   */
  layout?: "standard" | "addressArray";
  qualifier?: ObjectQualifier;
}

export function readSetVariableRequest(r: ByteReader): SetVariableRequest {
  const inObjectId = r.u32();
  let layout: "standard" | "addressArray" = "standard";
  let address: number;
  if (r.remaining >= 2 && r.peek() === PValueFlags.AddressArray && r.peek(1) === 0x04) {
    layout = "addressArray";
    const at = r.offset;
    const list = readAddressArray(r);
    if (list.length !== 1) throw new DecodeError(`SetVariable with ${list.length} addresses`, at);
    address = list[0]!;
  } else {
    const at = r.offset;
    const count = r.vlqU32();
    if (count !== 1) throw new DecodeError(`SetVariable with ${count} addresses`, at);
    address = r.vlqU32();
  }
  const value = readPValue(r);
  const qualifier = readQualifierField(r);
  if (layout === "standard") expectByte(r, 0, "fill byte");
  else expectWord(r, 0x0001, "marker");
  const m: SetVariableRequest = { inObjectId, address, value, ...readTail(r) };
  if (layout !== "standard") m.layout = layout;
  if (qualifier !== undefined) m.qualifier = qualifier;
  return m;
}

export function writeSetVariableRequest(w: ByteWriter, m: SetVariableRequest): void {
  w.u32(m.inObjectId);
  if (m.layout === "addressArray") writeAddressArray(w, [m.address]);
  else w.vlqU32(1).vlqU32(m.address);
  writePValue(w, m.value);
  writeObjectQualifier(w, m.qualifier);
  if (m.layout === "addressArray") w.u16(0x0001);
  else w.u8(0);
  writeTail(w, m);
}

// ---------------------------------------------------------------------------
// SetVarSubStreamed

export interface SetVarSubStreamedRequest extends IntegrityTail {
  inObjectId: number;
  addresses: number[];
  value: PValue;
  qualifier?: ObjectQualifier;
}

export function readSetVarSubStreamedRequest(r: ByteReader): SetVarSubStreamedRequest {
  const inObjectId = r.u32();
  const addresses = readAddressArray(r);
  const qualifier = readQualifierField(r);
  expectWord(r, 0x0001, "marker");
  const value = readPValue(r);
  const m: SetVarSubStreamedRequest = { inObjectId, addresses, value, ...readTail(r) };
  if (qualifier !== undefined) m.qualifier = qualifier;
  return m;
}

export function writeSetVarSubStreamedRequest(w: ByteWriter, m: SetVarSubStreamedRequest): void {
  w.u32(m.inObjectId);
  writeAddressArray(w, m.addresses);
  writeObjectQualifier(w, m.qualifier);
  w.u16(0x0001);
  writePValue(w, m.value);
  writeTail(w, m);
}

// ---------------------------------------------------------------------------
// ReturnValue-only responses

/** `ReturnValue | [IntegrityId] | fill`: SetVariable, SetVarSubStreamed, Error, InitSsl (fill 5). */
export interface ReturnValueResponse extends IntegrityTail {
  returnValue: bigint;
}

export function readReturnValueResponse(r: ByteReader, fill = 4): ReturnValueResponse {
  const returnValue = r.vlqU64();
  return { returnValue, ...readTail(r, fill) };
}

export function writeReturnValueResponse(w: ByteWriter, m: ReturnValueResponse, fill = 4): void {
  w.vlqU64(m.returnValue);
  writeTail(w, m, fill);
}

/** Zero bytes after the ReturnValue of an InitSsl response (template of §11). */
export const INIT_SSL_RESPONSE_FILL = 5;

export const decodeGetVarSubStreamedRequest = (b: Uint8Array): GetVarSubStreamedRequest =>
  decodeBody(b, "GetVarSubStreamed request", readGetVarSubStreamedRequest);
export const encodeGetVarSubStreamedRequest = (m: GetVarSubStreamedRequest): Buffer => encodeBody(m, writeGetVarSubStreamedRequest);
export const decodeGetVarSubStreamedResponse = (b: Uint8Array): GetVarSubStreamedResponse =>
  decodeBody(b, "GetVarSubStreamed response", readGetVarSubStreamedResponse);
export const encodeGetVarSubStreamedResponse = (m: GetVarSubStreamedResponse): Buffer => encodeBody(m, writeGetVarSubStreamedResponse);
export const decodeSetVariableRequest = (b: Uint8Array): SetVariableRequest => decodeBody(b, "SetVariable request", readSetVariableRequest);
export const encodeSetVariableRequest = (m: SetVariableRequest): Buffer => encodeBody(m, writeSetVariableRequest);
export const decodeSetVarSubStreamedRequest = (b: Uint8Array): SetVarSubStreamedRequest =>
  decodeBody(b, "SetVarSubStreamed request", readSetVarSubStreamedRequest);
export const encodeSetVarSubStreamedRequest = (m: SetVarSubStreamedRequest): Buffer => encodeBody(m, writeSetVarSubStreamedRequest);
export const decodeReturnValueResponse = (b: Uint8Array, fill = 4): ReturnValueResponse =>
  decodeBody(b, "response", (r) => readReturnValueResponse(r, fill));
export const encodeReturnValueResponse = (m: ReturnValueResponse, fill = 4): Buffer =>
  encodeBody(m, (w, msg) => writeReturnValueResponse(w, msg, fill));
