/**
 * InitSsl (docs/PROTOCOL.md §11, docs/SIMULATOR.md §3): the one plaintext
 * S7CommPlus exchange before TLS, version-1 frames in one DT each.
 */
import { ProtocolError } from "../errors.js";
import { FunctionCode, Ids } from "../protocol/constants.js";
import { ProtocolVersion, decodeSingleFrame, encodeFrame } from "../protocol/frame.js";
import { decodePdu, encodeRequest, encodeResponse } from "../protocol/pdu.js";

export const INIT_SSL_SEQUENCE = 1;
const FLAGS_INIT_SSL = 0x30;

/** The client's request frame: seq 1, session 288, flags 30, empty body (test/fixtures/vectors/README.md §2.1). */
export function encodeInitSslRequest(sequence = INIT_SSL_SEQUENCE): Buffer {
  const pdu = encodeRequest(
    { functionCode: FunctionCode.InitSsl, sequenceNumber: sequence, sessionId: Ids.ObjectNullServerSession, transportFlags: FLAGS_INIT_SSL },
    { service: "InitSsl", body: {} },
  );
  return encodeFrame(ProtocolVersion.V1, pdu);
}

/** The server's answer frame (test/fixtures/vectors/README.md §6.2): the request's sequence number and a ReturnValue. */
export function encodeInitSslResponse(sequence: number, returnValue = 0n): Buffer {
  const pdu = encodeResponse(
    { functionCode: FunctionCode.InitSsl, sequenceNumber: sequence, transportFlags: FLAGS_INIT_SSL },
    { service: "InitSsl", body: { returnValue } },
  );
  return encodeFrame(ProtocolVersion.V1, pdu);
}

/** Decodes the client's request; throws ProtocolError for anything but an InitSsl request. */
export function decodeInitSslRequest(frame: Buffer): { sequence: number; sessionId: number } {
  const { pdu } = decodeSingleFrame(frame);
  const decoded = decodePdu(pdu);
  if (decoded.kind !== "request" || decoded.message.service !== "InitSsl") throw new ProtocolError("expected an InitSsl request");
  return { sequence: decoded.header.sequenceNumber, sessionId: decoded.header.sessionId };
}

/** Decodes the controller's answer; resolves to its sequence number and ReturnValue. */
export function decodeInitSslResponse(frame: Buffer): { sequence: number; returnValue: bigint } {
  const { pdu } = decodeSingleFrame(frame);
  const decoded = decodePdu(pdu);
  if (decoded.kind !== "response" || (decoded.message.service !== "InitSsl" && decoded.message.service !== "Error")) {
    throw new ProtocolError("expected an InitSsl response");
  }
  return { sequence: decoded.header.sequenceNumber, returnValue: decoded.message.body.returnValue };
}
