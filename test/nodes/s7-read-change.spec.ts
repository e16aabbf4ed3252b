import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { Simulator } from "../../src/simulator/simulator.js";
import { collect, connectionNode, helper, loadFlow, simConfig, tempDir, trustSimulator, until, type NodeUnderTest } from "../support/node-red.js";



function statusTexts(node: NodeUnderTest): string[] {
  return (node.status.args ?? []).map((a) => String((a[0] as { text?: string } | undefined)?.text ?? ""));
}

describe("s7-read on change (pushed by the controller) in a Node-RED runtime", function () {
  this.timeout(60000);
  let plc: Simulator;
  let store: string;

  beforeEach(async () => {
    plc = await Simulator.start(simConfig("PLC1"));
    store = tempDir("s7-change-");
    trustSimulator(store, plc);
    await helper.startServer();
  });
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
    await plc.stop();
    fs.rmSync(store, { recursive: true, force: true });
  });


  it("emits the full set once, then only on change (one object of the changed tags), with the controller's timestamp", async () => {
    await loadFlow([
      connectionNode("c1", "PLC1", plc, store),
      { id: "r1", type: "s7-read", connection: "c1", tags: ["Line.Setpoint", "Line.Name"], interval: 100, trigger: "change", changeOutput: "object", int64: "string", wires: [["out"]] },
      { id: "out", type: "helper" },
    ]);
    const seen = collect(helper.getNode("out"));
    await until("the full set", () => seen.length >= 1);
    assert.deepEqual(seen[0]!.payload, { "Line.Setpoint": 1200, "Line.Name": "PLC1" });
    assert.equal(seen[0]!.initial, true);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(seen.length, 1, "nothing changed, nothing sent");
    const readsBefore = plc.stats.requestsByService.GetMultiVariables ?? 0;
    plc.setValue("Line.Setpoint", 1250);
    await until("the change", () => seen.length >= 2);
    assert.deepEqual(seen[1]!.payload, { "Line.Setpoint": 1250 });
    assert.deepEqual(seen[1]!.changed, ["Line.Setpoint"]);
    assert.equal(seen[1]!.initial, false);
    assert.ok(seen[1]!.timestamp instanceof Date);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(seen.length, 2);
    assert.equal(plc.stats.requestsByService.GetMultiVariables ?? 0, readsBefore, "no polling while subscribed");
    const r1 = helper.getNode("r1");
    await until("the subscribed status", () => statusTexts(r1).some((t) => t === "s7-read.status.subscribed")).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(statusTexts(r1))}`);
    });
  });

  it("one message per changed tag, msg.topic = the tag", async () => {
    await loadFlow([
      connectionNode("c1", "PLC1", plc, store),
      { id: "r1", type: "s7-read", connection: "c1", tags: ["Line.Setpoint", "Line.Name"], interval: 100, trigger: "change", changeOutput: "perTag", int64: "string", wires: [["out"]] },
      { id: "out", type: "helper" },
    ]);
    const seen = collect(helper.getNode("out"));
    await until("the full set", () => seen.length >= 1);
    plc.setValue("Line.Setpoint", 1);
    plc.setValue("Line.Name", "changed");
    await until("two changes", () => seen.length >= 3);
    const changes = seen.slice(1).map((m) => [m.topic, m.payload]).sort();
    assert.deepEqual(changes, [["Line.Name", "changed"], ["Line.Setpoint", 1]]);
  });

  it("refused by the controller's limits → polls at the cycle time and says so in the status", async () => {
    await plc.stop();
    plc = await Simulator.start(simConfig("PLC1", { subscriptionItemsMax: 1 }));
    trustSimulator(store, plc);
    await loadFlow([
      connectionNode("c1", "PLC1", plc, store),
      { id: "r1", type: "s7-read", connection: "c1", tags: ["Line.Setpoint", "Line.Name"], interval: 200, trigger: "change", changeOutput: "object", int64: "string", wires: [["out"]] },
      { id: "out", type: "helper" },
    ]);
    const seen = collect(helper.getNode("out"));
    const r1 = helper.getNode("r1");
    await until("the polling status", () => statusTexts(r1).some((t) => t === "s7-read.status.polling"));
    await until("polled values", () => seen.length >= 3);
    assert.deepEqual(seen[seen.length - 1]!.payload, { "Line.Setpoint": 1200, "Line.Name": "PLC1" });
    assert.ok((plc.stats.requestsByService.GetMultiVariables ?? 0) >= 3, "reads on the wire");
    assert.equal(plc.model.subscriptionLimits.inUse.subscriptions, 0, "nothing subscribed is left behind");
  });

  it("polling after a refusal stops once the subscription is accepted (limits raised, then a reconnect)", async () => {
    await plc.stop();
    plc = await Simulator.start(simConfig("PLC1", { subscriptionItemsMax: 1 }));
    trustSimulator(store, plc);
    await loadFlow([
      connectionNode("c1", "PLC1", plc, store),
      { id: "r1", type: "s7-read", connection: "c1", tags: ["Line.Setpoint", "Line.Name"], interval: 200, trigger: "change", changeOutput: "object", int64: "string", wires: [["out"]] },
      { id: "out", type: "helper" },
    ]);
    const r1 = helper.getNode("r1");
    await until("the polling status", () => statusTexts(r1).includes("s7-read.status.polling"));
    plc.model.subscriptionLimits.itemsMax = 100;
    plc.dropConnections();
    await until("subscribed after the reconnect", () => statusTexts(r1).lastIndexOf("s7-read.status.subscribed") > statusTexts(r1).lastIndexOf("s7-read.status.polling"));
    const seen = collect(helper.getNode("out"));
    const reads = plc.stats.requestsByService.GetMultiVariables ?? 0;
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(plc.stats.requestsByService.GetMultiVariables ?? 0, reads, "no more polling");
    plc.setValue("Line.Setpoint", 4321);
    await until("the pushed change", () => seen.some((m) => (m.payload as Record<string, unknown>)["Line.Setpoint"] === 4321));
  });

  it("a redeploy deletes the subscription and closes the push session", async () => {
    await loadFlow([
      connectionNode("c1", "PLC1", plc, store),
      { id: "r1", type: "s7-read", connection: "c1", tags: ["Line.Setpoint"], interval: 100, trigger: "change", int64: "string", wires: [["out"]] },
      { id: "out", type: "helper" },
    ]);
    const seen = collect(helper.getNode("out"));
    await until("the full set", () => seen.length >= 1);
    assert.equal(seen[0]!.topic, "Line.Setpoint");
    assert.equal(seen[0]!.payload, 1200);
    assert.equal(plc.model.subscriptionLimits.inUse.subscriptions, 1);
    await helper.unload();
    assert.equal(plc.model.subscriptionLimits.inUse.subscriptions, 0);
    await until("no connection left", () => plc.stats.connectionsOpen === 0);
  });
});
