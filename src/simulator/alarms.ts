/**
 * Program alarms of the simulated controller (docs/SIMULATOR.md "Alarms",
 * docs/PROTOCOL.md §29): each configured alarm comes when its Bool trigger
 * tag turns true and goes when it turns false, whoever changed the tag (a
 * client's write, an animation, a control). Alarms with `ack` stay in the
 * active list until acknowledged. Every event is pushed at once, in order,
 * to every alarm subscription of every connection, with the alarm texts of
 * the languages the subscription asked for.
 */
import { ConfigError } from "../errors.js";
import {
  LANGUAGE_IDS,
  TextId,
  cpuAlarmIdOf,
  encodeAlarmNotification,
  makeAlarmObject,
  type AlarmInstance,
  type AlarmTransition,
  type AssociatedValue,
} from "../protocol/messages/alarm.js";
import type { PObject } from "../protocol/pobject.js";
import type { PlcType } from "../values/plc-type.js";

export interface AlarmConfig {
  /** 1…65535, unique; the alarm's number (HmiInfo ClientAlarmId) and its Alid. */
  id: number;
  /** Alarm text per language ("en-US", "de-DE", …); `@1%d@` inserts associated value 1. */
  text: Record<string, string>;
  /** "Alarm" (default), "Warning" or "NoAck" (see ALARM_CLASSES). */
  class?: string;
  /** 0…16 (default 8). */
  priority?: number;
  /** A Bool tag ("Tank.High"). */
  trigger: string;
  /** The alarm must be acknowledged (default false). */
  ack?: boolean;
  /** Up to 10 tags whose values travel with each event (SD_1 …). */
  values?: string[];
}

/**
 * Alarm class numbers the simulator sends in HmiInfo. Only 34 "No
 * acknowledgement" is seen from a real CPU (docs/PROTOCOL.md §29.3); 1 and 2 are this
 * package's choice, and the client names them the same way.
 */
export const ALARM_CLASSES: Readonly<Record<string, number>> = { Alarm: 1, Warning: 2, NoAck: 34 };

/** The RelationId the simulator gives the alarms' source block (an instance DB). */
const SOURCE_RELATION = 0x8a0e0000 + 60000;
/** AllStatesInfo bits of the simulator (the real bits are unknown, docs/PROTOCOL.md §32): 1 active, 2 acknowledged, 4 needs acknowledgement. */
const STATE_ACTIVE = 1;
const STATE_ACKED = 2;
const STATE_NEEDS_ACK = 4;

/** Checks the `alarms` section's shape; errors name the alarm. */
export function checkAlarmConfigs(alarms: unknown, fail: (what: string) => never): void {
  if (alarms === undefined) return;
  if (!Array.isArray(alarms)) fail('"alarms" must be an array');
  const ids = new Set<number>();
  (alarms as AlarmConfig[]).forEach((a, i) => {
    const where = `alarms[${i}]${a !== null && typeof a === "object" && Number.isInteger(a.id) ? ` (id ${a.id})` : ""}`;
    if (a === null || typeof a !== "object") fail(`${where}: must be an object`);
    if (!Number.isInteger(a.id) || a.id < 1 || a.id > 65535) fail(`${where}: "id" must be a whole number 1…65535`);
    if (ids.has(a.id)) fail(`${where}: id ${a.id} used twice`);
    ids.add(a.id);
    if (a.text === null || typeof a.text !== "object" || Object.keys(a.text).length === 0) fail(`${where}: "text" must be an object of texts by language`);
    for (const [lang, text] of Object.entries(a.text)) {
      if (LANGUAGE_IDS[lang] === undefined) fail(`${where}: unknown language "${lang}" (known: ${Object.keys(LANGUAGE_IDS).join(", ")})`);
      if (typeof text !== "string") fail(`${where}: the ${lang} text must be a string`);
    }
    if (a.class !== undefined && ALARM_CLASSES[a.class] === undefined) fail(`${where}: "class" must be one of ${Object.keys(ALARM_CLASSES).join(", ")}`);
    if (a.priority !== undefined && (!Number.isInteger(a.priority) || a.priority < 0 || a.priority > 16)) fail(`${where}: "priority" must be 0…16`);
    if (typeof a.trigger !== "string" || a.trigger === "") fail(`${where}: "trigger" must name a Bool tag`);
    if (a.ack !== undefined && typeof a.ack !== "boolean") fail(`${where}: "ack" must be true or false`);
    if (a.values !== undefined && (!Array.isArray(a.values) || a.values.length > 10 || a.values.some((v) => typeof v !== "string"))) fail(`${where}: "values" must be up to 10 tag names`);
  });
}

