/**
 * PDU headers (docs/PROTOCOL.md §6) and dispatch to the message codecs.
 *
 * A PDU is the reassembled frame data: opcode to end of body, without the
 * 4-byte frame header and the trailer.
 */
import { DecodeError, ProtocolError } from "../errors.js";
import { ByteReader, ByteWriter } from "./bytes.js";
import { FunctionCode, Opcode } from "./constants.js";
import * as co from "./messages/createObject.js";
import * as mv from "./messages/multiVariables.js";
import * as ex from "./messages/explore.js";
import * as sv from "./messages/singleVariable.js";
import * as del from "./messages/deleteObject.js";
import { readNotification, writeNotification, type Notification } from "./messages/notification.js";
import { readTail, writeTail, type IntegrityTail } from "./messages/common.js";

export const REQUEST_HEADER_LENGTH = 14;
export const RESPONSE_HEADER_LENGTH = 10;

export interface RequestHeader {
  functionCode: number;
  sequenceNumber: number;
  sessionId: number;
  transportFlags: number;
}

export interface ResponseHeader {
  /** 0x32, or 0x02 for the old-firmware answer to a `74` SetVariable. */
  opcode: number;
  functionCode: number;
  sequenceNumber: number;
  transportFlags: number;
}

export function readRequestHeader(r: ByteReader): RequestHeader {
  const at = r.offset;
  if (r.u8() !== Opcode.Request) throw new DecodeError("request does not start with 0x31", at);
  r.u16();
  const functionCode = r.u16();
  r.u16();
  const sequenceNumber = r.u16();
  const sessionId = r.u32();
  const transportFlags = r.u8();
  return { functionCode, sequenceNumber, sessionId, transportFlags };
}

export function writeRequestHeader(w: ByteWriter, h: RequestHeader): void {
  w.u8(Opcode.Request).u16(0).u16(h.functionCode).u16(0).u16(h.sequenceNumber).u32(h.sessionId).u8(h.transportFlags);
}

export function readResponseHeader(r: ByteReader): ResponseHeader {
  const at = r.offset;
  const opcode = r.u8();
  if (opcode !== Opcode.Response && opcode !== Opcode.Response2) throw new DecodeError("response does not start with 0x32", at);
  r.u16();
  const functionCode = r.u16();
  r.u16();
  const sequenceNumber = r.u16();
  const transportFlags = r.u8();
  return { opcode, functionCode, sequenceNumber, transportFlags };
}

export function writeResponseHeader(w: ByteWriter, h: ResponseHeader): void {
  w.u8(h.opcode).u16(0).u16(h.functionCode).u16(0).u16(h.sequenceNumber).u8(h.transportFlags);
}

/** Request bodies by service. */
export type RequestMessage =
  | { service: "InitSsl"; body: IntegrityTail }
  | { service: "CreateObject"; body: co.CreateObjectRequest }
  | { service: "DeleteObject"; body: del.DeleteObjectRequest }
  | { service: "GetMultiVariables"; body: mv.GetMultiVariablesRequest }
  | { service: "SetMultiVariables"; body: mv.SetMultiVariablesRequest }
  | { service: "Explore"; body: ex.ExploreRequest }
  | { service: "SetVariable"; body: sv.SetVariableRequest }
  | { service: "GetVarSubStreamed"; body: sv.GetVarSubStreamedRequest }
  | { service: "SetVarSubStreamed"; body: sv.SetVarSubStreamedRequest }
  /** A function this codec does not model; the body is kept as bytes. */
  | { service: "Other"; body: Buffer };

/** Response bodies by service. */
export type ResponseMessage =
  | { service: "InitSsl"; body: sv.ReturnValueResponse }
  | { service: "CreateObject"; body: co.CreateObjectResponse }
  | { service: "DeleteObject"; body: del.DeleteObjectResponse }
  | { service: "GetMultiVariables"; body: mv.GetMultiVariablesResponse }
  | { service: "SetMultiVariables"; body: mv.SetMultiVariablesResponse }
  | { service: "Explore"; body: ex.ExploreResponse }
  | { service: "SetVariable"; body: sv.ReturnValueResponse }
  | { service: "GetVarSubStreamed"; body: sv.GetVarSubStreamedResponse }
  | { service: "SetVarSubStreamed"; body: sv.ReturnValueResponse }
  | { service: "Error"; body: sv.ReturnValueResponse }
  | { service: "Other"; body: Buffer };

