/** `s7-secure certs list|trust|untrust|details|import|import-crl --store DIR` (docs/NODES.md §7). */
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError } from "../errors.js";
import { printable } from "../printable.js";
import { certificateView, crlView } from "../trust/certificate-info.js";
import { CertificateStore, MAX_CERTIFICATE_BYTES, MAX_CRL_BYTES, type StoredCertificate } from "../trust/store.js";
import type { CertificateImportPlan } from "../trust/certificate-import.js";
import { readStoreFile } from "../trust/store-file.js";
import { defaultStoreDir } from "./connection-options.js";
import { parseCommandArgs, printResult, type CliIO } from "./io.js";

/** Everything in it came from a file name or a certificate: printed escaped. */
function line(c: StoredCertificate): string {
  return `${printable(c.file)}\n    ${printable(c.subject)}  issuer ${printable(c.issuer)}${c.selfSigned ? " (self-signed)" : ""}\n    SHA-256 ${c.fingerprint256}  valid ${c.validFrom.toISOString()} … ${c.validTo.toISOString()}`;
}

/** Rejects when SIGINT/SIGTERM arrive, so that no store operation can keep the command alive. */
function interrupted(signal: AbortSignal): { promise: Promise<never>; dispose(): void } {
  let onAbort = (): void => undefined;
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(new ConfigError("interrupted"));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  promise.catch(() => undefined);
  return { promise, dispose: () => signal.removeEventListener("abort", onAbort) };
}

/** What an import will do, for the person to confirm: subject, issuer, SHA-256, validity, destination. */
function planLines(plan: CertificateImportPlan): string {
  const c = plan.certificate;
  return [
    `certificate  ${printable(c.subject ?? "?")} (issuer ${printable(c.issuer ?? "?")}${c.selfSigned ? ", self-signed" : ""})`,
    `             SHA-256 ${c.fingerprint256}`,
    `             valid ${c.validFrom ?? "?"} … ${c.validTo ?? "?"}`,
    `import to    ${plan.destination}/: ${plan.reason}`,
  ].join("\n");
}

/** One answer line from standard input: yes only for "y" or "yes". */
function confirmed(io: CliIO): Promise<boolean> {
  const input = io.stdin;
  if (input === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    let text = "";
    const finish = (): void => {
      input.off("data", onData);
      input.off("end", finish);
      input.pause?.();
      resolve(/^\s*y(es)?\s*$/i.test(text.split("\n")[0] ?? ""));
    };
    const onData = (d: Buffer | string): void => {
      text += d.toString();
      if (text.includes("\n")) finish();
    };
    input.on("data", onData);
    input.on("end", finish);
    input.resume?.();
  });
}

async function importCertificate(file: string | undefined, yes: boolean, store: CertificateStore, io: CliIO, json: boolean): Promise<number> {
  if (file === undefined) throw new ConfigError("usage: s7-secure certs import <file> [--yes] --store DIR");
  let data: Buffer;
  try {
    data = await readStoreFile(undefined, path.resolve(file), MAX_CERTIFICATE_BYTES);
  } catch (err) {
    throw new ConfigError(`${printable(file)}: ${(err as Error).message}; not imported`, { file: printable(file) });
  }
  const plan = await store.planImport(data, file);
  if (!yes) {
    io.stderr(`${planLines(plan)}\nimport it? [y/N] `);
    if (!(await confirmed(io))) {
      io.stderr("not imported (answer y, or pass --yes)\n");
      return 1;
    }
  }
  const { der: _der, ...done } = await store.importCertificate(data, file);
  printResult(io, json, done, `${done.alreadyPresent ? "already in the store" : "imported"}: ${printable(done.file)}\n${planLines(plan)}`);
  return 0;
}

async function action(name: string | undefined, id: string | undefined, store: CertificateStore, io: CliIO, json: boolean, yes: boolean): Promise<number> {
  switch (name) {
    case "list": {
      const snap = await store.snapshot();
      const result = {
        store: store.dir,
        trusted: snap.trusted.map(certificateView),
        untrusted: snap.untrusted.map(certificateView),
        issuers: snap.issuers.map(certificateView),
        crls: snap.crls.map(crlView),
        problems: snap.problems,
      };
      const human = [
        `store ${printable(store.dir)}`,
        `trusted (${snap.trusted.length}):`,
        ...snap.trusted.map(line),
        `untrusted (${snap.untrusted.length}):`,
        ...snap.untrusted.map(line),
        `root CAs in issuers/ (${snap.issuers.length}):`,
        ...snap.issuers.map(line),
        `CRLs (${snap.crls.length}):`,
        ...snap.crls.map((c) => `${printable(c.file)}${c.error ? `  UNUSABLE: ${c.error}` : `  ${printable(c.crl!.issuer)}, ${c.crl!.revoked.size} revoked`}`),
        // Problem texts are escaped where they are made (src/trust/store.ts).
        ...snap.problems.map((p) => `problem: ${p}`),
      ];
      printResult(io, json, result, human.join("\n"));
      return snap.problems.length > 0 ? 1 : 0;
    }
    case "trust":
    case "untrust":
    case "details": {
      if (id === undefined) throw new ConfigError(`usage: s7-secure certs ${name} <fingerprint or file> --store DIR`);
      const c = name === "trust" ? await store.trust(id) : name === "untrust" ? await store.untrust(id) : await store.details(id);
      printResult(io, json, certificateView(c), `${name === "details" ? "" : `${name === "trust" ? "trusted" : "untrusted"}: `}${line(c)}`);
      return 0;
    }
    case "import":
      return importCertificate(id, yes, store, io, json);
    case "import-crl": {
      if (id === undefined) throw new ConfigError("usage: s7-secure certs import-crl <file> --store DIR");
      let data: Buffer;
      try {
        data = await readStoreFile(undefined, path.resolve(id), MAX_CRL_BYTES);
      } catch (err) {
        throw new ConfigError(`cannot read the CRL: ${(err as Error).message}`, { file: printable(id) });
      }
      const { file, crl } = await store.importCrl(data, id);
      printResult(io, json, crlView({ file, crl }), `imported ${printable(file)}: ${printable(crl.issuer)}, ${crl.revoked.size} revoked`);
      return 0;
    }
    default:
      throw new ConfigError(`unknown certs action "${printable(name ?? "")}" (list, trust, untrust, details, import, import-crl)`);
  }
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { json: { type: "boolean" }, store: { type: "string" }, yes: { type: "boolean" } });
  const [name, id] = positionals;
  const dir = values.store ?? defaultStoreDir();
  // Only an import may create the store; listing or trusting in a folder that does not exist
  // (a typo, or a store Node-RED has not made yet) says so instead of making an empty one.
  if (name !== "import-crl" && name !== "import" && name !== undefined && !fs.existsSync(dir)) {
    throw new ConfigError(`the store folder ${printable(dir)} does not exist${values.store === undefined ? " (the default store; give --store DIR)" : ""}`, { file: printable(dir) });
  }
  const store = new CertificateStore(dir);
  const stop = interrupted(io.signal);
  try {
    return await Promise.race([action(name, id, store, io, values.json ?? false, values.yes ?? false), stop.promise]);
  } finally {
    stop.dispose();
    store.close();
  }
}