/** How the alarms read tags (the simulator's tag table). */
export type TagReader = (path: string) => { value: unknown; type: PlcType };

interface AlarmState {
  config: AlarmConfig;
  cpuAlarmId: bigint;
  active: boolean;
  acknowledged: boolean;
  /** ns since 1970 of the acknowledgement; 0 while unacknowledged. */
  ackAt: bigint;
  /** The last came/went event, repeated by the active list and by an acknowledgement. */
  last?: { came: boolean; transition: AlarmTransition };
}

/** One alarm subscription of a connection. */
interface AlarmSubscriber {
  id: number;
  languages: readonly number[];
  send(pdu: Buffer): boolean;
  sequence: number;
}

let nextAlarmSubscriptionId = 0x70200001;

export class ControllerAlarms {
  private readonly alarms: AlarmState[];
  private readonly subscribers = new Map<number, AlarmSubscriber>();
  private sequenceCounter = 0;
  /** Events raised and notifications sent (tests count them). */
  readonly stats = { events: 0, notifications: 0 };

  constructor(
    configs: readonly AlarmConfig[],
    private readonly read: TagReader,
    private readonly file = "simulator configuration",
  ) {
    this.alarms = configs.map((config) => {
      const where = `alarm ${config.id}`;
      const trigger = this.tag(config.trigger, where, "trigger");
      if (trigger.type.kind !== "elementary" || trigger.type.name !== "Bool") throw new ConfigError(`${where}: trigger "${config.trigger}" is not a Bool tag`, { file });
      for (const v of config.values ?? []) {
        const t = this.tag(v, where, "value").type;
        if (associatedOf(t, undefined) === undefined) throw new ConfigError(`${where}: value "${v}" has a type an alarm cannot carry`, { file });
      }
      return { config, cpuAlarmId: cpuAlarmIdOf(SOURCE_RELATION, config.id), active: false, acknowledged: true, ackAt: 0n };
    });
    // Triggers already true at start are active alarms (without an event: nobody listens yet).
    for (const a of this.alarms) if (this.read(a.config.trigger).value === true) this.transition(a, true, false);
  }

  get count(): number {
    return this.subscribers.size;
  }

  /** Looks at every trigger and raises the events of those that changed. */
  check(): void {
    for (const a of this.alarms) {
      const on = this.read(a.config.trigger).value === true;
      if (on !== a.active) this.transition(a, on, true);
    }
  }

  subscribe(languages: readonly number[], send: (pdu: Buffer) => boolean): number {
    const id = nextAlarmSubscriptionId++;
    if (nextAlarmSubscriptionId > 0x7fffffff) nextAlarmSubscriptionId = 0x70200001;
    this.subscribers.set(id, { id, languages, send, sequence: 0 });
    return id;
  }

  has(id: number): boolean {
    return this.subscribers.has(id);
  }

  unsubscribe(id: number): boolean {
    return this.subscribers.delete(id);
  }

  /** The active list (docs/PROTOCOL.md §29.4): alarms that are active or wait for an acknowledgement, with every text. */
  activeObjects(): PObject[] {
    return this.alarms.filter((a) => a.last !== undefined && (a.active || !a.acknowledged)).map((a) => makeAlarmObject(this.instance(a, [])));
  }

  /** Acknowledges one alarm; false when it does not exist or waits for no acknowledgement. */
  acknowledge(cpuAlarmId: bigint): boolean {
    const a = this.alarms.find((x) => x.cpuAlarmId === cpuAlarmId);
    if (a === undefined || a.acknowledged || a.last === undefined) return false;
    a.acknowledged = true;
    a.ackAt = nowNs();
    a.last.transition = { ...a.last.transition, ackTimestamp: a.ackAt, allStatesInfo: this.states(a) };
    this.raise(a);
    return true;
  }

  // -------------------------------------------------------------------------

  private tag(path: string, where: string, what: string): { value: unknown; type: PlcType } {
    try {
      return this.read(path);
    } catch (err) {
      throw new ConfigError(`${where}: ${what} tag "${path}" does not exist (${(err as Error).message})`, { file: this.file });
    }
  }

