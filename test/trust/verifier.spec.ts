import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { S7Error } from "../../src/errors.js";
import { CertificateStore } from "../../src/trust/store.js";
import { DeviceCertificateVerifier, type VerifierOptions } from "../../src/trust/verifier.js";
import { generateCrl } from "../../src/pki/crl.js";
import type { IssuedCertificate } from "../../src/pki/certificates.js";
import type { TrustVerdict } from "../../src/transport/verifier.js";
import { testPki, type TestPki } from "../support/pki.js";

const target = { plc: "PLC1", host: "127.0.0.1", port: 102 };

/** A store one level below a private folder, so a file escaping the store would land where the test looks. */
function tempStore(): CertificateStore {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "s7-store-")), "pki");
  for (const d of ["trusted/crl", "untrusted"]) fs.mkdirSync(path.join(dir, d), { recursive: true });
  return new CertificateStore(dir);
}

function rejects(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  return assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof S7Error, `not an S7Error: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    assert.equal(err.plc, "PLC1");
    return true;
  });
}

function files(store: CertificateStore, folder: string): string[] {
  return fs.readdirSync(path.join(store.dir, folder)).filter((f) => !f.startsWith("."));
}

function trustFile(store: CertificateStore, der: Buffer, name = "trusted.der"): void {
  fs.mkdirSync(store.trustedDir, { recursive: true });
  fs.writeFileSync(path.join(store.trustedDir, name), der);
}

describe("trust: certificate store and verifier (docs/RELIABILITY-MATRIX.md, certificate lines)", function () {
  this.timeout(30000);
  let pki: TestPki;
  let store: CertificateStore;
  const verifier = (extra: Partial<VerifierOptions> = {}): DeviceCertificateVerifier => new DeviceCertificateVerifier({ store, ...extra });
  const peer = (c: IssuedCertificate | Buffer, intermediates: Buffer[] = []) => ({ leaf: Buffer.isBuffer(c) ? c : c.der, intermediates });

  before(() => {
    pki = testPki();
  });
  beforeEach(() => {
    store = tempStore();
  });
  afterEach(() => {
    store.close();
    fs.rmSync(path.dirname(store.dir), { recursive: true, force: true });
  });

  it("Unknown self-signed PLC cert → refused, DER written once to untrusted/<safe-name>.der, error names that file", async () => {
    await rejects(verifier().verify(peer(pki.selfSigned), target), "ERR_S7_UNTRUSTED", /manual trust required — move untrusted\/PLC_SELF-[0-9a-f]{64}\.der/);
    const stored = files(store, "untrusted");
    assert.deepEqual(stored, [`PLC_SELF-${pki.selfSigned.fingerprint256}.der`]);
    assert.ok(fs.readFileSync(path.join(store.untrustedDir, stored[0]!)).equals(pki.selfSigned.der));
    assert.deepEqual(files(store, "trusted"), ["crl"], "trusted/ untouched");
  });

  it("Same unknown cert seen again → no duplicate file; the same typed error", async () => {
    await rejects(verifier().verify(peer(pki.selfSigned), target), "ERR_S7_UNTRUSTED");
    await rejects(verifier().verify(peer(pki.selfSigned), target), "ERR_S7_UNTRUSTED");
    assert.equal(files(store, "untrusted").length, 1);
  });

  it("Person moves the file from untrusted/ to trusted/ → next connection attempt succeeds without a restart", async () => {
    const v = verifier();
    await rejects(v.verify(peer(pki.selfSigned), target), "ERR_S7_UNTRUSTED");
    const name = files(store, "untrusted")[0]!;
    fs.renameSync(path.join(store.untrustedDir, name), path.join(store.trustedDir, name));
    const verdict = await v.verify(peer(pki.selfSigned), target);
    assert.equal(verdict.trustedBy, "store");
    assert.equal(verdict.certificate.fingerprint256, pki.selfSigned.fingerprint256);
  });

  it("File removed from trusted/ → next connection refused as untrusted", async () => {
    trustFile(store, pki.selfSigned.der);
    const v = verifier();
    await v.verify(peer(pki.selfSigned), target);
    fs.rmSync(path.join(store.trustedDir, "trusted.der"));
    await rejects(v.verify(peer(pki.selfSigned), target), "ERR_S7_UNTRUSTED");
  });

  it("trusted/ file with the same subject but a different key/DER → refused (trust is by exact DER)", async () => {
    trustFile(store, pki.selfSigned.der);
    await rejects(verifier().verify(peer(pki.selfSignedSameName), target), "ERR_S7_UNTRUSTED");
  });

  it("Trusted self-signed cert with a tampered signature → refused (bad signature), not accepted by hash alone", async () => {
    trustFile(store, pki.badSignatureDer);
    await rejects(verifier().verify(peer(pki.badSignatureDer), target), "ERR_S7_BAD_SIGNATURE", /bad signature/);
  });

  it("Trusted self-signed cert in PEM form dropped by a person → accepted", async () => {
    trustFile(store, Buffer.from(pki.selfSigned.certPem), "plc.pem");
    assert.equal((await verifier().verify(peer(pki.selfSigned), target)).trustedBy, "store");
  });

  it("Leaf issued by an imported root CA, with or without a valid CRL → accepted automatically", async () => {
    const v = verifier({ rootCAs: [pki.root.certPem] });
    const without = await v.verify(peer(pki.leaf), target);
    assert.equal(without.trustedBy, "root-ca");
    assert.equal(without.revocationChecked, false);
    assert.ok(without.warnings.some((w) => w.code === "REVOCATION_NOT_CHECKED" && /revocation not checked/.test(w.message)));
    await store.importCrl(await generateCrl({ issuer: pki.root, revoked: [pki.revoked.serialNumber] }));
    const withCrl = await v.verify(peer(pki.leaf), target);
    assert.equal(withCrl.revocationChecked, true);
    assert.deepEqual(withCrl.warnings, []);
  });

  it("Leaf issued via an intermediate the controller sends, chaining to the imported root → accepted", async () => {
    const verdict = await verifier({ rootCAs: [pki.root.certPem] }).verify(peer(pki.leafViaIntermediate, [pki.intermediate.der]), target);
    assert.equal(verdict.trustedBy, "root-ca");
  });

  it("Leaf issued by an unknown CA → refused as untrusted (chain incomplete); leaf written to untrusted/", async () => {
    await rejects(verifier({ rootCAs: [pki.root.certPem] }).verify(peer(pki.leafOfOtherRoot), target), "ERR_S7_UNTRUSTED", /import the issuing root certificate/);
    assert.equal(files(store, "untrusted").length, 1);
  });

  it("CA present only as intermediate/issuer but not trusted → refused (issuer-only does not grant trust)", async () => {
    await rejects(verifier({ rootCAs: [] }).verify(peer(pki.leafViaIntermediate, [pki.intermediate.der, pki.root.der]), target), "ERR_S7_UNTRUSTED");
  });

  it("Chain deeper than the limit → refused with a typed error, no hang", async () => {
    await rejects(verifier({ rootCAs: [pki.root.certPem], maxChainLength: 2 }).verify(peer(pki.leafViaIntermediate, [pki.intermediate.der]), target), "ERR_S7_CHAIN");
  });

  it("A looping chain (two CAs that issued each other) → refused with a typed error, no hang", async () => {
    const { generateRsaKeyPem, issueCertificate } = await import("../../src/pki/certificates.js");
    const keyA = generateRsaKeyPem();
    const keyB = generateRsaKeyPem();
    const a0 = issueCertificate({ commonName: "Loop A", isCa: true, keyPem: keyA });
    const b = issueCertificate({ commonName: "Loop B", isCa: true, keyPem: keyB, issuer: a0 });
    const a = issueCertificate({ commonName: "Loop A", isCa: true, keyPem: keyA, issuer: b });
    const leaf = issueCertificate({ commonName: "PLC_LOOP", ipAddresses: ["127.0.0.1"], issuer: a });
    await rejects(verifier({ rootCAs: [pki.root.certPem] }).verify(peer(leaf, [a.der, b.der]), target), "ERR_S7_CHAIN", /loops/);
  });

  it("CA certificate presented as the leaf (CA:TRUE) → refused (use not allowed)", async () => {
    await rejects(verifier({ rootCAs: [pki.root.certPem] }).verify(peer(pki.caAsLeaf), target), "ERR_S7_CERT_USE", /CA:TRUE/);
  });

  it("Cert signed by a trusted end-entity (CA:FALSE) cert → refused", async () => {
    await rejects(verifier({ rootCAs: [pki.root.certPem, pki.endEntityIssuer.certPem] }).verify(peer(pki.signedByEndEntity), target), "ERR_S7_CERT_USE", /not a CA/);
  });

  it("Revoked leaf listed in a DER CRL in trusted/crl/ → refused \"revoked\", not \"untrusted\"", async () => {
    fs.writeFileSync(path.join(store.crlDir, "root.crl"), await generateCrl({ issuer: pki.root, revoked: [pki.revoked.serialNumber] }));
    await rejects(verifier({ rootCAs: [pki.root.certPem] }).verify(peer(pki.revoked), target), "ERR_S7_REVOKED", /revoked by trusted\/crl\/root\.crl/);
  });

  it("CRL in trusted/crl/ replaced in place by a newer CRL adding the leaf → next connection refused", async () => {
    const v = verifier({ rootCAs: [pki.root.certPem] });
    const crlFile = path.join(store.crlDir, "root.crl");
    await store.ensureFolders();
    fs.writeFileSync(crlFile, await generateCrl({ issuer: pki.root, revoked: [] }));
    await v.verify(peer(pki.revoked), target);
    fs.writeFileSync(crlFile, await generateCrl({ issuer: pki.root, revoked: [pki.revoked.serialNumber] }));
    await rejects(v.verify(peer(pki.revoked), target), "ERR_S7_REVOKED");
  });

  it("CRL file written half-way, then completed → the final content is used; no permanently ignored CRL", async () => {
    const v = verifier({ rootCAs: [pki.root.certPem] });
    const crl = await generateCrl({ issuer: pki.root, revoked: [pki.revoked.serialNumber] });
    await store.ensureFolders();
    fs.writeFileSync(path.join(store.crlDir, "root.crl"), crl.subarray(0, crl.length >> 1));
    await rejects(v.verify(peer(pki.revoked), target), "ERR_S7_CRL");
    fs.writeFileSync(path.join(store.crlDir, "root.crl"), crl);
    await rejects(v.verify(peer(pki.revoked), target), "ERR_S7_REVOKED");
  });

  it("Corrupt, PEM-instead-of-DER or truncated CRL → store error reported, connections to that CA fail closed, no crash", async () => {
    await store.ensureFolders();
    fs.writeFileSync(path.join(store.crlDir, "junk.crl"), Buffer.from("this is not a CRL"));
    const snap = await store.snapshot();
    assert.ok(snap.problems.some((p) => /junk\.crl is unusable/.test(p)));
    await rejects(verifier({ rootCAs: [pki.root.certPem] }).verify(peer(pki.leaf), target), "ERR_S7_CRL", /junk\.crl/);
    // A CRL in PEM form is read, not refused.
    const pem = `-----BEGIN X509 CRL-----\n${(await generateCrl({ issuer: pki.root, revoked: [] })).toString("base64")}\n-----END X509 CRL-----\n`;
    fs.rmSync(path.join(store.crlDir, "junk.crl"));
    fs.writeFileSync(path.join(store.crlDir, "root.pem"), pem);
    assert.equal((await verifier({ rootCAs: [pki.root.certPem] }).verify(peer(pki.leaf), target)).revocationChecked, true);
  });

  it("CRL with bad signature → rejected loudly; certificates of its issuer fail closed with a CRL-specific error", async () => {
    // Signed by another key that claims the root's name: the issuer name matches, the signature does not.
    const impostor = { certPem: pki.root.certPem, keyPem: pki.otherRoot.keyPem };
    await store.ensureFolders();
    fs.writeFileSync(path.join(store.crlDir, "forged.crl"), await generateCrl({ issuer: impostor, revoked: [] }));
    await rejects(verifier({ rootCAs: [pki.root.certPem] }).verify(peer(pki.leaf), target), "ERR_S7_CRL", /bad signature/);
  });

  it("CRL nextUpdate in the past → still applied, warning; thisUpdate in the future → warning (clock)", async () => {
    await store.ensureFolders();
    const past = new Date(Date.now() - 86400_000);
    fs.writeFileSync(path.join(store.crlDir, "old.crl"), await generateCrl({ issuer: pki.root, revoked: [pki.revoked.serialNumber], thisUpdate: new Date(Date.now() - 10 * 86400_000), nextUpdate: past }));
    const v = verifier({ rootCAs: [pki.root.certPem] });
    await rejects(v.verify(peer(pki.revoked), target), "ERR_S7_REVOKED");
    assert.ok((await v.verify(peer(pki.leaf), target)).warnings.some((w) => w.code === "CRL_EXPIRED"));
    fs.writeFileSync(path.join(store.crlDir, "old.crl"), await generateCrl({ issuer: pki.root, revoked: [], thisUpdate: new Date(Date.now() + 86400_000) }));
    assert.ok((await v.verify(peer(pki.leaf), target)).warnings.some((w) => w.code === "CRL_NOT_YET_VALID" && /clock/.test(w.message)));
  });

  it("Manually trusted self-signed PLC while CRLs for other CAs exist → still accepted (no UNABLE_TO_GET_CRL cross-effect)", async () => {
    trustFile(store, pki.selfSigned.der);
    fs.writeFileSync(path.join(store.crlDir, "root.crl"), await generateCrl({ issuer: pki.root, revoked: [pki.revoked.serialNumber] }));
    assert.equal((await verifier({ rootCAs: [pki.root.certPem] }).verify(peer(pki.selfSigned), target)).trustedBy, "store");
  });

  it("Expired, unknown cert → reported as \"untrusted\" (trust check before validity), file written to untrusted/", async () => {
    await rejects(verifier().verify(peer(pki.expired), target), "ERR_S7_UNTRUSTED");
    assert.equal(files(store, "untrusted").length, 1);
  });

  it("Expired but trusted cert on a new connection → connects with a warning naming the validity dates; strict → refused \"expired\"", async () => {
    trustFile(store, pki.expired.der);
    const verdict: TrustVerdict = await verifier().verify(peer(pki.expired), target);
    const w = verdict.warnings.find((x) => x.code === "EXPIRED");
    assert.ok(w && /certificate expired \(valid \d{4}-\d\d-\d\dT.* … \d{4}-/.test(w.message), JSON.stringify(verdict.warnings));
    await rejects(verifier({ rejectExpired: true }).verify(peer(pki.expired), target), "ERR_S7_EXPIRED", /reject expired certificates/);
    // The same policy for a CA-issued one.
    assert.ok((await verifier({ rootCAs: [pki.root.certPem] }).verify(peer(pki.expiredCaIssued), target)).warnings.some((x) => x.code === "EXPIRED"));
  });

  it("Not-yet-valid cert → same policy as expired; the message mentions a possible clock problem", async () => {
    trustFile(store, pki.notYetValid.der);
    const verdict = await verifier().verify(peer(pki.notYetValid), target);
    assert.ok(verdict.warnings.some((w) => w.code === "NOT_YET_VALID" && /clock/.test(w.message)));
    await rejects(verifier({ rejectExpired: true }).verify(peer(pki.notYetValid), target), "ERR_S7_NOT_YET_VALID", /clock/);
  });

  it("CA-issued cert whose IP SANs do not include the dialled address → refused \"address not in certificate\"; no IP SAN → accepted, details say so", async () => {
    const v = verifier({ rootCAs: [pki.root.certPem] });
    await rejects(v.verify(peer(pki.leafOtherIp), target), "ERR_S7_ADDRESS_MISMATCH", /address not in certificate: dialled 127\.0\.0\.1, the certificate names 192\.0\.2\.99/);
    const noIp = await v.verify(peer(pki.leafNoIp), target);
    assert.ok(noIp.warnings.some((w) => w.code === "NO_IP_IN_CERTIFICATE"));
    // With the check off, the mismatch is accepted.
    assert.equal((await verifier({ rootCAs: [pki.root.certPem], checkAddress: false }).verify(peer(pki.leafOtherIp), target)).trustedBy, "root-ca");
  });

  it("The identity check uses the dialled IP: the same certificate dialled at another address is refused", async () => {
    const v = verifier({ rootCAs: [pki.root.certPem] });
    assert.equal((await v.verify(peer(pki.leaf), target)).trustedBy, "root-ca");
    await rejects(v.verify(peer(pki.leaf), { ...target, host: "127.0.0.2" }), "ERR_S7_ADDRESS_MISMATCH", /dialled 127\.0\.0\.2/);
  });

  it("Hostile CN (../../x, a/b, control characters, 10 kB CN) → filename sanitised, stays inside untrusted/, includes the SHA-256", async () => {
    const { generateSelfSigned } = await import("../../src/pki/certificates.js");
    for (const cn of ["../../x", "a/b", "ctl\u0001\u0007\n", "x".repeat(10_000)]) {
      const cert = generateSelfSigned({ commonName: cn });
      await rejects(verifier().verify(peer(cert), target), "ERR_S7_UNTRUSTED");
      const name = files(store, "untrusted").find((f) => f.endsWith(`${cert.fingerprint256}.der`));
      assert.ok(name, `no file for CN ${JSON.stringify(cn.slice(0, 20))}`);
      assert.match(name!, /^[A-Za-z0-9_-]{0,48}-?[0-9a-f]{64}\.der$/);
    }
    assert.deepEqual(fs.readdirSync(path.dirname(store.dir)).filter((f) => f === "x"), []);
  });

  it("Flood of distinct unknown certs → untrusted/ capped, oldest evicted with a logged warning; trusted/ never touched", async () => {
    store.close();
    store = new CertificateStore(store.dir, { maxUntrusted: 3 });
    const warnings: string[] = [];
    store.on("warning", (w: string) => warnings.push(w));
    const { generateSelfSigned } = await import("../../src/pki/certificates.js");
    for (let i = 0; i < 5; i++) await rejects(verifier().verify(peer(generateSelfSigned({ commonName: `FLOOD_${i}` })), target), "ERR_S7_UNTRUSTED");
    const left = files(store, "untrusted");
    assert.equal(left.length, 3);
    assert.ok(left.some((f) => f.startsWith("FLOOD_4-")), "the newest is kept");
    assert.ok(warnings.length >= 2 && /untrusted\/ is full/.test(warnings[0]!));
    assert.deepEqual(files(store, "trusted"), ["crl"]);
  });

  it("Store folders missing or unreadable at start-up → typed configuration error, no crash; recovery when the folders appear", async () => {
    const blocker = path.join(os.tmpdir(), `s7-blocked-${process.pid}`);
    fs.writeFileSync(blocker, "a file where the store folder should be");
    try {
      const broken = new CertificateStore(path.join(blocker, "pki"));
      await rejects(new DeviceCertificateVerifier({ store: broken }).verify(peer(pki.selfSigned), target).catch((e: S7Error) => {
        throw Object.assign(e, { plc: "PLC1" });
      }), "ERR_S7_STORE", /store folder is not usable/);
      fs.rmSync(blocker);
      fs.mkdirSync(blocker);
      await rejects(new DeviceCertificateVerifier({ store: broken }).verify(peer(pki.selfSigned), target), "ERR_S7_UNTRUSTED");
    } finally {
      fs.rmSync(blocker, { recursive: true, force: true });
    }
  });
});
