/**
 * s7-alarms: the messages of alarm events and of the active list, the
 * actions a message asks for, and the node status. Keys are under
 * `s7-alarms.status.` and `s7-alarms.errors.`.
 *
 * - An event: `topic = "alarm/<id>"`, `payload = { id, state, text, class,
 *   priority, timestamp, values, acknowledged, active }`, `msg.resync` when
 *   synthesized after a reconnect or switch.
 * - The list: `topic = "alarms"`, `payload` = the active alarms (same shape).
 */
import { alarmPayload, type AlarmEvent, type AlarmPayload, type AlarmStatus } from "../client/alarms.js";
import { ConfigError } from "../errors.js";
import type { NodeStatus } from "./status.js";

export interface AlarmMessage {
  topic: string;
  payload: AlarmPayload | AlarmPayload[];
  resync?: boolean;
}

export type AlarmAction = { action: "ack"; which: number | "all" } | { action: "list" };

export function alarmEventMessage(e: AlarmEvent): AlarmMessage {
  return { topic: `alarm/${e.id}`, payload: alarmPayload(e), ...(e.resync ? { resync: true } : {}) };
}

export function alarmListMessage(list: readonly AlarmEvent[]): AlarmMessage {
  return { topic: "alarms", payload: [...list].sort((a, b) => a.id - b.id).map(alarmPayload) };
}

/** What an input message asks for; a ConfigError (its text a catalogue key) when it asks for nothing known. */
export function alarmActionFromMessage(msg: { action?: unknown; payload?: unknown }): AlarmAction {
  if (msg.action === "list") return { action: "list" };
  if (msg.action !== "ack") throw new ConfigError("s7-alarms.errors.badAction");
  const p = msg.payload;
  if (p === "all") return { action: "ack", which: "all" };
  const id = typeof p === "string" && /^\d+$/.test(p.trim()) ? Number(p) : p;
  if (typeof id === "number" && Number.isInteger(id) && id > 0) return { action: "ack", which: id };
  throw new ConfigError("s7-alarms.errors.badAckPayload");
}

/** "3 active · 1 unack." while the alarms run; "subscribing" while pending; "no alarms" when none. */
export function alarmNodeStatus(status: AlarmStatus): NodeStatus {
  switch (status.state) {
    case "subscribed":
      if (status.active === 0 && status.unacknowledged === 0) return { fill: "green", shape: "dot", key: "none" };
      return { fill: status.unacknowledged > 0 ? "red" : "yellow", shape: "dot", key: "counts", params: { active: String(status.active), unack: String(status.unacknowledged) } };
    case "pending":
      return { fill: "yellow", shape: "ring", key: "subscribing" };
    case "refused":
      return { fill: "red", shape: "ring", key: "refused" };
    case "closed":
      return {};
  }
}
