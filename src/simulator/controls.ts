/**
 * Runtime controls of a running simulator as one-line commands, for
 * `s7-secure sim` on its standard input (and anyone scripting it):
 *
 *   run | stop                     RUN/STOP (secure connections stay up)
 *   delay <ms>                     delay every answer
 *   drop-after <n> | drop-after off
 *   stall on|off                   stall new handshakes after InitSsl
 *   blackhole on|off               read requests, never answer
 *   slowloris <bytes/s> | slowloris off
 *   refuse on|off                  close new connections at once
 *   fatal [code]                   fatal SystemEvent on every connection
 *   malformed                      a malformed frame on every connection
 *   cut                            end every connection
 *   clear                          all faults off
 *   reset-subscriptions-on-write on|off   a write on a subscription-carrying session deletes its subscriptions
 *   cert <cert.pem> <key.pem>      present another certificate from the next connection on
 *   get <tag> | set <tag> <json>   a tag value
 *   stats                          counters as JSON
 */
import * as fs from "node:fs";
import { formatValue } from "../values/plc-time.js";
import type { Simulator } from "./simulator.js";

function onOff(word: string | undefined): boolean {
  if (word === "on") return true;
  if (word === "off") return false;
  throw new Error(`expected on or off, got ${JSON.stringify(word ?? "")}`);
}

function count(word: string | undefined, what: string): number {
  const n = Number(word);
  if (word === undefined || !Number.isInteger(n) || n < 0) throw new Error(`${what} must be a whole number ≥ 0, got ${JSON.stringify(word ?? "")}`);
  return n;
}

/** Applies one command; returns the answer line ("OK …" or "ERR …"). */
export function applySimulatorCommand(sim: Simulator, line: string): string {
  const [command = "", ...args] = line.trim().split(/\s+/);
  try {
    switch (command.toLowerCase()) {
      case "run":
      case "stop":
        sim.setRunState(command.toLowerCase() === "run" ? "RUN" : "STOP");
        return `OK ${sim.runState}`;
      case "delay":
        sim.faults.responseDelayMs = count(args[0], "delay");
        return `OK delay ${sim.faults.responseDelayMs} ms`;
      case "drop-after":
        sim.faults.dropAfterRequests = args[0] === "off" ? undefined : count(args[0], "drop-after");
        return `OK drop-after ${sim.faults.dropAfterRequests ?? "off"}`;
      case "stall":
        sim.faults.stallHandshake = onOff(args[0]);
        return `OK stall ${args[0]}`;
      case "blackhole":
        sim.faults.blackHole = onOff(args[0]);
        return `OK blackhole ${args[0]}`;
      case "slowloris":
        sim.faults.slowLorisBytesPerSecond = args[0] === "off" ? undefined : count(args[0], "slowloris");
        return `OK slowloris ${sim.faults.slowLorisBytesPerSecond ?? "off"}`;
      case "refuse":
        sim.faults.refuseConnections = onOff(args[0]);
        return `OK refuse ${args[0]}`;
      case "fatal":
        sim.sendFatalSystemEvent(args[0] === undefined ? -352 : Number(args[0]));
        return "OK fatal SystemEvent sent";
      case "malformed":
        sim.sendMalformedFrame();
        return "OK malformed frame sent";
      case "cut":
        sim.dropConnections();
        return "OK connections cut";
      case "reset-subscriptions-on-write":
        sim.resetSubscriptionOnWrite = onOff(args[0]);
        return `OK reset-subscriptions-on-write ${args[0]}`;
      case "clear":
        sim.clearFaults();
        return "OK faults cleared";
      case "cert": {
        const [certFile, keyFile] = args;
        if (!certFile || !keyFile) throw new Error("usage: cert <cert.pem> <key.pem>");
        sim.swapCertificate({ cert: fs.readFileSync(certFile, "utf8"), key: fs.readFileSync(keyFile, "utf8") });
        return `OK certificate ${sim.fingerprint256}`;
      }
      case "get":
        return `OK ${formatValue(sim.getValue(args[0] ?? ""))}`;
      case "set": {
        const [tag, ...rest] = args;
        sim.setValue(tag ?? "", JSON.parse(rest.join(" ")) as unknown);
        return `OK ${tag} = ${formatValue(sim.getValue(tag ?? ""))}`;
      }
      case "stats":
        return `OK ${JSON.stringify(sim.stats)}`;
      default:
        throw new Error(`unknown command "${command}"`);
    }
  } catch (err) {
    return `ERR ${err instanceof Error ? err.message : String(err)}`;
  }
}
