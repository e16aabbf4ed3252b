/**
 * COTP class 0 TPDUs (ISO 8073, docs/PROTOCOL.md §4): Connection Request and
 * Confirm with their parameters in any order, Data with the EOT bit, and
 * Disconnect Request.
 */
import { ProtocolError } from "../errors.js";

export const PduType = { CR: 0xe0, CC: 0xd0, DR: 0x80, DT: 0xf0, ER: 0x70 } as const;
const PARAM_TPDU_SIZE = 0xc0;
const PARAM_CALLING_TSAP = 0xc1;
const PARAM_CALLED_TSAP = 0xc2;
/** DT header: LI 02, f0, EOT/TPDU-NR. */
export const DT_HEADER = 3;
const EOT = 0x80;

export const TSAP = {
  HMI: "SIMATIC-ROOT-HMI",
  ES: "SIMATIC-ROOT-ES",
  OTH: "SIMATIC-ROOT-OTH",
  PG: "SIMATIC-ROOT-PG",
} as const;
/** Calling TSAP of CS, PY and TIA HMIs (§4.1). */
export const DEFAULT_CALLING_TSAP = Buffer.from([0x06, 0x00]);
/** TPDU size code 0x0a = 1024 bytes, what every client asks for. */
export const DEFAULT_TPDU_SIZE_CODE = 0x0a;

export interface ConnectionTpdu {
  type: "CR" | "CC";
  dstRef: number;
  srcRef: number;
  classOption: number;
  /** Size code (2^code bytes), when present. */
  tpduSizeCode?: number;
  callingTsap?: Buffer;
  calledTsap?: Buffer;
  /** Parameter codes in the order received. */
  order: number[];
}

export function tpduSizeBytes(code: number): number {
  return 2 ** code;
}

export function encodeConnectionTpdu(t: ConnectionTpdu, order: readonly number[] = [PARAM_TPDU_SIZE, PARAM_CALLING_TSAP, PARAM_CALLED_TSAP]): Buffer {
  const params: Buffer[] = [];
  for (const code of order) {
    if (code === PARAM_TPDU_SIZE && t.tpduSizeCode !== undefined) params.push(Buffer.from([code, 1, t.tpduSizeCode]));
    if (code === PARAM_CALLING_TSAP && t.callingTsap) params.push(Buffer.concat([Buffer.from([code, t.callingTsap.length]), t.callingTsap]));
    if (code === PARAM_CALLED_TSAP && t.calledTsap) params.push(Buffer.concat([Buffer.from([code, t.calledTsap.length]), t.calledTsap]));
  }
  const head = Buffer.alloc(7);
  const body = Buffer.concat(params);
  head[0] = 6 + body.length; // LI: bytes after itself
  head[1] = t.type === "CR" ? PduType.CR : PduType.CC;
  head.writeUInt16BE(t.dstRef, 2);
  head.writeUInt16BE(t.srcRef, 4);
  head[6] = t.classOption;
  return Buffer.concat([head, body]);
}

/** The TPDU type byte (upper nibble for CR/CC carries the credit). */
export function tpduType(tpdu: Buffer): number {
  if (tpdu.length < 2) throw new ProtocolError(`COTP TPDU of ${tpdu.length} byte(s)`);
  const t = tpdu[1]!;
  return t === PduType.DT ? PduType.DT : t & 0xf0;
}

export function decodeConnectionTpdu(tpdu: Buffer): ConnectionTpdu {
  if (tpdu.length < 7) throw new ProtocolError(`COTP connection TPDU of ${tpdu.length} bytes`);
  const li = tpdu[0]!;
  if (li + 1 > tpdu.length || li < 6) throw new ProtocolError(`COTP length indicator ${li} does not fit the ${tpdu.length}-byte TPDU`);
  const typeByte = tpdu[1]! & 0xf0;
  if (typeByte !== PduType.CR && typeByte !== PduType.CC) throw new ProtocolError(`expected COTP CR or CC, got 0x${tpdu[1]!.toString(16)}`);
  const out: ConnectionTpdu = {
    type: typeByte === PduType.CR ? "CR" : "CC",
    dstRef: tpdu.readUInt16BE(2),
    srcRef: tpdu.readUInt16BE(4),
    classOption: tpdu[6]!,
    order: [],
  };
  let off = 7;
  const end = li + 1;
  while (off < end) {
    if (off + 2 > end) throw new ProtocolError("truncated COTP parameter");
    const code = tpdu[off]!;
    const len = tpdu[off + 1]!;
    if (off + 2 + len > end) throw new ProtocolError(`COTP parameter 0x${code.toString(16)} longer than the TPDU`);
    const value = tpdu.subarray(off + 2, off + 2 + len);
    out.order.push(code);
    if (code === PARAM_TPDU_SIZE) {
      if (len !== 1) throw new ProtocolError(`COTP TPDU-size parameter of ${len} bytes`);
      out.tpduSizeCode = value[0]!;
    } else if (code === PARAM_CALLING_TSAP) out.callingTsap = Buffer.from(value);
    else if (code === PARAM_CALLED_TSAP) out.calledTsap = Buffer.from(value);
    off += 2 + len;
  }
  return out;
}

export function encodeDt(payload: Uint8Array, eot = true): Buffer {
  const out = Buffer.allocUnsafe(DT_HEADER + payload.length);
  out[0] = 2;
  out[1] = PduType.DT;
  out[2] = eot ? EOT : 0;
  out.set(payload, DT_HEADER);
  return out;
}

export function decodeDt(tpdu: Buffer): { eot: boolean; payload: Buffer } {
  if (tpdu.length < DT_HEADER || tpdu[0] !== 2) throw new ProtocolError(`malformed COTP DT (LI ${tpdu[0]}, ${tpdu.length} bytes)`);
  return { eot: (tpdu[2]! & EOT) !== 0, payload: tpdu.subarray(DT_HEADER) };
}

/** Disconnect Request (reason 0x80 = normal). */
export function encodeDr(dstRef: number, srcRef: number, reason = 0x80): Buffer {
  const out = Buffer.alloc(7);
  out[0] = 6;
  out[1] = PduType.DR;
  out.writeUInt16BE(dstRef, 2);
  out.writeUInt16BE(srcRef, 4);
  out[6] = reason;
  return out;
}
