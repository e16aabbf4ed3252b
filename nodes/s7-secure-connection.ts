/**
 * s7-secure-connection (config node): one pooled connection per controller,
 * shared by every node that names it; the certificate store and verifier of
 * its trust settings; the admin endpoints the editor uses (certificate list,
 * one-click trust, tag browser). Behaviour lives in src/; this file maps
 * configuration and events.
 */
import * as path from "node:path";
import { S7Error } from "../src/errors.js";
import type { ConnectionStatus } from "../src/client/controller-connection.js";
import { ControllerConnection } from "../src/client/controller-connection.js";
import { CONNECTION_DEFAULTS } from "../src/client/defaults.js";
import { connectionCertificateLists, offeredFingerprint } from "../src/flow/connection-certificates.js";
import { acquireStore, releaseStore } from "../src/trust/registry.js";
import { MAX_CERTIFICATE_BYTES, type CertificateStore, type StoredCertificate } from "../src/trust/store.js";
import { certificateView, type CertificateView } from "../src/trust/certificate-info.js";
import { DeviceCertificateVerifier, splitPem } from "../src/trust/verifier.js";
import { readRootCaFile } from "../src/trust/root-ca-file.js";
import { ConnectionTagTables, controllerTypes, loadTagTables, tagTableFiles } from "../src/tags/tia/table-names.js";
import { numberProperty, storeDirectory, type ConnectionConfigNode, type HttpRequest, type HttpResponse, type RedNode, type RedRuntime } from "./red.js";

interface ConnectionConfig {
  id: string;
  name?: string;
  host?: string;
  port?: unknown;
  accessPoint?: string;
  forceConnectionState?: unknown;
  useAlternativeAddress?: unknown;
  alternativeAddress?: string;
  storeDir?: string;
  rootCAs?: string;
  rootCAFiles?: string;
  /** TIA Portal tag table exports, one path a line (relative to the user directory). */
  tagTables?: string;
  rejectExpired?: boolean;
  checkAddress?: boolean;
  connectTimeout?: unknown;
  requestTimeout?: unknown;
  reconnectMin?: unknown;
  reconnectMax?: unknown;
}

type ConnectionNode = RedNode & ConnectionConfigNode & { store?: CertificateStore; offered: readonly string[]; controllerTypes: () => Promise<ReadonlyMap<string, string> | undefined> };

function rootCertificates(RED: RedRuntime, config: ConnectionConfig): string[] {
  const pems = splitPem(config.rootCAs ?? "");
  const userDir = RED.settings.userDir ?? process.cwd();
  for (const line of (config.rootCAFiles ?? "").split(/\r?\n/)) {
    const file = line.trim();
    if (file === "") continue;
    pems.push(...readRootCaFile(path.resolve(userDir, file)));
  }
  return pems;
}

function flag(value: unknown, fallback: 0 | 1): 0 | 1 {
  if (value === 0 || value === "0" || value === false) return 0;
  if (value === 1 || value === "1" || value === true) return 1;
  return fallback;
}

const publicCertificate = (c: StoredCertificate): CertificateView & { fingerprint256: string } => certificateView(c);

/** The connection defaults under the editor's property names. */
function editorDefaults(): Record<string, number> {
  const d = CONNECTION_DEFAULTS;
  return { port: d.port, connectTimeout: d.connectTimeoutMs, requestTimeout: d.requestTimeoutMs, reconnectMin: d.reconnectMinMs, reconnectMax: d.reconnectMaxMs };
}

