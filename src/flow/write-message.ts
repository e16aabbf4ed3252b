/**
 * s7-write: what a message asks to write, and what the output says (docs/NODES.md §2).
 *
 * One tag: the node's configured tag, else `msg.topic`, with the value in
 * `msg.payload`. Many: `msg.payload` is an object keyed by tag name.
 * The output keeps the message and adds `msg.result = { "<tag>": { ok: true,
 * value } | { ok: false, error: "<text>" } }` (value = as written).
 */
import { S7Error, ValueError } from "../errors.js";
import type { WriteEntry, WriteOutcome } from "../client/results.js";

export function writeEntriesFromMessage(msg: { topic?: unknown; payload?: unknown }, configuredTag: string): WriteEntry[] {
  const tag = configuredTag.trim();
  if (tag !== "") return [{ tag, value: msg.payload }];
  if (typeof msg.topic === "string" && msg.topic.trim() !== "") return [{ tag: msg.topic.trim(), value: msg.payload }];
  const payload = msg.payload;
  if (payload !== null && typeof payload === "object" && !Array.isArray(payload) && !Buffer.isBuffer(payload) && !(payload instanceof Date)) {
    const entries = Object.entries(payload).map(([t, value]) => ({ tag: t.trim(), value }));
    if (entries.length === 0) throw new ValueError("msg.payload is an empty object: nothing to write");
    if (entries.some((e) => e.tag === "")) throw new ValueError("msg.payload has an empty tag name");
    return entries;
  }
  throw new ValueError("nothing to write: configure a tag, set msg.topic to a tag name, or send msg.payload as { tag: value, … }");
}

export type WriteResultEntry = { ok: true; value: unknown } | { ok: false; error: string };

export interface WriteResultMessage {
  result: Record<string, WriteResultEntry>;
  error?: S7Error;
}

export function writeResultMessage(outcomes: readonly WriteOutcome[]): WriteResultMessage {
  const result: Record<string, WriteResultEntry> = {};
  const failed: Array<Extract<WriteOutcome, { ok: false }>> = [];
  for (const o of outcomes) {
    if (o.ok) result[o.tag] = { ok: true, value: o.value };
    else {
      result[o.tag] = { ok: false, error: o.error.message };
      failed.push(o);
    }
  }
  const out: WriteResultMessage = { result };
  if (failed.length === 1 && outcomes.length === 1) out.error = failed[0]!.error;
  else if (failed.length > 0) {
    // Name the cause: the first failure that is not "not written because another value was invalid".
    const primary = failed.find((f) => !/not written, because/.test(f.error.message)) ?? failed[0]!;
    const plc = primary.error.plc;
    const written = outcomes.filter((o) => o.ok).map((o) => o.tag);
    const writtenText = written.length > 0 ? `; written: ${written.join(", ")}` : "";
    out.error = new S7Error(primary.error.code, `${failed.length} of ${outcomes.length} tags were not written (${failed.map((f) => f.tag).join(", ")}${writtenText}): ${primary.error.message}`, plc === undefined ? {} : { plc });
  }
  return out;
}

/** Codes of failures found before anything was sent (a bad name or value): the batch was not written. */
const PRE_SEND_CODES: ReadonlySet<string> = new Set(["ERR_S7_VALUE", "ERR_S7_TAG_SYNTAX", "ERR_S7_TAG_NOT_FOUND"]);

/** True when every outcome failed before sending: s7-write sends no output then, only the error. */
export function nothingWritten(outcomes: readonly WriteOutcome[]): boolean {
  return outcomes.every((o) => !o.ok && PRE_SEND_CODES.has(o.error.code));
}
