/**
 * The subscriptions of one connection (docs/PROTOCOL.md §24,
 * docs/PROTOCOL-NOTES.md "Subscriptions"):
 *
 * - Push runs on a SECOND session to the same controller (the push
 *   session), opened while anyone subscribes and the connection is
 *   connected; the connection's own session keeps reads and writes, and
 *   nothing is ever written on the push session (a write there can reset its
 *   subscriptions). The cost: one more connection resource of the controller.
 * - Users of the same tag with the same cycle share its items; a cycle group
 *   is cut into controller subscriptions of at most
 *   floor(items limit / subscriptions limit) items (SystemLimits LIDs 0, 1).
 * - Credits: each subscription starts with a limit and is topped up before
 *   it runs out (SetVariable 1053, no answer).
 * - After a reconnect, a switch, a program change (a per-item error on a
 *   symbolic tag) or a lost push session every user gets a "gap" event, the
 *   subscriptions are re-created, and a fresh full set of values follows.
 *
 * Every request of the push session goes through its gate (request-mux.ts);
 * the manager also runs its own steps one after another (`serial`).
 */
import { ConfigError, ItemError, S7Error } from "../errors.js";
import type { ItemAddress } from "../protocol/address.js";
import { encodePValue, type PValue } from "../protocol/pvalue.js";
import { decodeNotification, type Notification } from "../protocol/messages/notification.js";
import { nextCreditLimit, ROUTE_MODE_CHANGES_ONLY } from "../protocol/messages/subscription.js";
import { Ids } from "../protocol/constants.js";
import type { AlarmInstance } from "../protocol/messages/alarm.js";
import { Backoff } from "./backoff.js";
import type { ReadOutcome } from "./results.js";
import type { TagItems } from "./tag-io.js";
import { MIN_CYCLE_MS, Subscription, type GapReason, type SubscribeOptions, type SubscriptionOwner } from "./subscription.js";

/** What the manager needs of a push session (a ControllerSession provides it). */
export interface PushSession {
  items(tags: readonly string[]): Promise<TagItems[]>;
  invalidateSymbols(): void;
  subscriptionLimits(): Promise<{ subscriptionsMax: number; itemsMax: number }>;
  createSubscription(spec: { relationId: number; items: { referenceId: number; address: ItemAddress }[]; cycleTimeMs: number; creditLimit: number; routeMode: number; changeCounter: number }): Promise<number>;
  setCreditLimit(id: number, limit: number): Promise<void>;
  deleteSubscription(id: number): Promise<void>;
  onNotification(listener: ((pdu: Buffer) => void) | undefined): void;
  close(): Promise<void>;
  onClosed(listener: (err: S7Error) => void): void;
  /** Alarms (alarms.ts); a ControllerSession has them. */
  createAlarmSubscription?(languages: readonly number[]): Promise<number>;
  readActiveAlarms?(): Promise<AlarmInstance[]>;
  acknowledgeAlarm?(cpuAlarmId: bigint): Promise<void>;
}

/**
 * Another user of the push session (the alarms): it keeps the push session
 * open while attached, hears when it comes and goes, and sees every
 * notification first (true = taken).
 */
export interface PushUser {
  pushUp(push: PushSession): Promise<void>;
  pushDown(reason: GapReason, message: string): void;
  takeNotification(pdu: Buffer): boolean;
}

export interface SubscriptionManagerOptions {
  plc: string;
  /** Opens a push session to the connection's current endpoint. */
  open(signal: AbortSignal): Promise<PushSession>;
  /** Back-off between push-session attempts. */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** First credit limit of a subscription and the step of each top-up (defaults 20 and 10). */
  creditLimit?: number;
  creditStep?: number;
}

export interface SubscriptionStats {
  pushSessionsOpened: number;
  /** Controller subscriptions alive now. */
  live: number;
  created: number;
  deleted: number;
  notifications: number;
  creditTopUps: number;
  gaps: number;
}

/** Defaults when the controller does not report its limits (the simulator's defaults). */
const DEFAULT_LIMITS = { subscriptionsMax: 20, itemsMax: 2000 };
const FIRST_RELATION_ID = Ids.FirstSubscriptionRelation;
const CHANGE_COUNTER = 1;
/** A per-item error on a symbolic tag re-creates the group at most this often (the program may have changed). */
const PROGRAM_CHANGE_HOLD_MS = 2000;
/** Notifications of not-yet-known subscriptions kept at most. */
const EARLY_KEPT = 64;

