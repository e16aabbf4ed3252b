import { strict as assert } from "node:assert";
import { ByteReader, ByteWriter, fromHex, toHex } from "../../src/protocol/bytes.js";
import { DecodeError } from "../../src/errors.js";
import { readFixtureJson } from "../../scripts/support/fixtures.js";
import { seededRandom } from "../../scripts/support/random.js";

type VlqType = "UInt32" | "Int32" | "UInt64" | "Int64";
interface VlqRow {
  type: VlqType;
  value: string;
  hex: string;
}
const vectors = readFixtureJson<{ rows: VlqRow[]; extraDecodeOnly: VlqRow[] }>("vectors", "vlq.json");

function decode(type: VlqType, bytes: Buffer): { value: string; length: number } {
  const r = new ByteReader(bytes);
  const value =
    type === "UInt32" ? r.vlqU32() : type === "Int32" ? r.vlqI32() : type === "UInt64" ? r.vlqU64() : r.vlqI64();
  return { value: String(value), length: r.offset };
}

function encodeRow(type: VlqType, value: string): Buffer {
  const w = new ByteWriter();
  if (type === "UInt32") w.vlqU32(Number(value));
  else if (type === "Int32") w.vlqI32(Number(value));
  else if (type === "UInt64") w.vlqU64(BigInt(value));
  else w.vlqI64(BigInt(value));
  return w.toBuffer();
}

describe("VLQ codecs (test/fixtures/vectors/README.md §11)", () => {
  it("has the whole vector table", () => {
    assert.equal(vectors.rows.length, 45);
  });

  for (const row of vectors.rows) {
    it(`${row.type} ${row.value} <-> ${row.hex}`, () => {
      const bytes = fromHex(row.hex);
      assert.deepEqual(decode(row.type, bytes), { value: row.value, length: bytes.length });
      assert.equal(toHex(encodeRow(row.type, row.value)), row.hex);
    });
  }

  for (const row of vectors.extraDecodeOnly) {
    it(`decodes the non-canonical ${row.type} form ${row.hex} as ${row.value}`, () => {
      const bytes = fromHex(row.hex);
      assert.deepEqual(decode(row.type, bytes), { value: row.value, length: bytes.length });
    });
  }

  it("rejects a UInt32 VLQ of six bytes and a truncated one with DecodeError", () => {
    assert.throws(() => new ByteReader(fromHex("80 80 80 80 80 00")).vlqU32(), DecodeError);
    assert.throws(() => new ByteReader(fromHex("81 80")).vlqU32(), DecodeError);
    assert.throws(() => new ByteReader(fromHex("ff ff ff ff ff ff ff ff")).vlqU64(), DecodeError);
  });

  it("round-trips seeded random values over the whole range of every type", () => {
    const rnd = seededRandom(0x5eed);
    for (let i = 0; i < 20000; i++) {
      const u32 = rnd.u32();
      assert.equal(decode("UInt32", encodeRow("UInt32", String(u32))).value, String(u32));
      const i32 = rnd.u32() | 0;
      assert.equal(decode("Int32", encodeRow("Int32", String(i32))).value, String(i32));
      const u64 = rnd.u64();
      assert.equal(decode("UInt64", encodeRow("UInt64", u64.toString())).value, u64.toString());
      const i64 = BigInt.asIntN(64, rnd.u64() >> BigInt(rnd.int(64)));
      assert.equal(decode("Int64", encodeRow("Int64", i64.toString())).value, i64.toString());
    }
  });
});
