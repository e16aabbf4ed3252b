import { strict as assert } from "node:assert";
import type { ControllerConnection } from "../../src/client/controller-connection.js";
import type { GapEvent, Subscription, ValuesEvent } from "../../src/client/subscription.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { checkSimulatorConfig, defaultSimulatorConfig, type SimulatorConfig } from "../../src/simulator/config.js";
import { Ids } from "../../src/protocol/constants.js";
import { decodeNotification, type Notification } from "../../src/protocol/messages/notification.js";
import { ROUTE_MODE_CHANGES_ONLY } from "../../src/protocol/messages/subscription.js";
import { PinnedVerifier } from "../support/pinned-verifier.js";
import { applySimulatorCommand } from "../../src/simulator/controls.js";
import { ConfigError } from "../../src/errors.js";
import { testConnection } from "../support/connection.js";
import { openSession } from "../simulator/open-session.js";

/** Collects a handle's events in order. */
function record(handle: Subscription): { values: ValuesEvent[]; gaps: GapEvent[]; next(pred?: (v: ValuesEvent) => boolean, ms?: number): Promise<ValuesEvent> } {
  const values: ValuesEvent[] = [];
  const gaps: GapEvent[] = [];
  const waiters: { pred: (v: ValuesEvent) => boolean; resolve(v: ValuesEvent): void }[] = [];
  handle.on("values", (v: ValuesEvent) => {
    values.push(v);
    for (const w of waiters.splice(0)) {
      if (w.pred(v)) w.resolve(v);
      else waiters.push(w);
    }
  });
  handle.on("gap", (g: GapEvent) => gaps.push(g));
  return {
    values,
    gaps,
    next: (pred = () => true, ms = 8000) =>
      new Promise((resolve, reject) => {
        const done = values.find(pred);
        if (done) return resolve(done);
        const timer = setTimeout(() => reject(new Error(`no matching values event within ${ms} ms (${values.length} seen)`)), ms);
        waiters.push({ pred, resolve: (v) => (clearTimeout(timer), resolve(v)) });
      }),
  };
}

