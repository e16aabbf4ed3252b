/** Shared pieces of the benchmarks: a trusted store for simulators, statistics, timing. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import { CertificateStore } from "../src/trust/store.js";
import { DeviceCertificateVerifier } from "../src/trust/verifier.js";
import type { Simulator } from "../src/simulator/simulator.js";

/** A store in a temporary folder that trusts the given simulators (as a person would). */
export function trustingVerifier(sims: Simulator[]): { verifier: DeviceCertificateVerifier; dispose(): void } {
  return trustingVerifierForPems(sims.map((s) => s.certificatePem));
}

/** The same for certificates given as PEM (simulators in other processes). */
export function trustingVerifierForPems(pems: string[]): { verifier: DeviceCertificateVerifier; dispose(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "s7-bench-"));
  for (const d of ["trusted/crl", "untrusted"]) fs.mkdirSync(path.join(dir, d), { recursive: true });
  pems.forEach((pem, i) => fs.writeFileSync(path.join(dir, "trusted", `sim${i}.der`), new X509Certificate(pem).raw));
  // Watched, as the connection nodes' stores are: the verdict inputs stay in memory between connects.
  const store = new CertificateStore(dir);
  store.watch();
  return {
    verifier: new DeviceCertificateVerifier({ store }),
    dispose: () => {
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const median = (values: number[]): number => percentile(values, 50);

/** Milliseconds of one call. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** p50/p99 of ours and of the floor measured in the same run, and their ratios. */
export function latencyFigures(ours: number[], floor: number[]): Record<string, number> {
  return {
    "ours p50 ms": round(median(ours), 3),
    "ours p99 ms": round(percentile(ours, 99), 3),
    "floor p50 ms": round(median(floor), 3),
    "floor p99 ms": round(percentile(floor, 99), 3),
    "ratio p50": round(median(ours) / median(floor)),
    "ratio p99": round(percentile(ours, 99) / percentile(floor, 99)),
  };
}
