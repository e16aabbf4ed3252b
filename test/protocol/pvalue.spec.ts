import { strict as assert } from "node:assert";
import { ByteReader, fromHex, toHex } from "../../src/protocol/bytes.js";
import { DecodeError } from "../../src/errors.js";
import {
  decodePValue,
  encodePValue,
  MAX_PVALUE_DEPTH,
  pv,
  readFixedPValue,
  type Element,
  type PValue,
} from "../../src/protocol/pvalue.js";
import { decodeItemAddress, encodeItemAddress, classicDbAddress, dbArea, dbNumberOf } from "../../src/protocol/address.js";
import { decodeVartypeList, encodeVartypeList, decodeVarnameList, encodeVarnameList, OFFSET_INFO_SIZES, describeAttributeFlags } from "../../src/protocol/typeinfo.js";
import { decodePObject, encodePObject } from "../../src/protocol/pobject.js";
import { normalize } from "../support/match.js";
import { seededRandom, type SeededRandom } from "../../scripts/support/random.js";

function roundTrip(hex: string): PValue {
  const v = decodePValue(fromHex(hex));
  assert.equal(toHex(encodePValue(v)), hex);
  return v;
}

describe("PValue (docs/PROTOCOL.md §9)", () => {
  it("decodes the 0x80-flagged values of the S7-1511 all-types capture (test/fixtures/vectors/README.md §5.6) and keeps the flag", () => {
    assert.deepEqual(normalize(roundTrip("80 01 00")), { kind: "scalar", flags: 0x80, value: { type: "Bool", value: false } });
    assert.deepEqual(normalize(roundTrip("80 03 07 b2")), { kind: "scalar", flags: 0x80, value: { type: "UInt", value: 1970 } });
    assert.deepEqual(normalize(roundTrip("80 10 00 00 00 00 00 00 00 00")), { kind: "scalar", flags: 0x80, value: { type: "Timestamp", value: "0n" } });
    const arr = roundTrip("90 0a 0b 00 00 00 00 00 00 00 00 00 00 00");
    assert.ok(arr.kind === "array" && arr.datatype === "Byte" && arr.elements.length === 11);
    const dt = roundTrip("90 02 08 90 01 01 00 00 00 00 02");
    assert.ok(dt.kind === "array" && dt.datatype === "USInt");
    assert.deepEqual(dt.elements.map((e) => (e as { value: number }).value), [0x90, 1, 1, 0, 0, 0, 0, 2]);
  });

  it("decodes a sparse DInt array (0x40) from the S7-1511 capture and re-encodes it", () => {
    const v = roundTrip("40 08 01 81 7a 02 8f 50 00");
    assert.deepEqual(normalize(v), {
      kind: "sparse",
      flags: 0x40,
      datatype: "DInt",
      entries: [
        { key: 1, value: { type: "DInt", value: 250 } },
        { key: 2, value: { type: "DInt", value: 2000 } },
      ],
    });
  });

  it("Blob with rootId 0, and the rootId > 1 header (8 bytes + type) quirk", () => {
    assert.deepEqual(normalize(roundTrip("00 14 00 04 74 65 73 74")), { kind: "scalar", flags: 0, value: { type: "Blob", rootId: 0, data: "hex:74657374" } });
    const v = roundTrip("00 14 05 00 00 00 00 00 00 00 00 02 02 ab cd");
    assert.deepEqual(normalize(v), { kind: "scalar", flags: 0, value: { type: "Blob", rootId: 5, header: { unknown: "hex:0000000000000000", blobType: 2 }, data: "hex:abcd" } });
  });

  it("WString is UTF-8; bytes that are not UTF-8 survive a round trip", () => {
    assert.deepEqual(normalize(roundTrip("00 15 03 c3 a4 78")), { kind: "scalar", flags: 0, value: { type: "WString", value: "äx" } });
    const v = roundTrip("00 15 03 30 cc 3a");
    assert.ok(v.kind === "scalar" && v.value.type === "WString" && v.value.raw !== undefined);
  });

  it("packed struct (DTL 0x02000043) with and without count2", () => {
    const dtl = roundTrip("00 17 02 00 00 43 10 ff 4a d6 df d5 77 4c 02 0c 07 e8 01 02 03 04 05 06 00 00 00 07");
    assert.ok(dtl.kind === "scalar" && dtl.value.type === "PackedStruct");
    assert.equal(dtl.value.data.length, 12);
    assert.equal(dtl.value.interfaceTimestamp, 0x10ff4ad6dfd5774cn);
    const two = roundTrip("00 17 92 00 00 01 00 00 00 00 00 00 00 01 88 02 02 03 aa bb cc");
    assert.ok(two.kind === "scalar" && two.value.type === "PackedStruct");
    assert.equal(two.value.count2, 3);
    assert.equal(two.value.data.length, 3);
  });

  it("fixed-width variant of SystemEvents (docs/PROTOCOL.md §8.5)", () => {
    const r = new ByteReader(fromHex("00 00 00 17 00 00 ff ff 00 00 9d 71 00 00 00 09 ff ff ff ff ff ff fe a1 00 00 00 00"));
    const v = readFixedPValue(r);
    assert.ok(r.atEnd);
    assert.deepEqual(normalize(v), {
      kind: "scalar",
      flags: 0,
      value: { type: "Struct", id: 0xffff, members: [{ id: 40305, value: { kind: "scalar", flags: 0, value: { type: "LInt", value: "-351n" } } }] },
    });
  });

  it("refuses nesting deeper than the limit and forged counts before allocating", () => {
    let hex = "";
    for (let i = 0; i <= MAX_PVALUE_DEPTH + 1; i++) hex += "00 17 00 00 00 01 01 ";
    assert.throws(() => decodePValue(fromHex(hex)), (e: unknown) => e instanceof DecodeError && /nesting/.test(e.message));
    assert.throws(() => decodePValue(fromHex("10 02 8f ff ff ff 7f 00")), (e: unknown) => e instanceof DecodeError && /count/.test(e.message));
    assert.throws(() => decodePValue(fromHex("00 14 00 8f ff ff ff 7f")), DecodeError);
    assert.throws(() => decodePValue(fromHex("00 16 00")), DecodeError);
    assert.throws(() => decodePValue(fromHex("00 99")), DecodeError);
  });

  it("encoders refuse values outside their type", () => {
    assert.throws(() => encodePValue(pv.usint(256)), RangeError);
    assert.throws(() => encodePValue(pv.int(40000)), RangeError);
    assert.throws(() => encodePValue({ kind: "scalar", flags: 0x10, value: { type: "Null" } }), RangeError);
  });

  it("round-trips seeded random typed values", () => {
    const rnd = seededRandom(0x9a1);
    for (let i = 0; i < 3000; i++) {
      const v = randomPValue(rnd, 0);
      const bytes = encodePValue(v);
      const back = decodePValue(bytes);
      assert.deepEqual(normalize(back), normalize(v));
      assert.ok(encodePValue(back).equals(bytes));
    }
  });
});

