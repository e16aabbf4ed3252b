import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { ConfigError } from "../../../src/errors.js";
import { parseTagFile, readTagFile } from "../../../src/tags/tia/load.js";
import type { Member } from "../../../src/tags/tia/model.js";
import { fixturePath } from "../../../scripts/support/fixtures.js";
import { fixtureXlsx } from "./zip-builder.js";

const fixture = (name: string): string => fixturePath("tia", name);
const text = (name: string): string => fs.readFileSync(fixture(name), "utf8");

/** Parses `xml` as file `name` and returns the ConfigError it must throw. */
function failure(xml: string, name = "bad.xml"): ConfigError {
  try {
    parseTagFile(Buffer.from(xml, "utf8"), name);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `a ConfigError, got ${String(err)}`);
    assert.equal(err.code, "ERR_S7_CONFIG");
    assert.equal(err.file, name);
    return err;
  }
  return assert.fail("the file was accepted");
}

function member(members: readonly Member[] | undefined, name: string): Member {
  const m = members?.find((x) => x.name === name);
  assert.ok(m, `member ${name}`);
  return m;
}

describe("TIA Portal tag table export (XML)", () => {
  it("reads every <Tag> with type, address, remark and line; skips constants", () => {
    const model = readTagFile(fixture("tagtable-export.xml"));
    assert.equal(model.format, "tagtable-xml");
    assert.equal(model.tagTables.length, 1);
    const table = model.tagTables[0]!;
    assert.equal(table.name, "Line tags");
    assert.deepEqual(
      table.tags.map((t) => [t.name, t.dataType, t.address, t.source.line]),
      [
        ["Speed_SP", "Int", "%MW20", 4],
        ["Motor_Running", "Bool", "%I0.0", 5],
        ["Flow_Actual", "Real", "%MD24", 6],
        ["Outputs_0", "Byte", "%QB0", 8],
      ],
    );
    assert.deepEqual(table.tags[0]!.comment, { "en-US": "Drehzahl-Sollwert & Rampe" });
    assert.deepEqual(table.tags[2]!.comment, {}, "an empty remark is no comment");
    assert.equal(table.tags[0]!.table, "Line tags");
    assert.equal(table.tags[0]!.source.file, fixture("tagtable-export.xml"));
  });

  it("files the single-language remark under the culture the caller names", () => {
    const model = readTagFile(fixture("tagtable-export.xml"), { culture: "de-DE" });
    assert.deepEqual(model.tagTables[0]!.tags[1]!.comment, { "de-DE": "Motor läuft" });
  });

  it("names file, line and element for each broken row", () => {
    const head = "<?xml version='1.0'?>\n<Tagtable name='T'>\n";
    const cases: [string, RegExp][] = [
      [`${head}  <Tag type='Int' addr='%MW2'></Tag>\n</Tagtable>`, /^bad\.xml:3: <Tag>: tag without a name$/],
      [`${head}  <Tag type='Int' addr='%MW2'>A</Tag>\n  <Tag type='Int' addr='%MW4'>a</Tag>\n</Tagtable>`, /^bad\.xml:4: <Tag>: duplicate tag name "a" \(first on line 3\)$/],
      [`${head}  <Tag type='Intt' addr='%MW2'>A</Tag>\n</Tagtable>`, /^bad\.xml:3: <Tag>: tag A: unknown data type "Intt"/],
      [`${head}  <Tag type='Int' addr='%MW'>A</Tag>\n</Tagtable>`, /^bad\.xml:3: <Tag>: tag A: address "%MW" is not an I\/Q\/M address/],
      [`${head}  <Tag type='Int' addr='MW2'>A</Tag>\n</Tagtable>`, /^bad\.xml:3: <Tag>: tag A: address "MW2" must start with %/],
      [`${head}  <Tag type='Bool' addr='%M2.8'>A</Tag>\n</Tagtable>`, /^bad\.xml:3: <Tag>: tag A: address "%M2\.8": bit 8 is outside 0\.\.7$/],
      [`${head}  <Tag type='Int' addr='%MD2'>A</Tag>\n</Tagtable>`, /^bad\.xml:3: <Tag>: tag A at %MD2: a Int tag needs a word address$/],
      [`${head}  <Tag type='Bool' addr='%MB2'>A</Tag>\n</Tagtable>`, /^bad\.xml:3: <Tag>: tag A at %MB2: a Bool tag needs a bit address/],
      [`${head}  <Tag type='Int'>A</Tag>\n</Tagtable>`, /^bad\.xml:3: <Tag>: tag A: no address$/],
      [`${head}\n  <Row/>\n</Tagtable>`, /^bad\.xml:4: <Row>: unexpected element in a tag table/],
      ["<Tagtable>\n</Tagtable>", /^bad\.xml:1: <Tagtable>: tag table without a name attribute$/],
    ];
    for (const [xml, expected] of cases) assert.match(failure(xml).message, expected);
  });
});

