import { strict as assert } from "node:assert";
import { parseControllerIdentity } from "../../src/protocol/firmware.js";

describe("controller identity from the PAOM string", () => {
  const cases: Array<[string, string, string, string, boolean, string]> = [
    // docs/PROTOCOL.md §13.2 / docs/SIMULATOR.md §7 examples
    ["1;6ES7 511-1AK02-0AB0;V3.1", "6ES7 511-1AK02-0AB0", "3.1", "S7-1500", true, "new"],
    ["1;6ES7 511-1AK02-0AB0;V2.9", "6ES7 511-1AK02-0AB0", "2.9", "S7-1500", true, "legacy"],
    ["1;6ES7 512-1CK01-0AB0;V2.9", "6ES7 512-1CK01-0AB0", "2.9", "S7-1500", true, "legacy"],
    ["1;6ES7 511-1AK00-0AB0;V1.0", "6ES7 511-1AK00-0AB0", "1.0", "S7-1500", false, "legacy"],
    ["1;6ES7 214-1AG40-0XB0 ;V4.7", "6ES7 214-1AG40-0XB0", "4.7", "S7-1200", true, "new"],
    ["1;6ES7 211-1BE31-0XB0 ;V3.0", "6ES7 211-1BE31-0XB0", "3.0", "S7-1200", false, "legacy"],
    ["1;6ES7 214-1AG40-0XB0 ;V4.5", "6ES7 214-1AG40-0XB0", "4.5", "S7-1200", true, "legacy"],
    ["1;6ES7 212-1AE50-0XB0;V1.0", "6ES7 212-1AE50-0XB0", "1.0", "S7-1200 G2", true, "new"],
    ["1;6ES7 672-5DC01-0YA0;V21.9", "6ES7 672-5DC01-0YA0", "21.9", "Software Controller", true, "legacy"],
    ["1;6ES7 511-1AK02-0AB0;V10.12", "6ES7 511-1AK02-0AB0", "10.12", "S7-1500", true, "new"],
  ];
  for (const [paom, order, fw, family, secure, method] of cases) {
    it(`${paom} → ${family} FW ${fw}, ${method} legitimation`, () => {
      const id = parseControllerIdentity(paom);
      assert.deepEqual(
        [id.orderNumber, id.firmware, id.family, id.secureCommunication, id.legitimation],
        [order, fw, family, secure, method],
      );
    });
  }

  it("reports an unparsable string as unknown without throwing", () => {
    const id = parseControllerIdentity("2;288");
    assert.equal(id.family, "unknown");
    assert.equal(id.orderNumber, "");
  });
});
