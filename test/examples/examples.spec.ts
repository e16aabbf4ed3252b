/**
 * Every flow in examples/ as shipped: deployed through the admin API of a
 * real Node-RED runtime (a child process with the package installed), its
 * inject nodes clicked (`POST /inject/:id`) in the order its comment gives,
 * and what its debug nodes receive checked. Only the controller addresses
 * are moved to the simulators' free ports on 127.0.0.1.
 */
import { strict as assert } from "node:assert";
import { fork, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Simulator } from "../../src/simulator/simulator.js";
import { loadSimulatorConfig } from "../../src/simulator/config.js";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const SHIPPED_PLC1_PORT = 11102;
const SHIPPED_PLC2_PORT = 11103;

interface FlowNode {
  id: string;
  type: string;
  [key: string]: unknown;
}
interface DebugMessage {
  debug: string;
  msg: Record<string, unknown>;
}

function exampleFile(file: string): FlowNode[] {
  return JSON.parse(fs.readFileSync(path.join(ROOT, "examples", file), "utf8")) as FlowNode[];
}

/** The example with its controller addresses moved to the simulators; nothing else changes. */
function retarget(nodes: FlowNode[], plc1: Simulator, plc2: Simulator): FlowNode[] {
  return nodes.map((n) => {
    if (n.type === "s7-secure-connection") {
      assert.equal(n["port"], SHIPPED_PLC1_PORT, `${n.id}: the examples name PLC1 on port ${SHIPPED_PLC1_PORT}`);
      return { ...n, port: plc1.port };
    }
    if (n.type === "inject" && typeof n["payload"] === "string" && n["payload"].includes(`Port=${SHIPPED_PLC2_PORT}`)) {
      return { ...n, payload: n["payload"].replace(`Port=${SHIPPED_PLC2_PORT}`, `Port=${plc2.port}`) };
    }
    return n;
  });
}

