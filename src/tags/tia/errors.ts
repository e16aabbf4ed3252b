/**
 * The one error every engineering-file parser throws: a ConfigError whose
 * message starts with "file:line: <element>:" so a user can open the file at
 * the place that is wrong.
 */
import { ConfigError } from "../../errors.js";

/** Where in an engineering file something was found. */
export interface FilePlace {
  /** The file as the user named it (for an xlsx: "book.xlsx!xl/worksheets/sheet1.xml"). */
  file: string;
  /** 1-based line; 0 when the file has no lines (a zip container). */
  line: number;
  /** The element (or zip entry, sheet cell) concerned. */
  element: string;
}

export function tagFileError(place: FilePlace, reason: string): ConfigError {
  const line = place.line > 0 ? `:${place.line}` : "";
  return new ConfigError(`${place.file}${line}: <${place.element}>: ${reason}`, { file: place.file });
}
