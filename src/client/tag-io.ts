/**
 * Reads and writes tags by name on one session: parses and resolves each tag
 * (symbolic through the symbol table, absolute directly), expands structs and
 * arrays of structs or strings into their leaves, chunks the items to the
 * controller's per-request limits (the one place where requests are cut to
 * size), and maps values both ways. Every tag gets its own outcome: a bad
 * name, a refused item or a wrong value never fails the other tags of the
 * batch. A connection failure is never blamed on a tag.
 */
import { ItemError, S7Error, TagError, ValueError } from "../errors.js";
import type { ItemAddress } from "../protocol/address.js";
import type { PValue } from "../protocol/pvalue.js";
import { decodeValue, encodeValue, flattenArray, isSingleValueType, nestArray } from "../values/value-map.js";
import { elementCount, formatPlcType, type ArrayType, type PlcType } from "../values/plc-type.js";
import { formatValue } from "../values/plc-time.js";
import { absoluteAddress, decodeAbsolute, encodeAbsolute } from "../tags/absolute.js";
import { formatTag, parseTagName, type AbsoluteTag, type TagAddress } from "../tags/tag-name.js";
import type { ReadOutcome, WriteEntry, WriteOutcome } from "./results.js";
import type { SymbolTable, ResolvedTag } from "../tags/symbols.js";

/** The services tag access needs (a Session provides them). */
export interface ItemService {
  readonly plc: string;
  readonly limits: { readMax: number; writeMax: number };
  getMultiVariables(addresses: ItemAddress[]): Promise<{ values: Map<number, PValue>; errors: Map<number, bigint> }>;
  setMultiVariables(addresses: ItemAddress[], values: PValue[]): Promise<Map<number, bigint>>;
}

/** Tag requests sent (for tests and benchmarks). */
export interface TagRequestStats {
  requests: number;
  readRequests: number;
  writeRequests: number;
}

/** PLC codes after which a symbolic address is re-resolved once (the program may have changed). */
const STALE_SYMBOL_CODES = new Set([-12, -17, -255, -256]);
/** A struct read as a whole may not expand beyond this many items. */
const MAX_LEAVES = 65_536;

/** The wire items of one tag (see TagIO.items). */
export type TagItems =
  | { tag: string; ok: true; symbolic: boolean; addresses: ItemAddress[]; assemble(values: readonly PValue[]): unknown }
  | { tag: string; ok: false; error: S7Error };

/** How one tag maps onto wire items. */
type Plan =
  | { kind: "leaf"; address: ItemAddress; decode(v: PValue): unknown; encode(value: unknown): PValue }
  | { kind: "struct"; members: [string, Plan][] }
  | { kind: "array"; type: ArrayType; elements: Plan[] };

interface PreparedTag {
  text: string;
  symbolic: boolean;
  plan: Plan;
}

export class TagIO {
  private readonly resolved = new Map<string, Promise<PreparedTag>>();
  /** The same tags once resolved: a read of known tags then waits for nothing but the controller. */
  private readonly ready = new Map<string, PreparedTag>();
  /** Tags resolved through the symbol table (candidates for re-resolution). */
  private readonly symbolicTags = new Set<string>();

  constructor(
    private readonly service: ItemService,
    private readonly symbols: SymbolTable,
    private readonly stats: TagRequestStats = { requests: 0, readRequests: 0, writeRequests: 0 },
  ) {}

  /** Forgets resolved tags and the symbol table. */
  invalidate(): void {
    this.resolved.clear();
    this.ready.clear();
    this.symbols.invalidate();
  }

  /**
   * The wire items of each tag, resolved as a read resolves them, for a
   * subscription: the addresses of its leaves and how their values make the
   * tag's value. A bad name or an unknown tag is that tag's error.
   */
  async items(tags: readonly string[]): Promise<TagItems[]> {
    return Promise.all(
      tags.map(async (tag): Promise<TagItems> => {
        try {
          const p = await this.prepare(tag);
          const plan = p.plan;
          return {
            tag,
            ok: true,
            symbolic: p.symbolic,
            addresses: [...leaves(plan)].map((l) => l.address),
            assemble: (values) => {
              let k = 0;
              return assemble(plan, () => values[k++]!);
            },
          };
        } catch (err) {
          if (isConnectionFailure(err)) throw err;
          return { tag, ok: false, error: asError(err, tag, this.service.plc) };
        }
      }),
    );
  }

  read(tags: readonly string[]): Promise<ReadOutcome[]> {
    return this.withFreshSymbols(tags, (t) => this.readOnce(t));
  }