const NUMBER_TYPES: [Element["type"], () => number][] = [];
function randomElement(rnd: SeededRandom, type: string, depth: number): Element {
  const s32 = (): number => rnd.u32() | 0;
  switch (type) {
    case "Null": return { type: "Null" };
    case "Bool": return { type: "Bool", value: rnd.int(2) === 1 };
    case "USInt": case "Byte": return { type, value: rnd.int(256) };
    case "SInt": return { type, value: rnd.int(256) - 128 };
    case "UInt": case "Word": return { type, value: rnd.int(65536) };
    case "Int": return { type, value: rnd.int(65536) - 32768 };
    case "UDInt": case "AID": case "DWord": case "RID": return { type, value: rnd.u32() };
    case "DInt": return { type, value: s32() };
    case "Real": return { type, value: new Float32Array([(rnd.u32() / 65536) - 30000])[0]! };
    case "LReal": return { type, value: (rnd.u32() - 2 ** 31) / 7 };
    case "ULInt": case "LWord": case "Timestamp": return { type, value: rnd.u64() };
    case "LInt": case "Timespan": return { type, value: BigInt.asIntN(64, rnd.u64()) };
    case "Blob": return { type: "Blob", rootId: rnd.int(2), data: rnd.bytes(rnd.int(20)) };
    case "WString": return { type: "WString", value: ["", "abc", "Motor.Speed", "Größe €", "日本"][rnd.int(5)]! };
    default: {
      const members = depth < 3 ? Array.from({ length: rnd.int(4) }, () => ({ id: 1 + rnd.int(5000), value: randomPValue(rnd, depth + 1) })) : [];
      return { type: "Struct", id: 1 + rnd.int(0x01000000), members };
    }
  }
}
const TYPES = ["Null", "Bool", "USInt", "Byte", "SInt", "UInt", "Word", "Int", "UDInt", "AID", "DWord", "RID", "DInt", "Real", "LReal", "ULInt", "LWord", "Timestamp", "LInt", "Timespan", "Blob", "WString", "Struct"] as const;
void NUMBER_TYPES;
function randomPValue(rnd: SeededRandom, depth: number): PValue {
  const type = TYPES[rnd.int(TYPES.length)]!;
  const extra = rnd.int(4) === 0 ? 0x80 : 0;
  const shape = rnd.int(5);
  if (shape === 0 && type !== "Null") {
    return { kind: "array", flags: (rnd.int(2) ? 0x10 : 0x20) | extra, datatype: type, elements: Array.from({ length: rnd.int(5) }, () => randomElement(rnd, type, depth)) };
  }
  if (shape === 1 && type !== "Null") {
    return { kind: "sparse", flags: 0x40 | extra, datatype: type, entries: Array.from({ length: rnd.int(4) }, (_, i) => ({ key: i + 1 + rnd.int(100), value: randomElement(rnd, type, depth) })) };
  }
  return { kind: "scalar", flags: extra, value: randomElement(rnd, type, depth) };
}

