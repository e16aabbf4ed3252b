/** `s7-secure probe | browse | read | write` (docs/NODES.md §7). */
import * as path from "node:path";
import { ConfigError, S7Error } from "../errors.js";
import { ControllerSession } from "../client/controller-session.js";
import { formatValue } from "../values/plc-time.js";
import type { SymbolNode } from "../tags/symbols.js";
import { certificateView, type CertificateView } from "../trust/certificate-info.js";
import { printable } from "../printable.js";
import type { ReadOutcome, WriteOutcome } from "../client/results.js";
import { explainConnectionError } from "./connection-errors.js";
import { COMMON_OPTIONS, parseCommandArgs, printResult, type CliIO } from "./io.js";
import { controllerTarget, TRUST_OPTIONS, type ControllerTarget } from "./connection-options.js";
import { ConnectionTagTables, controllerTypes, loadTagTables } from "../tags/tia/table-names.js";

/** `--tag-table FILE` (repeatable): names of TIA Portal tag tables resolve in read and write. */
const TAG_TABLE_OPTION = { "tag-table": { type: "string", multiple: true } } as const;

/** The tables of --tag-table, read before connecting: a bad file is the command's one error. */
function tagTablesOf(files: string[] | undefined): ConnectionTagTables | undefined {
  return files === undefined || files.length === 0 ? undefined : new ConnectionTagTables(loadTagTables(files.map((f) => path.resolve(f))));
}

/** Where the controller disagrees with the tables about DB members (it wins): one warning line each. */
async function warnDisagreements(s: ControllerSession, tables: ConnectionTagTables | undefined, outcomes: readonly ReadOutcome[], io: CliIO): Promise<void> {
  if (tables === undefined || !tables.describesMembers(outcomes.map((o) => o.tag))) return;
  const types = controllerTypes(await s.browse());
  for (const line of tables.disagreements(outcomes, types)) io.stderr(`warning: ${line}\n`);
}

async function open(target: ControllerTarget, io: CliIO): Promise<ControllerSession> {
  return ControllerSession.open(
    { host: target.host, port: target.port, accessPoint: "" },
    {
      plc: target.host,
      verifier: target.verifier,
      connectTimeoutMs: target.timeoutMs,
      requestTimeoutMs: target.timeoutMs,
      ...(target.password === undefined ? {} : { password: target.password }),
    },
    io.signal,
  );
}

/** On an untrusted certificate, the stored file's details help the person decide (in text and in JSON). */
/** A certificate as probe and a refused connection print it; every text from the certificate or a file name escaped. */
function certificateLines(c: CertificateView): string[] {
  return [
    `certificate  ${printable(c.subject ?? "")} (issuer ${printable(c.issuer ?? "")}${c.selfSigned ? ", self-signed" : ""})`,
    `             SHA-256 ${c.fingerprint256 ?? ""}`,
    `             valid ${c.validFrom ?? "?"} … ${c.validTo ?? "?"}; addresses ${(c.ipAddresses ?? []).map(printable).join(", ") || "none"}`,
  ];
}

async function failure(err: unknown, target: ControllerTarget | undefined, io: CliIO, json: boolean): Promise<number> {
  const original = err instanceof S7Error ? err : new S7Error("ERR_S7_CONNECT", String(err));
  const e = target ? explainConnectionError(original, target.host, target.port, target.timeoutMs) : original;
  let certificate: (CertificateView & { store: string }) | undefined;
  if (target && e.file && e.code === "ERR_S7_UNTRUSTED") {
    const stored = await target.store.details(path.basename(e.file)).catch(() => undefined);
    if (stored) certificate = { ...certificateView(stored), store: target.store.dir };
  }
  if (json) printResult(io, true, { ok: false, code: e.code, error: e.message, ...(certificate ? { certificate } : {}) }, "");
  else {
    io.stderr(`s7-secure: ${printable(e.message.split("\n")[0] ?? "")}\n`);
    if (certificate) {
      io.stderr(
        [
          ...certificateLines(certificate),
          `stored in    ${printable(certificate.file)} (store ${printable(certificate.store)})`,
          `trust it     s7-secure certs trust ${certificate.fingerprint256 ?? ""} --store ${printable(certificate.store)}`,
        ].join("\n") + "\n",
      );
    }
  }
  return 1;
}

/** Parses the common options, connects, runs `body` with the session, closes; failures become one line (or JSON). */
async function withController(
  argv: string[],
  io: CliIO,
  body: (s: ControllerSession, target: ControllerTarget, args: string[], json: boolean, tables: ConnectionTagTables | undefined) => Promise<number>,
  check: (args: string[]) => void = () => undefined,
  options: { tagTables?: boolean } = {},
): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ...COMMON_OPTIONS, ...TRUST_OPTIONS, ...TAG_TABLE_OPTION });
  const json = values.json ?? false;
  let target: ControllerTarget | undefined;
  try {
    const [host, ...args] = positionals;
    check(args);
    if (!options.tagTables && values["tag-table"] !== undefined) throw new ConfigError("--tag-table is an option of read and write");
    const tables = tagTablesOf(values["tag-table"]);
    target = controllerTarget(host, values, io);
    const s = await open(target, io);
    try {
      return await body(s, target, args, json, tables);
    } finally {
      await s.close();
    }
  } catch (err) {
    return failure(err, target, io, json);
  }
}

