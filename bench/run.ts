/**
 * `npm run bench [-- --quick]`: latency, throughput, coalescing, connection
 * cost, many controllers, the simulator's own cost and subscriptions
 * (`-- --subscriptions` runs only those), measured in one run
 * against simulated controllers over TLS on 127.0.0.1. Prints a table and
 * writes bench/results/latest.json. Ratios compare numbers of the same run.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as net from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { ControllerSession } from "../src/client/controller-session.js";
import { ControllerConnection } from "../src/client/controller-connection.js";
import { acceptSecureChannel } from "../src/transport/server-channel.js";
import { Simulator } from "../src/simulator/simulator.js";
import { SimulatedSession } from "../src/simulator/session.js";
import type { SimulatorConfig } from "../src/simulator/config.js";
import { latencyFigures, median, percentile, round, timed, trustingVerifier } from "./support.js";
import { echoChannel, twoProcess } from "./two-process.js";
import { subscriptionClient, subscriptionSections } from "./subscriptions.js";

const QUICK = process.argv.includes("--quick");
/** Round trips before measuring, so that both paths are compiled by the JIT. */
const WARMUP = 2000;
const ROOT = path.resolve(__dirname, "..", "..");

function benchConfig(name: string, members: number, readMax = 20): SimulatorConfig {
  return {
    name,
    host: "127.0.0.1",
    port: 0,
    tagsPerReadMax: readMax,
    tagsPerWriteMax: readMax,
    dataBlocks: [{ name: "Bench", number: 1, members: Array.from({ length: members }, (_, i) => ({ name: `T${i}`, type: "Int", value: i % 30000 })) }],
  };
}

async function open(sim: Simulator, verifier: ReturnType<typeof trustingVerifier>["verifier"]): Promise<ControllerSession> {
  return ControllerSession.open(
    { host: "127.0.0.1", port: sim.port, accessPoint: "" },
    { plc: sim.name, verifier, connectTimeoutMs: 10_000, requestTimeoutMs: 10_000 },
    new AbortController().signal,
  );
}