describe("examples as shipped, in a Node-RED runtime", function () {
  this.timeout(60_000);
  let dir: string;
  let plc1: Simulator;
  let plc2: Simulator;
  let host: ChildProcess;
  let base: string;
  const received: DebugMessage[] = [];
  let runtimeLog = "";

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "s7-examples-"));
    const sim = (file: string, name: string): ReturnType<typeof loadSimulatorConfig> => {
      const c = loadSimulatorConfig(path.join(ROOT, "docs", "simulator", file));
      c.certificate = { ...c.certificate, dir: path.join(dir, "sim", name) };
      c.port = 0;
      return c;
    };
    plc1 = await Simulator.start(sim("plc1.json", "plc1"));
    plc2 = await Simulator.start(sim("plc2.json", "plc2"));
    const userDir = path.join(dir, "node-red");
    fs.mkdirSync(path.join(userDir, "s7-secure"), { recursive: true });
    // The examples' connection imports the demo root CA from this file (as `npm start` writes it).
    fs.writeFileSync(path.join(userDir, "s7-secure", "demo-root-ca.pem"), plc2.caCertificatePem ?? "");
    host = fork(path.join(__dirname, "runtime-host.js"), [userDir], { stdio: ["ignore", "pipe", "pipe", "ipc"] });
    host.stdout?.on("data", (d: Buffer) => (runtimeLog += d.toString()));
    host.stderr?.on("data", (d: Buffer) => (runtimeLog += d.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      host.on("message", (m: { listening?: number } & Partial<DebugMessage>) => {
        if (m.listening !== undefined) resolve(m.listening);
        else if (m.debug !== undefined && m.msg !== undefined) received.push({ debug: m.debug, msg: m.msg });
      });
      host.on("exit", (code) => reject(new Error(`the runtime exited with ${code}:\n${runtimeLog}`)));
    });
    base = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    if (host && host.exitCode === null) {
      const exited = new Promise((resolve) => host.once("exit", resolve));
      host.disconnect();
      await exited;
    }
    await plc1?.stop();
    await plc2?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function deploy(file: string): Promise<void> {
    received.length = 0;
    const res = await fetch(`${base}/flows`, {
      method: "POST",
      headers: { "content-type": "application/json", "Node-RED-Deployment-Type": "full" },
      body: JSON.stringify(retarget(exampleFile(file), plc1, plc2)),
    });
    assert.ok(res.ok, `deploying ${file}: ${res.status} ${await res.text()}`);
  }

  /** Clicks an inject node; a 404 means its flow is still starting after the deploy, so it is tried again for a while. */
  async function click(id: string): Promise<number> {
    const mark = received.length;
    const end = Date.now() + 15_000;
    for (;;) {
      const res = await fetch(`${base}/inject/${id}`, { method: "POST" });
      if (res.status === 404 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      assert.equal(res.status, 200, `clicking ${id}: ${await res.text()}\n${runtimeLog}`);
      return mark;
    }
  }

  /** The first message debug node `id` receives from position `from` on that matches. */
  async function debugReceives(id: string, match: (msg: Record<string, unknown>) => boolean, from = 0, ms = 20_000): Promise<Record<string, unknown>> {
    const end = Date.now() + ms;
    for (;;) {
      const hit = received.slice(from).find((r) => r.debug === id && match(r.msg));
      if (hit) return hit.msg;
      if (Date.now() > end) {
        const seen = received.filter((r) => r.debug === id).map((r) => JSON.stringify(r.msg).slice(0, 300));
        throw new Error(`debug node ${id} received no matching message; it received:\n${seen.join("\n") || "(nothing)"}\n${runtimeLog}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const payloadOf = (m: Record<string, unknown>): Record<string, unknown> => m["payload"] as Record<string, unknown>;

  it("every example names only this package's nodes and core nodes, and says in a comment what to click", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { "node-red": { nodes: Record<string, string> } };
    const allowed = new Set([...Object.keys(pkg["node-red"].nodes), "tab", "comment", "inject", "debug", "function", "catch", "status", "change", "switch"]);
    for (const file of fs.readdirSync(path.join(ROOT, "examples"))) {
      const nodes = exampleFile(file);
      for (const n of nodes) assert.ok(allowed.has(n.type), `${file}: node ${n.id} is of type ${n.type}, neither this package's nor core`);
      assert.ok(nodes.some((n) => n.type === "comment" && typeof n["info"] === "string" && n["info"] !== ""), `${file} has no comment`);
      for (const n of nodes.filter((x) => x.type === "inject")) assert.ok(typeof n["name"] === "string" && n["name"] !== "", `${file}: inject ${n.id} has no name`);
    }
  });

  it("cert-trust.json: list, the untrusted certificate, details, trust, then the value", async () => {
    await deploy("cert-trust.json");
    let mark = await click("ct.i1");
    const list = payloadOf(await debugReceives("ct.dbg", (m) => m["topic"] === "list", mark));
    assert.ok(Array.isArray(list["trusted"]) && Array.isArray(list["untrusted"]));
    assert.match(String(list["store"]), /s7-secure[\\/]pki$/);

    const untrusted = payloadOf(await debugReceives("ct.dbg", (m) => m["topic"] === "untrusted"));
    assert.equal(untrusted["fingerprint256"], plc1.fingerprint256);
    await new Promise((r) => setTimeout(r, 200)); // the function node next to the debug node remembers it

    mark = await click("ct.i2");
    const details = payloadOf(await debugReceives("ct.dbg", (m) => m["topic"] === "details", mark));
    assert.equal(details["fingerprint256"], plc1.fingerprint256);
    assert.match(String(details["subject"]), /PLC1/);

    mark = await click("ct.i3");
    const trusted = payloadOf(await debugReceives("ct.dbg", (m) => m["topic"] === "trust", mark));
    assert.equal(trusted["fingerprint256"], plc1.fingerprint256);
    const value = await debugReceives("ct.dbg2", (m) => typeof m["payload"] === "number", mark);
    assert.equal(value["topic"], "Line.Speed");
  });

  it("read-write.json: live values, the setpoint write, the raw DB10 read, no error", async () => {
    await deploy("read-write.json"); // PLC1 is trusted in the store since the cert-trust example
    const values = payloadOf(await debugReceives("rw.dbg1", (m) => typeof m["payload"] === "object"));
    assert.deepEqual(Object.keys(values).sort(), ["Line.Counter", "Line.Name", "Line.Running", "Line.Speed"]);
    assert.equal(values["Line.Name"], "PLC1");

    let mark = await click("rw.inj2");
    const written = await debugReceives("rw.dbg2", (m) => m["result"] !== undefined, mark);
    assert.deepEqual(written["result"], { "Line.Setpoint": { ok: true, value: 1500 } });

    mark = await click("rw.inj3");
    const raw = payloadOf(await debugReceives("rw.dbg3", () => true, mark));
    assert.deepEqual(Object.keys(raw).sort(), ["DB10.DBB8[4]", "DB10.DBD2:REAL", "DB10.DBW0:INT", "DB10.DBX6.0"]);
    assert.equal(typeof raw["DB10.DBW0:INT"], "number");
    assert.equal(received.filter((r) => r.debug === "rw.dbg4").length, 0, "the Catch node's debug got an error");
  });

  it("on-change.json: the full set pushed first, then the written setpoint pushed as one message with its topic", async () => {
    await deploy("on-change.json"); // PLC1 is trusted in the store since the cert-trust example
    const initial = await debugReceives("oc.dbg", (m) => m["initial"] === true);
    assert.deepEqual(Object.keys(payloadOf(initial)), ["Line.Setpoint", "Line.Counter", "Line.Running"]);
    const mark = await click("oc.inj");
    const pushed = await debugReceives("oc.dbg", (m) => m["topic"] === "Line.Setpoint" && m["initial"] === false, mark);
    assert.equal(pushed["payload"], 1234);
    assert.equal(plc1.getValue("Line.Setpoint"), 1234);
  });

  it("alarms.json: alarm 1 comes, the active list, acknowledge all, alarm 1 goes; the status counts them", async () => {
    await deploy("alarms.json"); // PLC1 is trusted in the store since the cert-trust example
    await new Promise((r) => setTimeout(r, 200));
    let mark = await click("al.inj1");
    const came = await debugReceives("al.dbg", (m) => m["topic"] === "alarm/1" && payloadOf(m)["state"] === "came", mark);
    assert.equal(payloadOf(came)["class"], "Alarm");
    assert.equal(payloadOf(came)["priority"], 9);
    assert.equal(payloadOf(came)["acknowledged"], false);
    assert.match(String(payloadOf(came)["text"]), /^Line overspeed: -?\d+\.\d rpm$/);
    assert.ok(!Number.isNaN(Date.parse(String(payloadOf(came)["timestamp"]))));

    mark = await click("al.inj2");
    const list = await debugReceives("al.dbg", (m) => m["topic"] === "alarms", mark);
    assert.deepEqual((list["payload"] as { id: number; acknowledged: boolean }[]).map((a) => [a.id, a.acknowledged]), [[1, false]]);

    mark = await click("al.inj3");
    const acked = await debugReceives("al.dbg", (m) => m["topic"] === "alarm/1" && payloadOf(m)["state"] === "acknowledged", mark);
    assert.equal(payloadOf(acked)["acknowledged"], true);
    const statusText = (m: Record<string, unknown>): string => String((m["status"] as { text?: string } | undefined)?.text ?? "");
    await debugReceives("al.dbg3", (m) => statusText(m) === "1 active · 1 unack.");
    await debugReceives("al.dbg3", (m) => statusText(m) === "1 active · 0 unack.", mark);

    mark = await click("al.inj4");
    await debugReceives("al.dbg", (m) => m["topic"] === "alarm/1" && payloadOf(m)["state"] === "went", mark);
    await debugReceives("al.dbg3", (m) => statusText(m) === "no alarms", mark);
    assert.equal(received.filter((r) => r.debug === "al.dbg2").length, 0, "the Catch node's debug got an error");
  });

  it("connection-change.json: AlternativeAddress, switch (values from PLC2), switchBack (PLC1), ForceConnectionState 0 and 1", async () => {
    await deploy("connection-change.json");
    await debugReceives("sw.dbg2", (m) => payloadOf(m)["Line.Name"] === "PLC1");

    let mark = await click("sw.i1");
    await debugReceives("sw.dbg1", (m) => String(payloadOf(m)["AlternativeAddress"]).includes(`Port=${plc2.port}`), mark);

    mark = await click("sw.i2");
    const onPlc2 = await debugReceives("sw.dbg2", (m) => payloadOf(m)["Line.Name"] === "PLC2", mark);
    assert.equal(payloadOf(onPlc2)["@PLC1@UseAlternativeAddress"], 1);
    const state2 = payloadOf(await debugReceives("sw.dbg1", (m) => payloadOf(m)["state"] === "connected" && (payloadOf(m)["address"] as { alternative: boolean }).alternative, mark));
    assert.equal((state2["address"] as { port: number }).port, plc2.port);

    mark = await click("sw.i3");
    const back = await debugReceives("sw.dbg2", (m) => payloadOf(m)["Line.Name"] === "PLC1", mark);
    assert.equal(payloadOf(back)["@PLC1@UseAlternativeAddress"], 0);

    mark = await click("sw.i4");
    await debugReceives("sw.dbg1", (m) => payloadOf(m)["ForceConnectionState"] === 0 && payloadOf(m)["state"] !== "connected", mark);
    mark = await click("sw.i5");
    await debugReceives("sw.dbg1", (m) => payloadOf(m)["ForceConnectionState"] === 1 && payloadOf(m)["state"] === "connected", mark);
  });
});