  private transition(a: AlarmState, on: boolean, notify: boolean): void {
    a.active = on;
    const at = nowNs();
    if (on) {
      // An alarm that needs no acknowledgement counts as acknowledged when it comes.
      a.acknowledged = a.config.ack !== true;
      a.ackAt = a.acknowledged ? at : 0n;
    }
    const values = (a.config.values ?? []).map((path) => {
      const { value, type } = this.read(path);
      return associatedOf(type, value);
    });
    a.last = { came: on, transition: { allStatesInfo: this.states(a), timestamp: at, ackTimestamp: a.ackAt, values } };
    if (notify) this.raise(a);
  }

  private states(a: AlarmState): number {
    return (a.active ? STATE_ACTIVE : 0) | (a.acknowledged ? STATE_ACKED : 0) | (a.config.ack === true ? STATE_NEEDS_ACK : 0);
  }

  private raise(a: AlarmState): void {
    this.stats.events++;
    this.sequenceCounter = (this.sequenceCounter + 1) >>> 0;
    for (const s of [...this.subscribers.values()]) {
      s.sequence = (s.sequence + 1) >>> 0;
      const pdu = encodeAlarmNotification({
        subscriptionId: s.id,
        creditTick: 0,
        sequenceNumber: s.sequence,
        timestamp: BigInt(Date.now()) * 1000n,
        changeCounter: 1,
        unknown: 0,
        alarms: [this.instance(a, s.languages)],
      });
      if (s.send(pdu)) this.stats.notifications++;
    }
  }

  private instance(a: AlarmState, languages: readonly number[]): AlarmInstance {
    const texts = new Map<number, string>();
    for (const [lang, text] of Object.entries(a.config.text)) {
      const lcid = LANGUAGE_IDS[lang]!;
      if (languages.length === 0 || languages.includes(lcid)) texts.set(((lcid << 16) | TextId.Alarm) >>> 0, text);
    }
    const last = a.last!;
    const instance: AlarmInstance = {
      name: `Alarm_${a.config.id}`,
      cpuAlarmId: a.cpuAlarmId,
      allStatesInfo: this.states(a),
      domain: 256,
      messageType: 1,
      hmi: { syntaxId: 259, version: 0x33b0, clientAlarmId: a.config.id, priority: a.config.priority ?? 8, alarmClass: ALARM_CLASSES[a.config.class ?? "Alarm"]!, producer: 0, groupId: 1, flags: a.config.ack === true ? 1 : 0 },
      sequenceCounter: this.sequenceCounter,
      texts,
    };
    if (last.came) instance.coming = last.transition;
    else instance.going = last.transition;
    return instance;
  }
}

function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** A tag value as an associated value; undefined for a type alarms cannot carry. */
function associatedOf(type: PlcType, value: unknown): AssociatedValue | undefined {
  if (type.kind === "string") return { type: type.name, max: type.maxLength, value: typeof value === "string" ? value : "" };
  if (type.kind !== "elementary") return undefined;
  switch (type.name) {
    case "Bool":
      return { type: "Bool", value: value === true };
    case "Int":
    case "DInt":
    case "USInt":
    case "UInt":
    case "UDInt":
    case "SInt":
    case "Real":
    case "LReal":
      return { type: type.name, value: typeof value === "number" ? value : 0 };
    default:
      return undefined;
  }
}

/** The alarm subscriptions of one connection, removed with it. */
export class SessionAlarms {
  private readonly ids = new Set<number>();

  constructor(
    private readonly alarms: ControllerAlarms,
    private readonly send: (pdu: Buffer) => boolean,
  ) {}

  subscribe(languages: readonly number[]): number {
    const id = this.alarms.subscribe(languages, this.send);
    this.ids.add(id);
    return id;
  }

  has(id: number): boolean {
    return this.ids.has(id);
  }

  delete(id: number): boolean {
    if (!this.ids.delete(id)) return false;
    return this.alarms.unsubscribe(id);
  }

  deleteAll(): void {
    for (const id of [...this.ids]) this.delete(id);
  }

  activeObjects(): PObject[] {
    return this.alarms.activeObjects();
  }

  acknowledge(cpuAlarmId: bigint): boolean {
    return this.alarms.acknowledge(cpuAlarmId);
  }
}