function valueOf(v: ValuesEvent, tag: string): unknown {
  const o = v.changes.find((c) => c.tag === tag);
  assert.ok(o, `${tag} in the event`);
  assert.ok(o.ok, `${tag} has a value: ${o.ok ? "" : o.error.message}`);
  return o.value;
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function connection(sim: Simulator, extra: Parameters<typeof testConnection>[2] = {}): ControllerConnection {
  return testConnection(sim.port, new PinnedVerifier(sim.fingerprint256), extra);
}

/** A data block of `n` Int members T0 … T(n-1) with value i. */
function manyTags(n: number): SimulatorConfig["dataBlocks"][number] {
  return { name: "Many", number: 40, members: Array.from({ length: n }, (_, i) => ({ name: `T${i}`, type: "Int", value: i })) };
}

describe("subscriptions: client against the simulator over TLS", function () {
  this.timeout(30000);
  let sim: Simulator;

  beforeEach(async () => {
    sim = await Simulator.start({ ...defaultSimulatorConfig(), dataBlocks: [...defaultSimulatorConfig().dataBlocks, manyTags(2001)] });
  });
  afterEach(async () => {
    await sim.stop();
  });

  it("a write → a notification → the new value; a full set first; push on a second session, so writes never reset it", async () => {
    sim.resetSubscriptionOnWrite = true;
    const c = connection(sim);
    try {
      c.start();
      const handle = c.subscribe(["Line.Setpoint", "DB10.DBW0:INT", "Line.Recipe.Limits"], { cycleMs: 100 });
      const events = record(handle);
      const first = await events.next();
      assert.equal(first.initial, true);
      assert.equal(valueOf(first, "Line.Setpoint"), 1200);
      assert.equal(valueOf(first, "DB10.DBW0:INT"), 42);
      assert.deepEqual(valueOf(first, "Line.Recipe.Limits"), { Min: -10.5, Max: 99.5 });
      assert.equal(handle.state.state, "subscribed");
      assert.equal(sim.stats.connectionsOpen, 2, "the push session is a second controller connection");
      const written = await c.write([{ tag: "Line.Setpoint", value: 1300 }]);
      assert.equal(written[0]!.ok, true);
      const change = await events.next((v) => !v.initial);
      assert.deepEqual(change.changes.map((o) => o.tag), ["Line.Setpoint"], "only the changed tag");
      assert.equal(valueOf(change, "Line.Setpoint"), 1300);
      assert.ok(change.timestamp instanceof Date && Math.abs(change.timestamp.getTime() - Date.now()) < 60_000, "the controller's timestamp");
      // A write by another client shows up too.
      sim.setValue("Line.Setpoint", 1400);
      assert.equal(valueOf(await events.next((v) => !v.initial && v.changes.some((o) => o.ok && o.value === 1400)), "Line.Setpoint"), 1400);
      assert.equal(sim.stats.subscriptionsReset, 0, "the writes went over the other session");
      assert.equal(sim.model.subscriptionLimits.inUse.items, 4, "struct Limits = 2 items, plus 2");
    } finally {
      await c.close();
    }
  });

  it("per-item errors: an item the controller cannot read is that tag's error; a bad name fails alone; the rest is pushed", async () => {
    const c = connection(sim);
    try {
      c.start();
      const handle = c.subscribe(["DB99.DBW0:INT", "Line.Missing", "Line.Setpoint"], { cycleMs: 100 });
      const events = record(handle);
      const first = await events.next();
      const byTag = new Map(first.changes.map((o) => [o.tag, o]));
      const absent = byTag.get("DB99.DBW0:INT")!;
      assert.ok(!absent.ok && absent.error.code === "ERR_S7_ITEM" && /notification status 0x13/.test(absent.error.message), "the 13 entry of the notification");
      const missing = byTag.get("Line.Missing")!;
      assert.ok(!missing.ok && missing.error.code === "ERR_S7_TAG_NOT_FOUND");
      assert.equal(valueOf(first, "Line.Setpoint"), 1200);
      assert.equal(handle.state.state, "subscribed");
      assert.equal(sim.model.subscriptionLimits.inUse.items, 2, "the unknown name is not subscribed");
      assert.equal(events.gaps.length, 0, "an absolute item's error is no program change");
    } finally {
      await c.close();
    }
  });

  it("users of the same tag share its items; the subscription is deleted and the push session closed when the last leaves", async () => {
    const c = connection(sim);
    try {
      c.start();
      const a = c.subscribe(["Line.Setpoint", "Line.Name"], { cycleMs: 100 });
      const ra = record(a);
      await ra.next();
      const b = c.subscribe(["Line.Setpoint"], { cycleMs: 100 });
      const rb = record(b);
      assert.equal(valueOf(await rb.next(), "Line.Setpoint"), 1200);
      assert.equal(sim.model.subscriptionLimits.inUse.items, 2, "Line.Setpoint is subscribed once");
      await a.unsubscribe();
      await until("the group re-created for one tag", () => sim.model.subscriptionLimits.inUse.items === 1);
      await c.write([{ tag: "Line.Setpoint", value: 7 }]);
      assert.equal(valueOf(await rb.next((v) => !v.initial), "Line.Setpoint"), 7);
      assert.equal(rb.values.filter((v) => v.initial).length, 1, "the remaining user got no second full set for a membership change");
      await b.unsubscribe();
      assert.equal(sim.model.subscriptionLimits.inUse.subscriptions, 0);
      await until("the push session closed", () => sim.stats.connectionsOpen === 1);
      const stats = c.subscriptionStats!;
      assert.equal(stats.created, stats.deleted);
      assert.equal(stats.live, 0);
    } finally {
      await c.close();
    }
  });

  it("credits: the simulator stops at the limit until it is raised; the client tops up before it runs out", async () => {
    // The controller's side, on a raw session: limit 2, not raised.
    const raw = await openSession(sim);
    const seen: Notification[] = [];
    try {
      raw.onNotification((pdu) => seen.push(decodeNotification(pdu)));
      const items = [{ referenceId: 1, address: { area: 0x8a0e0001, symbolCrc: 0, subArea: Ids.DBValueActual, lids: [11] } }];
      const id = await raw.createSubscription({ relationId: 0x7fffc001, items, cycleTimeMs: 100, creditLimit: 2, routeMode: 0, changeCounter: 1 });
      await until("two notifications", () => seen.length === 2);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(seen.length, 2, "no notification beyond the credit limit");
      assert.deepEqual(seen.map((n) => n.creditTick), [1, 2]);
      await raw.setCreditLimit(id, 4);
      await until("two more after the top-up", () => seen.length === 4);
      assert.deepEqual(seen.map((n) => n.creditTick), [1, 2, 3, 4]);
      await raw.deleteSubscription(id);
      assert.equal(sim.model.subscriptionLimits.inUse.subscriptions, 0);
    } finally {
      await raw.close();
    }
    // The client's side: limit 3, step 2, with a tag that changes every 200 ms.
    const c = connection(sim, { subscriptionCreditLimit: 3, subscriptionCreditStep: 2 });
    try {
      c.start();
      const events = record(c.subscribe(["Line.Counter", "Line.Speed"], { cycleMs: 100 }));
      await until("ten notifications", () => events.values.length >= 10, 15_000);
      const stats = c.subscriptionStats!;
      assert.ok(stats.creditTopUps >= 3, `${stats.creditTopUps} top-ups`);
      assert.ok(stats.notifications >= 10);
      assert.ok((sim.stats.requestsByService.SetVariable ?? 0) >= 3, "the top-ups reached the controller");
    } finally {
      await c.close();
    }
  });

  it("2 000 tags are split over several subscriptions by the controller's limits; beyond them the subscription is refused", async () => {
    const c = connection(sim, { requestTimeoutMs: 10_000 });
    try {
      c.start();
      const tags = Array.from({ length: 2000 }, (_, i) => `Many.T${i}`);
      const events = record(c.subscribe(tags, { cycleMs: 200 }));
      const first = await events.next(undefined, 20_000);
      assert.equal(first.changes.length, 2000);
      assert.equal(valueOf(first, "Many.T1999"), 1999);
      // 2000 items / 20 subscriptions = 100 items per subscription.
      assert.equal(c.subscriptionStats!.live, 20);
      assert.equal(sim.model.subscriptionLimits.inUse.items, 2000);
      sim.setValue("Many.T1234", -5);
      const change = await events.next((v) => !v.initial);
      assert.deepEqual(change.changes, [{ tag: "Many.T1234", ok: true, value: -5 }]);
      const over = c.subscribe(["Many.T2000"], { cycleMs: 100 });
      await until("the refusal", () => over.state.state === "refused");
      assert.match(over.state.reason!.message, /refused a subscription/);
      assert.equal(sim.model.subscriptionLimits.inUse.items, 2000, "nothing left behind by the refused one");
    } finally {
      await c.close();
    }
    assert.equal(sim.model.subscriptionLimits.inUse.subscriptions, 0);
  });

  it("a reconnect re-creates the subscription: a gap, then a fresh full set", async () => {
    const c = connection(sim);
    try {
      c.start();
      const events = record(c.subscribe(["Line.Setpoint"], { cycleMs: 100 }));
      await events.next();
      sim.dropConnections();
      await until("the gap", () => events.gaps.length > 0);
      assert.equal(events.gaps[0]!.reason, "reconnect");
      sim.setValue("Line.Setpoint", 555);
      const again = await events.next((v) => v.initial && v !== events.values[0]);
      assert.equal(valueOf(again, "Line.Setpoint"), 555);
      assert.equal(c.subscriptionStats!.pushSessionsOpened, 2);
    } finally {
      await c.close();
    }
  });

  it("a switch to the alternative controller re-creates the subscription there", async () => {
    const other = await Simulator.start({ ...defaultSimulatorConfig(), name: "PLC2" });
    // Both certificates are pinned: one verifier per fingerprint is enough for this test.
    const verifier = new PinnedVerifier(sim.fingerprint256);
    const either = { verify: (peer: Parameters<PinnedVerifier["verify"]>[0], target: Parameters<PinnedVerifier["verify"]>[1]) => verifier.verify(peer, target).catch(() => new PinnedVerifier(other.fingerprint256).verify(peer, target)) };
    const c = testConnection(sim.port, either, { alternativeAddress: `IPAddress=127.0.0.1; Port=${other.port};` });
    try {
      other.setValue("Line.Setpoint", 2222);
      c.start();
      const events = record(c.subscribe(["Line.Setpoint"], { cycleMs: 100 }));
      assert.equal(valueOf(await events.next(), "Line.Setpoint"), 1200);
      await c.switchTo(true);
      await until("the gap", () => events.gaps.length > 0);
      assert.equal(events.gaps[0]!.reason, "switch");
      const there = await events.next((v) => v.initial && v !== events.values[0]);
      assert.equal(valueOf(there, "Line.Setpoint"), 2222);
      await until("the first controller is free", () => sim.model.subscriptionLimits.inUse.subscriptions === 0 && sim.stats.connectionsOpen === 0);
      assert.equal(other.model.subscriptionLimits.inUse.subscriptions, 1);
    } finally {
      await c.close();
      await other.stop();
    }
  });

  it("a program change (symbol CRC) re-resolves the tags and re-creates the subscription: a gap, then the right value", async () => {
    const own = await Simulator.start({
      ...defaultSimulatorConfig(),
      dataBlocks: [{ name: "Cell", number: 30, members: [{ name: "A", type: "Int", value: 10 }, { name: "B", type: "Int", value: 11 }] }],
    });
    const c = connection(own);
    try {
      c.start();
      const events = record(c.subscribe(["Cell.A"], { cycleMs: 100 }));
      assert.equal(valueOf(await events.next(), "Cell.A"), 10);
      // A new program: A and B swap places, so the subscribed LID's symbol CRC no longer matches.
      const [a, b] = own.table.blocks[0]!.type.members;
      [a!.name, b!.name] = [b!.name, a!.name];
      own.table.programChanged();
      await until("the gap", () => events.gaps.length > 0);
      assert.equal(events.gaps[0]!.reason, "program-change");
      const again = await events.next((v) => v.initial && v !== events.values[0]);
      assert.equal(valueOf(again, "Cell.A"), 11);
    } finally {
      await c.close();
      await own.stop();
    }
  });

  it("close deletes the subscriptions and leaves no timer, socket or listener behind", async () => {
    const resources = (): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
      return out;
    };
    const before = resources();
    const c = connection(sim);
    c.start();
    const handle = c.subscribe(["Line.Setpoint", "Line.Counter"], { cycleMs: 100 });
    await record(handle).next();
    assert.equal(sim.model.subscriptionLimits.inUse.subscriptions, 1);
    const deletesBefore = sim.stats.requestsByService.DeleteObject ?? 0;
    await c.close();
    assert.ok((sim.stats.requestsByService.DeleteObject ?? 0) >= deletesBefore + 2, "DeleteObject of the subscription and of the push session");
    assert.equal(sim.model.subscriptionLimits.inUse.subscriptions, 0);
    await until("the controller sees no connection", () => sim.stats.connectionsOpen === 0);
    assert.equal(handle.state.state, "closed");
    assert.equal(handle.listenerCount("values"), 0);
    assert.equal(c.listenerCount("status"), 0);
    assert.equal(c.subscriptionStats!.live, 0);
    // Sockets by the runtime's count; the manager's and the connection's own timers by their state.
    await until("no socket left", () => (resources().TCPSocketWrap ?? 0) <= (before.TCPSocketWrap ?? 0));
    assert.equal(c.status.state, "closed");
    assert.equal(c.status.retryInMs, undefined);
    assert.equal(c.hasSubscriptionTimer, false);
  });

  it("the simulator's subscription options are checked, naming the key", () => {
    for (const key of ["subscriptionsMax", "subscriptionItemsMax", "subscriptionMinCycleMs"]) {
      assert.throws(() => checkSimulatorConfig({ ...defaultSimulatorConfig(), [key]: 0 }), (err: unknown) => err instanceof ConfigError && err.message.includes(key));
    }
    assert.throws(() => checkSimulatorConfig({ ...defaultSimulatorConfig(), resetSubscriptionOnWrite: "yes" }), /resetSubscriptionOnWrite/);
  });

  it("STOP: subscriptions stay; animations pause, writes are still pushed", async () => {
    const c = connection(sim);
    try {
      c.start();
      const events = record(c.subscribe(["Line.Setpoint", "Line.Counter"], { cycleMs: 100 }));
      await events.next();
      sim.setRunState("STOP");
      await new Promise((r) => setTimeout(r, 300));
      const settled = events.values.length;
      await new Promise((r) => setTimeout(r, 1300));
      assert.equal(events.values.length, settled, "the counter does not move in STOP, so nothing is pushed");
      await c.write([{ tag: "Line.Setpoint", value: 31 }]);
      assert.equal(valueOf(await events.next((v) => !v.initial && v.changes.some((o) => o.tag === "Line.Setpoint")), "Line.Setpoint"), 31);
      assert.equal(events.gaps.length, 0);
      assert.equal(sim.model.subscriptionLimits.inUse.subscriptions, 1);
    } finally {
      sim.setRunState("RUN");
      await c.close();
    }
  });

  it("resetSubscriptionOnWrite: a write on the session that carries a subscription deletes it (why push has its own session)", async () => {
    assert.equal(applySimulatorCommand(sim, "reset-subscriptions-on-write on"), "OK reset-subscriptions-on-write on");
    assert.equal(sim.resetSubscriptionOnWrite, true);
    const raw = await openSession(sim);
    try {
      const seen: Notification[] = [];
      raw.onNotification((pdu) => seen.push(decodeNotification(pdu)));
      const items = [{ referenceId: 1, address: { area: 0x8a0e0001, symbolCrc: 0, subArea: Ids.DBValueActual, lids: [13] } }];
      await raw.createSubscription({ relationId: 0x7fffc001, items, cycleTimeMs: 100, creditLimit: -1, routeMode: ROUTE_MODE_CHANGES_ONLY, changeCounter: 1 });
      await until("the first notification", () => seen.length === 1);
      assert.equal((await raw.write([{ tag: "Line.Setpoint", value: 99 }]))[0]!.ok, true);
      assert.equal(sim.stats.subscriptionsReset, 1);
      assert.equal(sim.model.subscriptionLimits.inUse.subscriptions, 0);
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(seen.length, 1, "no notification after the reset, although Setpoint changed");
    } finally {
      await raw.close();
    }
  });
});
