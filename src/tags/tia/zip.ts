/**
 * Reads named entries of a zip archive (an .xlsx) with Node's zlib: the
 * end-of-central-directory record, the central directory, each entry's local
 * header, then stored or raw-deflated data. Decompressed size is capped per
 * entry and in total so a zip bomb stops early; encrypted and zip64 archives
 * are refused.
 */
import * as zlib from "node:zlib";
import { tagFileError } from "./errors.js";

export interface ZipLimits {
  /** Largest decompressed entry, in bytes. */
  maxEntryBytes: number;
  /** Largest sum of decompressed entries read from one archive. */
  maxTotalBytes: number;
  maxEntries: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntryBytes: 16 * 1024 * 1024, maxTotalBytes: 64 * 1024 * 1024, maxEntries: 10000 };

interface CentralEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export class ZipReader {
  private readonly entries = new Map<string, CentralEntry>();
  private inflated = 0;

  constructor(
    private readonly data: Buffer,
    private readonly file: string,
    private readonly limits: ZipLimits = DEFAULT_ZIP_LIMITS,
  ) {
    const eocd = this.findEndRecord();
    const count = data.readUInt16LE(eocd + 10);
    const dirSize = data.readUInt32LE(eocd + 12);
    const dirOffset = data.readUInt32LE(eocd + 16);
    if (count === 0xffff || dirOffset === 0xffffffff) this.fail("archive", "zip64 archives are not read");
    if (count > limits.maxEntries) this.fail("archive", `${count} entries, at most ${limits.maxEntries}`);
    if (dirOffset + dirSize > eocd) this.fail("archive", "central directory outside the file (truncated)");
    let p = dirOffset;
    for (let i = 0; i < count; i++) {
      if (p + 46 > eocd || data.readUInt32LE(p) !== CENTRAL) this.fail("archive", `central directory entry ${i + 1} is damaged`);
      const nameLength = data.readUInt16LE(p + 28);
      const entry: CentralEntry = {
        flags: data.readUInt16LE(p + 8),
        method: data.readUInt16LE(p + 10),
        crc: data.readUInt32LE(p + 16),
        compressedSize: data.readUInt32LE(p + 20),
        size: data.readUInt32LE(p + 24),
        name: data.toString("utf8", p + 46, p + 46 + nameLength),
        localOffset: data.readUInt32LE(p + 42),
      };
      this.entries.set(entry.name, entry);
      p += 46 + nameLength + data.readUInt16LE(p + 30) + data.readUInt16LE(p + 32);
    }
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The decompressed bytes of one entry. */
  read(name: string): Buffer {
    const entry = this.entries.get(name);
    if (entry === undefined) this.fail(name, "entry missing from the archive");
    if ((entry.flags & 1) !== 0) this.fail(name, "encrypted entries are not read");
    if (entry.size > this.limits.maxEntryBytes) this.fail(name, `entry declares ${entry.size} bytes, at most ${this.limits.maxEntryBytes}`);
    const p = entry.localOffset;
    if (p + 30 > this.data.length || this.data.readUInt32LE(p) !== LOCAL) this.fail(name, "local header is damaged");
    const start = p + 30 + this.data.readUInt16LE(p + 26) + this.data.readUInt16LE(p + 28);
    const end = start + entry.compressedSize;
    if (end > this.data.length) this.fail(name, "entry data runs past the end of the file (truncated)");
    const raw = this.data.subarray(start, end);
    const budget = Math.min(this.limits.maxEntryBytes, this.limits.maxTotalBytes - this.inflated);
    let out: Buffer;
    if (entry.method === 0) out = Buffer.from(raw);
    else if (entry.method === 8) {
      try {
        // maxOutputLength stops inflation at the cap whatever the header declares.
        out = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(budget, 1) });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ERR_BUFFER_TOO_LARGE" || (err instanceof RangeError)) this.fail(name, `decompresses to more than ${budget} bytes (refused)`);
        this.fail(name, `cannot inflate: ${(err as Error).message}`);
      }
    } else this.fail(name, `compression method ${entry.method} is not read (only stored and deflate)`);
    if (out.length > budget) this.fail(name, `decompresses to more than ${budget} bytes (refused)`);
    if (out.length !== entry.size) this.fail(name, `decompressed to ${out.length} bytes, the directory says ${entry.size}`);
    if (zlib.crc32(out) !== entry.crc) this.fail(name, "CRC mismatch (damaged archive)");
    this.inflated += out.length;
    return out;
  }

  private findEndRecord(): number {
    const d = this.data;
    const lowest = Math.max(0, d.length - 22 - 0xffff);
    for (let p = d.length - 22; p >= lowest; p--) if (d.readUInt32LE(p) === EOCD) return p;
    return this.fail("archive", d.subarray(0, 2).toString("latin1") === "PK" ? "no end of central directory (truncated zip)" : "not a zip archive (an .xlsx is one)");
  }

  private fail(element: string, reason: string): never {
    throw tagFileError({ file: this.file, line: 0, element }, reason);
  }
}
