import { strict as assert } from "node:assert";
import { S7Error } from "../../src/errors.js";
import { changeMessages, subscriptionNodeStatus } from "../../src/flow/change-message.js";

const at = new Date("2026-09-15T20:45:30.017Z");

describe("on-change messages and status (s7-read trigger 'on change')", () => {
  it("a full set is one message like a read, marked initial, with the controller's timestamp", () => {
    const { messages, error } = changeMessages(
      { initial: true, timestamp: at, changes: [{ tag: "A", ok: true, value: 1 }, { tag: "B", ok: true, value: 2n }] },
      ["A", "B"],
      "perTag",
      "string",
    );
    assert.equal(error, undefined);
    assert.deepEqual(messages, [{ payload: { A: 1, B: "2" }, initial: true, timestamp: at }]);
  });

  it("changes: one object of the changed tags, or one message per tag with its topic; failures go to msg.errors and the Catch error", () => {
    const failed = new S7Error("ERR_S7_ITEM", "B: cannot be read", { tag: "B" });
    const event = { initial: false, changes: [{ tag: "A", ok: true as const, value: 5 }, { tag: "B", ok: false as const, error: failed }] };
    const obj = changeMessages(event, ["A", "B", "C"], "object", "bigint");
    assert.deepEqual(obj.messages, [{ payload: { A: 5 }, initial: false, changed: ["A", "B"], errors: { B: "B: cannot be read" } }]);
    assert.equal(obj.error, failed);
    const per = changeMessages(event, ["A", "B", "C"], "perTag", "bigint");
    assert.deepEqual(per.messages, [{ topic: "A", payload: 5, initial: false }]);
    assert.equal(per.error, failed);
    const single = changeMessages({ initial: false, changes: [{ tag: "A", ok: true, value: 6 }] }, ["A"], "object", "bigint");
    assert.equal(single.messages[0]!.topic, "A");
    assert.equal(single.messages[0]!.payload, 6);
  });

  it("status: subscribed · tags · cycle, subscribing, and polling after a refusal", () => {
    assert.deepEqual(subscriptionNodeStatus({ state: "subscribed", tags: 12, cycleMs: 100 }, false), { fill: "green", shape: "dot", key: "subscribed", params: { tags: "12", cycle: "100" } });
    assert.equal(subscriptionNodeStatus({ state: "pending", tags: 12, cycleMs: 100 }, false).key, "subscribing");
    const refused = new S7Error("ERR_S7_PLC", "refused");
    assert.deepEqual(subscriptionNodeStatus({ state: "refused", tags: 3, cycleMs: 200, reason: refused }, true), { fill: "yellow", shape: "dot", key: "polling", params: { tags: "3", cycle: "200", reason: "refused" } });
    assert.deepEqual(subscriptionNodeStatus({ state: "closed", tags: 1, cycleMs: 100 }, false), {});
  });
});
