/**
 * `s7-secure sim [--config FILE] [--port N] [--host H] [--cert FILE --key FILE] [--seconds N]`:
 * a simulated controller; prints `READY port=<n> fingerprint=<sha256>` once it listens and takes
 * runtime controls (RUN/STOP, faults, certificate swap) as lines on standard input.
 */
import * as fs from "node:fs";
import { ConfigError } from "../errors.js";
import { defaultSimulatorConfig, loadSimulatorConfig, checkSimulatorConfig, type MemberConfig, type SimulatorConfig } from "../simulator/config.js";
import { Simulator } from "../simulator/simulator.js";
import { numberOption, parseCommandArgs, type CliIO } from "./io.js";
import { parsePort } from "../client/alternative-address.js";
import * as readline from "node:readline";
import { applySimulatorCommand } from "../simulator/controls.js";

/** Top-level tag names of a member list, with types ("Line.Speed Real"), structs by name only. */
function tagLines(prefix: string, members: readonly MemberConfig[]): string[] {
  return members.map((m) => `    ${prefix}.${m.name}  ${m.type ?? m.typeName ?? "Struct"}`);
}

/** What the simulator serves, for the person who started it. */
function servedSummary(config: SimulatorConfig, port: number, fingerprint: string): string {
  const host = config.host ?? "127.0.0.1";
  const lines = [
    `${config.name} (simulated ${config.orderNumber ?? "S7-1500"}, firmware V${config.firmware ?? "?"}) on ${host}:${port}`,
    `certificate SHA-256 ${fingerprint}`,
    `  trust it: s7-secure probe ${host} --port ${port}, then s7-secure certs trust ${fingerprint}`,
    "tags:",
  ];
  for (const db of config.dataBlocks) {
    lines.push(`  DB${db.number} "${db.name}"${db.optimized === false ? " (non-optimized: absolute access too)" : ""}`);
    lines.push(...tagLines(db.name, db.members));
  }
  lines.push("controls on standard input: stop | run | delay <ms> | drop-after <n> | … ; Ctrl-C stops the simulator");
  return lines.join("\n");
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    config: { type: "string" },
    port: { type: "string" },
    host: { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    seconds: { type: "string" },
  });
  const config = values.config ? loadSimulatorConfig(values.config) : defaultSimulatorConfig();
  if (values.port !== undefined) config.port = values.port === "0" ? 0 : parsePort(values.port, "--port");
  if (values.host !== undefined) config.host = values.host;
  if ((values.cert === undefined) !== (values.key === undefined)) throw new ConfigError("--cert and --key go together");
  if (values.cert && values.key) {
    for (const f of [values.cert, values.key]) if (!fs.existsSync(f)) throw new ConfigError("file not found", { file: f });
    config.certificate = { mode: "files", certFile: values.cert, keyFile: values.key };
  }
  const seconds = values.seconds === undefined ? undefined : numberOption("seconds", values.seconds, 1);
  const sim = await Simulator.start(checkSimulatorConfig(config));
  io.stdout(`READY port=${sim.port} fingerprint=${sim.fingerprint256}\n`);
  io.stdout(servedSummary(config, sim.port, sim.fingerprint256) + "\n");
  // Runtime controls, one command per line on standard input (src/simulator/controls.ts).
  const lines = io.stdin ? readline.createInterface({ input: io.stdin, terminal: false }) : undefined;
  lines?.on("line", (line) => {
    if (line.trim() !== "") io.stdout(applySimulatorCommand(sim, line) + "\n");
  });
  await new Promise<void>((resolve) => {
    const timer = seconds === undefined ? undefined : setTimeout(resolve, seconds * 1000);
    io.signal.addEventListener("abort", () => {
      if (timer) clearTimeout(timer);
      resolve();
    }, { once: true });
  });
  lines?.close();
  await sim.stop();
  io.stdout("STOPPED\n");
  return 0;
}