interface TagEntry {
  tag: string;
  users: Set<Subscription>;
  items?: TagItems;
  values: (PValue | undefined)[];
  error?: S7Error;
  /** What was last delivered, to deliver changes only. */
  lastKey?: string;
  outcome?: ReadOutcome;
}

interface Live {
  id: number;
  group: Group;
  refs: Map<number, { entry: TagEntry; leaf: number }>;
  creditLimit: number;
}

interface Group {
  cycleMs: number;
  entries: Map<string, TagEntry>;
  live: Live[];
  dirty: boolean;
  programChangeAt: number;
}

export class SubscriptionManager implements SubscriptionOwner {
  private readonly groups = new Map<number, Group>();
  private readonly byId = new Map<number, Live>();
  /**
   * Notifications for ids not known yet: the first one can arrive in the
   * same read as the CreateObject answer, before the answer's awaiter runs.
   */
  private early: { push: PushSession; pdu: Buffer; id: number }[] = [];
  private push: PushSession | undefined;
  private attempt: AbortController | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private connected = false;
  private closed = false;
  private relationId = FIRST_RELATION_ID;
  private limits = DEFAULT_LIMITS;
  private serial: Promise<void> = Promise.resolve();
  private readonly pushUsers = new Set<PushUser>();
  /** Users told of the current push session. */
  private readonly pushUsersUp = new Set<PushUser>();
  private readonly backoff: Backoff;
  private readonly creditLimit: number;
  private readonly creditStep: number;
  readonly stats: SubscriptionStats = { pushSessionsOpened: 0, live: 0, created: 0, deleted: 0, notifications: 0, creditTopUps: 0, gaps: 0 };

  constructor(private readonly options: SubscriptionManagerOptions) {
    this.backoff = new Backoff({ minMs: options.reconnectMinMs, maxMs: options.reconnectMaxMs });
    this.creditLimit = options.creditLimit ?? 20;
    this.creditStep = options.creditStep ?? 10;
    if (this.creditLimit !== -1 && this.creditLimit < 2) throw new ConfigError(`credit limit ${this.creditLimit} must be −1 or at least 2`, { plc: options.plc });
  }

  /** Users subscribed now. */
  get userCount(): number {
    const users = new Set<Subscription>();
    for (const g of this.groups.values()) for (const e of g.entries.values()) for (const u of e.users) users.add(u);
    return users.size;
  }

  /** Whether a timer of the manager is pending (for leak checks). */
  get hasTimer(): boolean {
    return this.retryTimer !== undefined;
  }

  subscribe(tags: readonly string[], options: SubscribeOptions = {}): Subscription {
    if (this.closed) throw new S7Error("ERR_S7_CLOSED", "connection is closed", { plc: this.options.plc });
    const cycleMs = Math.max(MIN_CYCLE_MS, Math.round(options.cycleMs ?? 1000));
    if (!Number.isFinite(cycleMs)) throw new ConfigError(`cycle time ${String(options.cycleMs)} is not a number of ms`, { plc: this.options.plc });
    const unique = [...new Set(tags.map((t) => t.trim()))].filter((t) => t !== "");
    if (unique.length === 0) throw new ConfigError("nothing to subscribe: no tags", { plc: this.options.plc });
    const handle = new Subscription(unique, cycleMs, this);
    let group = this.groups.get(cycleMs);
    if (group === undefined) {
      group = { cycleMs, entries: new Map(), live: [], dirty: false, programChangeAt: 0 };
      this.groups.set(cycleMs, group);
    }
    for (const tag of unique) {
      let entry = group.entries.get(tag);
      if (entry === undefined) {
        entry = { tag, users: new Set(), values: [] };
        group.entries.set(tag, entry);
        group.dirty = true;
      }
      entry.users.add(handle);
    }
    if (!group.dirty) {
      // Every tag is already subscribed: the new user gets the values known so far.
      setImmediate(() => this.deliverInitial(group, handle));
      handle.setState(group.live.length > 0 ? "subscribed" : "pending");
    }
    this.sync();
    return handle;
  }

  async remove(handle: Subscription): Promise<void> {
    for (const group of this.groups.values()) {
      for (const tag of handle.tags) {
        const entry = group.entries.get(tag);
        if (entry === undefined || !entry.users.delete(handle)) continue;
        if (entry.users.size === 0) {
          group.entries.delete(tag);
          group.dirty = true;
        }
      }
    }
    this.sync();
    await this.serial;
  }

  /** A push user (the alarms) joins: the push session opens (or is handed over) in the next step. */
  attach(user: PushUser): void {
    if (this.closed) throw new S7Error("ERR_S7_CLOSED", "connection is closed", { plc: this.options.plc });
    this.pushUsers.add(user);
    this.sync();
  }

