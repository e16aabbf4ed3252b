/**
 * Symbol CRC (docs/PROTOCOL.md §19.5): CRC-32 with polynomial 0xF4ACFB13,
 * MSB-first, initial value 0, no final XOR. A path element's "inner" CRC
 * covers its name and typecode; the SymbolCrc chains the inner values.
 */
import { Softdatatype } from "./constants.js";

export const SYMBOL_CRC_POLY = 0xf4acfb13;

const TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ SYMBOL_CRC_POLY : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** The lookup table (entry 1 is the polynomial). */
export function crcTable(): Uint32Array {
  return TABLE.slice();
}

/** CRC over `data`, continuing from `crc` (0 to start). */
export function symbolCrc32(data: Uint8Array, crc = 0): number {
  let c = crc >>> 0;
  for (let i = 0; i < data.length; i++) c = ((c << 8) ^ TABLE[((c >>> 24) ^ data[i]!) & 0xff]!) >>> 0;
  return c;
}

function le32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0, 0);
  return b;
}

function typecodeForCrc(softdatatype: number): number {
  return softdatatype === Softdatatype.BBool ? Softdatatype.Bool : softdatatype;
}

/** Inner CRC of a scalar, struct or UDT member: CRC(UTF-8 name ++ typecode). */
export function memberInnerCrc(name: string, softdatatype: number): number {
  return symbolCrc32(Buffer.concat([Buffer.from(name, "utf8"), Buffer.from([typecodeForCrc(softdatatype) & 0xff])]));
}

/** Inner CRC of an array member: CRC(name ++ 0x10 ++ element typecode ++ lowerBound Int32 LE). */
export function arrayMemberInnerCrc(name: string, elementSoftdatatype: number, lowerBound: number): number {
  const lb = Buffer.alloc(4);
  lb.writeInt32LE(lowerBound | 0, 0);
  return symbolCrc32(
    Buffer.concat([Buffer.from(name, "utf8"), Buffer.from([Softdatatype.Array, typecodeForCrc(elementSoftdatatype) & 0xff]), lb]),
  );
}

/** The separator byte between path elements. */
export const PATH_SEPARATOR = 0x89;

/** SymbolCrc of a path given the inner CRC of each element (outermost first; the DB name is not part of it). */
export function chainSymbolCrc(inners: readonly number[]): number {
  if (inners.length === 0) throw new RangeError("a symbol path needs at least one element");
  let c = symbolCrc32(le32(inners[0]!));
  for (let i = 1; i < inners.length; i++) c = symbolCrc32(Buffer.concat([Buffer.from([PATH_SEPARATOR]), le32(inners[i]!)]), c);
  return c;
}

/** One element of a symbol path. */
export type SymbolPathElement =
  | { name: string; softdatatype: number }
  | { name: string; array: { elementSoftdatatype: number; lowerBound: number } };

/** SymbolCrc of a member path (e.g. [{name:"DTL",softdatatype:67},{name:"YEAR",softdatatype:53}]). */
export function symbolCrc(path: readonly SymbolPathElement[]): number {
  return chainSymbolCrc(
    path.map((e) =>
      "array" in e ? arrayMemberInnerCrc(e.name, e.array.elementSoftdatatype, e.array.lowerBound) : memberInnerCrc(e.name, e.softdatatype),
    ),
  );
}
