/**
 * One S7CommPlus fragment per TLS record, one record per DT with EOT = 1
 * (issue 21 point 2), counted at the simulator on 127.0.0.1, and the
 * simulator's strict mode refusing a record of several fragments.
 */
import { strict as assert } from "node:assert";
import { encodeFrames } from "../../src/protocol/frame.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { openSecureChannel } from "../../src/transport/client-channel.js";
import { PinnedVerifier } from "../support/pinned-verifier.js";
import { openSession } from "./open-session.js";

const INTS = 2500; // 5 000 bytes of Int values in one write

describe("simulator: framing of large requests (one fragment per record, one record per DT)", function () {
  this.timeout(30_000);
  let sim: Simulator;
  before(async () => {
    sim = await Simulator.start({
      name: "PLC_FRAMING",
      host: "127.0.0.1",
      port: 0,
      strictFraming: true,
      dataBlocks: [{ name: "Big", number: 7, members: [{ name: "Values", type: `Array[0..${INTS - 1}] of Int` }] }],
    });
  });
  after(async () => sim.stop());

  it("a 5 000-byte write leaves as one fragment per TLS record, each record in one DT with EOT = 1, within the TPDU size", async () => {
    const s = await openSession(sim);
    try {
      const before = sim.stats.framing;
      const value = Array.from({ length: INTS }, (_, i) => (i * 7) % 30_000);
      const [outcome] = await s.write([{ tag: "Big.Values", value }]);
      assert.equal(outcome!.ok, true, JSON.stringify(outcome));
      const after = sim.stats.framing;
      const records = after.records - before.records;
      const dts = after.dts - before.dts;
      // The request alone is more than 5 000 bytes: at least six fragments of at most 987 data bytes.
      assert.ok(records >= 6, `${records} records for a 5 000-byte value`);
      assert.equal(dts, records, "one DT per record");
      assert.equal(after.dtsWithoutEot, 0, "no DT with EOT = 0");
      assert.equal(after.recordsOverSeveralDts, 0, "no record cut over DTs");
      assert.equal(after.dtsWithSeveralRecords, 0, "no DT with two records");
      assert.equal(after.recordsNotOneFragment, 0, "one S7CommPlus fragment per record");
      assert.equal(after.connectionsRefused, 0);
      assert.ok(after.largestPacket <= 1024 + 4, `a TPKT packet of ${after.largestPacket} bytes exceeds the negotiated 1 024 + 4`);
      assert.ok(after.largestPacket > 1000, "the fragments fill the TPDU");
      assert.deepEqual(sim.getValue("Big.Values"), value);
    } finally {
      await s.close();
    }
  });

  it("strict mode resets a connection that puts two fragments into one TLS record, and counts it", async () => {
    const before = sim.stats.framing;
    const ch = await openSecureChannel({ host: "127.0.0.1", port: sim.port, plc: "X", verifier: new PinnedVerifier(sim.fingerprint256) });
    const closed = new Promise<void>((resolve) => ch.once("close", () => resolve()));
    ch.start();
    // Two fragments of one PDU written as a single record, as Node's TLS socket does when writes pile up.
    ch.writeRaw(Buffer.concat(encodeFrames(2, Buffer.alloc(600, 0x31), 400)));
    await closed;
    const after = sim.stats.framing;
    assert.equal(after.recordsNotOneFragment - before.recordsNotOneFragment, 1);
    assert.equal(after.connectionsRefused - before.connectionsRefused, 1);
  });
});
