/**
 * The connection to one controller, as one `s7-secure-connection` config node
 * owns it (docs/NODES.md §2 s7-secure-connection, §3), without Node-RED:
 *
 * - one operation queue (operation-queue.ts) for every read, write and
 *   browse, run on the current session; the session below sends one request
 *   at a time (request-mux.ts);
 * - the connection states of TRANSITIONS: connects according to the system
 *   tag ForceConnectionState, reconnects with back-off, switches to the
 *   AlternativeAddress on request; at most one session or connection attempt
 *   exists at any moment;
 * - the system tags, answered here in reads and writes;
 * - diagnostics: what the sessions tolerated (IntegrityId mismatches,
 *   negative ReturnValues decided per item), counted in `diagnostics` and
 *   reported once per session as a "diagnostic" event with one line of text.
 *
 * The trust layer comes in as a verifier plus an optional store-change
 * subscription.
 */
import { EventEmitter } from "node:events";
import { ConfigError, ConnectionError, S7Error, TagError, TimeoutError, ValueError } from "../errors.js";
import type { CertificateVerifier, PeerCertificates, VerificationTarget } from "../transport/verifier.js";
import { Backoff } from "./backoff.js";
import { parseAlternativeAddress, parsePort, type ControllerAddress } from "./alternative-address.js";
import { ControllerSession, type ConnectedSession, type SessionOpener } from "./controller-session.js";
import { OperationQueue } from "./operation-queue.js";
import { SubscriptionManager, type PushSession, type SubscriptionStats } from "./subscription-manager.js";
import type { SubscribeOptions, Subscription } from "./subscription.js";
import { AlarmMonitor, type AlarmOptions, type Alarms } from "./alarms.js";
import type { ReadOutcome, SessionInfo, WriteEntry, WriteOutcome } from "./results.js";
import type { TagRequestStats } from "./tag-io.js";
import type { SessionDiagnostics } from "./session.js";
import type { SymbolNode } from "../tags/symbols.js";
import { parseTagName, SYSTEM_TAG_NAMES, type SystemTagName } from "../tags/tag-name.js";

export interface ControllerConnectionConfig {
  /** Connection name; system tags are @<name>@<tag>. */
  name: string;
  host: string;
  port: number;
  /** Local interface or source address to connect from; "" = default route. */
  accessPoint: string;
  forceConnectionState: 0 | 1;
  useAlternativeAddress: 0 | 1;
  alternativeAddress: string;
  /** Deadline of one connection attempt, and how long a request waits for a connection. */
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  username?: string;
  password?: string;
  /** Items waiting at most; beyond it requests fail fast with ERR_S7_OVERLOAD. */
  maxQueuedItems?: number;
  /** How long close() waits for a polite session end before it tears down (default 3 s). */
  closeTimeoutMs?: number;
  /** Spread of the reconnect delays, 0..1 (default 0.2). */
  reconnectJitter?: number;
  /** First credit limit of each subscription and the step of each top-up (defaults 20 and 10; −1 = unlimited). */
  subscriptionCreditLimit?: number;
  subscriptionCreditStep?: number;
}

export interface ControllerConnectionDeps {
  verifier: CertificateVerifier;
  onTrustChange?: (listener: () => void) => () => void;
  /** Opens a session (default: a ControllerSession over TLS); tests pass a fake one. */
  openSession?: SessionOpener;
  /** Opens the push session of subscriptions (default: a ControllerSession over TLS, unless openSession is given). */
  openPushSession?: (endpoint: ControllerAddress, signal: AbortSignal) => Promise<PushSession>;
}

export interface BrowseResult {
  plc: { name: string; orderNumber: string; firmware: string; family: string };
  tags: SymbolNode[];
}

export type ConnectionState = "disconnected" | "connecting" | "connected" | "reconnect-wait" | "closed";

export interface SystemTagValues {
  ForceConnectionState: 0 | 1;
  UseAlternativeAddress: 0 | 1;
  AlternativeAddress: string;
}

export interface ConnectionStatus {
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
  info?: SessionInfo;
}

/** What moves the connection from one state to another. */
export type ConnectionEvent =
  | "connect" // ForceConnectionState is 1 and no session (at start, on 0 → 1, after the back-off delay, retryNow)
  | "connected" // the attempt produced a session
  | "failed" // the attempt or the session failed; a retry is due
  | "disconnect" // ForceConnectionState = 0, a switch, or a failure with nothing to retry
  | "close"; // the owner closed the connection; nothing follows

