/**
 * `npm start`: the whole product without hardware. Two simulated controllers
 * on 127.0.0.1 (PLC1 self-signed, PLC2 issued by a demo root CA that the
 * example connection imports) and an embedded Node-RED on
 * http://127.0.0.1:1880 with this package and the example flows deployed.
 * Everything the demo writes stays in `.demo/` (ignored by git). Ctrl-C
 * stops it all.
 *
 * Environment (for tests): S7_DEMO_DIR, S7_DEMO_PORT, S7_DEMO_PLC1_PORT, S7_DEMO_PLC2_PORT.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { Simulator } from "../src/simulator/simulator.js";
import { loadSimulatorConfig } from "../src/simulator/config.js";

const ROOT = path.resolve(__dirname, "..", "..");
const DEMO = path.resolve(process.env.S7_DEMO_DIR ?? path.join(ROOT, ".demo"));
const USER_DIR = path.join(DEMO, "node-red");
const UI_PORT = Number(process.env.S7_DEMO_PORT ?? 1880);
const PACKAGE = "@s7-secure/node-red-s7";

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
  const files = ["read-write.json", "connection-change.json", "cert-trust.json", "on-change.json"];
  const flows: FlowNode[] = [];
  const connectionId = "demo.plc1";
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
    connectTimeout: 10000,
    requestTimeout: 5000,
    reconnectMin: 1000,
    reconnectMax: 10000,
  });
  return flows;
}

async function main(): Promise<void> {
  fs.mkdirSync(USER_DIR, { recursive: true });
  const [plc1, plc2] = await startControllers();
  installPackage();
  fs.mkdirSync(path.join(USER_DIR, "s7-secure"), { recursive: true });
  fs.writeFileSync(path.join(USER_DIR, "s7-secure", "demo-root-ca.pem"), plc2.caCertificatePem ?? "");
  const flowFile = path.join(USER_DIR, "flows.json");
  fs.writeFileSync(flowFile, JSON.stringify(demoFlows(plc1, plc2), null, 2));

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
  await new Promise<void>((resolve) => server.listen(UI_PORT, "127.0.0.1", resolve));
  await RED.start();

  const store = path.join(USER_DIR, "s7-secure", "pki");
  console.log(`
S7 Secure demo
  Node-RED editor   http://127.0.0.1:${UI_PORT}/
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
  process.exit(1);
});
