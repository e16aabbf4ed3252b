/**
 * `npm start`: the whole product without hardware. Two simulated controllers
 * on 127.0.0.1 (PLC1 self-signed, PLC2 issued by a demo root CA that the
 * example connection imports) and an embedded Node-RED on
 * http://127.0.0.1:1880 with this package and the example flows deployed.
 * Everything the demo writes stays in `.demo/` (ignored by git); the flows
 * a user deploys there are kept across restarts. Ctrl-C stops it all.
 *
 * Options: `--port N` (the editor's port, default 1880), `--reset` (deploy
 * the example flows again, replacing the kept ones).
 * Environment (for tests): S7_DEMO_DIR, S7_DEMO_PORT, S7_DEMO_PLC1_PORT, S7_DEMO_PLC2_PORT.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { CONNECTION_DEFAULTS } from "../src/client/defaults.js";
import { Simulator } from "../src/simulator/simulator.js";
import { loadSimulatorConfig } from "../src/simulator/config.js";

const ROOT = path.resolve(__dirname, "..", "..");
const DEMO = path.resolve(process.env.S7_DEMO_DIR ?? path.join(ROOT, ".demo"));
const USER_DIR = path.join(DEMO, "node-red");
const PACKAGE = "@s7-secure/node-red-s7";
const CONNECTION_ID = "demo.plc1";

interface DemoOptions {
  port: number;
  reset: boolean;
}

function demoOptions(argv: string[]): DemoOptions {
  const { values } = parseArgs({ args: argv, options: { port: { type: "string" }, reset: { type: "boolean" }, help: { type: "boolean" } }, strict: true });
  if (values.help) {
    console.log("usage: npm start -- [--port N] [--reset]\n  --port N   the editor's port (default 1880)\n  --reset    deploy the example flows again, replacing the flows kept in .demo/");
    process.exit(0);
  }
  const text = values.port ?? process.env.S7_DEMO_PORT ?? "1880";
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new Error(`--port ${text} is not a port number (0…65535)`);
  return { port, reset: values.reset === true };
}

/** Resolves when `port` can be listened on, with a one-line reason when it cannot. */
function checkPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", (err: NodeJS.ErrnoException) => reject(portError(port, err)));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve()));
  });
}

function portError(port: number, err: NodeJS.ErrnoException): Error {
  if (err.code === "EADDRINUSE") return new Error(`port ${port} is already in use (another Node-RED?); choose another with: npm start -- --port N`);
  return new Error(`cannot listen on 127.0.0.1:${port}: ${err.message}; choose another port with: npm start -- --port N`);
}

interface FlowNode {
  id: string;
  type: string;
  z?: string;
  connection?: string;
  [key: string]: unknown;
}

async function startControllers(): Promise<[Simulator, Simulator]> {
  const load = (file: string, name: string, port: string | undefined): ReturnType<typeof loadSimulatorConfig> => {
    const c = loadSimulatorConfig(path.join(ROOT, "docs", "simulator", file));
    c.certificate = { ...c.certificate, dir: path.join(DEMO, "pki", name) };
    if (port !== undefined) c.port = Number(port);
    return c;
  };
  const plc1 = await Simulator.start(load("plc1.json", "plc1", process.env.S7_DEMO_PLC1_PORT));
  const plc2 = await Simulator.start(load("plc2.json", "plc2", process.env.S7_DEMO_PLC2_PORT));
  return [plc1, plc2];
}

/** The package as Node-RED finds installed packages: a link in the user directory's node_modules. */
function installPackage(): void {
  const scope = path.join(USER_DIR, "node_modules", "@s7-secure");
  fs.mkdirSync(scope, { recursive: true });
  const link = path.join(scope, "node-red-s7");
  try {
    if (fs.realpathSync(link) === fs.realpathSync(ROOT)) return;
    fs.rmSync(link, { recursive: true, force: true });
  } catch {
    // no link yet
  }
  fs.symlinkSync(ROOT, link, "dir");
  const pkg = path.join(USER_DIR, "package.json");
  fs.writeFileSync(pkg, JSON.stringify({ name: "s7-secure-demo", private: true, dependencies: { [PACKAGE]: "file:../.." } }, null, 2) + "\n");
}

/** The example flows on their tabs, sharing one PLC1 connection. */
function demoFlows(plc1: Simulator, plc2: Simulator): FlowNode[] {
  const files = ["read-write.json", "connection-change.json", "cert-trust.json", "on-change.json", "alarms.json"];
  const flows: FlowNode[] = [];
  const connectionId = CONNECTION_ID;
  for (const file of files) {
    const nodes = JSON.parse(fs.readFileSync(path.join(ROOT, "examples", file), "utf8")) as FlowNode[];
    for (const n of nodes) {
      if (n.type === "s7-secure-connection") continue;
      if (typeof n.connection === "string") n.connection = connectionId;
      if (n.type === "inject" && typeof n.payload === "string" && n.payload.includes("Port=11103")) n.payload = n.payload.replace("11103", String(plc2.port));
      flows.push(n);
    }
  }
  flows.push({
    id: connectionId,
    type: "s7-secure-connection",
    name: "PLC1",
    host: "127.0.0.1",
    port: plc1.port,
    accessPoint: "",
    forceConnectionState: 1,
    useAlternativeAddress: 0,
    alternativeAddress: "",
    storeDir: "",
    rootCAs: "",
    rootCAFiles: "s7-secure/demo-root-ca.pem",
    rejectExpired: false,
    checkAddress: true,
    connectTimeout: CONNECTION_DEFAULTS.connectTimeoutMs,
    requestTimeout: CONNECTION_DEFAULTS.requestTimeoutMs,
    reconnectMin: CONNECTION_DEFAULTS.reconnectMinMs,
    reconnectMax: 10000, // shorter than the default: the demo's controllers come and go
  });
  return flows;
}

