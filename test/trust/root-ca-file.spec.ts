import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import { readRootCaFile } from "../../src/trust/root-ca-file.js";
import { generateSelfSigned } from "../../src/pki/certificates.js";
import { ConfigError } from "../../src/errors.js";

describe("trust: root CA files of a connection (PEM or DER)", () => {
  let dir: string;
  const ca = generateSelfSigned({ commonName: "ROOT_FILE_CA", isCa: true });
  const other = generateSelfSigned({ commonName: "ROOT_FILE_CA2", isCa: true, keyPem: ca.keyPem });
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "s7-rootca-"))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reads one DER certificate, and a PEM bundle of several, as PEM blocks of the same certificates", () => {
    fs.writeFileSync(path.join(dir, "ca.cer"), ca.der);
    const fromDer = readRootCaFile(path.join(dir, "ca.cer"));
    assert.equal(fromDer.length, 1);
    assert.equal(new X509Certificate(fromDer[0]!).fingerprint256, new X509Certificate(ca.der).fingerprint256);
    fs.writeFileSync(path.join(dir, "bundle.pem"), ca.certPem + other.certPem);
    const fromPem = readRootCaFile(path.join(dir, "bundle.pem")).map((p) => new X509Certificate(p).subject);
    assert.deepEqual(fromPem, ["CN=ROOT_FILE_CA", "CN=ROOT_FILE_CA2"]);
  });

  it("refuses what is no certificate, a folder and a FIFO with a typed error naming the file, without blocking", () => {
    fs.writeFileSync(path.join(dir, "notes.txt"), "root CA: ask IT");
    assert.throws(() => readRootCaFile(path.join(dir, "notes.txt")), (e: unknown) => e instanceof ConfigError && /notes\.txt is neither PEM nor a DER certificate/.test(e.message));
    fs.writeFileSync(path.join(dir, "broken.der"), Buffer.from([0x30, 0x03, 0x02, 0x01]));
    assert.throws(() => readRootCaFile(path.join(dir, "broken.der")), (e: unknown) => e instanceof ConfigError && /broken\.der is neither PEM nor a DER certificate/.test(e.message));
    assert.throws(() => readRootCaFile(dir), (e: unknown) => e instanceof ConfigError && /not a regular file/.test(e.message));
    const fifo = path.join(dir, "ca.fifo");
    execFileSync("mkfifo", [fifo]);
    assert.throws(() => readRootCaFile(fifo), (e: unknown) => e instanceof ConfigError && /ca\.fifo: not a regular file/.test(e.message));
    assert.throws(() => readRootCaFile(path.join(dir, "missing.pem")), (e: unknown) => e instanceof ConfigError && /missing\.pem/.test(e.message));
  });
});
