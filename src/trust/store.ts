/**
 * The device certificate store (docs/NODES.md §2 cert-trust): `trusted/`, `untrusted/`
 * and `trusted/crl/` under one folder. Regular files only and within size
 * caps (./store-file.ts): a FIFO, a device, a huge or an unreadable file is
 * a problem line, never a hang. Watched so that a person's changes (or the
 * cert-trust node's) take effect without a redeploy. A watched store keeps
 * what it read in memory: on a local file system whose change events are
 * reliable (./watch-reliability.ts) a verification touches no file until a
 * watcher reports a change, and then lists the folders and reads them again
 * only when an entry changed (name, inode, size or times); elsewhere it lists
 * them at every verification. An unwatched store (the command line) reads
 * them at every call. Writes are atomic (temporary file + rename); file
 * names come from the CN and the SHA-256 and cannot leave their folder;
 * `untrusted/` is capped. The software never writes into `trusted/` or
 * `issuers/` on its own: only trust/import actions a person asked for do.
 * `issuers/` holds root CA certificates (imported from files), which the
 * verifier uses beside the connection's own root CAs.
 */
import { EventEmitter } from "node:events";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { S7Error } from "../errors.js";
import type { CertificateSummary } from "../transport/verifier.js";
import { certificateDer, fingerprint256, normalizeFingerprint, parseCertificate, safeFileName, summarize } from "./certificate-info.js";
import { parseCrl, type ParsedCrl } from "./crl.js";
import { pemToDer } from "./pem.js";
import { readStoreFile, StoreFileProblem } from "./store-file.js";
import { planCertificateImport, type CertificateImportPlan } from "./certificate-import.js";
import { afterPendingEvents, watchEventsReliable } from "./watch-reliability.js";
import { printable } from "../printable.js";

export interface StoredCertificate extends CertificateSummary {
  /** Path relative to the store, e.g. "untrusted/PLC1-3f9a….der". */
  file: string;
  der: Buffer;
}

export interface StoredCrl {
  file: string;
  crl?: ParsedCrl;
  /** Why the file could not be used (corrupt, truncated, not a CRL). */
  error?: string;
}

export interface StoreSnapshot {
  trusted: StoredCertificate[];
  /** Root CAs of issuers/: trust anchors beside the connection's own root CA fields. */
  issuers: StoredCertificate[];
  untrusted: StoredCertificate[];
  crls: StoredCrl[];
  /** Unreadable files, for the log and the status. */
  problems: string[];
}

export interface StoreOptions {
  /** Most certificates kept in untrusted/ (oldest evicted). */
  maxUntrusted?: number;
  /** Most bytes kept in untrusted/. */
  maxUntrustedBytes?: number;
  /** Re-scan interval when fs.watch misses events (ms). */
  pollMs?: number;
  /**
   * Whether the folders' change events may stand in for listing them at each
   * verification. Default: decided from the file system (./watch-reliability.ts).
   */
  trustWatchEvents?: boolean;
}

const CERT_EXTENSIONS = new Set([".der", ".cer", ".crt", ".pem"]);
const CRL_EXTENSIONS = new Set([".crl", ".der", ".pem"]);
/** A controller certificate is a few kB; anything larger is not stored. */
export const MAX_CERTIFICATE_BYTES = 64 * 1024;
/** A CRL of a plant CA is small; even a large public CA's stays below this. */
export const MAX_CRL_BYTES = 8 * 1024 * 1024;

export class CertificateStore extends EventEmitter {
  readonly dir: string;
  private readonly maxUntrusted: number;
  private readonly maxUntrustedBytes: number;
  private readonly pollMs: number;
  private watchers: fs.FSWatcher[] = [];
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private last: Map<string, string> | undefined;
  private closed = false;
  private scanning: Promise<void> = Promise.resolve();
  private warned = new Set<string>();
  private cache: { key: string; snapshot: StoreSnapshot } | undefined;
  /** Every entry of the three folders with its identity, size and times, as of the last scan. */
  private folderKey = "";
  private loadCount = 0;
  private scanCount = 0;
  /**
   * Changes reported by the watchers (or made by the store) so far, and how many of them a
   * finished catch-up had seen when it began: equal means the memory is up to date. Counters
   * rather than a flag, so that a snapshot never takes the word of a catch-up still running.
   */
  private changesReported = 1;
  private changesCaughtUp = 0;
  /** changesReported when the last scan began (a scan that finds a change no one reported means dropped events). */
  private reportedAtLastScan = 0;
  /** All four folders are watched and their events can be relied on: snapshots may skip the file system. */
  private eventsTrusted = false;
  /** Counts watcher sets; a scan compares with the last one only when both ran under the same set. */
  private watchGeneration = 0;
  private lastScanGeneration = -1;
  /** Whether this store's change events are relied on: given, or decided once from the file system. */
  private trustWatchEvents: boolean | undefined;

