/**
 * `s7-secure`: one tool for people on site and for black-box tests (docs/NODES.md §7).
 * Every command prints JSON with --json and exits non-zero with a one-line
 * reason on failure. There is no option that skips certificate verification.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import type { CliIO, CommandRunner } from "./io.js";

interface Command {
  summary: string;
  /** The text `s7-secure <command> --help` prints. */
  help: string;
  load: () => Promise<CommandRunner>;
}

const COMMANDS: Record<string, Command> = {};

const COMMON_HELP = [
  "options:",
  "  --port N            TCP port (default 102)",
  "  --ca FILE           a root CA that issues controller certificates (repeatable)",
  "  --store DIR         the certificate store (default: the one Node-RED uses, see certs --help)",
  "  --password-env NAME the controller password from this environment variable",
  "  --timeout MS        connect and request timeout (default 10000)",
  "  --reject-expired    refuse an expired or not yet valid certificate (default: connect and warn)",
  "  --no-address-check  do not compare the dialled address with the certificate's IP addresses",
  "  --json              print JSON",
].join("\n");

const TAG_TABLE_HELP = [
  "  --tag-table FILE    a TIA Portal tag table export (XML, xlsx, SimaticML; repeatable): its PLC tag",
  "                      names resolve (Speed_SP is %MW20 with the table's type); where the controller",
  "                      disagrees about a DB member, a warning (the controller wins)",
].join("\n");

/** Registers a subcommand; modules are loaded only when their command runs. */
export function registerCommand(name: string, summary: string, help: string, load: () => Promise<CommandRunner>): void {
  COMMANDS[name] = { summary, help, load };
}

/** The package version, from the package.json next to dist/. */
function version(): string {
  const file = path.join(__dirname, "..", "..", "..", "package.json");
  return (JSON.parse(fs.readFileSync(file, "utf8")) as { version: string }).version;
}

