/**
 * The benchmarks a user sees: the client in this process, the simulated
 * controller (and the echo floor) in child processes, as `s7-secure sim` runs
 * beside Node-RED. Each figure is measured against a floor of the same run:
 *
 * - connect (TCP → session ready to read) against the bare TCP + COTP +
 *   InitSsl + TLS 1.3 handshake to the echo child, and against that
 *   handshake followed by as many echo round trips as the session set-up
 *   has requests;
 * - one-tag read latency against an echo of the same request/answer sizes,
 *   and the tail of a plain TLS socket (Node's own, no COTP) on this machine;
 * - a 1 000-tag read against requests on the wire × the echo round trip of
 *   those requests' sizes;
 * - the simulator's own CPU per request, read from the child.
 *
 * Run by bench/run.ts; `node dist/bench/two-process.js --child sim|echo …`
 * is the child side.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { PerformanceObserver } from "node:perf_hooks";
import * as v8 from "node:v8";
import * as net from "node:net";
import * as readline from "node:readline";
import * as tls from "node:tls";
import { X509Certificate } from "node:crypto";
import { ControllerSession } from "../src/client/controller-session.js";
import { openSecureChannel } from "../src/transport/client-channel.js";
import { acceptSecureChannel } from "../src/transport/server-channel.js";
import type { CertificateSummary, CertificateVerifier, PeerCertificates, TrustVerdict, VerificationTarget } from "../src/transport/verifier.js";
import { summarize } from "../src/trust/certificate-info.js";
import { generateSelfSigned } from "../src/pki/certificates.js";
import { Simulator } from "../src/simulator/simulator.js";
import type { SimulatorConfig } from "../src/simulator/config.js";
import { latencyFigures, median, percentile, round, timed, trustingVerifierForPems } from "./support.js";

export interface WireSizes {
  /** Bytes of one request and of its answer (S7CommPlus PDU). */
  request: number;
  answer: number;
}

export interface TwoProcessInput {
  quick: boolean;
  /** Sizes of a one-tag read. */
  oneTag: WireSizes;
  /** A 1 000-tag read: how many requests it takes and their mean sizes. */
  bulk: WireSizes & { requests: number };
  /** Members of the simulator's data block and its tags per request. */
  members: number;
  readMax: number;
}

type Results = Record<string, Record<string, number | string>>;

const SYMBOLIC_TAG = "Bench.T1";
/** Requests of the session set-up after the handshake: CreateObject, session setup, limits, protection level. */
const SETUP_ROUND_TRIPS = 4;
/** The pause before each read of the "after idle" figures: a poll's reads come one by one, not back to back. */
const IDLE_BEFORE_READ_MS = 5;
/** About the size of a set-up request (S7CommPlus PDU). */
const SETUP_REQUEST_BYTES = 90;
/** An Int of the non-optimized block DB2 ("Abs"), read by address. */
const ABSOLUTE_TAG = "DB2.DBW2";

/** A child process that prints one JSON line when ready and answers "cpu" with its CPU time. */
class Child {
  private readonly lines: string[] = [];
  private waiting: ((line: string) => void) | undefined;

  private constructor(private readonly proc: ChildProcess) {
    readline.createInterface({ input: proc.stdout! }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(line);
      } else this.lines.push(line);
    });
  }

  static async start(args: string[]): Promise<{ child: Child; ready: { port: number; certPem: string } }> {
    const proc = spawn(process.execPath, [__filename, "--child", ...args], { stdio: ["pipe", "pipe", "inherit"] });
    const child = new Child(proc);
    const ready = JSON.parse(await child.next()) as { port: number; certPem: string };
    return { child, ready };
  }

  private next(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  /** The child's user + system CPU time in microseconds. */
  async cpuMicros(): Promise<number> {
    this.proc.stdin!.write("cpu\n");
    return (JSON.parse(await this.next()) as { cpu: number }).cpu;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.proc.once("exit", () => resolve());
      this.proc.stdin!.end("stop\n");
    });
  }
}

type ReadRun = { latencies: number[]; clientCpuMicros: number };

