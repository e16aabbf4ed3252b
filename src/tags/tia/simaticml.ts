/**
 * SimaticML documents written by TIA Openness exports (root <Document>):
 *
 * - SW.Tags.PlcTagTable: AttributeList/Name, ObjectList of SW.Tags.PlcTag
 *   with AttributeList Name, DataTypeName, LogicalAddress and an ObjectList
 *   MultilingualText (CompositionName="Comment") of MultilingualTextItem
 *   with Culture and Text;
 * - SW.Blocks.GlobalDB: AttributeList Name, Number, MemoryLayout
 *   (Optimized/Standard), Interface/Sections/Section Name="Static" with
 *   Member Name/Datatype, nested Member for Struct, Comment/MultiLanguageText
 *   Lang;
 * - SW.Types.PlcStruct: AttributeList Name and the same member tree.
 *
 * Other objects of a document (code blocks, user constants) are skipped; a
 * document holding none of the three is refused.
 */
import { checkPlcTag, checkUniqueTags, NameScope } from "./checks.js";
import { parseDataType } from "./data-type.js";
import { tagFileError } from "./errors.js";
import { emptyModel, type Member, type MultilingualText, type PlcTagEntry, type TagFileModel } from "./model.js";
import { childNamed, childrenNamed, type XmlElement } from "./xml.js";

export function readSimaticMl(root: XmlElement, file: string): TagFileModel {
  if (root.local !== "Document") throw tagFileError({ file, line: root.line, element: root.name }, "root element must be <Document> (SimaticML) or <Tagtable> (tag table export)");
  const model = emptyModel(file, "simaticml");
  const blocks = new NameScope("block");
  const types = new NameScope("PLC data type");
  const tags: PlcTagEntry[] = [];
  for (const object of root.children) {
    switch (object.local) {
      case "SW.Tags.PlcTagTable": {
        const name = requiredAttribute(object, "Name", file);
        const table = { name, tags: readPlcTags(object, name, file), source: { file, line: object.line } };
        model.tagTables.push(table);
        tags.push(...table.tags);
        break;
      }
      case "SW.Blocks.GlobalDB": {
        const name = requiredAttribute(object, "Name", file);
        blocks.add(name, { file, line: object.line, element: object.name });
        const attributes = attributeList(object, file);
        const number = childNamed(attributes, "Number");
        const layout = childNamed(attributes, "MemoryLayout");
        const db: TagFileModel["dataBlocks"][number] = { name, members: interfaceMembers(object, file, "Static"), source: { file, line: object.line } };
        if (number !== undefined) {
          if (!/^\d+$/.test(number.text.trim()) || Number(number.text) < 1 || Number(number.text) > 65535) {
            throw tagFileError({ file, line: number.line, element: number.name }, `data block number "${number.text}" is not 1..65535`);
          }
          db.number = Number(number.text);
        }
        if (layout !== undefined) {
          const value = layout.text.trim();
          if (value !== "Optimized" && value !== "Standard") throw tagFileError({ file, line: layout.line, element: layout.name }, `memory layout "${value}" is neither Optimized nor Standard`);
          db.optimized = value === "Optimized";
        }
        model.dataBlocks.push(db);
        break;
      }
      case "SW.Types.PlcStruct": {
        const name = requiredAttribute(object, "Name", file);
        types.add(name, { file, line: object.line, element: object.name });
        model.types.push({ name, members: interfaceMembers(object, file, undefined), source: { file, line: object.line } });
        break;
      }
      default:
        break;
    }
  }
  checkUniqueTags(tags, "SW.Tags.PlcTag");
  if (model.tagTables.length + model.dataBlocks.length + model.types.length === 0) {
    throw tagFileError({ file, line: root.line, element: root.name }, "holds no SW.Tags.PlcTagTable, SW.Blocks.GlobalDB or SW.Types.PlcStruct");
  }
  return model;
}

function attributeList(object: XmlElement, file: string): XmlElement {
  const list = childNamed(object, "AttributeList");
  if (list === undefined) throw tagFileError({ file, line: object.line, element: object.name }, "no <AttributeList>");
  return list;
}

