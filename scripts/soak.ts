/**
 * `npm run soak -- --minutes N [--tags T] [--controllers C]`: thousands of
 * tags polled through s7-read nodes in a real Node-RED runtime against
 * simulated controllers, with faults injected on a schedule (connection
 * cuts, slow answers). Every trigger must come back as a value set or as an
 * error; every value must be the one the controller holds for that tag.
 * Prints lost and mismatched responses (must be 0), the heap band,
 * event-loop delay p99 and reconnect times; exits non-zero on any finding.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { X509Certificate } from "node:crypto";
import { Simulator } from "../src/simulator/simulator.js";
import type { SimulatorConfig } from "../src/simulator/config.js";

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : fallback;
}

const MINUTES = option("minutes", 2);
const TAGS = option("tags", 2000);
const CONTROLLERS = option("controllers", 2);
const NODES_PER_CONTROLLER = 10;
const PERIOD_MS = 500;

interface Helper {
  /** The helper's sinon sandbox: its spies keep every call, which a long run must clear. */
  _sandbox?: { resetHistory(): void };
  init(runtimePath: string): void;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  load(nodes: unknown[], flow: object[]): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): { on(event: "input", l: (msg: Record<string, unknown>) => void): void; receive(msg: object): void };
}

function soakConfig(name: string, tags: number): SimulatorConfig {
  return {
    name,
    host: "127.0.0.1",
    port: 0,
    tagsPerReadMax: 50,
    tagsPerWriteMax: 50,
    dataBlocks: [{ name: "Soak", number: 1, members: Array.from({ length: tags }, (_, i) => ({ name: `T${i}`, type: "DInt", value: i * 7 + 1 })) }],
  };
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const helper = require("node-red-node-test-helper") as Helper;
  helper.init(process.env.S7_TEST_NODE_RED ?? require.resolve("node-red"));
  const dist = path.resolve(__dirname, "..", "nodes");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodes = ["s7-secure-connection", "s7-read"].map((n) => require(path.join(dist, `${n}.js`)) as unknown);
  const tagsPerController = Math.ceil(TAGS / CONTROLLERS);
  const sims: Simulator[] = [];
  for (let c = 0; c < CONTROLLERS; c++) sims.push(await Simulator.start(soakConfig(`SOAK${c}`, tagsPerController)));
  const store = fs.mkdtempSync(path.join(os.tmpdir(), "s7-soak-"));
  fs.mkdirSync(path.join(store, "trusted", "crl"), { recursive: true });
  for (const sim of sims) fs.writeFileSync(path.join(store, "trusted", `${sim.name}.der`), new X509Certificate(sim.certificatePem).raw);

  const flow: object[] = [{ id: "t", type: "tab" }];
  const expected = new Map<string, Map<string, number>>();
  sims.forEach((sim, c) => {
    flow.push({ id: `c${c}`, type: "s7-secure-connection", name: sim.name, host: "127.0.0.1", port: sim.port, storeDir: store, forceConnectionState: 1, connectTimeout: 5000, requestTimeout: 2000, reconnectMin: 200, reconnectMax: 2000 });
    const perNode = Math.ceil(tagsPerController / NODES_PER_CONTROLLER);
    for (let n = 0; n < NODES_PER_CONTROLLER; n++) {
      const tags = Array.from({ length: perNode }, (_, k) => n * perNode + k).filter((i) => i < tagsPerController).map((i) => `Soak.T${i}`);
      const id = `r${c}_${n}`;
      expected.set(id, new Map(tags.map((t) => [t, Number(t.slice(6)) * 7 + 1])));
      flow.push({ id, z: "t", type: "s7-read", connection: `c${c}`, tags, interval: 0, int64: "number", wires: [["out"]] });
    }
  });
  flow.push({ id: "out", z: "t", type: "helper" });
  flow.push({ id: "catcher", z: "t", type: "catch", scope: null, uncaught: false, wires: [["errors"]] });
  flow.push({ id: "errors", z: "t", type: "helper" });

  await helper.startServer();
  await helper.load(nodes, flow);

  const pending = new Map<string, number>(); // node id → trigger count outstanding
  let triggers = 0;
  let values = 0;
  let errors = 0;
  let mismatched = 0;
  const firstErrors: string[] = [];
  helper.getNode("out").on("input", (msg) => {
    const id = (msg._source as string | undefined) ?? "";
    const exp = expected.get(id);
    if (exp === undefined) {
      mismatched++;
      return;
    }
    pending.set(id, (pending.get(id) ?? 0) - 1);
    values++;
    for (const [tag, value] of Object.entries(msg.payload as Record<string, number>)) {
      if (exp.get(tag) !== value) {
        mismatched++;
        if (firstErrors.length < 5) firstErrors.push(`${id}: ${tag} = ${value}, expected ${exp.get(tag)}`);
      }
    }
  });
  helper.getNode("errors").on("input", (msg) => {
    const id = ((msg.error as { source?: { id?: string } } | undefined)?.source?.id) ?? "";
    // A partly failed read sends its values and reports an error: count the trigger once.
    if (msg.payload !== undefined && typeof msg.payload === "object" && msg.errors !== undefined) return;
    pending.set(id, (pending.get(id) ?? 0) - 1);
    errors++;
  });

  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const heap: number[] = [];
  const reconnects: number[] = [];
  const start = Date.now();
  const end = start + MINUTES * 60_000;
  let nextFault = start + 15_000;
  let faultIndex = 0;
  let cutAt: number | undefined;
  let lastCount = values;
  let samples = 0;
  const gc = (globalThis as { gc?: () => void }).gc;

  console.log(`soak: ${TAGS} tags on ${CONTROLLERS} controllers, ${NODES_PER_CONTROLLER * CONTROLLERS} read nodes every ${PERIOD_MS} ms, ${MINUTES} min, faults every 15 s`);
  while (Date.now() < end) {
    for (const id of expected.keys()) {
      if ((pending.get(id) ?? 0) > 0) continue; // the previous read of this node is still out
      pending.set(id, (pending.get(id) ?? 0) + 1);
      triggers++;
      helper.getNode(id).receive({ _source: id });
    }
    await new Promise((r) => setTimeout(r, PERIOD_MS));
    // The test helper records every node call for assertions; a soak has no use for that history.
    helper._sandbox?.resetHistory();
    if (Date.now() - start > 10_000 && ++samples % 20 === 0) {
      gc?.();
      heap.push(process.memoryUsage().heapUsed);
    }
    if (cutAt !== undefined && values > lastCount) {
      reconnects.push(Date.now() - cutAt);
      cutAt = undefined;
    }
    if (Date.now() >= nextFault) {
      const sim = sims[faultIndex % sims.length]!;
      if (faultIndex % 2 === 0) {
        sim.dropConnections();
        cutAt = Date.now();
        lastCount = values;
      } else {
        sim.faults.responseDelayMs = 300;
        setTimeout(() => (sim.faults.responseDelayMs = 0), 5000);
      }
      faultIndex++;
      nextFault += 15_000;
    }
  }
  // Let the last triggers come back.
  const drainEnd = Date.now() + 10_000;
  while ([...pending.values()].some((v) => v > 0) && Date.now() < drainEnd) await new Promise((r) => setTimeout(r, 100));
  loop.disable();
  const lost = [...pending.values()].reduce((n, v) => n + Math.max(0, v), 0);

  await helper.unload();
  await helper.stopServer();
  for (const sim of sims) await sim.stop();
  fs.rmSync(store, { recursive: true, force: true });

  const mb = (n: number): string => (n / 1048576).toFixed(1);
  const result = {
    minutes: MINUTES,
    tags: TAGS,
    triggers,
    answeredWithValues: values,
    answeredWithErrors: errors,
    lost,
    mismatched,
    heapBandMb: heap.length ? [Number(mb(Math.min(...heap))), Number(mb(Math.max(...heap)))] : [],
    eventLoopDelayP99Ms: Number((loop.percentile(99) / 1e6).toFixed(1)),
    reconnectMs: { count: reconnects.length, median: percentile(reconnects, 50), max: Math.max(0, ...reconnects) },
    faults: faultIndex,
  };
  console.log(JSON.stringify(result, null, 2));
  if (firstErrors.length) console.error(firstErrors.join("\n"));
  if (lost > 0 || mismatched > 0) {
    console.error(`FAIL: ${lost} lost, ${mismatched} mismatched responses`);
    process.exit(1);
  }
  console.log("no lost or mismatched responses");
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