/**
 * The flows to run: the user's own from the last run, or the examples on a
 * first start or with --reset. Kept flows get the demo connection pointed at
 * this run's PLC1 (its port may differ from the last run).
 */
function prepareFlows(flowFile: string, reset: boolean, plc1: Simulator, plc2: Simulator): "kept" | "examples" {
  if (!reset && fs.existsSync(flowFile)) {
    try {
      const kept = JSON.parse(fs.readFileSync(flowFile, "utf8")) as unknown;
      if (Array.isArray(kept)) {
        const flows = kept as FlowNode[];
        for (const n of flows) if (n.id === CONNECTION_ID && n.type === "s7-secure-connection") Object.assign(n, { host: "127.0.0.1", port: plc1.port });
        fs.writeFileSync(flowFile, JSON.stringify(flows, null, 2));
        return "kept";
      }
    } catch {
      // not JSON: replaced by the examples below
    }
  }
  fs.writeFileSync(flowFile, JSON.stringify(demoFlows(plc1, plc2), null, 2));
  return "examples";
}

async function main(): Promise<void> {
  const options = demoOptions(process.argv.slice(2));
  const UI_PORT = options.port;
  await checkPortFree(UI_PORT);
  fs.mkdirSync(USER_DIR, { recursive: true });
  const [plc1, plc2] = await startControllers();
  installPackage();
  fs.mkdirSync(path.join(USER_DIR, "s7-secure"), { recursive: true });
  fs.writeFileSync(path.join(USER_DIR, "s7-secure", "demo-root-ca.pem"), plc2.caCertificatePem ?? "");
  const flowFile = path.join(USER_DIR, "flows.json");
  const flows = prepareFlows(flowFile, options.reset, plc1, plc2);

  // Node-RED's own dependencies provide express.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require("node-red") as {
    init(server: http.Server, settings: object): void;
    start(): Promise<void>;
    stop(): Promise<void>;
    httpAdmin: http.RequestListener;
    httpNode: http.RequestListener;
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const express = require("express") as () => http.RequestListener & { use(path: string, handler: http.RequestListener): void };
  const app = express();
  const server = http.createServer(app);
  RED.init(server, {
    userDir: USER_DIR,
    flowFile: "flows.json",
    httpAdminRoot: "/",
    httpNodeRoot: "/api",
    uiHost: "127.0.0.1",
    uiPort: UI_PORT,
    credentialSecret: false,
    editorTheme: { tours: false, projects: { enabled: false } },
    telemetry: { enabled: false },
    logging: { console: { level: "warn" } },
  });
  app.use("/", RED.httpAdmin);
  app.use("/api", RED.httpNode);
  // Listen only once the runtime runs, so that no early page load meets a runtime that has not started.
  await RED.start();
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => reject(portError(UI_PORT, err)));
    server.listen(UI_PORT, "127.0.0.1", resolve);
  });
  const listening = (server.address() as net.AddressInfo).port;

  const store = path.join(USER_DIR, "s7-secure", "pki");
  console.log(`
S7 Secure demo
  Node-RED editor   http://127.0.0.1:${listening}/   (another port: npm start -- --port N)
  Flows             ${flows === "kept" ? `yours from the last run, kept in ${flowFile}; npm start -- --reset restores the examples` : `the examples, in ${flowFile}; what you deploy is kept across restarts`}
  PLC1 (simulated)  127.0.0.1:${plc1.port}  self-signed certificate, SHA-256 ${plc1.fingerprint256}
  PLC2 (simulated)  127.0.0.1:${plc2.port}  certificate from the demo root CA (imported by the connection)

What to try
  1. PLC1's certificate is unknown: it lands in ${store}/untrusted/ and the nodes show "untrusted cert".
     Trust it in the editor (double-click a node → the PLC1 connection → Security → Trust),
     with the "S7 certificate trust" tab, or here:  npx s7-secure certs trust ${plc1.fingerprint256} --store ${store}
  2. The "S7 read and write" tab then shows live values in the debug sidebar; click the inject nodes to write.
  3. "S7 connection change": set AlternativeAddress, then "switch" — Line.Name reads "PLC2"; "switchBack" returns.
Ctrl-C stops everything.
`);

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log("stopping…");
    await RED.stop().catch(() => undefined);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections?.();
    await plc1.stop();
    await plc2.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  // The simulators and the runtime may hold the event loop open.
  process.exit(1);
});
