/**
 * The controller's alarms for one connection (docs/PROTOCOL.md §29,
 * docs/PROTOCOL-NOTES.md "Alarms"): one alarm subscription on the push
 * session that tag subscriptions use (subscription-manager.ts), the active
 * list read each time that session comes, events decoded and handed to
 * every user in the language it chose, and acknowledgement.
 *
 * After a reconnect or a switch the active list is read again and compared
 * with what was known: what changed meanwhile is reported as events with
 * `resync: true`. The monitor keeps one entry per alarm and no queue, so a
 * flood of events costs no memory that grows with it.
 *
 * Events of a handle (Alarms):
 * - "event" (AlarmEvent): one per alarm event;
 * - "active" (AlarmEvent[]): the active list, after each read at connect;
 * - "state" (AlarmStatus): pending / subscribed / refused / closed.
 */
import { EventEmitter } from "node:events";
import { ConfigError, ConnectionError, PlcError, S7Error } from "../errors.js";
import {
  LANGUAGE_IDS,
  TextId,
  alarmText,
  decodeAlarmNotification,
  substitutePlaceholders,
  type AlarmInstance,
  type AlarmTransition,
} from "../protocol/messages/alarm.js";
import type { PushSession, PushUser } from "./subscription-manager.js";
import type { GapReason } from "./subscription.js";

/** What happened to an alarm at an event. */
export type AlarmStateName = "came" | "went" | "acknowledged" | "went+acknowledged";

export interface AlarmEvent {
  /** The alarm's number (HmiInfo ClientAlarmId). */
  id: number;
  /** The controller's 64-bit CPUAlarmID, decimal. */
  cpuAlarmId: string;
  state: AlarmStateName;
  /** Still active (came, not gone). */
  active: boolean;
  acknowledged: boolean;
  /** The alarm text in the chosen language, placeholders filled. */
  text: string;
  class: string;
  classNumber: number;
  priority: number;
  /** When the alarm came or went (the controller's clock). */
  timestamp: Date;
  ackTimestamp?: Date;
  /** SD_1 … SD_n; null where empty. */
  values: (number | boolean | string | null)[];
  /** Synthesized from the active list after a reconnect or switch. */
  resync: boolean;
}

/** An event as plain data (JSON, flows, the command line): dates as ISO 8601 text. */
export interface AlarmPayload {
  id: number;
  state: AlarmStateName;
  text: string;
  class: string;
  priority: number;
  /** The controller's time of the coming or going. */
  timestamp: string;
  values: AlarmEvent["values"];
  acknowledged: boolean;
  active: boolean;
  ackTimestamp?: string;
}

export function alarmPayload(e: AlarmEvent): AlarmPayload {
  const p: AlarmPayload = { id: e.id, state: e.state, text: e.text, class: e.class, priority: e.priority, timestamp: e.timestamp.toISOString(), values: e.values, acknowledged: e.acknowledged, active: e.active };
  if (e.ackTimestamp !== undefined) p.ackTimestamp = e.ackTimestamp.toISOString();
  return p;
}

export type AlarmStatusName = "pending" | "subscribed" | "refused" | "closed";

export interface AlarmStatus {
  state: AlarmStatusName;
  active: number;
  unacknowledged: number;
  reason?: S7Error;
}

export interface AlarmOptions {
  /** "en-US" (default), "de-DE", …; texts fall back to en-US, then to any text present. */
  language?: string;
}

/** Class numbers with names: 34 is seen from a CPU (§29.3), 1 and 2 are the simulator's. */
const CLASS_NAMES: Readonly<Record<number, string>> = { 1: "Alarm", 2: "Warning", 34: "No acknowledgement" };
/** The class of alarms that need no acknowledgement (SNAP7-PR text "Alarm class: No acknowledgement"). */
const NO_ACK_CLASS = 34;

interface Known {
  instance: AlarmInstance;
  active: boolean;
  acknowledged: boolean;
}

/** What the monitor needs of its connection. */
export interface AlarmHost {
  plc: string;
  attach(user: PushUser): void;
  detach(user: PushUser): Promise<void>;
  /** The push session now (for acknowledgements). */
  push(): PushSession | undefined;
}

export class AlarmMonitor implements PushUser {
  private readonly known = new Map<bigint, Known>();
  private readonly handles = new Set<Alarms>();
  private status: AlarmStatus = { state: "pending", active: 0, unacknowledged: 0 };
  /** The active list has been read at least once (later reads resynchronise). */
  private synced = false;
  readonly stats = { notifications: 0, events: 0, resyncEvents: 0, listReads: 0 };

  constructor(private readonly host: AlarmHost) {}

