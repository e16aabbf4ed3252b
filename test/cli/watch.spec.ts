import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import { main } from "../../src/cli/main.js";
import type { CliIO } from "../../src/cli/io.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { defaultSimulatorConfig } from "../../src/simulator/config.js";

const BIN = path.resolve(__dirname, "..", "..", "..", "bin", "s7-secure.js");

async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("s7-secure watch", function () {
  this.timeout(60000);
  let sim: Simulator;
  let store: string;

  beforeEach(async () => {
    sim = await Simulator.start(defaultSimulatorConfig());
    store = fs.mkdtempSync(path.join(os.tmpdir(), "s7-watch-"));
    fs.mkdirSync(path.join(store, "trusted", "crl"), { recursive: true });
    fs.mkdirSync(path.join(store, "untrusted"), { recursive: true });
    fs.writeFileSync(path.join(store, "trusted", "PLC1.der"), new X509Certificate(sim.certificatePem).raw);
  });
  afterEach(async () => {
    await sim.stop();
    fs.rmSync(store, { recursive: true, force: true });
  });

  it("prints every value, then each change as a JSON line; stopping deletes the subscription", async () => {
    const stop = new AbortController();
    let out = "";
    let err = "";
    const io: CliIO = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env: {}, signal: stop.signal };
    const running = main(["watch", "127.0.0.1", "Line.Setpoint", "Line.Name", "--port", String(sim.port), "--store", store, "--cycle", "100", "--json"], io);
    await until("the full set", () => out.split("\n").filter((l) => l.includes('"initial":true')).length === 2);
    const first = out.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { tag: string; value: unknown; initial: boolean });
    assert.deepEqual(first.map((l) => [l.tag, l.value]).sort(), [["Line.Name", "PLC1"], ["Line.Setpoint", 1200]]);
    sim.setValue("Line.Setpoint", 77);
    await until("the change", () => out.includes('"value":77'));
    const change = JSON.parse(out.trim().split("\n").pop()!) as { tag: string; value: unknown; initial: boolean; time: string };
    assert.deepEqual([change.tag, change.value, change.initial], ["Line.Setpoint", 77, false]);
    assert.ok(!Number.isNaN(Date.parse(change.time)));
    assert.equal(sim.model.subscriptionLimits.inUse.subscriptions, 1);
    stop.abort();
    assert.equal(await running, 0, err);
    assert.equal(sim.model.subscriptionLimits.inUse.subscriptions, 0);
    await until("no connection left", () => sim.stats.connectionsOpen === 0);
  });

  it("Ctrl-C (SIGINT) stops the command: exit 0 and the subscription is deleted", async () => {
    const child = spawn(process.execPath, [BIN, "watch", "127.0.0.1", "Line.Setpoint", "--port", String(sim.port), "--store", store, "--cycle", "100"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await until("the first value", () => out.includes("Line.Setpoint = 1200"));
    assert.equal(sim.model.subscriptionLimits.inUse.subscriptions, 1);
    child.kill("SIGINT");
    assert.equal(await exited, 0);
    assert.equal(sim.model.subscriptionLimits.inUse.subscriptions, 0, "deleted before the exit");
  });

  it("an untrusted controller ends the command with one line, as read does", async () => {
    fs.rmSync(path.join(store, "trusted", "PLC1.der"));
    let err = "";
    const io: CliIO = { stdout: () => undefined, stderr: (t) => void (err += t), env: {}, signal: new AbortController().signal };
    const code = await main(["watch", "127.0.0.1", "Line.Setpoint", "--port", String(sim.port), "--store", store], io);
    assert.equal(code, 1);
    assert.match(err, /^s7-secure: .*certificate/i);
    assert.equal(err.trim().split("\n").length, 1);
  });
});
