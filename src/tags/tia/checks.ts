/**
 * Checks shared by every format: a PLC tag needs a name, a known type and an
 * address that fits the type; names are unique within what a file holds.
 */
import { tagFileError, type FilePlace } from "./errors.js";
import { parseDataType } from "./data-type.js";
import { addressTypeMismatch, parseLogicalAddress } from "./logical-address.js";
import type { PlcTagEntry } from "./model.js";

export interface RawPlcTag {
  name: string;
  dataType: string;
  address: string;
}

/** Validates one PLC tag row; `place` names the element it was read from. */
export function checkPlcTag(tag: RawPlcTag, place: FilePlace): void {
  if (tag.name.trim().length === 0) throw tagFileError(place, "tag without a name");
  if (tag.dataType.trim().length === 0) throw tagFileError(place, `tag ${tag.name}: no data type`);
  const type = parseDataType(tag.dataType);
  if (type === undefined) throw tagFileError(place, `tag ${tag.name}: unknown data type "${tag.dataType}" (a PLC data type is written in double quotes)`);
  if (type.kind === "array" || type.kind === "struct") throw tagFileError(place, `tag ${tag.name}: a PLC tag cannot be of type ${tag.dataType}`);
  if (tag.address.trim().length === 0) throw tagFileError(place, `tag ${tag.name}: no address`);
  const address = parseLogicalAddress(tag.address);
  if (typeof address === "string") throw tagFileError(place, `tag ${tag.name}: ${address}`);
  const mismatch = addressTypeMismatch(address, tag.dataType);
  if (mismatch !== undefined) throw tagFileError(place, `tag ${tag.name} at ${tag.address}: ${mismatch}`);
}

/** Remembers names already seen in one scope and refuses a second one. */
export class NameScope {
  private readonly seen = new Map<string, number>();
  constructor(private readonly what: string) {}

  add(name: string, place: FilePlace): void {
    // TIA Portal treats names case-insensitively.
    const key = name.toLowerCase();
    const first = this.seen.get(key);
    if (first !== undefined) throw tagFileError(place, `duplicate ${this.what} name "${name}" (first on line ${first})`);
    this.seen.set(key, place.line);
  }
}

/** Adds every tag to one scope (names of PLC tags are unique across the tables of a controller). */
export function checkUniqueTags(tags: readonly PlcTagEntry[], element: string): void {
  const scope = new NameScope("tag");
  for (const t of tags) scope.add(t.name, { file: t.source.file, line: t.source.line, element });
}