/** Every state change of a connection, at one glance. A pair not listed cannot happen. */
export const TRANSITIONS: Readonly<Record<ConnectionState, Partial<Record<ConnectionEvent, ConnectionState>>>> = {
  disconnected: { connect: "connecting", disconnect: "disconnected", close: "closed" },
  connecting: { connected: "connected", failed: "reconnect-wait", disconnect: "disconnected", close: "closed" },
  connected: { failed: "reconnect-wait", disconnect: "disconnected", close: "closed" },
  "reconnect-wait": { connect: "connecting", disconnect: "disconnected", close: "closed" },
  closed: {},
};

/**
 * Refusals that the next attempt will meet again until someone acts (trusts
 * the certificate, fixes the address, enables Secure Communication): while
 * the last attempt failed with one of them, requests fail at once with it.
 */
const REFUSING_CODES: ReadonlySet<string> = new Set([
  "ERR_S7_UNTRUSTED",
  "ERR_S7_REVOKED",
  "ERR_S7_ADDRESS_MISMATCH",
  "ERR_S7_BAD_SIGNATURE",
  "ERR_S7_CERT_USE",
  "ERR_S7_CHAIN",
  "ERR_S7_EXPIRED",
  "ERR_S7_NOT_YET_VALID",
  "ERR_S7_NO_TLS",
  "ERR_S7_TLS",
]);

/** Refusals of the certificate itself: the store may have changed since, which a local re-check notices. */
const CERTIFICATE_CODES: ReadonlySet<string> = new Set([...REFUSING_CODES].filter((c) => c !== "ERR_S7_NO_TLS" && c !== "ERR_S7_TLS"));

export class ControllerConnection extends EventEmitter {
  readonly name: string;
  private readonly primary: ControllerAddress;
  private tags: SystemTagValues;
  private state: ConnectionState = "disconnected";
  private session: ConnectedSession | undefined;
  private attempt: AbortController | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryInMs: number | undefined;
  private lastError: S7Error | undefined;
  private readonly backoff: Backoff;
  private readonly openSession: SessionOpener;
  private readonly connectWaitMs: number;
  private readonly closeTimeoutMs: number;
  private readonly queue: OperationQueue;
  private readonly stats: TagRequestStats = { requests: 0, readRequests: 0, writeRequests: 0 };
  private readonly counted: SessionDiagnostics = { negativeReturnValues: 0, integrityIdMismatches: 0 };
  private readonly verifier: CertificateVerifier;
  /** The certificates of the last refused attempt, to re-check them against the store without dialling. */
  private refusedPeer: { peer: PeerCertificates; target: VerificationTarget } | undefined;
  /** Waiters for the next "connected" (or a reason to give up). */
  private waiters = new Set<{ resolve(s: ConnectedSession): void; reject(err: S7Error): void }>();
  /** Endpoint of the current session or attempt. */
  private target: { endpoint: ControllerAddress; alternative: boolean };
  /** Subscriptions, created on the first subscribe(). */
  private push: SubscriptionManager | undefined;
  /** Alarms, created on the first alarms(). */
  private alarmMonitor: AlarmMonitor | undefined;
  private readonly openPushSession: ((endpoint: ControllerAddress, signal: AbortSignal) => Promise<PushSession>) | undefined;
  private readonly reconnectRange: { minMs: number; maxMs: number };
  private readonly credits: { creditLimit?: number; creditStep?: number };