/** A plain attribute element (`<Name>Motor</Name>`) that must be present and non-empty. */
function requiredAttribute(object: XmlElement, name: string, file: string): string {
  const value = childNamed(attributeList(object, file), name)?.text.trim() ?? "";
  if (value === "") throw tagFileError({ file, line: object.line, element: object.name }, `no ${name} in the AttributeList`);
  return value;
}

function readPlcTags(table: XmlElement, tableName: string, file: string): PlcTagEntry[] {
  const out: PlcTagEntry[] = [];
  for (const tag of childrenNamed(childNamed(table, "ObjectList") ?? table, "SW.Tags.PlcTag")) {
    const place = { file, line: tag.line, element: tag.name };
    const attributes = attributeList(tag, file);
    const text = (name: string): string => childNamed(attributes, name)?.text.trim() ?? "";
    const raw = { name: text("Name"), dataType: text("DataTypeName"), address: text("LogicalAddress") };
    checkPlcTag(raw, place);
    out.push({ ...raw, comment: objectComment(tag), table: tableName, source: { file, line: tag.line } });
  }
  return out;
}

/** ObjectList/MultilingualText[CompositionName=Comment]/ObjectList/MultilingualTextItem → { culture: text }. */
function objectComment(object: XmlElement): MultilingualText {
  const comment: Record<string, string> = {};
  const text = childrenNamed(childNamed(object, "ObjectList") ?? object, "MultilingualText").find((m) => m.attributes.get("CompositionName") === "Comment");
  if (text === undefined) return comment;
  for (const item of childrenNamed(childNamed(text, "ObjectList") ?? text, "MultilingualTextItem")) {
    const list = childNamed(item, "AttributeList");
    const culture = list && childNamed(list, "Culture")?.text.trim();
    const value = list && childNamed(list, "Text")?.text;
    if (culture && value) comment[culture] = value;
  }
  return comment;
}

/** Members of the interface: of the named section, or of every section (a PLC data type has one, "None"). */
function interfaceMembers(object: XmlElement, file: string, section: string | undefined): Member[] {
  const attributes = attributeList(object, file);
  const sections = childNamed(childNamed(attributes, "Interface") ?? attributes, "Sections");
  if (sections === undefined) throw tagFileError({ file, line: object.line, element: object.name }, "no Interface/Sections");
  const chosen = childrenNamed(sections, "Section").filter((s) => section === undefined || s.attributes.get("Name") === section);
  const members: Member[] = [];
  const scope = new NameScope("member");
  for (const s of chosen) members.push(...readMembers(s, file, scope));
  return members;
}

function readMembers(parent: XmlElement, file: string, scope = new NameScope("member")): Member[] {
  const out: Member[] = [];
  for (const m of childrenNamed(parent, "Member")) {
    const place = { file, line: m.line, element: m.name };
    const name = m.attributes.get("Name") ?? "";
    if (name.trim() === "") throw tagFileError(place, "member without a Name");
    scope.add(name, place);
    const dataType = m.attributes.get("Datatype") ?? "";
    const type = parseDataType(dataType);
    if (type === undefined) throw tagFileError(place, `member ${name}: unknown data type "${dataType}"`);
    const member: Member = { name, dataType, comment: memberComment(m), source: { file, line: m.line } };
    if (type.kind === "array") {
      member.arrayBounds = type.bounds;
      member.elementType = type.elementType;
    }
    const nested = readMembers(m, file);
    const isStruct = type.kind === "struct" || (type.kind === "array" && parseDataType(type.elementType)?.kind === "struct");
    if (isStruct) member.members = nested;
    else if (nested.length > 0) throw tagFileError(place, `member ${name} of type ${dataType} cannot have members`);
    out.push(member);
  }
  return out;
}

/** Comment/MultiLanguageText Lang="…" → { culture: text }. */
function memberComment(member: XmlElement): MultilingualText {
  const comment: Record<string, string> = {};
  const c = childNamed(member, "Comment");
  for (const t of c === undefined ? [] : childrenNamed(c, "MultiLanguageText")) {
    const lang = t.attributes.get("Lang");
    if (lang && t.text) comment[lang] = t.text;
  }
  return comment;
}
