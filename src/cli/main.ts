/**
 * `s7-secure`: one tool for people on site and for black-box tests (SPEC §7).
 * Every command prints JSON with --json and exits non-zero with a one-line
 * reason on failure. There is no option that skips certificate verification.
 */
import type { CliIO, CommandRunner } from "./io.js";

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandRunner> }> = {};

/** Registers a subcommand; modules are loaded only when their command runs. */
export function registerCommand(name: string, summary: string, load: () => Promise<CommandRunner>): void {
  COMMANDS[name] = { summary, load };
}

function usage(): string {
  const lines = ["usage: s7-secure <command> [options]", "", "commands:"];
  for (const [name, { summary }] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(8)} ${summary}`);
  lines.push("", "common options: --json --port N --ca FILE (repeatable) --store DIR --password-env NAME --timeout MS");
  return lines.join("\n") + "\n";
}

function processIO(): CliIO & { dispose(): void } {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    signal: controller.signal,
    stdin: process.stdin,
    dispose: () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    },
  };
}

/** Runs one command line; resolves with the exit code. */
export async function main(argv: string[], io?: CliIO): Promise<number> {
  loadBuiltinCommands();
  const own = io === undefined ? processIO() : undefined;
  const out = io ?? own!;
  try {
    const [name, ...rest] = argv;
    if (name === undefined || name === "help" || name === "--help" || name === "-h") {
      out.stdout(usage());
      return name === undefined ? 2 : 0;
    }
    const command = COMMANDS[name];
    if (command === undefined) {
      out.stderr(`s7-secure: unknown command "${name}"\n` + usage());
      return 2;
    }
    const run = await command.load();
    return await run(rest, out);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    out.stderr(`s7-secure ${argv[0] ?? ""}: ${message.split("\n")[0]}\n`);
    return 1;
  } finally {
    own?.dispose();
  }
}

let builtinsLoaded = false;
function loadBuiltinCommands(): void {
  if (builtinsLoaded) return;
  builtinsLoaded = true;
  registerCommand("probe", "connect; show TLS, the certificate, the trust verdict and the controller", async () => (await import("./controller-commands.js")).probe);
  registerCommand("browse", "the controller's symbol tree with types", async () => (await import("./controller-commands.js")).browse);
  registerCommand("read", "read tags: read <host> <tag>…", async () => (await import("./controller-commands.js")).read);
  registerCommand("write", "write tags: write <host> <tag>=<value>…", async () => (await import("./controller-commands.js")).write);
  registerCommand("watch", "print each pushed change: watch <host> <tag>… [--cycle MS]", async () => (await import("./watch.js")).run);
  registerCommand("certs", "the certificate store: list | trust | untrust | details | import-crl", async () => (await import("./certs.js")).run);
  registerCommand("sim", "a simulated S7-1500 with Secure Communication", async () => (await import("./sim.js")).run);
}
