import { strict as assert } from "node:assert";
import { S7Error } from "../../src/errors.js";
import { ControllerSession, type ControllerSessionOptions } from "../../src/client/controller-session.js";
import { openVerifiedChannel } from "../../src/client/connect.js";
import { PlcDate } from "../../src/values/plc-time.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { defaultSimulatorConfig, type SimulatorConfig } from "../../src/simulator/config.js";
import { PinnedVerifier } from "../support/pinned-verifier.js";

function options(sim: Simulator, extra: Partial<ControllerSessionOptions> = {}): ControllerSessionOptions {
  return {
    plc: "PLC1",
    verifier: new PinnedVerifier(sim.fingerprint256),
    openChannel: openVerifiedChannel,
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

  it("reads every elementary type with the value mapping of SPEC §6", async () => {
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
    const w = await session.write([{ tag: "DB10.DBW0:INT", value: -7 }, { tag: "DB10.DBX6.1", value: true }, { tag: "DB10.DBB12[5]", value: Buffer.from([10, 3, 0x41, 0x42, 0x43]) }]);
    assert.ok(w.every((o) => o.ok), JSON.stringify(w));
    assert.equal(sim.getValue("Raw.Level"), -7);
    assert.equal(sim.getValue("Raw.Valve"), true);
    assert.equal(sim.getValue("Raw.Label"), "ABC");
    const sym = values(await session.read(["Raw.Level", "Raw.Valve"]));
    assert.deepEqual(sym, { "Raw.Level": -7, "Raw.Valve": true });
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