  constructor(config: ControllerConnectionConfig, deps: ControllerConnectionDeps) {
    super();
    this.name = config.name;
    if (config.host.trim() === "") throw new ConfigError(`connection "${config.name}": no controller address`, { plc: config.name });
    this.primary = { host: config.host.trim(), port: parsePort(config.port), accessPoint: config.accessPoint.trim() };
    this.backoff = new Backoff({
      minMs: config.reconnectMinMs,
      maxMs: config.reconnectMaxMs,
      ...(config.reconnectJitter === undefined ? {} : { jitter: config.reconnectJitter }),
    });
    this.connectWaitMs = config.connectTimeoutMs;
    this.closeTimeoutMs = config.closeTimeoutMs ?? 3000;
    this.verifier = {
      verify: (peer, target) =>
        deps.verifier.verify(peer, target).catch((err: unknown) => {
          this.refusedPeer = { peer, target };
          throw err;
        }),
    };
    this.reconnectRange = { minMs: config.reconnectMinMs, maxMs: config.reconnectMaxMs };
    this.credits = {
      ...(config.subscriptionCreditLimit === undefined ? {} : { creditLimit: config.subscriptionCreditLimit }),
      ...(config.subscriptionCreditStep === undefined ? {} : { creditStep: config.subscriptionCreditStep }),
    };
    const open = (endpoint: ControllerAddress, signal: AbortSignal): Promise<ControllerSession> =>
        ControllerSession.open(
          endpoint,
          {
            plc: config.name,
            verifier: this.verifier,
            connectTimeoutMs: config.connectTimeoutMs,
            requestTimeoutMs: config.requestTimeoutMs,
            stats: this.stats,
            diagnostics: this.counted,
            log: (message) => this.emit("diagnostic", message),
            ...(config.password ? { password: config.password } : {}),
            ...(config.username ? { username: config.username } : {}),
            ...(deps.onTrustChange ? { onTrustChange: deps.onTrustChange } : {}),
          },
          signal,
        );
    this.openSession = deps.openSession ?? open;
    this.openPushSession = deps.openPushSession ?? (deps.openSession === undefined ? open : undefined);
    this.tags = { ForceConnectionState: 1, UseAlternativeAddress: 0, AlternativeAddress: "" };
    // AlternativeAddress first: UseAlternativeAddress = 1 needs it.
    this.applyTag("AlternativeAddress", config.alternativeAddress);
    this.applyTag("UseAlternativeAddress", config.useAlternativeAddress);
    this.applyTag("ForceConnectionState", config.forceConnectionState);
    this.target = this.selectEndpoint();
    this.queue = new OperationQueue(
      {
        read: async (tags) => (await this.sessionForRequest()).read(tags),
        write: async (entries) => (await this.sessionForRequest()).write(entries),
      },
      { plc: this.name, ...(config.maxQueuedItems === undefined ? {} : { maxQueuedItems: config.maxQueuedItems }) },
    );
  }

  /** Applies the start values: connects when ForceConnectionState is 1. */
  start(): void {
    this.ensureConnection();
    this.emitStatus();
  }