describe("item addresses (docs/PROTOCOL.md §19)", () => {
  it("decodes and encodes the DB3 String address of test/fixtures/vectors/README.md §5.2 and the JS sign-extended DB area", () => {
    const a = decodeItemAddress(fromHex("8e fa a6 a8 5c 88 d0 b8 80 03 04 93 76 0e 00 82 00"));
    assert.deepEqual(a, { symbolCrc: 0xef49945c, area: dbArea(3), subArea: 2550, lids: [14, 0, 256] });
    assert.equal(toHex(encodeItemAddress(a)), "8e fa a6 a8 5c 88 d0 b8 80 03 04 93 76 0e 00 82 00");
    assert.equal(decodeItemAddress(fromHex("00 f8 d0 b8 80 01 02 93 76 0a")).area, 0x8a0e0001);
    assert.equal(dbNumberOf(dbArea(42)), 42);
  });
  it("classic access LIDs [3, offset, length(, bit)]", () => {
    assert.deepEqual(classicDbAddress(1, 2, 2).lids, [3, 2, 2]);
    assert.deepEqual(classicDbAddress(1, 122, 1, 7).lids, [3, 122, 1, 7]);
    assert.equal(toHex(encodeItemAddress(classicDbAddress(1, 2, 2))), "00 88 d0 b8 80 01 04 93 76 03 02 02");
    assert.throws(() => decodeItemAddress(fromHex("00 01 00 93 76")), DecodeError);
  });
});

describe("type info lists (docs/PROTOCOL.md §20.5)", () => {
  it("offset-info sizes of types 0–15", () => {
    assert.deepEqual(OFFSET_INFO_SIZES, [104, 4, 12, 20, 68, 32, 48, 96, 4, 12, 20, 68, 32, 48, 96, 40]);
  });
  it("every offset-info type round-trips with its size", () => {
    const rnd = seededRandom(5);
    for (let type = 0; type < 16; type++) {
      const flags = (type << 12) | 0x0ac0;
      const elem = Buffer.concat([fromHex("0a 00 00 00 11 22 33 44 08"), Buffer.from([flags >> 8, flags & 0xff, 0x00]), rnd.bytes(OFFSET_INFO_SIZES[type]!)]);
      const block = Buffer.concat([Buffer.from([0, 4 + elem.length]), fromHex("0a 00 00 00"), elem, fromHex("00 00")]);
      const list = decodeVartypeList(block);
      assert.equal(list.elements.length, 1);
      assert.equal(list.elements[0]!.offsetInfo.type, type);
      assert.ok(encodeVartypeList(list).equals(block), `type ${type}`);
    }
  });
  it("names and attribute flags", () => {
    const names = decodeVarnameList(fromHex("00 17 05 53 70 65 65 64 00 07 52 75 6e 6e 69 6e 67 00 05 43 6f 75 6e 74 00 00 00"));
    assert.deepEqual(names.names, ["Speed", "Running", "Count"]);
    assert.equal(toHex(encodeVarnameList({ names: ["Speed", "Running", "Count"] })), "00 17 05 53 70 65 65 64 00 07 52 75 6e 6e 69 6e 67 00 05 43 6f 75 6e 74 00 00 00");
    assert.deepEqual(describeAttributeFlags(0x8ac0), { offsetInfoType: 8, hmiVisible: true, hmiReadOnly: false, hmiAccessible: true, optimized: true, section: 4, bitOffset: 0 });
  });
});

describe("PObject (docs/PROTOCOL.md §10)", () => {
  it("decodes the legacy tag description a7…a8 of the TIA V12 capture and re-encodes it", () => {
    const hex = "a1 90 03 00 00 83 7f 20 00 a3 84 11 00 05 89 d0 b2 d0 93 ab 82 d2 18 a3 8b 5f 00 08 01 a7 04 03 4d 57 30 00 0b 04 01 90 00 00 09 00 00 04 00 00 a8 a2";
    const o = decodePObject(fromHex(hex));
    const td = o.elements.find((e) => e.tag === "tagDescription");
    assert.ok(td !== undefined && td.tag === "tagDescription");
    assert.equal(td.description.name.toString(), "MW0");
    assert.equal(toHex(encodePObject(o)), hex);
  });
  it("reads the attribute-flags VLQ when attributeId ≠ 0 and refuses unknown tags", () => {
    const o = decodePObject(fromHex("a1 00 00 00 34 91 03 30 92 59 06 a2"));
    assert.deepEqual({ ...o, elements: o.elements.length }, { relationId: 0x34, classId: 2179, classFlags: 0x30, attributeId: 2393, attributeFlags: 6, elements: 0 });
    assert.throws(() => decodePObject(fromHex("a1 00 00 00 01 01 00 00 a9 a2")), DecodeError);
  });
});
