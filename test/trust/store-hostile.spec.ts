import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { S7Error } from "../../src/errors.js";
import { printable } from "../../src/printable.js";
import { CertificateStore, MAX_CRL_BYTES } from "../../src/trust/store.js";
import { DeviceCertificateVerifier } from "../../src/trust/verifier.js";
import { useTempStore } from "./temp-store.js";
import { testPki, type TestPki } from "../support/pki.js";

const target = { plc: "PLC1", host: "127.0.0.1", port: 102 };
const GiB = 1024 * 1024 * 1024;

function mkfifo(file: string): void {
  execFileSync("mkfifo", [file]);
}

/** A sparse file: `size` bytes on paper, almost nothing on disk. */
function sparse(file: string, size: number): void {
  const fd = fs.openSync(file, "w");
  fs.ftruncateSync(fd, size);
  fs.closeSync(fd);
}

describe("trust: a store hostile files cannot stall (docs/RELIABILITY-MATRIX.md: store, regular files only, escaping)", function () {
  this.timeout(30_000);
  let pki: TestPki;
  const tempStore = useTempStore("s7-hostile-");
  let store: CertificateStore;
  let dir: string;
  beforeEach(() => {
    store = tempStore();
    dir = store.dir;
  });
  const outside: string[] = [];

  before(() => {
    pki = testPki();
  });
  afterEach(() => {
    for (const f of outside.splice(0)) fs.rmSync(f, { force: true });
  });

  it("a FIFO in trusted/, untrusted/ and trusted/crl/ is a problem line; the snapshot completes and the regular files beside it are used", async () => {
    for (const f of ["trusted/pipe.der", "untrusted/pipe.der", "trusted/crl/pipe.crl"]) mkfifo(path.join(dir, f));
    fs.writeFileSync(path.join(store.trustedDir, "plc.der"), pki.selfSigned.der);
    const warnings: string[] = [];
    store.on("warning", (w: string) => warnings.push(w));
    const snap = await store.snapshot();
    assert.equal(snap.trusted.length, 1, "the regular file next to the FIFO is read");
    assert.equal(snap.crls.length, 0, "a FIFO is not a CRL");
    for (const f of ["trusted/pipe.der", "untrusted/pipe.der", "trusted/crl/pipe.crl"]) {
      assert.ok(snap.problems.some((p) => p.startsWith(f) && /a FIFO, not a regular file/.test(p)), `${f}: ${snap.problems.join(" | ")}`);
    }
    assert.equal(warnings.length, 3, "each problem is a warning");
    await store.snapshot();
    assert.equal(warnings.length, 3, "a problem is warned once, not at every snapshot");
    // The verdict of a trusted certificate is unaffected.
    const verdict = await new DeviceCertificateVerifier({ store }).verify({ leaf: pki.selfSigned.der, intermediates: [] }, target);
    assert.equal(verdict.trustedBy, "store");
  });

  it("a 1 GiB sparse file in trusted/crl/ is never read: problem line, CA-issued certificates fail closed, memory stays small", async () => {
    sparse(path.join(store.crlDir, "huge.crl"), GiB);
    sparse(path.join(store.trustedDir, "huge.der"), GiB);
    const before = process.memoryUsage().rss;
    const snap = await store.snapshot();
    const grown = process.memoryUsage().rss - before;
    assert.ok(grown < 64 * 1024 * 1024, `rss grew by ${grown} bytes`);
    assert.ok(snap.problems.some((p) => p.includes(`trusted/crl/huge.crl is unusable: ${GiB} bytes, larger than the limit of ${MAX_CRL_BYTES} bytes`)), snap.problems.join(" | "));
    assert.ok(snap.problems.some((p) => p.startsWith("trusted/huge.der") && p.includes("larger than the limit")), snap.problems.join(" | "));
    // An oversized CRL may be this CA's: fail closed, as for a corrupt one.
    await assert.rejects(new DeviceCertificateVerifier({ store, rootCAs: [pki.root.certPem] }).verify({ leaf: pki.leaf.der, intermediates: [] }, target), (err: unknown) => err instanceof S7Error && err.code === "ERR_S7_CRL" && /huge\.crl is unusable/.test(err.message));
  });

  it("a CRL file one byte above the cap is refused unread, as an unusable CRL", async () => {
    fs.writeFileSync(path.join(store.crlDir, "big.crl"), Buffer.alloc(MAX_CRL_BYTES + 1, 0x30));
    const snap = await store.snapshot();
    assert.ok(snap.crls.some((c) => c.file.endsWith("big.crl") && /larger than the limit/.test(c.error ?? "")), JSON.stringify(snap.crls));
  });

  it("symbolic links: followed inside the store, refused when they lead outside or nowhere", async () => {
    const real = path.join(store.untrustedDir, "real.der");
    fs.writeFileSync(real, pki.selfSigned.der);
    fs.symlinkSync(real, path.join(store.trustedDir, "inside.der"));
    const secret = path.join(os.tmpdir(), `s7-outside-${process.pid}.der`);
    outside.push(secret);
    fs.writeFileSync(secret, pki.leaf.der);
    fs.symlinkSync(secret, path.join(store.trustedDir, "outside.der"));
    fs.symlinkSync("/dev/zero", path.join(store.trustedDir, "zero.der"));
    fs.symlinkSync(path.join(dir, "gone.der"), path.join(store.trustedDir, "dangling.der"));
    const snap = await store.snapshot();
    assert.deepEqual(snap.trusted.map((c) => c.file), ["trusted/inside.der"]);
    assert.ok(snap.problems.some((p) => p.startsWith("trusted/outside.der") && /leads outside the store/.test(p)));
    assert.ok(snap.problems.some((p) => p.startsWith("trusted/zero.der") && /leads outside the store/.test(p)));
    assert.ok(snap.problems.some((p) => p.startsWith("trusted/dangling.der") && /cannot be read \(ENOENT\)/.test(p)));
  });

  it("a device or folder with a certificate name is a problem line, not read", async () => {
    fs.mkdirSync(path.join(store.trustedDir, "folder.der"));
    const snap = await store.snapshot();
    assert.ok(snap.problems.some((p) => p.startsWith("trusted/folder.der") && /a folder, not a regular file/.test(p)), snap.problems.join(" | "));
  });

  it("file names with control characters reach problem lines and warnings escaped", async () => {
    fs.writeFileSync(path.join(store.trustedDir, "evil\u001b[2J\rname\u202e.der"), "not a certificate");
    const warnings: string[] = [];
    store.on("warning", (w: string) => warnings.push(w));
    const snap = await store.snapshot();
    const line = snap.problems.find((p) => p.includes("evil"));
    assert.equal(line, "trusted/evil\\x1b[2J\\rname\\u202e.der: neither DER nor PEM");
    assert.ok(warnings.some((w) => w.includes("evil\\x1b[2J\\rname\\u202e.der")));
    assert.ok(!/[\u0000-\u001f\u202e]/.test(warnings.join("")), "no control character in a warning");
  });

  it("printable() escapes C0, DEL, C1, line separators, bidi controls and lone surrogates, and keeps other text", () => {
    assert.equal(printable("plain CN=Linie 7 ÄÖÜ 日本 😀"), "plain CN=Linie 7 ÄÖÜ 日本 😀");
    assert.equal(printable("a\nb\tc\r\u0000\u007f\u0085"), "a\\nb\\tc\\r\\x00\\x7f\\x85");
    assert.equal(printable("\u2028\u2029\u202e\u2066\ufeff"), "\\u2028\\u2029\\u202e\\u2066\\ufeff");
    assert.equal(printable("x\ud800y\udc00"), "x\\ud800y\\udc00");
    assert.equal(printable("back\\slash"), "back\\\\slash", "an escape in the input cannot pose as one of ours");
  });
});
