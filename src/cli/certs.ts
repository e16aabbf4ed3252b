/** `s7-secure certs list|trust|untrust|details|import-crl --store DIR` (SPEC §7). */
import * as fs from "node:fs";
import { ConfigError } from "../errors.js";
import { CertificateStore, type StoredCertificate } from "../trust/store.js";
import { defaultStoreDir } from "./connection-options.js";
import { parseCommandArgs, printResult, type CliIO } from "./io.js";

function publicView(c: StoredCertificate): Record<string, unknown> {
  const { der: _der, ...rest } = c;
  return { ...rest, validFrom: c.validFrom.toISOString(), validTo: c.validTo.toISOString() };
}

function line(c: StoredCertificate): string {
  return `${c.file}\n    ${c.subject}  issuer ${c.issuer}${c.selfSigned ? " (self-signed)" : ""}\n    SHA-256 ${c.fingerprint256}  valid ${c.validFrom.toISOString()} … ${c.validTo.toISOString()}`;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { json: { type: "boolean" }, store: { type: "string" } });
  const json = values.json ?? false;
  const [action, id] = positionals;
  const store = new CertificateStore(values.store ?? defaultStoreDir());
  try {
    switch (action) {
      case "list": {
        const snap = await store.snapshot();
        const result = {
          store: store.dir,
          trusted: snap.trusted.map(publicView),
          untrusted: snap.untrusted.map(publicView),
          crls: snap.crls.map((c) => (c.crl ? { file: c.file, issuer: c.crl.issuer, thisUpdate: c.crl.thisUpdate.toISOString(), nextUpdate: c.crl.nextUpdate?.toISOString() ?? null, revoked: c.crl.revoked.size } : { file: c.file, error: c.error })),
          problems: snap.problems,
        };
        const human = [`store ${store.dir}`, `trusted (${snap.trusted.length}):`, ...snap.trusted.map(line), `untrusted (${snap.untrusted.length}):`, ...snap.untrusted.map(line), `CRLs (${snap.crls.length}):`, ...snap.crls.map((c) => `${c.file}${c.error ? `  UNUSABLE: ${c.error}` : `  ${c.crl!.issuer}, ${c.crl!.revoked.size} revoked`}`), ...snap.problems.map((p) => `problem: ${p}`)];
        printResult(io, json, result, human.join("\n"));
        return snap.problems.length > 0 ? 1 : 0;
      }
      case "trust":
      case "untrust":
      case "details": {
        if (id === undefined) throw new ConfigError(`usage: s7-secure certs ${action} <fingerprint or file> --store DIR`);
        const c = action === "trust" ? await store.trust(id) : action === "untrust" ? await store.untrust(id) : await store.details(id);
        printResult(io, json, publicView(c), `${action === "details" ? "" : `${action === "trust" ? "trusted" : "untrusted"}: `}${line(c)}`);
        return 0;
      }
      case "import-crl": {
        if (id === undefined) throw new ConfigError("usage: s7-secure certs import-crl <file> --store DIR");
        let data: Buffer;
        try {
          data = fs.readFileSync(id);
        } catch (err) {
          throw new ConfigError(`cannot read the CRL: ${(err as Error).message}`, { file: id });
        }
        const { file, crl } = await store.importCrl(data, id);
        const result = { file, issuer: crl.issuer, thisUpdate: crl.thisUpdate.toISOString(), nextUpdate: crl.nextUpdate?.toISOString() ?? null, revoked: crl.revoked.size };
        printResult(io, json, result, `imported ${file}: ${crl.issuer}, ${crl.revoked.size} revoked`);
        return 0;
      }
      default:
        throw new ConfigError(`unknown certs action "${action ?? ""}" (list, trust, untrust, details, import-crl)`);
    }
  } finally {
    store.close();
  }
}