  get status(): ConnectionStatus {
    const status: ConnectionStatus = {
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

  /** Tag requests sent so far (for tests and benchmarks). */
  get requestStats(): TagRequestStats {
    return { ...this.stats };
  }

  /** What the sessions of this connection tolerated so far. */
  get diagnostics(): SessionDiagnostics {
    return { ...this.counted };
  }

  /** Reads tags; system tags of this connection are answered here and never reach the controller. */
  async read(tags: readonly string[]): Promise<ReadOutcome[]> {
    const outcomes: (ReadOutcome | undefined)[] = new Array(tags.length);
    const remote: string[] = [];
    const remoteIndex: number[] = [];
    tags.forEach((tag, i) => {
      const system = this.systemTagOf(tag);
      if (system instanceof S7Error) outcomes[i] = { tag, ok: false, error: system };
      else if (system !== undefined) outcomes[i] = { tag, ok: true, value: this.tags[system] };
      else {
        remote.push(tag);
        remoteIndex.push(i);
      }
    });
    if (remote.length > 0) {
      this.assertOpen();
      const results = await this.queue.read(remote);
      results.forEach((r, k) => (outcomes[remoteIndex[k]!] = r));
    }
    return outcomes as ReadOutcome[];
  }

  /**
   * Writes tags. The controller's tags are one operation: every name and
   * value is checked before anything is sent. System tags change the
   * connection afterwards, so a batch never writes to a controller it just
   * switched away from.
   */
  async write(entries: readonly WriteEntry[]): Promise<WriteOutcome[]> {
    const outcomes: (WriteOutcome | undefined)[] = new Array(entries.length);
    const remote: WriteEntry[] = [];
    const remoteIndex: number[] = [];
    const system: [number, SystemTagName][] = [];
    entries.forEach((entry, i) => {
      const tag = this.systemTagOf(entry.tag);
      if (tag instanceof S7Error) outcomes[i] = { tag: entry.tag, ok: false, error: tag };
      else if (tag !== undefined) system.push([i, tag]);
      else {
        remote.push(entry);
        remoteIndex.push(i);
      }
    });
    if (remote.length > 0) {
      this.assertOpen();
      const results = await this.queue.write(remote);
      results.forEach((r, k) => (outcomes[remoteIndex[k]!] = r));
    }
    for (const [i, tag] of system) {
      const entry = entries[i]!;
      try {
        await this.setSystemTag(tag, entry.value);
        outcomes[i] = { tag: entry.tag, ok: true, value: this.tags[tag] };
      } catch (err) {
        outcomes[i] = { tag: entry.tag, ok: false, error: err instanceof S7Error ? err : new ValueError(String(err), { plc: this.name, tag: entry.tag }) };
      }
    }
    return outcomes as WriteOutcome[];
  }

  /** The symbol tree of the connected controller, in the queue like a read (connects and waits like one). */
  browse(): Promise<BrowseResult> {
    this.assertOpen();
    return this.queue.run(async () => {
      const session = await this.sessionForRequest();
      const identity = session.info.identity;
      return {
        plc: { name: this.name, orderNumber: identity.orderNumber, firmware: identity.firmware, family: identity.family },
        tags: await session.browse(),
      };
    });
  }

  /**
   * Subscribes to tags: the controller pushes their changes (on a second
   * session of this connection, see subscription-manager.ts). The handle
   * delivers a full set first, then changes; unsubscribe() leaves.
   */
  subscribe(tags: readonly string[], options: SubscribeOptions = {}): Subscription {
    return this.pushManager().subscribe(tags, options);
  }

  /**
   * The controller's alarms (alarms.ts), on the same push session as the
   * subscriptions: the active list at connect, then one event per alarm
   * event; close() leaves.
   */
  alarms(options: AlarmOptions = {}): Alarms {
    const manager = this.pushManager();
    this.alarmMonitor ??= new AlarmMonitor({ plc: this.name, attach: (u) => manager.attach(u), detach: (u) => manager.detach(u), push: () => manager.pushSession });
    return this.alarmMonitor.open(options);
  }

  private pushManager(): SubscriptionManager {
    this.assertOpen();
    const open = this.openPushSession;
    if (open === undefined) throw new ConfigError(`connection "${this.name}": subscriptions need a controller session`, { plc: this.name });
    if (this.push === undefined) {
      this.push = new SubscriptionManager({
        plc: this.name,
        open: (signal) => open(this.target.endpoint, signal),
        reconnectMinMs: this.reconnectRange.minMs,
        reconnectMaxMs: this.reconnectRange.maxMs,
        ...this.credits,
      });
      if (this.session !== undefined) this.push.connectionUp();
    }
    return this.push;
  }

  /** Whether the subscriptions wait on a timer (a push-session retry); false once closed. */
  get hasSubscriptionTimer(): boolean {
    return this.push?.hasTimer ?? false;
  }

  /** What the subscriptions did so far (undefined before the first subscribe). */
  get subscriptionStats(): SubscriptionStats | undefined {
    return this.push === undefined ? undefined : { ...this.push.stats };
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
    await this.push?.close();
    this.alarmMonitor?.closeAll();
    await this.disconnect("closed", closed);
    this.transition("close");
    this.queue.failAll(closed);
    this.removeAllListeners();
  }

  // --- states ----------------------------------------------------------------

  private transition(event: ConnectionEvent): void {
    const next = TRANSITIONS[this.state][event];
    if (next === undefined) throw new Error(`connection ${this.name}: no transition from ${this.state} on ${event}`);
    this.state = next;
  }

  private ensureConnection(): void {
    if (this.tags.ForceConnectionState !== 1) return;
    if (this.state !== "disconnected" && this.state !== "reconnect-wait") return;
    this.clearRetry();
    this.target = this.selectEndpoint();
    const attempt = new AbortController();
    this.attempt = attempt;
    this.transition("connect");
    this.emitStatus();
    this.openSession(this.target.endpoint, attempt.signal).then(
      (session) => this.onConnected(attempt, session),
      (err: unknown) => this.onAttemptFailed(attempt, toS7Error(err, this.name)),
    );
  }

  private onConnected(attempt: AbortController, session: ConnectedSession): void {
    if (this.attempt !== attempt || attempt.signal.aborted) {
      // The attempt was cancelled while it completed: do not keep the session.
      void session.close().catch(() => undefined);
      return;
    }
    this.attempt = undefined;
    this.session = session;
    this.backoff.reset();
    this.lastError = undefined;
    this.refusedPeer = undefined;
    this.transition("connected");
    session.onClosed((err) => this.onSessionLost(session, err));
    for (const w of this.takeWaiters()) w.resolve(session);
    this.emitStatus();
    this.push?.connectionUp();
  }

  private onAttemptFailed(attempt: AbortController, err: S7Error): void {
    if (this.attempt !== attempt) return; // cancelled; the canceller set the state
    this.attempt = undefined;
    this.lastError = err;
    // Requests waiting for this connection learn at once why it was refused.
    if (REFUSING_CODES.has(err.code)) for (const w of this.takeWaiters()) w.reject(err);
    this.scheduleRetry();
  }

  private onSessionLost(session: ConnectedSession, err: S7Error): void {
    if (this.session !== session) return;
    this.session = undefined;
    this.lastError = err;
    this.push?.connectionDown("reconnect", `connection lost: ${err.message}`);
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.tags.ForceConnectionState !== 1) {
      this.transition("disconnect");
      this.emitStatus();
      return;
    }
    const delay = this.backoff.next();
    this.transition("failed");
    this.retryInMs = delay;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
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
    if (session !== undefined) this.push?.connectionDown(why.startsWith("switching") ? "switch" : "reconnect", `disconnected: ${why}`);
    for (const w of this.takeWaiters()) w.reject(failure);
    this.transition("disconnect");
    this.emitStatus();
    if (session) await closeWithin(session, this.closeTimeoutMs);
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryInMs = undefined;
  }

  private takeWaiters(): Array<{ resolve(s: ConnectedSession): void; reject(err: S7Error): void }> {
    const all = [...this.waiters];
    this.waiters.clear();
    return all;
  }

  /**
   * The session for the next operation, waiting up to connectWaitMs for a
   * connection. Fails at once when the connection is closed, switched off,
   * or refused for a reason that a retry will meet again.
   */
  private sessionForRequest(): Promise<ConnectedSession> {
    if (this.session) return Promise.resolve(this.session);
    if (this.state === "closed") return Promise.reject(new ConnectionError("ERR_S7_CLOSED", "connection is closed", { plc: this.name }));
    if (this.tags.ForceConnectionState === 0) {
      return Promise.reject(new ConnectionError("ERR_S7_CLOSED", "not connected: ForceConnectionState = 0", { plc: this.name, transient: true }));
    }
    if (this.state === "reconnect-wait" && this.lastError !== undefined && REFUSING_CODES.has(this.lastError.code)) {
      return this.whileRefused(this.lastError);
    }
    return this.nextSession();
  }

  /**
   * A request while the controller is refused: fails at once with the
   * reason, unless the refused certificate passes the store now (it was just
   * trusted), then the connection retries at once and the request waits for it.
   */
  private async whileRefused(refusal: S7Error): Promise<ConnectedSession> {
    const refused = this.refusedPeer;
    if (refused === undefined || !CERTIFICATE_CODES.has(refusal.code)) throw refusal;
    try {
      await this.verifier.verify(refused.peer, refused.target);
    } catch (err) {
      throw err instanceof S7Error ? err : refusal;
    }
    this.retryNow();
    return this.nextSession();
  }

  /** Waits up to connectWaitMs for the next session. */
  private nextSession(): Promise<ConnectedSession> {
    if (this.session) return Promise.resolve(this.session);
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (s: ConnectedSession) => {
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

  // --- system tags -----------------------------------------------------------

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

  private emitStatus(): void {
    this.emit("status", this.status);
  }

  /** The system tag a name refers to, an error for another connection's tag, or undefined. */
  private systemTagOf(tag: string): SystemTagName | S7Error | undefined {
    if (!tag.trim().startsWith("@")) return undefined;
    try {
      const parsed = parseTagName(tag);
      if (parsed.kind !== "system") return undefined;
      if (parsed.connection !== this.name) {
        return new TagError("ERR_S7_TAG_NOT_FOUND", `${tag}: system tag of connection "${parsed.connection}", this is "${this.name}"`, { plc: this.name, tag });
      }
      return SYSTEM_TAG_NAMES.includes(parsed.tag) ? parsed.tag : undefined;
    } catch (err) {
      return err instanceof S7Error ? err : undefined;
    }
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
