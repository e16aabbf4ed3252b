/**
 * docs/RELIABILITY-MATRIX.md "TLS and address handling", "Timeouts, reconnect, fault
 * injection", "S7CommPlus framing and session" and "Load": the client
 * against the simulator over TLS, through a fault proxy where the fault is
 * on the path. Test names are the checklist lines (docs/RELIABILITY-MATRIX.md).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { S7Error } from "../../src/errors.js";
import { ControllerConnection, type ControllerConnectionConfig } from "../../src/client/controller-connection.js";
import type { ReadOutcome } from "../../src/client/results.js";
import { openSecureChannel } from "../../src/transport/client-channel.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { defaultSimulatorConfig } from "../../src/simulator/config.js";
import { encodeTpkt } from "../../src/transport/tpkt.js";
import { encodeDr } from "../../src/transport/cotp.js";
import { FaultProxy } from "../support/fault-proxy.js";
import { PinnedVerifier } from "../support/pinned-verifier.js";
import { testConnection } from "../support/connection.js";

function connection(sim: Simulator, port: number, extra: Partial<ControllerConnectionConfig> = {}): ControllerConnection {
  return testConnection(port, new PinnedVerifier(sim.fingerprint256), extra);
}

/** A started connection that has read once, with the diagnostic lines it reports. */
async function connectedWithLog(sim: Simulator): Promise<{ c: ControllerConnection; logged: string[] }> {
  const c = connection(sim, sim.port);
  const logged: string[] = [];
  c.on("diagnostic", (line: string) => logged.push(line));
  c.start();
  const first = await readOne(c);
  if (!first.ok) await c.close();
  assert.equal(first.ok, true);
  return { c, logged };
}

/** One tag; a failed request (connection-level) becomes a failed outcome like a per-item error. */
async function readOne(c: ControllerConnection, tag = "Line.Setpoint"): Promise<ReadOutcome> {
  try {
    return (await c.read([tag]))[0]!;
  } catch (err) {
    assert.ok(err instanceof S7Error, `untyped failure: ${String(err)}`);
    return { tag, ok: false, error: err };
  }
}

async function writeOne(c: ControllerConnection, tag: string, value: unknown): Promise<{ ok: boolean; error?: S7Error }> {
  try {
    return (await c.write([{ tag, value }]))[0]!;
  } catch (err) {
    assert.ok(err instanceof S7Error, `untyped failure: ${String(err)}`);
    return { ok: false, error: err };
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function failedWith(o: ReadOutcome, code: string, message?: RegExp): void {
  assert.equal(o.ok, false, "expected a failure");
  if (o.ok) return;
  assert.ok(o.error instanceof S7Error);
  assert.equal(o.error.code, code, o.error.message);
  if (message) assert.match(o.error.message, message);
}

async function failure(p: Promise<unknown>): Promise<S7Error> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof S7Error, String(err));
    return err;
  }
  throw new Error("expected a rejection");
}

