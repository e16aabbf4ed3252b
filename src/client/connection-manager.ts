/**
 * One pooled connection to one controller, as the config node owns it
 * (SPEC §2 s7-secure-connection, §3): connects according to the system tag
 * ForceConnectionState, reconnects with back-off, switches to the
 * AlternativeAddress on request, and serialises every read and write through
 * one RequestScheduler.
 *
 * The manager knows nothing of the wire: a SessionFactory opens a session to
 * an endpoint (TCP, COTP, TLS, certificate check, S7CommPlus session) and the
 * session executes batches. At most one session or connection attempt exists
 * at any moment.
 */
import { EventEmitter } from "node:events";
import { ConnectionError, S7Error, TimeoutError, ValueError } from "../errors.js";
import { Backoff, type BackoffOptions } from "./backoff.js";
import { RequestScheduler, type BatchExecutor, type SchedulerLimits } from "./scheduler.js";
import { parseAlternativeAddress, type ControllerAddress } from "./alternative-address.js";
import type { SystemTagName } from "../tags/tag-name.js";

export interface ManagedSession<R, W, RR, WR, I> extends BatchExecutor<R, W, RR, WR> {
  /** Facts about the session for status and the switch node (TLS version, certificate …). */
  readonly info: I;
  /** The controller's limits for one request. */
  readonly limits: SchedulerLimits;
  /** Ends the session politely (DeleteObject, then close). Resolves when the socket is gone. */
  close(): Promise<void>;
  /** Registers the listener called once when the session ends by itself (not through close()). */
  onClosed(listener: (err: S7Error) => void): void;
}

export type SessionFactory<S> = (endpoint: ControllerAddress, signal: AbortSignal) => Promise<S>;

export type ConnectionState = "disconnected" | "connecting" | "connected" | "reconnect-wait" | "closed";

export interface SystemTagValues {
  ForceConnectionState: 0 | 1;
  UseAlternativeAddress: 0 | 1;
  AlternativeAddress: string;
}

export interface ConnectionStatus<I> {
  state: ConnectionState;
  /** The endpoint connected to, or being connected to / waited for. */
  endpoint: ControllerAddress;
  /** True when `endpoint` is the AlternativeAddress. */
  alternative: boolean;
  systemTags: SystemTagValues;
  /** Why the last attempt or session failed. */
  lastError?: S7Error;
  /** Delay before the next attempt, in reconnect-wait. */
  retryInMs?: number;
  /** Session facts while connected. */
  info?: I;
}

export interface ConnectionManagerOptions<S> {
  /** Connection name; system tags are @<name>@<tag>. */
  name: string;
  primary: ControllerAddress;
  systemTags?: Partial<SystemTagValues>;
  factory: SessionFactory<S>;
  backoff?: BackoffOptions;
  /** How long a request waits for a connection before it fails (default 10 s). */
  connectWaitMs?: number;
  /** How long close() waits for a polite session end before it tears down (default 3 s). */
  closeTimeoutMs?: number;
  maxQueuedItems?: number;
  /** Limits used before the controller's own are known (default 20 per request). */
  defaultLimits?: SchedulerLimits;
}

const DEFAULT_LIMITS: SchedulerLimits = { readMax: 20, writeMax: 20 };

export class ConnectionManager<R, W, RR, WR, I> extends EventEmitter {
  readonly name: string;
  private readonly primary: ControllerAddress;
  private tags: SystemTagValues;
  private state: ConnectionState = "disconnected";
  private session: ManagedSession<R, W, RR, WR, I> | undefined;
  private attempt: AbortController | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryInMs: number | undefined;
  private lastError: S7Error | undefined;
  private readonly backoff: Backoff;
  private readonly factory: SessionFactory<ManagedSession<R, W, RR, WR, I>>;
  private readonly connectWaitMs: number;
  private readonly closeTimeoutMs: number;
  private readonly defaultLimits: SchedulerLimits;
  private readonly scheduler: RequestScheduler<R, W, RR, WR>;
  /** Waiters for the next "connected" (or a reason to give up). */
  private waiters = new Set<{ resolve(s: ManagedSession<R, W, RR, WR, I>): void; reject(err: S7Error): void }>();
  /** Endpoint of the current session or attempt. */
  private target: { endpoint: ControllerAddress; alternative: boolean };

  constructor(options: ConnectionManagerOptions<ManagedSession<R, W, RR, WR, I>>) {
    super();
    this.name = options.name;
    this.primary = options.primary;
    this.factory = options.factory;
    this.backoff = new Backoff(options.backoff);
    this.connectWaitMs = options.connectWaitMs ?? 10_000;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 3000;
    this.defaultLimits = options.defaultLimits ?? DEFAULT_LIMITS;
    this.tags = { ForceConnectionState: 1, UseAlternativeAddress: 0, AlternativeAddress: "" };
    // AlternativeAddress first: UseAlternativeAddress = 1 needs it.
    for (const tag of ["AlternativeAddress", "UseAlternativeAddress", "ForceConnectionState"] as const) {
      const value = options.systemTags?.[tag];
      if (value !== undefined) this.applyTag(tag, value);
    }
    this.target = this.selectEndpoint();
    const executor: BatchExecutor<R, W, RR, WR> = {
      read: async (items) => (await this.sessionForRequest()).read(items),
      write: async (items) => (await this.sessionForRequest()).write(items),
    };
    this.scheduler = new RequestScheduler(executor, () => this.session?.limits ?? this.defaultLimits, {
      plc: this.name,
      ...(options.maxQueuedItems === undefined ? {} : { maxQueuedItems: options.maxQueuedItems }),
    });
  }