  constructor(dir: string, options: StoreOptions = {}) {
    super();
    this.dir = path.resolve(dir);
    this.maxUntrusted = options.maxUntrusted ?? 50;
    this.maxUntrustedBytes = options.maxUntrustedBytes ?? 2 * 1024 * 1024;
    this.pollMs = options.pollMs ?? 2000;
    this.trustWatchEvents = options.trustWatchEvents;
  }

  get trustedDir(): string {
    return path.join(this.dir, "trusted");
  }
  get untrustedDir(): string {
    return path.join(this.dir, "untrusted");
  }
  get crlDir(): string {
    return path.join(this.dir, "trusted", "crl");
  }
  get issuersDir(): string {
    return path.join(this.dir, "issuers");
  }

  /** Creates the folders; a failure is a typed store error naming the folder. */
  async ensureFolders(): Promise<void> {
    // trusted/ first: crl/ lies inside it. Then the others at once (this runs before every snapshot).
    await this.ensureFolder(this.trustedDir);
    await Promise.all([this.ensureFolder(this.untrustedDir), this.ensureFolder(this.crlDir), this.ensureFolder(this.issuersDir)]);
  }

  private async ensureFolder(d: string): Promise<void> {
    // A closed store makes nothing: its folder may be being removed (a redeploy, a test's clean-up).
    if (this.closed) return;
    try {
      await fsp.mkdir(d, { recursive: true });
      await fsp.access(d, fs.constants.R_OK | fs.constants.W_OK);
    } catch (err) {
      throw new S7Error("ERR_S7_STORE", `certificate store folder is not usable: ${(err as Error).message}`, { file: d });
    }
  }

  /** Everything in the store: read now, or (watched) as last read when no entry has changed since. */
  async snapshot(): Promise<StoreSnapshot> {
    if (this.poll === undefined) {
      await this.ensureFolders();
      return this.load();
    }
    if (this.currentInMemory() !== undefined) {
      // No watcher has reported a change since the last catch-up. The event of a change made
      // before this call is queued already: let the event loop deliver it, then decide.
      await afterPendingEvents();
      const current = this.currentInMemory();
      if (current !== undefined) return current;
    }
    const seen = this.changesReported;
    await this.ensureFolders();
    // After a reported change, watchers on the folders as they are now (one removed and made
    // again is a new folder), set before the catch-up scan: a change after it is reported, one
    // before it is listed.
    if (seen !== this.changesCaughtUp) this.rewatch();
    // The catch-up: every change a verification sees has been announced (a file added and
    // removed between two polls is not lost), and the folders are read again only when an
    // entry changed.
    await this.scan();
    const key = this.folderKey;
    if (this.cache !== undefined && this.cache.key === key) {
      this.caughtUp(seen);
      return this.cache.snapshot;
    }
    // The key is taken before reading: a change during the read is seen at the next snapshot.
    const snapshot = await this.load();
    this.cache = { key, snapshot };
    this.caughtUp(seen);
    return snapshot;
  }

  /** How many times the folders were read and parsed (for tests: the work a snapshot did). */
  get loads(): number {
    return this.loadCount;
  }

  /** The snapshot in memory, when the events are relied on and none was reported since the last catch-up. */
  private currentInMemory(): StoreSnapshot | undefined {
    const cache = this.cache;
    const upToDate = this.eventsTrusted && this.changesCaughtUp === this.changesReported && cache !== undefined && cache.key === this.folderKey;
    return upToDate ? cache.snapshot : undefined;
  }

  /** How many times the folders were listed (for tests: a snapshot served from memory lists nothing). */
  get scans(): number {
    return this.scanCount;
  }

