/**
 * A Node-RED runtime with its admin API on 127.0.0.1, run as a child process
 * by the examples test: the package is installed in the user directory as a
 * user would install it, and every message a debug node receives is passed
 * to the parent over IPC. Argument: the user directory.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..", "..");

interface Runtime {
  init(server: http.Server, settings: object): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  httpAdmin: http.RequestListener;
  hooks: { add(name: string, hook: (event: { destination: { node: { id: string; type: string } }; msg: unknown }) => void): void };
}

/** JSON that keeps what a debug node would show: BigInt and Buffers as text and bytes. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v instanceof Error ? { name: v.name, message: v.message } : v)));
}

async function main(): Promise<void> {
  const userDir = process.argv[2];
  if (userDir === undefined) throw new Error("usage: runtime-host <userDir>");
  const scope = path.join(userDir, "node_modules", "@s7-secure");
  fs.mkdirSync(scope, { recursive: true });
  fs.symlinkSync(ROOT, path.join(scope, "node-red-s7"), "dir");
  fs.writeFileSync(path.join(userDir, "package.json"), JSON.stringify({ name: "examples-test", private: true, dependencies: { "@s7-secure/node-red-s7": "*" } }));

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require("node-red") as Runtime;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const express = require("express") as () => http.RequestListener & { use(path: string, handler: http.RequestListener): void };
  const app = express();
  const server = http.createServer(app);
  RED.init(server, {
    userDir,
    flowFile: "flows.json",
    httpAdminRoot: "/",
    credentialSecret: false,
    editorTheme: { tours: false, projects: { enabled: false } },
    telemetry: { enabled: false },
    logging: { console: { level: "warn" } },
  });
  app.use("/", RED.httpAdmin);
  RED.hooks.add("onReceive", (event) => {
    if (event.destination.node.type === "debug") process.send?.({ debug: event.destination.node.id, msg: plain(event.msg) });
  });
  await RED.start();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.send?.({ listening: (server.address() as { port: number }).port });
  process.on("disconnect", () => {
    void RED.stop()
      .catch(() => undefined)
      .finally(() => {
        server.closeAllConnections();
        server.close(() => process.exit(0));
      });
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : String(err));
  process.exit(1);
});
