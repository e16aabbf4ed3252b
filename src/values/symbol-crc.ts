/** The symbol-CRC path element of a member (docs/PROTOCOL.md §19.5), shared by the client and the simulator. */
import { Softdatatype } from "../protocol/constants.js";
import type { SymbolPathElement } from "../protocol/crc.js";
import { SOFTDATATYPE, softdatatypeOf, type PlcType } from "./plc-type.js";

export function symbolPathElement(name: string, type: PlcType): SymbolPathElement {
  if (type.kind === "array") {
    const el = type.element;
    const elementSoftdatatype = el.kind === "struct" ? Softdatatype.Struct : SOFTDATATYPE[el.name];
    return { name, array: { elementSoftdatatype, lowerBound: type.dimensions[0]!.lower } };
  }
  return { name, softdatatype: softdatatypeOf(type) };
}
