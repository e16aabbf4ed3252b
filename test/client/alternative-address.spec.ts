import { strict as assert } from "node:assert";
import { parseAlternativeAddress, formatAlternativeAddress, parsePort } from "../../src/client/alternative-address.js";
import { ConfigError } from "../../src/errors.js";

describe("AlternativeAddress system tag", () => {
  it("parses WinCC's form and our Port extension, keys case-insensitive", () => {
    assert.deepEqual(parseAlternativeAddress("AccessPoint=eth1; IPAddress=192.0.2.20;"), {
      host: "192.0.2.20",
      port: 102,
      accessPoint: "eth1",
    });
    assert.deepEqual(parseAlternativeAddress("ipaddress=127.0.0.1;PORT=1102"), { host: "127.0.0.1", port: 1102, accessPoint: "" });
    assert.deepEqual(parseAlternativeAddress("IPAddress=::1; Port=10102;"), { host: "::1", port: 10102, accessPoint: "" });
  });

  it("treats an empty string as no alternative", () => {
    assert.equal(parseAlternativeAddress(""), undefined);
    assert.equal(parseAlternativeAddress("  "), undefined);
  });

  const bad: Array<[string, RegExp]> = [
    ["IPAddress=192.0.2.20; Colour=red;", /unknown key "Colour"/],
    ["IPAddress=plc.example;", /"plc.example" is not an IP address/],
    ["IPAddress=192.0.2.999;", /"192.0.2.999" is not an IP address/],
    ["AccessPoint=eth1;", /IPAddress missing/],
    ["IPAddress=192.0.2.1; Port=0;", /Port must be a whole number 1\.\.65535, got "0"/],
    ["IPAddress=192.0.2.1; Port=70000;", /got "70000"/],
    ["IPAddress=192.0.2.1; ipaddress=192.0.2.2", /given twice/],
    ["192.0.2.1", /not of the form Key=Value/],
  ];
  for (const [text, reason] of bad) {
    it(`rejects ${JSON.stringify(text)} with a ConfigError naming the problem`, () => {
      assert.throws(() => parseAlternativeAddress(text), (err: unknown) => err instanceof ConfigError && reason.test(err.message));
    });
  }

  it("formats back to a string that parses to the same address", () => {
    for (const text of ["AccessPoint=eth1; IPAddress=192.0.2.20;", "IPAddress=127.0.0.1; Port=1102;"]) {
      const parsed = parseAlternativeAddress(text)!;
      assert.equal(formatAlternativeAddress(parsed), text);
      assert.deepEqual(parseAlternativeAddress(formatAlternativeAddress(parsed)), parsed);
    }
  });

  it("parses ports from numbers and strings only when whole and in range", () => {
    assert.equal(parsePort(102), 102);
    assert.equal(parsePort(" 1102 "), 1102);
    for (const v of [0, 65536, 1.5, "12a", "", null]) assert.throws(() => parsePort(v), ConfigError);
  });
});
