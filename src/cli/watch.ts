/**
 * `s7-secure watch <host> <tag>… [--cycle MS] [--json]`: subscribes to the
 * tags and prints each change as the controller pushes it (first every
 * value). Ctrl-C (SIGINT) or SIGTERM stops: the subscription is deleted and
 * the sessions are closed before the command exits.
 */
import { ConfigError, S7Error } from "../errors.js";
import type { ConnectionStatus } from "../client/controller-connection.js";
import type { GapEvent, SubscriptionStatus, ValuesEvent } from "../client/subscription.js";
import { formatValue } from "../values/plc-time.js";
import { COMMON_OPTIONS, jsonReplacer, numberOption, parseCommandArgs, type CliIO } from "./io.js";
import { controllerTarget, TRUST_OPTIONS } from "./connection-options.js";
import { pushConnection } from "./push-connection.js";

const WATCH_OPTIONS = { ...COMMON_OPTIONS, ...TRUST_OPTIONS, cycle: { type: "string" } } as const;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, WATCH_OPTIONS);
  const json = values.json ?? false;
  const [host, ...tags] = positionals;
  if (tags.length === 0) throw new ConfigError("usage: s7-secure watch <host> <tag>… [--cycle MS] [--json]");
  const cycleMs = numberOption("cycle", values.cycle, 1000);
  const target = controllerTarget(host, values, io);
  const connection = pushConnection(target);
  const line = (record: Record<string, unknown>, human: string): void => {
    io.stdout(json ? JSON.stringify(record, jsonReplacer) + "\n" : human + "\n");
  };
  return new Promise<number>((resolve) => {
    let finished = false;
    const finish = (code: number, why?: S7Error): void => {
      if (finished) return;
      finished = true;
      if (why !== undefined) {
        if (json) line({ ok: false, code: why.code, error: why.message }, "");
        else io.stderr(`s7-secure: ${why.message.split("\n")[0]}\n`);
      }
      io.signal.removeEventListener("abort", onStop);
      void connection.close().then(() => resolve(code));
    };
    const onStop = (): void => finish(0);
    io.signal.addEventListener("abort", onStop, { once: true });
    let seenValues = false;
    // A first attempt that is refused (certificate, no TLS …) ends the command, as probe and read do.
    connection.on("status", (status: ConnectionStatus) => {
      if (!seenValues && status.state === "reconnect-wait" && status.lastError !== undefined) finish(1, status.lastError);
    });
    const handle = connection.subscribe(tags, { cycleMs });
    handle.on("values", (event: ValuesEvent) => {
      seenValues = true;
      const time = (event.timestamp ?? new Date()).toISOString();
      for (const o of event.changes) {
        if (o.ok) line({ time, tag: o.tag, value: o.value, initial: event.initial }, `${time}  ${o.tag} = ${formatValue(o.value)}`);
        else line({ time, tag: o.tag, error: o.error.message, initial: event.initial }, `${time}  ${o.tag} ERROR ${o.error.message}`);
      }
    });
    handle.on("gap", (gap: GapEvent) => {
      if (json) line({ gap: gap.reason, message: gap.message }, "");
      else io.stderr(`s7-secure: ${gap.message}; a full set follows\n`);
    });
    handle.on("state", (state: SubscriptionStatus) => {
      if (state.state === "refused") finish(1, state.reason);
    });
    connection.start();
    if (io.signal.aborted) onStop();
  });
}
