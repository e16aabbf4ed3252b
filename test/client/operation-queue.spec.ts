import { strict as assert } from "node:assert";
import { OperationQueue, OverloadError, type OperationExecutor } from "../../src/client/operation-queue.js";
import type { ReadOutcome, WriteEntry, WriteOutcome } from "../../src/client/results.js";
import { ConnectionError } from "../../src/errors.js";

type Outcome = ReadOutcome | WriteOutcome;

/** An executor that records every batch it is given and answers when told to. */
class ScriptedExecutor implements OperationExecutor {
  readonly batches: Array<{ kind: "read" | "write"; items: string[] }> = [];
  private waiting: Array<{ resolve(v: Outcome[]): void; reject(e: unknown): void; items: string[] }> = [];
  autoAnswer = true;
  failOnSend: unknown;

  read(tags: string[]): Promise<ReadOutcome[]> {
    return this.batch("read", tags);
  }
  write(entries: WriteEntry[]): Promise<WriteOutcome[]> {
    return this.batch(
      "write",
      entries.map((e) => e.tag),
    );
  }
  private batch(kind: "read" | "write", items: string[]): Promise<Outcome[]> {
    this.batches.push({ kind, items: [...items] });
    if (this.failOnSend !== undefined) {
      const err = this.failOnSend;
      this.failOnSend = undefined;
      return Promise.reject(err);
    }
    const answer = (prefix: string): Outcome[] => items.map((tag) => ({ tag, ok: true, value: `${prefix}:${tag}` }));
    if (this.autoAnswer) return new Promise((r) => setImmediate(() => r(answer(kind))));
    return new Promise((resolve, reject) => this.waiting.push({ resolve: () => resolve(answer("answer")), reject, items }));
  }
  answerNext(): void {
    const w = this.waiting.shift();
    assert.ok(w, "a batch is waiting");
    w.resolve([]);
  }
  get waitingCount(): number {
    return this.waiting.length;
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const values = (outcomes: Outcome[]): unknown[] => outcomes.map((o) => (o.ok ? o.value : o.error.message));
const entries = (...tags: string[]): WriteEntry[] => tags.map((tag) => ({ tag, value: 1 }));

describe("operation queue", () => {
  // Requests are cut to the controller's limit in one place, the tag layer (tag-io.ts); the
  // request counts of these cases are asserted against the simulator in client-simulator.spec.ts.
  it("coalesces 100 single-tag reads triggered together into one batch, results in order", async () => {
    const exec = new ScriptedExecutor();
    const queue = new OperationQueue(exec);
    const reads = Array.from({ length: 100 }, (_, i) => queue.read([`t${i}`]));
    const results = await Promise.all(reads);
    assert.equal(exec.batches.length, 1);
    assert.deepEqual(results.map((r) => values(r)[0]), Array.from({ length: 100 }, (_, i) => `read:t${i}`));
    assert.deepEqual(exec.batches.map((r) => r.items.length), [100]);
  });

  it("merges reads that arrive while an operation runs into the next batch", async () => {
    const exec = new ScriptedExecutor();
    exec.autoAnswer = false;
    const queue = new OperationQueue(exec);
    const first = queue.read(["a"]);
    await tick();
    assert.equal(exec.batches.length, 1);
    const later = [queue.read(["b"]), queue.read(["c", "d"]), queue.read(["e"])];
    await tick();
    assert.equal(exec.batches.length, 1, "nothing else runs while an operation runs");
    exec.answerNext();
    assert.deepEqual(values(await first), ["answer:a"]);
    await tick();
    assert.deepEqual(exec.batches[1], { kind: "read", items: ["b", "c", "d", "e"] });
    exec.answerNext();
    assert.deepEqual((await Promise.all(later)).map(values), [["answer:b"], ["answer:c", "answer:d"], ["answer:e"]]);
  });

  it("hands a large read to the executor whole, results in order", async () => {
    const exec = new ScriptedExecutor();
    const queue = new OperationQueue(exec);
    const tags = Array.from({ length: 30 }, (_, i) => `x${i}`);
    const result = await queue.read(tags);
    assert.deepEqual(values(result), tags.map((t) => `read:${t}`));
    assert.deepEqual(exec.batches.map((r) => r.items.length), [30]);
  });

  it("keeps writes and tasks in order, never merged with reads or other writes", async () => {
    const exec = new ScriptedExecutor();
    const queue = new OperationQueue(exec);
    const order: string[] = [];
    await Promise.all([
      queue.read(["r1"]),
      queue.write(entries("w1", "w2", "w3")),
      queue.read(["r2"]),
      queue.read(["r3"]),
      queue.run(async () => {
        order.push(`task after ${exec.batches.length} batches`);
      }),
      queue.write(entries("w4")),
    ]);
    assert.deepEqual(
      exec.batches.map((r) => `${r.kind}:${r.items.join(",")}`),
      ["read:r1", "write:w1,w2,w3", "read:r2,r3", "write:w4"],
    );
    assert.deepEqual(order, ["task after 3 batches"]);
    assert.deepEqual(queue.stats, { readBatches: 2, writes: 2, tasks: 1 });
  });

  it("runs one operation at a time: a task waits for the running read and the read after it waits for the task", async () => {
    const exec = new ScriptedExecutor();
    exec.autoAnswer = false;
    const queue = new OperationQueue(exec);
    const read = queue.read(["a"]);
    let taskRan = false;
    let release: () => void = () => undefined;
    const task = queue.run(
      () =>
        new Promise<string>((resolve) => {
          taskRan = true;
          release = () => resolve("browsed");
        }),
    );
    const after = queue.read(["b"]);
    await tick();
    assert.equal(taskRan, false, "the task waits while the read runs");
    exec.answerNext();
    await read;
    await tick();
    assert.equal(taskRan, true);
    assert.equal(exec.batches.length, 1, "the read after the task waits for it");
    release();
    assert.equal(await task, "browsed");
    await tick();
    exec.answerNext();
    assert.deepEqual(values(await after), ["answer:b"]);
  });

  it("fails fast with OverloadError beyond the queue bound and keeps the queued operations", async () => {
    const exec = new ScriptedExecutor();
    exec.autoAnswer = false;
    const queue = new OperationQueue(exec, { maxQueuedItems: 10, plc: "PLC1" });
    const accepted = [queue.read(["a", "b", "c", "d", "e", "f"]), queue.read(["g", "h", "i", "j"])];
    await assert.rejects(queue.read(["k"]), (err: unknown) => err instanceof OverloadError && err.code === "ERR_S7_OVERLOAD" && /PLC1/.test(err.message));
    await tick();
    exec.answerNext();
    const results = await Promise.all(accepted);
    assert.deepEqual(results.flat().length, 10);
  });

  it("fails every operation of a failed batch and every queued one on failAll, and recovers afterwards", async () => {
    const exec = new ScriptedExecutor();
    exec.autoAnswer = false;
    const queue = new OperationQueue(exec);
    const running = queue.read(["a"]);
    await tick();
    const queued = queue.read(["b", "c", "d"]);
    const lost = new ConnectionError("ERR_S7_CONNECTION_CLOSED", "connection closed during response");
    queue.failAll(lost);
    await assert.rejects(queued, (err: unknown) => err === lost);
    assert.equal(queue.pendingItems, 0);
    exec.answerNext();
    assert.deepEqual(values(await running), ["answer:a"]);
    exec.autoAnswer = true;
    exec.failOnSend = lost;
    await assert.rejects(queue.read(["e"]), (err: unknown) => err === lost);
    assert.deepEqual(values(await queue.read(["f"])), ["read:f"]);
  });
});
