/**
 * One request on the wire at a time, with read coalescing (SPEC §2).
 *
 * Controllers do not take pipelined requests (S7COMMPLUS-TLS §23), so every
 * operation waits in a FIFO queue. When the wire is free, the scheduler takes
 * the operations at the head of the queue:
 *
 * - consecutive reads are merged into one request of up to `readMax` items,
 *   so reads that arrived while a request was on the wire share the next one;
 *   a read larger than `readMax` is split over several requests and its
 *   results are merged back in order;
 * - a write is never merged with another operation (writes keep their order
 *   and a reader queued after a write sees its effect); it is split into
 *   requests of up to `writeMax` items.
 *
 * An idle scheduler waits one event-loop turn before it sends, so operations
 * triggered together travel together.
 *
 * The queue is bounded: beyond `maxQueuedItems` an operation fails at once
 * with ERR_S7_OVERLOAD instead of growing memory.
 */
import { S7Error, type S7ErrorContext } from "../errors.js";

export interface BatchExecutor<R, W, RR, WR> {
  /** Sends one read request with 1..readMax items; resolves with one result per item, in order. */
  read(items: R[]): Promise<RR[]>;
  /** Sends one write request with 1..writeMax items; resolves with one result per item, in order. */
  write(items: W[]): Promise<WR[]>;
}

export interface SchedulerLimits {
  readMax: number;
  writeMax: number;
}

export interface SchedulerOptions {
  /** Items waiting in the queue at most (default 100 000). */
  maxQueuedItems?: number;
  /** Named in errors. */
  plc?: string;
}

export class OverloadError extends S7Error {
  constructor(message: string, context: S7ErrorContext = {}) {
    super("ERR_S7_OVERLOAD", message, { transient: true, ...context });
  }
}

/**
 * A write that failed after some of its requests were confirmed: `confirmed`
 * lists the item positions the controller acknowledged. Nothing is resent.
 */
export class PartialWriteError extends S7Error {
  readonly confirmed: number[];
  constructor(cause: S7Error, confirmed: number[]) {
    super(cause.code, `${cause.message}; ${confirmed.length} item(s) were written before the failure`, {
      transient: cause.transient,
      cause,
      ...(cause.plc === undefined ? {} : { plc: cause.plc }),
    });
    this.confirmed = confirmed;
  }
}

interface Operation<T, TR> {
  kind: "read" | "write";
  items: T[];
  results: TR[];
  /** Next item not yet sent. */
  sent: number;
  /** Items answered so far. */
  answered: number;
  failed: boolean;
  resolve(results: TR[]): void;
  reject(err: unknown): void;
}

type AnyOperation<R, W, RR, WR> = Operation<R, RR> | Operation<W, WR>;

export interface SchedulerStats {
  /** Requests sent since creation. */
  requests: number;
  readRequests: number;
  writeRequests: number;
}

export class RequestScheduler<R, W, RR, WR> {
  private readonly queue: Array<AnyOperation<R, W, RR, WR>> = [];
  private queuedItems = 0;
  private busy = false;
  private pumpScheduled = false;
  private readonly maxQueuedItems: number;
  private readonly plc: string | undefined;
  readonly stats: SchedulerStats = { requests: 0, readRequests: 0, writeRequests: 0 };

  constructor(
    private readonly executor: BatchExecutor<R, W, RR, WR>,
    private readonly limits: () => SchedulerLimits,
    options: SchedulerOptions = {},
  ) {
    this.maxQueuedItems = options.maxQueuedItems ?? 100_000;
    this.plc = options.plc;
  }

  /** Items queued and not yet sent. */
  get pendingItems(): number {
    return this.queuedItems;
  }

  /** Whether a request is on the wire. */
  get isBusy(): boolean {
    return this.busy;
  }

  read(items: R[]): Promise<RR[]> {
    return this.enqueue("read", items);
  }

  write(items: W[]): Promise<WR[]> {
    return this.enqueue("write", items);
  }

  /** Fails every queued operation (the connection is gone); the one on the wire fails through its executor. */
  failAll(err: unknown): void {
    const ops = this.queue.splice(0);
    this.queuedItems = 0;
    for (const op of ops) this.fail(op, err);
  }