  /** Applies the start values: connects when ForceConnectionState is 1. */
  start(): void {
    this.ensureConnection();
    this.emitStatus();
  }

  get status(): ConnectionStatus<I> {
    const status: ConnectionStatus<I> = {
      state: this.state,
      endpoint: this.target.endpoint,
      alternative: this.target.alternative,
      systemTags: { ...this.tags },
    };
    if (this.lastError) status.lastError = this.lastError;
    if (this.state === "reconnect-wait" && this.retryInMs !== undefined) status.retryInMs = this.retryInMs;
    if (this.session) status.info = this.session.info;
    return status;
  }

  get systemTags(): SystemTagValues {
    return { ...this.tags };
  }

  /** Requests sent so far (for tests and benchmarks). */
  get requestStats(): { requests: number; readRequests: number; writeRequests: number } {
    return { ...this.scheduler.stats };
  }

  read(items: R[]): Promise<RR[]> {
    return this.scheduler.read(items);
  }

  write(items: W[]): Promise<WR[]> {
    return this.scheduler.write(items);
  }

  /**
   * Runs `fn` with the connected session, waiting for the connection like a
   * read does (used for browsing).
   */
  async withSession<T>(fn: (session: ManagedSession<R, W, RR, WR, I>) => Promise<T>): Promise<T> {
    this.assertOpen();
    return fn(await this.sessionForRequest());
  }

  /**
   * Sets one system tag. The value is checked first; a bad value throws
   * (ValueError / ConfigError naming the tag) and changes nothing.
   */
  async setSystemTag(tag: SystemTagName, value: unknown): Promise<void> {
    this.assertOpen();
    const before = { ...this.tags };
    this.applyTag(tag, value);
    if (before[tag] === this.tags[tag]) return;
    this.emit("systemTags", this.systemTags);
    if (tag === "ForceConnectionState") {
      if (this.tags.ForceConnectionState === 0) await this.disconnect("ForceConnectionState = 0");
      else {
        this.backoff.reset();
        this.ensureConnection();
      }
    }
    // UseAlternativeAddress / AlternativeAddress take effect at the next connection.
    this.emitStatus();
  }

  /**
   * The switch node's actions as one step: disconnect, select the address,
   * reconnect ("switch" → AlternativeAddress, "switchBack" → primary).
   */
  async switchTo(alternative: boolean): Promise<void> {
    this.assertOpen();
    if (alternative && this.tags.AlternativeAddress.trim() === "") {
      throw new ValueError(`@${this.name}@AlternativeAddress is empty; set it before switching`, { plc: this.name });
    }
    await this.disconnect(alternative ? "switching to the alternative address" : "switching back to the primary address");
    this.tags.UseAlternativeAddress = alternative ? 1 : 0;
    this.tags.ForceConnectionState = 1;
    this.emit("systemTags", this.systemTags);
    this.backoff.reset();
    this.ensureConnection();
    this.emitStatus();
  }

  /** Retry at once if waiting (e.g. the certificate was just trusted). */
  retryNow(): void {
    if (this.state !== "reconnect-wait") return;
    this.clearRetry();
    this.ensureConnection();
  }

  /** Ends everything: no reconnect afterwards; pending requests fail with ERR_S7_CLOSED. */
  async close(): Promise<void> {
    if (this.state === "closed") return;
    const closed = new ConnectionError("ERR_S7_CLOSED", "connection closed by its owner", { plc: this.name });
    await this.disconnect("closed", closed);
    this.setState("closed");
    this.scheduler.failAll(closed);
    this.removeAllListeners();
  }

  // --- internals -----------------------------------------------------------

  private assertOpen(): void {
    if (this.state === "closed") throw new ConnectionError("ERR_S7_CLOSED", "connection is closed", { plc: this.name });
  }

  private applyTag(tag: SystemTagName, value: unknown): void {
    const label = `@${this.name}@${tag}`;
    if (tag === "AlternativeAddress") {
      if (typeof value !== "string") throw new ValueError(`${label} must be a string, got ${typeof value}`, { plc: this.name, tag: label });
      parseAlternativeAddress(value); // throws a ConfigError naming the problem
      this.tags.AlternativeAddress = value.trim();
      return;
    }
    const flag = toFlag(value);
    if (flag === undefined) {
      throw new ValueError(`${label} must be 0 or 1, got ${JSON.stringify(value)}`, { plc: this.name, tag: label });
    }
    if (tag === "UseAlternativeAddress" && flag === 1 && this.tags.AlternativeAddress === "") {
      throw new ValueError(`${label} = 1 needs @${this.name}@AlternativeAddress to be set first`, { plc: this.name, tag: label });
    }
    this.tags[tag] = flag;
  }

