/**
 * A PLC tag table exported as .xlsx: the sheet "PLC Tags" with the header row
 * Name, Path, Data Type, Logical Address, Comment, Hmi Visible, … and one row
 * per tag. Path is the tag table; Comment has one language (`culture`).
 *
 * Read straight from the archive: xl/workbook.xml names the sheet, its
 * relationship in xl/_rels/workbook.xml.rels gives the sheet part, cells of
 * type "s" index xl/sharedStrings.xml, "inlineStr" cells carry their text.
 */
import { checkPlcTag, NameScope } from "./checks.js";
import { tagFileError } from "./errors.js";
import { emptyModel, type PlcTagEntry, type PlcTagTable, type TagFileModel } from "./model.js";
import { DEFAULT_CULTURE } from "./tagtable-xml.js";
import { childNamed, childrenNamed, decodeXmlBytes, parseXml, type XmlElement } from "./xml.js";
import { ZipReader, type ZipLimits } from "./zip.js";

export const PLC_TAGS_SHEET = "PLC Tags";
const REQUIRED_COLUMNS = ["Name", "Data Type", "Logical Address"] as const;

export function readTagtableXlsx(data: Buffer, file: string, culture = DEFAULT_CULTURE, limits?: ZipLimits): TagFileModel {
  const zip = new ZipReader(data, file, limits);
  const part = (name: string): { root: XmlElement; where: string } => {
    const where = `${file}!${name}`;
    return { root: parseXml(decodeXmlBytes(zip.read(name), where), where), where };
  };
  const sheetPart = findSheetPart(zip, part, file);
  const shared = zip.has("xl/sharedStrings.xml") ? sharedStrings(part("xl/sharedStrings.xml").root) : [];
  const { root: sheet, where } = part(sheetPart);
  const sheetData = childNamed(sheet, "sheetData");
  if (sheet.local !== "worksheet" || sheetData === undefined) throw tagFileError({ file: where, line: sheet.line, element: sheet.name }, "not a worksheet (no <sheetData>)");

  let header: Map<string, number> | undefined;
  const tables = new Map<string, PlcTagTable>();
  const names = new NameScope("tag");
  for (const row of childrenNamed(sheetData, "row")) {
    const place = { file: where, line: row.line, element: `row r="${row.attributes.get("r") ?? "?"}"` };
    const cells = rowCells(row, shared, where);
    if (cells.every((c) => c.trim() === "")) continue;
    if (header === undefined) {
      header = new Map(cells.map((name, i) => [name.trim(), i]));
      const missing = REQUIRED_COLUMNS.filter((c) => !header!.has(c));
      if (missing.length > 0) throw tagFileError(place, `header row lacks the column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`);
      continue;
    }
    const cell = (column: string): string => {
      const i = header!.get(column);
      return i === undefined ? "" : (cells[i] ?? "").trim();
    };
    const raw = { name: cell("Name"), dataType: cell("Data Type"), address: cell("Logical Address") };
    checkPlcTag(raw, place);
    names.add(raw.name, place);
    const tableName = cell("Path") || PLC_TAGS_SHEET;
    let table = tables.get(tableName);
    if (table === undefined) {
      table = { name: tableName, tags: [], source: { file: where, line: row.line } };
      tables.set(tableName, table);
    }
    const comment = cell("Comment");
    const tag: PlcTagEntry = { ...raw, comment: comment === "" ? {} : { [culture]: comment }, table: tableName, source: { file: where, line: row.line } };
    table.tags.push(tag);
  }
  if (header === undefined) throw tagFileError({ file: where, line: sheetData.line, element: sheetData.name }, `sheet "${PLC_TAGS_SHEET}" has no header row`);
  const model = emptyModel(file, "tagtable-xlsx");
  model.tagTables.push(...tables.values());
  return model;
}

function findSheetPart(zip: ZipReader, part: (name: string) => { root: XmlElement; where: string }, file: string): string {
  const { root: workbook, where } = part("xl/workbook.xml");
  const sheets = childrenNamed(childNamed(workbook, "sheets") ?? workbook, "sheet");
  const sheet = sheets.find((s) => s.attributes.get("name") === PLC_TAGS_SHEET);
  if (sheet === undefined) {
    const names = sheets.map((s) => `"${s.attributes.get("name") ?? ""}"`).join(", ");
    throw tagFileError({ file: where, line: workbook.line, element: workbook.name }, `no sheet "${PLC_TAGS_SHEET}" (sheets: ${names || "none"})`);
  }
  const id = [...sheet.attributes].find(([k]) => k.endsWith(":id"))?.[1];
  const rels = part("xl/_rels/workbook.xml.rels");
  const rel = rels.root.children.find((r) => r.local === "Relationship" && r.attributes.get("Id") === id);
  const target = rel?.attributes.get("Target");
  if (target === undefined) throw tagFileError({ file: rels.where, line: rels.root.line, element: rels.root.name }, `no relationship ${id ?? "(none)"} for sheet "${PLC_TAGS_SHEET}"`);
  const name = target.startsWith("/") ? target.slice(1) : `xl/${target}`;
  if (!zip.has(name)) throw tagFileError({ file, line: 0, element: name }, `sheet "${PLC_TAGS_SHEET}" part missing from the archive`);
  return name;
}

/** The text of every <si>: its <t>, or the <t> of its rich-text runs (phonetic hints skipped). */
function sharedStrings(sst: XmlElement): string[] {
  return childrenNamed(sst, "si").map((si) => {
    const t = childNamed(si, "t");
    if (t !== undefined) return t.text;
    return childrenNamed(si, "r").map((r) => childNamed(r, "t")?.text ?? "").join("");
  });
}

/** Cell texts of a row by column (A = 0), gaps filled with "". */
function rowCells(row: XmlElement, shared: readonly string[], where: string): string[] {
  const out: string[] = [];
  let next = 0;
  for (const c of childrenNamed(row, "c")) {
    const ref = c.attributes.get("r");
    const column = ref === undefined ? next : columnIndex(ref);
    if (column < 0) throw tagFileError({ file: where, line: c.line, element: `c r="${ref}"` }, "bad cell reference");
    const type = c.attributes.get("t");
    let text: string;
    if (type === "inlineStr") text = childNamed(childNamed(c, "is") ?? c, "t")?.text ?? "";
    else {
      const v = childNamed(c, "v")?.text ?? "";
      if (type === "s") {
        const s = shared[Number(v)];
        if (!/^\d+$/.test(v) || s === undefined) throw tagFileError({ file: where, line: c.line, element: `c r="${ref ?? ""}"` }, `shared string ${v} does not exist`);
        text = s;
      } else text = v;
    }
    while (out.length < column) out.push("");
    out[column] = text;
    next = column + 1;
  }
  return out;
}

function columnIndex(ref: string): number {
  const m = /^([A-Z]{1,3})\d+$/.exec(ref);
  if (!m) return -1;
  let n = 0;
  for (const ch of m[1]!) n = n * 26 + ch.charCodeAt(0) - 64;
  return n - 1;
}
