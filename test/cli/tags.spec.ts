import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../../src/cli/main.js";
import { collectingIO } from "../support/cli-io.js";
import type { TagFileModel } from "../../src/tags/tia/model.js";
import { fixturePath } from "../../scripts/support/fixtures.js";
import { fixtureXlsx } from "../tags/tia/zip-builder.js";

const BIN = path.resolve(__dirname, "..", "..", "..", "bin", "s7-secure.js");
const fixture = (name: string): string => fixturePath("tia", name);

const io = (): ReturnType<typeof collectingIO> => collectingIO();

describe("s7-secure tags", () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "s7-tags-"));
    fs.writeFileSync(path.join(dir, "tags.xlsx"), fixtureXlsx());
    fs.writeFileSync(path.join(dir, "broken.xml"), "<Tagtable name='T'>\n  <Tag type='Int' addr='%MW'>Speed</Tag>\n</Tagtable>\n");
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("lists tags with type, address and comment, DBs and UDTs as trees", async () => {
    const o = io();
    assert.equal(await main(["tags", fixture("tagtable-export.xml"), fixture("simaticml-db.xml"), fixture("simaticml-udt.xml")], o), 0);
    assert.equal(o.err, "");
    const lines = o.out.split("\n");
    assert.ok(lines.includes(`${fixture("tagtable-export.xml")} (tag table export, XML)`), o.out);
    assert.ok(lines.includes('  tag table "Line tags" (4 tags)'), o.out);
    assert.ok(lines.includes("    Speed_SP  Int %MW20  // en-US: Drehzahl-Sollwert & Rampe"), o.out);
    assert.ok(lines.includes('  data block "DB_Line" (DB7, optimized)'), o.out);
    assert.ok(lines.includes("    Station  Struct  // de-DE: Station 2"), o.out);
    assert.ok(lines.includes("      Temp  LReal  // en-US: Temperature | de-DE: Temperatur"), `nested members are indented: ${o.out}`);
    assert.ok(lines.includes('  PLC data type "Motor_UDT"'), o.out);
    assert.ok(lines.includes("      Max  Real  // de-DE: Obergrenze"), o.out);
  });

  it("prints the whole model as JSON with --json, also for an xlsx", async () => {
    const o = io();
    assert.equal(await main(["tags", path.join(dir, "tags.xlsx"), fixture("simaticml-tags.xml"), "--json", "--culture", "de-DE"], o), 0);
    const { files } = JSON.parse(o.out) as { files: TagFileModel[] };
    assert.deepEqual(files.map((f) => f.format), ["tagtable-xlsx", "simaticml"]);
    assert.deepEqual(files[0]!.tagTables[0]!.tags[0], {
      name: "Speed_SP",
      dataType: "Int",
      address: "%MW20",
      comment: { "de-DE": "Drehzahl-Sollwert" },
      table: "Line tags",
      source: { file: `${path.join(dir, "tags.xlsx")}!xl/worksheets/sheet1.xml`, line: 5 },
    });
    assert.deepEqual(files[1]!.tagTables[0]!.tags[0]!.comment, { "en-US": "Position in <mm>", "de-DE": "Position in <mm>, Achse \u21161" });
  });

  it("exits 2 with one line naming file, line and element for a bad file (process exit code)", () => {
    const broken = path.join(dir, "broken.xml");
    const r = spawnSync(process.execPath, [BIN, "tags", fixture("tagtable-export.xml"), broken], { encoding: "utf8" });
    assert.equal(r.status, 2);
    assert.equal(r.stdout, "", "nothing listed when one file is bad");
    assert.equal(r.stderr, `s7-secure tags: ${broken}:2: <Tag>: tag Speed: address "%MW" is not an I/Q/M address like %I0.0, %MB3, %MW20, %QD4\n`);
  });

  it("exits 2 for names clashing across files, for a missing file and without files", async () => {
    const clash = io();
    assert.equal(await main(["tags", fixture("tagtable-export.xml"), fixture("tagtable-export.xml")], clash), 2);
    assert.match(clash.err, /^s7-secure tags: duplicate name "Speed_SP": .*tagtable-export\.xml:4 and .*tagtable-export\.xml:4\n$/);
    const missing = io();
    assert.equal(await main(["tags", path.join(dir, "nope.xml")], missing), 2);
    assert.match(missing.err, /^s7-secure tags: .*nope\.xml: cannot read the tag file: ENOENT/);
    const none = io();
    assert.equal(await main(["tags"], none), 2);
    assert.match(none.err, /usage: s7-secure tags <file>/);
  });
});
