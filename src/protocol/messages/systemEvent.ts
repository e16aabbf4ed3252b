/**
 * SystemEvent payloads (frame version `fe`, docs/PROTOCOL.md §26): 16 bytes
 * (4 zero, u32 counter, 8 zero), optionally followed by ASCII text or a
 * fixed-width Struct (§8.5).
 */
import { DecodeError, isErrorReturnValue } from "../../errors.js";
import { ByteReader, ByteWriter } from "../bytes.js";
import { Ids } from "../constants.js";
import { readFixedPValue, structMember, writeFixedPValue, type PValue } from "../pvalue.js";

export const SYSTEM_EVENT_HEAD = 16;

export type SystemEventBody = { kind: "none" } | { kind: "text"; text: string; raw: Buffer } | { kind: "struct"; value: PValue };

export interface SystemEvent {
  /** Bytes 0–3 (zeros seen). */
  head: number;
  /** Bytes 4–7: "confirmed bytes" / counter. */
  counter: number;
  /** Bytes 8–15 (zeros seen). */
  reserved: bigint;
  body: SystemEventBody;
}

export function decodeSystemEvent(data: Uint8Array): SystemEvent {
  const r = new ByteReader(data);
  if (r.remaining < SYSTEM_EVENT_HEAD) throw new DecodeError(`SystemEvent of ${data.length} bytes, at least 16 expected`, 0);
  const head = r.u32();
  const counter = r.u32();
  const reserved = r.u64();
  if (r.atEnd) return { head, counter, reserved, body: { kind: "none" } };
  const rest = r.bytes(r.remaining);
  if (rest.length >= 4 && rest[0] === 0 && rest[2] === 0 && rest[3] === 0x17) {
    const sr = new ByteReader(rest);
    const value = readFixedPValue(sr);
    if (!sr.atEnd) throw new DecodeError(`${sr.remaining} byte(s) after the SystemEvent struct`, SYSTEM_EVENT_HEAD + sr.offset);
    return { head, counter, reserved, body: { kind: "struct", value } };
  }
  return { head, counter, reserved, body: { kind: "text", text: rest.toString("latin1"), raw: rest } };
}

export function encodeSystemEvent(ev: SystemEvent): Buffer {
  const w = new ByteWriter(32);
  w.u32(ev.head).u32(ev.counter).u64(ev.reserved);
  if (ev.body.kind === "struct") writeFixedPValue(w, ev.body.value);
  else if (ev.body.kind === "text") w.bytes(ev.body.raw);
  return w.toBuffer();
}

/** A SystemEvent with ASCII text (e.g. "LOGOUT"). */
export function textSystemEvent(text: string, counter = 0): SystemEvent {
  return { head: 0, counter, reserved: 0n, body: { kind: "text", text, raw: Buffer.from(text, "latin1") } };
}

/** The ReturnValue member 40305 of a struct SystemEvent, as a UInt64 bit pattern. */
export function systemEventReturnValue(ev: SystemEvent): bigint | undefined {
  if (ev.body.kind !== "struct") return undefined;
  const rv = structMember(ev.body.value, Ids.SystemEventReturnValue);
  if (rv === undefined || rv.kind !== "scalar") return undefined;
  const e = rv.value;
  switch (e.type) {
    case "LInt":
    case "ULInt":
    case "LWord":
    case "Timespan":
    case "Timestamp":
      return BigInt.asUintN(64, e.value);
    case "DInt":
    case "Int":
    case "SInt":
      return BigInt.asUintN(64, BigInt(e.value));
    case "UDInt":
    case "UInt":
    case "USInt":
    case "DWord":
    case "Word":
    case "Byte":
      return BigInt(e.value);
    default:
      return undefined;
  }
}

/**
 * Fatal per CS/PY (§26): a struct payload whose ReturnValue is negative
 * (low 16 bits as Int16 < 0), or a struct without ReturnValue. Bare
 * confirmations and text payloads are not fatal.
 */
export function isFatalSystemEvent(ev: SystemEvent): boolean {
  if (ev.body.kind !== "struct") return false;
  const rv = systemEventReturnValue(ev);
  return rv === undefined || isErrorReturnValue(rv);
}
