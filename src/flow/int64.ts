/** Applies the 64-bit option to a value tree (BigInt does not survive JSON, docs/NODES.md §6). */
import type { Int64Mode } from "../client/results.js";

export function applyInt64Mode(value: unknown, mode: Int64Mode): unknown {
  if (mode === "bigint") return value;
  if (typeof value === "bigint") return mode === "string" ? value.toString() : Number(value);
  if (Array.isArray(value)) return value.map((v) => applyInt64Mode(v, mode));
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = applyInt64Mode(v, mode);
    return out;
  }
  return value;
}
