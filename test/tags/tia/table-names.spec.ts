import { strict as assert } from "node:assert";
import * as path from "node:path";
import { S7Error } from "../../../src/errors.js";
import type { SymbolNode } from "../../../src/tags/symbols.js";
import { canonicalTagName, ConnectionTagTables, controllerTypes, loadTagTables, tagTableFiles } from "../../../src/tags/tia/table-names.js";
import { fixturePath } from "../../../scripts/support/fixtures.js";

const fixture = (name: string): string => fixturePath("tia", name);

describe("tag table names for a connection (table-names.ts)", () => {
  const tables = new ConnectionTagTables(loadTagTables(["tagtable-export.xml", "simaticml-db.xml", "simaticml-udt.xml"].map(fixture)));

  it("the property's files: one a line, blank lines skipped, relative ones inside the base folder", () => {
    assert.deepEqual(tagTableFiles(" a.xml \n\n/abs/b.xlsx\r\n", "/base"), [path.resolve("/base", "a.xml"), "/abs/b.xlsx"]);
    assert.deepEqual(tagTableFiles(undefined, "/base"), []);
  });

  it("a table's PLC tag goes to the controller as its absolute address with the table's type; other names unchanged", () => {
    assert.equal(tables.controllerName("Speed_SP"), "MW20:INT");
    assert.equal(tables.controllerName("speed_sp"), "MW20:INT", "names without case, as TIA Portal");
    assert.equal(tables.controllerName("Flow_Actual"), "MD24:REAL");
    assert.equal(tables.controllerName("Outputs_0"), "QB0");
    assert.equal(tables.controllerName("DB_Line.Motor.Speed"), "DB_Line.Motor.Speed");
    assert.equal(tables.controllerName("Unknown.Tag"), "Unknown.Tag");
    assert.equal(tables.controllerName("@PLC1@ForceConnectionState"), "@PLC1@ForceConnectionState");
  });

  it("through(): the controller sees its names, the caller gets its own back, in order", async () => {
    const seen: string[] = [];
    const outcomes = await tables.through([{ tag: "Speed_SP" }, { tag: "DB_Line.Counts[3]" }], async (items) => {
      seen.push(...items.map((i) => i.tag));
      return items.map((i) => ({ tag: i.tag, ok: true as const, value: 1 }));
    });
    assert.deepEqual(seen, ["MW20:INT", "DB_Line.Counts[3]"]);
    assert.deepEqual(outcomes.map((o) => o.tag), ["Speed_SP", "DB_Line.Counts[3]"]);
  });

  it("names compare without case and quoting; types without case and spaces, String = String[254]", () => {
    assert.equal(canonicalTagName('"DB_Line".motor.Speed'), canonicalTagName("DB_Line.Motor.Speed"));
    assert.equal(canonicalTagName("DB_Line.Grid[1, 3]"), "db_line.grid[1,3]");
    const live: SymbolNode[] = [
      { name: "DB_Line", tag: '"DB_Line"', type: "DB7", children: [
        { name: "Counts", tag: '"DB_Line".Counts', type: "Array[0..9] of Int" },
        { name: "Grid", tag: '"DB_Line".Grid', type: "Array[0..1,1..3] of Real" },
        { name: "Station", tag: '"DB_Line".Station', type: "Struct", children: [{ name: "Name", tag: '"DB_Line".Station.Name', type: "String[20]" }, { name: "Temp", tag: '"DB_Line".Station.Temp', type: "Real" }] },
      ] },
    ];
    const types = controllerTypes(live);
    const ok = { ok: true as const };
    const gone = { ok: false as const, error: new S7Error("ERR_S7_TAG_NOT_FOUND", "no such member") };
    const warnings = tables.disagreements(
      [
        { tag: "DB_Line.Counts", ...ok },
        { tag: "DB_Line.Grid", ...ok },
        { tag: "DB_Line.Station.Name", ...ok },
        { tag: "DB_Line.Station.Temp", ...ok },
        { tag: "DB_Line.Motor.Speed", ...gone },
        { tag: "Speed_SP", ...ok },
      ],
      types,
    );
    assert.equal(warnings.length, 2, warnings.join("\n"));
    assert.match(warnings[0]!, /^DB_Line\.Station\.Temp: the tag table \(.*simaticml-db\.xml:\d+\) says LReal, the controller says Real; the controller's type is used$/);
    assert.match(warnings[1]!, /^DB_Line\.Motor\.Speed: the tag table \(.*simaticml-udt\.xml:\d+\) says Int, the controller has no such tag; the controller wins$/);
    assert.equal(tables.describesMembers(["Speed_SP"]), false);
    assert.equal(tables.describesMembers(["Speed_SP", "DB_Line.Station.Temp"]), true);
  });

  it("picker rows: PLC tags with address, DB members through structs and PLC data types, comments in every language", () => {
    const rows = tables.pickerEntries();
    const row = (tag: string) => rows.find((r) => r.tag === tag);
    assert.deepEqual(
      rows.filter((r) => r.kind === "plc-tag").map((r) => `${r.tag} ${r.dataType} ${r.address}`),
      ["Speed_SP Int %MW20", "Motor_Running Bool %I0.0", "Flow_Actual Real %MD24", "Outputs_0 Byte %QB0"],
    );
    assert.deepEqual(row("DB_Line.Motor")?.comment, { "en-US": "Main drive", "de-DE": "Hauptantrieb" });
    // A PLC data type member is listed through the type's own file.
    assert.equal(row("DB_Line.Motor.Speed")?.dataType, "Int");
    assert.deepEqual(row("DB_Line.Motor.Speed")?.comment, { "en-US": "Speed in rpm", "de-DE": "Drehzahl in 1/min" });
    assert.equal(row("DB_Line.Motor.Limits.Max")?.dataType, "Real");
    // Arrays are one row (their elements are named with subscripts).
    assert.equal(row("DB_Line.Counts")?.dataType, "Array[0..9] of Int");
    assert.equal(rows.some((r) => r.tag.startsWith("DB_Line.Counts[")), false);
    assert.equal(row("DB_Line.Station.Temp")?.dataType, "LReal");
    assert.match(row("Speed_SP")!.source, /tagtable-export\.xml:4$/);
    assert.ok(rows.every((r) => r.controllerType === undefined), "offline rows are not compared");
  });

  it("a bad file among several: the one error of that file, nothing loaded", () => {
    assert.throws(() => loadTagTables([fixture("tagtable-export.xml"), fixturePath("tia", "simulator", "broken.xml")]), /broken\.xml:4: <Tag>/);
  });
});
