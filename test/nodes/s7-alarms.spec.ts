import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { Simulator } from "../../src/simulator/simulator.js";
import { collect, connectionNode, helper, loadFlow, NODES, simConfig, tempDir, trustSimulator, until, type NodeUnderTest } from "../support/node-red.js";

const ALARMS_NODE = require(path.resolve(__dirname, "..", "..", "nodes", "s7-alarms.js")) as unknown;


/** Status texts with their fill ("key/fill"); the test runtime shows catalogue keys (the real texts are checked in test/examples). */
function statusTexts(node: NodeUnderTest): string[] {
  return (node.status.args ?? []).map((a) => {
    const s = a[0] as { text?: string; fill?: string } | undefined;
    return `${String(s?.text ?? "")}/${String(s?.fill ?? "")}`;
  });
}

describe("s7-alarms in a Node-RED runtime", function () {
  this.timeout(60000);
  let plc: Simulator;
  let store: string;

  beforeEach(async () => {
    plc = await Simulator.start(
      simConfig("PLC1", {
        alarms: [{ id: 7, text: { "en-US": "Pump stopped at @1%d@ rpm", "de-DE": "Pumpe steht bei @1%d@ U/min" }, class: "Alarm", priority: 5, trigger: "Raw.Valve", ack: true, values: ["Line.Setpoint"] }],
      }),
    );
    store = tempDir("s7-alarms-");
    trustSimulator(store, plc);
    await helper.startServer();
  });
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
    await plc.stop();
    fs.rmSync(store, { recursive: true, force: true });
  });

  async function load(): Promise<{ out: Record<string, unknown>[]; caught: Record<string, unknown>[]; node: NodeUnderTest }> {
    await loadFlow(
      [
        connectionNode("c1", "PLC1", plc, store),
        { id: "a1", type: "s7-alarms", connection: "c1", language: "de-DE", wires: [["out"]] },
        { id: "out", type: "helper" },
        { id: "catcher", type: "catch", scope: null, uncaught: false, wires: [["caught"]] },
        { id: "caught", type: "helper" },
      ],
      {},
      [...NODES, ALARMS_NODE],
    );
    const node = helper.getNode("a1");
    return { out: collect(helper.getNode("out")), caught: collect(helper.getNode("caught")), node };
  }

  it("one message per event in the chosen language, the list on input, ack by id, counts in the status", async () => {
    const { out, node } = await load();
    await until("subscribed", () => statusTexts(node).includes("s7-alarms.status.none/green")).catch((e: Error) => { throw new Error(`${e.message}: ${statusTexts(node).join(" | ")}`); });
    plc.setValue("Raw.Valve", true);
    await until("the came event", () => out.length >= 1);
    assert.equal(out[0]!.topic, "alarm/7");
    const p = out[0]!.payload as Record<string, unknown>;
    assert.deepEqual([p.id, p.state, p.text, p.class, p.priority, p.acknowledged, p.values], [7, "came", "Pumpe steht bei 1200 U/min", "Alarm", 5, false, [1200]]);
    assert.ok(!Number.isNaN(Date.parse(String(p.timestamp))));
    await until("the counts", () => statusTexts(node).includes("s7-alarms.status.counts/red"));

    node.receive({ action: "list" });
    await until("the list", () => out.some((m) => m.topic === "alarms"));
    const list = out.find((m) => m.topic === "alarms")!.payload as Record<string, unknown>[];
    assert.deepEqual(list.map((a) => [a.id, a.active, a.acknowledged]), [[7, true, false]]);

    node.receive({ action: "ack", payload: "7" });
    await until("the acknowledged event", () => out.some((m) => (m.payload as { state?: string }).state === "acknowledged"));
    await until("the counts", () => statusTexts(node).includes("s7-alarms.status.counts/yellow"));
    plc.setValue("Raw.Valve", false);
    await until("the went event", () => out.some((m) => (m.payload as { state?: string }).state === "went"));
  });

  it("a bad action or payload, and an alarm that is not active, reach a Catch node with a clear error", async () => {
    const { caught, node } = await load();
    await until("subscribed", () => statusTexts(node).includes("s7-alarms.status.none/green")).catch((e: Error) => { throw new Error(`${e.message}: ${statusTexts(node).join(" | ")}`); });
    node.receive({ action: "silence" });
    node.receive({ action: "ack", payload: { id: 7 } });
    node.receive({ action: "ack", payload: 7 });
    await until("three errors", () => caught.length >= 3);
    // The test runtime shows catalogue keys instead of their texts.
    const texts = caught.map((m) => String((m.error as { message?: string }).message));
    assert.ok(texts.some((t) => /s7-alarms\.errors\.badAction/.test(t)), texts.join(" | "));
    assert.ok(texts.some((t) => /s7-alarms\.errors\.badAckPayload/.test(t)), texts.join(" | "));
    assert.ok(texts.some((t) => /alarm 7 is not active/.test(t)), texts.join(" | "));
  });
});
