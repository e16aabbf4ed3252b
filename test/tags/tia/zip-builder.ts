/** Builds small zip archives (and .xlsx workbooks from test/fixtures/tia/xlsx) for the parser tests. */
import * as fs from "node:fs";
import * as zlib from "node:zlib";
import { fixturePath } from "../../../scripts/support/fixtures.js";

export interface ZipEntrySpec {
  name: string;
  data: Buffer | string;
  /** 8 = deflate (default), 0 = stored. */
  method?: 0 | 8;
  /** Overrides the uncompressed size written in the headers (to fake a small entry). */
  declaredSize?: number;
}

export function buildZip(entries: readonly ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data, "utf8");
    const method = e.method ?? 8;
    const body = method === 8 ? zlib.deflateRawSync(data) : data;
    const name = Buffer.from(e.name, "utf8");
    const size = e.declaredSize ?? data.length;
    const crc = zlib.crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const XLSX_PARTS: Record<string, string> = {
  "xl/workbook.xml": "workbook.xml",
  "xl/_rels/workbook.xml.rels": "workbook.xml.rels",
  "xl/sharedStrings.xml": "sharedStrings.xml",
  "xl/worksheets/sheet1.xml": "sheet1.xml",
  "xl/worksheets/sheet2.xml": "sheet2.xml",
};

/** The fixture workbook; `replace` swaps a part's text, null leaves the part out. */
export function fixtureXlsx(replace: Record<string, string | null> = {}): Buffer {
  const entries: ZipEntrySpec[] = [{ name: "[Content_Types].xml", data: "<Types/>" }];
  for (const [name, fixture] of Object.entries(XLSX_PARTS)) {
    const override = replace[name];
    if (override === null) continue;
    entries.push({ name, data: override ?? fs.readFileSync(fixturePath("tia", "xlsx", fixture), "utf8") });
  }
  return buildZip(entries);
}