/** Reads of one tag in a row before the next tag's turn. */
const READ_BLOCK = 100;

/**
 * `rounds` one-tag reads of each tag, one after another, the tags taking
 * turns in blocks (A B B A …) so that every tag meets the same machine (a
 * shared machine drifts within seconds): latency of each read, client CPU
 * per read.
 */
async function oneTagReads(s: ControllerSession, tags: readonly string[], rounds: number): Promise<ReadRun[]> {
  const runs = tags.map(() => ({ latencies: [] as number[], cpuMicros: 0 }));
  for (let done = 0; done < rounds; done += READ_BLOCK) {
    // Every other round the other way round (A B, B A, …): no tag always comes first.
    const order = (done / READ_BLOCK) % 2 === 0 ? tags.map((_, k) => k) : tags.map((_, k) => tags.length - 1 - k);
    for (const k of order) {
      const run = runs[k]!;
      const tag = [tags[k]!];
      const start = process.cpuUsage();
      for (let i = 0; i < Math.min(READ_BLOCK, rounds - done); i++) run.latencies.push(await timed(() => s.read(tag)));
      const used = process.cpuUsage(start);
      run.cpuMicros += used.user + used.system;
    }
  }
  return runs.map((run) => ({ latencies: run.latencies, clientCpuMicros: run.cpuMicros / run.latencies.length }));
}

/** Small enough to fit the young generation as a full collection leaves it. */
const GARBAGE_BATCH = 40;
const GARBAGE_BATCHES = 9;

/**
 * Heap growth over a batch of reads that saw no garbage collection, per read:
 * what a read leaves for the collector. Batches with a collection are dropped.
 */
async function garbagePerRead(s: ControllerSession, tag: string): Promise<number | undefined> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return undefined;
  let collections = 0;
  const observer = new PerformanceObserver((list) => (collections += list.getEntries().length));
  observer.observe({ entryTypes: ["gc"] });
  const perRead: number[] = [];
  try {
    for (let batch = 0; batch < 3 * GARBAGE_BATCHES && perRead.length < GARBAGE_BATCHES; batch++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 5)); // the observer hears of the forced collection first
      const seen = collections;
      const before = v8.getHeapStatistics().used_heap_size;
      for (let i = 0; i < GARBAGE_BATCH; i++) await s.read([tag]);
      const after = v8.getHeapStatistics().used_heap_size;
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (collections === seen) perRead.push((after - before) / GARBAGE_BATCH);
    }
  } finally {
    observer.disconnect();
  }
  return perRead.length > 0 ? median(perRead) : undefined;
}

/**
 * Accepts exactly the echo child's certificate, by its bytes: the floor is the handshake
 * alone, without a store and without parsing the certificate.
 */
class PinnedCertificate implements CertificateVerifier {
  private readonly der: Buffer;
  private readonly summary: CertificateSummary;
  constructor(certPem: string) {
    const x = new X509Certificate(certPem);
    this.der = x.raw;
    this.summary = summarize(x);
  }
  async verify(peer: PeerCertificates, _target: VerificationTarget): Promise<TrustVerdict> {
    if (!peer.leaf.equals(this.der)) throw new Error("not the echo child's certificate");
    return { certificate: this.summary, trustedBy: "store", revocationChecked: false, warnings: [] };
  }
}

/** An echo channel on 127.0.0.1: `once()` sends `requestBytes` and waits for the answer. */
export async function echoChannel(port: number, verifier: CertificateVerifier, requestBytes: number): Promise<{ once(): Promise<void>; close(): Promise<void> }> {
  const channel = await openSecureChannel({ host: "127.0.0.1", port, plc: "echo", verifier });
  channel.start();
  const request = Buffer.alloc(requestBytes, 0x31);
  return {
    once: () =>
      new Promise((resolve) => {
        channel.once("pdu", () => resolve());
        channel.sendPdu(2, request);
      }),
    close: () => channel.close(),
  };
}

/**
 * Round trips over Node's own TLS socket (no COTP, no S7CommPlus) to the
 * "tls-echo" child: what this machine's scheduler leaves of a tail when the
 * TLS runs natively under the socket.
 */
