/**
 * What TIA Portal's open export formats hold, in one model: PLC tag tables,
 * global data blocks and PLC data types (UDTs). Every entry remembers the
 * file and line it came from so later messages can point back at it.
 */

/** Comment texts by culture ("en-US", "de-DE"). */
export type MultilingualText = Readonly<Record<string, string>>;

export interface SourceLocation {
  file: string;
  line: number;
}

export interface ArrayBound {
  low: number;
  high: number;
}

/** One PLC tag (I/Q/M area) of a tag table. */
export interface PlcTagEntry {
  name: string;
  /** As TIA Portal writes it: "Int", "Bool", "\"Motor_UDT\"". */
  dataType: string;
  /** The logical address as written: "%MW20", "%I0.0". */
  address: string;
  comment: MultilingualText;
  /** The tag table the tag belongs to. */
  table: string;
  source: SourceLocation;
}

export interface PlcTagTable {
  name: string;
  tags: PlcTagEntry[];
  source: SourceLocation;
}

/** A member of a data block or UDT; nested for Struct, element type for arrays. */
export interface Member {
  name: string;
  /** As written: "Int", "Array[0..9] of Int", "\"Motor_UDT\"", "Struct". */
  dataType: string;
  comment: MultilingualText;
  /** Members of a Struct (or of a Struct array's element). */
  members?: Member[];
  /** For arrays: one bound per dimension, and the element type in `elementType`. */
  arrayBounds?: ArrayBound[];
  elementType?: string;
  source: SourceLocation;
}

export interface GlobalDataBlock {
  name: string;
  number?: number;
  /** true for "Optimized" memory layout, false for "Standard". */
  optimized?: boolean;
  members: Member[];
  source: SourceLocation;
}

export interface PlcStruct {
  name: string;
  members: Member[];
  source: SourceLocation;
}

export type TagFileFormat = "tagtable-xml" | "tagtable-xlsx" | "simaticml";

/** Everything one file holds; a parse returns this whole or throws. */
export interface TagFileModel {
  file: string;
  format: TagFileFormat;
  tagTables: PlcTagTable[];
  dataBlocks: GlobalDataBlock[];
  types: PlcStruct[];
}

export function emptyModel(file: string, format: TagFileFormat): TagFileModel {
  return { file, format, tagTables: [], dataBlocks: [], types: [] };
}