  open(options: AlarmOptions = {}): Alarms {
    const language = options.language ?? "en-US";
    const lcid = LANGUAGE_IDS[language];
    if (lcid === undefined) throw new ConfigError(`alarm language "${language}" is not one of ${Object.keys(LANGUAGE_IDS).join(", ")}`, { plc: this.host.plc });
    const handle = new Alarms(lcid, this);
    this.handles.add(handle);
    if (this.handles.size === 1) this.host.attach(this);
    handle.setStatus(this.status);
    return handle;
  }

  async remove(handle: Alarms): Promise<void> {
    if (!this.handles.delete(handle)) return;
    if (this.handles.size === 0) {
      await this.host.detach(this);
      this.synced = false;
      this.known.clear();
      this.setStatus("pending");
    }
  }

  /** The connection closed: every handle is closed, nothing runs afterwards. */
  closeAll(): void {
    this.setStatus("closed");
    this.handles.clear();
    this.known.clear();
  }

  /** The active list as known now, formatted for a handle. */
  list(handle: Alarms): AlarmEvent[] {
    return [...this.known.values()].filter((k) => k.active || !k.acknowledged).map((k) => format(k, stateOf(k), false, handle.lcid));
  }

  /** Acknowledges one alarm (by its number) or every unacknowledged one; the number acknowledged. */
  async acknowledge(which: number | "all"): Promise<number> {
    const push = this.host.push();
    if (push?.acknowledgeAlarm === undefined || this.status.state !== "subscribed") {
      throw new ConnectionError("ERR_S7_CONNECTION_CLOSED", "alarms cannot be acknowledged now: the alarm subscription is not running", { plc: this.host.plc, transient: true });
    }
    const targets = [...this.known.values()].filter((k) => !k.acknowledged && (which === "all" || k.instance.hmi.clientAlarmId === which));
    if (which !== "all" && targets.length === 0) {
      const exists = [...this.known.values()].some((k) => k.instance.hmi.clientAlarmId === which);
      throw new ConfigError(exists ? `alarm ${which} is already acknowledged` : `alarm ${which} is not active`, { plc: this.host.plc });
    }
    for (const k of targets) {
      try {
        await push.acknowledgeAlarm(k.instance.cpuAlarmId);
      } catch (err) {
        if (err instanceof PlcError) throw new PlcError(`acknowledging alarm ${k.instance.hmi.clientAlarmId} refused`, err.returnValue, { plc: this.host.plc });
        throw err;
      }
    }
    return targets.length;
  }

  // PushUser ------------------------------------------------------------------

  async pushUp(push: PushSession): Promise<void> {
    if (push.createAlarmSubscription === undefined || push.readActiveAlarms === undefined) {
      this.setStatus("refused", new ConfigError("this connection's push session has no alarms", { plc: this.host.plc }));
      return;
    }
    try {
      await push.createAlarmSubscription([]);
      const list = await push.readActiveAlarms();
      this.stats.listReads++;
      this.resync(list);
      this.setStatus("subscribed");
    } catch (err) {
      if (!(err instanceof PlcError)) throw err;
      this.setStatus("refused", err);
    }
  }

  pushDown(_reason: GapReason, message: string): void {
    this.setStatus("pending", new ConnectionError("ERR_S7_CONNECTION_CLOSED", message, { plc: this.host.plc, transient: true }));
  }

  takeNotification(pdu: Buffer): boolean {
    let n;
    try {
      n = decodeAlarmNotification(pdu);
    } catch {
      return true; // an alarm part that cannot be read: dropped, the next active-list read repairs the state
    }
    if (n === undefined) return false;
    this.stats.notifications++;
    for (const instance of n.alarms) this.apply(instance);
    this.counts();
    return true;
  }

  // -------------------------------------------------------------------------

  private apply(instance: AlarmInstance): void {
    const t = transitionOf(instance);
    const before = this.known.get(instance.cpuAlarmId);
    const active = instance.coming !== undefined;
    const acknowledged = isAcknowledged(instance, t);
    const k: Known = { instance, active, acknowledged };
    let state: AlarmStateName;
    if (active) state = before?.active === true && acknowledged && !before.acknowledged ? "acknowledged" : "came";
    else if (acknowledged && before !== undefined && !before.acknowledged) state = before.active ? "went+acknowledged" : "acknowledged";
    else state = "went";
    if (!active && acknowledged) this.known.delete(instance.cpuAlarmId);
    else this.known.set(instance.cpuAlarmId, k);
    this.stats.events++;
    this.emitEvent(k, state, false);
  }