async function nativeTlsEcho(ready: { port: number; certPem: string }, requestBytes: number, warmup: number, rounds: number): Promise<number[]> {
  const socket = tls.connect({ host: "127.0.0.1", port: ready.port, ca: ready.certPem, minVersion: "TLSv1.3" });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", resolve);
    socket.once("error", reject);
  });
  socket.setNoDelay(true);
  const request = Buffer.alloc(requestBytes, 0x31);
  const once = (): Promise<void> =>
    new Promise((resolve) => {
      socket.once("data", () => resolve());
      socket.write(request);
    });
  try {
    for (let i = 0; i < warmup; i++) await once();
    const latencies: number[] = [];
    for (let i = 0; i < rounds; i++) latencies.push(await timed(once));
    return latencies;
  } finally {
    socket.destroy();
  }
}

export async function twoProcess(input: TwoProcessInput): Promise<Results> {
  const results: Results = {};
  const rounds = input.quick ? 1000 : 5000;
  const warmup = input.quick ? 500 : 2000;
  const sim = await Child.start(["sim", String(input.members), String(input.readMax)]);
  const echoOne = await Child.start(["echo", String(input.oneTag.answer)]);
  const echoBulk = await Child.start(["echo", String(input.bulk.answer)]);
  const tlsEcho = await Child.start(["tls-echo", String(input.oneTag.answer)]);
  const trust = trustingVerifierForPems([sim.ready.certPem]);
  const endpoint = { host: "127.0.0.1", port: sim.ready.port, accessPoint: "" };
  const open = (): Promise<ControllerSession> =>
    ControllerSession.open(endpoint, { plc: "BENCH2", verifier: trust.verifier, connectTimeoutMs: 10_000, requestTimeoutMs: 10_000 }, new AbortController().signal);
  try {
    // --- connect against the handshake floor, alternating ------------------------------------
    const connects: number[] = [];
    const handshakes: number[] = [];
    const withRoundTrips: number[] = [];
    const pinned = new PinnedCertificate(echoOne.ready.certPem);
    for (let i = 0; i < (input.quick ? 20 : 60); i++) {
      let session: ControllerSession | undefined;
      connects.push(await timed(async () => void (session = await open())));
      await session!.close();
      let channel: Awaited<ReturnType<typeof openSecureChannel>> | undefined;
      handshakes.push(await timed(async () => void (channel = await openSecureChannel({ host: "127.0.0.1", port: echoOne.ready.port, plc: "echo", verifier: pinned }))));
      await channel!.close();
      let echo: Awaited<ReturnType<typeof echoChannel>> | undefined;
      withRoundTrips.push(
        await timed(async () => {
          echo = await echoChannel(echoOne.ready.port, pinned, SETUP_REQUEST_BYTES);
          for (let r = 0; r < SETUP_ROUND_TRIPS; r++) await echo.once();
        }),
      );
      await echo!.close();
    }
    results["two processes: connect (TCP → ready to read)"] = {
      "ours median ms": round(median(connects), 2),
      "handshake floor median ms": round(median(handshakes), 2),
      "ratio": round(median(connects) / median(handshakes)),
      "goal": "≤ 1.15× the TCP + COTP + InitSsl + TLS 1.3 handshake",
      [`handshake + ${SETUP_ROUND_TRIPS} echo round trips median ms`]: round(median(withRoundTrips), 2),
      "ratio to handshake + round trips": round(median(connects) / median(withRoundTrips)),
    };

    // --- one-tag read latency against the echo floor ---------------------------------------
    const s = await open();
    const echo = await echoChannel(echoOne.ready.port, new PinnedCertificate(echoOne.ready.certPem), input.oneTag.request);
    for (let i = 0; i < warmup; i++) {
      await s.read([SYMBOLIC_TAG]);
      await echo.once();
    }
    for (let i = 0; i < warmup; i++) await s.read([ABSOLUTE_TAG]);
    const cpuBefore = await sim.child.cpuMicros();
    const [symbolic, absolute] = (await oneTagReads(s, [SYMBOLIC_TAG, ABSOLUTE_TAG], rounds)) as [ReadRun, ReadRun];
    const simCpuPerRead = ((await sim.child.cpuMicros()) - cpuBefore) / (2 * rounds);
    const symbolicGarbage = await garbagePerRead(s, SYMBOLIC_TAG);
    const absoluteGarbage = await garbagePerRead(s, ABSOLUTE_TAG);
    const floor: number[] = [];
    for (let i = 0; i < rounds; i++) floor.push(await timed(() => echo.once()));
    // As a poll sees it: each read after a pause, ours and the echo alternating.
    const afterPause = { ours: [] as number[], floor: [] as number[] };
    for (let i = 0; i < (input.quick ? 50 : 200); i++) {
      await new Promise((resolve) => setTimeout(resolve, IDLE_BEFORE_READ_MS));
      afterPause.ours.push(await timed(() => s.read([SYMBOLIC_TAG])));
      await new Promise((resolve) => setTimeout(resolve, IDLE_BEFORE_READ_MS));
      afterPause.floor.push(await timed(() => echo.once()));
    }
    await echo.close();
    const native = await nativeTlsEcho(tlsEcho.ready, input.oneTag.request, warmup, rounds);
    const ours = symbolic.latencies;
    results["two processes: one-tag read latency"] = {
      ...latencyFigures(ours, floor),
      "ours p99 / p50": round(percentile(ours, 99) / median(ours)),
      "floor p99 / p50": round(percentile(floor, 99) / median(floor)),
      "native TLS echo p50 ms": round(median(native), 3),
      "native TLS echo p99 / p50": round(percentile(native, 99) / median(native)),
      "goal": "≤ 1.3× floor; p99 ≤ 2.5× p50",
      [`after ${IDLE_BEFORE_READ_MS} ms idle: ours p50 ms`]: round(median(afterPause.ours), 3),
      [`after ${IDLE_BEFORE_READ_MS} ms idle: floor p50 ms`]: round(median(afterPause.floor), 3),
      "client CPU µs per read": round(symbolic.clientCpuMicros, 1),
      "simulator CPU µs per read (both modes)": round(simCpuPerRead, 1),
      "request/answer bytes": `${input.oneTag.request}/${input.oneTag.answer}`,
    };
    const abs = absolute.latencies;
    const garbage = (g: number | undefined): number | string => (g === undefined ? "needs --expose-gc" : Math.round(g));
    results["two processes: symbolic and absolute one-tag reads"] = {
      "symbolic p50 ms": round(median(ours), 3),
      "symbolic p99 / p50": round(percentile(ours, 99) / median(ours)),
      "absolute p50 ms": round(median(abs), 3),
      "absolute p99 / p50": round(percentile(abs, 99) / median(abs)),
      "goal p99 / p50": "≤ 2.5 in both modes",
      "symbolic client CPU µs per read": round(symbolic.clientCpuMicros, 1),
      "absolute client CPU µs per read": round(absolute.clientCpuMicros, 1),
      "absolute / symbolic client CPU": round(absolute.clientCpuMicros / symbolic.clientCpuMicros),
      "goal CPU": "absolute ≤ symbolic",
      "symbolic garbage bytes per read": garbage(symbolicGarbage),
      "absolute garbage bytes per read": garbage(absoluteGarbage),
      "tags": `${SYMBOLIC_TAG} (optimized block), ${ABSOLUTE_TAG} (non-optimized block)`,
    };

    // --- 1 000-tag read against requests × echo round trip -------------------------------------
    const tags = Array.from({ length: 1000 }, (_, i) => `Bench.T${i}`);
    await s.read(tags);
    const bulkEcho = await echoChannel(echoBulk.ready.port, new PinnedCertificate(echoBulk.ready.certPem), input.bulk.request);
    for (let i = 0; i < warmup / 10; i++) await bulkEcho.once();
    const bulkRounds = input.quick ? 20 : 60;
    const bulk: number[] = [];
    const bulkFloor: number[] = [];
    const simBulkBefore = await sim.child.cpuMicros();
    for (let i = 0; i < bulkRounds; i++) bulk.push(await timed(() => s.read(tags)));
    const simBulkCpu = ((await sim.child.cpuMicros()) - simBulkBefore) / bulkRounds;
    for (let i = 0; i < bulkRounds; i++) {
      bulkFloor.push(
        await timed(async () => {
          for (let r = 0; r < input.bulk.requests; r++) await bulkEcho.once();
        }),
      );
    }
    await bulkEcho.close();
    await s.close();
    results["two processes: 1 000-tag read"] = {
      "ours median ms": round(median(bulk), 2),
      "round-trip floor median ms": round(median(bulkFloor), 2),
      "ratio": round(median(bulk) / median(bulkFloor)),
      "requests on the wire": input.bulk.requests,
      "mean request/answer bytes": `${input.bulk.request}/${input.bulk.answer}`,
      "simulator CPU ms per 1 000 tags": round(simBulkCpu / 1000, 2),
      "tags/s": Math.round(1000 / (median(bulk) / 1000)),
    };
  } finally {
    trust.dispose();
    await Promise.all([sim.child.stop(), echoOne.child.stop(), echoBulk.child.stop(), tlsEcho.child.stop()]);
  }
  return results;
}