  write(entries: readonly WriteEntry[]): Promise<WriteOutcome[]> {
    return this.withFreshSymbols(entries, (e) => this.writeOnce(e));
  }

  /** Runs `once`; tags refused because the program changed are resolved afresh and tried once more. */
  private async withFreshSymbols<I, O extends ReadOutcome | WriteOutcome>(items: readonly I[], once: (items: readonly I[]) => Promise<O[]>): Promise<O[]> {
    const outcomes = await once(items);
    const stale = outcomes.map((o, i) => (!o.ok && this.isStale(o.error, o.tag) ? i : -1)).filter((i) => i >= 0);
    if (stale.length === 0) return outcomes;
    this.invalidate();
    const again = await once(stale.map((i) => items[i]!));
    stale.forEach((i, k) => (outcomes[i] = again[k]!));
    return outcomes;
  }

  private isStale(err: S7Error, tag: string): boolean {
    return err instanceof ItemError && STALE_SYMBOL_CODES.has(err.plcCode) && this.symbolicTags.has(tag);
  }

  // -------------------------------------------------------------------------

  private async readOnce(tags: readonly string[]): Promise<ReadOutcome[]> {
    const prepared = this.allReady(tags) ?? (await Promise.all(tags.map((t) => this.prepare(t).then((p) => p, (err: unknown) => asError(err, t, this.service.plc)))));
    const addresses: ItemAddress[] = [];
    const owners: number[] = [];
    prepared.forEach((p, i) => {
      if (p instanceof S7Error) return;
      for (const leaf of leaves(p.plan)) {
        addresses.push(leaf.address);
        owners.push(i);
      }
    });
    const values: (PValue | S7Error)[] = new Array(addresses.length);
    for (let start = 0; start < addresses.length; start += this.service.limits.readMax) {
      const chunk = addresses.slice(start, start + this.service.limits.readMax);
      this.stats.requests++;
      this.stats.readRequests++;
      const res = await this.service.getMultiVariables(chunk);
      for (let k = 0; k < chunk.length; k++) {
        const owner = prepared[owners[start + k]!] as PreparedTag;
        const err = res.errors.get(k);
        values[start + k] = err !== undefined ? new ItemError(`${owner.text}: the controller refused the read`, err, { plc: this.service.plc, tag: owner.text }) : res.values.get(k)!;
      }
    }
    let cursor = 0;
    return prepared.map((p, i): ReadOutcome => {
      const tag = tags[i]!;
      if (p instanceof S7Error) return { tag, ok: false, error: p };
      const count = countLeaves(p.plan);
      const mine = values.slice(cursor, cursor + count);
      cursor += count;
      const failed = mine.find((v): v is S7Error => v instanceof S7Error);
      if (failed) return { tag, ok: false, error: failed };
      try {
        let k = 0;
        return { tag, ok: true, value: assemble(p.plan, () => mine[k++] as PValue) };
      } catch (err) {
        return { tag, ok: false, error: asError(err, tag, this.service.plc) };
      }
    });
  }

  private async writeOnce(entries: readonly WriteEntry[]): Promise<WriteOutcome[]> {
    // Check every name and value first: a bad one fails its own tag and, because the batch may be
    // cut into several requests, nothing of the batch is sent (docs/NODES.md §2 s7-write).
    const items: { entry: number; address: ItemAddress; value: PValue }[] = [];
    const outcomes: (WriteOutcome | undefined)[] = new Array(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      try {
        const p = await this.prepare(entry.tag);
        for (const item of flattenWrite(p.plan, entry.value, p.text)) items.push({ entry: i, ...item });
      } catch (err) {
        // A connection that fails during the check is the connection's fault, not the tag's.
        if (isConnectionFailure(err)) throw err;
        outcomes[i] = { tag: entry.tag, ok: false, error: asError(err, entry.tag, this.service.plc) };
      }
    }
    const invalid = outcomes.find((o): o is Extract<WriteOutcome, { ok: false }> => o !== undefined && !o.ok);
    if (invalid !== undefined) {
      return entries.map(
        (e, i): WriteOutcome =>
          outcomes[i] ?? {
            tag: e.tag,
            ok: false,
            error: new ValueError(`${e.tag}: not written, because ${invalid.tag} in the same request is invalid`, { plc: this.service.plc, tag: e.tag }),
          },
      );
    }
    const writeMax = Math.max(1, this.service.limits.writeMax);
    const chunks: (typeof items)[] = [];
    for (let start = 0; start < items.length; start += writeMax) chunks.push(items.slice(start, start + writeMax));
    const failures = new Map<number, S7Error>();
    for (let c = 0; c < chunks.length; c++) {
      const chunk = chunks[c]!;
      let errors: Map<number, bigint>;
      try {
        this.stats.requests++;
        this.stats.writeRequests++;
        errors = await this.service.setMultiVariables(
          chunk.map((k) => k.address),
          chunk.map((k) => k.value),
        );
      } catch (err) {
        if (chunks.length === 1 || !(err instanceof S7Error)) throw err;
        return this.partialWrite(entries, chunks, c, failures, err);
      }
      for (const [k, rv] of errors) {
        const entry = chunk[k]!.entry;
        const tag = entries[entry]!.tag;
        if (!failures.has(entry)) failures.set(entry, new ItemError(`${tag}: the controller refused the write`, rv, { plc: this.service.plc, tag }));
      }
    }
    return entries.map((e, i): WriteOutcome => {
      const err = failures.get(i);
      return err ? { tag: e.tag, ok: false, error: err } : { tag: e.tag, ok: true, value: e.value };
    });
  }

