/**
 * The LID of an array element (docs/PROTOCOL.md §19.2, §20.6 step 6): the
 * offset of each subscript from its lower bound, rightmost varying fastest.
 * Multi-dimensional arrays of Bool (softdatatype BBOOL on a CPU) are padded:
 * the innermost dimension counts as the next multiple of 8, so element [1,0]
 * of `Array[0..1, 0..2] of Bool` is LID 8. This is the rule of both
 * hardware-validated drivers (docs/PROTOCOL-NOTES.md, "Where this client
 * follows the hardware-validated drivers"); one-dimensional arrays are never
 * padded. Client and simulator both use these two functions.
 */

export interface LidDimension {
  lower: number;
  count: number;
}

/** Elements per step of the outer dimensions' last subscript. */
function innerStride(dimensions: readonly LidDimension[], padBool: boolean): number {
  const inner = dimensions[dimensions.length - 1]!.count;
  return padBool && dimensions.length > 1 ? Math.ceil(inner / 8) * 8 : inner;
}

/**
 * The element LID for zero-based offsets (one per dimension, outermost
 * first, each already checked against its count).
 * @param padBool the element type is Bool
 */
export function arrayElementLid(dimensions: readonly LidDimension[], offsets: readonly number[], padBool: boolean): number {
  const last = dimensions.length - 1;
  let outer = 0;
  for (let d = 0; d < last; d++) outer = outer * dimensions[d]!.count + offsets[d]!;
  return outer * innerStride(dimensions, padBool) + offsets[last]!;
}

/**
 * The element's position in row-major order (rightmost fastest, no padding)
 * for a LID, or undefined when the LID is a padding gap or past the end.
 */
export function arrayElementPosition(dimensions: readonly LidDimension[], lid: number, padBool: boolean): number | undefined {
  if (!Number.isInteger(lid) || lid < 0) return undefined;
  const inner = dimensions[dimensions.length - 1]!.count;
  const stride = innerStride(dimensions, padBool);
  const row = Math.floor(lid / stride);
  const column = lid % stride;
  const rows = dimensions.slice(0, -1).reduce((n, d) => n * d.count, 1);
  if (column >= inner || row >= rows) return undefined;
  return row * inner + column;
}
