/**
 * Tag tables in the nodes (issue 19 point 2), in a real Node-RED runtime
 * against the simulator: reads and writes by a table's PLC tag name, DB
 * members where the live controller disagrees with a table, a bad file at
 * deploy, and the tag picker endpoint with the controller unreachable (a
 * closed port on 127.0.0.1). The tables are written by hand
 * (test/fixtures/tia/simulator/).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { fixturePath } from "../../scripts/support/fixtures.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { closedPort } from "../support/ports.js";
import { collect, connectionNode, helper, loadFlow, nextMessage, simConfig, tempDir, trustSimulator, until, type NodeUnderTest } from "../support/node-red.js";

const PLC_TAGS = fixturePath("tia", "simulator", "plc-tags.xml");
const DB_LINE = fixturePath("tia", "simulator", "db-line.xml");
const BROKEN = fixturePath("tia", "simulator", "broken.xml");

type Spy = { getCalls(): Array<{ thisValue: { id: string }; args: unknown[] }> };
/** What node `id` passed to one of its spied methods (the helper's spies are shared by all nodes). */
const callsOf = (node: NodeUnderTest, method: "warn" | "error" | "status", id: string): unknown[][] =>
  (node[method] as unknown as Spy)
    .getCalls()
    .filter((c) => c.thisValue.id === id)
    .map((c) => c.args);

