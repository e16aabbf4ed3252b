import { strict as assert } from "node:assert";
import { parseTagName, formatTag, type TagAddress } from "../../src/tags/tag-name.js";
import { TagError } from "../../src/errors.js";

function syntaxErrorOf(text: string): TagError {
  try {
    parseTagName(text);
  } catch (err) {
    assert.ok(err instanceof TagError, `expected TagError for ${text}, got ${String(err)}`);
    assert.equal(err.code, "ERR_S7_TAG_SYNTAX");
    return err;
  }
  assert.fail(`"${text}" was accepted`);
}

describe("tag names (docs/NODES.md §5)", () => {
  const symbolic: Array<[string, Array<[string, number[]]>]> = [
    ['"Motor_DB".Speed', [["Motor_DB", []], ["Speed", []]]],
    ["Motor_DB.Speed", [["Motor_DB", []], ["Speed", []]]],
    ["Tank.Level[3]", [["Tank", []], ["Level", [3]]]],
    ['Line."Station 2".Temp', [["Line", []], ["Station 2", []], ["Temp", []]]],
    ['"My.DB".Grid[1, -2].x', [["My.DB", []], ["Grid", [1, -2]], ["x", []]]],
    ["Recipes.Items[2].Name", [["Recipes", []], ["Items", [2]], ["Name", []]]],
    ["M1.Speed", [["M1", []], ["Speed", []]]],
    ["I2C_Data.Value", [["I2C_Data", []], ["Value", []]]],
    ["DB1.DBWater", [["DB1", []], ["DBWater", []]]],
    ["Straße.Tür", [["Straße", []], ["Tür", []]]],
  ];
  for (const [text, path] of symbolic) {
    it(`parses the symbolic name ${text}`, () => {
      const tag = parseTagName(text);
      assert.equal(tag.kind, "symbolic");
      assert.deepEqual(
        tag.kind === "symbolic" ? tag.path.map((p) => [p.name, p.indices]) : undefined,
        path,
      );
    });
  }

  const absolute: Array<[string, Partial<TagAddress>]> = [
    ["DB1.DBX10.0", { area: "DB", db: 1, width: "X", byteOffset: 10, bitOffset: 0, type: "BOOL", byteLength: 1 }],
    ["DB1.DBB0", { area: "DB", db: 1, width: "B", byteOffset: 0, type: "BYTE", byteLength: 1 }],
    ["db2.dbw8", { area: "DB", db: 2, width: "W", byteOffset: 8, type: "WORD", byteLength: 2 }],
    ["DB1.DBD0", { area: "DB", db: 1, width: "D", byteOffset: 0, type: "DWORD", byteLength: 4 }],
    ["DB1.DBL0", { area: "DB", db: 1, width: "L", byteOffset: 0, type: "LWORD", byteLength: 8 }],
    ["DB1.DBD0:REAL", { width: "D", type: "REAL", byteLength: 4 }],
    ["DB1.DBW8:INT", { width: "W", type: "INT" }],
    ["DB1.DBD4:dint", { width: "D", byteOffset: 4, type: "DINT" }],
    ["DB1.DBB0[20]", { width: "B", type: "RAW", byteLength: 20 }],
    ["M10.1", { area: "M", width: "X", byteOffset: 10, bitOffset: 1, type: "BOOL" }],
    ["MW20", { area: "M", width: "W", byteOffset: 20, type: "WORD" }],
    ["IB0", { area: "I", width: "B", byteOffset: 0, type: "BYTE" }],
    ["QD4:REAL", { area: "Q", width: "D", byteOffset: 4, type: "REAL" }],
  ];
  for (const [text, fields] of absolute) {
    it(`parses the absolute address ${text}`, () => {
      const tag = parseTagName(text);
      assert.equal(tag.kind, "absolute");
      for (const [k, v] of Object.entries(fields)) assert.deepEqual((tag as unknown as Record<string, unknown>)[k], v, k);
    });
  }

  it("parses system tags case-insensitively and keeps the connection name", () => {
    assert.deepEqual(parseTagName("@PLC1@ForceConnectionState"), {
      kind: "system",
      text: "@PLC1@ForceConnectionState",
      connection: "PLC1",
      tag: "ForceConnectionState",
    });
    const alt = parseTagName("@Line 2@alternativeaddress");
    assert.equal(alt.kind === "system" ? alt.tag : "", "AlternativeAddress");
  });

  const malformed: Array<[string, number, RegExp]> = [
    ["Motor_DB..Speed", 10, /name expected/],
    ['"Motor_DB.Speed', 1, /unterminated quote/],
    ["Tank.Level[x]", 12, /array index/],
    ["Tank.Level[3", 11, /unterminated '\['/],
    ["Motor DB.Speed", 6, /not allowed in an unquoted name/],
    ["Motor_DB.", 10, /name expected after '\.'/],
    ["DB1.DBX10", 10, /needs '\.<bit>'/],
    ["DB1.DBX10.8", 11, /bit 8 is outside 0\.\.7/],
    ["DB1.DBW8:REAL", 10, /type REAL does not fit a W address/],
    ["DB1.DBW8[4]", 9, /raw range/],
    ["DB1.DBB0[0]", 10, /outside 1\.\./],
    ["DB0.DBB0", 3, /data block number 0/],
    ["DB1.DBW8x", 9, /invalid absolute address/],
    ["@PLC1@Bogus", 7, /unknown system tag "Bogus"/],
    ["@PLC1", 6, /second '@' missing/],
  ];
  for (const [text, position, reason] of malformed) {
    it(`rejects ${JSON.stringify(text)} and points at character ${position}`, () => {
      const err = syntaxErrorOf(text);
      assert.match(err.message, reason);
      assert.ok(err.message.includes(`"${text}"`), "the message quotes the name");
      assert.match(err.message, new RegExp(`at character ${position}\\b`));
      assert.equal(err.tag, text);
    });
  }

  it("rejects empty and non-string names", () => {
    syntaxErrorOf("   ");
    assert.throws(() => parseTagName(42 as unknown as string), TagError);
  });

  it("formats parsed names canonically and the canonical form parses to the same address", () => {
    for (const text of ['"Motor DB".Speed', "Tank.Level[3]", "db1.dbd4:real", "DB1.DBB0[20]", "m10.1", "@PLC1@useAlternativeAddress", "Grid.Cell[1,2]"]) {
      const tag = parseTagName(text);
      const again = parseTagName(formatTag(tag));
      assert.deepEqual({ ...again, text: "" }, { ...tag, text: "" }, text);
    }
    assert.equal(formatTag(parseTagName("db1.dbd4:real")), "DB1.DBD4:REAL");
    assert.equal(formatTag(parseTagName('"Motor DB".Speed')), '"Motor DB".Speed');
  });
});
