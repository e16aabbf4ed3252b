/**
 * Tag tables (TIA Portal exports) for a connection: loaded together at
 * deploy, they let flows name a PLC tag of a table (`Speed_SP` is read as
 * `MW20:INT`, the table's address and type) and they describe data block
 * members offline. The controller wins: a DB member is always read by its
 * name from the live symbols, and where the controller disagrees with a
 * table (a member missing, another type) a warning names the tag, the
 * table's type and the controller's.
 */
import * as path from "node:path";
import type { S7Error } from "../../errors.js";
import { printable } from "../../printable.js";
import type { SymbolNode } from "../symbols.js";
import { formatNamePart, formatTag, parseTagName } from "../tag-name.js";
import { readTagFile, type TagFileOptions } from "./load.js";
import { absoluteTagOf } from "./logical-address.js";
import type { Member, MultilingualText, SourceLocation } from "./model.js";
import { TagTableSet, type TableLookup } from "./resolver.js";

/** The files of a connection's "tag tables" property: one path a line, relative paths inside `baseDir`. */
export function tagTableFiles(text: string | undefined, baseDir: string): string[] {
  return (text ?? "")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((file) => path.resolve(baseDir, file));
}

/** Reads every file and loads them together; the first bad file throws its one ConfigError and nothing is kept. */
export function loadTagTables(files: readonly string[], options: TagFileOptions = {}): TagTableSet {
  return new TagTableSet(files.map((file) => readTagFile(file, options)));
}

/** One row of the tag picker taken from a table. */
export interface TablePickerEntry {
  /** The name to use in s7-read / s7-write. */
  tag: string;
  kind: "plc-tag" | "member";
  dataType: string;
  address?: string;
  comment: MultilingualText;
  /** "file:line" of the definition. */
  source: string;
  /** Set when a live browse was compared: the controller's type, or null when it has no such tag. */
  controllerType?: string | null;
  /** Why the controller disagrees (it wins). */
  warning?: string;
}

/** The most rows a table contributes to the picker (a large DB is still browsable live). */
export const MAX_PICKER_ENTRIES = 5000;

/** A name compared without case and quoting: `"DB_Line".motor` = `DB_Line.Motor`. */
export function canonicalTagName(name: string): string {
  try {
    const parsed = parseTagName(name);
    if (parsed.kind !== "symbolic") return name.trim().toLowerCase();
    return parsed.path.map((e) => `${e.name.toLowerCase()}${e.indices.length > 0 ? `[${e.indices.join(",")}]` : ""}`).join(".");
  } catch {
    return name.trim().toLowerCase();
  }
}

/** Types compared as TIA Portal and the controller write them: no case, no spaces, String = String[254]. */
function sameType(a: string, b: string): boolean {
  const norm = (t: string): string => t.replace(/\s+/g, "").toLowerCase().replace(/^(w?string)\[254\]$/, "$1").replace(/:v\d+(\.\d+)*$/, "");
  return norm(a) === norm(b);
}

const where = (source: SourceLocation): string => `${source.file}:${source.line}`;

/** The controller's type of every tag of a browse tree, by canonical name. */
export function controllerTypes(tree: readonly SymbolNode[]): Map<string, string> {
  const types = new Map<string, string>();
  const walk = (nodes: readonly SymbolNode[]): void => {
    for (const n of nodes) {
      types.set(canonicalTagName(n.tag), n.type);
      if (n.children) walk(n.children);
    }
  };
  walk(tree);
  return types;
}

export class ConnectionTagTables {
  constructor(readonly set: TagTableSet) {}

  get files(): string[] {
    return this.set.files.map((f) => f.file);
  }

  /** What the controller is asked for: a table's PLC tag as its absolute address with the table's type; any other name unchanged. */
  controllerName(name: string): string {
    const found = this.set.lookup(name);
    return found?.kind === "plc-tag" ? formatTag(absoluteTagOf(found)) : name;
  }

  /**
   * The names the controller is asked for, one per flow name, and the way
   * back. A PLC tag without an absolute form (a String tag) is sent by its
   * name, so the controller's answer says why.
   */
  namesFor(names: readonly string[]): { sent: string[]; flowName: (sent: string) => string } {
    const sent = names.map((name) => {
      try {
        return this.controllerName(name);
      } catch {
        return name; // keep the name: the controller's refusal is the message
      }
    });
    // The way back is built when first asked for: through() maps back by position.
    let back: Map<string, string> | undefined;
    return { sent, flowName: (s) => (back ??= new Map(sent.map((x, i) => [x, names[i]!]))).get(s) ?? s };
  }

