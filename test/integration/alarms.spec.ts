import { strict as assert } from "node:assert";
import type { ControllerConnection } from "../../src/client/controller-connection.js";
import type { AlarmEvent, Alarms } from "../../src/client/alarms.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { checkSimulatorConfig, defaultSimulatorConfig, type SimulatorConfig } from "../../src/simulator/config.js";
import { ConfigError, PlcError } from "../../src/errors.js";
import { PinnedVerifier } from "../support/pinned-verifier.js";
import { testConnection } from "../support/connection.js";
import { openSession } from "../simulator/open-session.js";

const TANK: SimulatorConfig["dataBlocks"][number] = {
  name: "Tank",
  number: 50,
  members: [
    { name: "High", type: "Bool", value: false },
    { name: "Low", type: "Bool", value: true },
    { name: "Level", type: "Int", value: 97 },
    { name: "Pump", type: "String[20]", value: "P-101" },
  ],
};

function config(): SimulatorConfig {
  return {
    ...defaultSimulatorConfig(),
    dataBlocks: [...defaultSimulatorConfig().dataBlocks, TANK],
    alarms: [
      { id: 1, text: { "en-US": "Tank overflow: level @1%d@ (@2%s@)", "de-DE": "Tank überläuft: Stand @1%d@ (@2%s@)" }, class: "Alarm", priority: 8, trigger: "Tank.High", ack: true, values: ["Tank.Level", "Tank.Pump"] },
      { id: 2, text: { "en-US": "Tank low" }, class: "Warning", priority: 3, trigger: "Tank.Low" },
    ],
  };
}

/** Collects a handle's events in order. */
function record(a: Alarms): { events: AlarmEvent[]; lists: AlarmEvent[][]; next(pred: (e: AlarmEvent) => boolean, ms?: number): Promise<AlarmEvent> } {
  const events: AlarmEvent[] = [];
  const lists: AlarmEvent[][] = [];
  a.on("event", (e: AlarmEvent) => events.push(e));
  a.on("active", (l: AlarmEvent[]) => lists.push(l));
  return {
    events,
    lists,
    next: async (pred, ms = 8000) => {
      await until("an alarm event", () => events.some(pred), ms);
      return events.find(pred)!;
    },
  };
}

