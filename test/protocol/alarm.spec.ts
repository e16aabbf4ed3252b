import { strict as assert } from "node:assert";
import { fromHex, toHex } from "../../src/protocol/bytes.js";
import { DecodeError } from "../../src/errors.js";
import { decodeCreateObjectRequest, encodeCreateObjectRequest } from "../../src/protocol/messages/createObject.js";
import { decodeExploreRequest, encodeExploreRequest } from "../../src/protocol/messages/explore.js";
import { decodeSetVariableRequest, encodeSetVariableRequest } from "../../src/protocol/messages/singleVariable.js";
import { decodeNotification } from "../../src/protocol/messages/notification.js";
import { decodePObject, encodePObject } from "../../src/protocol/pobject.js";
import {
  alarmText,
  alarmsOfExplore,
  cpuAlarmIdOf,
  decodeAlarmNotification,
  decodeAssociatedValue,
  decodeHmiInfo,
  encodeAlarmNotification,
  encodeAssociatedValue,
  encodeHmiInfo,
  makeActiveAlarmsExplore,
  makeAlarmAckRequest,
  makeAlarmObject,
  makeAlarmSubscriptionRequest,
  parseAlarmAckRequest,
  parseAlarmObject,
  parseAlarmSubscriptionRequest,
  substitutePlaceholders,
  type AlarmInstance,
} from "../../src/protocol/messages/alarm.js";

// Values quoted from a real S7-1500 in gijzelaerr/python-snap7 pull request 820 (docs/PROTOCOL.md §29.3).
const SNAP7_PR_HMI_INFO = "01 03 33 b0 00 00 00 3e 09 00 00 00 00 22 00 01 01";

function sampleAlarm(): AlarmInstance {
  return {
    name: "TempDai_1",
    cpuAlarmId: 0x8a0e003e00010000n,
    allStatesInfo: 0x87,
    domain: 259,
    messageType: 2,
    hmi: decodeHmiInfo(fromHex(SNAP7_PR_HMI_INFO)),
    sequenceCounter: 5103,
    coming: { allStatesInfo: 0x87, timestamp: 1788363987898972159n, ackTimestamp: 0n, values: [{ type: "Int", value: 4 }, undefined, undefined, undefined, { type: "String", max: 254, value: "=F6+S2-G1" }] },
    texts: new Map([[(1033 << 16) | 2, "Warning: (@5%s@) Machine @1%d@ - Status: Running - Pallet almost full."]]),
  };
}

