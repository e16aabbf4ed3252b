/**
 * The library: one pooled, reconnecting connection to an S7-1200/1500 with
 * Secure Communication, the same one the Node-RED nodes use.
 *
 *     const { connect } = require("@s7-secure/node-red-s7");
 *     const plc = await connect({ host: "192.0.2.10", storeDir: "./pki" });
 *     const [speed] = await plc.read(["Line.Speed"]);
 *     await plc.write({ "Line.Setpoint": 1500 });
 *     await plc.close();
 *
 * Reads and writes resolve per tag (`{ tag, ok, value }` or
 * `{ tag, ok: false, error }`); failures of the connection itself reject
 * with one of the typed errors exported below.
 */
import { ControllerConnection, type BrowseResult } from "./client/controller-connection.js";
import { CONNECTION_DEFAULTS } from "./client/defaults.js";
import type { ReadOutcome, WriteOutcome } from "./client/results.js";
import { ConfigError, S7Error } from "./errors.js";
import { acquireStore, releaseStore } from "./trust/registry.js";
import { DeviceCertificateVerifier, splitPem } from "./trust/verifier.js";

export {
  S7Error,
  ConfigError,
  ConnectionError,
  DecodeError,
  ItemError,
  PlcError,
  ProtocolError,
  TagError,
  TimeoutError,
  TlsError,
  ValueError,
  type S7ErrorCode,
} from "./errors.js";
export type { ReadOutcome, WriteOutcome, SessionInfo } from "./client/results.js";
export type { BrowseResult } from "./client/controller-connection.js";
export type { SymbolNode } from "./tags/symbols.js";
export { CONNECTION_DEFAULTS, type ConnectionDefaults } from "./client/defaults.js";

/** What the connection reports about itself (state, endpoint, TLS, certificate verdict, identity). */
export type ConnectionStatusView = ControllerConnection["status"];

export interface ConnectOptions {
  host: string;
  /** Default 102. */
  port?: number;
  /** The device certificate store (trusted/, untrusted/, trusted/crl/); created when missing. */
  storeDir: string;
  /** Root CA certificates (PEM, one string or several) that issue controller certificates. */
  rootCAs?: string | string[];
  /** Refuse an expired certificate (default: connect with a warning). */
  rejectExpired?: boolean;
  /** Check the controller's address against its certificate (default true). */
  checkAddress?: boolean;
  /** The controller's password (legitimation), when it has one. */
  password?: string;
  username?: string;
  /** Connection name used in messages and system tags (default host:port). */
  name?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

export interface Controller {
  /** Reads tags; one outcome per tag, in order. */
  read(tags: readonly string[]): Promise<ReadOutcome[]>;
  /** Writes `{ tag: value, … }`; values are checked before anything is sent; one outcome per tag. */
  write(values: Readonly<Record<string, unknown>>): Promise<WriteOutcome[]>;
  /** The controller's tag tree. */
  browse(): Promise<BrowseResult>;
  /** Connection state, address, TLS, certificate verdict and controller identity. */
  readonly status: ConnectionStatusView;
  close(): Promise<void>;
}

function rootCertificates(rootCAs: string | string[] | undefined): string[] {
  const texts = rootCAs === undefined ? [] : Array.isArray(rootCAs) ? rootCAs : [rootCAs];
  return texts.flatMap((text) => {
    const pems = splitPem(text);
    if (pems.length === 0) throw new ConfigError("rootCAs: no PEM certificate in the text given");
    return pems;
  });
}

/**
 * Connects and resolves once the first session is up; rejects with the first
 * failure (an untrusted certificate, a refused port, …) and leaves nothing open.
 */
export async function connect(options: ConnectOptions): Promise<Controller> {
  if (typeof options.host !== "string" || options.host.trim() === "") throw new ConfigError("connect: host missing");
  if (typeof options.storeDir !== "string" || options.storeDir.trim() === "") throw new ConfigError("connect: storeDir missing");
  const port = options.port ?? CONNECTION_DEFAULTS.port;
  const rootCAs = rootCertificates(options.rootCAs);
  const store = acquireStore(options.storeDir);
  let connection: ControllerConnection;
  try {
    const verifier = new DeviceCertificateVerifier({ store, rootCAs, rejectExpired: options.rejectExpired === true, checkAddress: options.checkAddress !== false });
    connection = new ControllerConnection(
      {
        name: options.name ?? `${options.host.trim()}:${port}`,
        host: options.host,
        port,
        accessPoint: "",
        forceConnectionState: 1,
        useAlternativeAddress: 0,
        alternativeAddress: "",
        connectTimeoutMs: options.connectTimeoutMs ?? CONNECTION_DEFAULTS.connectTimeoutMs,
        requestTimeoutMs: options.requestTimeoutMs ?? CONNECTION_DEFAULTS.requestTimeoutMs,
        reconnectMinMs: options.reconnectMinMs ?? CONNECTION_DEFAULTS.reconnectMinMs,
        reconnectMaxMs: options.reconnectMaxMs ?? CONNECTION_DEFAULTS.reconnectMaxMs,
        ...(options.username === undefined ? {} : { username: options.username }),
        ...(options.password === undefined ? {} : { password: options.password }),
      },
      {
        verifier,
        onTrustChange: (listener) => {
          store.on("changed", listener);
          return () => store.off("changed", listener);
        },
      },
    );
  } catch (err) {
    releaseStore(store);
    throw err;
  }
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await connection.close();
    releaseStore(store);
  };
  await new Promise<void>((resolve, reject) => {
    const onStatus = (status: ConnectionStatusView): void => {
      if (status.state === "connected") {
        connection.off("status", onStatus);
        resolve();
      } else if (status.state === "reconnect-wait" || status.state === "disconnected") {
        connection.off("status", onStatus);
        const error = status.lastError ?? new S7Error("ERR_S7_CONNECT", `${options.host}:${port}: not connected (${status.state})`);
        close().then(() => reject(error), () => reject(error));
      }
    };
    connection.on("status", onStatus);
    connection.start();
  });
  return {
    read: (tags) => connection.read(tags),
    write: (values) => connection.write(Object.entries(values).map(([tag, value]) => ({ tag, value }))),
    browse: () => connection.browse(),
    get status() {
      return connection.status;
    },
    close,
  };
}
