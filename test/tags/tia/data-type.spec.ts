import { strict as assert } from "node:assert";
import { parseDataType } from "../../../src/tags/tia/data-type.js";

describe("TIA Portal data type names", () => {
  it("reads elementary, sized string, struct, UDT, system and array types", () => {
    assert.deepEqual(parseDataType("Int"), { kind: "elementary", name: "Int", byteSize: 2 });
    assert.deepEqual(parseDataType("bool"), { kind: "elementary", name: "bool", byteSize: 0 });
    assert.deepEqual(parseDataType("String[20]"), { kind: "elementary", name: "String[20]", byteSize: undefined });
    assert.deepEqual(parseDataType("Struct"), { kind: "struct" });
    assert.deepEqual(parseDataType('"Motor_UDT"'), { kind: "udt", name: "Motor_UDT" });
    assert.deepEqual(parseDataType("IEC_TIMER"), { kind: "system", name: "IEC_TIMER" });
    assert.deepEqual(parseDataType("DTL:v1.0"), { kind: "elementary", name: "DTL", byteSize: undefined }, "the library version of older exports is dropped");
    assert.deepEqual(parseDataType("Array[0..9] of Int"), { kind: "array", bounds: [{ low: 0, high: 9 }], elementType: "Int" });
    assert.deepEqual(parseDataType('Array[-1..1, 0..2] of "Motor_UDT"'), { kind: "array", bounds: [{ low: -1, high: 1 }, { low: 0, high: 2 }], elementType: '"Motor_UDT"' });
  });

  it("gives undefined for what TIA Portal does not write", () => {
    for (const bad of ["Intt", "Motor_UDT", "Array[0..9] of Foo", "Array[5..1] of Int", "Array[0..#N] of Int", "Array[0..1] of Array[0..1] of Int", '"unterminated', ""]) {
      assert.equal(parseDataType(bad), undefined, bad);
    }
  });
});