describe("alarm codecs (docs/PROTOCOL.md §29)", () => {
  it("decodes the HmiInfo bytes of python-snap7 PR 820 and encodes them back", () => {
    const h = decodeHmiInfo(fromHex(SNAP7_PR_HMI_INFO));
    assert.deepEqual(h, { syntaxId: 259, version: 0x33b0, clientAlarmId: 62, priority: 9, alarmClass: 34, producer: 0, groupId: 1, flags: 1 });
    assert.equal(toHex(encodeHmiInfo(h)), toHex(fromHex(SNAP7_PR_HMI_INFO)));
    assert.throws(() => decodeHmiInfo(fromHex(SNAP7_PR_HMI_INFO + " 00")), DecodeError);
    assert.throws(() => decodeHmiInfo(fromHex("01 03 33")), DecodeError);
  });

  it("reads the associated values of python-snap7 PR 820: SD_1 Int 4, SD_5 String '=F6+S2-G1'", () => {
    const header = { unknown: Buffer.alloc(8), blobType: 2 };
    assert.deepEqual(decodeAssociatedValue({ type: "Blob", rootId: 0x02000005, header, data: Buffer.from(fromHex("00 04")) }), { type: "Int", value: 4 });
    assert.deepEqual(decodeAssociatedValue({ type: "Blob", rootId: 0x020a00fe, header, data: Buffer.from(fromHex("fe 09 3d 46 36 2b 53 32 2d 47 31")) }), { type: "String", max: 254, value: "=F6+S2-G1" });
    assert.equal(toHex(encodeAssociatedValue({ type: "String", max: 254, value: "=F6+S2-G1" }).data), "fe 09 3d 46 36 2b 53 32 2d 47 31");
    for (const v of [{ type: "Bool", value: true }, { type: "DInt", value: -70000 }, { type: "Real", value: 1.5 }, { type: "LReal", value: -2.25 }, { type: "UInt", value: 65535 }, { type: "WString", max: 10, value: "Tür" }] as const) {
      assert.deepEqual(decodeAssociatedValue(encodeAssociatedValue(v)), v);
    }
    assert.equal(decodeAssociatedValue({ type: "Blob", rootId: 0, data: Buffer.alloc(0) }), undefined);
  });

  it("substitutes @n%f@ placeholders as the PR 820 texts show, leaving unknown ones", () => {
    const a = sampleAlarm();
    assert.equal(substitutePlaceholders(alarmText(a, 1033)!, a.coming!.values), "Warning: (=F6+S2-G1) Machine 4 - Status: Running - Pallet almost full.");
    assert.equal(substitutePlaceholders("level @1%.1f@ / @2%d@", [{ type: "Real", value: 97.25 }]), "level 97.3 / @2%d@");
    assert.equal(alarmText(a, 1031), undefined);
  });

  it("round-trips an alarm instance (DAI, class 2681) and refuses one without Coming and Going", () => {
    const a = sampleAlarm();
    const o = makeAlarmObject(a);
    const back = parseAlarmObject(decodePObject(encodePObject(o)));
    assert.deepEqual(back, a);
    const bad = makeAlarmObject(a);
    bad.elements = bad.elements.filter((e) => !(e.tag === "attribute" && e.id === 2673));
    assert.throws(() => parseAlarmObject(bad), DecodeError);
    assert.throws(() => makeAlarmObject({ ...a, going: a.coming! }), RangeError);
    assert.equal(cpuAlarmIdOf(0x8a0e003e, 1), 0x8a0e003e00010000n);
  });

  it("builds the alarm subscription of §29.2 and reads it back", () => {
    const m = makeAlarmSubscriptionRequest({ containerId: 0x70000b01, relationId: 0x7fffc001, languages: [1033, 1031], creditLimit: 10, integrityId: 7 });
    const wire = encodeCreateObjectRequest(m);
    const back = decodeCreateObjectRequest(wire);
    assert.deepEqual(parseAlarmSubscriptionRequest(back), { relationId: 0x7fffc001, languages: [1033, 1031], creditLimit: 10 });
    const hex = toHex(wire);
    // Child class 2662 (`94 66`) with the relation 2660 (`d4 94 64`) to object 8, FunctionClassId 2 (1082 = `88 3a`).
    assert.match(hex, /a1 51 01 00 01 94 66 00 00/);
    assert.match(hex, /a4 94 64 00 00 00 08 a2/);
    assert.match(hex, /a3 88 3a 00 02 02/);
  });

  it("round-trips an alarm notification; a data notification is not one", () => {
    const n = { subscriptionId: 0x700010b9, creditTick: 1, sequenceNumber: 0, timestamp: 1788363987898972n, changeCounter: 0, unknown: 0, alarms: [sampleAlarm()] };
    const pdu = encodeAlarmNotification(n);
    assert.deepEqual(decodeAlarmNotification(pdu), n);
    assert.throws(() => decodeNotification(pdu), DecodeError, "the data-notification reader does not take the alarm part");
    const data = fromHex("33 70 00 10 3f 04 00 00 00 00 00 00 02 00 06 5b 8b a1 99 31 a9 02 92 00 00 00 01 00 04 05 00 00 00 00 00");
    assert.equal(decodeAlarmNotification(data), undefined);
    const broken = Buffer.from(pdu);
    broken[broken.indexOf(0x81, 20)] = 0x82;
    assert.throws(() => decodeAlarmNotification(broken), DecodeError);
  });

  it("malformed alarm notifications: every cut and every flipped byte is decoded or refused with a DecodeError", () => {
    const pdu = encodeAlarmNotification({ subscriptionId: 0x700010b9, creditTick: 1, sequenceNumber: 3, timestamp: 1788363987898972n, changeCounter: 1, unknown: 0, alarms: [sampleAlarm()] });
    let refused = 0;
    const attempt = (bytes: Buffer): void => {
      try {
        decodeAlarmNotification(bytes);
      } catch (err) {
        assert.ok(err instanceof DecodeError, `${String(err)} for ${toHex(bytes).slice(0, 60)}…`);
        refused++;
      }
    };
    for (let cut = 1; cut < pdu.length; cut++) attempt(pdu.subarray(0, cut));
    for (let at = 0; at < pdu.length; at++) {
      const flipped = Buffer.from(pdu);
      flipped[at] = flipped[at]! ^ 0xff;
      attempt(flipped);
    }
    assert.ok(refused > pdu.length / 2, `${refused} refusals`);
  });

  it("builds the active-alarm Explore of §29.4 (ExploreId 8, request 2667 = 94 6b, 10 attributes)", () => {
    const wire = encodeExploreRequest(makeActiveAlarmsExplore(3));
    assert.equal(toHex(wire.subarray(0, 10)), "00 00 00 08 94 6b 01 01 00 00");
    assert.deepEqual(decodeExploreRequest(wire).attributeIds, [2670, 2671, 2672, 2673, 2677, 4079, 7813, 233, 7917, 2715]);
    const a = sampleAlarm();
    assert.deepEqual(alarmsOfExplore([makeAlarmObject(a)]), [a]);
  });

  it("builds the provisional acknowledgement and recognises only it", () => {
    const m = decodeSetVariableRequest(encodeSetVariableRequest(makeAlarmAckRequest(0x8a0e003e00010000n, 4)));
    assert.equal(parseAlarmAckRequest(m), 0x8a0e003e00010000n);
    assert.equal(parseAlarmAckRequest({ ...m, address: 1053 }), undefined);
  });
});
