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
    // Fields both headers carry, as offsets from the method field (local header: 8, central entry: 10).
    const shared: [number, number, number][] = [[method, 16, 0], [crc, 32, 6], [body.length, 32, 10], [size, 32, 14], [name.length, 16, 18]];
    const local = header(30, 0x04034b50, [[20, 16, 4], ...shared.map(([v, bits, at]): [number, number, number] => [v, bits, at + 8])]);
    locals.push(local, name, body);
    const central = header(46, 0x02014b50, [[20, 16, 4], [20, 16, 6], ...shared.map(([v, bits, at]): [number, number, number] => [v, bits, at + 10]), [offset, 32, 42]]);
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

/** A zip header: its signature, then [value, bits, offset] fields, all little-endian. */
function header(length: number, signature: number, fields: readonly [number, number, number][]): Buffer {
  const b = Buffer.alloc(length);
  b.writeUInt32LE(signature, 0);
  for (const [value, bits, at] of fields) {
    if (bits === 16) b.writeUInt16LE(value, at);
    else b.writeUInt32LE(value, at);
  }
  return b;
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