describe("SimaticML (TIA Openness)", () => {
  it("reads a PlcTagTable with comments in two languages (CDATA, entities, character references)", () => {
    const model = readTagFile(fixture("simaticml-tags.xml"));
    assert.equal(model.format, "simaticml");
    const table = model.tagTables[0]!;
    assert.equal(table.name, "Drive tags");
    assert.deepEqual(
      table.tags.map((t) => [t.name, t.dataType, t.address, t.source.line]),
      [
        ["Drive_Position", "DInt", "%MD100", 14],
        ["Drive_Enable", "Bool", "%Q4.7", 42],
      ],
    );
    assert.deepEqual(table.tags[0]!.comment, { "en-US": "Position in <mm>", "de-DE": "Position in <mm>, Achse \u21161" });
    assert.deepEqual(table.tags[1]!.comment, {});
  });

  it("reads a global DB: number, memory layout, UDT reference, arrays (multi-dimensional), nested structs", () => {
    const [db] = readTagFile(fixture("simaticml-db.xml")).dataBlocks;
    assert.ok(db);
    assert.equal(db.name, "DB_Line");
    assert.equal(db.number, 7);
    assert.equal(db.optimized, true);
    assert.equal(db.source.line, 5);
    assert.deepEqual(db.members.map((m) => m.name), ["Motor", "Counts", "Grid", "Pumps", "Station", "Slots"]);
    const motor = member(db.members, "Motor");
    assert.equal(motor.dataType, '"Motor_UDT"');
    assert.deepEqual(motor.comment, { "en-US": "Main drive", "de-DE": "Hauptantrieb" });
    assert.equal(motor.source.line, 9);
    assert.equal(motor.members, undefined, "a UDT member's tree lives in the UDT");
    const counts = member(db.members, "Counts");
    assert.deepEqual(counts.arrayBounds, [{ low: 0, high: 9 }]);
    assert.equal(counts.elementType, "Int");
    assert.deepEqual(counts.comment, { "en-US": "Parts per station" });
    const grid = member(db.members, "Grid");
    assert.deepEqual(grid.arrayBounds, [{ low: 0, high: 1 }, { low: 1, high: 3 }]);
    assert.equal(grid.elementType, "Real");
    assert.equal(member(db.members, "Pumps").elementType, '"Motor_UDT"');
    const station = member(db.members, "Station");
    assert.deepEqual(station.members?.map((m) => [m.name, m.dataType]), [["Temp", "LReal"], ["Name", "String[20]"], ["Timer", "IEC_TIMER"]]);
    assert.deepEqual(member(station.members, "Temp").comment, { "en-US": "Temperature", "de-DE": "Temperatur" });
    assert.equal(member(station.members, "Temp").source.line, 23);
    const slots = member(db.members, "Slots");
    assert.equal(slots.elementType, "Struct");
    assert.deepEqual(slots.members?.map((m) => m.name), ["Busy"]);
  });

  it("reads a PLC data type (PlcStruct) with its member tree", () => {
    const [udt] = readTagFile(fixture("simaticml-udt.xml")).types;
    assert.ok(udt);
    assert.equal(udt.name, "Motor_UDT");
    assert.deepEqual(udt.members.map((m) => [m.name, m.dataType]), [["Speed", "Int"], ["Running", "Bool"], ["Limits", "Struct"]]);
    assert.deepEqual(member(udt.members, "Speed").comment, { "en-US": "Speed in rpm", "de-DE": "Drehzahl in 1/min" });
    const limits = member(udt.members, "Limits");
    assert.deepEqual(limits.members?.map((m) => m.name), ["Min", "Max"]);
    assert.deepEqual(member(limits.members, "Max").comment, { "de-DE": "Obergrenze" });
  });

  it("refuses broken SimaticML with file, line and element", () => {
    const db = (members: string, extra = ""): string =>
      `<Document>\n<SW.Blocks.GlobalDB ID="0">\n<AttributeList>\n<Interface><Sections>\n<Section Name="Static">\n${members}\n</Section>\n</Sections></Interface>\n<Name>DB1</Name>${extra}\n</AttributeList>\n</SW.Blocks.GlobalDB>\n</Document>`;
    const tag = (attributes: string): string =>
      `<Document>\n<SW.Tags.PlcTagTable ID="0">\n<AttributeList><Name>T</Name></AttributeList>\n<ObjectList>\n<SW.Tags.PlcTag ID="1">\n<AttributeList>${attributes}</AttributeList>\n</SW.Tags.PlcTag>\n</ObjectList>\n</SW.Tags.PlcTagTable>\n</Document>`;
    const cases: [string, RegExp][] = [
      [db('<Member Name="A" Datatype="Int"/>\n<Member Name="a" Datatype="Int"/>'), /^bad\.xml:7: <Member>: duplicate member name "a" \(first on line 6\)$/],
      [db('<Member Name="A" Datatype="Array[0..x] of Int"/>'), /^bad\.xml:6: <Member>: member A: unknown data type "Array\[0\.\.x\] of Int"$/],
      [db('<Member Name="A" Datatype="Array[3..1] of Int"/>'), /^bad\.xml:6: <Member>: member A: unknown data type/],
      [db('<Member Datatype="Int"/>'), /^bad\.xml:6: <Member>: member without a Name$/],
      [db('<Member Name="A" Datatype="Int">\n<Member Name="B" Datatype="Int"/>\n</Member>'), /^bad\.xml:6: <Member>: member A of type Int cannot have members$/],
      [db('<Member Name="A" Datatype="Int"/>', "<MemoryLayout>Packed</MemoryLayout>"), /^bad\.xml:9: <MemoryLayout>: memory layout "Packed"/],
      [db('<Member Name="A" Datatype="Int"/>', "<Number>0</Number>"), /^bad\.xml:9: <Number>: data block number "0" is not 1\.\.65535$/],
      [tag("<DataTypeName>Int</DataTypeName><LogicalAddress>%MW2</LogicalAddress>"), /^bad\.xml:5: <SW\.Tags\.PlcTag>: tag without a name$/],
      [tag("<Name>X</Name><DataTypeName>Word</DataTypeName><LogicalAddress>%IW</LogicalAddress>"), /^bad\.xml:5: <SW\.Tags\.PlcTag>: tag X: address "%IW" is not/],
      [tag("<Name>X</Name><DataTypeName>Foo</DataTypeName><LogicalAddress>%MW2</LogicalAddress>"), /^bad\.xml:5: <SW\.Tags\.PlcTag>: tag X: unknown data type "Foo"/],
      ["<Document>\n  <SW.Blocks.FB ID='0'/>\n</Document>", /^bad\.xml:1: <Document>: holds no SW\.Tags\.PlcTagTable, SW\.Blocks\.GlobalDB or SW\.Types\.PlcStruct$/],
      ["<?xml version='1.0'?>\n<Project/>", /^bad\.xml:2: <Project>: root element must be <Document> \(SimaticML\) or <Tagtable>/],
      ["<Document>\n<SW.Types.PlcStruct ID='0'>\n<AttributeList><Name>U</Name></AttributeList>\n</SW.Types.PlcStruct>\n</Document>", /^bad\.xml:2: <SW\.Types\.PlcStruct>: no Interface\/Sections$/],
    ];
    for (const [xml, expected] of cases) assert.match(failure(xml).message, expected);
  });

  it("refuses a second PLC tag of the same name in another table of the same document", () => {
    const table = (name: string, line: string): string =>
      `<SW.Tags.PlcTagTable ID="0"><AttributeList><Name>${name}</Name></AttributeList><ObjectList>${line}</ObjectList></SW.Tags.PlcTagTable>`;
    const row = "<SW.Tags.PlcTag ID='1'><AttributeList><Name>X</Name><DataTypeName>Int</DataTypeName><LogicalAddress>%MW2</LogicalAddress></AttributeList></SW.Tags.PlcTag>";
    assert.match(failure(`<Document>\n${table("A", row)}\n${table("B", row)}\n</Document>`).message, /^bad\.xml:3: <SW\.Tags\.PlcTag>: duplicate tag name "X" \(first on line 2\)$/);
  });
});

