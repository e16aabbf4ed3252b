import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { ByteReader, fromHex, toHex } from "../../src/protocol/bytes.js";
import { decodeSingleFrame, encodeFrame, encodeSystemEvent as encodeSystemEventFrame, FrameParser } from "../../src/protocol/frame.js";
import { decodePdu, encodePdu, readResponseHeader, type DecodedPdu } from "../../src/protocol/pdu.js";
import { decodeSystemEvent, encodeSystemEvent, isFatalSystemEvent } from "../../src/protocol/messages/systemEvent.js";
import { decodeLegitimationPayload, encodeLegitimationPayload, legacyLegitimationValue } from "../../src/protocol/messages/legitimation.js";
import { makeSessionCreateObjectRequest, sessionInfoFromResponse, type CreateObjectResponse } from "../../src/protocol/messages/createObject.js";
import { makeSessionSetupRequest } from "../../src/protocol/messages/multiVariables.js";
import { makeDeleteObjectResponse } from "../../src/protocol/messages/deleteObject.js";
import { encodePValue, pv, readPValue, structMember, type PValue } from "../../src/protocol/pvalue.js";
import { getAttribute } from "../../src/protocol/pobject.js";
import { isErrorReturnValue, returnValueCode } from "../../src/errors.js";
import { readFixtureJson } from "../../scripts/support/fixtures.js";
import { assertPartial, normalize, type Json } from "../support/match.js";

interface Vector {
  id: string;
  section: string;
  provenance: string;
  hex: string;
  canonicalHex?: string;
  kind: "pdu" | "exploreResponseHead" | "fragmentHead" | "systemEvent" | "legitimationPlaintext";
  trailer: boolean;
  expect: Json;
}

const { vectors } = readFixtureJson<{ vectors: Vector[] }>("vectors", "pdus.json");
const byId = new Map(vectors.map((v) => [v.id, v]));

function vector(id: string): Vector {
  const v = byId.get(id);
  if (v === undefined) throw new Error(`no vector ${id}`);
  return v;
}

/** The PDU of a vector frame; frames without trailer (fixtures) are checked by their length field. */
function pduOf(v: Vector): { version: number; pdu: Buffer } {
  const bytes = fromHex(v.hex);
  if (v.trailer) return decodeSingleFrame(bytes);
  assert.equal(bytes[0], 0x72);
  assert.equal(bytes.readUInt16BE(2), bytes.length - 4, "length field of a frame without trailer");
  const withTrailer = Buffer.concat([bytes, Buffer.from([0x72, bytes[1]!, 0, 0])]);
  return decodeSingleFrame(withTrailer);
}

function decodeVector(id: string): DecodedPdu {
  return decodePdu(pduOf(vector(id)).pdu);
}