  async detach(user: PushUser): Promise<void> {
    this.pushUsers.delete(user);
    this.pushUsersUp.delete(user);
    this.sync();
    await this.serial;
  }

  /** The current push session, when one is open. */
  get pushSession(): PushSession | undefined {
    return this.push;
  }

  /** The connection has a session (again): open the push session when someone subscribes. */
  connectionUp(): void {
    this.connected = true;
    this.backoff.reset();
    this.sync();
  }

  /** The connection lost or ended its session: the push session goes too, and users hear of the gap. */
  connectionDown(reason: GapReason, message: string): void {
    this.connected = false;
    this.dropPush(reason, message);
  }

  /** Deletes every subscription and closes the push session; nothing runs afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearRetry();
    this.attempt?.abort();
    const users = new Set<Subscription>();
    for (const g of this.groups.values()) for (const e of g.entries.values()) for (const u of e.users) users.add(u);
    for (const g of this.groups.values()) g.entries.clear();
    this.groups.clear();
    this.serial = this.serial.then(() => this.shutdownPush());
    await this.serial;
    for (const u of users) {
      u.setState("closed");
      u.removeAllListeners();
    }
  }

  // -------------------------------------------------------------------------

  /** Runs one step after the ones before it. */
  private sync(): void {
    this.serial = this.serial.then(() => this.step()).catch((err: unknown) => this.onStepFailed(err));
  }

  private async step(): Promise<void> {
    if (this.closed) return;
    const wanted = this.pushUsers.size > 0 || [...this.groups.values()].some((g) => g.entries.size > 0 || g.live.length > 0);
    if (!wanted) {
      await this.shutdownPush();
      this.groups.clear();
      return;
    }
    if (!this.connected) return;
    const push = this.push ?? (await this.openPush());
    if (push === undefined) return;
    for (const group of [...this.groups.values()]) {
      if (!group.dirty) continue;
      group.dirty = false;
      await this.rebuild(push, group);
      if (group.entries.size === 0) this.groups.delete(group.cycleMs);
    }
    for (const user of this.pushUsers) {
      if (this.pushUsersUp.has(user) || this.push !== push) continue;
      this.pushUsersUp.add(user);
      await user.pushUp(push);
    }
    // The last user left: the push session is not needed any more.
    if (this.groups.size === 0 && this.pushUsers.size === 0) await this.shutdownPush();
  }

  private async openPush(): Promise<PushSession | undefined> {
    if (this.retryTimer !== undefined) return undefined;
    const attempt = new AbortController();
    this.attempt = attempt;
    const push = await this.options.open(attempt.signal);
    this.attempt = undefined;
    if (this.closed || !this.connected || attempt.signal.aborted) {
      await push.close().catch(() => undefined);
      return undefined;
    }
    this.push = push;
    this.stats.pushSessionsOpened++;
    this.relationId = FIRST_RELATION_ID;
    push.onNotification((pdu) => this.onNotification(push, pdu));
    push.onClosed((err) => {
      if (this.push !== push) return;
      this.dropPush("push-session-lost", `the push session ended: ${err.message}`);
      this.scheduleRetry();
    });
    try {
      this.limits = await push.subscriptionLimits();
    } catch {
      this.limits = DEFAULT_LIMITS;
    }
    for (const g of this.groups.values()) g.dirty = true;
    return push;
  }

