import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { main } from "../../src/cli/main.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { defaultSimulatorConfig, type SimulatorConfig } from "../../src/simulator/config.js";
import { collectingIO } from "../support/cli-io.js";
import { tempDir, trustSimulator, until } from "../support/node-red.js";

function config(): SimulatorConfig {
  return {
    ...defaultSimulatorConfig(),
    alarms: [
      { id: 3, text: { "en-US": "Pump on, valve @1%s@", "de-DE": "Pumpe an, Ventil @1%s@" }, class: "Warning", priority: 2, trigger: "Raw.Pump", values: ["Raw.Label"] },
      { id: 4, text: { "en-US": "Valve open" }, trigger: "Raw.Valve", ack: true },
    ],
  };
}

describe("s7-secure alarms", function () {
  this.timeout(60000);
  let sim: Simulator;
  let store: string;

  beforeEach(async () => {
    sim = await Simulator.start(config());
    store = tempDir("s7-alarms-cli-");
    trustSimulator(store, sim);
  });
  afterEach(async () => {
    await sim.stop();
    fs.rmSync(store, { recursive: true, force: true });
  });

  it("lists the active alarms in the chosen language and exits 0", async () => {
    const io = collectingIO();
    const code = await main(["alarms", "127.0.0.1", "--port", String(sim.port), "--store", store, "--language", "de-DE"], io);
    assert.equal(code, 0, io.err);
    const lines = io.out.trim().split("\n");
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT[\d:.]+Z {2}alarm 3 {2}came {2}Warning p2 {2}acknowledged {2}Pumpe an, Ventil RAW$/);
    await until("no connection left", () => sim.stats.connectionsOpen === 0);
  });

  it("--watch --json: the list, then each event as a JSON line until stopped", async () => {
    const stop = new AbortController();
    const io = Object.assign(collectingIO(), { signal: stop.signal });
    const running = main(["alarms", "127.0.0.1", "--port", String(sim.port), "--store", store, "--watch", "--json"], io);
    await until("the list", () => io.out.includes('"kind":"active"'));
    sim.setValue("Raw.Valve", true);
    await until("the event", () => io.out.includes('"kind":"event"'));
    const records = io.out.trim().split("\n").map((l) => JSON.parse(l) as { kind: string; id: number; state: string; acknowledged: boolean; text: string });
    assert.deepEqual(records.map((r) => [r.kind, r.id, r.state, r.acknowledged, r.text]), [["active", 3, "came", true, "Pump on, valve RAW"], ["event", 4, "came", false, "Valve open"]]);
    stop.abort();
    assert.equal(await running, 0, io.err);
    await until("no connection left", () => sim.stats.connectionsOpen === 0);
  });

  it("an unknown language is a usage error; an untrusted controller ends with one line", async () => {
    const usage = collectingIO();
    assert.notEqual(await main(["alarms", "127.0.0.1", "--port", String(sim.port), "--store", store, "--language", "xx"], usage), 0);
    assert.match(usage.err, /alarm language "xx"/);
    fs.rmSync(path.join(store, "trusted", "PLC1.der"));
    const refused = collectingIO();
    assert.equal(await main(["alarms", "127.0.0.1", "--port", String(sim.port), "--store", store], refused), 1);
    assert.match(refused.err, /^s7-secure: .*certificate/i);
    assert.equal(refused.err.trim().split("\n").length, 1);
  });
});