describe("reliability: faults on the path and in the controller", function () {
  this.timeout(120_000);
  let sim: Simulator;
  before(async () => {
    sim = await Simulator.start(defaultSimulatorConfig());
  });
  after(async () => sim.stop());
  afterEach(() => sim.clearFaults());

  it("Frame split at every byte boundary → identical decoded results", async () => {
    const proxy = await FaultProxy.start(sim.port);
    const c = connection(sim, proxy.port);
    try {
      c.start();
      const normal = await c.read(["Line.Recipe", "AllTypes.WString", "AllTypes.Matrix"]);
      proxy.faults.splitBytes = true;
      const split = await c.read(["Line.Recipe", "AllTypes.WString", "AllTypes.Matrix"]);
      assert.deepEqual(split, normal);
      assert.ok(split.every((o) => o.ok));
    } finally {
      await c.close();
      await proxy.stop();
    }
  });

  it("Bit flip in ciphertext mid-session → pending requests fail (typed), session torn down, reconnect", async () => {
    const proxy = await FaultProxy.start(sim.port);
    const c = connection(sim, proxy.port);
    try {
      c.start();
      assert.equal((await readOne(c)).ok, true);
      const connectionsBefore = proxy.connections;
      proxy.flipBitInNext(20);
      const bad = await readOne(c);
      failedWith(bad, "ERR_S7_TLS");
      await until("reconnected", async () => (await readOne(c)).ok);
      assert.equal(proxy.connections, connectionsBefore + 1);
    } finally {
      await c.close();
      await proxy.stop();
    }
  });

  it("close_notify or FIN in the middle of a response → pending requests fail with \"connection closed during response\", no partial data", async () => {
    const proxy = await FaultProxy.start(sim.port);
    const c = connection(sim, proxy.port, { requestTimeoutMs: 5000 });
    try {
      c.start();
      assert.equal((await readOne(c)).ok, true);
      sim.faults.slowLorisBytesPerSecond = 200;
      const pending = readOne(c, "Line.Recipe");
      await new Promise((r) => setTimeout(r, 150)); // some bytes of the answer are through
      proxy.cut(false);
      failedWith(await pending, "ERR_S7_CONNECTION_CLOSED", /connection closed during response/);
    } finally {
      await c.close();
      await proxy.stop();
    }
  });

  it("COTP DR or ER mid-session → pending requests fail, reconnect", async () => {
    const proxy = await FaultProxy.start(sim.port);
    const c = connection(sim, proxy.port, { requestTimeoutMs: 5000 });
    try {
      c.start();
      assert.equal((await readOne(c)).ok, true);
      sim.faults.responseDelayMs = 300;
      const pending = readOne(c);
      await new Promise((r) => setTimeout(r, 50));
      proxy.injectToClients(encodeTpkt(encodeDr(1, 1)));
      failedWith(await pending, "ERR_S7_CONNECTION_CLOSED", /disconnect request/);
      sim.faults.responseDelayMs = 0;
      await until("reconnected", async () => (await readOne(c)).ok);
    } finally {
      await c.close();
      await proxy.stop();
    }
  });

  it("PLC accepts TCP but never answers → connect deadline fires (retry with back-off)", async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const sockets: net.Socket[] = [];
    silent.on("connection", (s) => sockets.push(s));
    try {
      const err = await failure(openSecureChannel({ host: "127.0.0.1", port: (silent.address() as net.AddressInfo).port, plc: "PLC1", verifier: new PinnedVerifier(sim.fingerprint256), connectTimeoutMs: 300 }));
      assert.equal(err.code, "ERR_S7_TIMEOUT");
      assert.match(err.message, /within 300 ms \(COTP connection request\)/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it("Slow-loris PLC (1 byte/s) → whole-request deadline fires despite the trickle", async () => {
    const c = connection(sim, sim.port, { requestTimeoutMs: 600 });
    try {
      c.start();
      assert.equal((await readOne(c)).ok, true);
      sim.faults.slowLorisBytesPerSecond = 1;
      const started = Date.now();
      failedWith(await readOne(c), "ERR_S7_TIMEOUT", /no answer within 600 ms/);
      assert.ok(Date.now() - started < 5000);
    } finally {
      await c.close();
    }
  });

  it("Black-holed path (no RST, no data) → detected by the request deadline", async () => {
    const proxy = await FaultProxy.start(sim.port);
    const c = connection(sim, proxy.port, { requestTimeoutMs: 500 });
    try {
      c.start();
      assert.equal((await readOne(c)).ok, true);
      proxy.faults.blackHole = true;
      failedWith(await readOne(c), "ERR_S7_TIMEOUT");
      assert.notEqual(c.status.state, "connected", "a connection whose controller does not answer is ended");
    } finally {
      await c.close();
      await proxy.stop();
    }
  });

  it("Connection cut mid-request → that request fails with a transient error; one reconnect; later requests succeed", async () => {
    const c = connection(sim, sim.port, { requestTimeoutMs: 5000 });
    try {
      c.start();
      assert.equal((await readOne(c)).ok, true);
      const total = sim.stats.connectionsTotal;
      sim.faults.responseDelayMs = 300;
      const pending = readOne(c);
      await new Promise((r) => setTimeout(r, 50));
      sim.dropConnections();
      const o = await pending;
      assert.equal(o.ok, false);
      if (!o.ok) assert.equal(o.error.transient, true, o.error.message);
      sim.faults.responseDelayMs = 0;
      await until("read after reconnect", async () => (await readOne(c)).ok);
      assert.equal(sim.stats.connectionsTotal, total + 1, "exactly one reconnect");
    } finally {
      await c.close();
    }
  });

  it("Protocol error → no tight reconnect loop; back-off applies; the error is shown as non-transient", async () => {
    const c = connection(sim, sim.port, { reconnectMinMs: 300, reconnectMaxMs: 300 });
    try {
      c.start();
      assert.equal((await readOne(c)).ok, true);
      const total = sim.stats.connectionsTotal;
      sim.sendMalformedFrame();
      await until("reconnect wait", () => c.status.state === "reconnect-wait");
      const status = c.status;
      assert.equal(status.lastError?.code, "ERR_S7_PROTOCOL");
      assert.equal(status.lastError?.transient, false);
      assert.ok((status.retryInMs ?? 0) >= 240, `retry in ${status.retryInMs} ms`);
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(sim.stats.connectionsTotal, total, "no reconnect before the back-off");
    } finally {
      await c.close();
    }
  });

  it("Fatal SystemEvent (negative ReturnValue) → all pending requests fail with the PLC's code, reconnect", async () => {
    const c = connection(sim, sim.port, { requestTimeoutMs: 5000 });
    try {
      c.start();
      assert.equal((await readOne(c)).ok, true);
      sim.faults.responseDelayMs = 400;
      const pending = readOne(c, "Line.Setpoint");
      await new Promise((r) => setTimeout(r, 50));
      sim.sendFatalSystemEvent(-352);
      failedWith(await pending, "ERR_S7_SYSTEM_EVENT", /code -352 SecurityDisconnect/);
      sim.faults.responseDelayMs = 0;
      await until("reconnected", async () => (await readOne(c)).ok);
    } finally {
      await c.close();
    }
  });

  it("Non-fatal SystemEvent interleaved with responses → ignored, responses still matched", async () => {
    const c = connection(sim, sim.port);
    try {
      c.start();
      assert.equal((await readOne(c)).ok, true);
      sim.faults.responseDelayMs = 100;
      const pending = c.read(["Line.Setpoint", "Line.Name"]);
      sim.sendSystemEventConfirmation();
      const out = await pending;
      assert.ok(out.every((o) => o.ok));
      assert.equal(c.status.state, "connected");
    } finally {
      await c.close();
    }
  });

  // Policy changed (docs/RELIABILITY-MATRIX.md, IntegrityId line): TLS already protects the answer and the
  // hardware-validated drivers log or ignore a mismatch, so it no longer ends the connection.
  it("IntegrityId mismatch → logged once per session with both values, counted in the diagnostics; the session continues", async () => {
    const { c, logged } = await connectedWithLog(sim);
    try {
      const connections = sim.stats.connectionsTotal;
      sim.faults.wrongIntegrityId = true;
      for (let i = 0; i < 3; i++) assert.deepEqual(await c.read(["Line.Setpoint"]), [{ tag: "Line.Setpoint", ok: true, value: 1200 }]);
      assert.equal(c.diagnostics.integrityIdMismatches, 3);
      assert.equal(logged.length, 1, logged.join("\n"));
      assert.match(logged[0]!, /IntegrityId (\d+), expected (\d+)/);
      const [, got, expected] = /IntegrityId (\d+), expected (\d+)/.exec(logged[0]!)!;
      assert.equal(Number(got), Number(expected) + 1, "both values are named");
      assert.equal(sim.stats.connectionsTotal, connections, "no reconnect");
      assert.equal(c.status.state, "connected");
    } finally {
      await c.close();
    }
  });

  it("Negative ReturnValue next to per-item results → only the failing item fails; counted and logged once", async () => {
    const { c, logged } = await connectedWithLog(sim);
    try {
      sim.faults.returnValueOnItemError = "also";
      for (let i = 0; i < 2; i++) {
        const [good, bad, other] = await c.read(["Line.Setpoint", "DB99.DBW0:INT", "Line.Name"]);
        assert.deepEqual(good, { tag: "Line.Setpoint", ok: true, value: 1200 });
        failedWith(bad!, "ERR_S7_ITEM", /DB99\.DBW0:INT.*-12/);
        assert.deepEqual(other, { tag: "Line.Name", ok: true, value: "PLC1" });
      }
      const [written, refused] = await c.write([
        { tag: "Line.Setpoint", value: 1201 },
        { tag: "DB99.DBW0:INT", value: 1 },
      ]);
      assert.equal(written!.ok, true, "the write's item list decides as well");
      assert.equal(refused!.ok, false);
      assert.equal(sim.getValue("Line.Setpoint"), 1201);
      assert.equal(c.diagnostics.negativeReturnValues, 3);
      assert.equal(logged.filter((l) => /ReturnValue -12/.test(l)).length, 2, `one line per kind (read, write): ${logged.join("\n")}`);
      await c.write([{ tag: "Line.Setpoint", value: 1200 }]);
    } finally {
      await c.close();
    }
  });

  it("Negative ReturnValue without per-item lists → every item of that request fails with the PLC's code; the session continues", async () => {
    const c = connection(sim, sim.port);
    try {
      c.start();
      assert.equal((await readOne(c)).ok, true);
      sim.faults.returnValueOnItemError = "only";
      // Absolute addresses: no re-resolution, so each outcome shows what the answer said.
      const outcomes = await c.read(["DB10.DBW0:INT", "DB99.DBW0:INT"]);
      for (const o of outcomes) failedWith(o, "ERR_S7_ITEM", /-12/);
      sim.faults.returnValueOnItemError = undefined;
      assert.equal((await c.read(["DB10.DBW0:INT"]))[0]!.ok, true);
      assert.equal(c.status.state, "connected");
    } finally {
      await c.close();
    }
  });

  for (const mode of [undefined, "only"] as const) {
    it(`Program changed under a resolved tag (stale symbol, ${mode === undefined ? "per-item error" : "ReturnValue only"}) → resolved afresh once and read right`, async () => {
      const own = await Simulator.start({
        ...defaultSimulatorConfig(),
        dataBlocks: [{ name: "Cell", number: 30, members: [{ name: "A", type: "Int", value: 10 }, { name: "B", type: "Int", value: 11 }] }],
      });
      const c = connection(own, own.port);
      try {
        c.start();
        assert.deepEqual(await c.read(["Cell.B"]), [{ tag: "Cell.B", ok: true, value: 11 }]);
        // A new program: A and B swap places, so the LID the client resolved for A now holds B
        // and the symbol CRC of the old path no longer matches.
        const [a, b] = own.table.blocks[0]!.type.members;
        [a!.name, b!.name] = [b!.name, a!.name];
        own.faults.returnValueOnItemError = mode;
        const explores = own.stats.requestsByService.Explore ?? 0;
        assert.deepEqual(await c.read(["Cell.A"]), [{ tag: "Cell.A", ok: true, value: 11 }]);
        assert.ok((own.stats.requestsByService.Explore ?? 0) > explores, "the symbols were explored afresh");
      } finally {
        await c.close();
        await own.stop();
      }
    });
  }

  it("PLC restarts (RST, then refusals, then back) → reconnects automatically and resumes polling without a redeploy", async () => {
    const cfg = { ...defaultSimulatorConfig(), certificate: { mode: "self-signed" as const, dir: fs.mkdtempSync(path.join(os.tmpdir(), "s7-restart-")) } };
    const own = await Simulator.start(cfg);
    const c = connection(own, own.port);
    let again: Simulator | undefined;
    try {
      c.start();
      assert.equal((await readOne(c)).ok, true);
      await own.stop(); // RST of the session, then refused connections
      assert.equal((await readOne(c)).ok, false);
      await new Promise((r) => setTimeout(r, 300));
      again = await Simulator.start({ ...cfg, port: own.port });
      await until("polling resumes", async () => (await readOne(c)).ok, 15_000);
    } finally {
      await c.close();
      await again?.stop();
      fs.rmSync(cfg.certificate.dir, { recursive: true, force: true });
    }
  });

  it("Writes: a write cut before its answer is reported failed, never sent twice after the reconnect", async () => {
    const c = connection(sim, sim.port, { requestTimeoutMs: 5000 });
    try {
      c.start();
      assert.equal((await readOne(c)).ok, true);
      // Item writes, not requests: the session set-up of the reconnect is a SetMultiVariables too.
      const before = sim.stats.itemsWritten;
      sim.faults.responseDelayMs = 300;
      const pending = writeOne(c, "Line.Setpoint", 4242);
      await new Promise((r) => setTimeout(r, 50));
      sim.dropConnections();
      const outcome = await pending;
      assert.equal(outcome.ok, false);
      assert.equal(outcome.error?.transient, true);
      sim.faults.responseDelayMs = 0;
      await until("reconnected", async () => (await readOne(c)).ok);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(sim.stats.itemsWritten - before, 1, "sent exactly once");
    } finally {
      await c.close();
    }
  });

  it("A write split over several requests writes nothing when one value is bad", async () => {
    const c = connection(sim, sim.port);
    try {
      c.start();
      const entries = [
        ...Array.from({ length: 10 }, (_, i) => ({ tag: `Line.Recipe.Steps[${i}]`, value: 500 + i })),
        ...Array.from({ length: 8 }, (_, i) => ({ tag: `AllTypes.Bools[${i}]`, value: true })),
        { tag: "Line.Setpoint", value: 1 },
        { tag: "AllTypes.UInt", value: 2 },
        { tag: "AllTypes.SInt", value: 3 },
        { tag: "AllTypes.Int", value: 99999 },
      ];
      const stepsBefore = sim.getValue("Line.Recipe.Steps");
      const written = sim.stats.itemsWritten;
      const out = await c.write(entries);
      assert.equal(out.length, entries.length);
      assert.ok(out.every((o) => !o.ok));
      assert.match(out.at(-1)!.ok ? "" : out.at(-1)!.error.message, /99999 is outside/);
      assert.equal(sim.stats.itemsWritten, written, "nothing reached the controller");
      assert.deepEqual(sim.getValue("Line.Recipe.Steps"), stepsBefore);
    } finally {
      await c.close();
    }
  });

  it("Requests faster than the PLC answers → bounded queue, explicit overload error, memory flat", async () => {
    const c = connection(sim, sim.port, { requestTimeoutMs: 5000, maxQueuedItems: 50 });
    try {
      c.start();
      assert.equal((await readOne(c)).ok, true);
      sim.faults.responseDelayMs = 200;
      const reads = Array.from({ length: 200 }, () => c.read(["Line.Setpoint"]).then((o) => o[0]!, (err: unknown) => ({ tag: "x", ok: false as const, error: err as S7Error })));
      const out = await Promise.all(reads);
      const overloaded = out.filter((o) => !o.ok && o.error.code === "ERR_S7_OVERLOAD");
      assert.ok(overloaded.length >= 100, `${overloaded.length} overload errors`);
      assert.ok(out.filter((o) => o.ok).length >= 1);
    } finally {
      await c.close();
    }
  });

  it("Process clock jump → deadlines on a monotonic clock still behave", async () => {
    const c = connection(sim, sim.port, { requestTimeoutMs: 800 });
    const realNow = Date.now;
    try {
      c.start();
      assert.equal((await readOne(c)).ok, true);
      sim.faults.responseDelayMs = 200;
      const pending = readOne(c);
      Date.now = () => realNow() + 3_600_000; // the wall clock jumps an hour ahead
      assert.equal((await pending).ok, true, "no spurious timeout");
      Date.now = () => realNow() - 3_600_000; // and back behind
      sim.faults.blackHole = true;
      failedWith(await readOne(c), "ERR_S7_TIMEOUT", /800 ms/);
    } finally {
      Date.now = realNow;
      await c.close();
    }
  });

  it("Disconnect or redeploy during the handshake → stops cleanly, no late reconnect, no leaked socket", async () => {
    sim.faults.stallHandshake = true;
    const total = sim.stats.connectionsTotal;
    const c = connection(sim, sim.port, { reconnectMinMs: 50, reconnectMaxMs: 50 });
    c.start();
    await until("attempt reached the controller", () => sim.stats.connectionsTotal > total);
    await c.close();
    sim.clearFaults();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(sim.stats.connectionsTotal, total + 1, "no late reconnect");
    await until("socket gone", () => sim.stats.connectionsOpen === 0, 3000);
  });

  it("1000 cut/reconnect cycles → no growth in sockets, timers, listeners or heap; never more than one connection to a PLC", async () => {
    const cycles = Number(process.env.S7_RECONNECT_CYCLES ?? 1000);
    const c = connection(sim, sim.port, { reconnectMinMs: 1, reconnectMaxMs: 2 });
    let maxOpen = 0;
    const onConnect = (): void => {
      maxOpen = Math.max(maxOpen, sim.stats.connectionsOpen);
    };
    sim.on("connect", onConnect);
    const handles = (): number => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
    try {
      c.start();
      assert.equal((await readOne(c)).ok, true);
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      const handlesBefore = handles();
      const heapBefore = process.memoryUsage().heapUsed;
      const started = Date.now();
      for (let i = 0; i < cycles; i++) {
        sim.dropConnections();
        await until(`cycle ${i}`, async () => (await readOne(c)).ok, 10_000);
      }
      const seconds = (Date.now() - started) / 1000;
      await new Promise((r) => setTimeout(r, 200));
      gc?.();
      const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 1048576;
      const handleGrowth = handles() - handlesBefore;
      console.log(`      ${cycles} cycles in ${seconds.toFixed(1)} s: heap ${heapGrowthMb >= 0 ? "+" : ""}${heapGrowthMb.toFixed(1)} MB, handles ${handleGrowth >= 0 ? "+" : ""}${handleGrowth}, max open connections ${maxOpen}`);
      assert.ok(maxOpen <= 1, `${maxOpen} connections open at once`);
      assert.ok(handleGrowth <= 2, `${handleGrowth} more handles`);
      // With a collection before and after (mocha runs with --expose-gc) the growth is a few MB.
      assert.ok(heapGrowthMb < (gc ? 10 : 40), `heap grew by ${heapGrowthMb.toFixed(1)} MB`);
      assert.ok(c.listenerCount("status") <= 1);
    } finally {
      sim.off("connect", onConnect);
      await c.close();
    }
  });
});
