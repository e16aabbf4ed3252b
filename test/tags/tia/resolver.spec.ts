import { strict as assert } from "node:assert";
import { ConfigError, TagError } from "../../../src/errors.js";
import { readTagFile, parseTagFile } from "../../../src/tags/tia/load.js";
import { absoluteTagOf } from "../../../src/tags/tia/logical-address.js";
import { TagTableSet, type MemberLookup } from "../../../src/tags/tia/resolver.js";
import { formatTag, parseTagName } from "../../../src/tags/tag-name.js";
import { fixturePath } from "../../../scripts/support/fixtures.js";

const fixture = (name: string): string => fixturePath("tia", name);

function loadAll(): TagTableSet {
  return new TagTableSet(["tagtable-export.xml", "simaticml-tags.xml", "simaticml-db.xml", "simaticml-udt.xml"].map((f) => readTagFile(fixture(f))));
}

function member(set: TagTableSet, name: string): MemberLookup {
  const found = set.lookup(name);
  assert.ok(found, `${name} resolves`);
  assert.equal(found.kind, "member");
  return found;
}

describe("tag tables loaded together", () => {
  const set = loadAll();

  it("looks up a PLC tag by name (case as TIA Portal: insensitive)", () => {
    const speed = set.lookup("Speed_SP");
    assert.deepEqual(speed, {
      kind: "plc-tag",
      name: "Speed_SP",
      address: "%MW20",
      dataType: "Int",
      comment: { "en-US": "Drehzahl-Sollwert & Rampe" },
      table: "Line tags",
      source: { file: fixture("tagtable-export.xml"), line: 4 },
    });
    assert.equal(set.lookup("drive_position")?.kind, "plc-tag");
    assert.equal((set.lookup("drive_position") as { address: string }).address, "%MD100");
  });

  it("looks up DB members through PLC data type references, structs and array subscripts", () => {
    const speed = member(set, "DB_Line.Motor.Speed");
    assert.deepEqual([speed.block, speed.dataType, speed.comment, speed.source], ["DB_Line", "Int", { "en-US": "Speed in rpm", "de-DE": "Drehzahl in 1/min" }, { file: fixture("simaticml-udt.xml"), line: 9 }]);
    assert.equal(member(set, '"DB_Line".Motor.Limits.Max').dataType, "Real");
    assert.deepEqual(member(set, "DB_Line.Motor.Limits.Max").comment, { "de-DE": "Obergrenze" });
    const motor = member(set, "DB_Line.Motor");
    assert.equal(motor.dataType, '"Motor_UDT"');
    assert.deepEqual(motor.members?.map((m) => m.name), ["Speed", "Running", "Limits"]);
    assert.equal(member(set, "DB_Line.Counts[9]").dataType, "Int");
    assert.deepEqual(member(set, "DB_Line.Counts").arrayBounds, [{ low: 0, high: 9 }]);
    assert.equal(member(set, "DB_Line.Grid[1,3]").dataType, "Real");
    assert.equal(member(set, "DB_Line.Pumps[4].Running").dataType, "Bool");
    assert.equal(member(set, "DB_Line.Slots[2].Busy").dataType, "Bool");
    assert.deepEqual(member(set, "DB_Line.Station.Temp").comment, { "en-US": "Temperature", "de-DE": "Temperatur" });
  });

  it("says why a name does not resolve, and lookup gives undefined for it", () => {
    const cases: [string, RegExp][] = [
      ["Nope", /no PLC tag or data block "Nope"/],
      ["DB_Line", /DB_Line is a data block; name one of its members/],
      ["DB_Line.Motor.Torque", /DB_Line\.Motor has no member Torque/],
      ["DB_Line.Counts[10]", /subscript 10 of DB_Line\.Counts is outside 0\.\.9/],
      ["DB_Line.Grid[1]", /DB_Line\.Grid has 2 dimensions, 1 subscript given/],
      ["DB_Line.Pumps.Running", /DB_Line\.Pumps is an array; give a subscript before \.Running/],
      ["DB_Line.Motor[0]", /DB_Line\.Motor is a "Motor_UDT", not an array/],
      ["DB_Line.Counts[0].X", /DB_Line\.Counts\[0\] is a Int without members/],
      ["Speed_SP.Bit", /PLC tag Speed_SP is a Int without members or elements/],
      ["MW20", /not a symbolic name/],
    ];
    for (const [name, reason] of cases) {
      assert.equal(set.lookup(name), undefined, name);
      assert.throws(() => set.resolve(name), (err: unknown) => err instanceof TagError && err.code === "ERR_S7_TAG_NOT_FOUND" && err.tag === name && reason.test(err.message), name);
    }
  });

  it("needs the PLC data type file to look inside a UDT member", () => {
    const dbOnly = new TagTableSet([readTagFile(fixture("simaticml-db.xml"))]);
    assert.throws(() => dbOnly.resolve("DB_Line.Motor.Speed"), /PLC data type "Motor_UDT" is not in the loaded files/);
    assert.equal(dbOnly.resolve("DB_Line.Motor").dataType, '"Motor_UDT"');
  });

  it("refuses a name defined in two files, naming both", () => {
    const other = parseTagFile(Buffer.from("<Tagtable name='Other'>\n\n<Tag type='Word' addr='%MW2'>speed_sp</Tag>\n</Tagtable>"), "other.xml");
    assert.throws(
      () => new TagTableSet([readTagFile(fixture("tagtable-export.xml")), other]),
      (err: unknown) => err instanceof ConfigError && err.message === `duplicate name "speed_sp": ${fixture("tagtable-export.xml")}:4 and other.xml:3`,
    );
    const dbClash = parseTagFile(Buffer.from("<Tagtable name='X'>\n<Tag type='Bool' addr='%M0.0'>DB_Line</Tag>\n</Tagtable>"), "clash.xml");
    assert.throws(() => new TagTableSet([readTagFile(fixture("simaticml-db.xml")), dbClash]), /^ConfigError: duplicate name "DB_Line": .*simaticml-db\.xml:5 and clash\.xml:2$/);
    assert.throws(() => new TagTableSet([readTagFile(fixture("simaticml-udt.xml")), readTagFile(fixture("simaticml-udt.xml"))]), /duplicate PLC data type "Motor_UDT"/);
  });
});

