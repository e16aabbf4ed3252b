/**
 * s7-read: which tags a message asks for, and the message it produces (docs/NODES.md §2).
 *
 * Tags: `msg.tags` (a string or an array of strings) wins; otherwise the
 * node's configured tags; otherwise `msg.topic`. Output: `msg.payload` is the
 * value for a single tag, or an object keyed by tag name; tags that failed
 * are left out of the payload and listed in `msg.errors` — one failing tag
 * does not fail the others.
 */
import { S7Error, ValueError } from "../errors.js";
import type { Int64Mode, ReadOutcome } from "../client/results.js";
import { applyInt64Mode } from "./int64.js";

export interface ReadRequest {
  tags: string[];
  /** True when the message asked for one tag as a plain string: the payload is the bare value. */
  single: boolean;
}

export function readRequestFromMessage(msg: { tags?: unknown; topic?: unknown }, configured: readonly string[]): ReadRequest {
  if (msg.tags !== undefined) {
    if (typeof msg.tags === "string" && msg.tags.trim() !== "") return { tags: [msg.tags.trim()], single: true };
    if (Array.isArray(msg.tags) && msg.tags.length > 0 && msg.tags.every((t) => typeof t === "string" && t.trim() !== "")) {
      return { tags: msg.tags.map((t: string) => t.trim()), single: false };
    }
    throw new ValueError("msg.tags must be a tag name or a non-empty array of tag names");
  }
  const fromConfig = configured.map((t) => t.trim()).filter((t) => t !== "");
  if (fromConfig.length > 0) return { tags: fromConfig, single: fromConfig.length === 1 };
  if (typeof msg.topic === "string" && msg.topic.trim() !== "") return { tags: [msg.topic.trim()], single: true };
  throw new ValueError("no tags to read: configure tags in the node, or send msg.tags or msg.topic");
}

export interface ReadResultMessage {
  payload: unknown;
  /** Tag → error text, only when some tags failed. */
  errors?: Record<string, string>;
  /** A summary error for Catch nodes when any tag failed (the payload still carries the others). */
  error?: S7Error;
  /** True when nothing could be read: no message should be sent, only the error reported. */
  nothingRead: boolean;
}

export function readResultMessage(outcomes: readonly ReadOutcome[], request: ReadRequest, int64: Int64Mode): ReadResultMessage {
  const failed = outcomes.filter((o): o is Extract<ReadOutcome, { ok: false }> => !o.ok);
  let error: S7Error | undefined;
  if (failed.length === 1) error = failed[0]!.error;
  else if (failed.length > 1) {
    const first = failed[0]!.error;
    error = new S7Error("ERR_S7_ITEM", `${failed.length} of ${outcomes.length} tags could not be read: ${failed.map((f) => f.tag).join(", ")}`, {
      ...(first.plc === undefined ? {} : { plc: first.plc }),
    });
  }
  if (request.single && outcomes.length === 1) {
    const only = outcomes[0]!;
    const result: ReadResultMessage = only.ok
      ? { payload: applyInt64Mode(only.value, int64), nothingRead: false }
      : { payload: undefined, nothingRead: true };
    if (error) result.error = error;
    return result;
  }
  const payload: Record<string, unknown> = {};
  for (const o of outcomes) if (o.ok) payload[o.tag] = applyInt64Mode(o.value, int64);
  const result: ReadResultMessage = { payload, nothingRead: failed.length === outcomes.length };
  if (failed.length > 0) {
    result.errors = Object.fromEntries(failed.map((f) => [f.tag, f.error.message]));
    result.error = error!;
  }
  return result;
}
