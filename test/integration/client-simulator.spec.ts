import { strict as assert } from "node:assert";
import { S7Error, ValueError } from "../../src/errors.js";
import { ControllerConnection, type ControllerConnectionConfig } from "../../src/client/controller-connection.js";
import { openSecureChannel } from "../../src/transport/client-channel.js";
import type { CertificateVerifier } from "../../src/transport/verifier.js";
import { encodeRequest } from "../../src/protocol/pdu.js";
import { FunctionCode, Ids } from "../../src/protocol/constants.js";
import { ProtocolVersion } from "../../src/protocol/frame.js";
import { makeSessionCreateObjectRequest } from "../../src/protocol/messages/createObject.js";
import { ControllerSession, type ControllerSessionOptions } from "../../src/client/controller-session.js";
import { PlcDate } from "../../src/values/plc-time.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { defaultSimulatorConfig, type SimulatorConfig } from "../../src/simulator/config.js";
import { PinnedVerifier } from "../support/pinned-verifier.js";
import { testConnection } from "../support/connection.js";

function options(sim: Simulator, extra: Partial<ControllerSessionOptions> = {}): ControllerSessionOptions {
  return {
    plc: "PLC1",
    verifier: new PinnedVerifier(sim.fingerprint256),
    connectTimeoutMs: 5000,
    requestTimeoutMs: 5000,
    ...extra,
  };
}

async function connect(sim: Simulator, extra: Partial<ControllerSessionOptions> = {}): Promise<ControllerSession> {
  return ControllerSession.open({ host: "127.0.0.1", port: sim.port, accessPoint: "" }, options(sim, extra), new AbortController().signal);
}

function values(outcomes: { tag: string; ok: boolean; value?: unknown; error?: S7Error }[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const o of outcomes) {
    if (!o.ok) throw o.error;
    out[o.tag] = o.value;
  }
  return out;
}

