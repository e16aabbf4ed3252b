import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { S7Error } from "../../src/errors.js";
import { generateCrl } from "../../src/pki/crl.js";
import { CertificateStore } from "../../src/trust/store.js";
import { DeviceCertificateVerifier } from "../../src/trust/verifier.js";
import { useTempStore } from "./temp-store.js";
import { testPki, type TestPki } from "../support/pki.js";

const target = { plc: "PLC1", host: "127.0.0.1", port: 102 };

describe("trust: a watched store keeps its verdict inputs in memory and still sees every change at the next connect", function () {
  this.timeout(30_000);
  let pki: TestPki;
  // Watched, with a poll far beyond the test: only the catch-up scan of each snapshot notices changes.
  const tempStore = useTempStore("s7-cache-", { pollMs: 600_000, watch: true });
  let store: CertificateStore;
  beforeEach(() => {
    store = tempStore();
  });

  before(() => {
    pki = testPki();
  });

  const refused = (code: string) => (err: unknown) => err instanceof S7Error && err.code === code;

  it("no change → no re-read; a file moved into trusted/ by hand → the very next verification accepts it", async () => {
    const verifier = new DeviceCertificateVerifier({ store });
    const peer = { leaf: pki.selfSigned.der, intermediates: [] };
    await assert.rejects(verifier.verify(peer, target), refused("ERR_S7_UNTRUSTED"));
    const afterFirst = store.loads;
    await assert.rejects(verifier.verify(peer, target), refused("ERR_S7_UNTRUSTED"));
    const settled = store.loads; // the file written to untrusted/ by the first verification is read once
    for (let i = 0; i < 5; i++) await assert.rejects(verifier.verify(peer, target), refused("ERR_S7_UNTRUSTED"));
    assert.equal(store.loads, settled, "five unchanged verifications read nothing");
    assert.ok(settled - afterFirst <= 1);
    const name = fs.readdirSync(store.untrustedDir)[0]!;
    fs.renameSync(path.join(store.untrustedDir, name), path.join(store.trustedDir, name));
    const verdict = await verifier.verify(peer, target);
    assert.equal(verdict.trustedBy, "store");
    assert.equal(store.loads, settled + 1);
    fs.rmSync(path.join(store.trustedDir, name));
    await assert.rejects(verifier.verify(peer, target), refused("ERR_S7_UNTRUSTED"), "removal is seen at once too");
  });

  it("a CRL rewritten in place with the same size and its old mtime restored → the next verification applies it", async () => {
    const verifier = new DeviceCertificateVerifier({ store, rootCAs: [pki.root.certPem] });
    const peer = { leaf: pki.revoked.der, intermediates: [] };
    const crlFile = path.join(store.crlDir, "root.crl");
    // Two CRLs of equal length: one lists the leaf, the other lists a serial of the same length.
    const other = pki.revoked.serialNumber.replace(/.$/, (c) => (c === "0" ? "1" : "0"));
    fs.writeFileSync(crlFile, await generateCrl({ issuer: pki.root, revoked: [other], thisUpdate: new Date(Date.now() - 3600_000) }));
    const mtime = fs.statSync(crlFile).mtime;
    assert.equal((await verifier.verify(peer, target)).revocationChecked, true);
    const loads = store.loads;
    await verifier.verify(peer, target);
    assert.equal(store.loads, loads, "unchanged: served from memory");
    const listing = await generateCrl({ issuer: pki.root, revoked: [pki.revoked.serialNumber], thisUpdate: new Date(Date.now() - 3600_000) });
    assert.equal(listing.length, fs.statSync(crlFile).size, "same size");
    fs.writeFileSync(crlFile, listing);
    fs.utimesSync(crlFile, mtime, mtime);
    await assert.rejects(verifier.verify(peer, target), refused("ERR_S7_REVOKED"));
  });
});
