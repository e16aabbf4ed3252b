/**
 * Certificates from files in a real Node-RED runtime (issue 19 point 3):
 * the Security tab's import endpoint (the plan first, nothing written; then
 * the import) and the cert-trust node's import action (a path or a Buffer),
 * each followed by a first connection to the simulator that is trusted
 * without any manual step; a root CA dropped into issuers/ is picked up by a
 * waiting connection without a redeploy.
 */
import { strict as assert } from "node:assert";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Simulator } from "../../src/simulator/simulator.js";
import { connectionNode, helper, loadFlow, nextMessage, simConfig, tempDir, until, type NodeUnderTest } from "../support/node-red.js";

/** The files of a store folder; the store makes its folders in the background, so a folder not made yet holds nothing. */
const filesIn = (folder: string): string[] => (fs.existsSync(folder) ? fs.readdirSync(folder) : []);
type Status = { state: string; lastError?: { code: string } };
const stateOf = (node: NodeUnderTest): Status | undefined => (node.connection as { status: Status } | undefined)?.status;

describe("certificate import from files (Node-RED runtime, simulator)", function () {
  this.timeout(60_000);
  let selfSigned: Simulator;
  let caIssued: Simulator;
  let dir: string;
  let store: string;

  before(async () => {
    selfSigned = await Simulator.start(simConfig("PLC1"));
    caIssued = await Simulator.start(simConfig("PLC2", { certificate: { mode: "ca" } }));
  });
  after(async () => {
    await selfSigned.stop();
    await caIssued.stop();
  });
  beforeEach(async () => {
    dir = tempDir("s7-import-nodes-");
    store = path.join(dir, "pki");
    await helper.startServer();
  });
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const derOf = (pem: string): Buffer => Buffer.from(new X509Certificate(pem).raw);
  const leafPem = (sim: Simulator): string => sim.certificatePem.split(/(?<=-----END CERTIFICATE-----)/)[0]!.trim() + "\n";

  it("editor import (DER .cer of a self-signed controller): the plan writes nothing; confirmed, the connection is trusted at once", async () => {
    // ForceConnectionState 0: nothing connects before the import, so nothing lands in untrusted/.
    await loadFlow([connectionNode("c1", "PLC1", selfSigned, store, { forceConnectionState: 0, reconnectMin: 60_000, reconnectMax: 60_000 })]);
    const body = { name: "PLC_1.cer", data: derOf(selfSigned.certificatePem).toString("base64") };
    const plan = await helper.request().post("/s7-secure/c1/certificates/import").send(body).set("Content-Type", "application/json");
    assert.equal(plan.status, 200, JSON.stringify(plan.body));
    const p = plan.body as { destination: string; imported: boolean; reason: string; certificate: { fingerprint256: string; subject: string; validFrom: string; validTo: string } };
    assert.equal(p.destination, "trusted");
    assert.equal(p.imported, false);
    assert.equal(p.certificate.fingerprint256, selfSigned.fingerprint256);
    assert.match(p.certificate.subject, /CN=/);
    assert.ok(p.certificate.validFrom && p.certificate.validTo);
    assert.match(p.reason, /self-signed/);
    assert.deepEqual(filesIn(path.join(store, "trusted")).filter((f) => f.endsWith(".der")), [], "the plan writes nothing");

    const done = await helper.request().post("/s7-secure/c1/certificates/import").send({ ...body, confirm: true }).set("Content-Type", "application/json");
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.match((done.body as { file: string }).file, /^trusted\/.*\.der$/);

    // The first connection (ForceConnectionState 1 now), trusted without a manual step.
    await helper.unload();
    await loadFlow([connectionNode("c1", "PLC1", selfSigned, store), { id: "r1", type: "s7-read", connection: "c1", tags: ["Line.Setpoint"], interval: 0, int64: "string", wires: [["out"]] }, { id: "out", type: "helper" }]);
    const out = nextMessage(helper.getNode("out"));
    helper.getNode("r1").receive({});
    assert.equal((await out).payload, 1200);
    assert.equal(stateOf(helper.getNode("c1"))?.state, "connected");
    assert.deepEqual(filesIn(path.join(store, "untrusted")), []);
  });

  it("editor import refuses a file that is not a certificate, naming it; nothing is written", async () => {
    await loadFlow([connectionNode("c1", "PLC1", selfSigned, store, { forceConnectionState: 0 })]);
    const res = await helper.request().post("/s7-secure/c1/certificates/import").send({ name: "notes.pem", data: Buffer.from("not a certificate").toString("base64"), confirm: true }).set("Content-Type", "application/json");
    assert.equal(res.status, 400);
    assert.match((res.body as { error: string }).error, /^notes\.pem: not a certificate/);
    assert.deepEqual(filesIn(path.join(store, "trusted")).filter((f) => f !== "crl"), []);
  });

  it("cert-trust import with a path (PEM .crt of a root CA) → issuers/; a controller it issued connects with no root CA in the connection", async () => {
    const caFile = path.join(dir, "plant-root.crt");
    fs.writeFileSync(caFile, caIssued.caCertificatePem!);
    await loadFlow([
      { id: "ct", type: "cert-trust", storeDir: store, wires: [["results"]] },
      { id: "results", type: "helper" },
    ]);
    const result = nextMessage(helper.getNode("results"), (m) => m.topic === "import");
    const event = nextMessage(helper.getNode("results"), (m) => m.topic === "issuers");
    helper.getNode("ct").receive({ action: "import", payload: caFile });
    const r = (await result).payload as { destination: string; file: string; certificate: { subject: string } };
    assert.equal(((await event).payload as { file: string }).file, r.file, "the store reports the new root CA");
    assert.equal(r.destination, "issuers");
    assert.match(r.file, /^issuers\//);
    const listed = nextMessage(helper.getNode("results"), (m) => m.topic === "list");
    helper.getNode("ct").receive({ action: "list" });
    const issuers = ((await listed).payload as { issuers: { file: string }[] }).issuers;
    assert.deepEqual(issuers.map((c) => c.file), [r.file]);
    await helper.unload();
    await loadFlow([connectionNode("c2", "PLC2", caIssued, store), { id: "r1", type: "s7-read", connection: "c2", tags: ["Line.Name"], interval: 0, int64: "string", wires: [["out"]] }, { id: "out", type: "helper" }]);
    const out = nextMessage(helper.getNode("out"));
    helper.getNode("r1").receive({});
    assert.equal((await out).payload, "PLC2");
    assert.deepEqual(filesIn(path.join(store, "untrusted")), []);
  });

  it("cert-trust import with a Buffer (PEM of a self-signed controller) → trusted/; then the first connection is trusted", async () => {
    await loadFlow([
      { id: "ct", type: "cert-trust", storeDir: store, wires: [["results"]] },
      { id: "results", type: "helper" },
    ]);
    const result = nextMessage(helper.getNode("results"), (m) => m.topic === "import");
    helper.getNode("ct").receive({ action: "import", payload: Buffer.from(leafPem(selfSigned)), filename: "PLC_1.pem" });
    assert.equal(((await result).payload as { destination: string }).destination, "trusted");
    await helper.unload();
    await loadFlow([connectionNode("c1", "PLC1", selfSigned, store)]);
    await until("connected", () => stateOf(helper.getNode("c1"))?.state === "connected");
  });

  it("cert-trust import of a missing file is an error naming the file", async () => {
    await loadFlow([
      { id: "ct", type: "cert-trust", storeDir: store, wires: [[]] },
      { id: "catcher", type: "catch", scope: null, uncaught: false, wires: [["caught"]] },
      { id: "caught", type: "helper" },
    ]);
    const caught = nextMessage(helper.getNode("caught"));
    helper.getNode("ct").receive({ action: "import", payload: path.join(dir, "missing.cer") });
    assert.match(String(((await caught).error as { message: string }).message), /missing\.cer: cannot be read \(ENOENT\); not imported/);
  });

  it("issuers/ without a redeploy: a connection refused as untrusted connects once the root CA file lands in issuers/", async () => {
    await loadFlow([connectionNode("c2", "PLC2", caIssued, store, { reconnectMin: 60_000, reconnectMax: 60_000 })]);
    const c2 = helper.getNode("c2");
    await until("refused", () => stateOf(c2)?.lastError?.code === "ERR_S7_UNTRUSTED");
    fs.writeFileSync(path.join(store, "issuers", "plant-root.pem"), caIssued.caCertificatePem!);
    // The back-off is 60 s: only the store watcher's retry can connect it within the wait.
    await until("connected", () => stateOf(c2)?.state === "connected", 15_000);
  });
});
