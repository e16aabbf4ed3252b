/**
 * Subscription figures for `npm run bench` (alone: `node dist/bench/run.js
 * --subscriptions [--quick]`):
 *
 * - write → notification latency at the client (p50/p99), cycle 100 ms;
 * - 1 000 tags of which 1 % change per second: requests on the wire per
 *   minute and the client's CPU, polling every 100 ms vs a subscription
 *   (the client runs in its own process, so its CPU is its own);
 * - the most tags one connection keeps subscribed (the simulator's limits
 *   raised; a real CPU's SystemLimits decide there).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import { ControllerConnection } from "../src/client/controller-connection.js";
import type { ValuesEvent } from "../src/client/subscription.js";
import { Simulator } from "../src/simulator/simulator.js";
import type { SimulatorConfig } from "../src/simulator/config.js";
import { CertificateStore } from "../src/trust/store.js";
import { DeviceCertificateVerifier } from "../src/trust/verifier.js";
import { median, percentile, round } from "./support.js";

type Section = Record<string, number | string>;

function config(name: string, members: number, extra: Partial<SimulatorConfig> = {}): SimulatorConfig {
  return {
    name,
    host: "127.0.0.1",
    port: 0,
    tagsPerReadMax: 100,
    tagsPerWriteMax: 100,
    dataBlocks: [{ name: "Bench", number: 1, members: Array.from({ length: members }, (_, i) => ({ name: `T${i}`, type: "Int", value: i % 30000 })) }],
    ...extra,
  };
}

/** A store folder that trusts the simulator; removed by the caller. */
function trustedStore(sim: Simulator): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "s7-bench-subs-"));
  for (const d of ["trusted/crl", "untrusted"]) fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.writeFileSync(path.join(dir, "trusted", "sim.der"), new X509Certificate(sim.certificatePem).raw);
  return dir;
}

function connection(port: number, storeDir: string, extra: { requestTimeoutMs?: number } = {}): ControllerConnection {
  return new ControllerConnection(
    {
      name: "BENCH",
      host: "127.0.0.1",
      port,
      accessPoint: "",
      forceConnectionState: 1,
      useAlternativeAddress: 0,
      alternativeAddress: "",
      connectTimeoutMs: 10_000,
      requestTimeoutMs: extra.requestTimeoutMs ?? 10_000,
      reconnectMinMs: 1000,
      reconnectMaxMs: 5000,
    },
    { verifier: new DeviceCertificateVerifier({ store: new CertificateStore(storeDir) }) },
  );
}

const tagNames = (n: number): string[] => Array.from({ length: n }, (_, i) => `Bench.T${i}`);

/** Resolves with the first values event that `match` accepts. */
function nextValues(handle: { on(e: "values", l: (v: ValuesEvent) => void): unknown; off(e: "values", l: (v: ValuesEvent) => void): unknown }, match: (v: ValuesEvent) => boolean, ms: number): Promise<ValuesEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      handle.off("values", listener);
      reject(new Error(`no notification within ${ms} ms`));
    }, ms);
    const listener = (v: ValuesEvent): void => {
      if (!match(v)) return;
      clearTimeout(timer);
      handle.off("values", listener);
      resolve(v);
    };
    handle.on("values", listener);
  });
}

async function latency(quick: boolean): Promise<Section> {
  const sim = await Simulator.start(config("LAT", 10));
  const store = trustedStore(sim);
  const c = connection(sim.port, store);
  try {
    c.start();
    const handle = c.subscribe(["Bench.T1"], { cycleMs: 100 });
    await nextValues(handle, (v) => v.initial, 10_000);
    const samples: number[] = [];
    for (let i = 0; i < (quick ? 30 : 200); i++) {
      const value = 20_000 + i;
      const arrived = nextValues(handle, (v) => v.changes.some((o) => o.ok && o.value === value), 5000);
      const start = process.hrtime.bigint();
      await c.write([{ tag: "Bench.T1", value }]);
      await arrived;
      samples.push(Number(process.hrtime.bigint() - start) / 1e6);
      // A random phase against the controller's cycle.
      await new Promise((r) => setTimeout(r, Math.random() * 100));
    }
    return {
      "write → notification p50 ms": round(median(samples), 1),
      "write → notification p99 ms": round(percentile(samples, 99), 1),
      "cycle ms": 100,
      "note": "bounded by the cycle: the controller compares values once per cycle",
      samples: samples.length,
    };
  } finally {
    await c.close();
    await sim.stop();
    fs.rmSync(store, { recursive: true, force: true });
  }
}

