/**
 * When a watched store may trust its folders' change events instead of
 * listing the folders at every verification.
 *
 * On Linux, fs.watch is inotify: the kernel queues the event inside the very
 * call that changes the folder (create, write, rename, remove, chmod), for
 * every process, on a file system the kernel itself keeps. Network and
 * user-space file systems (NFS, SMB, FUSE, 9p) can change without an event,
 * so only the local ones below are trusted. Other platforms are not relied
 * on: their stores are listed at every verification, as before.
 */
import * as fs from "node:fs";

/** statfs f_type of local Linux file systems whose changes all pass through the kernel. */
const LOCAL_LINUX_FILE_SYSTEMS: ReadonlySet<number> = new Set([
  0xef53, // ext2, ext3, ext4
  0x58465342, // xfs
  0x9123683e, // btrfs
  0x01021994, // tmpfs
  0xf2f52010, // f2fs
  0x2fc12fc1, // zfs
  0x794c7630, // overlayfs (containers)
]);

export function watchEventsReliable(dir: string, platform: NodeJS.Platform = process.platform): boolean {
  if (platform !== "linux" || typeof fs.statfsSync !== "function") return false;
  try {
    return LOCAL_LINUX_FILE_SYSTEMS.has(fs.statfsSync(dir).type);
  } catch {
    return false;
  }
}

/**
 * Resolves once the event loop has polled for I/O after this call: an
 * inotify event queued before the call has then been delivered to its
 * watcher. One setImmediate is not enough when the call comes from an I/O
 * callback (its poll phase has already collected its events); the second
 * runs after the next poll phase.
 */
export function afterPendingEvents(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}
