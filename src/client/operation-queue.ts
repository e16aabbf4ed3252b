/**
 * The one queue of a connection: every operation waits here in FIFO order
 * and runs when the one before it has finished, so a connection works on
 * one operation at a time (and the session below sends one request at a
 * time, see request-mux.ts).
 *
 * - Reads that are queued one after another run as ONE batch: reads that
 *   arrived while an operation was running share the next one (docs/NODES.md §2).
 *   The batch is cut into requests by the tag layer (tag-io.ts), the one
 *   place that knows how many wire items a tag takes.
 * - A write runs alone (writes keep their order and a read queued after a
 *   write sees its effect).
 * - A task (browse, and later subscriptions and alarms) runs alone.
 *
 * An idle queue waits one event-loop turn before it starts, so operations
 * triggered together travel together. The queue is bounded: beyond
 * `maxQueuedItems` tags an operation fails at once with ERR_S7_OVERLOAD
 * instead of growing memory.
 */
import { S7Error, type S7ErrorContext } from "../errors.js";
import type { ReadOutcome, WriteEntry, WriteOutcome } from "./results.js";

/** What runs the operations: the connection's current session. */
export interface OperationExecutor {
  /** Reads a batch of tags; one outcome per tag, in order. */
  read(tags: string[]): Promise<ReadOutcome[]>;
  /** Writes a batch of tags; one outcome per entry, in order. */
  write(entries: WriteEntry[]): Promise<WriteOutcome[]>;
}

export interface OperationQueueOptions {
  /** Tags waiting in the queue at most (default 100 000). */
  maxQueuedItems?: number;
  /** Named in errors. */
  plc?: string;
}

export class OverloadError extends S7Error {
  constructor(message: string, context: S7ErrorContext = {}) {
    super("ERR_S7_OVERLOAD", message, { transient: true, ...context });
  }
}

type Operation =
  | { kind: "read"; tags: string[]; resolve(outcomes: ReadOutcome[]): void; reject(err: unknown): void }
  | { kind: "write"; entries: WriteEntry[]; resolve(outcomes: WriteOutcome[]): void; reject(err: unknown): void }
  | { kind: "task"; run(): Promise<unknown>; resolve(result: unknown): void; reject(err: unknown): void };

export interface QueueStats {
  /** Read batches run (each one or more merged read operations). */
  readBatches: number;
  writes: number;
  tasks: number;
}

export class OperationQueue {
  private readonly queue: Operation[] = [];
  private queuedItems = 0;
  private busy = false;
  private pumpScheduled = false;
  private readonly maxQueuedItems: number;
  private readonly plc: string | undefined;
  readonly stats: QueueStats = { readBatches: 0, writes: 0, tasks: 0 };

  constructor(
    private readonly executor: OperationExecutor,
    options: OperationQueueOptions = {},
  ) {
    this.maxQueuedItems = options.maxQueuedItems ?? 100_000;
    this.plc = options.plc;
  }

  /** Tags queued and not yet started. */
  get pendingItems(): number {
    return this.queuedItems;
  }

  /** Whether an operation is running. */
  get isBusy(): boolean {
    return this.busy;
  }

  read(tags: string[]): Promise<ReadOutcome[]> {
    if (tags.length === 0) return Promise.resolve([]);
    return this.enqueue(tags.length, (resolve, reject) => ({ kind: "read", tags, resolve, reject }));
  }

  write(entries: WriteEntry[]): Promise<WriteOutcome[]> {
    if (entries.length === 0) return Promise.resolve([]);
    return this.enqueue(entries.length, (resolve, reject) => ({ kind: "write", entries, resolve, reject }));
  }

  /** Runs `task` alone, in its turn (browse; later subscriptions and alarms). */
  run<T>(task: () => Promise<T>): Promise<T> {
    return this.enqueue<T>(1, (resolve, reject) => ({ kind: "task", run: task, resolve: resolve as (v: unknown) => void, reject }));
  }

  /** Fails every queued operation (the connection is gone); the running one fails through its executor. */
  failAll(err: unknown): void {
    const ops = this.queue.splice(0);
    this.queuedItems = 0;
    for (const op of ops) op.reject(err);
  }

  private enqueue<T>(items: number, make: (resolve: (v: T) => void, reject: (err: unknown) => void) => Operation): Promise<T> {
    if (this.queuedItems + items > this.maxQueuedItems) {
      return Promise.reject(
        new OverloadError(
          `request queue full (${this.queuedItems} item(s) waiting, limit ${this.maxQueuedItems}); the controller answers slower than requests arrive`,
          this.plc === undefined ? {} : { plc: this.plc },
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push(make(resolve, reject));
      this.queuedItems += items;
      this.schedulePump();
    });
  }

  /**
   * Starts the next operation one event-loop turn later, so that operations
   * triggered together (one message fanned out to many nodes) share it.
   */
  private schedulePump(): void {
    if (this.busy || this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.busy) return;
    const head = this.queue[0];
    if (head === undefined) return;
    this.busy = true;
    const running = head.kind === "read" ? this.runReads() : this.runAlone();
    void running.finally(() => {
      this.busy = false;
      this.pump();
    });
  }

  /** Every read at the head of the queue, as one batch. */
  private async runReads(): Promise<void> {
    const ops: Extract<Operation, { kind: "read" }>[] = [];
    while (this.queue[0]?.kind === "read") {
      const op = this.queue.shift() as Extract<Operation, { kind: "read" }>;
      this.queuedItems -= op.tags.length;
      ops.push(op);
    }
    this.stats.readBatches++;
    const tags = ops.flatMap((op) => op.tags);
    let outcomes: ReadOutcome[];
    try {
      outcomes = await this.executor.read(tags);
      if (outcomes.length !== tags.length) {
        throw new S7Error("ERR_S7_PROTOCOL", `${outcomes.length} outcome(s) for ${tags.length} tag(s) read`, this.plc === undefined ? {} : { plc: this.plc });
      }
    } catch (err) {
      for (const op of ops) op.reject(err);
      return;
    }
    let at = 0;
    for (const op of ops) {
      op.resolve(outcomes.slice(at, at + op.tags.length));
      at += op.tags.length;
    }
  }

  private async runAlone(): Promise<void> {
    const op = this.queue.shift()!;
    try {
      if (op.kind === "write") {
        this.queuedItems -= op.entries.length;
        this.stats.writes++;
        op.resolve(await this.executor.write(op.entries));
      } else if (op.kind === "task") {
        this.queuedItems -= 1;
        this.stats.tasks++;
        op.resolve(await op.run());
      }
    } catch (err) {
      op.reject(err);
    }
  }
}
