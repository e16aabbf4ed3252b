/** The options the controller commands share (docs/NODES.md §7): address, trust, password, timeout. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigError } from "../errors.js";
import { parsePort } from "../client/alternative-address.js";
import { CONNECTION_DEFAULTS } from "../client/defaults.js";
import { CertificateStore } from "../trust/store.js";
import { DeviceCertificateVerifier } from "../trust/verifier.js";
import { numberOption, type CliIO } from "./io.js";

export interface ControllerTarget {
  host: string;
  port: number;
  store: CertificateStore;
  verifier: DeviceCertificateVerifier;
  password?: string;
  timeoutMs: number;
}

/** The connection node's two trust options, for probe/read/write/browse. */
export const TRUST_OPTIONS = {
  /** Refuse expired or not yet valid certificates instead of connecting with a warning. */
  "reject-expired": { type: "boolean" },
  /** Do not compare the dialled address with the certificate's IP addresses. */
  "no-address-check": { type: "boolean" },
} as const;

/**
 * Default store: the one Node-RED's connection nodes use by default
 * (`~/.node-red/s7-secure/pki`) when there is a Node-RED user directory, so
 * that a certificate trusted here is trusted there; else `~/.s7-secure/pki`.
 */
export function defaultStoreDir(home: string = os.homedir()): string {
  const nodeRed = path.join(home, ".node-red");
  return fs.existsSync(nodeRed) ? path.join(nodeRed, "s7-secure", "pki") : path.join(home, ".s7-secure", "pki");
}

/** A store named with --store must exist: a typo never becomes a new, empty store. */
export function namedStoreDir(dir: string): string {
  if (!fs.existsSync(dir)) throw new ConfigError(`the store folder does not exist (--store ${dir})`, { file: dir });
  return dir;
}

export function controllerTarget(
  host: string | undefined,
  values: { port?: string; ca?: string[]; store?: string; "password-env"?: string; timeout?: string; "reject-expired"?: boolean; "no-address-check"?: boolean },
  io: CliIO,
): ControllerTarget {
  if (host === undefined || host.trim() === "") throw new ConfigError("missing <host>");
  const rootCAs = (values.ca ?? []).map((file) => {
    try {
      return fs.readFileSync(file, "utf8");
    } catch (err) {
      throw new ConfigError(`cannot read the root CA file: ${(err as Error).message}`, { file });
    }
  });
  const store = new CertificateStore(values.store === undefined ? defaultStoreDir() : namedStoreDir(values.store));
  let password: string | undefined;
  if (values["password-env"] !== undefined) {
    password = io.env[values["password-env"]];
    if (password === undefined) throw new ConfigError(`environment variable ${values["password-env"]} (--password-env) is not set`);
  }
  return {
    host: host.trim(),
    port: values.port === undefined ? CONNECTION_DEFAULTS.port : parsePort(values.port, "--port"),
    store,
    verifier: new DeviceCertificateVerifier({ store, rootCAs, rejectExpired: values["reject-expired"] ?? false, checkAddress: !(values["no-address-check"] ?? false) }),
    ...(password === undefined ? {} : { password }),
    timeoutMs: numberOption("timeout", values.timeout, CONNECTION_DEFAULTS.connectTimeoutMs),
  };
}
