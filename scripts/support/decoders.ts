/**
 * Every decoder that reads bytes from a controller (or, in the simulator,
 * from a client), for the fuzz tests and `npm run fuzz`. Each entry takes
 * untrusted bytes and must return or throw an S7Error — nothing else.
 */
import { FrameParser } from "../../src/protocol/frame.js";
import { TpktParser } from "../../src/transport/tpkt.js";
import { decodeConnectionTpdu, decodeDt } from "../../src/transport/cotp.js";
import { decodePdu } from "../../src/protocol/pdu.js";
import { decodePValue } from "../../src/protocol/pvalue.js";
import { decodePObject } from "../../src/protocol/pobject.js";
import { decodeVarnameList, decodeVartypeList } from "../../src/protocol/typeinfo.js";
import { decodeItemAddress } from "../../src/protocol/address.js";
import { decodeSystemEvent } from "../../src/protocol/messages/systemEvent.js";
import { decodeNotification } from "../../src/protocol/messages/notification.js";
import { decodeAlarmNotification, decodeHmiInfo } from "../../src/protocol/messages/alarm.js";
import { decodeLegitimationPayload } from "../../src/protocol/messages/legitimation.js";
import { ByteReader } from "../../src/protocol/bytes.js";
import { S7Error } from "../../src/errors.js";
import { decodeValue } from "../../src/values/value-map.js";
import { parsePlcTypeName } from "../../src/values/plc-type.js";

export type Decoder = (input: Buffer) => unknown;

const VALUE_TYPES = ["Int", "String[10]", "WString[4]", "DTL", "Date_And_Time", "Array[0..3] of Real", "LDT", "Char"].map(parsePlcTypeName);

export const DECODERS: ReadonlyArray<readonly [string, Decoder]> = [
  ["TPKT (stream parser, 1028-byte TPDU negotiated)", (b) => new TpktParser(1028).push(b)],
  ["COTP connection TPDU (CR/CC)", (b) => decodeConnectionTpdu(b)],
  ["COTP data TPDU (DT)", (b) => decodeDt(b)],
  ["S7CommPlus frames (stream parser, 4 KiB cap)", (b) => new FrameParser({ maxPduBytes: 4096 }).push(b)],
  ["PDU (header + every message body)", decodePdu],
  ["PValue", decodePValue],
  ["PObject", decodePObject],
  ["VartypeList", decodeVartypeList],
  ["VarnameList", decodeVarnameList],
  ["item address", decodeItemAddress],
  ["SystemEvent", decodeSystemEvent],
  ["notification", decodeNotification],
  ["alarm notification", decodeAlarmNotification],
  ["alarm HmiInfo", decodeHmiInfo],
  ["legitimation payload", decodeLegitimationPayload],
  [
    "VLQ (all four forms)",
    (b) => {
      const r = new ByteReader(b);
      return [r.vlqU32(), new ByteReader(b).vlqI32(), new ByteReader(b).vlqU64(), new ByteReader(b).vlqI64()];
    },
  ],
  ["value mapping (PValue → JS for several PLC types)", (b) => {
    const v = decodePValue(b);
    return VALUE_TYPES.map((t) => {
      try {
        return decodeValue(t, v, { tag: "fuzz" });
      } catch (err) {
        if (err instanceof S7Error) return err;
        throw err;
      }
    });
  }],
];