export = function register(RED: RedRuntime): void {
  function S7SecureConnectionNode(this: ConnectionNode, config: ConnectionConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const users = new Map<RedNode, (status: ConnectionStatus) => void>();
    const name = (config.name ?? "").trim() || `${config.host ?? ""}:${String(config.port ?? CONNECTION_DEFAULTS.port)}`;
    let connection: ControllerConnection | undefined;
    let configError: Error | undefined;
    let store: CertificateStore | undefined;
    let tagTables: ConnectionTagTables | undefined;
    /** The status key flow nodes show when the connection could not be created. */
    let errorStatus: "error" | "tagTableError" = "error";
    // The controller's types by tag name, from one browse per connected period (for table disagreements).
    let liveTypes: Promise<ReadonlyMap<string, string> | undefined> | undefined;
    const warned = new Set<string>();
    // Certificates this connection was offered (SHA-256), newest last: its Security tab shows them first.
    const offered: string[] = [];
    let lastLogged: string | undefined;

    Object.defineProperties(node, {
      connectionName: { value: name },
      connection: { get: () => connection },
      offered: { get: () => offered },
      configError: { get: () => configError },
      store: { get: () => store },
      tagTables: { get: () => tagTables },
    });
    node.controllerTypes = () => {
      const live = connection;
      if (live === undefined) return Promise.resolve(undefined);
      // Through a promise, so that a connection closing meanwhile is "unknown", never a failed read.
      liveTypes ??= Promise.resolve()
        .then(() => live.browse())
        .then(
          (result) => controllerTypes(result.tags),
          () => {
            liveTypes = undefined;
            return undefined;
          },
        );
      return liveTypes;
    };
    node.register = (user, onStatus) => {
      users.set(user, onStatus);
      if (connection) onStatus(connection.status);
      else user.status({ fill: "red", shape: "dot", text: `s7-secure-connection.status.${errorStatus}` });
    };
    node.deregister = (user) => {
      users.delete(user);
    };

    try {
      // Tag tables first: a bad file is the node's one configuration error and nothing starts half-loaded.
      const files = tagTableFiles(config.tagTables, RED.settings.userDir ?? process.cwd());
      try {
        if (files.length > 0) tagTables = new ConnectionTagTables(loadTagTables(files));
      } catch (err) {
        errorStatus = "tagTableError";
        throw err;
      }
      store = acquireStore(storeDirectory(RED, config.storeDir));
      const trustStore = store;
      const verifier = new DeviceCertificateVerifier({
        store: trustStore,
        rootCAs: rootCertificates(RED, config),
        rejectExpired: config.rejectExpired === true,
        checkAddress: config.checkAddress !== false,
      });
      const credentials = node.credentials ?? {};
      connection = new ControllerConnection(
        {
          name,
          host: config.host ?? "",
          port: numberProperty(config.port, CONNECTION_DEFAULTS.port),
          accessPoint: config.accessPoint ?? "",
          forceConnectionState: flag(config.forceConnectionState, 1),
          useAlternativeAddress: flag(config.useAlternativeAddress, 0),
          alternativeAddress: config.alternativeAddress ?? "",
          connectTimeoutMs: numberProperty(config.connectTimeout, CONNECTION_DEFAULTS.connectTimeoutMs),
          requestTimeoutMs: numberProperty(config.requestTimeout, CONNECTION_DEFAULTS.requestTimeoutMs),
          reconnectMinMs: numberProperty(config.reconnectMin, CONNECTION_DEFAULTS.reconnectMinMs),
          reconnectMaxMs: numberProperty(config.reconnectMax, CONNECTION_DEFAULTS.reconnectMaxMs),
          ...(credentials.username ? { username: credentials.username } : {}),
          ...(credentials.password ? { password: credentials.password } : {}),
        },
        {
          verifier,
          onTrustChange: (listener) => {
            trustStore.on("changed", listener);
            return () => trustStore.off("changed", listener);
          },
        },
      );
      // A connection waiting for trust retries as soon as a certificate is trusted.
      const retry = (): void => connection?.retryNow();
      trustStore.on("trusted", retry);
      trustStore.on("crl-changed", retry);
      trustStore.on("issuers-changed", retry);
      // Store problems (a FIFO, an oversized file, untrusted/ full) reach the log; their texts are escaped.
      const storeWarning = (text: string): void => node.warn(text);
      trustStore.on("warning", storeWarning);
      node.on("close", () => {
        trustStore.off("trusted", retry);
        trustStore.off("crl-changed", retry);
        trustStore.off("issuers-changed", retry);
        trustStore.off("warning", storeWarning);
      });
      // What a session tolerated (IntegrityId mismatch, negative ReturnValue): one line per session and kind.
      connection.on("diagnostic", (line: string) => node.warn(line));
      connection.on("status", (status: ConnectionStatus) => {
        const fingerprint = offeredFingerprint(status);
        if (fingerprint !== undefined && !offered.includes(fingerprint)) offered.push(fingerprint);
        for (const warning of status.info?.verdict.warnings ?? []) {
          const key = `${status.info!.verdict.certificate.fingerprint256}:${warning.code}`;
          if (!warned.has(key)) {
            warned.add(key);
            node.warn(`${name}: ${warning.message}`);
          }
        }
        // Log a failure once, not on every retry of the same failure.
        if (status.state === "reconnect-wait" && status.lastError && status.lastError.message !== lastLogged) {
          lastLogged = status.lastError.message;
          node.log(`${name}: ${status.lastError.message}`);
        }
        if (status.state === "connected") lastLogged = undefined;
        // A new connected period may run another program: compare with the tables afresh.
        if (status.state !== "connected") liveTypes = undefined;
        for (const cb of users.values()) cb(status);
      });
      connection.start();
    } catch (err) {
      configError = err instanceof Error ? err : new Error(String(err));
      tagTables = undefined;
      node.error(configError.message);
    }

    node.on("close", (_removed, done) => {
      const finish = (): void => {
        if (store) releaseStore(store);
        store = undefined;
        users.clear();
        done();
      };
      if (connection) connection.close().then(finish, finish);
      else finish();
    });
  }

  RED.nodes.registerType("s7-secure-connection", S7SecureConnectionNode, {
    credentials: { username: { type: "text" }, password: { type: "password" } },
    // The editor dialog takes its defaults from here (RED.settings.s7SecureConnectionDefaults).
    settings: { s7SecureConnectionDefaults: { value: editorDefaults(), exportable: true } },
  });

  // --- admin endpoints (docs/EDITOR.md) -------------------------------------
  // Only deployed connections are reachable, by id; an address from the request is never dialled.

  const deployed = (req: HttpRequest, res: HttpResponse): ConnectionNode | undefined => {
    const n = RED.nodes.getNode(req.params.id ?? "") as Partial<ConnectionNode> | null;
    if (!n || typeof n.register !== "function") {
      res.status(404).json({ error: RED._("s7-secure-connection.errors.notDeployed", { id: req.params.id ?? "" }) });
      return undefined;
    }
    return n as ConnectionNode;
  };
  const fail = (res: HttpResponse, err: unknown, status = 500): void => {
    res.status(err instanceof S7Error && (err.code === "ERR_S7_STORE" || err.code === "ERR_S7_VALUE") ? 400 : status).json({ error: err instanceof Error ? err.message : String(err) });
  };

  RED.httpAdmin.get("/s7-secure/:id/certificates", RED.auth.needsPermission("s7-secure.write"), (req, res) => {
    const n = deployed(req, res);
    if (!n) return;
    if (!n.store) return fail(res, n.configError ?? new Error("no certificate store"));
    n.store.snapshot().then(
      (snap) => {
        const lists = connectionCertificateLists({ trusted: snap.trusted.map(publicCertificate), untrusted: snap.untrusted.map(publicCertificate) }, n.offered);
        res.json({
          store: n.store?.dir,
          untrusted: snap.untrusted.map(publicCertificate),
          trusted: snap.trusted.map(publicCertificate),
          issuers: snap.issuers.map(publicCertificate),
          thisConnection: lists.thisConnection,
          otherTrusted: lists.trusted,
          otherUntrusted: lists.otherUntrusted,
          problems: snap.problems,
        });
      },
      (err: unknown) => fail(res, err),
    );
  });

  // Trust moves a certificate from untrusted/ to trusted/ (and the connection retries at once); untrust moves it back.
  for (const action of ["trust", "untrust"] as const) {
    RED.httpAdmin.post(`/s7-secure/:id/certificates/${action}`, RED.auth.needsPermission("s7-secure.write"), (req, res) => {
      const n = deployed(req, res);
      if (!n) return;
      const fingerprint = (req.body as { fingerprint256?: unknown } | undefined)?.fingerprint256;
      if (typeof fingerprint !== "string" || fingerprint.trim() === "") return fail(res, new S7Error("ERR_S7_VALUE", "fingerprint256 missing"), 400);
      if (!n.store) return fail(res, n.configError ?? new Error("no certificate store"));
      n.store[action](fingerprint).then(
        (c) => {
          if (action === "trust") n.connection?.retryNow();
          res.json({ ok: true, file: c.file });
        },
        (err: unknown) => fail(res, err),
      );
    });
  }

  // Import of a certificate file (TIA Portal export) read by the browser: without `confirm` the
  // plan (subject, SHA-256, validity, destination) and nothing written; with `confirm: true` the import.
  RED.httpAdmin.post("/s7-secure/:id/certificates/import", RED.auth.needsPermission("s7-secure.write"), (req, res) => {
    const n = deployed(req, res);
    if (!n) return;
    const body = (req.body ?? {}) as { data?: unknown; name?: unknown; confirm?: unknown };
    const name = typeof body.name === "string" && body.name.trim() !== "" ? path.basename(body.name.trim()) : "certificate file";
    if (typeof body.data !== "string" || body.data === "") return fail(res, new S7Error("ERR_S7_VALUE", "data (the file, base64) missing"), 400);
    const data = Buffer.from(body.data, "base64");
    if (data.length > MAX_CERTIFICATE_BYTES) return fail(res, new S7Error("ERR_S7_STORE", `${name}: ${data.length} bytes, larger than the limit of ${MAX_CERTIFICATE_BYTES} bytes; not imported`), 400);
    if (!n.store) return fail(res, n.configError ?? new Error("no certificate store"));
    const store = n.store;
    const work = body.confirm === true ? store.importCertificate(data, name) : store.planImport(data, name);
    work.then(
      (result) => {
        const { der: _der, ...shown } = result;
        if (body.confirm === true) n.connection?.retryNow();
        res.json({ ...shown, imported: body.confirm === true });
      },
      (err: unknown) => res.status(400).json({ error: err instanceof Error ? err.message : String(err) }),
    );
  });

  // The live symbol tree, and beside it the connection's tag tables (compared with the live tree);
  // with tag tables and the controller unreachable, the tables alone (200, "offline" says why).
  RED.httpAdmin.get("/s7-secure/:id/browse", RED.auth.needsPermission("s7-secure.write"), (req, res) => {
    const n = deployed(req, res);
    if (!n) return;
    if (!n.connection) return fail(res, n.configError ?? new Error("connection not configured"));
    const tables = n.tagTables;
    n.connection.browse().then(
      (result) => res.json({ plc: { ...result.plc, firmware: result.plc.firmware ? `V${result.plc.firmware}` : "" }, tags: result.tags, table: tables?.pickerEntries(result.tags) ?? [] }),
      (err: unknown) => {
        if (tables === undefined) return fail(res, err, 502);
        res.json({ plc: null, tags: [], offline: err instanceof Error ? err.message : String(err), table: tables.pickerEntries() });
      },
    );
  });
};
