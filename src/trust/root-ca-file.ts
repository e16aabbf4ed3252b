/**
 * A root CA file named in a connection's settings: PEM (one or more
 * certificates) or a single DER certificate, as TIA Portal and most CAs export
 * them. Read at deploy, so synchronously, but only a regular file of a
 * certificate's size: a FIFO or a device never blocks a deploy.
 */
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import { ConfigError } from "../errors.js";
import { printable } from "../printable.js";
import { certificateDer } from "./certificate-info.js";
import { derToPem } from "./pem.js";
import { splitPem } from "./verifier.js";

/** A bundle of a few CA certificates in PEM stays far below this. */
const MAX_ROOT_CA_FILE_BYTES = 1024 * 1024;

/** The certificates of `file` as PEM blocks; a typed error naming the file otherwise. */
export function readRootCaFile(file: string): string[] {
  const shown = printable(file);
  let data: Buffer;
  let fd: number | undefined;
  try {
    // Opened without blocking and judged by what was opened, so a FIFO swapped in is never read.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new Error("not a regular file");
    if (st.size > MAX_ROOT_CA_FILE_BYTES) throw new Error(`${st.size} bytes, more than a root CA file holds (at most ${MAX_ROOT_CA_FILE_BYTES})`);
    data = Buffer.alloc(st.size);
    let read = 0;
    while (read < data.length) {
      const n = fs.readSync(fd, data, read, data.length - read, read);
      if (n === 0) break;
      read += n;
    }
    data = data.subarray(0, read);
  } catch (err) {
    throw new ConfigError(`cannot read the root CA file ${shown}: ${(err as Error).message}`, { file: shown });
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  if (data.subarray(0, 64).toString("latin1").includes("-----BEGIN")) {
    const pems = splitPem(data.toString("latin1"));
    if (pems.length === 0) throw new ConfigError(`no PEM certificate in the root CA file ${shown}`, { file: shown });
    return pems;
  }
  const der = certificateDer(data);
  if (der === undefined || !parses(der)) throw new ConfigError(`the root CA file ${shown} is neither PEM nor a DER certificate`, { file: shown });
  return [derToPem(der)];
}

function parses(der: Buffer): boolean {
  try {
    new X509Certificate(der);
    return true;
  } catch {
    return false;
  }
}
