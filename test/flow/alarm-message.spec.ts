import { strict as assert } from "node:assert";
import { alarmActionFromMessage, alarmEventMessage, alarmListMessage, alarmNodeStatus } from "../../src/flow/alarm-message.js";
import type { AlarmEvent } from "../../src/client/alarms.js";
import { ConfigError } from "../../src/errors.js";

function event(id: number, extra: Partial<AlarmEvent> = {}): AlarmEvent {
  return {
    id,
    cpuAlarmId: "9871216594010112",
    state: "came",
    active: true,
    acknowledged: false,
    text: `Alarm ${id}`,
    class: "Alarm",
    classNumber: 1,
    priority: 8,
    timestamp: new Date("2026-12-01T22:00:00.000Z"),
    values: [97],
    resync: false,
    ...extra,
  };
}

describe("flow: s7-alarms messages", () => {
  it("an event: topic alarm/<id>, the documented payload, resync only when synthesized", () => {
    const m = alarmEventMessage(event(1));
    assert.deepEqual(m, {
      topic: "alarm/1",
      payload: { id: 1, state: "came", text: "Alarm 1", class: "Alarm", priority: 8, timestamp: "2026-12-01T22:00:00.000Z", values: [97], acknowledged: false, active: true },
    });
    const r = alarmEventMessage(event(2, { state: "went", resync: true, ackTimestamp: new Date("2026-12-01T22:01:00.000Z") }));
    assert.equal(r.resync, true);
    assert.equal((r.payload as { ackTimestamp?: string }).ackTimestamp, "2026-12-01T22:01:00.000Z");
  });

  it("the list: topic alarms, sorted by number", () => {
    const m = alarmListMessage([event(5), event(2)]);
    assert.equal(m.topic, "alarms");
    assert.deepEqual((m.payload as { id: number }[]).map((p) => p.id), [2, 5]);
  });

  it("actions: list, ack of a number (also as text) or all; anything else is a ConfigError", () => {
    assert.deepEqual(alarmActionFromMessage({ action: "list" }), { action: "list" });
    assert.deepEqual(alarmActionFromMessage({ action: "ack", payload: 3 }), { action: "ack", which: 3 });
    assert.deepEqual(alarmActionFromMessage({ action: "ack", payload: " 12 " }), { action: "ack", which: 12 });
    assert.deepEqual(alarmActionFromMessage({ action: "ack", payload: "all" }), { action: "ack", which: "all" });
    for (const bad of [{}, { action: "mute" }, { action: "ack" }, { action: "ack", payload: 0 }, { action: "ack", payload: 1.5 }, { action: "ack", payload: "one" }]) {
      assert.throws(() => alarmActionFromMessage(bad), ConfigError, JSON.stringify(bad));
    }
  });

  it("status: counts (red while unacknowledged), none, subscribing, refused", () => {
    assert.deepEqual(alarmNodeStatus({ state: "subscribed", active: 3, unacknowledged: 1 }), { fill: "red", shape: "dot", key: "counts", params: { active: "3", unack: "1" } });
    assert.equal(alarmNodeStatus({ state: "subscribed", active: 2, unacknowledged: 0 }).fill, "yellow");
    assert.equal(alarmNodeStatus({ state: "subscribed", active: 0, unacknowledged: 0 }).key, "none");
    assert.equal(alarmNodeStatus({ state: "pending", active: 0, unacknowledged: 0 }).key, "subscribing");
    assert.equal(alarmNodeStatus({ state: "refused", active: 0, unacknowledged: 0 }).key, "refused");
    assert.deepEqual(alarmNodeStatus({ state: "closed", active: 0, unacknowledged: 0 }), {});
  });
});