// --- child side ----------------------------------------------------------------------------

function childConfig(members: number, readMax: number): SimulatorConfig {
  return {
    name: "BENCH2",
    host: "127.0.0.1",
    port: 0,
    tagsPerReadMax: readMax,
    tagsPerWriteMax: readMax,
    dataBlocks: [
      { name: "Bench", number: 1, members: Array.from({ length: members }, (_, i) => ({ name: `T${i}`, type: "Int", value: i % 30000 })) },
      { name: "Abs", number: 2, optimized: false, members: Array.from({ length: 64 }, (_, i) => ({ name: `T${i}`, type: "Int", value: i })) },
    ],
  };
}

async function runChild(kind: string, args: string[]): Promise<void> {
  let stop: () => Promise<void>;
  if (kind === "sim") {
    const sim = await Simulator.start(childConfig(Number(args[0]), Number(args[1])));
    console.log(JSON.stringify({ port: sim.port, certPem: sim.certificatePem }));
    stop = () => sim.stop();
  } else if (kind === "tls-echo") {
    const cert = generateSelfSigned({ commonName: "TLS-ECHO", ipAddresses: ["127.0.0.1"] });
    const answer = Buffer.alloc(Number(args[0]), 0x32);
    const server = tls.createServer({ key: cert.keyPem, cert: cert.certPem, minVersion: "TLSv1.3" }, (socket) => {
      socket.setNoDelay(true);
      socket.on("data", () => socket.write(answer));
      socket.on("error", () => socket.destroy());
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    console.log(JSON.stringify({ port: (server.address() as net.AddressInfo).port, certPem: cert.certPem }));
    stop = () => new Promise((r) => server.close(() => r()));
  } else {
    const cert = generateSelfSigned({ commonName: "ECHO", ipAddresses: ["127.0.0.1"] });
    const answer = Buffer.alloc(Number(args[0]), 0x32);
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      acceptSecureChannel(socket, { key: cert.keyPem, cert: cert.certPem, plc: "echo" }).then(
        (ch) => {
          ch.on("pdu", (v: number) => ch.sendPdu(v, answer));
          ch.start();
        },
        () => socket.destroy(),
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    console.log(JSON.stringify({ port: (server.address() as net.AddressInfo).port, certPem: cert.certPem }));
    stop = () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      });
  }
  readline.createInterface({ input: process.stdin }).on("line", (line) => {
    if (line === "cpu") {
      const u = process.cpuUsage();
      console.log(JSON.stringify({ cpu: u.user + u.system }));
    } else if (line === "stop") void stop().then(() => process.exit(0));
  });
  process.stdin.on("end", () => void stop().then(() => process.exit(0)));
}

if (require.main === module && process.argv[2] === "--child") {
  runChild(process.argv[3] ?? "", process.argv.slice(4)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
