/** `s7-secure tags <file>… [--json] [--culture C]`: what TIA Portal tag table exports hold (issue 19). */
import { S7Error } from "../errors.js";
import { readTagFile } from "../tags/tia/load.js";
import type { Member, MultilingualText, TagFileFormat, TagFileModel } from "../tags/tia/model.js";
import { TagTableSet } from "../tags/tia/resolver.js";
import { parseCommandArgs, printResult, type CliIO } from "./io.js";

const FORMAT_NAMES: Record<TagFileFormat, string> = {
  "tagtable-xml": "tag table export, XML",
  "tagtable-xlsx": "tag table export, xlsx",
  simaticml: "SimaticML",
};

const USAGE = "usage: s7-secure tags <file>… [--json] [--culture en-US]";

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { json: { type: "boolean" }, culture: { type: "string" } });
  if (positionals.length === 0) {
    io.stderr(`s7-secure tags: ${USAGE}\n`);
    return 2;
  }
  let models: TagFileModel[];
  try {
    const options = values.culture === undefined ? {} : { culture: values.culture };
    models = positionals.map((file) => readTagFile(file, options));
    // Loading them together checks names across files.
    new TagTableSet(models);
  } catch (err) {
    if (!(err instanceof S7Error)) throw err;
    io.stderr(`s7-secure tags: ${err.message.split("\n")[0]}\n`);
    return 2;
  }
  printResult(io, values.json ?? false, { files: models }, models.map(describeFile).join("\n"));
  return 0;
}

function describeFile(model: TagFileModel): string {
  const lines = [`${model.file} (${FORMAT_NAMES[model.format]})`];
  for (const table of model.tagTables) {
    lines.push(`  tag table "${table.name}" (${table.tags.length} tag${table.tags.length === 1 ? "" : "s"})`);
    for (const t of table.tags) lines.push(row(4, t.name, `${t.dataType} ${t.address}`, t.comment));
  }
  for (const db of model.dataBlocks) {
    const facts = [db.number === undefined ? undefined : `DB${db.number}`, db.optimized === undefined ? undefined : db.optimized ? "optimized" : "standard"].filter(Boolean);
    lines.push(`  data block "${db.name}"${facts.length > 0 ? ` (${facts.join(", ")})` : ""}`);
    describeMembers(db.members, 4, lines);
  }
  for (const udt of model.types) {
    lines.push(`  PLC data type "${udt.name}"`);
    describeMembers(udt.members, 4, lines);
  }
  return lines.join("\n");
}

function describeMembers(members: readonly Member[], indent: number, lines: string[]): void {
  for (const m of members) {
    lines.push(row(indent, m.name, m.dataType, m.comment));
    if (m.members) describeMembers(m.members, indent + 2, lines);
  }
}

function row(indent: number, name: string, what: string, comment: MultilingualText): string {
  const texts = Object.entries(comment).map(([culture, text]) => `${culture}: ${text.replace(/\s+/g, " ")}`);
  return `${" ".repeat(indent)}${name}  ${what}${texts.length > 0 ? `  // ${texts.join(" | ")}` : ""}`;
}
