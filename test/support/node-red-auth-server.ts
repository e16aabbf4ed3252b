/**
 * A child process for the permission test: Node-RED with adminAuth (an
 * "admin" token with every permission, a "viewer" token with read only),
 * this package installed, one connection to a simulated controller.
 * Prints `READY <port>`; stops on SIGTERM. (A Node-RED runtime can be
 * initialised once per process, so this runs beside the mocha process.)
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { Simulator } from "../../src/simulator/simulator.js";
import { defaultSimulatorConfig } from "../../src/simulator/config.js";

const ROOT = path.resolve(__dirname, "..", "..", "..");

async function main(): Promise<void> {
  const sim = await Simulator.start(defaultSimulatorConfig());
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "s7-auth-"));
  fs.mkdirSync(path.join(userDir, "node_modules", "@s7-secure"), { recursive: true });
  fs.symlinkSync(ROOT, path.join(userDir, "node_modules", "@s7-secure", "node-red-s7"), "dir");
  fs.writeFileSync(path.join(userDir, "package.json"), JSON.stringify({ name: "s7-auth-test", private: true, dependencies: { "@s7-secure/node-red-s7": "*" } }));
  fs.writeFileSync(
    path.join(userDir, "flows.json"),
    JSON.stringify([{ id: "c1", type: "s7-secure-connection", name: "PLC1", host: "127.0.0.1", port: sim.port, storeDir: "", forceConnectionState: 1, connectTimeout: 3000, requestTimeout: 3000, reconnectMin: 200, reconnectMax: 500 }]),
  );
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require("node-red") as { init(s: http.Server, o: object): void; start(): Promise<void>; stop(): Promise<void>; httpAdmin: http.RequestListener };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const express = require("express") as () => http.RequestListener & { use(p: string, h: http.RequestListener): void };
  const app = express();
  const server = http.createServer(app);
  const users: Record<string, { username: string; permissions: string | string[] }> = {
    "admin-token": { username: "admin", permissions: "*" },
    "viewer-token": { username: "viewer", permissions: "read" },
  };
  RED.init(server, {
    userDir,
    flowFile: "flows.json",
    httpAdminRoot: "/",
    credentialSecret: false,
    telemetry: { enabled: false },
    logging: { console: { level: process.env.S7_AUTH_LOG ?? "off" } },
    adminAuth: { type: "credentials", users: [], tokens: async (token: string) => users[token] ?? null },
  });
  app.use("/", RED.httpAdmin);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  await RED.start();
  process.stdout.write(`READY ${(server.address() as { port: number }).port}\n`);
  process.once("SIGTERM", () => {
    void (async () => {
      await RED.stop().catch(() => undefined);
      server.closeAllConnections();
      server.close();
      await sim.stop();
      fs.rmSync(userDir, { recursive: true, force: true });
      process.exit(0);
    })();
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
