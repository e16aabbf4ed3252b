/**
 * `s7-secure alarms <host> [--watch] [--language L] [--json]`: lists the
 * controller's active alarms; with --watch then prints each alarm event as
 * it comes until Ctrl-C (SIGINT) or SIGTERM, which deletes the alarm
 * subscription and closes the sessions before the command exits.
 */
import { S7Error } from "../errors.js";
import type { ConnectionStatus } from "../client/controller-connection.js";
import { alarmPayload, type AlarmEvent, type AlarmStatus } from "../client/alarms.js";
import { COMMON_OPTIONS, parseCommandArgs, type CliIO } from "./io.js";
import { controllerTarget, TRUST_OPTIONS } from "./connection-options.js";
import { pushConnection } from "./push-connection.js";

const ALARM_OPTIONS = { ...COMMON_OPTIONS, ...TRUST_OPTIONS, watch: { type: "boolean" }, language: { type: "string" } } as const;

/** One line for a person: time, number, state, class and priority, acknowledgement, text. */
export function alarmLine(e: AlarmEvent): string {
  const ack = e.acknowledged ? "acknowledged" : "unacknowledged";
  return `${e.timestamp.toISOString()}  alarm ${e.id}  ${e.state}${e.resync ? " (resync)" : ""}  ${e.class} p${e.priority}  ${ack}  ${e.text}`;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, ALARM_OPTIONS);
  const json = values.json ?? false;
  const watch = values.watch ?? false;
  const target = controllerTarget(positionals[0], values, io);
  const connection = pushConnection(target);
  // Checked before anything connects: an unknown language is a usage error.
  const alarms = connection.alarms(values.language === undefined ? {} : { language: values.language });
  const print = (e: AlarmEvent, kind: "active" | "event"): void => {
    io.stdout(json ? JSON.stringify({ kind, ...alarmPayload(e), ...(e.resync ? { resync: true } : {}) }) + "\n" : alarmLine(e) + "\n");
  };
  return new Promise<number>((resolve) => {
    let finished = false;
    let listed = false;
    const finish = (code: number, why?: S7Error): void => {
      if (finished) return;
      finished = true;
      if (why !== undefined) {
        if (json) io.stdout(JSON.stringify({ ok: false, code: why.code, error: why.message }) + "\n");
        else io.stderr(`s7-secure: ${why.message.split("\n")[0]}\n`);
      }
      io.signal.removeEventListener("abort", onStop);
      void alarms
        .close()
        .then(() => connection.close())
        .then(() => resolve(code));
    };
    const onStop = (): void => finish(0);
    io.signal.addEventListener("abort", onStop, { once: true });
    // A first attempt that is refused (certificate, no TLS …) ends the command, as probe and read do.
    connection.on("status", (status: ConnectionStatus) => {
      if (!listed && status.state === "reconnect-wait" && status.lastError !== undefined) finish(1, status.lastError);
    });
    alarms.on("active", (list: AlarmEvent[]) => {
      if (listed) return; // later lists come with resync events, printed as events
      listed = true;
      if (list.length === 0 && !json) io.stdout("no active alarms\n");
      for (const e of list) print(e, "active");
      if (!watch) finish(0);
    });
    alarms.on("event", (e: AlarmEvent) => {
      if (listed && watch) print(e, "event");
    });
    alarms.on("state", (s: AlarmStatus) => {
      if (s.state === "refused") finish(1, s.reason);
    });
    connection.start();
    if (io.signal.aborted) onStop();
  });
}