  /** Everything in the store, read and parsed now. */
  private async load(): Promise<StoreSnapshot> {
    this.loadCount++;
    const problems: string[] = [];
    const trusted = await this.readCertificates("trusted", problems);
    const untrusted = await this.readCertificates("untrusted", problems);
    const issuers = (await this.readCertificates("issuers", problems)).filter((c) => {
      // Only CA certificates are anchors; anything else in issuers/ is a problem line, never trusted.
      if (parseCertificate(c.der).ca) return true;
      problems.push(`${printable(c.file)}: not a CA certificate (CA:TRUE); ignored`);
      return false;
    });
    const crls: StoredCrl[] = [];
    for (const name of await listFiles(this.crlDir)) {
      if (!CRL_EXTENSIONS.has(path.extname(name).toLowerCase())) continue;
      const file = path.join("trusted", "crl", name);
      let raw: Buffer;
      try {
        raw = await readStoreFile(this.dir, path.join(this.crlDir, name), MAX_CRL_BYTES);
      } catch (err) {
        if (!(err instanceof StoreFileProblem) || err.reason === "unusable") {
          // A regular file that may be this CA's CRL but cannot be used: fail closed (verifier).
          const error = `CRL ${printable(file)} is unusable: ${(err as Error).message}`;
          crls.push({ file, error });
          problems.push(error);
        } else problems.push(`${printable(file)}: ${err.message}`);
        continue;
      }
      try {
        const der = raw.subarray(0, 32).toString("latin1").includes("-----BEGIN") ? pemToDer(raw.toString("latin1"), "X509 CRL") : raw;
        if (der === undefined) throw new Error("PEM file without an X509 CRL block");
        crls.push({ file, crl: await parseCrl(der) });
      } catch (err) {
        const error = `CRL ${printable(file)} is unusable: ${(err as Error).message}`;
        crls.push({ file, error });
        problems.push(error);
      }
    }
    this.warnNewProblems(problems);
    return { trusted, issuers, untrusted, crls, problems };
  }

  /**
   * Keeps an unknown controller certificate in untrusted/ (once), evicting the
   * oldest entries beyond the caps. Returns its file relative to the store.
   */
  async storeUntrusted(der: Buffer): Promise<string> {
    await this.ensureFolders();
    const x = parseCertificate(der);
    const name = safeFileName(x);
    const file = path.join("untrusted", name);
    if (der.length > MAX_CERTIFICATE_BYTES) {
      this.emit("warning", `certificate of ${der.length} bytes not stored in untrusted/ (limit ${MAX_CERTIFICATE_BYTES})`);
      return file;
    }
    // Present already, or the store is closed (its connection is gone; its folder may be going too).
    if (this.closed || fs.existsSync(path.join(this.untrustedDir, name))) return file;
    await atomicWrite(this.untrustedDir, name, der);
    await this.enforceCap(name);
    this.changed();
    return file;
  }

  /** Moves a certificate from untrusted/ to trusted/ (by fingerprint or file name). */
  async trust(id: string): Promise<StoredCertificate> {
    const snap = await this.snapshot();
    const found = find(snap.untrusted, id);
    if (found === undefined) {
      if (find(snap.trusted, id)) throw new S7Error("ERR_S7_STORE", `${printable(id)} is already trusted`);
      throw new S7Error("ERR_S7_STORE", `no certificate ${printable(id)} in untrusted/`, { file: this.untrustedDir });
    }
    const name = path.basename(found.file);
    await fsp.rename(path.join(this.dir, found.file), path.join(this.trustedDir, name));
    this.changed();
    return { ...found, file: path.join("trusted", name) };
  }

  /** Moves a certificate from trusted/ back to untrusted/. */
  async untrust(id: string): Promise<StoredCertificate> {
    const snap = await this.snapshot();
    const found = find(snap.trusted, id);
    if (found === undefined) throw new S7Error("ERR_S7_STORE", `no certificate ${printable(id)} in trusted/`, { file: this.trustedDir });
    const name = safeFileName(parseCertificate(found.der));
    await fsp.rename(path.join(this.dir, found.file), path.join(this.untrustedDir, name));
    this.changed();
    return { ...found, file: path.join("untrusted", name) };
  }

  async details(id: string): Promise<StoredCertificate> {
    const snap = await this.snapshot();
    const found = find([...snap.trusted, ...snap.untrusted], id);
    if (found === undefined) throw new S7Error("ERR_S7_STORE", `no certificate ${printable(id)} in the store`, { file: this.dir });
    return found;
  }

