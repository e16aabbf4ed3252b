/**
 * s7-read in the trigger mode "on change (pushed by the controller)": the
 * messages of a subscription's values and the node status of its state.
 *
 * - A full set (the first one, and again after every gap) is one message
 *   with every tag, like a read: the bare value for a node with one tag,
 *   else an object keyed by tag name; `msg.initial` is true.
 * - A change is one message per changed tag (`perTag`: topic = the tag,
 *   payload = its value) or one message with an object of the changed tags
 *   (`object`, `msg.changed` lists them).
 * - `msg.timestamp` is the controller's timestamp of the notification, when
 *   it carries one; failed tags are in `msg.errors`, as for reads.
 */
import type { Int64Mode } from "../client/results.js";
import type { SubscriptionStatus, ValuesEvent } from "../client/subscription.js";
import { readResultMessage, type ReadRequest } from "./read-message.js";
import type { NodeStatus } from "./status.js";
import type { S7Error } from "../errors.js";

export type ChangeOutput = "object" | "perTag";

export interface ChangeMessage {
  topic?: string;
  payload: unknown;
  initial: boolean;
  changed?: string[];
  timestamp?: Date;
  errors?: Record<string, string>;
}

/** The messages for one values event of a subscription, and an error for a Catch node when tags failed. */
export function changeMessages(event: ValuesEvent, tags: readonly string[], output: ChangeOutput, int64: Int64Mode): { messages: ChangeMessage[]; error?: S7Error } {
  const stamp = event.timestamp === undefined ? {} : { timestamp: event.timestamp };
  if (event.initial || output === "object") {
    const request: ReadRequest = { tags: event.changes.map((c) => c.tag), single: tags.length === 1 };
    const result = readResultMessage(event.changes, request, int64);
    const messages: ChangeMessage[] = [];
    if (!result.nothingRead) {
      const m: ChangeMessage = { payload: result.payload, initial: event.initial, ...stamp };
      if (tags.length === 1) m.topic = tags[0]!;
      if (!event.initial) m.changed = event.changes.map((c) => c.tag);
      if (result.errors) m.errors = result.errors;
      messages.push(m);
    }
    return { messages, ...(result.error ? { error: result.error } : {}) };
  }
  const messages: ChangeMessage[] = [];
  let error: S7Error | undefined;
  for (const change of event.changes) {
    const result = readResultMessage([change], { tags: [change.tag], single: true }, int64);
    if (result.error) error ??= result.error;
    if (!result.nothingRead) messages.push({ topic: change.tag, payload: result.payload, initial: false, ...stamp });
  }
  return { messages, ...(error ? { error } : {}) };
}

/**
 * The status of an on-change node: "subscribed · 12 tags · 100 ms", "polling
 * · … (refused)" after a refusal, "subscribing" while pending. Keys are under
 * `s7-read.status.`.
 */
export function subscriptionNodeStatus(state: SubscriptionStatus, polling: boolean): NodeStatus {
  const params = { tags: String(state.tags), cycle: String(state.cycleMs) };
  if (polling) return { fill: "yellow", shape: "dot", key: "polling", params: { ...params, reason: state.reason?.message ?? "" } };
  switch (state.state) {
    case "subscribed":
      return { fill: "green", shape: "dot", key: "subscribed", params };
    case "pending":
      return { fill: "yellow", shape: "ring", key: "subscribing", params };
    case "refused":
      return { fill: "yellow", shape: "dot", key: "polling", params: { ...params, reason: state.reason?.message ?? "" } };
    case "closed":
      return {};
  }
}
