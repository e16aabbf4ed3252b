import { strict as assert } from "node:assert";
import { fromHex, toHex } from "../../src/protocol/bytes.js";
import { decodeSingleFrame } from "../../src/protocol/frame.js";
import { decodePdu, encodeRequest } from "../../src/protocol/pdu.js";
import { FunctionCode } from "../../src/protocol/constants.js";
import { DecodeError } from "../../src/errors.js";
import { encodeCreateObjectRequest, encodeCreateObjectResponse, decodeCreateObjectResponse, decodeCreateObjectRequest } from "../../src/protocol/messages/createObject.js";
import { encodeSetVariableRequest } from "../../src/protocol/messages/singleVariable.js";
import { decodeDeleteObjectRequest, encodeDeleteObjectRequest } from "../../src/protocol/messages/deleteObject.js";
import { decodeNotification, encodeNotification, type Notification } from "../../src/protocol/messages/notification.js";
import {
  makeCreditLimitRequest,
  makeSubscriptionDeleteRequest,
  makeSubscriptionRequest,
  makeSubscriptionResponse,
  nextCreditLimit,
  parseReferenceList,
  parseSubscriptionRequest,
  referenceListWords,
  subscriptionIdOf,
} from "../../src/protocol/messages/subscription.js";
import { pv } from "../../src/protocol/pvalue.js";
import { readFixtureJson } from "../../scripts/support/fixtures.js";

interface Vector {
  id: string;
  hex: string;
  trailer: boolean;
}
// test/fixtures/vectors/pdus.json, copied from test/fixtures/vectors/README.md §8.4 and §9 (sources named there and in README.md).
const { vectors } = readFixtureJson<{ vectors: Vector[] }>("vectors", "pdus.json");

/** The request body (after the 14-byte header) of a vector frame. */
function bodyOf(id: string): Buffer {
  const v = vectors.find((x) => x.id === id);
  if (v === undefined) throw new Error(`no vector ${id}`);
  let bytes = fromHex(v.hex);
  if (!v.trailer) bytes = Buffer.concat([bytes, Buffer.from([0x72, bytes[1]!, 0, 0])]);
  const { pdu } = decodeSingleFrame(bytes);
  return pdu.subarray(pdu[0] === 0x31 ? 14 : 10);
}

