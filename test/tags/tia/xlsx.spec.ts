import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { ConfigError } from "../../../src/errors.js";
import { parseTagFile } from "../../../src/tags/tia/load.js";
import { readTagtableXlsx } from "../../../src/tags/tia/xlsx.js";
import { fixturePath } from "../../../scripts/support/fixtures.js";
import { buildZip, fixtureXlsx } from "./zip-builder.js";

const SHEET = "book.xlsx!xl/worksheets/sheet1.xml";

function failure(data: Buffer, limits?: Parameters<typeof readTagtableXlsx>[3]): string {
  try {
    if (limits) readTagtableXlsx(data, "book.xlsx", "en-US", limits);
    else parseTagFile(data, "book.xlsx");
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.file?.startsWith("book.xlsx"), true, `file ${err.file}`);
    return err.message;
  }
  return assert.fail("the workbook was accepted");
}

const sheet = (): string => fs.readFileSync(fixturePath("tia", "xlsx", "sheet1.xml"), "utf8");

describe("TIA Portal tag table export (xlsx)", () => {
  it("reads the PLC Tags sheet: shared, rich-text and inline strings, tables from Path, lines of the rows", () => {
    const model = parseTagFile(fixtureXlsx(), "book.xlsx", { culture: "de-DE" });
    assert.equal(model.format, "tagtable-xlsx");
    assert.deepEqual(model.tagTables.map((t) => [t.name, t.tags.map((x) => x.name)]), [["Line tags", ["Speed_SP", "Valve_Open"]], ["Recipe tags", ["Batch_No"]]]);
    const [speed, valve] = model.tagTables[0]!.tags;
    assert.deepEqual(speed, { name: "Speed_SP", dataType: "Int", address: "%MW20", comment: { "de-DE": "Drehzahl-Sollwert" }, table: "Line tags", source: { file: SHEET, line: 5 } });
    assert.deepEqual(valve!.comment, { "de-DE": "Ventil geöffnet" });
    assert.equal(valve!.address, "%Q1.2");
    const batch = model.tagTables[1]!.tags[0]!;
    assert.deepEqual([batch.dataType, batch.address, batch.comment, batch.source.line], ["UDInt", "%MD40", {}, 8]);
  });

  it("refuses a workbook without the PLC Tags sheet, naming the sheets it has", () => {
    const workbook = fs.readFileSync(fixturePath("tia", "xlsx", "workbook.xml"), "utf8").replace('name="PLC Tags"', 'name="Tags"');
    assert.match(failure(fixtureXlsx({ "xl/workbook.xml": workbook })), /^book\.xlsx!xl\/workbook\.xml:2: <workbook>: no sheet "PLC Tags" \(sheets: "Tags", "User Constants"\)$/);
    assert.match(failure(fixtureXlsx({ "xl/worksheets/sheet1.xml": null })), /^book\.xlsx: <xl\/worksheets\/sheet1\.xml>: sheet "PLC Tags" part missing from the archive$/);
    assert.match(failure(fixtureXlsx({ "xl/workbook.xml": null })), /^book\.xlsx: <xl\/workbook\.xml>: entry missing from the archive$/);
  });

  it("names sheet part, line and row of a bad row, and of a header without the needed columns", () => {
    assert.match(failure(fixtureXlsx({ "xl/worksheets/sheet1.xml": sheet().replace("<is><t>%MD40</t></is>", "<is><t>%MD</t></is>") })), /^book\.xlsx!xl\/worksheets\/sheet1\.xml:8: <row r="5">: tag Batch_No: address "%MD" is not an I\/Q\/M address/);
    assert.match(failure(fixtureXlsx({ "xl/worksheets/sheet1.xml": sheet().replace("<is><t>Batch_No</t></is>", "<is><t>Speed_SP</t></is>") })), /^book\.xlsx!xl\/worksheets\/sheet1\.xml:8: <row r="5">: duplicate tag name "Speed_SP" \(first on line 5\)$/);
    assert.match(failure(fixtureXlsx({ "xl/worksheets/sheet1.xml": sheet().replace('<c r="D1" t="s"><v>3</v></c>', "") })), /^book\.xlsx!xl\/worksheets\/sheet1\.xml:4: <row r="1">: header row lacks the column Logical Address$/);
    assert.match(failure(fixtureXlsx({ "xl/worksheets/sheet1.xml": sheet().replace('<c r="A2" t="s"><v>6</v></c>', '<c r="A2" t="s"><v>99</v></c>') })), /^book\.xlsx!xl\/worksheets\/sheet1\.xml:5: <c r="A2">: shared string 99 does not exist$/);
    assert.match(failure(fixtureXlsx({ "xl/worksheets/sheet1.xml": sheet().replace("</sheetData>", "") })), /^book\.xlsx!xl\/worksheets\/sheet1\.xml:10: <sheetData>: <\/worksheet> closes <sheetData> \(opened on line 3\)$/);
  });

  it("stops a zip bomb at the decompressed-size cap, whatever the header declares", () => {
    const bomb = Buffer.alloc(8 * 1024 * 1024, 0x20);
    const honest = buildZip([{ name: "xl/workbook.xml", data: bomb }]);
    assert.ok(honest.length < 64 * 1024, `the bomb is small packed (${honest.length} bytes)`);
    const limits = { maxEntryBytes: 1024 * 1024, maxTotalBytes: 4 * 1024 * 1024, maxEntries: 10 };
    assert.match(failure(honest, limits), /^book\.xlsx: <xl\/workbook\.xml>: entry declares 8388608 bytes, at most 1048576$/);
    const lying = buildZip([{ name: "xl/workbook.xml", data: bomb, declaredSize: 100 }]);
    assert.match(failure(lying, limits), /^book\.xlsx: <xl\/workbook\.xml>: decompresses to more than 1048576 bytes \(refused\)$/);
  });

  it("refuses truncated, damaged and non-zip data by name", () => {
    const good = fixtureXlsx();
    assert.match(failure(good.subarray(0, good.length - 30)), /^book\.xlsx: <archive>: no end of central directory \(truncated zip\)$/);
    const damaged = Buffer.from(good);
    damaged[200] = damaged[200]! ^ 0xff; // inside the first entries' data
    assert.match(failure(damaged), /^book\.xlsx: <[^>]+>: (CRC mismatch|cannot inflate|decompressed to)/);
    assert.match(failure(buildZip([{ name: "xl/workbook.xml", data: "<a/>", method: 0 }]).subarray(0, 10)), /^book\.xlsx: <archive>: no end of central directory/);
    const stored = buildZip([{ name: "xl/workbook.xml", data: "<a/>", method: 0 }]);
    stored.writeUInt16LE(12, stored.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 10); // bzip2 in the directory
    assert.match(failure(stored), /^book\.xlsx: <xl\/workbook\.xml>: compression method 12 is not read \(only stored and deflate\)$/);
    assert.match(failure(Buffer.from("PK\u0003\u0004 not really a zip")), /^book\.xlsx: <archive>: no end of central directory \(truncated zip\)$/);
  });
});
