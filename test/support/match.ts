/** Partial structural matching of decoded messages against JSON expectations. */
import { strict as assert } from "node:assert";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Turns decoded values into JSON: bigint → "123n", Buffer → "hex:…", undefined dropped. */
export function normalize(v: unknown): Json {
  if (typeof v === "bigint") return `${v}n`;
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return `hex:${Buffer.from(v).toString("hex")}`;
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === "object") {
    const out: { [key: string]: Json } = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = normalize(x);
    return out;
  }
  if (v === undefined) return null;
  return v as Json;
}

/**
 * Every key of `expected` must be present in `actual` with a matching value;
 * arrays must have the same length and match element by element.
 */
export function assertPartial(actual: Json, expected: Json, path = "$"): void {
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array, got ${JSON.stringify(actual)}`);
    assert.equal(actual.length, expected.length, `${path}: array length`);
    expected.forEach((e, i) => assertPartial(actual[i]!, e, `${path}[${i}]`));
    return;
  }
  if (expected !== null && typeof expected === "object") {
    assert.ok(actual !== null && typeof actual === "object" && !Array.isArray(actual), `${path}: expected an object, got ${JSON.stringify(actual)}`);
    for (const [k, e] of Object.entries(expected)) {
      assert.ok(k in actual, `${path}.${k} missing in ${JSON.stringify(actual).slice(0, 200)}`);
      assertPartial(actual[k]!, e, `${path}.${k}`);
    }
    return;
  }
  assert.deepEqual(actual, expected, `${path}`);
}
