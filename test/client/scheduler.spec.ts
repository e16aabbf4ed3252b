import { strict as assert } from "node:assert";
import { RequestScheduler, OverloadError, PartialWriteError, type BatchExecutor } from "../../src/client/scheduler.js";
import { ConnectionError } from "../../src/errors.js";

/** An executor that records every request and answers when told to. */
class ScriptedExecutor implements BatchExecutor<string, string, string, string> {
  readonly requests: Array<{ kind: "read" | "write"; items: string[] }> = [];
  private waiting: Array<{ resolve(v: string[]): void; reject(e: unknown): void; items: string[] }> = [];
  autoAnswer = true;
  failOnSend: unknown;

  read(items: string[]): Promise<string[]> {
    return this.request("read", items);
  }
  write(items: string[]): Promise<string[]> {
    return this.request("write", items);
  }
  private request(kind: "read" | "write", items: string[]): Promise<string[]> {
    this.requests.push({ kind, items: [...items] });
    if (this.failOnSend !== undefined) {
      const err = this.failOnSend;
      this.failOnSend = undefined;
      return Promise.reject(err);
    }
    if (this.autoAnswer) return new Promise((r) => setImmediate(() => r(items.map((i) => `${kind}:${i}`))));
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject, items }));
  }
  answerNext(): void {
    const w = this.waiting.shift();
    assert.ok(w, "a request is waiting");
    w.resolve(w.items.map((i) => `answer:${i}`));
  }
  failNext(err: unknown): void {
    const w = this.waiting.shift();
    assert.ok(w, "a request is waiting");
    w.reject(err);
  }
  get waitingCount(): number {
    return this.waiting.length;
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("request scheduler", () => {
  it("coalesces 100 single-tag reads triggered together into ceil(100 / readMax) requests, results in order", async () => {
    const exec = new ScriptedExecutor();
    const scheduler = new RequestScheduler(exec, () => ({ readMax: 20, writeMax: 20 }));
    const reads = Array.from({ length: 100 }, (_, i) => scheduler.read([`t${i}`]));
    const results = await Promise.all(reads);
    assert.equal(exec.requests.length, Math.ceil(100 / 20));
    assert.deepEqual(results.map((r) => r[0]), Array.from({ length: 100 }, (_, i) => `read:t${i}`));
    assert.deepEqual(exec.requests.map((r) => r.items.length), [20, 20, 20, 20, 20]);
  });

  it("merges reads that arrive while a request is on the wire into the next request", async () => {
    const exec = new ScriptedExecutor();
    exec.autoAnswer = false;
    const scheduler = new RequestScheduler(exec, () => ({ readMax: 50, writeMax: 50 }));
    const first = scheduler.read(["a"]);
    await tick();
    assert.equal(exec.requests.length, 1);
    const later = [scheduler.read(["b"]), scheduler.read(["c", "d"]), scheduler.read(["e"])];
    await tick();
    assert.equal(exec.requests.length, 1, "nothing is sent while a request is on the wire");
    exec.answerNext();
    assert.deepEqual(await first, ["answer:a"]);
    await tick();
    assert.deepEqual(exec.requests[1], { kind: "read", items: ["b", "c", "d", "e"] });
    exec.answerNext();
    assert.deepEqual(await Promise.all(later), [["answer:b"], ["answer:c", "answer:d"], ["answer:e"]]);
  });

  it("splits a large read into chunks of readMax and merges the results in order", async () => {
    const exec = new ScriptedExecutor();
    const scheduler = new RequestScheduler(exec, () => ({ readMax: 7, writeMax: 3 }));
    const tags = Array.from({ length: 30 }, (_, i) => `x${i}`);
    const result = await scheduler.read(tags);
    assert.deepEqual(result, tags.map((t) => `read:${t}`));
    assert.deepEqual(exec.requests.map((r) => r.items.length), [7, 7, 7, 7, 2]);
  });

  it("keeps writes in order, never merged with reads or other writes, chunked by writeMax", async () => {
    const exec = new ScriptedExecutor();
    const scheduler = new RequestScheduler(exec, () => ({ readMax: 10, writeMax: 2 }));
    await Promise.all([
      scheduler.read(["r1"]),
      scheduler.write(["w1", "w2", "w3"]),
      scheduler.read(["r2"]),
      scheduler.read(["r3"]),
      scheduler.write(["w4"]),
    ]);
    assert.deepEqual(
      exec.requests.map((r) => `${r.kind}:${r.items.join(",")}`),
      ["read:r1", "write:w1,w2", "write:w3", "read:r2,r3", "write:w4"],
    );
  });

  it("fails fast with OverloadError beyond the queue bound and keeps the queued operations", async () => {
    const exec = new ScriptedExecutor();
    exec.autoAnswer = false;
    const scheduler = new RequestScheduler(exec, () => ({ readMax: 5, writeMax: 5 }), { maxQueuedItems: 10, plc: "PLC1" });
    const accepted = [scheduler.read(["a", "b", "c", "d", "e", "f"]), scheduler.read(["g", "h", "i", "j"])];
    await assert.rejects(scheduler.read(["k"]), (err: unknown) => err instanceof OverloadError && err.code === "ERR_S7_OVERLOAD" && /PLC1/.test(err.message));
    await tick();
    exec.answerNext();
    await tick();
    exec.answerNext();
    const results = await Promise.all(accepted);
    assert.deepEqual(results.flat().length, 10);
  });

  it("fails every operation of a failed request and every queued one on failAll, and recovers afterwards", async () => {
    const exec = new ScriptedExecutor();
    exec.autoAnswer = false;
    const scheduler = new RequestScheduler(exec, () => ({ readMax: 2, writeMax: 2 }));
    const onWire = scheduler.read(["a"]);
    await tick();
    const queued = scheduler.read(["b", "c", "d"]);
    const lost = new ConnectionError("ERR_S7_CONNECTION_CLOSED", "connection closed during response");
    scheduler.failAll(lost);
    await assert.rejects(queued, (err: unknown) => err === lost);
    assert.equal(scheduler.pendingItems, 0);
    exec.answerNext();
    assert.deepEqual(await onWire, ["answer:a"]);
    exec.autoAnswer = true;
    exec.failOnSend = lost;
    await assert.rejects(scheduler.read(["e"]), (err: unknown) => err === lost);
    assert.deepEqual(await scheduler.read(["f"]), ["read:f"]);
  });

  it("reports which items of a multi-request write were confirmed when a later request fails, and sends nothing twice", async () => {
    const exec = new ScriptedExecutor();
    exec.autoAnswer = false;
    const scheduler = new RequestScheduler(exec, () => ({ readMax: 2, writeMax: 2 }));
    const write = scheduler.write(["w1", "w2", "w3", "w4"]);
    await tick();
    exec.answerNext();
    await tick();
    assert.equal(exec.waitingCount, 1);
    scheduler.failAll(new Error("unrelated"));
    const lost = new ConnectionError("ERR_S7_CONNECTION_CLOSED", "connection closed during response");
    // The second request is on the wire; its executor fails it.
    exec.failNext(lost);
    await assert.rejects(write, (err: unknown) => err instanceof PartialWriteError && err.confirmed.join() === "0,1" && err.code === "ERR_S7_CONNECTION_CLOSED");
    assert.deepEqual(exec.requests.map((r) => r.items.join(",")), ["w1,w2", "w3,w4"]);
  });
});
