/** The simulator's strictness, runtime controls and several instances side by side (issue: simulator). */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as path from "node:path";
import { S7Error } from "../../src/errors.js";
import { Ids } from "../../src/protocol/constants.js";
import { decodePdu, encodeRequest } from "../../src/protocol/pdu.js";
import { makeSessionCreateObjectRequest } from "../../src/protocol/messages/createObject.js";
import { openSecureChannel } from "../../src/transport/client-channel.js";
import { ControllerSession } from "../../src/client/controller-session.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { SimulatedSession } from "../../src/simulator/session.js";
import { TagTable } from "../../src/simulator/tag-table.js";
import { ControllerModel } from "../../src/simulator/controller.js";
import { applySimulatorCommand } from "../../src/simulator/controls.js";
import { defaultSimulatorConfig } from "../../src/simulator/config.js";
import { selfSignedCertificate } from "../support/certs.js";
import { PinnedVerifier } from "../support/pinned-verifier.js";

async function session(sim: Simulator): Promise<ControllerSession> {
  return ControllerSession.open(
    { host: "127.0.0.1", port: sim.port, accessPoint: "" },
    { plc: sim.name, verifier: new PinnedVerifier(sim.fingerprint256), connectTimeoutMs: 5000, requestTimeoutMs: 3000 },
    new AbortController().signal,
  );
}

