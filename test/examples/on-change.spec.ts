import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { Simulator } from "../../src/simulator/simulator.js";
import { connectionNode, helper, NODES, simConfig, tempDir, trustSimulator, until } from "../support/node-red.js";

const EXAMPLE = path.resolve(__dirname, "..", "..", "..", "examples", "on-change.json");

describe("examples/on-change.json as shipped, against a simulated PLC1", function () {
  this.timeout(60000);
  let plc: Simulator;
  let store: string;

  before(async () => {
    plc = await Simulator.start(simConfig("PLC1"));
    store = tempDir("s7-example-");
    trustSimulator(store, plc);
    await helper.startServer();
  });
  after(async () => {
    await helper.unload();
    await helper.stopServer();
    await plc.stop();
    fs.rmSync(store, { recursive: true, force: true });
  });

  it("pushes the full set, then the written setpoint as one message with its topic", async () => {
    const flow = JSON.parse(fs.readFileSync(EXAMPLE, "utf8")) as Record<string, unknown>[];
    // Only the controller's address and the trust store differ from the shipped file; debug and inject
    // become helper nodes, and the comment (no behaviour, a core type the helper does not load) is left out.
    const nodes = flow.filter((n) => n.type !== "comment").map((n) => {
      if (n.type === "s7-secure-connection") return { ...connectionNode(String(n.id), String(n.name), plc, store), rootCAFiles: "" };
      if (n.type === "debug" || n.type === "inject") return { id: n.id, z: n.z, type: "helper", wires: n.type === "inject" ? n.wires : [] };
      return n;
    });
    await helper.load(NODES, nodes);
    const seen: Record<string, unknown>[] = [];
    helper.getNode("oc.dbg").on("input", (msg) => seen.push(msg));
    await until("the full set", () => seen.some((m) => m.initial === true));
    const initial = seen.find((m) => m.initial === true)!;
    assert.deepEqual(Object.keys(initial.payload as object), ["Line.Setpoint", "Line.Counter", "Line.Running"]);
    // The inject node's message, as the shipped file defines it.
    const inject = flow.find((n) => n.id === "oc.inj")!;
    helper.getNode("oc.write").receive({ topic: inject.topic, payload: Number(inject.payload) });
    await until("the pushed setpoint", () => seen.some((m) => m.topic === "Line.Setpoint" && m.payload === 1234 && m.initial === false));
    assert.equal(plc.getValue("Line.Setpoint"), 1234);
  });
});
