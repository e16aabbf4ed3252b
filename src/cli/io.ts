/** What a command may touch: output streams and the environment. Tests pass their own. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ConfigError } from "../errors.js";

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM, for long-running commands (sim). */
  signal: AbortSignal;
  /** Standard input, for commands that take controls while they run (sim). */
  stdin?: NodeJS.ReadableStream;
}

export type CommandRunner = (argv: string[], io: CliIO) => Promise<number>;

type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/** Options every controller command shares (docs/NODES.md §7). */
export const COMMON_OPTIONS = {
  json: { type: "boolean" },
  port: { type: "string" },
  ca: { type: "string", multiple: true },
  store: { type: "string" },
  "password-env": { type: "string" },
  timeout: { type: "string" },
} as const satisfies OptionSpec;

/** util.parseArgs with strict checking; unknown options become a ConfigError naming the option. */
export type ParsedCommandArgs<T extends OptionSpec> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>
>;

export function parseCommandArgs<T extends OptionSpec>(argv: string[], options: T): ParsedCommandArgs<T> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }
}

/** Parses a whole, positive decimal number option, naming the option on failure. */
export function numberOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) <= 0) throw new ConfigError(`--${name} must be a positive whole number, got "${value}"`);
  return Number(value);
}

/** Prints a result as JSON (--json) or as the given human-readable text. */
export function printResult(io: CliIO, json: boolean, value: unknown, human: string): void {
  io.stdout(json ? JSON.stringify(value, jsonReplacer, 2) + "\n" : human.endsWith("\n") ? human : human + "\n");
}

/** JSON for values that JSON.stringify cannot show as they are: BigInt, Buffer, Date stay readable. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value && typeof value === "object" && (value as { type?: unknown }).type === "Buffer" && Array.isArray((value as { data?: unknown }).data)) {
    return Buffer.from((value as { data: number[] }).data).toString("hex");
  }
  return value;
}
