import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Simulator } from "../../src/simulator/simulator.js";
import { connectionNode, helper, NODES, simConfig, TAB, tempDir, trustSimulator, until } from "../support/node-red.js";

/** More FIFOs than libuv has pool threads (4 by default): a blocking read of each would starve every file operation. */
const FIFOS = 8;

/** Resolves with `p`, or fails naming `what` when it has not settled after `ms` (a hang, not a speed limit). */
function settles<T>(what: string, p: PromiseLike<T>, ms = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    Promise.resolve(p).finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} hung`)), ms);
    }),
  ]);
}

describe("Node-RED: FIFOs in one connection's store do not stall another connection (docs/RELIABILITY-MATRIX.md: store, regular files only)", function () {
  this.timeout(60_000);
  let plc1: Simulator;
  let plc2: Simulator;
  let hostile: string;
  let healthy: string;

  before(async () => {
    plc1 = await Simulator.start(simConfig("PLC1"));
    plc2 = await Simulator.start(simConfig("PLC2"));
  });
  after(async () => {
    await plc1.stop();
    await plc2.stop();
  });
  beforeEach(async () => {
    hostile = tempDir("s7-fifo-");
    healthy = tempDir("s7-ok-");
    trustSimulator(hostile, plc1);
    trustSimulator(healthy, plc2);
    for (let i = 0; i < FIFOS; i++) {
      execFileSync("mkfifo", [path.join(hostile, "trusted", "crl", `pipe${i}.crl`)]);
      execFileSync("mkfifo", [path.join(hostile, i % 2 ? "trusted" : "untrusted", `pipe${i}.der`)]);
    }
    await helper.startServer();
  });
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
    fs.rmSync(hostile, { recursive: true, force: true });
    fs.rmSync(healthy, { recursive: true, force: true });
  });

  const flow = (): Record<string, unknown>[] => [TAB, connectionNode("c1", "PLC1", plc1, hostile), connectionNode("c2", "PLC2", plc2, healthy)];

  it("both connect; the FIFOs are logged once each; each certificates endpoint answers, the hostile one with its problem lines; a redeploy completes and answers again", async () => {
    await settles("the first deploy", helper.load(NODES, flow()));
    await until("both controllers connected", () => plc1.stats.connectionsOpen >= 1 && plc2.stats.connectionsOpen >= 1, 15_000);
    // The helper's warn spy is shared by all nodes: each call's `this` says which node warned.
    type WarnSpy = { getCalls(): { thisValue: { id: string }; args: unknown[] }[] };
    const warned = (id: string): string[] =>
      (helper.getNode(id) as unknown as { warn: WarnSpy }).warn.getCalls().filter((c) => c.thisValue.id === id).map((c) => String(c.args[0]));
    await until("the hostile store's problems in the log", () => warned("c1").filter((w) => /a FIFO, not a regular file/.test(w)).length === 2 * FIFOS);
    assert.deepEqual(warned("c2").filter((w) => /FIFO/.test(w)), [], "the healthy connection logs no problem of the other store");
    for (let round = 0; round < 2; round++) {
      const ok = await settles("the healthy connection's certificates endpoint", helper.request().get("/s7-secure/c2/certificates"));
      assert.equal(ok.status, 200);
      const okBody = ok.body as { trusted: { file: string }[]; problems: string[] };
      assert.deepEqual(okBody.trusted.map((c) => c.file), ["trusted/PLC2.der"]);
      assert.deepEqual(okBody.problems, []);
      const bad = await settles("the hostile connection's certificates endpoint", helper.request().get("/s7-secure/c1/certificates"));
      assert.equal(bad.status, 200);
      const badBody = bad.body as { trusted: { file: string }[]; problems: string[] };
      assert.deepEqual(badBody.trusted.map((c) => c.file), ["trusted/PLC1.der"]);
      assert.equal(badBody.problems.filter((p) => /a FIFO, not a regular file/.test(p)).length, 2 * FIFOS, badBody.problems.join(" | "));
      // A redeploy: everything stops and starts again.
      await settles("unloading the flow", helper.unload());
      await settles("the redeploy", helper.load(NODES, flow()));
      await until("both controllers connected again", () => plc1.stats.connectionsOpen >= 1 && plc2.stats.connectionsOpen >= 1, 15_000);
    }
  });
});