describe("subscription codecs (docs/PROTOCOL.md §24)", () => {
  it("builds the TP1200's two-tag CreateObject byte for byte (test/fixtures/vectors/README.md §9.2 #1, REAL-PLC S7-1214C FW V2.2 capture)", () => {
    const expected = bodyOf("9.2#1");
    const decoded = parseSubscriptionRequest(decodeCreateObjectRequest(expected))!;
    const body = makeSubscriptionRequest({
      containerId: 943,
      relationId: 0x7fffc001,
      items: decoded.items,
      cycleTimeMs: 1000,
      creditLimit: 3,
      routeMode: 5,
      changeCounter: 1,
      delayTimeMs: 0,
      with1055: false,
    });
    assert.equal(toHex(encodeCreateObjectRequest(body)), toHex(expected));
    assert.deepEqual(decoded.items.map((i) => [i.referenceId, i.address.area, i.address.subArea, i.address.lids]), [
      [0xfffffffe, 0x52, 3736, [9]],
      [0xffffffff, 0x52, 3736, [10]],
    ]);
    assert.equal(decoded.cycleTimeMs, 1000);
    assert.equal(decoded.creditLimit, 3);
    assert.equal(decoded.routeMode, 5);
    assert.equal(decoded.changeCounter, 1);
  });

  it("builds TIA's empty subscription inside TLS byte for byte (test/fixtures/vectors/README.md §9.1 #1, REAL-PLCSIM/TIA), IntegrityId before the object", () => {
    const body = makeSubscriptionRequest({
      containerId: 0x7000103e,
      relationId: 0x7fffc056,
      items: [],
      cycleTimeMs: 900,
      creditLimit: -1,
      routeMode: 1,
      changeCounter: 1,
      functionClassId: 3,
      integrityId: 18,
    });
    assert.equal(toHex(encodeCreateObjectRequest(body)), toHex(bodyOf("9.1#1")));
    const parsed = parseSubscriptionRequest(decodeCreateObjectRequest(bodyOf("9.1#1")))!;
    assert.equal(parsed.relationId, 0x7fffc056);
    assert.equal(parsed.containerId, 0x7000103e);
    assert.deepEqual(parsed.items, []);
    assert.equal(parsed.creditLimit, -1);
  });

  it("reads the TP1200's CreateObject answer: one object id 0x1000006A (test/fixtures/vectors/README.md §9.2 #2)", () => {
    const answer = decodeCreateObjectResponse(fromHex("00 01 81 80 80 80 6a 00 00 00 00"));
    assert.equal(subscriptionIdOf(answer), 0x1000006a);
    const ours = makeSubscriptionResponse(0x70002001, 7);
    assert.equal(toHex(encodeCreateObjectResponse(ours)), "00 01 87 80 80 c0 01 07 00 00 00 00");
    assert.equal(subscriptionIdOf(decodeCreateObjectResponse(encodeCreateObjectResponse(ours))), 0x70002001);
    assert.throws(() => subscriptionIdOf(decodeCreateObjectResponse(encodeCreateObjectResponse(makeSubscriptionResponse(1, 7, 0x8000_0000_0000_fe0bn)))), DecodeError);
  });

  it("builds the credit top-up SetVariable of attribute 1053 as the TP1200 sent it with flags 74 (test/fixtures/vectors/README.md §8.4 #1)", () => {
    const req = makeCreditLimitRequest(0x1000006a, 6);
    const pdu = encodeRequest({ functionCode: FunctionCode.SetVariable, sequenceNumber: 5, sessionId: 920, transportFlags: 0x74 }, { service: "SetVariable", body: req });
    assert.equal(toHex(pdu.subarray(14)), toHex(bodyOf("8.4#1")));
    assert.equal(toHex(encodeSetVariableRequest(makeCreditLimitRequest(0x70002001, -1, 3))).startsWith("70 00 20 01 01 88 1d 00 07 ff ff"), true);
    assert.throws(() => makeCreditLimitRequest(1, -2), RangeError);
  });

  it("raises the limit by a step, wrapping below 255 and never to 0 (CS, PY)", () => {
    assert.equal(nextCreditLimit(10, 5), 15);
    assert.equal(nextCreditLimit(250, 5), 5);
    assert.equal(nextCreditLimit(252, 5), 2);
  });

  it("deletes a subscription by its object id in the CS layout (id, 00, ObjectQualifier, IntegrityId, fill)", () => {
    const bytes = encodeDeleteObjectRequest({ ...makeSubscriptionDeleteRequest(0x70002001), integrityId: 9 });
    assert.equal(toHex(bytes), "70 00 20 01 00 00 00 04 e8 89 69 00 12 00 00 00 00 89 6a 00 13 00 89 6b 00 04 00 00 09 00 00 00 00");
    assert.deepEqual(decodeDeleteObjectRequest(bytes), { objectId: 0x70002001, withQualifier: true, integrityId: 9 });
  });

  it("round-trips reference lists of symbolic and absolute items and refuses malformed ones", () => {
    const items = [
      { referenceId: 1, address: { area: 0x8a0e0001, symbolCrc: 0x12345678, subArea: 2550, lids: [1, 2, 3] } },
      { referenceId: 2, address: { area: 0x52, symbolCrc: 0, subArea: 2550, lids: [3, 10, 2] } },
    ];
    const words = referenceListWords(items, 7);
    assert.equal(words[0], 0x80070000);
    assert.deepEqual(parseReferenceList(words), { changeCounter: 7, removed: 0, items });
    assert.throws(() => parseReferenceList(words.slice(0, -1)), DecodeError);
    assert.throws(() => parseReferenceList([...words, 0]), DecodeError);
    assert.throws(() => parseReferenceList([0x80010000, 0, 1, 0x12340001]), DecodeError);
    assert.throws(() => referenceListWords(items, 256), RangeError);
    const req = makeSubscriptionRequest({ containerId: 5, relationId: 0x7fffc001, items, cycleTimeMs: 100, creditLimit: 10, routeMode: 0x20, changeCounter: 1, integrityId: 4 });
    const back = parseSubscriptionRequest(decodeCreateObjectRequest(encodeCreateObjectRequest(req)))!;
    assert.deepEqual(back, { containerId: 5, relationId: 0x7fffc001, items, changeCounter: 1, cycleTimeMs: 100, creditLimit: 10, routeMode: 0x20, active: true });
  });

  it("encodes the PLCSIM notification of test/fixtures/vectors/README.md §9.3 #4 (TIA-TLS) byte for byte and round-trips a current-layout one", () => {
    const v = vectors.find((x) => x.id === "9.3#4")!;
    const pdu = decodeSingleFrame(Buffer.concat([fromHex(v.hex), fromHex("72 02 00 00")])).pdu;
    const decoded = decodeNotification(pdu);
    assert.equal(toHex(encodeNotification(decoded)), toHex(pdu));
    assert.equal(new Date(Number(decoded.timestamp! / 1000n)).toISOString(), "2026-09-15T20:45:30.017Z");
    const n: Notification = {
      subscriptionId: 0x70002001, unknown1: 0x0400, unknown2: 0, unknown3: 0, creditTick: 3, sequenceNumber: 300,
      timestamp: 1_789_505_130_017_193n, changeCounter: 1,
      entries: [{ kind: "value", referenceId: 1, value: pv.int(42) }, { kind: "error", tag: 0x13, referenceId: 2 }],
      more: [],
    };
    assert.deepEqual(decodeNotification(encodeNotification(n)), n);
    assert.equal(decodePdu(encodeNotification(n)).kind, "notification");
  });
});