export type DecodedPdu =
  | { kind: "request"; header: RequestHeader; message: RequestMessage }
  | { kind: "response"; header: ResponseHeader; message: ResponseMessage }
  | { kind: "notification"; notification: Notification };

/** The services with a full body codec. */
export type ModelledService = Exclude<RequestMessage["service"] | ResponseMessage["service"], "Other">;

function readRequestMessage(fc: number, r: ByteReader): RequestMessage {
  switch (fc) {
    case FunctionCode.InitSsl:
      return { service: "InitSsl", body: readTail(r) };
    case FunctionCode.CreateObject:
      return { service: "CreateObject", body: co.readCreateObjectRequest(r) };
    case FunctionCode.DeleteObject:
      return { service: "DeleteObject", body: del.readDeleteObjectRequest(r) };
    case FunctionCode.GetMultiVariables:
      return { service: "GetMultiVariables", body: mv.readGetMultiVariablesRequest(r) };
    case FunctionCode.SetMultiVariables:
      return { service: "SetMultiVariables", body: mv.readSetMultiVariablesRequest(r) };
    case FunctionCode.Explore:
      return { service: "Explore", body: ex.readExploreRequest(r) };
    case FunctionCode.SetVariable:
      return { service: "SetVariable", body: sv.readSetVariableRequest(r) };
    case FunctionCode.GetVarSubStreamed:
      return { service: "GetVarSubStreamed", body: sv.readGetVarSubStreamedRequest(r) };
    case FunctionCode.SetVarSubStreamed:
      return { service: "SetVarSubStreamed", body: sv.readSetVarSubStreamedRequest(r) };
    default:
      return { service: "Other", body: r.bytes(r.remaining) };
  }
}

function readResponseMessage(fc: number, r: ByteReader): ResponseMessage {
  switch (fc) {
    case FunctionCode.InitSsl:
      return { service: "InitSsl", body: sv.readReturnValueResponse(r, sv.INIT_SSL_RESPONSE_FILL) };
    case FunctionCode.CreateObject:
      return { service: "CreateObject", body: co.readCreateObjectResponse(r) };
    case FunctionCode.DeleteObject:
      return { service: "DeleteObject", body: del.readDeleteObjectResponse(r) };
    case FunctionCode.GetMultiVariables:
      return { service: "GetMultiVariables", body: mv.readGetMultiVariablesResponse(r) };
    case FunctionCode.SetMultiVariables:
      return { service: "SetMultiVariables", body: mv.readSetMultiVariablesResponse(r) };
    case FunctionCode.Explore:
      return { service: "Explore", body: ex.readExploreResponse(r) };
    case FunctionCode.SetVariable:
      return { service: "SetVariable", body: sv.readReturnValueResponse(r) };
    case FunctionCode.GetVarSubStreamed:
      return { service: "GetVarSubStreamed", body: sv.readGetVarSubStreamedResponse(r) };
    case FunctionCode.SetVarSubStreamed:
      return { service: "SetVarSubStreamed", body: sv.readReturnValueResponse(r) };
    case FunctionCode.Error:
      return { service: "Error", body: sv.readReturnValueResponse(r) };
    default:
      return { service: "Other", body: r.bytes(r.remaining) };
  }
}

/**
 * Decodes a PDU. Throws DecodeError for malformed bytes and ProtocolError for
 * an opcode that is not a request, response or notification.
 */
/**
 * A response PDU read in two steps: the header first (the client matches it to
 * its request by sequence number), then the body of the service it names.
 */
export function readResponse(pdu: Uint8Array): { header: ResponseHeader; body(): ResponseMessage } {
  const r = new ByteReader(pdu);
  const header = readResponseHeader(r);
  return {
    header,
    body: () => {
      const message = readResponseMessage(header.functionCode, r);
      if (!r.atEnd) throw new DecodeError(`${r.remaining} byte(s) after the PDU body`, r.offset);
      return message;
    },
  };
}

export function decodePdu(pdu: Uint8Array): DecodedPdu {
  if (pdu.length === 0) throw new DecodeError("empty PDU", 0);
  const r = new ByteReader(pdu);
  const opcode = pdu[0]!;
  let out: DecodedPdu;
  if (opcode === Opcode.Request) {
    const header = readRequestHeader(r);
    out = { kind: "request", header, message: readRequestMessage(header.functionCode, r) };
  } else if (opcode === Opcode.Response || opcode === Opcode.Response2) {
    const header = readResponseHeader(r);
    out = { kind: "response", header, message: readResponseMessage(header.functionCode, r) };
  } else if (opcode === Opcode.Notification) {
    out = { kind: "notification", notification: readNotification(r) };
  } else {
    throw new ProtocolError(`unknown S7CommPlus opcode 0x${opcode.toString(16).padStart(2, "0")}`);
  }
  if (!r.atEnd) throw new DecodeError(`${r.remaining} byte(s) after the PDU body`, r.offset);
  return out;
}

