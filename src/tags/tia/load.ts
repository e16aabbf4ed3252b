/**
 * One entry point for an engineering file: the format is told by content (a
 * zip is an .xlsx; an XML root <Tagtable> is the tag table export, <Document>
 * is SimaticML), so a renamed file still reads.
 */
import * as fs from "node:fs";
import { ConfigError } from "../../errors.js";
import { tagFileError } from "./errors.js";
import type { TagFileModel } from "./model.js";
import { readSimaticMl } from "./simaticml.js";
import { DEFAULT_CULTURE, readTagtableExport } from "./tagtable-xml.js";
import { readTagtableXlsx } from "./xlsx.js";
import { decodeXmlBytes, parseXml } from "./xml.js";

export interface TagFileOptions {
  /** Culture of the single-language comments of the tag table export and the xlsx (default en-US). */
  culture?: string;
}

/** Files larger than this are refused before reading. */
export const MAX_TAG_FILE_BYTES = 32 * 1024 * 1024;

export function parseTagFile(data: Buffer, file: string, options: TagFileOptions = {}): TagFileModel {
  const culture = options.culture ?? DEFAULT_CULTURE;
  if (data.length > MAX_TAG_FILE_BYTES) throw tagFileError({ file, line: 0, element: "document" }, `file too large (${data.length} bytes, at most ${MAX_TAG_FILE_BYTES})`);
  if (data.length >= 4 && data.readUInt32LE(0) === 0x04034b50) return readTagtableXlsx(data, file, culture);
  const root = parseXml(decodeXmlBytes(data, file), file);
  if (root.local === "Tagtable") return readTagtableExport(root, file, culture);
  return readSimaticMl(root, file);
}

export function readTagFile(file: string, options: TagFileOptions = {}): TagFileModel {
  let data: Buffer;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_TAG_FILE_BYTES) throw tagFileError({ file, line: 0, element: "document" }, `file too large (${size} bytes, at most ${MAX_TAG_FILE_BYTES})`);
    data = fs.readFileSync(file);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${file}: cannot read the tag file: ${(err as Error).message}`, { file, cause: err });
  }
  return parseTagFile(data, file, options);
}