  /**
   * The outcome of a write cut into several requests when request `failed`
   * failed: tags whose items were all confirmed are written; tags with an
   * item in the failed request may or may not have been written; the rest
   * was not sent. Nothing is sent again.
   */
  private partialWrite(
    entries: readonly WriteEntry[],
    chunks: { entry: number }[][],
    failed: number,
    refused: Map<number, S7Error>,
    cause: S7Error,
  ): WriteOutcome[] {
    const inFlight = new Set(chunks[failed]!.map((k) => k.entry));
    const unsent = new Set(chunks.slice(failed + 1).flatMap((chunk) => chunk.map((k) => k.entry)));
    const plc = this.service.plc;
    const context = (tag: string) => ({ plc, tag, transient: cause.transient, cause });
    const lost = isConnectionFailure(cause);
    return entries.map((e, i): WriteOutcome => {
      const err = refused.get(i);
      if (err) return { tag: e.tag, ok: false, error: err };
      if (inFlight.has(i)) {
        const what = lost ? "unknown whether written" : "refused by the controller";
        return { tag: e.tag, ok: false, error: new S7Error(cause.code, `${e.tag}: ${what} (request ${failed + 1} of ${chunks.length}: ${cause.message})`, context(e.tag)) };
      }
      if (unsent.has(i)) {
        return { tag: e.tag, ok: false, error: new S7Error(cause.code, `${e.tag}: not written (request ${failed + 1} of ${chunks.length} failed before it: ${cause.message})`, context(e.tag)) };
      }
      return { tag: e.tag, ok: true, value: e.value };
    });
  }

  /** The prepared tags when every one is resolved already, else undefined. */
  private allReady(tags: readonly string[]): PreparedTag[] | undefined {
    const out: PreparedTag[] = new Array(tags.length);
    for (let i = 0; i < tags.length; i++) {
      const p = this.ready.get(tags[i]!);
      if (p === undefined) return undefined;
      out[i] = p;
    }
    return out;
  }

  private prepare(text: string): Promise<PreparedTag> {
    let p = this.resolved.get(text);
    if (p === undefined) {
      const resolving = this.resolve(text);
      p = resolving;
      resolving.then(
        (tag) => {
          // Kept only while this resolution is the current one (an invalidate may have come between).
          if (this.resolved.get(text) === resolving) this.ready.set(text, tag);
        },
        () => this.resolved.delete(text),
      );
      this.resolved.set(text, p);
    }
    return p;
  }

