import { strict as assert } from "node:assert";
import { FrameParser, encodeFrames, encodeFrame, encodeSystemEvent, decodeSingleFrame, type FramedMessage } from "../../src/protocol/frame.js";
import { fromHex, toHex } from "../../src/protocol/bytes.js";
import { ProtocolError } from "../../src/errors.js";
import { seededRandom } from "../../scripts/support/random.js";

// test/fixtures/vectors/README.md §2.1: the InitSsl request frame (CS/JS).
const INIT_SSL = fromHex("72 01 00 12 31 00 00 05 b3 00 00 00 01 00 00 01 20 30 00 00 00 00 72 01 00 00");
// test/fixtures/vectors/README.md §15: the harmless 16-byte SystemEvent confirmation.
const CONFIRMATION = fromHex("72 fe 00 10 00 00 00 00 00 00 00 40 00 00 00 00 00 00 00 00");

function pdus(messages: FramedMessage[]): string[] {
  return messages.map((m) => (m.kind === "pdu" ? `pdu v${m.version} ${toHex(m.pdu)}` : `${m.kind} ${toHex(m.data)}`));
}

describe("S7CommPlus framing (docs/PROTOCOL.md §5)", () => {
  it("decodes the InitSsl vector and re-encodes it byte for byte", () => {
    const { version, pdu } = decodeSingleFrame(INIT_SSL);
    assert.equal(version, 1);
    assert.equal(toHex(pdu), "31 00 00 05 b3 00 00 00 01 00 00 01 20 30 00 00 00 00");
    assert.deepEqual(encodeFrame(version, pdu), INIT_SSL);
  });

  it("fragments a PDU into frames of the given size with the trailer only on the last", () => {
    const pdu = seededRandom(7).bytes(2500);
    const frames = encodeFrames(2, pdu, 987);
    assert.deepEqual(frames.map((f) => f.length), [991, 991, 4 + 526 + 4]);
    assert.equal(toHex(frames[0]!.subarray(0, 4)), "72 02 03 db");
    assert.equal(toHex(frames[2]!.subarray(-4)), "72 02 00 00");
    const out = new FrameParser().push(Buffer.concat(frames));
    assert.equal(out.length, 1);
    assert.deepEqual(out[0], { kind: "pdu", version: 2, pdu, fragments: 3 });
  });

  it("gives identical results whether the stream is split at every byte or arrives in one chunk", () => {
    const rnd = seededRandom(11);
    const first = rnd.bytes(3000);
    const second = rnd.bytes(40);
    const stream = Buffer.concat([...encodeFrames(2, first, 979), CONFIRMATION, ...encodeFrames(2, second, 979), INIT_SSL]);
    const whole = pdus(new FrameParser().push(stream));
    assert.equal(whole.length, 4);
    const bytewise = new FrameParser();
    const collected: FramedMessage[] = [];
    for (const byte of stream) collected.push(...bytewise.push(Buffer.of(byte)));
    assert.deepEqual(pdus(collected), whole);
    for (let cut = 1; cut < stream.length; cut += 97) {
      const parser = new FrameParser();
      const parts = [...parser.push(stream.subarray(0, cut)), ...parser.push(stream.subarray(cut))];
      assert.deepEqual(pdus(parts), whole, `split at ${cut}`);
    }
  });

  it("delivers a SystemEvent that arrives between two fragments and keeps the partial PDU", () => {
    const pdu = seededRandom(3).bytes(100);
    const [a, b] = encodeFrames(2, pdu, 60);
    const out = pdus(new FrameParser().push(Buffer.concat([a!, CONFIRMATION, b!])));
    assert.deepEqual(out, [`systemEvent ${toHex(CONFIRMATION.subarray(4))}`, `pdu v2 ${toHex(pdu)}`]);
    assert.deepEqual(encodeSystemEvent(CONFIRMATION.subarray(4)), CONFIRMATION);
  });

  it("refuses a wrong magic byte, an unknown version and a stray trailer with ProtocolError", () => {
    assert.throws(() => new FrameParser().push(fromHex("73 02 00 01 00")), ProtocolError);
    assert.throws(() => new FrameParser().push(fromHex("72 07 00 01 00")), /unknown S7CommPlus protocol version 0x07/);
    assert.throws(() => new FrameParser().push(fromHex("72 02 00 00")), /trailer without/);
  });

  it("stops endless fragments at the PDU cap without buffering past it, and stays failed", () => {
    const parser = new FrameParser({ maxPduBytes: 4096 });
    const fragment = Buffer.concat([fromHex("72 02 03 e8"), Buffer.alloc(1000)]);
    assert.throws(() => {
      for (let i = 0; i < 10; i++) parser.push(fragment);
    }, /larger than the 4096-byte limit/);
    assert.ok(parser.heldBytes <= 4096 + fragment.length);
    assert.throws(() => parser.push(INIT_SSL), ProtocolError);
  });

  it("does not emit a PDU before its trailer has arrived", () => {
    const parser = new FrameParser();
    assert.deepEqual(parser.push(INIT_SSL.subarray(0, INIT_SSL.length - 1)), []);
    assert.equal(parser.hasPartialPdu, false);
    assert.equal(parser.push(INIT_SSL.subarray(-1)).length, 1);
  });
});