  /** Deletes a group's subscriptions and creates them afresh for its current tags. */
  private async rebuild(push: PushSession, group: Group): Promise<void> {
    for (const live of group.live.splice(0)) await this.deleteLive(push, live);
    if (group.entries.size === 0) return;
    const entries = [...group.entries.values()];
    const prepared = await push.items(entries.map((e) => e.tag));
    const leaves: { entry: TagEntry; leaf: number; address: ItemAddress }[] = [];
    entries.forEach((entry, i) => {
      const items = prepared[i]!;
      entry.items = items;
      if (!items.ok) {
        entry.error = items.error;
        return;
      }
      if (entry.values.length !== items.addresses.length) entry.values = new Array<PValue | undefined>(items.addresses.length);
      items.addresses.forEach((address, leaf) => leaves.push({ entry, leaf, address }));
    });
    const perSubscription = Math.max(1, Math.floor(this.limits.itemsMax / Math.max(1, this.limits.subscriptionsMax)));
    let refusal: S7Error | undefined;
    for (let start = 0; start < leaves.length; start += perSubscription) {
      const chunk = leaves.slice(start, start + perSubscription);
      const relationId = this.relationId++;
      // Only a notification that arrives while this CreateObject is on the wire can be its early one.
      this.early = [];
      try {
        const id = await push.createSubscription({
          relationId,
          items: chunk.map((l, k) => ({ referenceId: k + 1, address: l.address })),
          cycleTimeMs: group.cycleMs,
          creditLimit: this.creditLimit,
          routeMode: ROUTE_MODE_CHANGES_ONLY,
          changeCounter: CHANGE_COUNTER,
        });
        const live: Live = { id, group, refs: new Map(chunk.map((l, k) => [k + 1, { entry: l.entry, leaf: l.leaf }])), creditLimit: this.creditLimit };
        group.live.push(live);
        this.byId.set(id, live);
        const early = this.early.filter((e) => e.id === id);
        this.early = this.early.filter((e) => e.id !== id);
        for (const e of early) this.onNotification(e.push, e.pdu);
        this.stats.created++;
        this.stats.live++;
      } catch (err) {
        if (!(err instanceof S7Error) || err.code !== "ERR_S7_PLC") throw err;
        refusal = err;
        break;
      }
    }
    const users = new Set<Subscription>();
    for (const e of entries) for (const u of e.users) users.add(u);
    if (refusal !== undefined) {
      // The controller's limits are reached: this group is not pushed at all, so that its users can poll instead.
      for (const live of group.live.splice(0)) await this.deleteLive(push, live);
      for (const u of users) u.setState("refused", refusal);
      return;
    }
    for (const u of users) u.setState("subscribed");
    // Tags that failed to resolve are known now; users whose tags are all known get their set.
    for (const u of users) this.deliverInitial(group, u);
  }

  private async deleteLive(push: PushSession, live: Live): Promise<void> {
    this.byId.delete(live.id);
    this.stats.live--;
    this.stats.deleted++;
    await push.deleteSubscription(live.id).catch(() => undefined);
  }

  private onNotification(push: PushSession, pdu: Buffer): void {
    if (this.push !== push) return;
    for (const user of this.pushUsersUp) if (user.takeNotification(pdu)) return;
    let n: Notification;
    try {
      n = decodeNotification(pdu);
    } catch {
      return; // An undecodable notification is dropped; the next change brings the value again.
    }
    const live = this.byId.get(n.subscriptionId);
    if (live === undefined) {
      this.early.push({ push, pdu, id: n.subscriptionId });
      if (this.early.length > EARLY_KEPT) this.early.shift();
      return;
    }
    if (n.changeCounter !== CHANGE_COUNTER) return;
    this.stats.notifications++;
    if (live.creditLimit > 0 && n.creditTick !== undefined && (n.creditTick === live.creditLimit - 1 || n.creditTick === live.creditLimit)) {
      live.creditLimit = nextCreditLimit(live.creditLimit, this.creditStep);
      this.stats.creditTopUps++;
      void push.setCreditLimit(live.id, live.creditLimit).catch(() => undefined);
    }
    const touched = new Set<TagEntry>();
    let programChanged = false;
    for (const e of n.entries) {
      const referenceId = e.kind === "idValue" ? e.id : e.kind === "other" ? undefined : e.referenceId;
      const ref = referenceId === undefined ? undefined : live.refs.get(referenceId);
      if (ref === undefined) continue;
      const { entry } = ref;
      if (e.kind === "value" || e.kind === "idValue") {
        entry.values[ref.leaf] = e.value;
        if (entry.error instanceof ItemError) delete entry.error;
      } else if (e.kind === "error") {
        entry.error = new ItemError(`${entry.tag}: the controller cannot read the subscribed item (notification status 0x${e.tag.toString(16)})`, BigInt(e.tag), { plc: this.options.plc, tag: entry.tag });
        if (entry.items?.ok === true && entry.items.symbolic) programChanged = true;
      }
      touched.add(entry);
    }
    const timestamp = n.timestamp === undefined ? undefined : new Date(Number(n.timestamp / 1000n));
    const group = live.group;
    if (programChanged && Date.now() - group.programChangeAt > PROGRAM_CHANGE_HOLD_MS) {
      group.programChangeAt = Date.now();
      this.gap(group, "program-change", "a subscribed symbolic tag cannot be read; the program may have changed, tags are resolved afresh");
      push.invalidateSymbols();
      group.dirty = true;
      this.sync();
      return;
    }
    const changed: TagEntry[] = [];
    for (const entry of touched) if (this.settle(entry)) changed.push(entry);
    const users = new Set<Subscription>();
    for (const entry of touched) for (const u of entry.users) users.add(u);
    for (const u of users) {
      if (!u.initialSent) {
        this.deliverInitial(group, u, timestamp);
        continue;
      }
      const mine = changed.filter((e) => e.users.has(u)).map((e) => e.outcome!);
      if (mine.length > 0) u.emit("values", { changes: mine, initial: false, ...(timestamp === undefined ? {} : { timestamp }) });
    }
  }