/** Runs one client mode in a child process for `seconds`; the parent changes 1 % of the tags per second. */
async function pollVsPush(quick: boolean): Promise<Section> {
  const seconds = quick ? 5 : 20;
  const sim = await Simulator.start(config("LOAD", 1000));
  const store = trustedStore(sim);
  const out: Section = { tags: 1000, "changing per second": 10, "seconds per mode": seconds };
  // One counter over both modes, so that every change is a new value.
  let k = 0;
  try {
    for (const mode of ["poll", "subscribe"] as const) {
      const requestsBefore = sim.stats.requests;
      const changer = setInterval(() => {
        // 10 tags per second, one every 100 ms.
        sim.setValue(`Bench.T${(k * 97) % 1000}`, 25_000 + (k % 1000));
        k++;
      }, 100);
      const child = spawn(process.execPath, [__filename.replace(/subscriptions\.js$/, "run.js"), "--subscription-client", mode, String(sim.port), store, String(seconds)], { stdio: ["ignore", "pipe", "inherit"] });
      // Requests are counted between the child's READY (set-up done) and its result (before it closes).
      let text = "";
      let from = requestsBefore;
      let to: number | undefined;
      child.stdout.on("data", (d: Buffer) => {
        text += d.toString();
        if (text.includes("READY") && from === requestsBefore) from = sim.stats.requests;
        if (to === undefined && text.includes("{")) to = sim.stats.requests;
      });
      await new Promise<void>((resolve) => child.on("exit", () => resolve()));
      clearInterval(changer);
      const report = JSON.parse(text.split("\n").find((l) => l.startsWith("{")) ?? "{}") as { cpuMs?: number; seconds?: number; events?: number };
      const measured = report.seconds ?? seconds;
      const requests = (to ?? sim.stats.requests) - from;
      const label = mode === "poll" ? "polling 100 ms" : "subscription 100 ms";
      out[`${label}: requests/min`] = Math.round((requests / measured) * 60);
      out[`${label}: client CPU % of one core`] = round(((report.cpuMs ?? NaN) / (measured * 1000)) * 100, 1);
      out[`${label}: deliveries`] = report.events ?? 0;
    }
    out["note"] = "requests while running (set-up and close not counted); CPU is the client process only";
    return out;
  } finally {
    await sim.stop();
    fs.rmSync(store, { recursive: true, force: true });
  }
}

/** The client side of pollVsPush, in its own process: prints { cpuMs, seconds, events }. */
export async function subscriptionClient(mode: string, port: number, store: string, seconds: number): Promise<void> {
  const c = connection(port, store);
  c.start();
  const tags = tagNames(1000);
  let events = 0;
  let timer: NodeJS.Timeout | undefined;
  if (mode === "subscribe") {
    const handle = c.subscribe(tags, { cycleMs: 100 });
    await nextValues(handle, (v) => v.initial, 30_000);
    handle.on("values", () => events++);
  } else {
    await c.read(tags);
    let busy = false;
    timer = setInterval(() => {
      if (busy) return;
      busy = true;
      c.read(tags).then(
        () => {
          events++;
          busy = false;
        },
        () => (busy = false),
      );
    }, 100);
  }
  console.log("READY");
  const cpu = process.cpuUsage();
  const start = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const used = process.cpuUsage(cpu);
  const elapsed = (Date.now() - start) / 1000;
  if (timer) clearInterval(timer);
  console.log(JSON.stringify({ cpuMs: (used.user + used.system) / 1000, seconds: elapsed, events }));
  await c.close();
}

async function mostTags(quick: boolean): Promise<Section> {
  const sizes = quick ? [1000, 5000] : [1000, 5000, 20_000, 50_000];
  const out: Section = {};
  let best = 0;
  for (const n of sizes) {
    const sim = await Simulator.start(config("MOST", n, { subscriptionsMax: 1000, subscriptionItemsMax: 1_000_000 }));
    const store = trustedStore(sim);
    const c = connection(sim.port, store, { requestTimeoutMs: 30_000 });
    try {
      c.start();
      const start = Date.now();
      const handle = c.subscribe(tagNames(n), { cycleMs: 1000 });
      const first = await nextValues(handle, (v) => v.initial, 60_000);
      if (first.changes.length !== n || !first.changes.every((o) => o.ok)) throw new Error(`${n} tags: incomplete full set`);
      out[`${n} tags: full set after ms`] = Date.now() - start;
      out[`${n} tags: controller subscriptions`] = c.subscriptionStats?.live ?? 0;
      best = n;
    } catch (err) {
      out[`${n} tags`] = `failed: ${err instanceof Error ? err.message : String(err)}`;
      break;
    } finally {
      await c.close();
      await sim.stop();
      fs.rmSync(store, { recursive: true, force: true });
    }
  }
  out["most tags kept subscribed (tried sizes)"] = best;
  out["simulator limits"] = "1000 subscriptions, 1 000 000 items";
  return out;
}

export async function subscriptionSections(quick: boolean): Promise<Record<string, Section>> {
  return {
    "subscriptions: write → notification latency": await latency(quick),
    "subscriptions: 1 000 tags, 1 % changing per second": await pollVsPush(quick),
    "subscriptions: most tags on one connection": await mostTags(quick),
  };
}