function wantsHelp(args: string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

/** `certs` without an action: its usage, not an "unknown action" error. */
function missingCertsAction(args: string[]): boolean {
  const { positionals } = parseArgs({ args, options: { store: { type: "string" }, json: { type: "boolean" }, yes: { type: "boolean" } }, strict: false, allowPositionals: true });
  return positionals.length === 0;
}

function usage(): string {
  const lines = ["usage: s7-secure <command> [options]", "", "commands:"];
  for (const [name, { summary }] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(8)} ${summary}`);
  lines.push("", "common options: --json --port N --ca FILE (repeatable) --store DIR --password-env NAME --timeout MS", "controller commands also: --reject-expired --no-address-check");
  lines.push("", "s7-secure <command> --help shows a command's options; s7-secure --version the version.");
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
    if (name === "--version" || name === "-V" || name === "version") {
      out.stdout(`${version()}\n`);
      return 0;
    }
    const command = COMMANDS[name];
    if (command === undefined) {
      out.stderr(`s7-secure: unknown command "${name}"\n` + usage());
      return 2;
    }
    if (wantsHelp(rest)) {
      out.stdout(command.help + "\n");
      return 0;
    }
    if (name === "certs" && missingCertsAction(rest)) {
      out.stderr("s7-secure certs: missing action\n" + command.help + "\n");
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
  const controllerCommands = async (): Promise<typeof import("./controller-commands.js")> => import("./controller-commands.js");
  registerCommand(
    "probe",
    "connect; show TLS, the certificate, the trust verdict and the controller",
    `usage: s7-secure probe <host> [options]\n\nConnects, verifies the certificate and shows TLS, the certificate, the trust verdict and the\ncontroller. An unknown certificate is stored in untrusted/ and shown, with the command to trust it.\n\n${COMMON_HELP}`,
    async () => (await controllerCommands()).probe,
  );
  registerCommand(
    "browse",
    "the controller's symbol tree with types",
    `usage: s7-secure browse <host> [options]\n\nLists the controller's tags with their types.\n\n${COMMON_HELP}`,
    async () => (await controllerCommands()).browse,
  );
  registerCommand(
    "read",
    "read tags: read <host> <tag>…",
    `usage: s7-secure read <host> <tag>… [options]\n\nexample: s7-secure read 192.0.2.10 Line.Speed '"Motor_DB".Running' DB10.DBW0:INT\nExits 1 when a tag could not be read.\n\n${COMMON_HELP}\n${TAG_TABLE_HELP}`,
    async () => (await controllerCommands()).read,
  );
  registerCommand(
    "write",
    "write tags: write <host> <tag>=<value>…",
    `usage: s7-secure write <host> <tag>=<value>… [options]\n\nThe value is JSON where it parses (1500, true, "text", [1,2]), else the text;\nan = inside quotes belongs to the name or value: write 192.0.2.10 'Line.Name="a=b"'.\nNumbers stay as typed (99999999999999999999 is written exactly or refused).\nPrints per tag what was written and what was not; exits 1 when a tag was not written.\n\n${COMMON_HELP}\n${TAG_TABLE_HELP}`,
    async () => (await controllerCommands()).write,
  );
  registerCommand(
    "watch",
    "print each pushed change: watch <host> <tag>… [--cycle MS]",
    `usage: s7-secure watch <host> <tag>… [--cycle MS] [options]\n\nSubscribes to the tags: the controller pushes each change, printed as it comes (JSON lines\nwith --json). Ctrl-C stops and deletes the subscription. --cycle is the controller's cycle\n(at least 100 ms, default 1000).\n\n${COMMON_HELP}`,
    async () => (await import("./watch.js")).run,
  );
  registerCommand(
    "alarms",
    "the controller's alarms: alarms <host> [--watch] [--language L]",
    `usage: s7-secure alarms <host> [--watch] [--language L] [options]\n\nLists the active alarms (number, state, class, priority, acknowledgement, text); with\n--watch then prints each alarm event as it comes until Ctrl-C. --language picks the text\nlanguage (en-US default, de-DE, fr-FR, it-IT, es-ES, zh-CN). JSON lines with --json.\n\n${COMMON_HELP}`,
    async () => (await import("./alarms.js")).run,
  );
  registerCommand(
    "certs",
    "the certificate store: list | trust | untrust | details | import | import-crl",
    [
      "usage: s7-secure certs <action> [options]",
      "",
      "actions:",
      "  list                       trusted and untrusted certificates, CRLs",
      "  trust <fingerprint|file>   move a certificate from untrusted/ to trusted/",
      "  untrust <fingerprint|file> move it back",
      "  details <fingerprint|file> one certificate",
      "  import <file>              a certificate exported by TIA Portal (DER or PEM: .cer .crt .der .pem):",
      "                             a CA goes to issuers/ (a root CA for every connection of the store),",
      "                             a controller certificate to trusted/; shows it and asks first",
      "  import-crl <file>          add a CRL to trusted/crl/",
      "",
      "options:",
      "  --yes         import without asking",
      "  --store DIR   the store (default: ~/.node-red/s7-secure/pki when ~/.node-red exists,",
      "                the one Node-RED uses, else ~/.s7-secure/pki)",
      "  --json        print JSON",
    ].join("\n"),
    async () => (await import("./certs.js")).run,
  );
  registerCommand(
    "sim",
    "a simulated S7-1500 with Secure Communication",
    [
      "usage: s7-secure sim [options]",
      "",
      "A simulated controller on 127.0.0.1. Prints READY port=<n> fingerprint=<sha256>, then what it serves.",
      "Takes controls as lines on standard input (stop, run, delay <ms>, drop-after <n>, …); Ctrl-C stops it.",
      "",
      "options:",
      "  --config FILE   controller, tags and certificate from a JSON file (docs/simulator/)",
      "  --port N        the port (default: the configuration's, else a free one)",
      "  --host H        the address to listen on (default 127.0.0.1)",
      "  --cert FILE --key FILE   serve this certificate",
      "  --seconds N     stop after N seconds",
    ].join("\n"),
    async () => (await import("./sim.js")).run,
  );
  registerCommand(
    "tags",
    "what TIA Portal tag table exports hold: tags <file>… (XML, xlsx, SimaticML)",
    "usage: s7-secure tags <file>… [--json] [--culture C]\n\nLists the PLC tags, data blocks and UDTs of TIA Portal exports (tag table XML or xlsx, SimaticML).\n--culture picks the language a one-language comment is filed under (default en-US).",
    async () => (await import("./tags.js")).run,
  );
}