describe("simulator: strictness, controls, instances", function () {
  this.timeout(30_000);
  let sim: Simulator;
  before(async () => {
    sim = await Simulator.start(defaultSimulatorConfig());
  });
  after(async () => sim.stop());
  afterEach(() => sim.clearFaults());

  it("answers a request with an unknown session id with an Error answer (−106), not a crash", () => {
    const model = new ControllerModel({ name: "S", orderNumber: "6ES7 516-3AN02-0AB0", firmware: "3.1", protectionLevel: 1, readMax: 20, writeMax: 20, runState: "RUN" });
    const s = new SimulatedSession(model, new TagTable([]), { exportKeyingMaterial: () => Buffer.alloc(32) }, { sessionId: 0x70001000 });
    s.handle(1, encodeRequest({ functionCode: 0x04ca, sequenceNumber: 2, sessionId: Ids.ObjectNullServerSession, transportFlags: 0x36 }, { service: "CreateObject", body: makeSessionCreateObjectRequest() }));
    const answer = s.handle(2, encodeRequest({ functionCode: 0x054c, sequenceNumber: 3, sessionId: 0x12345678, transportFlags: 0x34 }, { service: "GetMultiVariables", body: { linkId: 0, addresses: [], integrityId: 1 } }));
    const d = decodePdu(answer!.pdu);
    assert.ok(d.kind === "response" && d.message.service === "Error");
    if (d.kind === "response" && d.message.service === "Error") assert.equal(Number(BigInt.asIntN(16, d.message.body.returnValue)), -106);
  });

  it("resets a connection that sends a malformed or an oversized frame; other connections are unaffected", async () => {
    const other = await session(sim);
    try {
      for (const bad of [Buffer.from([0x31, 0x00]), Buffer.alloc(1_200_000, 0x31)]) {
        const ch = await openSecureChannel({ host: "127.0.0.1", port: sim.port, plc: "X", verifier: new PinnedVerifier(sim.fingerprint256) });
        const closed = new Promise<void>((resolve) => ch.once("close", () => resolve()));
        ch.start();
        ch.sendPdu(2, bad);
        await closed;
        assert.equal(ch.isClosed, true);
      }
      assert.equal((await other.read(["Line.Setpoint"]))[0]!.ok, true);
    } finally {
      await other.close();
    }
  });

  it("runtime controls: RUN/STOP, delays, values, statistics, certificate swap, unknown commands", async () => {
    assert.equal(applySimulatorCommand(sim, "stop"), "OK STOP");
    assert.equal(sim.runState, "STOP");
    assert.equal(applySimulatorCommand(sim, "run"), "OK RUN");
    assert.equal(applySimulatorCommand(sim, "delay 250"), "OK delay 250 ms");
    assert.equal(sim.faults.responseDelayMs, 250);
    assert.equal(applySimulatorCommand(sim, "drop-after 3"), "OK drop-after 3");
    assert.equal(applySimulatorCommand(sim, "blackhole on"), "OK blackhole on");
    assert.equal(applySimulatorCommand(sim, "clear"), "OK faults cleared");
    assert.deepEqual([sim.faults.responseDelayMs, sim.faults.dropAfterRequests, sim.faults.blackHole], [0, undefined, false]);
    assert.equal(applySimulatorCommand(sim, 'set Line.Name "from stdin"'), 'OK Line.Name = "from stdin"');
    assert.equal(applySimulatorCommand(sim, "get Line.Name"), 'OK "from stdin"');
    assert.match(applySimulatorCommand(sim, "stats"), /^OK \{"connectionsOpen":\d+/);
    assert.match(applySimulatorCommand(sim, "set Line.Setpoint 99999"), /^ERR .*99999 is outside/);
    assert.match(applySimulatorCommand(sim, "launch rockets"), /^ERR unknown command "launch"/);
    const cert = selfSignedCertificate({ commonName: "SWAPPED" });
    sim.swapCertificate({ cert: cert.certPem, key: cert.keyPem });
    assert.equal(sim.fingerprint256, cert.fingerprint256);
    const s = await session(sim);
    try {
      assert.equal(s.info.verdict.certificate.fingerprint256, cert.fingerprint256);
    } finally {
      await s.close();
    }
  });

  it("every fault control acts: delayed answers, drop after N requests, stalled handshake, fatal SystemEvent, malformed frame, refused connections, slow-loris", async () => {
    const s = await session(sim);
    try {
      sim.faults.responseDelayMs = 200;
      const started = Date.now();
      assert.equal((await s.read(["Line.Setpoint"]))[0]!.ok, true);
      assert.ok(Date.now() - started >= 180, "delayed");
      sim.faults.responseDelayMs = 0;
      sim.faults.dropAfterRequests = 0;
      await assert.rejects(s.read(["Line.Setpoint"]), (e: unknown) => e instanceof S7Error && e.transient);
    } finally {
      await s.close();
      sim.clearFaults();
    }
    sim.faults.stallHandshake = true;
    await assert.rejects(session(sim).then((x) => x.close()), (e: unknown) => e instanceof S7Error && e.code === "ERR_S7_TIMEOUT" || (e instanceof S7Error && /TLS handshake|connection/.test(e.message)));
    sim.clearFaults();
    for (const [fault, code] of [["fatal", "ERR_S7_SYSTEM_EVENT"], ["malformed", "ERR_S7_PROTOCOL"]] as const) {
      const t = await session(sim);
      const closed = new Promise<S7Error>((resolve) => t.onClosed(resolve));
      if (fault === "fatal") sim.sendFatalSystemEvent();
      else sim.sendMalformedFrame();
      assert.equal((await closed).code, code);
    }
    sim.faults.refuseConnections = true;
    await assert.rejects(session(sim), (e: unknown) => e instanceof S7Error && e.transient);
    sim.clearFaults();
    const slow = await session(sim);
    try {
      sim.faults.slowLorisBytesPerSecond = 200;
      const started = Date.now();
      assert.equal((await slow.read(["Line.Setpoint"]))[0]!.ok, true);
      assert.ok(Date.now() - started > 100, "trickled");
    } finally {
      sim.clearFaults();
      await slow.close();
    }
  });

  it("two instances side by side answer with their own values", async () => {
    const second = await Simulator.start({ ...defaultSimulatorConfig(), name: "PLC2" });
    second.setValue("Line.Name", "PLC2");
    sim.setValue("Line.Name", "PLC1");
    try {
      const [a, b] = await Promise.all([session(sim), session(second)]);
      try {
        assert.notEqual(sim.port, second.port);
        const [va, vb] = await Promise.all([a.read(["Line.Name"]), b.read(["Line.Name"])]);
        assert.deepEqual([va[0]!.ok && va[0]!.value, vb[0]!.ok && vb[0]!.value], ["PLC1", "PLC2"]);
      } finally {
        await a.close();
        await b.close();
      }
    } finally {
      await second.stop();
    }
  });

  it("s7-secure sim takes controls on standard input", async () => {
    const bin = path.resolve(__dirname, "..", "..", "..", "bin", "s7-secure.js");
    const child = spawn(process.execPath, [bin, "sim", "--port", "0", "--seconds", "30"], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const waitFor = async (re: RegExp): Promise<void> => {
      const end = Date.now() + 10_000;
      while (!re.test(out)) {
        if (Date.now() > end) throw new Error(`no ${re} in: ${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      await waitFor(/READY port=\d+/);
      child.stdin.write("stop\n");
      await waitFor(/OK STOP/);
      child.stdin.write("get Line.Setpoint\n");
      await waitFor(/OK 1200/);
    } finally {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    assert.match(out, /STOPPED/);
  });
});
