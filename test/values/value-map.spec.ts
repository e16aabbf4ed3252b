import { strict as assert } from "node:assert";
import { ValueError } from "../../src/errors.js";
import { decodePValue, encodePValue, type PValue } from "../../src/protocol/pvalue.js";
import { fromHex, toHex } from "../../src/protocol/bytes.js";
import { PlcDate } from "../../src/values/plc-time.js";
import { decodeValue, encodeValue, DTL_STRUCT_ID } from "../../src/values/value-map.js";
import { formatPlcType, parsePlcTypeName, type PlcType } from "../../src/values/plc-type.js";
import { readFixtureJson } from "../../scripts/support/fixtures.js";

interface ValueVectors {
  reads: { member: string; type: string; hex: string; json: unknown }[];
  stringWrite: { type: string; value: string; hexHead: string; zeros: number };
}
const vectors = readFixtureJson<ValueVectors>("vectors", "values.json");

function normalise(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "bigint") return `${v}n`;
  if (Array.isArray(v)) return v.map(normalise);
  return v;
}

const ctx = { tag: "DB1.Test" };

function roundTrip(type: PlcType, value: unknown): unknown {
  const wire = encodePValue(encodeValue(type, value, ctx));
  return decodeValue(type, decodePValue(wire), ctx);
}