export function probe(argv: string[], io: CliIO): Promise<number> {
  return withController(argv, io, async (s, target, _args, json) => {
    const info = s.info;
    const cert = info.verdict.certificate;
    const result = {
      ok: true,
      host: target.host,
      port: target.port,
      tls: { version: info.tlsVersion, cipher: info.cipher },
      certificate: { ...cert, validFrom: cert.validFrom.toISOString(), validTo: cert.validTo.toISOString() },
      trust: { trustedBy: info.verdict.trustedBy, revocationChecked: info.verdict.revocationChecked, warnings: info.verdict.warnings.map((w) => w.message) },
      controller: { orderNumber: info.identity.orderNumber, firmware: info.identity.firmware, family: info.identity.family, protectionLevel: info.protectionLevel },
    };
    const lines = [
      `${target.host}:${target.port}  ${info.tlsVersion} ${info.cipher}`,
      `controller   ${info.identity.family} ${info.identity.orderNumber} firmware V${info.identity.firmware}`,
      ...certificateLines(certificateView({ ...cert, file: "" })),
      `trust        ${info.verdict.trustedBy === "store" ? "trusted in the store" : "issued by an imported root CA"}`,
      ...info.verdict.warnings.map((w) => `warning      ${printable(w.message)}`),
    ];
    printResult(io, json, result, lines.join("\n"));
    return 0;
  });
}

export function browse(argv: string[], io: CliIO): Promise<number> {
  return withController(argv, io, async (s, _target, _args, json) => {
    const tree = await s.browse();
    const lines: string[] = [];
    const walk = (nodes: SymbolNode[], depth: number): void => {
      for (const n of nodes) {
        lines.push(`${"  ".repeat(depth)}${n.tag}  ${n.type}`);
        if (n.children) walk(n.children, depth + 1);
      }
    };
    walk(tree, 0);
    printResult(io, json, tree, lines.join("\n"));
    return 0;
  });
}

export function read(argv: string[], io: CliIO): Promise<number> {
  return withController(
    argv,
    io,
    async (s, _target, tags, json, tables) => {
      const outcomes = tables === undefined ? await s.read(tags) : await tables.through(tags.map((tag) => ({ tag })), (items) => s.read(items.map((i) => i.tag)));
      await warnDisagreements(s, tables, outcomes, io);
      const result = Object.fromEntries(outcomes.map((o) => [o.tag, o.ok ? o.value : { error: o.error.message }]));
      printResult(io, json, result, outcomes.map((o) => `${o.tag} = ${o.ok ? formatValue(o.value) : `ERROR ${o.error.message}`}`).join("\n"));
      return outcomes.every((o) => o.ok) ? 0 : 1;
    },
    (tags) => {
      if (tags.length === 0) throw new ConfigError("usage: s7-secure read <host> <tag>…");
    },
    { tagTables: true },
  );
}

/** Index of the first `=` outside double quotes (quoted names and values may contain `=`), or -1. */
function assignmentSign(text: string): number {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') quoted = !quoted;
    else if (text[i] === "=" && !quoted) return i;
  }
  return -1;
}

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * `<tag>=<value>`: JSON where it parses (numbers, true, "text", arrays,
 * objects), else the text. A number JavaScript cannot hold as written
 * (99999999999999999999, 1e400, 0.1000000000000000001) stays the text the
 * user typed, so it is written exactly or refused by its own digits.
 */
export function parseAssignment(text: string): { tag: string; value: unknown } {
  const eq = assignmentSign(text);
  if (eq <= 0) throw new ConfigError(`"${text}" is not <tag>=<value>`);
  const tag = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1).trim();
  if (JSON_NUMBER.test(raw) && String(Number(raw)) !== raw) return { tag, value: raw };
  try {
    return { tag, value: JSON.parse(raw) as unknown };
  } catch {
    return { tag, value: raw };
  }
}

/** One line per tag: what was written, and what was not and why; a count when some were not. */
export function writeReport(outcomes: readonly WriteOutcome[]): string {
  const shown = (v: unknown): string => (typeof v === "string" && JSON_NUMBER.test(v) ? v : formatValue(v));
  const lines = outcomes.map((o) => (o.ok ? `${o.tag} = ${shown(o.value)}  written` : `${o.tag} NOT written: ${o.error.message}`));
  const failed = outcomes.filter((o) => !o.ok).length;
  if (failed > 0) lines.push(`${outcomes.length - failed} of ${outcomes.length} tags written, ${failed} not written`);
  return lines.join("\n");
}

export function write(argv: string[], io: CliIO): Promise<number> {
  return withController(
    argv,
    io,
    async (s, _target, assignments, json, tables) => {
      const entries = assignments.map(parseAssignment);
      const outcomes = tables === undefined ? await s.write(entries) : await tables.through(entries, (items) => s.write(items));
      await warnDisagreements(s, tables, outcomes, io);
      const result = Object.fromEntries(outcomes.map((o) => [o.tag, o.ok ? { ok: true, value: o.value } : { ok: false, error: o.error.message }]));
      printResult(io, json, result, writeReport(outcomes));
      return outcomes.every((o) => o.ok) ? 0 : 1;
    },
    (assignments) => {
      if (assignments.length === 0) throw new ConfigError("usage: s7-secure write <host> <tag>=<value>…");
      assignments.forEach(parseAssignment);
    },
    { tagTables: true },
  );
}
