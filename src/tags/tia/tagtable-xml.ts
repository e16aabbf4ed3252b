/**
 * The tag table editor's own "Export" as XML:
 *
 *   <Tagtable name='Default tag table'>
 *     <Tag type='Int' hmiVisible='True' hmiWriteable='True' hmiAccessible='True'
 *          retain='False' remark='Speed setpoint' addr='%MW20'>Speed_SP</Tag>
 *     <Constant type='Int' remark='' value='10'>MAX</Constant>
 *   </Tagtable>
 *
 * The remark carries one language only; the caller says which (`culture`).
 * User constants are not tags and are skipped.
 */
import { checkPlcTag, checkUniqueTags } from "./checks.js";
import { tagFileError } from "./errors.js";
import { emptyModel, type PlcTagEntry, type TagFileModel } from "./model.js";
import type { XmlElement } from "./xml.js";

export const DEFAULT_CULTURE = "en-US";

export function readTagtableExport(root: XmlElement, file: string, culture = DEFAULT_CULTURE): TagFileModel {
  if (root.local !== "Tagtable") throw tagFileError({ file, line: root.line, element: root.name }, "root element must be <Tagtable>");
  const tableName = root.attributes.get("name") ?? "";
  if (tableName.trim().length === 0) throw tagFileError({ file, line: root.line, element: root.name }, "tag table without a name attribute");
  const tags: PlcTagEntry[] = [];
  for (const row of root.children) {
    const place = { file, line: row.line, element: row.name };
    if (row.local === "Constant") continue;
    if (row.local !== "Tag") throw tagFileError(place, "unexpected element in a tag table (expected <Tag>)");
    if (row.children.length > 0) throw tagFileError(place, "a <Tag> holds only its name as text");
    const raw = { name: row.text.trim(), dataType: row.attributes.get("type") ?? "", address: row.attributes.get("addr") ?? "" };
    checkPlcTag(raw, place);
    const remark = row.attributes.get("remark") ?? "";
    tags.push({ ...raw, comment: remark === "" ? {} : { [culture]: remark }, table: tableName, source: { file, line: row.line } });
  }
  checkUniqueTags(tags, "Tag");
  const model = emptyModel(file, "tagtable-xml");
  model.tagTables.push({ name: tableName, tags, source: { file, line: root.line } });
  return model;
}