  /** Stores a CRL (DER or PEM) in trusted/crl/ after checking that it parses. */
  async importCrl(data: Buffer | string, filename?: string): Promise<{ file: string; crl: ParsedCrl }> {
    await this.ensureFolders();
    const raw = typeof data === "string" ? Buffer.from(data, "latin1") : data;
    const der = raw.subarray(0, 32).toString("latin1").includes("-----BEGIN") ? pemToDer(raw.toString("latin1"), "X509 CRL") : raw;
    if (der === undefined) throw new S7Error("ERR_S7_CRL", "no X509 CRL block in the PEM text");
    let crl: ParsedCrl;
    try {
      crl = await parseCrl(der);
    } catch (err) {
      throw new S7Error("ERR_S7_CRL", `not a CRL: ${(err as Error).message}`);
    }
    const base = (filename ? path.basename(filename) : crl.issuer).replace(/\.(crl|der|pem)$/i, "").replace(/[^A-Za-z0-9_-]+/g, "_").slice(0, 48) || "crl";
    const name = `${base}-${fingerprint256(der).slice(0, 16)}.crl`;
    await atomicWrite(this.crlDir, name, der);
    this.changed();
    return { file: path.join("trusted", "crl", name), crl };
  }

  /**
   * Imports a certificate file's bytes (`source` names the file in messages):
   * a CA into issuers/, an end-entity certificate into trusted/
   * (./certificate-import.ts refuses what the verifier would refuse). An
   * already present certificate is not written again. The caller has shown
   * the plan (`planImport`) and the person confirmed.
   */
  async importCertificate(data: Buffer, source: string): Promise<CertificateImportPlan & { file: string; alreadyPresent: boolean }> {
    const plan = await planCertificateImport(data, source);
    await this.ensureFolders();
    const name = safeFileName(parseCertificate(plan.der));
    const dir = plan.destination === "issuers" ? this.issuersDir : this.trustedDir;
    const snap = await this.snapshot();
    const present = (plan.destination === "issuers" ? snap.issuers : snap.trusted).find((c) => c.fingerprint256 === plan.certificate.fingerprint256);
    if (present !== undefined) return { ...plan, file: present.file, alreadyPresent: true };
    await atomicWrite(dir, name, plan.der);
    // The same certificate waiting in untrusted/ is settled now.
    const waiting = snap.untrusted.find((c) => c.fingerprint256 === plan.certificate.fingerprint256);
    if (waiting !== undefined && plan.destination === "trusted") await fsp.rm(path.join(this.dir, waiting.file), { force: true });
    this.changed();
    return { ...plan, file: path.join(plan.destination, name), alreadyPresent: false };
  }

  /** What importing these bytes would do, without writing anything. */
  planImport(data: Buffer, source: string): Promise<CertificateImportPlan> {
    return planCertificateImport(data, source);
  }

  /**
   * Watches the folders (fs.watch plus a slow poll for file systems without
   * events) and emits, for changes made here or by hand: "untrusted-stored"
   * (a new certificate in untrusted/), "trusted" (one appeared in trusted/),
   * "untrusted" (one left trusted/), "crl-changed", "issuers-changed" (a
   * root CA appeared in or left issuers/), then "changed".
   */
  watch(): void {
    if (this.closed || this.poll) return;
    void this.ensureFolders()
      .then(() => this.rewatch())
      .catch((err: unknown) => this.emit("warning", (err as Error).message));
    this.scanning = this.fingerprintFolders().then((m) => {
      this.last ??= m;
    });
    this.poll = setInterval(() => this.scheduleScan(), this.pollMs);
    this.poll.unref();
  }

  close(): void {
    this.closed = true;
    this.unwatch();
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
    this.poll = undefined;
    this.debounce = undefined;
    this.removeAllListeners();
  }

  // -------------------------------------------------------------------------

  /** (Re)places the watchers of the four folders; snapshots may rely on them only when all four are set. */
  private rewatch(): void {
    if (this.closed || this.poll === undefined) return;
    this.unwatch();
    this.watchGeneration++;
    let all = true;
    for (const d of [this.trustedDir, this.untrustedDir, this.crlDir, this.issuersDir]) {
      try {
        const w = fs.watch(d, () => this.changed());
        w.on("error", () => {
          // A watcher that failed reports nothing more: list the folders again from now on.
          this.eventsTrusted = false;
          this.changed();
        });
        this.watchers.push(w);
      } catch {
        // The poll and the catch-up of each snapshot still notice changes.
        all = false;
      }
    }
    this.eventsTrusted = all && (this.trustWatchEvents ??= watchEventsReliable(this.dir));
  }

