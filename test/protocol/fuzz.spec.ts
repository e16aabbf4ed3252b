import { strict as assert } from "node:assert";
import { fromHex } from "../../src/protocol/bytes.js";
import { S7Error } from "../../src/errors.js";
import { decodeSingleFrame } from "../../src/protocol/frame.js";
import { decodePdu } from "../../src/protocol/pdu.js";
import { readFixtureJson } from "../../scripts/support/fixtures.js";
import { seededRandom } from "../../scripts/support/random.js";
import { DECODERS } from "../../scripts/support/decoders.js";

const { vectors } = readFixtureJson<{ vectors: { hex: string; kind: string; trailer: boolean }[] }>("vectors", "pdus.json");
const PDUS: Buffer[] = vectors
  .filter((v) => v.kind === "pdu" && v.trailer)
  .map((v) => decodeSingleFrame(fromHex(v.hex)).pdu);

/** Runs `decode`; anything but success or an S7Error fails the test. */
function onlyTypedErrors(name: string, decode: (b: Buffer) => unknown, input: Buffer): void {
  try {
    decode(input);
  } catch (err) {
    assert.ok(err instanceof S7Error, `${name} threw ${(err as Error)?.name}: ${(err as Error)?.message} for ${input.toString("hex").slice(0, 120)}`);
  }
}


describe("decoders on hostile input throw only typed errors", function () {
  this.timeout(20000);

  for (const [name, decode] of DECODERS) {
    it(`${name}: 3000 random inputs (biased towards protocol bytes)`, () => {
      const rnd = seededRandom(name.length * 7919);
      const alphabet = [0x00, 0x01, 0x02, 0x10, 0x14, 0x15, 0x17, 0x20, 0x31, 0x32, 0x33, 0x40, 0x80, 0x8f, 0x90, 0xa1, 0xa2, 0xa3, 0xa4, 0xa7, 0xa8, 0xab, 0xac, 0xff];
      for (let i = 0; i < 3000; i++) {
        const len = rnd.int(64);
        const b = Buffer.alloc(len);
        for (let k = 0; k < len; k++) b[k] = rnd.int(3) === 0 ? rnd.u32() & 0xff : alphabet[rnd.int(alphabet.length)]!;
        onlyTypedErrors(name, decode, b);
      }
    });
  }

  it("decodePdu: every truncation of every vector PDU", () => {
    let n = 0;
    for (const pdu of PDUS) {
      for (let len = 0; len < pdu.length; len++) {
        onlyTypedErrors("decodePdu", decodePdu, pdu.subarray(0, len));
        n++;
      }
    }
    assert.ok(n > 3000);
  });

  it("decodePdu: 6000 byte mutations of the vector PDUs", () => {
    const rnd = seededRandom(0xbad);
    for (let i = 0; i < 6000; i++) {
      const pdu = Buffer.from(PDUS[rnd.int(PDUS.length)]!);
      const flips = 1 + rnd.int(3);
      for (let k = 0; k < flips; k++) pdu[rnd.int(pdu.length)] = rnd.u32() & 0xff;
      onlyTypedErrors("decodePdu", decodePdu, pdu);
    }
  });

  it("the body decoders fed the mutated bodies of the vectors", () => {
    const rnd = seededRandom(0xfeed);
    for (let i = 0; i < 3000; i++) {
      const pdu = PDUS[rnd.int(PDUS.length)]!;
      const body = Buffer.from(pdu.subarray(Math.min(pdu.length, 10 + rnd.int(8))));
      if (body.length > 0) body[rnd.int(body.length)] = rnd.u32() & 0xff;
      for (const [name, decode] of DECODERS) onlyTypedErrors(name, decode, body);
    }
  });
});