function writeRequestMessage(w: ByteWriter, m: RequestMessage): void {
  switch (m.service) {
    case "InitSsl":
      return writeTail(w, m.body);
    case "CreateObject":
      return co.writeCreateObjectRequest(w, m.body);
    case "DeleteObject":
      return del.writeDeleteObjectRequest(w, m.body);
    case "GetMultiVariables":
      return mv.writeGetMultiVariablesRequest(w, m.body);
    case "SetMultiVariables":
      return mv.writeSetMultiVariablesRequest(w, m.body);
    case "Explore":
      return ex.writeExploreRequest(w, m.body);
    case "SetVariable":
      return sv.writeSetVariableRequest(w, m.body);
    case "GetVarSubStreamed":
      return sv.writeGetVarSubStreamedRequest(w, m.body);
    case "SetVarSubStreamed":
      return sv.writeSetVarSubStreamedRequest(w, m.body);
    case "Other":
      w.bytes(m.body);
      return;
  }
}

function writeResponseMessage(w: ByteWriter, m: ResponseMessage): void {
  switch (m.service) {
    case "InitSsl":
      return sv.writeReturnValueResponse(w, m.body, sv.INIT_SSL_RESPONSE_FILL);
    case "CreateObject":
      return co.writeCreateObjectResponse(w, m.body);
    case "DeleteObject":
      return del.writeDeleteObjectResponse(w, m.body);
    case "GetMultiVariables":
      return mv.writeGetMultiVariablesResponse(w, m.body);
    case "SetMultiVariables":
      return mv.writeSetMultiVariablesResponse(w, m.body);
    case "Explore":
      return ex.writeExploreResponse(w, m.body);
    case "SetVariable":
    case "SetVarSubStreamed":
    case "Error":
      return sv.writeReturnValueResponse(w, m.body);
    case "GetVarSubStreamed":
      return sv.writeGetVarSubStreamedResponse(w, m.body);
    case "Other":
      w.bytes(m.body);
      return;
  }
}

const SERVICE_CODES: Record<ModelledService, number> = {
  InitSsl: FunctionCode.InitSsl,
  CreateObject: FunctionCode.CreateObject,
  DeleteObject: FunctionCode.DeleteObject,
  GetMultiVariables: FunctionCode.GetMultiVariables,
  SetMultiVariables: FunctionCode.SetMultiVariables,
  Explore: FunctionCode.Explore,
  SetVariable: FunctionCode.SetVariable,
  GetVarSubStreamed: FunctionCode.GetVarSubStreamed,
  SetVarSubStreamed: FunctionCode.SetVarSubStreamed,
  Error: FunctionCode.Error,
};

function checkService(service: RequestMessage["service"] | ResponseMessage["service"], functionCode: number): void {
  if (service !== "Other" && SERVICE_CODES[service] !== functionCode) {
    throw new RangeError(`function code 0x${functionCode.toString(16)} does not belong to ${service}`);
  }
}

/** Encodes a PDU (the inverse of decodePdu). */
export function encodePdu(p: DecodedPdu): Buffer {
  const w = new ByteWriter(128);
  if (p.kind === "request") {
    checkService(p.message.service, p.header.functionCode);
    writeRequestHeader(w, p.header);
    writeRequestMessage(w, p.message);
  } else if (p.kind === "response") {
    checkService(p.message.service, p.header.functionCode);
    writeResponseHeader(w, p.header);
    writeResponseMessage(w, p.message);
  } else {
    writeNotification(w, p.notification);
  }
  return w.toBuffer();
}

/** Encodes a request PDU. */
export function encodeRequest(header: RequestHeader, message: RequestMessage): Buffer {
  return encodePdu({ kind: "request", header, message });
}

/** Encodes a response PDU (opcode 0x32). */
export function encodeResponse(header: Omit<ResponseHeader, "opcode"> & { opcode?: number }, message: ResponseMessage): Buffer {
  return encodePdu({ kind: "response", header: { ...header, opcode: header.opcode ?? Opcode.Response }, message });
}