  private enqueue<T, TR>(kind: "read" | "write", items: T[]): Promise<TR[]> {
    if (items.length === 0) return Promise.resolve([]);
    if (this.queuedItems + items.length > this.maxQueuedItems) {
      return Promise.reject(
        new OverloadError(
          `request queue full (${this.queuedItems} item(s) waiting, limit ${this.maxQueuedItems}); the controller answers slower than requests arrive`,
          this.plc === undefined ? {} : { plc: this.plc },
        ),
      );
    }
    return new Promise<TR[]>((resolve, reject) => {
      const op: Operation<T, TR> = { kind, items, results: new Array<TR>(items.length), sent: 0, answered: 0, failed: false, resolve, reject };
      this.queue.push(op as unknown as AnyOperation<R, W, RR, WR>);
      this.queuedItems += items.length;
      this.schedulePump();
    });
  }

  /**
   * Starts the next request one event-loop turn later, so that operations
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
    const { readMax, writeMax } = this.limits();
    const request = head.kind === "read" ? this.takeReads(Math.max(1, readMax)) : this.takeWrite(Math.max(1, writeMax));
    this.stats.requests++;
    if (head.kind === "read") this.stats.readRequests++;
    else this.stats.writeRequests++;
    request.finally(() => {
      this.busy = false;
      this.pump();
    });
  }

  /** Slices of operations that make up one request. */
  private takeSlices<T>(kind: "read" | "write", max: number): Array<{ op: Operation<T, unknown>; start: number; count: number }> {
    const slices: Array<{ op: Operation<T, unknown>; start: number; count: number }> = [];
    let room = max;
    while (room > 0 && this.queue.length > 0) {
      const op = this.queue[0] as unknown as Operation<T, unknown>;
      if (op.kind !== kind) break;
      const count = Math.min(room, op.items.length - op.sent);
      slices.push({ op, start: op.sent, count });
      op.sent += count;
      room -= count;
      this.queuedItems -= count;
      if (op.sent === op.items.length) this.queue.shift();
      if (kind === "write") break; // writes are never merged with another operation
    }
    return slices;
  }

  private async takeReads(max: number): Promise<void> {
    const slices = this.takeSlices<R>("read", max);
    await this.execute(slices, (items) => this.executor.read(items));
  }

  private async takeWrite(max: number): Promise<void> {
    const slices = this.takeSlices<W>("write", max);
    await this.execute(slices, (items) => this.executor.write(items));
  }

  private async execute<T, TR>(
    slices: Array<{ op: Operation<T, unknown>; start: number; count: number }>,
    send: (items: T[]) => Promise<TR[]>,
  ): Promise<void> {
    const items = slices.flatMap((s) => s.op.items.slice(s.start, s.start + s.count));
    let results: TR[];
    try {
      results = await send(items);
      if (results.length !== items.length) {
        throw new S7Error("ERR_S7_PROTOCOL", `controller answered ${results.length} item(s) for ${items.length} requested`, this.plc === undefined ? {} : { plc: this.plc });
      }
    } catch (err) {
      for (const s of slices) this.fail(s.op, err);
      return;
    }
    let at = 0;
    for (const s of slices) {
      const op = s.op as Operation<T, TR>;
      for (let i = 0; i < s.count; i++) op.results[s.start + i] = results[at + i]!;
      at += s.count;
      op.answered += s.count;
      if (!op.failed && op.answered === op.items.length) op.resolve(op.results);
    }
  }

  private fail(op: AnyOperation<R, W, RR, WR> | Operation<unknown, unknown>, err: unknown): void {
    if (op.failed) return;
    op.failed = true;
    // Take the operation's unsent items out of the queue.
    const index = this.queue.indexOf(op as AnyOperation<R, W, RR, WR>);
    if (index >= 0) {
      this.queue.splice(index, 1);
      this.queuedItems -= op.items.length - op.sent;
    }
    if (op.kind === "write" && op.answered > 0 && err instanceof S7Error) {
      op.reject(new PartialWriteError(err, Array.from({ length: op.answered }, (_, i) => i)));
    } else {
      op.reject(err);
    }
  }
}
