/**
 * Notifications (opcode `33`, docs/PROTOCOL.md §24.3). The PDU starts with
 * the opcode; there is no function code or sequence field.
 *
 * `33 | objectId u32 | u16 | u16 | [u16 when the first is 0x0400] |
 * [credit tick u8, object id ≥ 0x70000000] | sequence (VLQ current, u8 old) |
 * change counter u8 (current firmware: `00` starts an 8-byte µs timestamp, then the counter) |
 * value list … 00 | [further parts: objectId u32, u16, value list] | fill`.
 */
import { DecodeError } from "../../errors.js";
import { ByteReader, ByteWriter } from "../bytes.js";
import { Opcode } from "../constants.js";
import { readPValue, writePValue, type PValue } from "../pvalue.js";
import { readTail, writeTail, type IntegrityTail } from "./common.js";

/** Object ids from here on use the current-firmware layout. */
export const CURRENT_NOTIFICATION_ID = 0x70000000;

export type NotificationEntry =
  /** `92 refId u32 PValue`: value of a subscribed item. */
  | { kind: "value"; referenceId: number; value: PValue }
  /** `9b id VLQ PValue`. */
  | { kind: "idValue"; id: number; value: PValue }
  /** `13` or `03` `refId u32`: the item could not be read. */
  | { kind: "error"; tag: 0x13 | 0x03; referenceId: number }
  /** `9c u32`. */
  | { kind: "other"; value: number };

export interface NotificationPart {
  objectId: number;
  unknown: number;
  entries: NotificationEntry[];
}

export interface Notification {
  subscriptionId: number;
  /** The two or three u16 after the id (`04 00`, `00 00`, `00 00`). */
  unknown1: number;
  unknown2: number;
  unknown3?: number;
  /** Current firmware only. */
  creditTick?: number;
  sequenceNumber: number;
  /** Current firmware, change counter 0 on the wire: µs since 1970 (the first of its 8 bytes is that 0). */
  timestamp?: bigint;
  changeCounter: number;
  entries: NotificationEntry[];
  /** Further parts of the same notification. */
  more: NotificationPart[];
  trailer?: Omit<IntegrityTail, "integrityId">;
}

function readEntries(r: ByteReader): NotificationEntry[] {
  const out: NotificationEntry[] = [];
  for (;;) {
    const at = r.offset;
    const tag = r.u8();
    switch (tag) {
      case 0x00:
        return out;
      case 0x92: {
        const referenceId = r.u32();
        out.push({ kind: "value", referenceId, value: readPValue(r) });
        break;
      }
      case 0x9b: {
        const id = r.vlqU32();
        out.push({ kind: "idValue", id, value: readPValue(r) });
        break;
      }
      case 0x13:
      case 0x03:
        out.push({ kind: "error", tag, referenceId: r.u32() });
        break;
      case 0x9c:
        out.push({ kind: "other", value: r.u32() });
        break;
      default:
        throw new DecodeError(`unknown notification entry tag 0x${tag.toString(16)}`, at);
    }
  }
}

function writeEntries(w: ByteWriter, entries: readonly NotificationEntry[]): void {
  for (const e of entries) {
    switch (e.kind) {
      case "value":
        w.u8(0x92).u32(e.referenceId);
        writePValue(w, e.value);
        break;
      case "idValue":
        w.u8(0x9b).vlqU32(e.id);
        writePValue(w, e.value);
        break;
      case "error":
        w.u8(e.tag).u32(e.referenceId);
        break;
      case "other":
        w.u8(0x9c).u32(e.value);
        break;
    }
  }
  w.u8(0);
}

/** Reads the whole PDU of a notification (starting with the opcode `33`). */
export function readNotification(r: ByteReader): Notification {
  const at = r.offset;
  if (r.u8() !== Opcode.Notification) throw new DecodeError("notification does not start with 0x33", at);
  const subscriptionId = r.u32();
  const unknown1 = r.u16();
  const unknown2 = r.u16();
  const n: Notification = { subscriptionId, unknown1, unknown2, sequenceNumber: 0, changeCounter: 0, entries: [], more: [] };
  if (unknown1 === 0x0400) n.unknown3 = r.u16();
  const current = subscriptionId >= CURRENT_NOTIFICATION_ID;
  if (current) {
    n.creditTick = r.u8();
    n.sequenceNumber = r.vlqU32();
    if (r.peek() === 0) {
      n.timestamp = r.u64();
    }
  } else {
    n.sequenceNumber = r.u8();
  }
  n.changeCounter = r.u8();
  n.entries = readEntries(r);
  while (!r.atEnd && r.peek() !== 0) {
    const objectId = r.u32();
    const unknown = r.u16();
    n.more.push({ objectId, unknown, entries: readEntries(r) });
  }
  const t = readTail(r);
  if (t.integrityId !== undefined) throw new DecodeError("unexpected bytes at the end of the notification", r.offset);
  if (t.digest !== undefined || t.fillLength !== undefined) {
    n.trailer = {};
    if (t.digest !== undefined) n.trailer.digest = t.digest;
    if (t.fillLength !== undefined) n.trailer.fillLength = t.fillLength;
  }
  return n;
}

export function writeNotification(w: ByteWriter, n: Notification): void {
  const current = n.subscriptionId >= CURRENT_NOTIFICATION_ID;
  w.u8(Opcode.Notification).u32(n.subscriptionId).u16(n.unknown1).u16(n.unknown2);
  if ((n.unknown1 === 0x0400) !== (n.unknown3 !== undefined)) throw new RangeError("unknown3 is present exactly when unknown1 is 0x0400");
  if (n.unknown3 !== undefined) w.u16(n.unknown3);
  if (current) {
    w.u8(n.creditTick ?? 0).vlqU32(n.sequenceNumber);
    if (n.timestamp !== undefined) {
      if (n.timestamp < 0n || n.timestamp >= 1n << 56n) throw new RangeError("notification timestamp must fit 56 bits");
      w.u64(n.timestamp);
    }
  } else {
    if (n.creditTick !== undefined || n.timestamp !== undefined) throw new RangeError("old-layout notifications have no credit tick or timestamp");
    w.u8(n.sequenceNumber);
  }
  if (current && n.timestamp === undefined && n.changeCounter === 0) throw new RangeError("change counter 0 needs a timestamp");
  w.u8(n.changeCounter);
  writeEntries(w, n.entries);
  for (const p of n.more) {
    if (p.objectId >>> 24 === 0) throw new RangeError("a further part's object id must not start with a zero byte");
    w.u32(p.objectId).u16(p.unknown);
    writeEntries(w, p.entries);
  }
  writeTail(w, { ...(n.trailer ?? {}) });
}

export function decodeNotification(pdu: Uint8Array): Notification {
  const r = new ByteReader(pdu);
  const n = readNotification(r);
  if (!r.atEnd) throw new DecodeError("bytes after the notification", r.offset);
  return n;
}

export function encodeNotification(n: Notification): Buffer {
  const w = new ByteWriter(64);
  writeNotification(w, n);
  return w.toBuffer();
}
