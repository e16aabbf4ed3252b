/** The record-boundary counters the simulator reports (issue 21 point 2). */
import { strict as assert } from "node:assert";
import { RecordBoundaryCounter, emptyFramingStats } from "../../src/transport/framing-stats.js";
import { framesInRecord, encodeFrames } from "../../src/protocol/frame.js";

function record(bodyLength: number): Buffer {
  const r = Buffer.alloc(5 + bodyLength, 0xaa);
  r[0] = 0x17;
  r[1] = 3;
  r[2] = 3;
  r.writeUInt16BE(bodyLength, 3);
  return r;
}

describe("transport: DT / TLS record counters", () => {
  it("one record per DT with EOT = 1 leaves the fault counters at zero", () => {
    const c = new RecordBoundaryCounter(emptyFramingStats());
    for (const n of [100, 1012, 3]) c.onDt(7 + 5 + n, true, record(n));
    assert.deepEqual(c.stats, { dts: 3, dtsWithoutEot: 0, records: 3, recordsOverSeveralDts: 0, dtsWithSeveralRecords: 0, largestPacket: 1024 });
  });

  it("a record over three DTs (EOT = 0 on the first two) and two records in one DT are counted, header cut included", () => {
    const c = new RecordBoundaryCounter(emptyFramingStats());
    const big = record(2500);
    c.onDt(7 + 3, false, big.subarray(0, 3)); // cut inside the record header
    c.onDt(7 + 1500, false, big.subarray(3, 1503));
    c.onDt(7 + big.length - 1503, true, big.subarray(1503));
    c.onDt(7 + 30, true, Buffer.concat([record(10), record(10)]));
    c.onDt(7, false, Buffer.alloc(0)); // an empty DT
    assert.deepEqual(c.stats, { dts: 5, dtsWithoutEot: 3, records: 3, recordsOverSeveralDts: 1, dtsWithSeveralRecords: 1, largestPacket: 1507 });
  });

  it("framesInRecord: one fragment (with or without trailer), several, or a cut → 1, n, −1", () => {
    const [first, second] = encodeFrames(2, Buffer.alloc(20, 1), 12);
    assert.equal(framesInRecord(first!), 1);
    assert.equal(framesInRecord(second!), 1, "the last fragment with its trailer");
    assert.equal(framesInRecord(Buffer.concat([first!, second!])), 2);
    assert.equal(framesInRecord(first!.subarray(0, 10)), -1);
    assert.equal(framesInRecord(Buffer.from([0x72, 2, 0, 0])), -1, "a trailer alone");
    assert.equal(framesInRecord(Buffer.from([0x17, 3, 3, 0])), -1);
  });
});
