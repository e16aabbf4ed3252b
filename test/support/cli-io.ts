/** A CliIO that collects what a command prints, for calling the command line in-process. */
import { Readable } from "node:stream";
import type { CliIO } from "../../src/cli/io.js";

/** Collects stdout and stderr; `stdin` is the text the command reads (none: no standard input). */
export function collectingIO(stdin?: string): CliIO & { out: string; err: string } {
  const o = { out: "", err: "" };
  return Object.assign(o, {
    stdout: (t: string) => void (o.out += t),
    stderr: (t: string) => void (o.err += t),
    env: {},
    signal: new AbortController().signal,
    ...(stdin === undefined ? {} : { stdin: Readable.from([stdin]) }),
  });
}