describe("reference vectors (test/fixtures/vectors/README.md §2–§10, §13, §15)", () => {
  it("has all 65 vectors with provenance", () => {
    assert.equal(vectors.length, 65);
    for (const v of vectors) assert.match(v.provenance, /REAL-PLC|DERIVED|TEMPLATE-G|REAL-PLCSIM/);
  });

  for (const v of vectors.filter((x) => x.kind === "pdu")) {
    it(`${v.id} (${v.section}, ${v.provenance}) decodes to the documented fields and re-encodes byte for byte`, () => {
      const { version, pdu } = pduOf(v);
      const decoded = decodePdu(pdu);
      assertPartial(normalize(decoded), v.expect);
      const re = encodePdu(decoded);
      if (v.canonicalHex !== undefined) {
        assert.equal(toHex(encodeFrame(version, re)), v.canonicalHex);
      } else {
        assert.equal(toHex(re), toHex(pdu));
        if (v.trailer) assert.equal(toHex(encodeFrame(version, re)), v.hex);
        else assert.equal(toHex(encodeFrame(version, re).subarray(0, -4)), v.hex);
      }
    });
  }

  it("7.2: the PLCSIM Explore(52) head decodes (completed with a2 and fill) to object 0x34, class 2179, attribute flags 6, OperatingState 8", () => {
    const v = vector("7.2#1");
    const e = v.expect as { [k: string]: Json };
    const pdu = Buffer.concat([fromHex("32 00 00 04 bb 00 00 00 01 34"), fromHex(v.hex), fromHex("a2 00 00 00 00")]);
    const d = decodePdu(pdu);
    assert.ok(d.kind === "response" && d.message.service === "Explore");
    const body = d.message.body;
    assertPartial(normalize(body), { returnValue: e["returnValue"]!, objectId: e["objectId"]!, integrityId: e["integrityId"]! });
    const obj = body.objects[0]!;
    assertPartial(normalize(obj), e["object"]!);
    assert.equal((getAttribute(obj, 233) as { value: { value: string } }).value.value, e["name"]);
    const state = structMember(getAttribute(obj, 2237)!, 3486);
    assert.deepEqual(normalize(state), { kind: "scalar", flags: 0, value: { type: "DInt", value: e["operatingState"]! } });
    assert.equal(toHex(encodePdu(d)), toHex(pdu));
    // The head alone is truncated: a DecodeError, not a crash.
    assert.throws(() => decodePdu(pdu.subarray(0, 10 + fromHex(v.hex).length)), { name: "DecodeError" });
  });

  it("8.2: the head of a fragmented GetVarSubStreamed answer gives the header, ReturnValue and a 4094-byte Blob", () => {
    const v = vector("8.2#1");
    const e = v.expect as { [k: string]: number | string };
    const bytes = fromHex(v.hex);
    const parser = new FrameParser();
    assert.deepEqual(parser.push(bytes), [], "an incomplete fragment yields no PDU");
    assert.equal(bytes[1], e["version"]);
    assert.equal(bytes.readUInt16BE(2), e["dataLength"]);
    const r = new ByteReader(bytes, 4);
    const h = readResponseHeader(r);
    assert.deepEqual(h, { opcode: e["opcode"], functionCode: e["functionCode"], sequenceNumber: e["sequenceNumber"], transportFlags: 0x34 });
    assert.equal(`${r.vlqU64()}n`, e["returnValue"]);
    assert.equal(r.u8(), 0);
    assert.equal(r.u8(), 0x00);
    assert.equal(r.u8(), 0x14);
    assert.equal(r.vlqU32(), e["blobRootId"]);
    assert.equal(r.vlqU32(), e["blobSize"]);
    const start = r.bytes(r.remaining);
    assert.equal(toHex(start.subarray(0, 6)), "0a 02 00 00 00 01");
    assert.equal(start.subarray(6).toString("latin1"), "S29.80.05");
  });

  for (const id of ["15#1", "15#2"]) {
    it(`${id} (test/fixtures/vectors/README.md §15, TEMPLATE-G): SystemEvent decodes, re-encodes and is classified`, () => {
      const v = vector(id);
      const e = v.expect as { [k: string]: Json };
      const bytes = fromHex(v.hex);
      const msgs = new FrameParser().push(bytes);
      assert.equal(msgs.length, 1);
      const m = msgs[0]!;
      assert.ok(m.kind === "systemEvent");
      const ev = decodeSystemEvent(m.data);
      assertPartial(normalize(ev), { head: e["head"]!, counter: e["counter"]!, body: e["body"]! });
      assert.equal(isFatalSystemEvent(ev), e["fatal"]);
      assert.equal(toHex(encodeSystemEventFrame(encodeSystemEvent(ev))), v.hex);
    });
  }

  it("13.2: the new-legitimation plaintext Struct 40400 is rebuilt exactly and decodes to its fields", () => {
    const v = vector("13.2#1");
    const sha1 = createHash("sha1").update("secret", "utf8").digest();
    assert.equal(sha1.toString("hex"), "e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4");
    const bytes = encodeLegitimationPayload({ type: 1, username: Buffer.alloc(0), password: sha1 });
    assert.equal(toHex(bytes), v.hex);
    assert.equal(bytes.length, 47);
    const d = decodeLegitimationPayload(fromHex(v.hex));
    assertPartial(normalize(d), v.expect);
    assert.equal(d.form, "rootId");
  });

  it("13.2: the PY form without Blob rootIds decodes to the same fields", () => {
    const py = fromHex("00 17 00 00 9d d0 82 bb 51 00 04 01 82 bb 52 00 14 00 82 bb 53 00 14 14 e5 e9 fa 1b a3 1e cd 1a e8 4f 75 ca aa 47 4f 3a 66 3f 05 f4 00");
    const d = decodeLegitimationPayload(py);
    assert.equal(d.form, "noRootId");
    assert.equal(d.type, 1);
    assert.equal(d.username.length, 0);
    assert.equal(d.password.toString("hex"), "e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4");
  });

  it("13.3: legacy legitimation value = SHA-1 XOR challenge as USInt[20]", () => {
    const challenge = Buffer.from(Array.from({ length: 20 }, (_, i) => i));
    const sha1 = createHash("sha1").update("secret", "utf8").digest();
    const value = legacyLegitimationValue(sha1, challenge);
    assert.equal(toHex(encodePValue(value)), "10 02 14 " + toHex(fromHex("e5e8f818a71bcb1de0467fc1a64a4135762e17e7")));
  });

  it("14: return values decode as UInt64 VLQ and classify by their low 16 bits", () => {
    const rows: [bigint, number, boolean][] = [
      [0x11n, 17, false],
      [0xa027a6000054fffcn, -4, true],
      [0x8020ab001992fff4n, -12, true],
      [0x8318890001b3fffen, -2, true],
    ];
    for (const [value, code, isError] of rows) {
      const body = encodePdu({
        kind: "response",
        header: { opcode: 0x32, functionCode: 0x04f2, sequenceNumber: 1, transportFlags: 0x34 },
        message: { service: "SetVariable", body: { returnValue: value, integrityId: 2 } },
      });
      const d = decodePdu(body);
      assert.ok(d.kind === "response" && d.message.service === "SetVariable");
      assert.equal(d.message.body.returnValue, value);
      assert.equal(returnValueCode(value), code);
      assert.equal(isErrorReturnValue(value), isError);
    }
  });

  it("3.1: makeSessionCreateObjectRequest() is the CS/JS body", () => {
    const { pdu } = pduOf(vector("3.1#1"));
    const built = encodePdu({
      kind: "request",
      header: { functionCode: 0x04ca, sequenceNumber: 2, sessionId: 288, transportFlags: 0x36 },
      message: { service: "CreateObject", body: makeSessionCreateObjectRequest() },
    });
    assert.equal(toHex(built), toHex(pdu));
  });

  it("3.3/3.4/6.1: session ids, attribute 306 and the PAOM string come out of the CreateObject response", () => {
    const expected: [string, number, number, string, number][] = [
      ["3.3#1", 958, 931, "1;6ES7 211-1BE31-0XB0 ;V3.0", 256],
      ["3.4#1", 904, 905, "1;6ES7 511-1AK00-0AB0;V1.0", 320],
      ["6.1#1", 0x70001000, 0x70001001, "1;6ES7 511-1AK02-0AB0;V3.1", 320],
    ];
    for (const [id, s1, s2, paom, oms] of expected) {
      const d = decodeVector(id);
      assert.ok(d.kind === "response" && d.message.service === "CreateObject");
      const info = sessionInfoFromResponse(d.message.body as CreateObjectResponse);
      assert.equal(info.sessionId, s1);
      assert.equal(info.sessionId2, s2);
      assert.equal(info.paom, paom);
      assert.equal(info.systemOms, oms);
      assert.equal(info.serverSessionVersion.kind, "scalar");
    }
  });

  it("4.1/4.4: the session setup is rebuilt from the CreateObject answer's struct (4.1 with member 319 emptied)", () => {
    const cases: [string, string, boolean][] = [
      ["3.3#1", "4.1#1", true],
      ["3.4#1", "4.4#1", false],
    ];
    for (const [answerId, setupId, empty319] of cases) {
      const answer = decodeVector(answerId);
      assert.ok(answer.kind === "response" && answer.message.service === "CreateObject");
      const info = sessionInfoFromResponse(answer.message.body);
      let version: PValue = info.serverSessionVersion;
      if (empty319 && version.kind === "scalar" && version.value.type === "Struct") {
        version = { ...version, value: { ...version.value, members: version.value.members.map((m) => (m.id === 319 ? { id: 319, value: pv.wstring("") } : m)) } };
      }
      const setup = decodePdu(pduOf(vector(setupId)).pdu);
      assert.ok(setup.kind === "request");
      const sessionId = empty319 ? 958 : 0x7000103d;
      const built = encodePdu({
        kind: "request",
        header: setup.header,
        message: { service: "SetMultiVariables", body: makeSessionSetupRequest(sessionId, version) },
      });
      assert.equal(toHex(built), toHex(pduOf(vector(setupId)).pdu));
    }
  });

  it("10: DeleteObject answers carry an IntegrityId only when another object than the own session is deleted", () => {
    const own = makeDeleteObjectResponse({ objectId: 0x3e0, ownSession: true, sequenceNumber: 3 });
    const d = decodeVector("10#2");
    assert.ok(d.kind === "response" && d.message.service === "DeleteObject");
    assert.deepEqual(normalize(d.message.body), normalize(own));
    const other = makeDeleteObjectResponse({ objectId: 0x7000103f, ownSession: false, sequenceNumber: 10, requestIntegrityId: 3 });
    assert.equal(other.integrityId, 13);
    assert.equal(toHex(encodePdu({ kind: "response", header: { opcode: 0x32, functionCode: 0x04d4, sequenceNumber: 10, transportFlags: 0x34 }, message: { service: "DeleteObject", body: other } })),
      "32 00 00 04 d4 00 00 00 0a 34 00 70 00 10 3f 0d 00 00 00 00");
  });

  it("5.2: the String item comes back as USInt[256] with max length 254, length 1, 'M'", () => {
    const d = decodeVector("5.2#2");
    assert.ok(d.kind === "response" && d.message.service === "GetMultiVariables");
    const v = d.message.body.values[1]!.value;
    assert.ok(v.kind === "array");
    assert.equal(v.elements.length, 256);
    const bytes = v.elements.map((e) => (e.type === "USInt" ? e.value : -1));
    assert.deepEqual(bytes.slice(0, 3), [254, 1, 0x4d]);
    assert.ok(bytes.slice(3).every((b) => b === 0));
  });

  it("3.4: the challenge attribute 303 is a USInt[20] with the captured bytes", () => {
    const d = decodeVector("3.4#1");
    assert.ok(d.kind === "response" && d.message.service === "CreateObject");
    const v = getAttribute(d.message.body.objects[0]!, 303)!;
    const r = new ByteReader(encodePValue(v));
    const again = readPValue(r);
    assert.ok(again.kind === "array");
    assert.equal(Buffer.from(again.elements.map((e) => (e.type === "USInt" ? e.value : 0))).toString("hex"), "27ab8fbbf5932317cd6959f04976658f7313522a");
  });
});
