import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { Simulator } from "../../src/simulator/simulator.js";
import { openStoreCount } from "../../src/trust/registry.js";
import { connectionNode, helper, loadFlow, nextMessage, simConfig, tempDir, trustSimulator, until, type NodeUnderTest } from "../support/node-red.js";


describe("Node-RED nodes against simulated controllers (node-red-node-test-helper)", function () {
  this.timeout(60000);
  let plc1: Simulator;
  let plc2: Simulator;
  let store: string;

  before(async () => {
    plc1 = await Simulator.start(simConfig("PLC1", { tagsPerReadMax: 20 }));
    plc2 = await Simulator.start(simConfig("PLC2", { certificate: { mode: "ca" } }));
  });
  after(async () => {
    await plc1.stop();
    await plc2.stop();
  });
  beforeEach(async () => {
    store = tempDir("s7-nodes-");
    trustSimulator(store, plc1);
    await helper.startServer();
  });
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
    fs.rmSync(store, { recursive: true, force: true });
  });

  /** An s7-write w1 (output to helper "out") and a Catch node for all errors (to helper "caught"). */
  const writeWithCatch = (): Record<string, unknown>[] => [
    connectionNode("c1", "PLC1", plc1, store),
    { id: "w1", type: "s7-write", connection: "c1", tag: "", wires: [["out"]] },
    { id: "catcher", type: "catch", scope: null, uncaught: false, wires: [["caught"]] },
    { id: "out", type: "helper" },
    { id: "caught", type: "helper" },
  ];


  it("runs on the Node-RED runtime under test", () => {
    const runtime = process.env.S7_TEST_NODE_RED ?? require.resolve("node-red");
    const version = (JSON.parse(fs.readFileSync(path.join(path.dirname(runtime), "..", "package.json"), "utf8")) as { version: string }).version;
    if (process.env.S7_EXPECT_NODE_RED) assert.equal(version, process.env.S7_EXPECT_NODE_RED);
    assert.match(version, /^\d+\.\d+\.\d+/);
    console.log(`      Node-RED ${version} on Node.js ${process.version}`);
  });

  it("s7-read: one tag → the value in msg.payload and the tag in msg.topic; several → an object; msg.tags and msg.topic", async () => {
    await loadFlow([
      connectionNode("c1", "PLC1", plc1, store),
      { id: "r1", type: "s7-read", connection: "c1", tags: [], interval: 0, int64: "string", wires: [["out"]] },
      { id: "r2", type: "s7-read", connection: "c1", tags: ["Line.Setpoint", "Line.Name", "AllTypes.LInt"], interval: 0, int64: "string", wires: [["out2"]] },
      { id: "out", type: "helper" },
      { id: "out2", type: "helper" },
    ]);
    const out = helper.getNode("out");
    let next = nextMessage(out);
    helper.getNode("r1").receive({ topic: "Line.Setpoint" });
    let msg = await next;
    assert.equal(msg.topic, "Line.Setpoint");
    assert.equal(typeof msg.payload, "number");
    next = nextMessage(out);
    helper.getNode("r1").receive({ tags: ["Line.Name", "AllTypes.ULInt"] });
    msg = await next;
    assert.deepEqual(msg.payload, { "Line.Name": "PLC1", "AllTypes.ULInt": "18446744073709551615" });
    const next2 = nextMessage(helper.getNode("out2"));
    helper.getNode("r2").receive({ payload: "go" });
    const m2 = await next2;
    assert.deepEqual(Object.keys(m2.payload as object), ["Line.Setpoint", "Line.Name", "AllTypes.LInt"]);
    assert.equal((m2.payload as Record<string, unknown>)["AllTypes.LInt"], "-9223372036854775808");
  });

  it("s7-read: a failing tag is listed in msg.errors, the others still arrive, and a Catch node sees the error", async () => {
    await loadFlow([
      connectionNode("c1", "PLC1", plc1, store),
      { id: "r1", type: "s7-read", connection: "c1", tags: ["Line.Setpoint", "Line.Missing"], interval: 0, int64: "bigint", wires: [["out"]] },
      { id: "catcher", type: "catch", scope: null, uncaught: false, wires: [["caught"]] },
      { id: "out", type: "helper" },
      { id: "caught", type: "helper" },
    ]);
    const got = nextMessage(helper.getNode("out"));
    const caught = nextMessage(helper.getNode("caught"));
    helper.getNode("r1").receive({});
    const msg = await got;
    assert.deepEqual(Object.keys(msg.payload as object), ["Line.Setpoint"]);
    assert.match((msg.errors as Record<string, string>)["Line.Missing"]!, /no member "Missing"/);
    const c = await caught;
    assert.match((c.error as { message: string }).message, /Line\.Missing/);
  });

  it("s7-read: its own interval polls the controller", async () => {
    await loadFlow([
      connectionNode("c1", "PLC1", plc1, store),
      { id: "r1", type: "s7-read", connection: "c1", tags: ["Line.Counter"], interval: 150, int64: "bigint", wires: [["out"]] },
      { id: "out", type: "helper" },
    ]);
    const values: unknown[] = [];
    helper.getNode("out").on("input", (m) => values.push(m.payload));
    await until("three polled values", () => values.length >= 3);
    assert.ok(values.every((v) => typeof v === "number"));
  });

  it("s7-write: one tag from msg.topic, several from an object, msg.result per tag; a bad value writes nothing and reaches Catch", async () => {
    await loadFlow(writeWithCatch());
    let next = nextMessage(helper.getNode("out"));
    helper.getNode("w1").receive({ topic: "Line.Setpoint", payload: 777 });
    let msg = await next;
    assert.deepEqual(msg.result, { "Line.Setpoint": { ok: true, value: 777 } });
    assert.equal(plc1.getValue("Line.Setpoint"), 777);
    next = nextMessage(helper.getNode("out"));
    helper.getNode("w1").receive({ payload: { "Line.Setpoint": 778, "AllTypes.String": "from flow" } });
    msg = await next;
    assert.equal((msg.result as Record<string, { ok: boolean }>)["AllTypes.String"]!.ok, true);
    assert.equal(plc1.getValue("AllTypes.String"), "from flow");
    const caught = nextMessage(helper.getNode("caught"));
    let sent = false;
    helper.getNode("out").on("input", () => (sent = true));
    helper.getNode("w1").receive({ payload: { "Line.Setpoint": 1, "AllTypes.Int": 40000 } });
    const c = await caught;
    assert.match((c.error as { message: string }).message, /AllTypes\.Int: 40000 is outside/);
    assert.equal(plc1.getValue("Line.Setpoint"), 778, "nothing written");
    assert.equal(sent, false, "no output for a refused batch");
  });

  it("the WinCC scenario: PLC1 → PLC2 through the three system tags; values then come from PLC2 (its own certificate check via the imported root CA)", async () => {
    const caFile = path.join(store, "demo-root-ca.pem");
    fs.writeFileSync(caFile, plc2.caCertificatePem!);
    await loadFlow([
      connectionNode("c1", "PLC1", plc1, store, { rootCAFiles: caFile }),
      { id: "sw", type: "s7-switch-connection", connection: "c1", wires: [["state"]] },
      { id: "r1", type: "s7-read", connection: "c1", tags: ["Line.Name"], interval: 0, int64: "bigint", wires: [["out"]] },
      { id: "state", type: "helper" },
      { id: "out", type: "helper" },
    ]);
    const state = helper.getNode("state");
    const states: Record<string, unknown>[] = [];
    state.on("input", (m) => states.push(m.payload as Record<string, unknown>));
    await until("connected to PLC1", () => states.some((s) => s.state === "connected"));
    const read = async (): Promise<unknown> => {
      const next = nextMessage(helper.getNode("out"));
      helper.getNode("r1").receive({});
      return (await next).payload;
    };
    assert.equal(await read(), "PLC1");
    const sw = helper.getNode("sw");
    sw.receive({ topic: "@PLC1@AlternativeAddress", payload: `IPAddress=127.0.0.1; Port=${plc2.port};` });
    sw.receive({ topic: "@PLC1@UseAlternativeAddress", payload: 1 });
    sw.receive({ topic: "@PLC1@ForceConnectionState", payload: 0 });
    await until("disconnected", () => states.at(-1)?.state === "disconnected" && states.at(-1)?.ForceConnectionState === 0);
    sw.receive({ topic: "@PLC1@ForceConnectionState", payload: 1 });
    await until("connected to PLC2", () => {
      const last = states.at(-1);
      return last?.state === "connected" && (last.address as { port: number }).port === plc2.port;
    });
    const last = states.at(-1)!;
    assert.equal(last.UseAlternativeAddress, 1);
    assert.equal((last.certificate as { trustedBy: string }).trustedBy, "rootCA");
    assert.equal((last.tls as { version: string }).version, "TLSv1.3");
    assert.equal(await read(), "PLC2");
    // switchBack as one step.
    sw.receive({ payload: "switchBack" });
    await until("back on PLC1", () => states.at(-1)?.state === "connected" && (states.at(-1)!.address as { port: number }).port === plc1.port);
    assert.equal(await read(), "PLC1");
  });

  it("a switch to a controller without Secure Communication is refused (no downgrade)", async () => {
    const legacy = await Simulator.start(simConfig("LEGACY", { secureCommunication: false }));
    try {
      await loadFlow([
        connectionNode("c1", "PLC1", plc1, store),
        { id: "sw", type: "s7-switch-connection", connection: "c1", wires: [["state"]] },
        { id: "state", type: "helper" },
      ]);
      const states: Record<string, unknown>[] = [];
      helper.getNode("state").on("input", (m) => states.push(m.payload as Record<string, unknown>));
      await until("connected", () => states.some((s) => s.state === "connected"));
      helper.getNode("sw").receive({ payload: { AlternativeAddress: `IPAddress=127.0.0.1; Port=${legacy.port};` } });
      helper.getNode("sw").receive({ payload: "switch" });
      await until("refused", () => typeof states.at(-1)?.error === "string" && /refused TLS/.test(states.at(-1)!.error as string));
      assert.notEqual(states.at(-1)!.state, "connected");
    } finally {
      await legacy.stop();
    }
  });

  it("untrusted → trusted → connected without a redeploy; cert-trust reports the new certificate and trusts it", async () => {
    fs.rmSync(path.join(store, "trusted", "PLC1.der"));
    await loadFlow([
      connectionNode("c1", "PLC1", plc1, store, { reconnectMin: 60_000, reconnectMax: 60_000 }),
      { id: "ct", type: "cert-trust", storeDir: store, wires: [["events"]] },
      { id: "r1", type: "s7-read", connection: "c1", tags: ["Line.Name"], interval: 0, int64: "bigint", wires: [["out"]] },
      { id: "events", type: "helper" },
      { id: "out", type: "helper" },
    ]);
    const untrusted = await nextMessage(helper.getNode("events"), (m) => m.topic === "untrusted");
    const cert = untrusted.payload as { fingerprint256: string; file: string; selfSigned: boolean };
    assert.equal(cert.fingerprint256, plc1.fingerprint256);
    assert.equal(cert.selfSigned, true);
    const status = helper.getNode("r1").status as unknown as { lastCall?: { args: [{ text: string }] } };
    await until("untrusted status", () => /untrusted/.test(status.lastCall?.args[0]?.text ?? ""));
    // One click: the cert-trust node's trust action; the connection retries at once (its back-off is 60 s).
    const done = nextMessage(helper.getNode("events"), (m) => m.topic === "trust");
    helper.getNode("ct").receive({ action: "trust", payload: cert.fingerprint256.toUpperCase().match(/../g)!.join(":") });
    assert.match(((await done).payload as { file: string }).file, /^trusted\//);
    const value = nextMessage(helper.getNode("out"));
    helper.getNode("r1").receive({});
    assert.equal((await value).payload, "PLC1");
  });

  it("100 read nodes triggered together produce no more requests than ceil(100 / tagsPerReadMax)", async () => {
    const reads = Array.from({ length: 100 }, (_, i) => ({ id: `r${i}`, type: "s7-read", connection: "c1", tags: [`Line.Recipe.Steps[${i % 10}]`], interval: 0, int64: "bigint", wires: [["out"]] }));
    await loadFlow([connectionNode("c1", "PLC1", plc1, store), ...reads, { id: "out", type: "helper" }]);
    // Warm up: connect and resolve the tags once.
    let count = 0;
    helper.getNode("out").on("input", () => count++);
    for (const r of reads) helper.getNode(r.id).receive({});
    await until("warm-up reads", () => count === 100);
    const before = plc1.stats.requestsByService.GetMultiVariables ?? 0;
    count = 0;
    for (const r of reads) helper.getNode(r.id).receive({});
    await until("100 answers", () => count === 100);
    const requests = (plc1.stats.requestsByService.GetMultiVariables ?? 0) - before;
    assert.ok(requests <= Math.ceil(100 / 20), `${requests} requests for 100 coalesced reads`);
    assert.ok(requests >= 1);
  });

  it("admin endpoints: certificate list, one-click trust, browse of the deployed connection; 404 for an unknown id", async () => {
    fs.rmSync(path.join(store, "trusted", "PLC1.der"));
    await loadFlow([connectionNode("c1", "PLC1", plc1, store, { reconnectMin: 60_000, reconnectMax: 60_000 })]);
    await until("certificate stored", () => fs.readdirSync(path.join(store, "untrusted")).length === 1);
    const list = await helper.request().get("/s7-secure/c1/certificates");
    assert.equal(list.status, 200);
    const body = list.body as { untrusted: { fingerprint256: string }[]; trusted: unknown[] };
    assert.equal(body.untrusted[0]!.fingerprint256, plc1.fingerprint256);
    const trust = await helper.request().post("/s7-secure/c1/certificates/trust").send({ fingerprint256: plc1.fingerprint256 }).set("Content-Type", "application/json");
    assert.equal(trust.status, 200, JSON.stringify(trust.body));
    const browse = await helper.request().get("/s7-secure/c1/browse");
    assert.equal(browse.status, 200, JSON.stringify(browse.body));
    const b = browse.body as { plc: { orderNumber: string; firmware: string }; tags: { name: string }[] };
    assert.equal(b.plc.firmware, "V3.1");
    assert.deepEqual(b.tags.map((t) => t.name), ["Line", "AllTypes", "Raw"]);
    const missing = await helper.request().get("/s7-secure/nope/certificates");
    assert.equal(missing.status, 404);
  });

  it("a redeploy leaves no socket, store watcher or timer behind", async () => {
    const storesBefore = openStoreCount();
    for (let i = 0; i < 3; i++) {
      await loadFlow([connectionNode("c1", "PLC1", plc1, store), { id: "r1", type: "s7-read", connection: "c1", tags: ["Line.Counter"], interval: 100, int64: "bigint", wires: [[]] }]);
      await until("connected", () => plc1.stats.connectionsOpen >= 1);
      await helper.unload();
    }
    await until("sockets closed", () => plc1.stats.connectionsOpen === 0, 5000);
    assert.equal(openStoreCount(), storesBefore);
    const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().filter((h) => (h as { constructor: { name: string } }).constructor.name === "Socket" && (h as { remotePort?: number }).remotePort === plc1.port);
    assert.equal(handles.length, 0);
  });

  type StatusArg = { fill?: string; shape?: string; text?: string };
  type StatusSpy = { getCalls(): Array<{ thisValue: { id: string }; args: [StatusArg] }> };
  /** The last status node `id` showed (the helper's spy is shared by all nodes, so calls are picked by node). */
  const statusOf = (id: string): StatusArg =>
    (helper.getNode(id).status as unknown as StatusSpy)
      .getCalls()
      .filter((c) => c.thisValue.id === id)
      .at(-1)?.args[0] ?? {};

  it("a polling s7-read reports a failing tag once, then only its yellow status; a read by message reports every time", async () => {
    await loadFlow([
      connectionNode("c1", "PLC1", plc1, store),
      { id: "poll", type: "s7-read", connection: "c1", tags: ["Line.Counter", "Line.Missing"], interval: 100, int64: "string", wires: [["out"]] },
      { id: "onMsg", type: "s7-read", connection: "c1", tags: ["Line.Counter", "Line.Missing"], interval: 0, int64: "string", wires: [["out2"]] },
      { id: "catcher", type: "catch", scope: null, uncaught: false, wires: [["caught"]] },
      { id: "out", type: "helper" },
      { id: "out2", type: "helper" },
      { id: "caught", type: "helper" },
    ]);
    let polls = 0;
    let caught = 0;
    let caughtByMessage = 0;
    helper.getNode("out").on("input", () => polls++);
    helper.getNode("caught").on("input", (m) => {
      const source = (m.error as { source?: { id?: string } }).source?.id;
      if (source === "poll") caught++;
      else if (source === "onMsg") caughtByMessage++;
    });
    await until("six polls", () => polls >= 6);
    assert.equal(caught, 1, "one report for six polls failing for the same reason");
    assert.deepEqual(statusOf("poll"), { fill: "yellow", shape: "dot", text: "s7-secure-connection.status.tagsFailed" });

    for (let i = 1; i <= 3; i++) {
      const next = nextMessage(helper.getNode("out2"));
      helper.getNode("onMsg").receive({});
      await next;
      await until(`report ${i}`, () => caughtByMessage === i);
    }
    assert.deepEqual(statusOf("onMsg"), { fill: "yellow", shape: "dot", text: "s7-secure-connection.status.tagsFailed" });
  });

  it("a polling s7-read on an untrusted connection reports once, not on every poll", async () => {
    fs.rmSync(path.join(store, "trusted", "PLC1.der"));
    await loadFlow([
      connectionNode("c1", "PLC1", plc1, store, { connectTimeout: 1000, reconnectMin: 100, reconnectMax: 200 }),
      { id: "poll", type: "s7-read", connection: "c1", tags: ["Line.Counter"], interval: 100, int64: "string", wires: [["out"]] },
      { id: "catcher", type: "catch", scope: null, uncaught: false, wires: [["caught"]] },
      { id: "out", type: "helper" },
      { id: "caught", type: "helper" },
    ]);
    const reports: string[] = [];
    helper.getNode("caught").on("input", (m) => reports.push((m.error as { message: string }).message));
    const attempts = () => plc1.stats.connectionsTotal;
    const before = attempts();
    // Every failed poll shows its status again: count those, and the controller's refused handshakes.
    const polls = () => (helper.getNode("poll").status as unknown as StatusSpy).getCalls().filter((c) => c.thisValue.id === "poll").length;
    await until("ten refused connection attempts and ten status updates", () => attempts() - before >= 10 && polls() >= 10, 30_000);
    await until("the first report", () => reports.length >= 1, 10_000);
    assert.equal(reports.length, 1, reports.join("\n"));
    // Between retries the status moves between connecting and untrusted; the reason is in sight.
    await until("the untrusted status", () => statusOf("poll").text === "s7-secure-connection.status.untrusted");
  });

  it("s7-read: a successful read clears the tag-failure status", async () => {
    await loadFlow([
      connectionNode("c1", "PLC1", plc1, store),
      { id: "r1", type: "s7-read", connection: "c1", tags: [], interval: 0, int64: "string", wires: [["out"]] },
      { id: "out", type: "helper" },
    ]);
    let next = nextMessage(helper.getNode("out"));
    helper.getNode("r1").receive({ tags: ["Line.Counter", "Line.Missing"] });
    await next;
    assert.equal(statusOf("r1").text, "s7-secure-connection.status.tagsFailed");
    next = nextMessage(helper.getNode("out"));
    helper.getNode("r1").receive({ tags: ["Line.Counter"] });
    await next;
    assert.deepEqual(statusOf("r1"), { fill: "green", shape: "dot", text: "s7-secure-connection.status.connected" });
  });

  it("s7-write: tags not written show as a yellow status, and the error names what was written", async () => {
    await loadFlow(writeWithCatch());
    const caught = nextMessage(helper.getNode("caught"));
    helper.getNode("w1").receive({ payload: { "Line.Setpoint": 5, "Line.Missing": 1 } });
    const c = await caught;
    assert.match((c.error as { message: string }).message, /Line\.Missing/);
    assert.deepEqual(statusOf("w1"), { fill: "yellow", shape: "dot", text: "s7-secure-connection.status.tagsFailed" });
  });

  it("s7-switch-connection: a rejected command shows until a command succeeds; the alternative controller shows by name", async () => {
    const caFile = path.join(store, "demo-root-ca.pem");
    fs.writeFileSync(caFile, plc2.caCertificatePem!);
    await loadFlow([
      connectionNode("c1", "PLC1", plc1, store, { rootCAFiles: caFile }),
      { id: "sw", type: "s7-switch-connection", connection: "c1", wires: [["state"]] },
      { id: "r1", type: "s7-read", connection: "c1", tags: ["Line.Name"], interval: 0, int64: "string", wires: [["out"]] },
      { id: "catcher", type: "catch", scope: ["sw"], uncaught: false, wires: [["caught"]] },
      { id: "state", type: "helper" },
      { id: "out", type: "helper" },
      { id: "caught", type: "helper" },
    ]);
    const states: Record<string, unknown>[] = [];
    helper.getNode("state").on("input", (m) => states.push(m.payload as Record<string, unknown>));
    await until("connected", () => states.some((s) => s.state === "connected"));
    const caught = nextMessage(helper.getNode("caught"));
    helper.getNode("sw").receive({ topic: "UseAlternativeAddress", payload: 7 });
    await caught;
    assert.deepEqual(statusOf("sw"), { fill: "red", shape: "ring", text: "s7-secure-connection.status.commandRejected" });
    assert.equal(statusOf("r1").text, "s7-secure-connection.status.connected", "only the node that sent the command shows it");

    helper.getNode("sw").receive({ topic: "", payload: { AlternativeAddress: `IPAddress=127.0.0.1; Port=${plc2.port};` } });
    helper.getNode("sw").receive({ topic: "", payload: "switch" });
    await until("connected to PLC2", () => states.at(-1)?.state === "connected" && (states.at(-1)!.address as { port: number }).port === plc2.port);
    await until("alternative status", () => statusOf("r1").text === "s7-secure-connection.status.alternative");
    assert.equal(statusOf("sw").text, "s7-secure-connection.status.alternative", "a successful command clears the rejection");
    assert.equal(statusOf("r1").fill, "green");
  });

  it("the Security tab's lists: this connection's certificate first, trusted ones to untrust, other connections' apart", async () => {
    fs.rmSync(path.join(store, "trusted", "PLC1.der"));
    const other = await Simulator.start(simConfig("PLC3"));
    try {
      await loadFlow([
        connectionNode("c1", "PLC1", plc1, store, { reconnectMin: 60_000, reconnectMax: 60_000 }),
        connectionNode("c3", "PLC3", other, store, { reconnectMin: 60_000, reconnectMax: 60_000 }),
      ]);
      type Cert = { fingerprint256: string; subject: string; trusted?: boolean };
      type Lists = { thisConnection: Cert[]; otherTrusted: Cert[]; otherUntrusted: Cert[] };
      const lists = async (): Promise<Lists> => (await helper.request().get("/s7-secure/c1/certificates")).body as Lists;
      let l = await lists();
      for (let i = 0; i < 100 && (l.thisConnection.length === 0 || l.otherUntrusted.length === 0); i++) {
        await new Promise((r) => setTimeout(r, 100));
        l = await lists();
      }
      assert.deepEqual(l.thisConnection.map((c) => [c.fingerprint256, c.trusted]), [[plc1.fingerprint256, false]]);
      assert.deepEqual(l.otherUntrusted.map((c) => c.fingerprint256), [other.fingerprint256], "PLC3's certificate is apart");
      assert.deepEqual(l.otherTrusted, []);

      const trust = await helper.request().post("/s7-secure/c1/certificates/trust").send({ fingerprint256: plc1.fingerprint256 });
      assert.equal(trust.status, 200);
      l = await lists();
      assert.deepEqual(l.thisConnection.map((c) => [c.fingerprint256, c.trusted]), [[plc1.fingerprint256, true]], "still first, now trusted");
      const c3 = (await helper.request().get("/s7-secure/c3/certificates")).body as Lists;
      assert.deepEqual(c3.otherTrusted.map((c) => c.fingerprint256), [plc1.fingerprint256], "for PLC3 it is one of the store's trusted ones");

      const untrust = await helper.request().post("/s7-secure/c1/certificates/untrust").send({ fingerprint256: plc1.fingerprint256 });
      assert.equal(untrust.status, 200, JSON.stringify(untrust.body));
      l = await lists();
      assert.deepEqual(l.thisConnection.map((c) => [c.fingerprint256, c.trusted]), [[plc1.fingerprint256, false]]);
      const again = await helper.request().post("/s7-secure/c1/certificates/untrust").send({ fingerprint256: plc1.fingerprint256 });
      assert.equal(again.status, 400);
      assert.match((again.body as { error: string }).error, /no certificate .* in trusted/);
    } finally {
      await helper.unload();
      await other.stop();
    }
  });
});

export type { NodeUnderTest };