describe("PLC tag addresses in the client's absolute syntax", () => {
  const cases: [string, string, string][] = [
    ["Int", "%MW20", "MW20:INT"],
    ["Bool", "%M0.0", "M0.0"],
    ["Bool", "%I1.7", "I1.7"],
    ["Real", "%MD24", "MD24:REAL"],
    ["DInt", "%QD4", "QD4:DINT"],
    ["Byte", "%QB0", "QB0"],
    ["Char", "%MB3", "MB3:CHAR"],
    ["Word", "%IW64", "IW64"],
    ["LReal", "%ML8", "ML8:LREAL"],
    ["Date", "%MW30", "MW30"],
    ["S5Time", "%MW32", "MW32"],
  ];
  for (const [dataType, address, expected] of cases) {
    it(`${dataType} at ${address} → ${expected}`, () => {
      const tag = absoluteTagOf({ name: "T", dataType, address });
      assert.equal(tag.text, expected);
      assert.deepEqual(tag, parseTagName(expected), "the same tag the client parses from the text");
    });
  }

  it("gives the address of a looked-up table tag", () => {
    const speed = loadAll().resolve("Speed_SP");
    assert.equal(speed.kind, "plc-tag");
    if (speed.kind === "plc-tag") assert.equal(formatTag(absoluteTagOf(speed)), "MW20:INT");
  });

  it("refuses types without an absolute form and addresses that do not fit", () => {
    assert.throws(() => absoluteTagOf({ name: "S", dataType: "String", address: "%MB100" }), (err: unknown) => err instanceof TagError && err.tag === "S" && /a String at %MB100 has no absolute form/.test(err.message));
    assert.throws(() => absoluteTagOf({ name: "W", dataType: "Int", address: "%MD4" }), /a Int tag needs a word address/);
    assert.throws(() => absoluteTagOf({ name: "B", dataType: "Bool", address: "%M1" }), /a bit address needs/);
  });
});