async function until(what: string, check: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("alarms: client against the simulator over TLS", function () {
  this.timeout(30000);
  let sim: Simulator;
  let c: ControllerConnection;

  beforeEach(async () => {
    sim = await Simulator.start(config());
    c = testConnection(sim.port, new PinnedVerifier(sim.fingerprint256));
    c.start();
  });
  afterEach(async () => {
    await c.close();
    await sim.stop();
  });

  it("reads the active list at connect, then came → acknowledged → went, with texts, class, priority and values", async () => {
    const alarms = c.alarms({ language: "de-DE" });
    const r = record(alarms);
    await until("the first active list", () => r.lists.length > 0);
    assert.deepEqual(r.lists[0]!.map((e) => [e.id, e.state, e.text, e.class, e.acknowledged]), [[2, "came", "Tank low", "Warning", true]], "the low alarm was active before, text falls back to en-US");
    assert.equal(r.events.length, 0, "the first list is no event");
    assert.equal(alarms.status.state, "subscribed");

    sim.setValue("Tank.High", true);
    const came = await r.next((e) => e.id === 1 && e.state === "came");
    assert.equal(came.text, "Tank überläuft: Stand 97 (P-101)");
    assert.deepEqual([came.class, came.priority, came.active, came.acknowledged, came.resync], ["Alarm", 8, true, false, false]);
    assert.deepEqual(came.values, [97, "P-101"]);
    assert.ok(Math.abs(came.timestamp.getTime() - Date.now()) < 60_000, "the controller's timestamp");
    assert.deepEqual([alarms.status.active, alarms.status.unacknowledged], [2, 1]);

    assert.equal(await alarms.acknowledge(1), 1);
    const acked = await r.next((e) => e.id === 1 && e.state === "acknowledged");
    assert.ok(acked.ackTimestamp instanceof Date && acked.acknowledged && acked.active);
    await assert.rejects(alarms.acknowledge(1), ConfigError, "an acknowledged alarm is not acknowledged twice");
    await assert.rejects(alarms.acknowledge(77), (e: unknown) => e instanceof ConfigError && /77 is not active/.test(e.message));

    sim.setValue("Tank.Level", 12);
    sim.setValue("Tank.High", false);
    const went = await r.next((e) => e.id === 1 && e.state === "went");
    assert.equal(went.text, "Tank überläuft: Stand 12 (P-101)", "the values at the going");
    assert.deepEqual(alarms.active().map((e) => e.id), [2]);
    assert.equal(sim.stats.connectionsOpen, 2, "alarms ride on the push session, the second session");
  });

  it("an alarm that goes unacknowledged stays listed until 'all' acknowledges it", async () => {
    const alarms = c.alarms();
    const r = record(alarms);
    await until("subscribed", () => alarms.status.state === "subscribed");
    sim.setValue("Tank.High", true);
    sim.setValue("Tank.High", false);
    await r.next((e) => e.id === 1 && e.state === "went");
    assert.deepEqual(alarms.active().map((e) => [e.id, e.active, e.acknowledged]).sort(), [[1, false, false], [2, true, true]]);
    assert.equal(await alarms.acknowledge("all"), 1);
    await r.next((e) => e.id === 1 && e.state === "acknowledged");
    assert.deepEqual(alarms.active().map((e) => e.id), [2]);
    assert.deepEqual([alarms.status.active, alarms.status.unacknowledged], [1, 0]);
    await c.close();
    assert.equal(alarms.status.state, "closed", "closing the connection closes its alarm handles");
    await until("no connection left", () => sim.stats.connectionsOpen === 0);
  });

  it("a reconnect in the middle of an alarm: the active list is read again and what changed is reported with resync", async () => {
    const alarms = c.alarms();
    const r = record(alarms);
    await until("subscribed", () => alarms.status.state === "subscribed");
    sim.setValue("Tank.High", true);
    await r.next((e) => e.id === 1 && e.state === "came");
    sim.faults.refuseConnections = true;
    sim.dropConnections();
    await until("pending", () => alarms.status.state === "pending");
    sim.setValue("Tank.High", false); // went while nobody listened (still unacknowledged: stays listed)
    sim.setValue("Tank.Low", false); // went, needs no acknowledgement: gone from the list
    sim.faults.refuseConnections = false;
    await until("subscribed again", () => alarms.status.state === "subscribed" && r.lists.length >= 2, 15000);
    const resync = r.events.filter((e) => e.resync);
    assert.deepEqual(resync.map((e) => [e.id, e.state, e.active]).sort(), [[1, "went", false], [2, "went", false]]);
    assert.deepEqual(alarms.active().map((e) => e.id), [1]);
    sim.setValue("Tank.High", true);
    await r.next((e) => e.id === 1 && e.state === "came" && !e.resync && e.timestamp.getTime() > 0 && r.events.indexOf(e) > r.events.indexOf(resync[0]!));
  });

  it("a switch to the alternative controller: its active list is compared with the first's, the differences come with resync", async () => {
    const other = await Simulator.start({ ...config(), name: "PLC2" });
    const verifier = new PinnedVerifier(sim.fingerprint256);
    const either = { verify: (peer: Parameters<PinnedVerifier["verify"]>[0], target: Parameters<PinnedVerifier["verify"]>[1]) => verifier.verify(peer, target).catch(() => new PinnedVerifier(other.fingerprint256).verify(peer, target)) };
    const sw = testConnection(sim.port, either, { alternativeAddress: `IPAddress=127.0.0.1; Port=${other.port};` });
    try {
      other.setValue("Tank.High", true); // active on PLC2 only; Tank.Low is active on both
      sw.start();
      const alarms = sw.alarms();
      const r = record(alarms);
      await until("subscribed", () => alarms.status.state === "subscribed");
      assert.deepEqual(alarms.active().map((e) => e.id), [2]);
      await sw.switchTo(true);
      await until("the second list", () => r.lists.length >= 2);
      assert.deepEqual(r.events.map((e) => [e.id, e.state, e.resync]), [[1, "came", true]], "only what differs, once");
      assert.deepEqual(alarms.active().map((e) => e.id).sort(), [1, 2]);
      other.setValue("Tank.High", false);
      await r.next((e) => e.id === 1 && e.state === "went" && !e.resync);
    } finally {
      await sw.close();
      await other.stop();
    }
  });

  it("a flood of 1 000 events loses none and does not grow memory with it", async function () {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) this.skip();
    const alarms = c.alarms();
    const r = record(alarms);
    await until("subscribed", () => alarms.status.state === "subscribed");
    const flood = async (): Promise<void> => {
      const start = r.events.length;
      for (let i = 0; i < 500; i++) {
        sim.setValue("Tank.Low", false);
        sim.setValue("Tank.Low", true);
      }
      await until("1 000 events", () => r.events.length - start >= 1000, 20000);
      const mine = r.events.slice(start);
      assert.equal(mine.length, 1000);
      assert.ok(mine.every((e, i) => e.state === (i % 2 === 0 ? "went" : "came")), "in order, none lost");
      r.events.length = 0;
    };
    await flood();
    gc!();
    const after1 = process.memoryUsage().heapUsed;
    await flood();
    await flood();
    gc!();
    const after3 = process.memoryUsage().heapUsed;
    assert.ok(after3 - after1 < 4 * 1024 * 1024, `heap grew by ${after3 - after1} bytes over two more floods`);
    assert.equal(sim.alarms.stats.events, 3000);
  });

  it("a refused acknowledgement is a PlcError naming the alarm; the controller's refusal reaches the session", async () => {
    const raw = await openSession(sim);
    try {
      await assert.rejects(raw.acknowledgeAlarm(0x1234n), (e: unknown) => e instanceof PlcError && /acknowledge alarm 0x1234/.test(e.message));
    } finally {
      await raw.close();
    }
  });
});

describe("alarms: simulator configuration", () => {
  const bad = (alarms: unknown): string => {
    try {
      const s = checkSimulatorConfig({ ...config(), alarms });
      void s;
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.message;
    }
    return "";
  };

  it("checks the alarms section and names the alarm", async () => {
    assert.match(bad([{ id: 3, text: { "xx-XX": "a" }, trigger: "Tank.High" }]), /alarms\[0\] \(id 3\): unknown language "xx-XX"/);
    assert.match(bad([{ id: 3, text: { "en-US": "a" }, trigger: "Tank.High", class: "Loud" }]), /id 3.*"class"/);
    assert.match(bad([{ id: 0, text: { "en-US": "a" }, trigger: "Tank.High" }]), /"id" must be/);
    assert.match(bad([{ id: 4, text: { "en-US": "a" }, trigger: "Tank.High" }, { id: 4, text: { "en-US": "b" }, trigger: "Tank.Low" }]), /id 4 used twice/);
    await assert.rejects(Simulator.start({ ...config(), alarms: [{ id: 5, text: { "en-US": "a" }, trigger: "Tank.Level" }] }), /alarm 5: trigger "Tank.Level" is not a Bool tag/);
    await assert.rejects(Simulator.start({ ...config(), alarms: [{ id: 6, text: { "en-US": "a" }, trigger: "Tank.Nope" }] }), /alarm 6: trigger tag "Tank.Nope" does not exist/);
  });
});