  private unwatch(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    this.eventsTrusted = false;
  }

  /** Something in the folders changed: the next snapshot catches up, and listeners hear of it. */
  private changed(): void {
    this.changesReported++;
    this.scheduleScan();
  }

  private scheduleScan(): void {
    if (this.closed || this.debounce || this.poll === undefined) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.scan();
    }, 150);
    this.debounce.unref();
  }

  /** Scans one at a time, so that no change is announced twice. */
  private scan(): Promise<void> {
    this.scanning = this.scanning.then(() => this.scanOnce()).catch(() => undefined);
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    const keyBefore = this.folderKey;
    const reported = this.changesReported;
    const announced = reported !== this.reportedAtLastScan;
    this.reportedAtLastScan = reported;
    // The last listing was made while the present watchers were already set: every change
    // since then should have been reported.
    const comparable = this.lastScanGeneration === this.watchGeneration;
    const generation = this.watchGeneration;
    const now = await this.fingerprintFolders();
    this.lastScanGeneration = generation;
    if (comparable && generation === this.watchGeneration && this.folderKey !== keyBefore && !announced && this.changesReported === reported && this.eventsTrusted) {
      // The folders changed and no watcher said so: this file system drops events. Snapshots
      // list the folders at every verification from now on.
      this.trustWatchEventsOff();
    }
    const before = this.last;
    this.last = now;
    if (before === undefined || this.closed) return;
    const events: [string, { file: string }][] = [];
    for (const [file, sig] of now) {
      if (before.get(file) === sig) continue;
      if (file.startsWith("trusted/crl/")) events.push(["crl-changed", { file }]);
      else if (file.startsWith("issuers/")) events.push(["issuers-changed", await this.describe(file)]);
      else events.push([file.startsWith("trusted/") ? "trusted" : "untrusted-stored", await this.describe(file)]);
    }
    for (const file of before.keys()) {
      if (now.has(file)) continue;
      if (file.startsWith("trusted/crl/")) events.push(["crl-changed", { file }]);
      else if (file.startsWith("issuers/")) events.push(["issuers-changed", { file }]);
      else if (file.startsWith("trusted/")) events.push(["untrusted", { file }]);
    }
    if (events.length === 0 || this.closed) return;
    for (const [event, payload] of events) this.emit(event, payload);
    this.emit("changed");
  }

  /** The public facts of a store file, or just its name when it cannot be read. */
  private async describe(file: string): Promise<{ file: string } & Partial<CertificateSummary>> {
    try {
      const der = certificateDer(await readStoreFile(this.dir, path.join(this.dir, file), MAX_CERTIFICATE_BYTES));
      if (der) return { ...summarize(parseCertificate(der)), file };
    } catch {
      // Unreadable or gone: report the name only.
    }
    return { file };
  }

  /** A catch-up that began when `seen` changes had been reported has finished. */
  private caughtUp(seen: number): void {
    if (seen > this.changesCaughtUp) this.changesCaughtUp = seen;
  }

  private trustWatchEventsOff(): void {
    this.eventsTrusted = false;
    this.changesReported++;
    if (this.trustWatchEvents === false) return;
    this.trustWatchEvents = false;
    this.emit("warning", `certificate store ${printable(this.dir)}: a change on disk was not reported by the file system; the folders are listed at every verification from now on`);
  }

  /** file → size:mtime for every file, to notice changes. */
  private async fingerprintFolders(): Promise<Map<string, string>> {
    this.scanCount++;
    const out = new Map<string, string>();
    const key: string[] = [];
    // Every folder listed and every entry stat'ed at once: this runs before each verification,
    // and one round of parallel file-system calls costs a fraction of a sequence of them.
    const folders = [["trusted", this.trustedDir], ["untrusted", this.untrustedDir], ["trusted/crl", this.crlDir], ["issuers", this.issuersDir]] as const;
    const listed = await Promise.all(folders.map(async ([rel, abs]) => ({ rel, abs, names: await listFiles(abs) })));
    const entries = listed.flatMap(({ rel, abs, names }) => names.map((name) => ({ rel, abs, name })));
    const stats = await Promise.all(entries.map(({ abs, name }) => fsp.stat(path.join(abs, name)).catch(() => undefined)));
    entries.forEach(({ rel, name }, i) => {
      const st = stats[i];
      if (st === undefined) {
        // Removed between listing and stat, or a link that leads nowhere.
        key.push(`${rel}/${name}\0?`);
        return;
      }
      if (st.isFile()) out.set(`${rel}/${name}`, `${st.size}:${st.mtimeMs}`);
      // Inode and ctime too: a file replaced by rename, or rewritten within one mtime tick, still counts as changed.
      key.push(`${rel}/${name}\0${st.mode}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`);
    });
    this.folderKey = key.join("\n");
    return out;
  }

  private async readCertificates(folder: "trusted" | "untrusted" | "issuers", problems: string[]): Promise<StoredCertificate[]> {
    const dir = path.join(this.dir, folder);
    const out: StoredCertificate[] = [];
    for (const name of await listFiles(dir)) {
      if (!CERT_EXTENSIONS.has(path.extname(name).toLowerCase())) continue;
      const file = path.join(folder, name);
      try {
        const der = certificateDer(await readStoreFile(this.dir, path.join(dir, name), MAX_CERTIFICATE_BYTES));
        if (der === undefined) throw new Error("neither DER nor PEM");
        out.push({ ...summarize(parseCertificate(der, file)), file, der });
      } catch (err) {
        problems.push(`${printable(file)}: ${(err as Error).message}`);
      }
    }
    return out;
  }

  /** Each problem once as a "warning" event, again only after it went away and came back. */
  private warnNewProblems(problems: string[]): void {
    const now = new Set(problems);
    for (const p of now) if (!this.warned.has(p)) this.emit("warning", `certificate store ${printable(this.dir)}: ${p}`);
    this.warned = now;
  }

  private async enforceCap(keep: string): Promise<void> {
    const entries: { name: string; size: number; mtime: number }[] = [];
    for (const name of await listFiles(this.untrustedDir)) {
      try {
        const st = await fsp.stat(path.join(this.untrustedDir, name));
        if (st.isFile()) entries.push({ name, size: st.size, mtime: st.mtimeMs });
      } catch {
        // gone meanwhile
      }
    }
    entries.sort((a, b) => a.mtime - b.mtime);
    let count = entries.length;
    let bytes = entries.reduce((n, e) => n + e.size, 0);
    for (const e of entries) {
      if (count <= this.maxUntrusted && bytes <= this.maxUntrustedBytes) break;
      if (e.name === keep) continue;
      await fsp.rm(path.join(this.untrustedDir, e.name), { force: true });
      count--;
      bytes -= e.size;
      this.emit("warning", `untrusted/ is full (${this.maxUntrusted} certificates): removed the oldest, ${e.name}`);
    }
  }
}

