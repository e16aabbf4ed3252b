/**
 * Absolute (ClassicBlob) access costs work in proportion to the bytes read,
 * not to the block (issue 16 point 3), counted by the tag table, over TLS on
 * 127.0.0.1.
 */
import { strict as assert } from "node:assert";
import type { ControllerSession } from "../../src/client/controller-session.js";
import { Simulator } from "../../src/simulator/simulator.js";
import type { MemberConfig } from "../../src/simulator/config.js";
import { openSession } from "./open-session.js";

/** `n` DInt members holding 1000 + their index: a block of 4·n bytes. */
function dints(n: number): MemberConfig[] {
  return Array.from({ length: n }, (_, i) => ({ name: `V${i}`, type: "DInt", value: 1000 + i }));
}

describe("simulator: absolute reads in proportion to the bytes read", function () {
  this.timeout(60_000);
  let sim: Simulator;
  let s: ControllerSession;
  before(async () => {
    sim = await Simulator.start({
      name: "PLC_CLASSIC",
      host: "127.0.0.1",
      port: 0,
      dataBlocks: [
        { name: "Small", number: 21, optimized: false, members: dints(16) }, // 64 bytes
        { name: "Large", number: 22, optimized: false, members: dints(16_384) }, // 64 KiB
      ],
    });
    s = await openSession(sim);
  });
  after(async () => {
    await s?.close();
    await sim?.stop();
  });

  async function workOf(action: () => Promise<void>): Promise<{ membersVisited: number; bytesBuilt: number }> {
    const before = { ...sim.table.classicWork };
    await action();
    return { membersVisited: sim.table.classicWork.membersVisited - before.membersVisited, bytesBuilt: sim.table.classicWork.bytesBuilt - before.bytesBuilt };
  }

  async function readOk(tag: string): Promise<unknown> {
    const [o] = await s.read([tag]);
    assert.ok(o!.ok, JSON.stringify(o));
    return o!.value;
  }

  it("4 bytes from a 64 KiB block cost no more than from a 64-byte block", async () => {
    assert.equal(sim.table.blockByName("Large")!.classicSize, 65_536);
    const small = await workOf(async () => assert.equal(await readOk("DB21.DBD32:DINT"), 1008));
    const large = await workOf(async () => assert.equal(await readOk("DB22.DBD32768:DINT"), 1000 + 8192));
    assert.deepEqual(small, { membersVisited: 1, bytesBuilt: 4 });
    assert.deepEqual(large, small);
  });

  it("a range across two members builds just those two, in either block", async () => {
    const small = await workOf(async () => assert.deepEqual([...((await readOk("DB21.DBB2[4]")) as Buffer)], [0x03, 0xe8, 0, 0]));
    const large = await workOf(async () => assert.deepEqual([...((await readOk("DB22.DBB65530[4]")) as Buffer)], [0x43, 0xe6, 0, 0]));
    assert.deepEqual(small, { membersVisited: 2, bytesBuilt: 8 });
    assert.deepEqual(large, small);
  });

  it("an absolute write changes only the covered members, at the same cost", async () => {
    const [w] = await s.write([{ tag: "DB22.DBB65531[2]", value: Buffer.from([0xab, 0xcd]) }]);
    assert.ok(w!.ok, JSON.stringify(w));
    // Byte 65531 is the low byte of V16382 (17382 = 00 00 43 e6), 65532 the high byte of V16383 (00 00 43 e7).
    assert.equal(sim.getValue("Large.V16382"), 0x000043ab);
    assert.equal(sim.getValue("Large.V16383"), 0xcd0043e7 | 0);
    assert.equal(sim.getValue("Large.V16381"), 1000 + 16_381);
    const work = await workOf(async () => void (await s.write([{ tag: "DB22.DBD4:DINT", value: -5 }])));
    assert.deepEqual(work, { membersVisited: 2, bytesBuilt: 4 }, "built once, decoded once");
    assert.equal(sim.getValue("Large.V1"), -5);
  });
});