describe("client against the simulator over TLS on 127.0.0.1", function () {
  this.timeout(30000);
  let sim: Simulator;
  let session: ControllerSession;

  before(async () => {
    sim = await Simulator.start({ ...defaultSimulatorConfig(), tagsPerReadMax: 5, tagsPerWriteMax: 4 });
    session = await connect(sim);
  });
  after(async () => {
    await session?.close();
    await sim?.stop();
  });

  it("sets up the session: TLS 1.3, controller identity from the PAOM string, limits, protection level", () => {
    assert.equal(session.info.tlsVersion, "TLSv1.3");
    assert.equal(session.info.identity.orderNumber, "6ES7 516-3AN02-0AB0");
    assert.equal(session.info.identity.firmware, "3.1");
    assert.equal(session.info.identity.family, "S7-1500");
    assert.deepEqual(session.limits, { readMax: 5, writeMax: 4 });
    assert.equal(session.info.protectionLevel, 1);
  });

  it("browses the data blocks with nested structs, arrays and UDTs", async () => {
    const tree = await session.browse();
    assert.deepEqual(tree.map((n) => n.name), ["Line", "AllTypes", "Raw"]);
    const line = tree[0]!;
    const recipe = line.children!.find((c) => c.name === "Recipe")!;
    assert.equal(recipe.type, '"UDT_Recipe"');
    assert.deepEqual(recipe.children!.map((c) => `${c.name}:${c.type}`), ["Id:UDInt", "Title:WString[32]", "Steps:Array[0..9] of Int", "Limits:Struct"]);
    assert.equal(recipe.children![2]!.tag, "Line.Recipe.Steps");
  });

  it("reads every elementary type with the value mapping of docs/NODES.md §6", async () => {
    const names = ["Bool", "Byte", "Char", "Word", "Int", "DWord", "DInt", "Real", "Date", "TOD", "Time", "S5Time", "DT", "String", "LReal", "ULInt", "LInt", "LWord", "USInt", "UInt", "UDInt", "SInt", "WChar", "WString", "LTime", "LTOD", "LDT", "DTL"];
    const v = values(await session.read(names.map((n) => `AllTypes.${n}`)));
    const g = (n: string): unknown => v[`AllTypes.${n}`];
    assert.equal(g("Bool"), true);
    assert.equal(g("Byte"), 0x12);
    assert.equal(g("Char"), "A");
    assert.equal(g("Word"), 0x1234);
    assert.equal(g("Int"), -1234);
    assert.equal(g("DWord"), 0xdeadbeef);
    assert.equal(g("DInt"), -123456789);
    assert.equal(g("Real"), 3.5);
    assert.equal((g("Date") as Date).toISOString(), "2024-02-29T00:00:00.000Z");
    assert.equal(g("TOD"), 45_296_789);
    assert.equal(g("Time"), -5000);
    assert.equal(g("S5Time"), 12_300);
    assert.equal((g("DT") as Date).toISOString(), "2024-12-24T18:30:05.120Z");
    assert.equal(g("String"), "Hallo");
    assert.equal(g("LReal"), 2.718281828459045);
    assert.equal(g("ULInt"), 18446744073709551615n);
    assert.equal(g("LInt"), -9223372036854775808n);
    assert.equal(g("LWord"), 81985529216486895n);
    assert.equal(g("USInt"), 200);
    assert.equal(g("UInt"), 60000);
    assert.equal(g("UDInt"), 4000000000);
    assert.equal(g("SInt"), -100);
    assert.equal(g("WChar"), "Ω");
    assert.equal(g("WString"), "Grüße, 温度");
    assert.equal(g("LTime"), 1500000000n);
    assert.equal(g("LTOD"), 3600000000000n);
    assert.ok(g("LDT") instanceof PlcDate);
    assert.equal((g("LDT") as Date).toISOString(), "2024-01-02T03:04:05.678Z");
    assert.equal((g("DTL") as Date).toISOString(), "2023-07-14T09:08:07.006Z");
  });

  it("reads arrays, array elements, structs, UDTs and arrays of structs", async () => {
    const v = values(await session.read(["AllTypes.Bools", "AllTypes.Matrix", "AllTypes.Matrix[2,1]", "Line.Recipe", "AllTypes.Motors", "AllTypes.Motors[2].Rpm", "Line.Recipe.Steps[3]"]));
    assert.deepEqual(v["AllTypes.Bools"], [true, false, true, false, false, false, false, true]);
    assert.deepEqual(v["AllTypes.Matrix"], [[1, 2, 3], [4, 5, 6]]);
    assert.equal(v["AllTypes.Matrix[2,1]"], 5);
    assert.deepEqual(v["Line.Recipe"], { Id: 4711, Title: "Grundrezept", Steps: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100], Limits: { Min: -10.5, Max: 99.5 } });
    assert.deepEqual(v["AllTypes.Motors"], [{ On: false, Rpm: 0 }, { On: false, Rpm: 0 }]);
    assert.equal(v["AllTypes.Motors[2].Rpm"], 0);
    assert.equal(v["Line.Recipe.Steps[3]"], 40);
  });

  it("writes every kind of value and reads it back; the simulator holds the new values", async () => {
    const entries = [
      { tag: "Line.Setpoint", value: 1500 },
      { tag: "Line.Name", value: "Linie 7" },
      { tag: "AllTypes.LInt", value: 123456789012345n },
      { tag: "AllTypes.ULInt", value: "18446744073709551000" },
      { tag: "AllTypes.DTL", value: new PlcDate(Date.UTC(2026, 10, 24, 8, 0, 0, 5), 5_000_123) },
      { tag: "AllTypes.WString", value: "Überdruck" },
      { tag: "AllTypes.Matrix", value: [[9, 8, 7], [6, 5, 4]] },
      { tag: "Line.Recipe", value: { Id: 42, Limits: { Max: 120 } } },
      { tag: "AllTypes.Motors[1].On", value: true },
    ];
    const written = await session.write(entries);
    assert.deepEqual(written.map((o) => o.ok), entries.map(() => true));
    assert.equal(sim.getValue("Line.Setpoint"), 1500);
    assert.equal(sim.getValue("Line.Recipe.Limits.Max"), 120);
    const v = values(await session.read(entries.map((e) => e.tag)));
    assert.equal(v["Line.Name"], "Linie 7");
    assert.equal(v["AllTypes.LInt"], 123456789012345n);
    assert.equal(v["AllTypes.ULInt"], 18446744073709551000n);
    assert.equal((v["AllTypes.DTL"] as PlcDate).nanoseconds, 5_000_123);
    assert.deepEqual(v["AllTypes.Matrix"], [[9, 8, 7], [6, 5, 4]]);
    assert.equal((v["Line.Recipe"] as { Id: number }).Id, 42);
    assert.equal((v["Line.Recipe"] as { Title: string }).Title, "Grundrezept");
    assert.equal(v["AllTypes.Motors[1].On"], true);
  });

  it("reads and writes a non-optimized block by absolute address (ClassicBlob)", async () => {
    const v = values(await session.read(["DB10.DBW0:INT", "DB10.DBD2:REAL", "DB10.DBX6.0", "DB10.DBX6.1", "DB10.DBB7", "DB10.DBD8:DINT", "DB10.DBB0[4]"]));
    assert.equal(v["DB10.DBW0:INT"], 42);
    assert.equal(v["DB10.DBD2:REAL"], 12.5);
    assert.equal(v["DB10.DBX6.0"], true);
    assert.equal(v["DB10.DBX6.1"], false);
    assert.equal(v["DB10.DBB7"], 7);
    assert.equal(v["DB10.DBD8:DINT"], 100000);
    assert.deepEqual([...(v["DB10.DBB0[4]"] as Buffer)], [0, 42, 0x41, 0x48]);
    const w = await session.write([{ tag: "DB10.DBW0:INT", value: -7 }, { tag: "DB10.DBB12[5]", value: Buffer.from([10, 3, 0x41, 0x42, 0x43]) }]);
    assert.ok(w.every((o) => o.ok), JSON.stringify(w));
    assert.equal(sim.getValue("Raw.Level"), -7);
    assert.equal(sim.getValue("Raw.Label"), "ABC");
    // Absolute bit writes are refused before anything is sent (a CPU may ignore the bit LID and
    // overwrite the byte); the Bool is written by its symbolic name, and absolute bit reads stay.
    const [refused] = await session.write([{ tag: "DB10.DBX6.1", value: true }]);
    assert.ok(!refused!.ok && refused!.error.code === "ERR_S7_VALUE" && /DB10\.DBX6\.1: absolute bit writes are refused.*symbolic name/.test(refused!.error.message), JSON.stringify(refused));
    assert.equal(sim.getValue("Raw.Valve"), false);
    assert.ok((await session.write([{ tag: "Raw.Valve", value: true }]))[0]!.ok);
    const sym = values(await session.read(["Raw.Level", "Raw.Valve", "DB10.DBX6.1"]));
    assert.deepEqual(sym, { "Raw.Level": -7, "Raw.Valve": true, "DB10.DBX6.1": true });
  });

  it("chunks reads and writes to the controller's limits and merges the results in order", async () => {
    const before = sim.stats.requestsByService.GetMultiVariables ?? 0;
    const tags = Array.from({ length: 10 }, (_, i) => `Line.Recipe.Steps[${i}]`);
    const v = await session.read(tags);
    assert.deepEqual(v.map((o) => o.ok && o.value), [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    assert.equal((sim.stats.requestsByService.GetMultiVariables ?? 0) - before, 2);
    const w = await session.write(tags.map((tag, i) => ({ tag, value: i })));
    assert.ok(w.every((o) => o.ok));
    assert.deepEqual(sim.getValue("Line.Recipe.Steps"), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("reports per-tag errors without failing the other tags", async () => {
    const out = await session.read(["Line.Setpoint", "Line.NoSuch", "Nowhere.X", "Line.Recipe.Steps[10]", "Line..bad"]);
    assert.equal(out[0]!.ok, true);
    const codes = out.slice(1).map((o) => (o.ok ? "ok" : o.error.code));
    assert.deepEqual(codes, ["ERR_S7_TAG_NOT_FOUND", "ERR_S7_TAG_NOT_FOUND", "ERR_S7_TAG_NOT_FOUND", "ERR_S7_TAG_SYNTAX"]);
    assert.match(out[1]!.ok ? "" : out[1]!.error.message, /Line\.NoSuch: no member "NoSuch"/);
    assert.match(out[2]!.ok ? "" : out[2]!.error.message, /no data block named "Nowhere"/);
  });

  it("checks values before writing: one bad value writes nothing", async () => {
    const before = sim.getValue("Line.Setpoint");
    const out = await session.write([{ tag: "Line.Setpoint", value: 2 }, { tag: "AllTypes.Int", value: 99999 }]);
    assert.deepEqual(out.map((o) => o.ok), [false, false]);
    assert.match(out[1]!.ok ? "" : out[1]!.error.message, /AllTypes\.Int: 99999 is outside -32768 … 32767/);
    assert.match(out[0]!.ok ? "" : out[0]!.error.message, /not written, because AllTypes\.Int/);
    assert.equal(sim.getValue("Line.Setpoint"), before);
  });

  it("keeps the secure connection up when the controller goes to STOP", async () => {
    sim.setRunState("STOP");
    try {
      const v = await session.read(["Line.Setpoint"]);
      assert.equal(v[0]!.ok, true);
    } finally {
      sim.setRunState("RUN");
    }
  });

  it("ends the session with DeleteObject on close", async () => {
    const extra = await connect(sim);
    const deletes = sim.stats.requestsByService.DeleteObject ?? 0;
    await extra.close();
    assert.equal((sim.stats.requestsByService.DeleteObject ?? 0) - deletes, 1);
  });
});

describe("client legitimation against a password-protected simulator", function () {
  this.timeout(30000);
  const protectedConfig = (firmware: string): SimulatorConfig => ({
    ...defaultSimulatorConfig(),
    name: "PLCP",
    firmware,
    password: "s3cret!",
    protectionLevel: 3,
  });

  for (const [firmware, method] of [["3.1", "new (AES-256-CBC with the TLS exporter key)"], ["2.9", "legacy (SHA-1 XOR)"]] as const) {
    it(`legitimates with the ${method} method on firmware ${firmware} and gets full access`, async () => {
      const sim = await Simulator.start(protectedConfig(firmware));
      try {
        const s = await connect(sim, { password: "s3cret!" });
        try {
          assert.equal(s.info.identity.legitimation, firmware === "3.1" ? "new" : "legacy");
          assert.equal(s.session.protectionLevel, 1);
          const w = await s.write([{ tag: "Line.Setpoint", value: 7 }]);
          assert.equal(w[0]!.ok, true);
        } finally {
          await s.close();
        }
      } finally {
        await sim.stop();
      }
    });
  }

  it("refuses a wrong password with ERR_S7_LEGITIMATION, and the message does not contain it", async () => {
    const sim = await Simulator.start(protectedConfig("3.1"));
    try {
      await assert.rejects(connect(sim, { password: "wrong-password" }), (err: unknown) => err instanceof S7Error && err.code === "ERR_S7_LEGITIMATION" && !err.message.includes("wrong-password"));
    } finally {
      await sim.stop();
    }
  });

  it("without a password a protected controller allows reads at HMI level but refuses nothing silently", async () => {
    const sim = await Simulator.start({ ...protectedConfig("3.1"), protectionLevel: 2 });
    try {
      const s = await connect(sim);
      try {
        assert.equal(s.session.protectionLevel, 2);
        assert.equal((await s.read(["Line.Setpoint"]))[0]!.ok, true);
        const w = await s.write([{ tag: "Line.Setpoint", value: 1 }]);
        assert.equal(w[0]!.ok, false);
        assert.match(w[0]!.ok ? "" : w[0]!.error.message, /ServiceAccessDenied|-100/);
      } finally {
        await s.close();
      }
    } finally {
      await sim.stop();
    }
  });
});

/** The default controller plus five small data blocks Db1 … Db5 (members A and B, Int). */
function fiveBlockConfig(): SimulatorConfig {
  const config = defaultSimulatorConfig();
  for (let i = 1; i <= 5; i++) {
    config.dataBlocks.push({ name: `Db${i}`, number: 10 + i, members: [{ name: "A", type: "Int", value: i * 10 }, { name: "B", type: "Int", value: i * 10 + 1 }] });
  }
  return { ...config, tagsPerReadMax: 5, tagsPerWriteMax: 4 };
}

const TEN_TAGS = [1, 2, 3, 4, 5].flatMap((i) => [`Db${i}.A`, `Db${i}.B`]);

function connection(sim: Simulator, verifier: CertificateVerifier = new PinnedVerifier(sim.fingerprint256), extra: Partial<ControllerConnectionConfig> = {}): ControllerConnection {
  return testConnection(sim.port, verifier, { connectTimeoutMs: 5000, requestTimeoutMs: 5000, reconnectMaxMs: 200, ...extra });
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

function requestsOf(sim: Simulator, service: string): number {
  return sim.stats.requestsByService[service] ?? 0;
}

describe("one connection, one queue, one request on the wire per session (simulator over TLS)", function () {
  this.timeout(30000);
  let sim: Simulator;
  let c: ControllerConnection | undefined;

  beforeEach(async () => {
    sim = await Simulator.start(fiveBlockConfig());
  });
  afterEach(async () => {
    await c?.close();
    c = undefined;
    await sim.stop();
  });

  it("counts a second request sent before the first answer as two outstanding (the check can fail)", async () => {
    sim.faults.responseDelayMs = 20;
    const channel = await openSecureChannel({ host: "127.0.0.1", port: sim.port, plc: "raw", verifier: new PinnedVerifier(sim.fingerprint256), connectTimeoutMs: 5000 });
    try {
      let answers = 0;
      const both = new Promise<void>((resolve) => channel.on("pdu", () => ++answers === 2 && resolve()));
      channel.start();
      const create = (sequenceNumber: number): Buffer =>
        encodeRequest({ functionCode: FunctionCode.CreateObject, sequenceNumber, sessionId: Ids.ObjectNullServerSession, transportFlags: 0x36 }, { service: "CreateObject", body: makeSessionCreateObjectRequest() });
      channel.sendPdu(ProtocolVersion.V1, create(2));
      channel.sendPdu(ProtocolVersion.V1, create(3));
      await both;
      assert.equal(sim.stats.maxOutstandingPerSession, 2);
    } finally {
      await channel.close();
    }
  });

  it("reads tags of five DBs cold, browses, checks and writes, all together: never two requests of one session outstanding", async () => {
    // Every answer is delayed, so a request sent before the previous answer would be seen outstanding.
    sim.faults.responseDelayMs = 5;
    c = connection(sim);
    c.start();
    const [first, second, browsed, written, refused, after] = await Promise.all([
      c.read(["Db1.A", "Db2.A", "Db3.B", "Line.Setpoint"]),
      c.read(["Db4.B", "Db5.A", "Line.Recipe.Limits"]),
      c.browse(),
      c.write([
        { tag: "Db2.B", value: 42 },
        { tag: "Line.Setpoint", value: 1300 },
      ]),
      c.write([
        { tag: "Db5.B", value: 1 },
        { tag: "Db3.A", value: 70_000 },
      ]),
      c.read(["Db2.B", "Db5.B"]),
    ]);
    assert.deepEqual(values(first), { "Db1.A": 10, "Db2.A": 20, "Db3.B": 31, "Line.Setpoint": 1200 });
    assert.deepEqual(values(second), { "Db4.B": 41, "Db5.A": 50, "Line.Recipe.Limits": { Min: -10.5, Max: 99.5 } });
    assert.deepEqual(browsed.tags.map((n) => n.name), ["Line", "AllTypes", "Raw", "Db1", "Db2", "Db3", "Db4", "Db5"]);
    assert.deepEqual(written.map((o) => o.ok), [true, true]);
    assert.equal(refused[1]!.ok ? "" : refused[1]!.error.code, "ERR_S7_VALUE", "the pre-check refuses the value that does not fit");
    assert.match(refused[0]!.ok ? "" : refused[0]!.error.message, /not written, because Db3\.A/);
    assert.deepEqual(values(after), { "Db2.B": 42, "Db5.B": 51 }, "the read queued after the writes sees the first and not the refused one");
    assert.ok(sim.stats.requests >= 10, `${sim.stats.requests} requests`);
    assert.equal(sim.stats.maxOutstandingPerSession, 1);
  });

  it("closing while a read is on the wire sends DeleteObject only after that read's answer", async () => {
    sim.faults.responseDelayMs = 20;
    c = connection(sim);
    c.start();
    await c.read(["Db1.A", "Db1.B"]); // connected and resolved
    const gets = requestsOf(sim, "GetMultiVariables");
    const reading = c.read(["Db1.A", "Db1.B"]);
    // The simulator counts a request when it arrives; its answer follows 20 ms later.
    await until("the read is on the wire", () => requestsOf(sim, "GetMultiVariables") === gets + 1);
    await c.close();
    c = undefined;
    assert.deepEqual(values(await reading), { "Db1.A": 10, "Db1.B": 11 }, "the read on the wire got its answer");
    assert.equal(requestsOf(sim, "DeleteObject"), 1);
    assert.equal(sim.stats.maxOutstandingPerSession, 1);
  });

  it("cuts requests to the controller's limits in one place: 12 tags in 3 reads of ≤ 5, 9 writes in 3 requests of ≤ 4", async () => {
    c = connection(sim);
    c.start();
    const tags = [...TEN_TAGS, "Line.Setpoint", "Line.Counter"];
    await c.read(tags); // resolve once
    const reads = requestsOf(sim, "GetMultiVariables");
    const itemsRead = sim.stats.itemsRead;
    const outcomes = await c.read(tags);
    assert.equal(outcomes.filter((o) => o.ok).length, 12);
    assert.equal(requestsOf(sim, "GetMultiVariables") - reads, 3);
    assert.equal(sim.stats.itemsRead - itemsRead, 12);
    const writes = requestsOf(sim, "SetMultiVariables");
    const result = await c.write(TEN_TAGS.slice(0, 9).map((tag, i) => ({ tag, value: i })));
    assert.deepEqual(result.map((o) => o.ok), new Array(9).fill(true));
    assert.equal(requestsOf(sim, "SetMultiVariables") - writes, 3);
    assert.deepEqual(c.requestStats.writeRequests, 3);
  });

  it("a write cut into three requests that loses the connection at the second reports per tag what was written, what may have been, and what was not", async () => {
    c = connection(sim);
    c.start();
    await c.read(TEN_TAGS); // resolve the tags, so that only the write's requests follow
    const before = sim.stats.requests;
    const writes = requestsOf(sim, "SetMultiVariables");
    sim.faults.dropAfterRequests = before + 1; // the first write request is answered, the second is cut
    const outcomes = await c.write(TEN_TAGS.map((tag) => ({ tag, value: 7 })));
    sim.faults.dropAfterRequests = undefined;
    assert.equal(requestsOf(sim, "SetMultiVariables") - writes, 1, "one write request was answered, nothing was sent twice");
    assert.deepEqual(
      outcomes.map((o) => (o.ok ? "written" : /unknown whether written/.test(o.error.message) ? "unknown" : /not written/.test(o.error.message) ? "not written" : o.error.message)),
      ["written", "written", "written", "written", "unknown", "unknown", "unknown", "unknown", "not written", "not written"],
    );
    for (const o of outcomes) if (!o.ok) assert.ok(o.error.message.includes(o.tag) && o.error.code !== "ERR_S7_VALUE", o.error.message);
    // After the reconnect: the first four hold the new value, the last two the old one.
    const now = values(await c.read(TEN_TAGS));
    assert.deepEqual([now["Db1.A"], now["Db1.B"], now["Db2.A"], now["Db2.B"], now["Db5.A"], now["Db5.B"]], [7, 7, 7, 7, 50, 51]);
  });

  it("a connection lost during the pre-write check is a connection error, never a ValueError of a tag", async () => {
    c = connection(sim);
    c.start();
    await c.read(["Line.Setpoint"]); // connected; Db1 and Db2 are not resolved yet
    sim.faults.dropAfterRequests = sim.stats.requests; // the next request (resolving Db1.A) is cut
    const failures = await c.write([
      { tag: "Db1.A", value: 1 },
      { tag: "Db2.A", value: 2 },
    ]).then(
      (outcomes) => outcomes.map((o) => (o.ok ? undefined : o.error)),
      (err: unknown) => [err],
    );
    sim.faults.dropAfterRequests = undefined;
    assert.ok(failures.length > 0);
    for (const failure of failures) {
      assert.ok(failure instanceof S7Error, `a typed failure, got ${String(failure)}`);
      assert.equal(failure.code, "ERR_S7_CONNECTION_CLOSED", failure.message);
      assert.ok(!(failure instanceof ValueError));
    }
  });

  it("fails reads at once with ERR_S7_NO_TLS from a controller without Secure Communication, not after the connect wait", async () => {
    const plain = await Simulator.start({ ...fiveBlockConfig(), secureCommunication: false });
    const p = connection(plain, undefined, { connectTimeoutMs: 600_000, reconnectMinMs: 600_000, reconnectMaxMs: 600_000 });
    try {
      p.start();
      for (let i = 0; i < 3; i++) await assert.rejects(p.read(["Line.Setpoint"]), (e: unknown) => e instanceof S7Error && e.code === "ERR_S7_NO_TLS");
      assert.equal(plain.stats.connectionsTotal, 1, "failing at once does not dial again");
    } finally {
      await p.close();
      await plain.stop();
    }
  });

  it("fails reads and writes at once with ERR_S7_UNTRUSTED while the certificate is untrusted, and serves them right after it is trusted", async () => {
    let trusted = false;
    const pinned = new PinnedVerifier(sim.fingerprint256);
    const other = new PinnedVerifier("0".repeat(64));
    const verifier: CertificateVerifier = { verify: (peer, target) => (trusted ? pinned : other).verify(peer, target) };
    // A request that waited for the connection would meet mocha's timeout long before this one.
    c = connection(sim, verifier, { connectTimeoutMs: 600_000, reconnectMinMs: 600_000, reconnectMaxMs: 600_000 });
    c.start();
    await assert.rejects(c.read(["Line.Setpoint"]), (e: unknown) => e instanceof S7Error && e.code === "ERR_S7_UNTRUSTED");
    await assert.rejects(c.write([{ tag: "Line.Setpoint", value: 1 }]), (e: unknown) => e instanceof S7Error && e.code === "ERR_S7_UNTRUSTED");
    assert.equal(sim.stats.connectionsTotal, 1, "failing at once does not dial again");
    trusted = true;
    assert.deepEqual(values(await c.read(["Line.Setpoint"])), { "Line.Setpoint": 1200 });
  });
});
