/**
 * node-red-node-test-helper set-up shared by the node tests. The runtime is
 * the project's node-red, or the one named by S7_TEST_NODE_RED (the CI's
 * compatibility runs for Node-RED 3.1 and 5).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Simulator } from "../../src/simulator/simulator.js";
import { defaultSimulatorConfig, type SimulatorConfig } from "../../src/simulator/config.js";
import { X509Certificate } from "node:crypto";

export interface Helper {
  init(runtimePath: string, settings?: object): void;
  settings(s: object): object;
  load(nodes: unknown[], flow: object[], credentials?: object): Promise<void>;
  unload(): Promise<void>;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  getNode(id: string): NodeUnderTest;
  request(): SuperTest;
}
export interface SuperTest {
  get(url: string): SuperRequest;
  post(url: string): SuperRequest;
}
export interface SuperRequest extends PromiseLike<{ status: number; body: unknown }> {
  send(body: object): SuperRequest;
  set(header: string, value: string): SuperRequest;
}
export interface NodeUnderTest {
  id: string;
  on(event: "input", listener: (msg: Record<string, unknown>) => void): void;
  receive(msg: Record<string, unknown>): void;
  status: { callCount?: number; args?: unknown[][]; lastCall?: { args: unknown[] } } & ((...args: unknown[]) => void);
  [key: string]: unknown;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const helper = require("node-red-node-test-helper") as Helper;
const runtime = process.env.S7_TEST_NODE_RED ?? require.resolve("node-red");
helper.init(runtime);

const DIST = path.resolve(__dirname, "..", "..", "nodes");
/* eslint-disable @typescript-eslint/no-require-imports */
export const NODES = ["s7-secure-connection", "s7-read", "s7-write", "s7-switch-connection", "cert-trust"].map((n) => require(path.join(DIST, `${n}.js`)) as unknown);

/** The flow tab the node tests put their nodes on. */
export const TAB = { id: "t1", type: "tab", label: "test" };

/** A node on TAB (config nodes stay global). */
export const inFlow = <T extends Record<string, unknown>>(n: T): T & { z: string } => ({ ...n, z: TAB.id });

/** Loads the package's nodes and `flow` on TAB, every node but the connections placed on it. */
export async function loadFlow(flow: Record<string, unknown>[], credentials: object = {}, nodes: unknown[] = NODES): Promise<void> {
  await helper.load(nodes, [TAB, ...flow.map((n) => (n.type === "s7-secure-connection" ? n : inFlow(n)))], credentials);
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Puts a simulator's certificate into trusted/ of a store folder (as a person would). */
export function trustSimulator(storeDir: string, sim: Simulator): void {
  fs.mkdirSync(path.join(storeDir, "trusted", "crl"), { recursive: true });
  fs.mkdirSync(path.join(storeDir, "untrusted"), { recursive: true });
  fs.writeFileSync(path.join(storeDir, "trusted", `${sim.name}.der`), new X509Certificate(sim.certificatePem).raw);
}

export function simConfig(name: string, extra: Partial<SimulatorConfig> = {}): SimulatorConfig {
  const c = defaultSimulatorConfig();
  c.name = name;
  const line = c.dataBlocks[0]!.members.find((m) => m.name === "Name")!;
  line.value = name;
  return { ...c, ...extra };
}

/** A connection config node pointing at a simulator. */
export function connectionNode(id: string, name: string, sim: Simulator, storeDir: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    type: "s7-secure-connection",
    name,
    host: "127.0.0.1",
    port: sim.port,
    accessPoint: "",
    forceConnectionState: 1,
    useAlternativeAddress: 0,
    alternativeAddress: "",
    storeDir,
    rootCAs: "",
    rootCAFiles: "",
    rejectExpired: false,
    checkAddress: true,
    connectTimeout: 5000,
    requestTimeout: 3000,
    reconnectMin: 100,
    reconnectMax: 500,
    ...extra,
  };
}

/** Every message a helper node receives from now on, in order. */
export function collect(node: NodeUnderTest): Record<string, unknown>[] {
  const seen: Record<string, unknown>[] = [];
  node.on("input", (msg) => seen.push(msg));
  return seen;
}

/** Resolves with the next message a helper node receives (optionally the first matching one). */
export function nextMessage(node: NodeUnderTest, match: (msg: Record<string, unknown>) => boolean = () => true, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching message at ${node.id} within ${timeoutMs} ms`)), timeoutMs);
    node.on("input", (msg) => {
      if (!match(msg)) return;
      clearTimeout(timer);
      resolve(msg);
    });
  });
}

/** Waits until `check` is true (polling), or fails naming what was awaited. */
export async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
