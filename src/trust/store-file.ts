/**
 * Reading one file of the certificate store without ever blocking or
 * reading more than a cap: only regular files (a symbolic link only when it
 * resolves to a regular file inside the store), opened non-blocking so that
 * a FIFO swapped in after the check cannot stall a thread of the pool, the
 * size checked on the open descriptor, and at most cap + 1 bytes read.
 * Everything else is a StoreFileProblem saying why, in words for a listing.
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";

/** "ignored": not a file a person put there (FIFO, device, link out of the store); "unusable": a regular file that cannot be used. */
export class StoreFileProblem extends Error {
  constructor(
    message: string,
    readonly reason: "ignored" | "unusable",
  ) {
    super(message);
  }
}

function kind(st: fs.Stats): string {
  if (st.isFIFO()) return "a FIFO";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  if (st.isDirectory()) return "a folder";
  return "not a regular file";
}

function inside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

/**
 * The bytes of `file` (absolute), a regular file of at most `cap` bytes; with
 * a `root`, a symbolic link must lead to a file inside it.
 */
export async function readStoreFile(root: string | undefined, file: string, cap: number): Promise<Buffer> {
  let target = file;
  let st: fs.Stats;
  try {
    st = await fsp.lstat(file);
    if (st.isSymbolicLink()) {
      target = await fsp.realpath(file);
      if (root !== undefined && !inside(await fsp.realpath(root), target)) throw new StoreFileProblem("a symbolic link that leads outside the store; ignored", "ignored");
      st = await fsp.stat(target);
    }
  } catch (err) {
    if (err instanceof StoreFileProblem) throw err;
    throw new StoreFileProblem(`cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, "unusable");
  }
  if (!st.isFile()) throw new StoreFileProblem(`${kind(st)}, not a regular file; ignored`, "ignored");
  if (st.size > cap) throw new StoreFileProblem(`${st.size} bytes, larger than the limit of ${cap} bytes; not read`, "unusable");
  let handle: fsp.FileHandle;
  try {
    // In the store, `target` has no link left in it (lstat, or realpath): one swapped in meanwhile is not followed.
    handle = await fsp.open(target, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | (root !== undefined || target === file ? fs.constants.O_NOFOLLOW : 0));
  } catch (err) {
    throw new StoreFileProblem(`cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, "unusable");
  }
  try {
    const now = await handle.stat();
    if (!now.isFile()) throw new StoreFileProblem(`${kind(now)}, not a regular file; ignored`, "ignored");
    const buffer = Buffer.alloc(Math.min(cap, now.size) + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > cap) throw new StoreFileProblem(`larger than the limit of ${cap} bytes; not read`, "unusable");
    if (length > now.size) throw new StoreFileProblem("changed while it was read; read again at the next scan", "unusable");
    return buffer.subarray(0, length);
  } catch (err) {
    if (err instanceof StoreFileProblem) throw err;
    throw new StoreFileProblem(`cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, "unusable");
  } finally {
    await handle.close();
  }
}