  private selectEndpoint(): { endpoint: ControllerAddress; alternative: boolean } {
    if (this.tags.UseAlternativeAddress === 1) {
      const alt = parseAlternativeAddress(this.tags.AlternativeAddress);
      if (alt) return { endpoint: alt, alternative: true };
    }
    return { endpoint: this.primary, alternative: false };
  }

  private setState(state: ConnectionState): void {
    this.state = state;
  }

  private emitStatus(): void {
    this.emit("status", this.status);
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryInMs = undefined;
  }

  private ensureConnection(): void {
    if (this.tags.ForceConnectionState !== 1) return;
    if (this.state === "connecting" || this.state === "connected" || this.state === "closed") return;
    this.clearRetry();
    this.target = this.selectEndpoint();
    const attempt = new AbortController();
    this.attempt = attempt;
    this.setState("connecting");
    this.emitStatus();
    this.factory(this.target.endpoint, attempt.signal).then(
      (session) => this.onConnected(attempt, session),
      (err: unknown) => this.onAttemptFailed(attempt, toS7Error(err, this.name)),
    );
  }

  private onConnected(attempt: AbortController, session: ManagedSession<R, W, RR, WR, I>): void {
    if (this.attempt !== attempt || attempt.signal.aborted) {
      // The attempt was cancelled while it completed: do not keep the session.
      void session.close().catch(() => undefined);
      return;
    }
    this.attempt = undefined;
    this.session = session;
    this.backoff.reset();
    this.lastError = undefined;
    this.setState("connected");
    session.onClosed((err) => this.onSessionLost(session, err));
    for (const w of this.takeWaiters()) w.resolve(session);
    this.emitStatus();
  }

  private onAttemptFailed(attempt: AbortController, err: S7Error): void {
    if (this.attempt !== attempt) return; // cancelled; the canceller set the state
    this.attempt = undefined;
    this.lastError = err;
    this.scheduleRetry();
  }

  private onSessionLost(session: ManagedSession<R, W, RR, WR, I>, err: S7Error): void {
    if (this.session !== session) return;
    this.session = undefined;
    this.lastError = err;
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.tags.ForceConnectionState !== 1 || this.state === "closed") {
      this.setState("disconnected");
      this.emitStatus();
      return;
    }
    const delay = this.backoff.next();
    this.setState("reconnect-wait");
    this.retryInMs = delay;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.setState("disconnected");
      this.ensureConnection();
    }, delay);
    this.emitStatus();
  }

  /** Stops the attempt or session and any retry; pending waiters fail with `reason`. */
  private async disconnect(why: string, reason?: S7Error): Promise<void> {
    this.clearRetry();
    const failure = reason ?? new ConnectionError("ERR_S7_CLOSED", `disconnected: ${why}`, { plc: this.name });
    if (this.attempt) {
      this.attempt.abort(failure);
      this.attempt = undefined;
    }
    const session = this.session;
    this.session = undefined;
    for (const w of this.takeWaiters()) w.reject(failure);
    if (this.state !== "closed") this.setState("disconnected");
    this.emitStatus();
    if (session) await closeWithin(session, this.closeTimeoutMs);
  }

  private takeWaiters(): Array<{ resolve(s: ManagedSession<R, W, RR, WR, I>): void; reject(err: S7Error): void }> {
    const all = [...this.waiters];
    this.waiters.clear();
    return all;
  }

  /** The session for the next request, waiting up to connectWaitMs for a connection. */
  private sessionForRequest(): Promise<ManagedSession<R, W, RR, WR, I>> {
    if (this.session) return Promise.resolve(this.session);
    if (this.state === "closed") return Promise.reject(new ConnectionError("ERR_S7_CLOSED", "connection is closed", { plc: this.name }));
    if (this.tags.ForceConnectionState === 0) {
      return Promise.reject(
        new ConnectionError("ERR_S7_CLOSED", "not connected: ForceConnectionState = 0", { plc: this.name, transient: true }),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (s: ManagedSession<R, W, RR, WR, I>) => {
          clearTimeout(timer);
          resolve(s);
        },
        reject: (err: S7Error) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const cause = this.lastError ? `: ${this.lastError.message}` : "";
        reject(new TimeoutError(`not connected after ${this.connectWaitMs} ms${cause}`, { plc: this.name }));
      }, this.connectWaitMs);
      this.waiters.add(waiter);
    });
  }
}

function toFlag(value: unknown): 0 | 1 | undefined {
  if (value === 0 || value === false || value === "0") return 0;
  if (value === 1 || value === true || value === "1") return 1;
  return undefined;
}

function toS7Error(err: unknown, plc: string): S7Error {
  if (err instanceof S7Error) return err;
  return new ConnectionError("ERR_S7_CONNECT", err instanceof Error ? err.message : String(err), { plc, cause: err });
}

/** Polite close, bounded in time; a session that does not finish is left to its own teardown. */
async function closeWithin(session: { close(): Promise<void> }, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    session.close().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  if (timer) clearTimeout(timer);
}
