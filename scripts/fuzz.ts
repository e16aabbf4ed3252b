/**
 * `npm run fuzz [-- --count N --seed S]`: seeded fuzzing of every decoder
 * with generated inputs and mutations of the real captures' messages.
 * A finding is anything but a typed S7Error, an input that takes longer than
 * a second, or heap growth beyond a band; the script prints its counts and
 * exits non-zero on any finding.
 */
import * as path from "node:path";
import * as fs from "node:fs";
import { S7Error } from "../src/errors.js";
import { encodeFrames } from "../src/protocol/frame.js";
import { DECODERS, type Decoder } from "./support/decoders.js";
import { readS7Messages } from "./support/pcap.js";
import { seededRandom, type SeededRandom } from "./support/random.js";
import { FIXTURES_DIR, readFixtureJson } from "./support/fixtures.js";
import { fromHex } from "../src/protocol/bytes.js";

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : fallback;
}

const COUNT = option("count", 100_000);
const SEED = option("seed", 20261124);
const SLOW_MS = 1000;

/** Real messages from the captures: the corpus the mutations start from. */
function corpus(): Buffer[] {
  const dir = path.join(FIXTURES_DIR, "captures");
  const out: Buffer[] = [];
  // COTP and TPKT as the captures carry them (whole TPKT packets and their TPDUs).
  const transport = readFixtureJson<{ csConnectionRequest: string; pairs: { cr: string; cc: string }[]; emptyDt: string }>("vectors", "transport.json");
  for (const hex of [transport.csConnectionRequest, transport.emptyDt, ...transport.pairs.flatMap((p) => [p.cr, p.cc])]) {
    const packet = fromHex(hex);
    out.push(packet, packet.subarray(4));
  }
  for (const file of fs.readdirSync(dir).filter((f) => /\.pcap(ng)?$/.test(f))) {
    for (const m of readS7Messages(path.join(dir, file))) {
      if (m.message.kind === "pdu") {
        out.push(m.message.pdu);
        // The framed form too, for the frame parser.
        out.push(Buffer.concat(encodeFrames(m.message.version, m.message.pdu)));
        // Bodies after the headers, for the body decoders.
        if (m.message.pdu.length > 14) out.push(m.message.pdu.subarray(14));
        // Objects and type lists where they start inside the message (a1 = object, ab/ac = type lists).
        const pdu = m.message.pdu;
        for (let i = 0; i < pdu.length; i++) {
          if (pdu[i] === 0xa1) out.push(pdu.subarray(i));
          else if ((pdu[i] === 0xab || pdu[i] === 0xac) && i + 1 < pdu.length) out.push(pdu.subarray(i + 1));
        }
      } else out.push(m.message.data);
    }
  }
  return out;
}

const PROTOCOL_BYTES = [0x00, 0x01, 0x02, 0x03, 0x10, 0x14, 0x15, 0x17, 0x20, 0x31, 0x32, 0x33, 0x72, 0x7f, 0x80, 0x8f, 0x90, 0xa1, 0xa2, 0xa3, 0xa4, 0xab, 0xac, 0xfe, 0xff];

function generate(rnd: SeededRandom, seeds: Buffer[]): Buffer {
  const mode = rnd.int(4);
  if (mode === 0) {
    const b = Buffer.alloc(rnd.int(96));
    for (let k = 0; k < b.length; k++) b[k] = rnd.int(3) === 0 ? rnd.u32() & 0xff : PROTOCOL_BYTES[rnd.int(PROTOCOL_BYTES.length)]!;
    return b;
  }
  const base = seeds[rnd.int(seeds.length)]!;
  if (mode === 1) return base.subarray(0, rnd.int(base.length + 1)); // truncation
  const b = Buffer.from(base);
  if (mode === 2) {
    for (let k = 1 + rnd.int(4); k > 0 && b.length > 0; k--) b[rnd.int(b.length)] = rnd.u32() & 0xff; // byte flips
    return b;
  }
  // Splice: a run of bytes repeated or inserted from another message (length fields, nesting).
  const other = seeds[rnd.int(seeds.length)]!;
  const at = rnd.int(b.length + 1);
  return Buffer.concat([b.subarray(0, at), other.subarray(rnd.int(other.length + 1)), b.subarray(at)]);
}

interface Finding {
  decoder: string;
  input: string;
  problem: string;
}

function run(name: string, decode: Decoder, seeds: Buffer[], rnd: SeededRandom, findings: Finding[]): { typedErrors: number; ok: number } {
  let typedErrors = 0;
  let ok = 0;
  for (let i = 0; i < COUNT; i++) {
    const input = generate(rnd, seeds);
    const started = process.hrtime.bigint();
    try {
      decode(input);
      ok++;
    } catch (err) {
      if (err instanceof S7Error) typedErrors++;
      else findings.push({ decoder: name, input: input.toString("hex").slice(0, 400), problem: `${(err as Error)?.name}: ${(err as Error)?.message}` });
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (ms > SLOW_MS) findings.push({ decoder: name, input: input.toString("hex").slice(0, 400), problem: `took ${ms.toFixed(0)} ms` });
  }
  return { typedErrors, ok };
}

function main(): void {
  const seeds = corpus();
  const findings: Finding[] = [];
  const heapBefore = process.memoryUsage().heapUsed;
  console.log(`fuzz: ${COUNT} inputs per decoder, seed ${SEED}, ${seeds.length} corpus messages from the captures`);
  for (const [name, decode] of DECODERS) {
    const rnd = seededRandom(SEED ^ name.length * 2654435761);
    const started = Date.now();
    const { typedErrors, ok } = run(name, decode, seeds, rnd, findings);
    console.log(`  ${name.padEnd(52)} ${String(ok).padStart(7)} decoded ${String(typedErrors).padStart(7)} typed errors  ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  global.gc?.();
  const growthMb = (process.memoryUsage().heapUsed - heapBefore) / 1048576;
  console.log(`heap growth over the run: ${growthMb.toFixed(1)} MB`);
  if (growthMb > 256) findings.push({ decoder: "all", input: "", problem: `heap grew by ${growthMb.toFixed(0)} MB` });
  if (findings.length > 0) {
    console.error(`${findings.length} finding(s):`);
    for (const f of findings.slice(0, 20)) console.error(`  [${f.decoder}] ${f.problem}\n    input ${f.input}`);
    process.exit(1);
  }
  console.log("no findings");
}

main();