/** The floor: an echo of the same sizes through the same TLS-in-COTP transport, with no S7CommPlus work on either side. */
async function floorEcho(sim: Simulator, verifier: ReturnType<typeof trustingVerifier>["verifier"], requestBytes: number, answerBytes: number): Promise<{ once(): Promise<void>; close(): Promise<void> }> {
  const keyPem = (sim as unknown as { certificate: { keyPem: string } }).certificate.keyPem;
  const server = net.createServer((socket) => {
    acceptSecureChannel(socket, { key: keyPem, cert: sim.certificatePem, plc: "echo" }).then(
      (ch) => {
        const answer = Buffer.alloc(answerBytes, 0x32);
        ch.on("pdu", (v: number) => ch.sendPdu(v, answer));
        ch.start();
      },
      () => socket.destroy(),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const echo = await echoChannel((server.address() as net.AddressInfo).port, verifier, requestBytes);
  return {
    once: echo.once,
    close: async () => {
      await echo.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

interface Results {
  [section: string]: Record<string, number | string>;
}

async function main(): Promise<void> {
  const results: Results = {};
  const rounds = QUICK ? 1000 : 5000;

  // --- 1. latency against the floor, 6. simulator cost ------------------------------------
  const sim = await Simulator.start(benchConfig("BENCH", 10_000));
  const trust = trustingVerifier([sim]);
  const s = await open(sim, trust.verifier);
  await s.read(["Bench.T1"]);
  // Request and answer sizes of a one-tag read, and the simulator's own time per request.
  let requestBytes = 0;
  let answerBytes = 0;
  const handle = SimulatedSession.prototype.handle;
  let simNs = 0n;
  let simCalls = 0;
  SimulatedSession.prototype.handle = function (this: SimulatedSession, version: number, pdu: Buffer) {
    const start = process.hrtime.bigint();
    const answer = handle.call(this, version, pdu);
    simNs += process.hrtime.bigint() - start;
    simCalls++;
    requestBytes = pdu.length;
    answerBytes = answer?.pdu.length ?? 0;
    return answer;
  };
  for (let i = 0; i < WARMUP; i++) await s.read(["Bench.T1"]);
  simNs = 0n;
  simCalls = 0;
  // Ours and the floor alternate, so that both see the same machine.
  const echo = await floorEcho(sim, trust.verifier, requestBytes, answerBytes);
  for (let i = 0; i < WARMUP; i++) await echo.once();
  const ours: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < rounds; i++) {
    ours.push(await timed(() => s.read(["Bench.T1"])));
    floor.push(await timed(() => echo.once()));
  }
  await echo.close();
  SimulatedSession.prototype.handle = handle;
  const simCostUs = Number(simNs / BigInt(Math.max(1, simCalls))) / 1000;
  results["one-tag read latency"] = {
    ...latencyFigures(ours, floor),
    "ratio p50, simulator handler subtracted": round((median(ours) - simCostUs / 1000) / median(floor)),
    "goal": "≤ 1.3× floor",
    "request/answer bytes": `${requestBytes}/${answerBytes}`,
  };
  results["simulator cost per request"] = {
    "handler µs (one-tag read)": round(simCostUs, 1),
    "share of our p50": `${round((simCostUs / 1000 / median(ours)) * 100, 1)} %`,
  };
  // Sizes of the requests of a 1 000-tag read, for the two-process round-trip floor.
  const bulkTags = Array.from({ length: 1000 }, (_, i) => `Bench.T${i}`);
  await s.read(bulkTags);
  const bulkSizes = { requests: 0, request: 0, answer: 0 };
  SimulatedSession.prototype.handle = function (this: SimulatedSession, version: number, pdu: Buffer) {
    const answer = handle.call(this, version, pdu);
    bulkSizes.requests++;
    bulkSizes.request += pdu.length;
    bulkSizes.answer += answer?.pdu.length ?? 0;
    return answer;
  };
  await s.read(bulkTags);
  SimulatedSession.prototype.handle = handle;

  // --- 2. throughput ---------------------------------------------------------------------
  const sizes = QUICK ? [1, 10, 100, 1000] : [1, 10, 100, 1000, 10_000];
  const tp: Record<string, number | string> = {};
  for (const n of sizes) {
    const tags = Array.from({ length: n }, (_, i) => `Bench.T${i}`);
    await s.read(tags); // resolve once
    // Repeat for a time budget (at least 3 calls) and take the median call.
    const budgetMs = QUICK ? 150 : 400;
    const readMs: number[] = [];
    const writeMs: number[] = [];
    for (let spent = 0; readMs.length < 3 || spent < budgetMs; ) spent += readMs[readMs.push(await timed(() => s.read(tags))) - 1]!;
    const entries = tags.map((tag, i) => ({ tag, value: (i + r0()) % 1000 }));
    for (let spent = 0; writeMs.length < 3 || spent < budgetMs; ) spent += writeMs[writeMs.push(await timed(() => s.write(entries))) - 1]!;
    tp[`read ${n} tags/call: tags/s`] = Math.round(n / (median(readMs) / 1000));
    tp[`write ${n} tags/call: tags/s`] = Math.round(n / (median(writeMs) / 1000));
  }
  tp["tagsPerReadMax / WriteMax"] = "20 / 20";
  results["throughput"] = tp;
  await s.close();

  // --- 3. coalescing -----------------------------------------------------------------------
  const conn = new ControllerConnection(
    { name: "BENCH", host: "127.0.0.1", port: sim.port, accessPoint: "", forceConnectionState: 1, useAlternativeAddress: 0, alternativeAddress: "", connectTimeoutMs: 10_000, requestTimeoutMs: 10_000, reconnectMinMs: 1000, reconnectMaxMs: 5000 },
    { verifier: trust.verifier },
  );
  conn.start();
  const tags100 = Array.from({ length: 100 }, (_, i) => `Bench.T${i}`);
  await conn.read(tags100);
  // Medians of several rounds: one round is a few milliseconds, too short to trust alone.
  const togetherMs: number[] = [];
  const togetherRequests: number[] = [];
  const sequentialMsList: number[] = [];
  const sequentialRequestsList: number[] = [];
  for (let round = 0; round < (QUICK ? 5 : 20); round++) {
    const beforeC = conn.requestStats.readRequests;
    togetherMs.push(await timed(() => Promise.all(tags100.map((t) => conn.read([t])))));
    togetherRequests.push(conn.requestStats.readRequests - beforeC);
    const beforeS = conn.requestStats.readRequests;
    sequentialMsList.push(
      await timed(async () => {
        for (const t of tags100) await conn.read([t]);
      }),
    );
    sequentialRequestsList.push(conn.requestStats.readRequests - beforeS);
  }
  const coalescedRequests = Math.max(...togetherRequests);
  const concurrentMs = median(togetherMs);
  const sequentialRequests = median(sequentialRequestsList);
  const sequentialMs = median(sequentialMsList);
  results["coalescing (100 single-tag reads)"] = {
    "requests, started together (max of rounds)": coalescedRequests,
    "goal ≤ ceil(100/20)": 5,
    "time together ms (median)": round(concurrentMs, 2),
    "requests, one after another": sequentialRequests,
    "time one after another ms (median)": round(sequentialMs, 2),
    "speed-up": round(sequentialMs / concurrentMs, 1),
  };
  await conn.close();

  // --- 4. connection set-up ------------------------------------------------------------------
  const setups: number[] = [];
  for (let i = 0; i < 20; i++) {
    let session: ControllerSession | undefined;
    setups.push(await timed(async () => {
      session = await open(sim, trust.verifier);
    }));
    await session!.close();
  }
  results["connection set-up (TCP → ready)"] = { "median ms": round(median(setups), 1), "p90 ms": round(percentile(setups, 90), 1), "includes": "TCP, COTP, InitSsl, TLS 1.3, certificate check, CreateObject, setup, limits, protection level" };
  await sim.stop();
  trust.dispose();

  // --- 5. many controllers (own process for a clean heap) -------------------------------------
  const child = spawnSync(process.execPath, ["--expose-gc", __filename, "--many", ...(QUICK ? ["--quick"] : [])], { encoding: "utf8", timeout: 300_000 });
  const line = child.stdout.split("\n").find((l) => l.startsWith("{"));
  results["many controllers"] = line ? (JSON.parse(line) as Record<string, number | string>) : { error: (child.stderr || "no result").slice(0, 300) };

  // --- 7. the same against a simulator in another process, as users run it ------------------------
  Object.assign(
    results,
    await twoProcess({
      quick: QUICK,
      oneTag: { request: requestBytes, answer: answerBytes },
      bulk: { requests: bulkSizes.requests, request: Math.round(bulkSizes.request / bulkSizes.requests), answer: Math.round(bulkSizes.answer / bulkSizes.requests) },
      members: 10_000,
      readMax: 20,
    }),
  );

  // --- 8. subscriptions ------------------------------------------------------------------------
  Object.assign(results, await subscriptionSections(QUICK));

  report(results);
}

function report(results: Results, file = "latest.json"): void {
  const machine = { node: process.version, cpu: os.cpus()[0]?.model ?? "?", cores: os.cpus().length, platform: `${os.platform()} ${os.release()}`, date: new Date().toISOString(), quick: QUICK };
  for (const [section, values] of Object.entries(results)) {
    console.log(`\n${section}`);
    for (const [k, v] of Object.entries(values)) console.log(`  ${k.padEnd(36)} ${v}`);
  }
  console.log(`\nmachine: ${machine.cpu}, ${machine.cores} cores, Node.js ${machine.node}`);
  fs.mkdirSync(path.join(ROOT, "bench", "results"), { recursive: true });
  fs.writeFileSync(path.join(ROOT, "bench", "results", file), JSON.stringify({ machine, results }, null, 2) + "\n");
}

/** `--subscriptions`: only the subscription figures (written to subscriptions.json, not latest.json). */
async function subscriptionsOnly(): Promise<void> {
  report(await subscriptionSections(QUICK), "subscriptions.json");
}

let r0Counter = 0;
function r0(): number {
  return r0Counter++;
}

/** 50 controllers, each polled for 100 tags every 100 ms: heap per connection, event-loop delay p99. */
async function many(): Promise<void> {
  const count = QUICK ? 20 : 50;
  const seconds = QUICK ? 5 : 10;
  const gc = (global as { gc?: () => void }).gc;
  const sims: Simulator[] = [];
  for (let i = 0; i < count; i++) sims.push(await Simulator.start(benchConfig(`M${i}`, 100, 100)));
  const trust = trustingVerifier(sims);
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  // Simulators live in this process too: measure their share with the clients closed first.
  const sessions: ControllerSession[] = [];
  for (const sim of sims) sessions.push(await open(sim, trust.verifier));
  const tags = Array.from({ length: 100 }, (_, i) => `Bench.T${i}`);
  for (const s of sessions) await s.read(tags);
  gc?.();
  const heapConnected = process.memoryUsage().heapUsed;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  let polls = 0;
  let overruns = 0;
  const busy = new Set<number>();
  const timer = setInterval(() => {
    sessions.forEach((s, i) => {
      if (busy.has(i)) {
        overruns++;
        return;
      }
      busy.add(i);
      s.read(tags).then(() => {
        polls++;
        busy.delete(i);
      }, () => busy.delete(i));
    });
  }, 100);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  clearInterval(timer);
  loop.disable();
  while (busy.size > 0) await new Promise((r) => setTimeout(r, 20));
  gc?.();
  const heapAfter = process.memoryUsage().heapUsed;
  for (const s of sessions) await s.close();
  for (const sim of sims) await sim.stop();
  trust.dispose();
  const perConnMb = (heapConnected - heapBefore) / count / 1048576;
  console.log(
    JSON.stringify({
      controllers: count,
      "heap per connection MB (client + its simulator session)": round(perConnMb, 2),
      "goal heap per connection": "< 10 MB",
      "heap growth while polling MB": round((heapAfter - heapConnected) / 1048576, 1),
      "polls of 100 tags": polls,
      "skipped ticks (poll still running)": overruns,
      "tags/s": Math.round((polls * 100) / seconds),
      "event-loop delay p99 ms": round(loop.percentile(99) / 1e6, 1),
      "gc exposed": gc ? "yes" : "no",
    }),
  );
}

function entry(): Promise<void> {
  const argv = process.argv;
  const client = argv.indexOf("--subscription-client");
  if (client >= 0) return subscriptionClient(argv[client + 1] ?? "", Number(argv[client + 2]), argv[client + 3] ?? "", Number(argv[client + 4]));
  if (argv.includes("--many")) return many();
  if (argv.includes("--subscriptions")) return subscriptionsOnly();
  return main();
}

entry().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