  /** Compares a fresh active list with what is known; reports the differences when this is not the first read. */
  private resync(list: readonly AlarmInstance[]): void {
    const fresh = new Map<bigint, Known>();
    for (const instance of list) fresh.set(instance.cpuAlarmId, { instance, active: instance.coming !== undefined, acknowledged: isAcknowledged(instance, transitionOf(instance)) });
    const report = this.synced;
    this.synced = true;
    for (const [id, before] of this.known) {
      if (fresh.has(id)) continue;
      this.known.delete(id);
      // Gone from the list: it went (and was acknowledged, when it had to be) meanwhile.
      const after: Known = { instance: before.instance, active: false, acknowledged: true };
      if (report) this.emitEvent(after, before.active ? (before.acknowledged ? "went" : "went+acknowledged") : "acknowledged", true);
    }
    for (const [id, now] of fresh) {
      const before = this.known.get(id);
      this.known.set(id, now);
      if (!report) continue;
      let state: AlarmStateName | undefined;
      if (before === undefined || (!before.active && now.active)) state = "came";
      else if (before.active && !now.active) state = now.acknowledged && !before.acknowledged ? "went+acknowledged" : "went";
      else if (!before.acknowledged && now.acknowledged) state = "acknowledged";
      if (state !== undefined) this.emitEvent(now, state, true);
    }
    this.counts();
    for (const h of this.handles) h.emit("active", this.list(h));
  }

  private emitEvent(k: Known, state: AlarmStateName, resync: boolean): void {
    if (resync) this.stats.resyncEvents++;
    for (const h of this.handles) h.emit("event", format(k, state, resync, h.lcid));
  }

  private counts(): void {
    const listed = [...this.known.values()].filter((k) => k.active || !k.acknowledged);
    const active = listed.filter((k) => k.active).length;
    const unacknowledged = listed.filter((k) => !k.acknowledged).length;
    if (active === this.status.active && unacknowledged === this.status.unacknowledged) return;
    this.status = { ...this.status, active, unacknowledged };
    for (const h of this.handles) h.setStatus(this.status);
  }

  private setStatus(state: AlarmStatusName, reason?: S7Error): void {
    this.status = { state, active: this.status.active, unacknowledged: this.status.unacknowledged, ...(reason === undefined ? {} : { reason }) };
    for (const h of this.handles) h.setStatus(this.status);
  }
}

/** One user's view of the alarms (handed out by ControllerConnection.alarms). */
export class Alarms extends EventEmitter {
  private current: AlarmStatus = { state: "pending", active: 0, unacknowledged: 0 };

  constructor(
    readonly lcid: number,
    private readonly monitor: AlarmMonitor,
  ) {
    super();
  }

  get status(): AlarmStatus {
    return { ...this.current };
  }

  /** The active alarms (active, or waiting for an acknowledgement). */
  active(): AlarmEvent[] {
    return this.monitor.list(this);
  }

  acknowledge(which: number | "all"): Promise<number> {
    return this.monitor.acknowledge(which);
  }

  async close(): Promise<void> {
    if (this.current.state === "closed") return;
    await this.monitor.remove(this);
    this.setStatus({ ...this.current, state: "closed" });
    this.removeAllListeners();
  }

  setStatus(status: AlarmStatus): void {
    if (this.current.state === "closed") return;
    const same = this.current.state === status.state && this.current.active === status.active && this.current.unacknowledged === status.unacknowledged;
    this.current = { ...status };
    if (!same) this.emit("state", this.status);
  }
}

function transitionOf(a: AlarmInstance): AlarmTransition {
  return (a.coming ?? a.going)!;
}

function isAcknowledged(a: AlarmInstance, t: AlarmTransition): boolean {
  return t.ackTimestamp !== 0n || a.hmi.alarmClass === NO_ACK_CLASS;
}

function stateOf(k: Known): AlarmStateName {
  return k.active ? "came" : "went";
}

function nsToDate(ns: bigint): Date {
  return new Date(Number(ns / 1_000_000n));
}

const EN_US = 1033;

function textOf(a: AlarmInstance, lcid: number): string {
  const t = alarmText(a, lcid) ?? alarmText(a, EN_US);
  if (t !== undefined) return t;
  for (const [key, text] of a.texts) if ((key & 0xffff) === TextId.Alarm) return text;
  return `Alarm ${a.hmi.clientAlarmId}`;
}

function format(k: Known, state: AlarmStateName, resync: boolean, lcid: number): AlarmEvent {
  const a = k.instance;
  const t = transitionOf(a);
  const e: AlarmEvent = {
    id: a.hmi.clientAlarmId,
    cpuAlarmId: a.cpuAlarmId.toString(),
    state,
    active: k.active,
    acknowledged: k.acknowledged,
    text: substitutePlaceholders(textOf(a, lcid), t.values),
    class: CLASS_NAMES[a.hmi.alarmClass] ?? `Class ${a.hmi.alarmClass}`,
    classNumber: a.hmi.alarmClass,
    priority: a.hmi.priority,
    timestamp: nsToDate(t.timestamp),
    values: t.values.map((v) => (v === undefined ? null : v.value)),
    resync,
  };
  if (t.ackTimestamp !== 0n) e.ackTimestamp = nsToDate(t.ackTimestamp);
  return e;
}