  /** Runs `io` with the controller's names and hands back outcomes under the names the flow used. */
  async through<T extends { tag: string }, O extends { tag: string }>(items: readonly T[], io: (items: T[]) => Promise<O[]>): Promise<O[]> {
    const names = items.map((item) => item.tag);
    const { sent } = this.namesFor(names);
    const outcomes = await io(items.map((item, i) => ({ ...item, tag: sent[i]! })));
    return outcomes.map((o, i) => {
      const name = names[i] ?? o.tag;
      const asked = sent[i] ?? o.tag;
      // A failure names the table's tag beside the address it was sent as: "Pump_On (MX2.3): …".
      const error = (o as { error?: unknown }).error;
      if (name !== asked && error instanceof Error && !error.message.includes(`${name} (`)) error.message = error.message.replace(asked, `${name} (${asked})`);
      return { ...o, tag: name };
    });
  }

  /** Whether any of these names is a data block member the tables describe (worth comparing with the controller). */
  describesMembers(names: readonly string[]): boolean {
    return names.some((n) => this.set.lookup(n)?.kind === "member");
  }

  /**
   * Warnings for the tags of one read or write where the controller
   * disagrees with the tables: a member it does not have, another type.
   */
  disagreements(outcomes: readonly ({ tag: string; ok: true } | { tag: string; ok: false; error: S7Error })[], types: ReadonlyMap<string, string> | undefined): string[] {
    const out: string[] = [];
    for (const o of outcomes) {
      const found = this.set.lookup(o.tag);
      if (found?.kind !== "member") continue;
      const live = types?.get(canonicalTagName(o.tag));
      const text = this.disagreement(o.tag, found, !o.ok && o.error.code === "ERR_S7_TAG_NOT_FOUND" ? null : live);
      if (text !== undefined) out.push(text);
    }
    return out;
  }

  /** The picker's table rows; with a live browse, each compared with the controller. */
  pickerEntries(tree?: readonly SymbolNode[]): TablePickerEntry[] {
    const live = tree === undefined ? undefined : controllerTypes(tree);
    const rows: TablePickerEntry[] = [];
    const add = (tag: string, found: TableLookup): void => {
      if (rows.length >= MAX_PICKER_ENTRIES) return;
      const row: TablePickerEntry = { tag, kind: found.kind, dataType: found.dataType, comment: found.comment, source: where(found.source) };
      if (found.kind === "plc-tag") row.address = found.address;
      else if (live !== undefined) {
        const type = live.get(canonicalTagName(tag));
        row.controllerType = type ?? null;
        const warning = this.disagreement(tag, found, type ?? null);
        if (warning !== undefined) row.warning = warning;
      }
      rows.push(row);
    };
    for (const tag of this.set.plcTags) add(formatNamePart(tag.name), this.set.resolve(tag.name));
    for (const file of this.set.files) {
      for (const db of file.dataBlocks) this.addMembers(formatNamePart(db.name), db.members, add, 0);
    }
    return rows;
  }

  private addMembers(prefix: string, members: readonly Member[], add: (tag: string, found: TableLookup) => void, depth: number): void {
    if (depth > 16) return;
    for (const m of members) {
      const tag = `${prefix}.${formatNamePart(m.name)}`;
      const found = this.set.lookup(tag);
      if (found === undefined) continue;
      add(tag, found);
      if (found.kind === "member" && found.members !== undefined && found.arrayBounds === undefined) this.addMembers(tag, found.members, add, depth + 1);
    }
  }

  /** `live`: the controller's type, null when it has no such tag, undefined when unknown. */
  private disagreement(tag: string, found: TableLookup, live: string | null | undefined): string | undefined {
    const table = `the tag table (${printable(where(found.source))}) says ${printable(found.dataType)}`;
    if (live === null) return `${printable(tag)}: ${table}, the controller has no such tag; the controller wins`;
    if (live !== undefined && !sameType(found.dataType, live)) return `${printable(tag)}: ${table}, the controller says ${printable(live)}; the controller's type is used`;
    return undefined;
  }
}