  /** Computes a tag's outcome once all its leaves are known; true when it differs from the one delivered last. */
  private settle(entry: TagEntry): boolean {
    let outcome: ReadOutcome;
    let key: string;
    if (entry.error !== undefined) {
      outcome = { tag: entry.tag, ok: false, error: entry.error };
      key = `e:${entry.error.message}`;
    } else if (entry.items?.ok === true && allKnown(entry.values)) {
      const values = entry.values as PValue[];
      try {
        outcome = { tag: entry.tag, ok: true, value: entry.items.assemble(values) };
      } catch (err) {
        outcome = { tag: entry.tag, ok: false, error: err instanceof S7Error ? err : new S7Error("ERR_S7_VALUE", String(err), { plc: this.options.plc, tag: entry.tag }) };
      }
      key = values.map((v) => encodePValue(v).toString("hex")).join(",");
    } else return false;
    entry.outcome = outcome;
    if (entry.lastKey === key) return false;
    entry.lastKey = key;
    return true;
  }

  /** Sends a user its full set once every one of its tags has an outcome. */
  private deliverInitial(group: Group, user: Subscription, timestamp?: Date): void {
    if (user.initialSent || user.state.state === "closed") return;
    const outcomes: ReadOutcome[] = [];
    for (const tag of user.tags) {
      const entry = group.entries.get(tag);
      if (entry === undefined) return;
      if (entry.outcome === undefined && !this.settle(entry) && entry.outcome === undefined) return;
      outcomes.push(entry.outcome!);
    }
    user.initialSent = true;
    user.emit("values", { changes: outcomes, initial: true, ...(timestamp === undefined ? {} : { timestamp }) });
  }

  /** Tells a group's users that values may have been missed; their next delivery is a full set. */
  private gap(group: Group, reason: GapReason, message: string): void {
    const users = new Set<Subscription>();
    for (const entry of group.entries.values()) {
      entry.values = [];
      delete entry.error;
      delete entry.lastKey;
      delete entry.outcome;
      for (const u of entry.users) users.add(u);
    }
    this.stats.gaps++;
    for (const u of users) {
      u.initialSent = false;
      u.emit("gap", { reason, message });
    }
  }

  private dropPush(reason: GapReason, message: string): void {
    this.attempt?.abort();
    this.attempt = undefined;
    const push = this.push;
    this.push = undefined;
    this.early = [];
    for (const user of this.pushUsersUp) user.pushDown(reason, message);
    this.pushUsersUp.clear();
    for (const group of this.groups.values()) {
      for (const live of group.live.splice(0)) {
        this.byId.delete(live.id);
        this.stats.live--;
      }
      group.dirty = true;
      this.gap(group, reason, message);
      for (const entry of group.entries.values()) for (const u of entry.users) u.setState("pending");
    }
    if (push !== undefined) {
      push.onNotification(undefined);
      void push.close().catch(() => undefined);
    }
  }

  private async shutdownPush(): Promise<void> {
    const push = this.push;
    this.push = undefined;
    this.pushUsersUp.clear();
    for (const group of this.groups.values()) for (const live of group.live.splice(0)) if (push !== undefined) await this.deleteLive(push, live);
    for (const live of [...this.byId.values()]) if (push !== undefined) await this.deleteLive(push, live);
    this.byId.clear();
    if (push !== undefined) {
      push.onNotification(undefined);
      await push.close().catch(() => undefined);
    }
  }

  private onStepFailed(err: unknown): void {
    if (this.closed) return;
    const reason = err instanceof S7Error ? err : new S7Error("ERR_S7_CONNECT", String(err), { plc: this.options.plc });
    for (const g of this.groups.values()) {
      g.dirty = true;
      for (const e of g.entries.values()) for (const u of e.users) u.setState("pending", reason);
    }
    if (this.push !== undefined) this.dropPush("push-session-lost", `subscribing failed: ${reason.message}`);
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer !== undefined || !this.connected) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.sync();
    }, this.backoff.next());
  }

  private clearRetry(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}

/** Every leaf has a value (a sparse array's holes count as unknown). */
function allKnown(values: readonly (PValue | undefined)[]): boolean {
  if (values.length === 0) return false;
  for (let i = 0; i < values.length; i++) if (values[i] === undefined) return false;
  return true;
}