/** Shortest fingerprint prefix accepted in place of the whole SHA-256. */
export const MIN_FINGERPRINT_PREFIX = 8;

/**
 * The certificate an id names: its file name, its whole SHA-256, or a
 * prefix of at least MIN_FINGERPRINT_PREFIX hex digits that only one
 * certificate of the list has (an ambiguous prefix is an error, never a guess).
 */
function find(list: StoredCertificate[], id: string): StoredCertificate | undefined {
  const byName = list.find((c) => path.basename(c.file) === path.basename(id) || c.file === id);
  if (byName !== undefined) return byName;
  const hexOnly = /^[0-9a-fA-F:\s]+$/.test(id);
  const fp = normalizeFingerprint(id);
  if (!hexOnly || fp.length < MIN_FINGERPRINT_PREFIX) return undefined;
  const matches = list.filter((c) => c.fingerprint256.startsWith(fp));
  if (matches.length > 1) {
    throw new S7Error("ERR_S7_STORE", `fingerprint prefix ${fp} matches ${matches.length} certificates (${matches.map((c) => printable(c.file)).join(", ")}): give more digits`);
  }
  return matches[0];
}

async function listFiles(dir: string): Promise<string[]> {
  try {
    return (await fsp.readdir(dir)).filter((n) => !n.startsWith("."));
  } catch {
    return [];
  }
}

async function atomicWrite(dir: string, name: string, data: Buffer): Promise<void> {
  const tmp = path.join(dir, `.tmp-${randomBytes(6).toString("hex")}`);
  await fsp.writeFile(tmp, data, { mode: 0o644 });
  await fsp.rename(tmp, path.join(dir, name));
}