describe("values: PLC type names", () => {
  for (const [text, formatted] of [
    ["Int", "Int"],
    ["tod", "Time_Of_Day"],
    ["String[20]", "String[20]"],
    ["WString", "WString[16382]"],
    ["Array[0..9] of Real", "Array[0..9] of Real"],
    ["Array[1..2, -1..1] of Bool", "Array[1..2, -1..1] of Bool"],
  ] as const) {
    it(`parses "${text}" as ${formatted}`, () => assert.equal(formatPlcType(parsePlcTypeName(text)), formatted));
  }
  it("names the type text in errors", () => {
    assert.throws(() => parsePlcTypeName("Flaot"), /"Flaot" is not a known S7 data type/);
    assert.throws(() => parsePlcTypeName("String[300]"), /String\[300\]": length must be 1 … 254/);
    assert.throws(() => parsePlcTypeName("Array[3..1] of Int"), /upper bound 1 is below lower bound 3/);
  });
});

describe("values: decoding real controller values (test/fixtures/vectors/README.md §5.6)", () => {
  for (const row of vectors.reads) {
    it(`${row.member} (${row.type}) from ${row.hex}`, () => {
      const value = decodeValue(parsePlcTypeName(row.type), decodePValue(fromHex(row.hex)), { tag: `DB6.${row.member}` });
      assert.deepEqual(normalise(value), row.json);
    });
  }
  it("a String[254] read as USInt[256] with actual length 0 is the empty string", () => {
    const bytes = Buffer.concat([fromHex("90 02 82 00 fe 00"), Buffer.alloc(254)]);
    assert.equal(decodeValue(parsePlcTypeName("String"), decodePValue(bytes), ctx), "");
  });
});

describe("values: encoding writes", () => {
  it("encodes String \"MMM\" exactly as WinCC wrote it to an S7-1211C (test/fixtures/vectors/README.md §5.4)", () => {
    const w = vectors.stringWrite;
    const wire = encodePValue(encodeValue(parsePlcTypeName(w.type), w.value, ctx));
    assert.equal(toHex(wire), toHex(Buffer.concat([fromHex(w.hexHead), Buffer.alloc(w.zeros)])));
  });

  const cases: [string, unknown, string][] = [
    ["Bool", true, "00 01 01"],
    ["Int", -2, "00 07 ff fe"],
    ["Word", 0x1234, "00 0b 12 34"],
    ["DInt", -1234567, "00 08 ff b4 d2 79"],
    ["Real", 1.5, "00 0e 3f c0 00 00"],
    ["Char", "A", "00 02 41"],
    ["Date", "1990-01-02T00:00:00Z", "00 03 00 01"],
    ["Time", 1000, "00 08 87 68"],
    ["LInt", -1n, "00 09 7f"],
    ["LTime", 1_000_000n, "00 11 bd 84 40"],
    ["Array[0..2] of Byte", [1, 2, 3], "10 0a 03 01 02 03"],
  ];
  for (const [type, value, hex] of cases) {
    it(`${type} ${String(value)} → ${hex}`, () => {
      assert.equal(toHex(encodePValue(encodeValue(parsePlcTypeName(type), value, ctx))), hex);
    });
  }

  it("encodes a DTL as the packed system struct 0x02000043 with 12 bytes", () => {
    const v = encodeValue(parsePlcTypeName("DTL"), new PlcDate(Date.UTC(2024, 1, 29, 13, 14, 15, 16), 16_000_123), ctx);
    assert.equal(v.kind, "scalar");
    assert.ok(v.kind === "scalar" && v.value.type === "PackedStruct");
    if (v.kind === "scalar" && v.value.type === "PackedStruct") {
      assert.equal(v.value.id, DTL_STRUCT_ID);
      assert.equal(toHex(v.value.data), "07 e8 02 1d 05 0d 0e 0f 00 f4 24 7b");
    }
  });
});

describe("values: round trips", () => {
  const samples: [string, unknown][] = [
    ["Bool", false],
    ["Byte", 255],
    ["SInt", -128],
    ["USInt", 200],
    ["UInt", 65535],
    ["UDInt", 4294967295],
    ["DInt", -2147483648],
    ["DWord", 0xdeadbeef],
    ["Real", 0.25],
    ["LReal", Math.PI],
    ["ULInt", 18446744073709551615n],
    ["LWord", 0x0123456789abcdefn],
    ["LTOD", 86_399_999_999_999n],
    ["WChar", "Ω"],
    ["Time_Of_Day", 86_399_999],
    ["S5Time", 9_990_000],
    ["String[10]", "Grüße"],
    ["WString[10]", "温度 °C"],
    ["Array[1..2, 0..2] of Int", [[1, 2, 3], [4, 5, 6]]],
    ["Array[0..3] of Bool", [true, false, true, true]],
  ];
  for (const [type, value] of samples) {
    it(`${type} ${JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v))}`, () => {
      assert.deepEqual(roundTrip(parsePlcTypeName(type), value), value);
    });
  }
  it("keeps the nanoseconds of LDT and DTL", () => {
    for (const type of ["LDT", "DTL"]) {
      const d = new PlcDate(Date.UTC(2025, 5, 1, 12, 0, 0, 123), 123_456_789);
      const back = roundTrip(parsePlcTypeName(type), d);
      assert.ok(back instanceof PlcDate, type);
      assert.equal((back as PlcDate).toISOString(), d.toISOString());
      assert.equal((back as PlcDate).nanoseconds, 123_456_789);
    }
  });
  it("Date_And_Time to the millisecond", () => {
    const d = new Date("2024-12-24T18:30:05.123Z");
    assert.equal((roundTrip(parsePlcTypeName("DT"), d) as Date).toISOString(), d.toISOString());
  });
});

describe("values: writes are checked before anything is sent", () => {
  const bad: [string, unknown, RegExp][] = [
    ["Int", 32768, /DB1\.Test: 32768 is outside -32768 … 32767 \(Int\)/],
    ["Byte", -1, /-1 is outside 0 … 255/],
    ["DInt", 1.5, /1\.5 is not an integer \(DInt\)/],
    ["Real", "abc", /"abc" is not a number \(Real\)/],
    ["Real", 1e39, /outside the range of Real/],
    ["Bool", "yes", /"yes" is not a Bool/],
    ["LInt", 2 ** 60, /beyond 2\^53/],
    ["ULInt", -1n, /outside 0 … 18446744073709551615/],
    ["String[3]", "four", /longer than String\[3\]/],
    ["String[10]", "温度", /outside Latin-1; use a WString/],
    ["Char", "ab", /not a single character/],
    ["Date", "not a date", /DB1\.Test: Date: "not a date" is not a date/],
    ["Array[0..2] of Int", [1, 2], /array has 2 elements, Array\[0\.\.2\] of Int needs 3/],
    ["Array[0..1] of Int", [1, 99999], /DB1\.Test\[1\]: 99999 is outside/],
    // Strict: a boolean is not a number, and nothing is written as Infinity or NaN.
    ["Int", true, /DB1\.Test: true is a boolean, not a number \(Int\); write 1 or 0/],
    ["Real", false, /false is a boolean, not a number \(Real\)/],
    ["LInt", true, /true is a boolean, not a number \(LInt\)/],
    ["Real", "1e400", /"1e400" is outside the range of Real/],
    ["LReal", "1e400", /"1e400" is outside the range of LReal/],
    ["LReal", Infinity, /Infinity is outside the range of LReal/],
    ["Real", -Infinity, /-Infinity is outside the range of Real/],
    ["LReal", NaN, /NaN is not a number \(LReal\)/],
    ["DInt", "1e400", /outside the range of DInt/],
    ["LInt", "99999999999999999999", /"99999999999999999999" is outside -9223372036854775808 … 9223372036854775807 \(LInt\)/],
    ["ULInt", "99999999999999999999", /"99999999999999999999" is outside 0 … 18446744073709551615 \(ULInt\)/],
  ];
  for (const [type, value, message] of bad) {
    it(`${type} refuses ${String(value)}`, () => {
      assert.throws(
        () => encodeValue(parsePlcTypeName(type), value, ctx),
        (err: unknown) => err instanceof ValueError && err.tag === "DB1.Test" && message.test(err.message),
      );
    });
  }
  it("refuses structs as single values (they travel member by member)", () => {
    const struct: PlcType = { kind: "struct", typeName: "UDT_Motor", members: [] };
    assert.throws(() => encodeValue(struct, {}, ctx), /"UDT_Motor"\) is written member by member/);
  });
  it("refuses a read whose wire type does not fit the tag", () => {
    const wrong: PValue = decodePValue(fromHex("00 15 02 68 69"));
    assert.throws(() => decodeValue(parsePlcTypeName("Int"), wrong, ctx), /DB1\.Test: the controller sent WString for a Int/);
  });
});
