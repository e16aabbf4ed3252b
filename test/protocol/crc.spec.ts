import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { arrayMemberInnerCrc, chainSymbolCrc, crcTable, memberInnerCrc, symbolCrc, symbolCrc32 } from "../../src/protocol/crc.js";
import { decodePdu } from "../../src/protocol/pdu.js";
import type { ItemAddress } from "../../src/protocol/address.js";
import { fixturePath } from "../../scripts/support/fixtures.js";
import { readS7Messages } from "../../scripts/support/pcap.js";

describe("symbol CRC (docs/PROTOCOL.md §19.5, test/fixtures/vectors/README.md §12)", () => {
  it("table entry 1 is the polynomial 0xF4ACFB13", () => {
    assert.equal(crcTable()[1], 0xf4acfb13);
    assert.equal(crcTable()[1], 4104977171);
  });

  it("worked example Bool: inner = CRC('Bool' 01), SymbolCrc = CRC(LE32(inner))", () => {
    const inner = symbolCrc32(Buffer.from([0x42, 0x6f, 0x6f, 0x6c, 0x01]));
    assert.equal(inner, memberInnerCrc("Bool", 1));
    const le = Buffer.alloc(4);
    le.writeUInt32LE(inner);
    assert.equal(symbolCrc32(le), 0x0d81d0c8);
  });

  const table: [string, () => number, number][] = [
    ["Bool", () => symbolCrc([{ name: "Bool", softdatatype: 1 }]), 0x0d81d0c8],
    ["var1 Byte", () => symbolCrc([{ name: "var1", softdatatype: 2 }]), 0xa9bc66e6],
    ["Word1", () => symbolCrc([{ name: "Word1", softdatatype: 4 }]), 0xb233c3e7],
    ["Integer", () => symbolCrc([{ name: "Integer", softdatatype: 5 }]), 0xc1d9fc80],
    ["DInt", () => symbolCrc([{ name: "DInt", softdatatype: 7 }]), 0x706cb28d],
    ["Real", () => symbolCrc([{ name: "Real", softdatatype: 8 }]), 0xc856af6a],
    ["String", () => symbolCrc([{ name: "String", softdatatype: 0x13 }]), 0x340a3efe],
    ["LTime_Of_Day", () => symbolCrc([{ name: "LTime_Of_Day", softdatatype: 0x41 }]), 0xc34f54fc],
    ["Array_Byte", () => symbolCrc([{ name: "Array_Byte", array: { elementSoftdatatype: 2, lowerBound: 0 } }]), 0x8db85e63],
    ["DTL.YEAR", () => symbolCrc([{ name: "DTL", softdatatype: 0x43 }, { name: "YEAR", softdatatype: 0x35 }]), 0xb258a654],
    ["DTL.NANOSECOND", () => symbolCrc([{ name: "DTL", softdatatype: 0x43 }, { name: "NANOSECOND", softdatatype: 0x36 }]), 0xf4d39366],
    ["Struct.Struct_Word", () => symbolCrc([{ name: "Struct", softdatatype: 0x11 }, { name: "Struct_Word", softdatatype: 4 }]), 0x8667fe6e],
    ["Struct.Struct_Byte", () => symbolCrc([{ name: "Struct", softdatatype: 0x11 }, { name: "Struct_Byte", softdatatype: 2 }]), 0x98d5b4df],
    ["Test2 DInt", () => symbolCrc([{ name: "Test2", softdatatype: 7 }]), 0x4ca70840],
    ["TEST 3 Array[0..6] of Bool", () => symbolCrc([{ name: "TEST 3", array: { elementSoftdatatype: 1, lowerBound: 0 } }]), 0x0cc865fb],
    ["TEST 4.T4ChildBool", () => symbolCrc([{ name: "TEST 4", softdatatype: 0x11 }, { name: "T4ChildBool", softdatatype: 1 }]), 0x1ac12998],
    ["sintItems Array[1..10000] of SInt", () => symbolCrc([{ name: "sintItems", array: { elementSoftdatatype: 0x37, lowerBound: 1 } }]), 0x6e16f413],
    ["Speed Real", () => symbolCrc([{ name: "Speed", softdatatype: 8 }]), 0x888ec040],
  ];
  for (const [name, compute, expected] of table) {
    it(`${name} = 0x${expected.toString(16).padStart(8, "0")}`, () => assert.equal(compute(), expected));
  }

  it("inner values of the table: Test2 0x9E858004, Speed 0x8C95C2CE; BBOOL is hashed as Bool", () => {
    assert.equal(memberInnerCrc("Test2", 7), 0x9e858004);
    assert.equal(memberInnerCrc("Speed", 8), 0x8c95c2ce);
    assert.equal(memberInnerCrc("x", 40), memberInnerCrc("x", 1));
    assert.equal(chainSymbolCrc([arrayMemberInnerCrc("Array_Byte", 2, 0)]), 0x8db85e63);
  });

  it("reproduces all 40 SymbolCrcs of the S7-1511 all-types capture from the names and types in its .xml", () => {
    const xml = fs.readFileSync(fixturePath("captures", "S7-1511-opc-request-all-types.xml"), "utf8");
    const db6 = xml.slice(xml.indexOf('<dataBlock name="DB6"'), xml.indexOf("</dataBlock>", xml.indexOf('<dataBlock name="DB6"')));
    interface Tag {
      name: string;
      lid: number;
      rid: number;
      datatype: string;
      children: Tag[];
    }
    const top: Tag[] = [];
    let parent: Tag | undefined;
    for (const line of db6.split("\n")) {
      const m = /<dataTag name="([^"]+)".*datatype="([^"]+)".*lid="(\d+)" rid="(0x[0-9A-Fa-f]+)"(.*?)(\/?)>/.exec(line);
      if (m !== null) {
        const tag: Tag = { name: m[1]!, datatype: m[2]!, lid: Number(m[3]), rid: Number(m[4]), children: [] };
        if (parent !== undefined) parent.children.push(tag);
        else top.push(tag);
        if (m[6] !== "/") parent = tag;
      } else if (line.includes("</dataTag>")) parent = undefined;
    }
    const dtl: Record<number, [string, number]> = { 9: ["YEAR", 53], 10: ["MONTH", 52], 11: ["DAY", 52], 12: ["WEEKDAY", 52], 13: ["HOUR", 52], 14: ["MINUTE", 52], 15: ["SECOND", 52], 16: ["NANOSECOND", 54] };
    const element = (t: Tag): { name: string; softdatatype: number } | { name: string; array: { elementSoftdatatype: number; lowerBound: number } } => {
      if (t.rid >>> 24 === 0x92) return { name: t.name, softdatatype: 17 };
      if (((t.rid >>> 16) & 0xff) === 0x01) {
        const lb = Number(/Array\s*\[(-?\d+)\.\./.exec(t.datatype)![1]);
        return { name: t.name, array: { elementSoftdatatype: t.rid & 0xff, lowerBound: lb } };
      }
      return { name: t.name, softdatatype: t.rid & 0xff };
    };

    const read = readS7Messages(fixturePath("captures", "S7-1511-opc-request-all-types.pcap"))
      .flatMap((m) => (m.message.kind === "pdu" ? [decodePdu(m.message.pdu)] : []))
      .find((d) => d.kind === "request" && d.message.service === "GetMultiVariables" && d.message.body.addresses.length === 40);
    assert.ok(read !== undefined && read.kind === "request" && read.message.service === "GetMultiVariables");
    const addresses = read.message.body.addresses as ItemAddress[];
    let checked = 0;
    for (const a of addresses) {
      assert.equal(a.area, 0x8a0e0006);
      const t = top.find((x) => x.lid === a.lids[0]);
      assert.ok(t !== undefined, `LID ${a.lids[0]} in the XML`);
      const path = [element(t)];
      if (a.lids.length === 2) {
        if (t.name === "DTL") {
          const [n, sdt] = dtl[a.lids[1]!]!;
          path.push({ name: n, softdatatype: sdt });
        } else {
          const c = t.children.find((x) => x.lid === a.lids[1]);
          assert.ok(c !== undefined);
          path.push(element(c));
        }
      }
      assert.equal(symbolCrc(path).toString(16), a.symbolCrc.toString(16), `SymbolCrc of ${path.map((p) => p.name).join(".")}`);
      checked++;
    }
    assert.equal(checked, 40);
  });
});