describe("tag tables in the nodes (Node-RED runtime, simulator)", function () {
  this.timeout(60_000);
  let plc: Simulator;
  let store: string;

  before(async () => {
    plc = await Simulator.start(simConfig("PLC1"));
  });
  after(async () => {
    await plc.stop();
  });
  beforeEach(async () => {
    store = tempDir("s7-tables-");
    trustSimulator(store, plc);
    await helper.startServer();
  });
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
    fs.rmSync(store, { recursive: true, force: true });
  });


  it("writes and reads a PLC tag by its table name: Speed_SP → %MW20 with the table's type Int", async () => {
    await loadFlow([
      connectionNode("c1", "PLC1", plc, store, { tagTables: `${PLC_TAGS}\n${DB_LINE}\n` }),
      { id: "w1", type: "s7-write", connection: "c1", tag: "", wires: [["wrote"]] },
      { id: "r1", type: "s7-read", connection: "c1", tags: [], interval: 0, int64: "string", wires: [["out"]] },
      { id: "wrote", type: "helper" },
      { id: "out", type: "helper" },
    ]);
    const wrote = nextMessage(helper.getNode("wrote"));
    helper.getNode("w1").receive({ payload: { Speed_SP: -1234, Flow_Actual: 12.5 } });
    const w = await wrote;
    assert.deepEqual(w.result, { Speed_SP: { ok: true, value: -1234 }, Flow_Actual: { ok: true, value: 12.5 } });

    // Read back by the table names and, independently, at the absolute addresses the table names.
    const out = helper.getNode("out");
    let next = nextMessage(out);
    helper.getNode("r1").receive({ tags: ["Speed_SP", "Flow_Actual", "Pump_On", "MW20:INT", "MD24:REAL", "M2.3"] });
    const msg = await next;
    assert.deepEqual(msg.payload, { Speed_SP: -1234, Flow_Actual: 12.5, Pump_On: false, "MW20:INT": -1234, "MD24:REAL": 12.5, "M2.3": false });

    next = nextMessage(out);
    helper.getNode("r1").receive({ topic: "Speed_SP" });
    const single = await next;
    assert.equal(single.topic, "Speed_SP");
    assert.equal(single.payload, -1234);
  });

  it("an on-change s7-read subscribes a table's PLC tag at its address and delivers it under the table name", async () => {
    await loadFlow([
      connectionNode("c1", "PLC1", plc, store, { tagTables: `${PLC_TAGS}\n` }),
      { id: "w1", type: "s7-write", connection: "c1", tag: "Speed_SP", wires: [[]] },
      { id: "r1", type: "s7-read", connection: "c1", tags: ["Speed_SP"], trigger: "change", interval: 100, int64: "string", wires: [["out"]] },
      { id: "r2", type: "s7-read", connection: "c1", tags: ["MW20:INT"], interval: 0, int64: "string", wires: [["raw"]] },
      { id: "out", type: "helper" },
      { id: "raw", type: "helper" },
    ]);
    const seen = collect(helper.getNode("out"));
    await until("the full set", () => seen.some((m) => m.initial === true));
    const initial = seen.find((m) => m.initial === true)!;
    assert.equal(initial.topic, "Speed_SP");
    assert.equal(typeof initial.payload, "number", JSON.stringify(initial));
    helper.getNode("w1").receive({ payload: 777 });
    await until("the pushed value", () => seen.some((m) => m.initial === false && m.topic === "Speed_SP" && m.payload === 777));
    // The value sits at the table's address.
    const raw = nextMessage(helper.getNode("raw"));
    helper.getNode("r2").receive({});
    assert.equal((await raw).payload, 777);
  });

  it("a Bool PLC tag is refused for writing as every absolute bit write is; a value outside the table's type (Int) is refused by that type", async () => {
    await loadFlow([
      connectionNode("c1", "PLC1", plc, store, { tagTables: PLC_TAGS }),
      { id: "w1", type: "s7-write", connection: "c1", tag: "", wires: [["wrote"]] },
      { id: "catcher", type: "catch", scope: null, uncaught: false, wires: [["caught"]] },
      { id: "wrote", type: "helper" },
      { id: "caught", type: "helper" },
    ]);
    let caught = nextMessage(helper.getNode("caught"));
    helper.getNode("w1").receive({ topic: "Speed_SP", payload: 40000 });
    assert.match(String(((await caught).error as { message: string }).message), /40000/);
    caught = nextMessage(helper.getNode("caught"));
    helper.getNode("w1").receive({ topic: "Pump_On", payload: true });
    assert.match(String(((await caught).error as { message: string }).message), /Pump_On \(MX2\.3\): absolute bit writes are refused/);
  });

  it("DB members as today; where the controller disagrees (another type, a member it lacks) the read warns and the controller wins", async () => {
    await loadFlow([
      connectionNode("c1", "PLC1", plc, store, { tagTables: DB_LINE }),
      { id: "r1", type: "s7-read", connection: "c1", tags: ["Line.Setpoint", "Line.Speed", "Line.Ghost"], interval: 0, int64: "string", wires: [["out"]] },
      { id: "catcher", type: "catch", scope: null, uncaught: false, wires: [["caught"]] },
      { id: "out", type: "helper" },
      { id: "caught", type: "helper" },
    ]);
    const r1 = helper.getNode("r1");
    const out = nextMessage(helper.getNode("out"));
    r1.receive({});
    const msg = await out;
    const payload = msg.payload as Record<string, unknown>;
    assert.equal(payload["Line.Setpoint"], 1200);
    // The controller's Real, not the table's Int.
    assert.equal(typeof payload["Line.Speed"], "number");
    assert.ok((msg.errors as Record<string, string>)["Line.Ghost"], "the missing member fails");
    const warnings = callsOf(r1, "warn", "r1").map((a) => String(a[0]));
    assert.ok(warnings.some((w) => /^Line\.Speed: the tag table \(.*db-line\.xml:\d+\) says Int, the controller says Real; the controller's type is used$/.test(w)), warnings.join("\n"));
    assert.ok(warnings.some((w) => /^Line\.Ghost: the tag table \(.*db-line\.xml:\d+\) says Int, the controller has no such tag; the controller wins$/.test(w)), warnings.join("\n"));
    assert.ok(!warnings.some((w) => /Setpoint/.test(w)), "an agreeing member is not warned about");

    // A second read warns no more (once per node and text).
    const again = nextMessage(helper.getNode("out"));
    r1.receive({});
    await again;
    assert.equal(callsOf(r1, "warn", "r1").length, warnings.length);
  });

  it("a write to a DB member the controller lacks fails and warns, naming the table's type", async () => {
    await loadFlow([
      connectionNode("c1", "PLC1", plc, store, { tagTables: DB_LINE }),
      { id: "w1", type: "s7-write", connection: "c1", tag: "", wires: [["wrote"]] },
      { id: "catcher", type: "catch", scope: null, uncaught: false, wires: [["caught"]] },
      { id: "wrote", type: "helper" },
      { id: "caught", type: "helper" },
    ]);
    const w1 = helper.getNode("w1");
    const caught = nextMessage(helper.getNode("caught"));
    w1.receive({ topic: "Line.Ghost", payload: 5 });
    assert.match(String(((await caught).error as { message: string }).message), /Ghost/);
    const warnings = callsOf(w1, "warn", "w1").map((a) => String(a[0]));
    assert.deepEqual(warnings.filter((w) => /^Line\.Ghost: the tag table \(.*db-line\.xml:\d+\) says Int, the controller has no such tag/.test(w)).length, 1, warnings.join("\n"));
  });

  it("a bad tag table file: one error naming file, line and element; nothing half-loaded, the users' status says so", async () => {
    await loadFlow([
      connectionNode("c1", "PLC1", plc, store, { tagTables: `${PLC_TAGS}\n${BROKEN}` }),
      { id: "r1", type: "s7-read", connection: "c1", tags: ["Line.Setpoint"], interval: 0, int64: "string", wires: [["out"]] },
      { id: "catcher", type: "catch", scope: null, uncaught: false, wires: [["caught"]] },
      { id: "out", type: "helper" },
      { id: "caught", type: "helper" },
    ]);
    const c1 = helper.getNode("c1");
    const errors = callsOf(c1, "error", "c1").map((a) => String(a[0]));
    assert.equal(errors.length, 1, errors.join("\n"));
    assert.match(errors[0]!, /broken\.xml:4: <Tag>: tag Bad_Tag at %MD2: a Int tag needs a word address/);
    const status = callsOf(helper.getNode("r1"), "status", "r1").at(-1)?.[0] as { fill?: string; text?: string };
    assert.deepEqual(status, { fill: "red", shape: "dot", text: "s7-secure-connection.status.tagTableError" });
    assert.equal(c1.tagTables, undefined, "no table is kept from the good file");
    assert.equal(c1.connection, undefined, "the connection does not start half-configured");
    const caught = nextMessage(helper.getNode("caught"));
    helper.getNode("r1").receive({});
    assert.match(String(((await caught).error as { message: string }).message), /broken\.xml:4/);
    assert.equal(plc.stats.connectionsOpen, 0);
  });

  it("the tag picker endpoint: the tables beside the live browse, with types, addresses, comments and the controller's disagreements", async () => {
    await loadFlow([connectionNode("c1", "PLC1", plc, store, { tagTables: `${PLC_TAGS}\n${DB_LINE}` })]);
    const res = await helper.request().get("/s7-secure/c1/browse");
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const body = res.body as { plc: { name: string } | null; tags: { tag: string }[]; table: { tag: string; kind: string; dataType: string; address?: string; comment: Record<string, string>; source: string; controllerType?: string | null; warning?: string }[] };
    assert.equal(body.plc?.name, "PLC1");
    assert.ok(body.tags.some((t) => t.tag === "Line"), "the live tree is there");
    const row = (tag: string) => body.table.find((r) => r.tag === tag);
    assert.deepEqual({ ...row("Speed_SP"), source: undefined }, { tag: "Speed_SP", kind: "plc-tag", dataType: "Int", address: "%MW20", comment: { "en-US": "Speed setpoint" }, source: undefined });
    assert.match(row("Speed_SP")!.source, /plc-tags\.xml:4$/);
    assert.deepEqual(row("Line.Setpoint")!.comment, { "en-US": "Line setpoint", "de-DE": "Sollwert der Linie" });
    assert.equal(row("Line.Setpoint")!.controllerType, "Int");
    assert.equal(row("Line.Setpoint")!.warning, undefined);
    assert.equal(row("Line.Speed")!.controllerType, "Real");
    assert.match(row("Line.Speed")!.warning ?? "", /says Int, the controller says Real/);
    assert.equal(row("Line.Ghost")!.controllerType, null);
    assert.match(row("Line.Ghost")!.warning ?? "", /the controller has no such tag/);
  });

  it("the tag picker endpoint offline (controller on a closed port): the tables alone, and why", async () => {
    const port = await closedPort();
    await loadFlow([{ ...connectionNode("c1", "PLC1", plc, store, { tagTables: `${PLC_TAGS}\n${DB_LINE}`, connectTimeout: 1500 }), port }]);
    const res = await helper.request().get("/s7-secure/c1/browse");
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const body = res.body as { plc: unknown; tags: unknown[]; offline?: string; table: { tag: string; dataType: string; controllerType?: unknown }[] };
    assert.equal(body.plc, null);
    assert.deepEqual(body.tags, []);
    assert.match(body.offline ?? "", /127\.0\.0\.1|refused|ECONNREFUSED|connect/i);
    assert.deepEqual(body.table.map((r) => `${r.tag} ${r.dataType}`), ["Speed_SP Int", "Flow_Actual Real", "Pump_On Bool", "Line.Setpoint Int", "Line.Speed Int", "Line.Ghost Int"]);
    assert.ok(body.table.every((r) => r.controllerType === undefined), "nothing is compared offline");
  });

  it("without tag tables the browse endpoint is as before: a failure is a 502", async () => {
    const port = await closedPort();
    await loadFlow([{ ...connectionNode("c1", "PLC1", plc, store, { connectTimeout: 1500 }), port }]);
    const res = await helper.request().get("/s7-secure/c1/browse");
    assert.equal(res.status, 502);
  });
});