  private async resolve(text: string): Promise<PreparedTag> {
    const tag: TagAddress = parseTagName(text);
    const plc = this.service.plc;
    switch (tag.kind) {
      case "system":
        throw new TagError("ERR_S7_TAG_NOT_FOUND", `${text}: system tags are handled by the connection, not the controller`, { plc, tag: text });
      case "absolute":
        return { text, symbolic: false, plan: absolutePlan(tag, plc) };
      case "symbolic": {
        const resolved = await this.symbols.resolve(tag);
        const plan = symbolicPlan(resolved, formatTag(tag), plc);
        if (countLeaves(plan) > MAX_LEAVES) throw new ValueError(`${text}: ${formatPlcType(resolved.type)} has more than ${MAX_LEAVES} elements; read parts of it`, { plc, tag: text });
        this.symbolicTags.add(text);
        return { text, symbolic: true, plan };
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Plans

function absolutePlan(tag: AbsoluteTag, plc: string): Plan {
  return {
    kind: "leaf",
    address: absoluteAddress(tag),
    decode: (v) => decodeAbsolute(tag, v, plc),
    encode: (value) => encodeAbsolute(tag, value, plc),
  };
}

function symbolicPlan(resolved: ResolvedTag, label: string, plc: string): Plan {
  const build = (type: PlcType, address: ItemAddress, path: string): Plan => {
    if (isSingleValueType(type)) {
      const ctx = { tag: resolved.text, plc, label: path };
      return { kind: "leaf", address, decode: (v) => decodeValue(type, v, ctx), encode: (value) => encodeValue(type, value, ctx) };
    }
    // Members of an expanded struct are addressed without a CRC (0 = no check, docs/PROTOCOL.md §19.5).
    const child = (lids: number[]): ItemAddress => ({ ...address, symbolCrc: 0, lids: [...address.lids, ...lids] });
    if (type.kind === "struct") {
      return { kind: "struct", members: type.members.map((m) => [m.name, build(m.type, child([m.lid]), `${path}.${m.name}`)] as [string, Plan]) };
    }
    if (type.kind === "array") {
      const elements: Plan[] = [];
      const n = elementCount(type);
      for (let i = 0; i < n; i++) {
        const lids = type.element.kind === "struct" ? [i, 1] : [i];
        elements.push(build(type.element, child(lids), `${path}[${i}]`));
      }
      return { kind: "array", type, elements };
    }
    throw new ValueError(`${resolved.text}: ${formatPlcType(type)} cannot be read`, { plc, tag: resolved.text });
  };
  return build(resolved.type, resolved.address, label);
}

function* leaves(plan: Plan): Generator<Extract<Plan, { kind: "leaf" }>> {
  if (plan.kind === "leaf") yield plan;
  else if (plan.kind === "struct") for (const [, m] of plan.members) yield* leaves(m);
  else for (const e of plan.elements) yield* leaves(e);
}

function countLeaves(plan: Plan): number {
  if (plan.kind === "leaf") return 1;
  if (plan.kind === "struct") return plan.members.reduce((n, [, m]) => n + countLeaves(m), 0);
  return plan.elements.reduce((n, e) => n + countLeaves(e), 0);
}

function assemble(plan: Plan, next: () => PValue): unknown {
  if (plan.kind === "leaf") return plan.decode(next());
  if (plan.kind === "struct") {
    const out: Record<string, unknown> = {};
    for (const [name, m] of plan.members) out[name] = assemble(m, next);
    return out;
  }
  const flat = plan.elements.map((e) => assemble(e, next));
  return nestArray(flat, plan.type);
}

/** The items of a write, every value checked; struct values may name a subset of the members. */
function flattenWrite(plan: Plan, value: unknown, path: string): { address: ItemAddress; value: PValue }[] {
  if (plan.kind === "leaf") return [{ address: plan.address, value: plan.encode(value) }];
  if (plan.kind === "struct") {
    if (value === null || typeof value !== "object" || Array.isArray(value) || value instanceof Date || Buffer.isBuffer(value)) {
      throw new ValueError(`${path}: ${formatValue(value)} is not an object with member values`, { tag: path });
    }
    const given = value as Record<string, unknown>;
    const known = new Set(plan.members.map(([n]) => n));
    const unknown = Object.keys(given).filter((k) => !known.has(k));
    if (unknown.length > 0) throw new ValueError(`${path}: no member ${unknown.map((u) => `"${u}"`).join(", ")}`, { tag: path });
    return plan.members.filter(([n]) => n in given).flatMap(([n, m]) => flattenWrite(m, given[n], `${path}.${n}`));
  }
  const flat = flattenArray(plan.type, value, { tag: path });
  return plan.elements.flatMap((e, i) => flattenWrite(e, flat[i], `${path}[${i}]`));
}

/** Errors of the connection or the controller as a whole, as opposed to one tag's name or value. */
function isConnectionFailure(err: unknown): boolean {
  return err instanceof S7Error && CONNECTION_FAILURES.has(err.code);
}

const CONNECTION_FAILURES: ReadonlySet<string> = new Set([
  "ERR_S7_CONNECT",
  "ERR_S7_CONNECTION_CLOSED",
  "ERR_S7_CLOSED",
  "ERR_S7_TIMEOUT",
  "ERR_S7_PROTOCOL",
  "ERR_S7_DECODE",
  "ERR_S7_TLS",
  "ERR_S7_SYSTEM_EVENT",
  "ERR_S7_OVERLOAD",
]);

function asError(err: unknown, tag: string, plc: string): S7Error {
  if (err instanceof S7Error) return err;
  return new ValueError(`${tag}: ${err instanceof Error ? err.message : String(err)}`, { plc, tag });
}