describe("tag files: whole or nothing", () => {
  it("a file with one bad row yields no model at all (the parse throws)", () => {
    const xml = text("tagtable-export.xml").replace("addr='%QB0'", "addr='%QB'");
    assert.match(failure(xml, "partly.xml").message, /^partly\.xml:8: <Tag>: tag Outputs_0: address "%QB" is not/);
  });

  it("an unreadable path is a ConfigError naming the file", () => {
    assert.throws(() => readTagFile(fixture("missing.xml")), (err: unknown) => err instanceof ConfigError && err.file === fixture("missing.xml") && /cannot read the tag file/.test(err.message));
  });
});

describe("tag files: malformed input never escapes as anything but the one ConfigError", () => {
  function onlyConfigErrors(data: Buffer, name: string): number {
    try {
      parseTagFile(data, name);
      return 0;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw new Error(`${name}: ${String(err)}`);
      assert.match(err.message, /^[^\n]+$/, "one line");
      return 1;
    }
  }

  it("every truncation of every XML fixture is refused with a ConfigError", () => {
    let refused = 0;
    for (const name of ["tagtable-export.xml", "simaticml-tags.xml", "simaticml-db.xml", "simaticml-udt.xml"]) {
      const data = fs.readFileSync(fixture(name));
      for (let length = 0; length < data.length - 12; length += 7) refused += onlyConfigErrors(data.subarray(0, length), name);
    }
    assert.ok(refused > 600, `${refused} truncations refused`);
  });

  it("byte flips of an xlsx are refused with a ConfigError or read whole", () => {
    const xlsx = fixtureXlsx();
    let refused = 0;
    for (let i = 0; i < xlsx.length; i += 3) {
      const copy = Buffer.from(xlsx);
      copy[i] = copy[i]! ^ 0x5a;
      refused += onlyConfigErrors(copy, "flip.xlsx");
    }
    assert.ok(refused > xlsx.length / 6, `${refused} of ${Math.ceil(xlsx.length / 3)} damaged copies refused`);
  });
});
