/**
 * Certificates from files (issue 19 point 3): what an import does with a
 * TIA Portal export (DER or PEM), and what it refuses with the verifier's
 * own reasons. The PKI is made when the tests run.
 */
import { strict as assert } from "node:assert";
import { generateKeyPairSync } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { generateCa, generateSelfSigned } from "../../src/pki/certificates.js";
import { derToPem } from "../../src/trust/pem.js";
import { testPki } from "../support/pki.js";
import { OpensslPki } from "./openssl-chains.js";
import { useTempStore } from "./temp-store.js";

describe("certificate import from files (TIA Portal exports)", function () {
  this.timeout(30_000);
  const store = useTempStore("s7-import-");
  const pki = testPki();
  /** The certificate files of a store folder (not trusted/crl/). */
  const folder = (name: string): string[] => fs.readdirSync(path.join(store().dir, name), { withFileTypes: true }).filter((e) => e.isFile() && !e.name.startsWith(".")).map((e) => e.name);

  it("a self-signed controller certificate (DER, .cer) goes to trusted/ with its subject, SHA-256 and validity", async () => {
    const plan = await store().planImport(pki.selfSigned.der, "PLC_1.cer");
    assert.equal(plan.destination, "trusted");
    assert.equal(plan.certificate.fingerprint256, pki.selfSigned.fingerprint256);
    assert.match(plan.certificate.subject ?? "", /CN=PLC_SELF/);
    assert.match(plan.certificate.validFrom ?? "", /^\d{4}-\d\d-\d\dT/);
    assert.match(plan.certificate.validTo ?? "", /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(folder("trusted"), [], "planning writes nothing");
    const done = await store().importCertificate(pki.selfSigned.der, "PLC_1.cer");
    assert.equal(done.alreadyPresent, false);
    assert.match(done.file, /^trusted\/PLC_SELF-[0-9a-f]{64}\.der$/);
    const snap = await store().snapshot();
    assert.deepEqual(snap.trusted.map((c) => c.fingerprint256), [pki.selfSigned.fingerprint256]);
    assert.deepEqual(snap.issuers, []);
  });

  it("a CA certificate (PEM, .crt) goes to issuers/ and is listed as a root CA; importing it again writes nothing", async () => {
    const first = await store().importCertificate(Buffer.from(pki.root.certPem), "root.crt");
    assert.equal(first.destination, "issuers");
    assert.match(first.file, /^issuers\/Test_Root_CA-[0-9a-f]{64}\.der$/);
    const again = await store().importCertificate(Buffer.from(derToPem(pki.root.der)), "root-again.pem");
    assert.equal(again.alreadyPresent, true);
    assert.equal(folder("issuers").length, 1);
    const snap = await store().snapshot();
    assert.deepEqual(snap.issuers.map((c) => c.fingerprint256), [pki.root.fingerprint256]);
    assert.deepEqual(snap.trusted, []);
  });

  it("a CA:TRUE certificate that is not a root (an intermediate) is a CA too: issuers/, never trusted/", async () => {
    const plan = await store().planImport(pki.intermediate.der, "intermediate.der");
    assert.equal(plan.destination, "issuers");
  });

  it("a self-signed certificate already waiting in untrusted/ leaves untrusted/ when it is imported", async () => {
    await store().storeUntrusted(pki.selfSigned.der);
    assert.equal(folder("untrusted").length, 1);
    await store().importCertificate(pki.selfSigned.der, "PLC_1.der");
    assert.deepEqual(folder("untrusted"), []);
    assert.equal(folder("trusted").length, 1);
  });

  it("refuses a file that is not a certificate, naming the file", async () => {
    await assert.rejects(store().importCertificate(Buffer.from("hello, not a certificate"), "notes.pem"), (e: Error & { code?: string }) => {
      assert.equal(e.code, "ERR_S7_STORE");
      assert.match(e.message, /^notes\.pem: not a certificate .*not imported$/);
      return true;
    });
    await assert.rejects(store().importCertificate(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]), "broken.der"), /^S7Error: broken\.der: not a readable X\.509 certificate/);
    assert.deepEqual([...folder("trusted"), ...folder("issuers")], []);
  });

  it("refuses a PEM file with two certificates (one file per certificate)", async () => {
    await assert.rejects(store().importCertificate(Buffer.from(pki.root.certPem + pki.selfSigned.certPem), "bundle.pem"), /bundle\.pem: holds 2 certificates/);
  });

  it("refuses a self-signed certificate whose signature does not verify (the verifier would)", async () => {
    await assert.rejects(store().importCertificate(pki.badSignatureDer, "tampered.der"), (e: Error & { code?: string }) => e.code === "ERR_S7_BAD_SIGNATURE" && /tampered\.der: .* bad signature/.test(e.message));
  });

  it("refuses a controller certificate below the crypto floor with the floor's message", async () => {
    const keyPem = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const weak = generateSelfSigned({ commonName: "OLD_PLC", keyPem });
    await assert.rejects(store().importCertificate(weak.der, "old.cer"), (e: Error & { code?: string }) => {
      assert.equal(e.code, "ERR_S7_WEAK_CRYPTO");
      assert.match(e.message, /^old\.cer: key too weak: RSA 1024 bits \(minimum 2048\) — the controller's certificate CN=OLD_PLC/);
      return true;
    });
    const weakCa = generateCa({ commonName: "Old CA", keyPem });
    await assert.rejects(store().importCertificate(weakCa.der, "oldca.cer"), /key too weak: RSA 1024 bits \(minimum 2048\) — root CA CN=Old CA/);
    assert.deepEqual([...folder("trusted"), ...folder("issuers")], []);
  });

  it("refuses a CA whose keyUsage lacks keyCertSign", async () => {
    const openssl = new OpensslPki();
    const ca = openssl.issue({ name: "NoSign", ca: true, keyUsage: "critical,digitalSignature,cRLSign" });
    openssl.dispose();
    await assert.rejects(store().importCertificate(ca.der, "nosign.der"), (e: Error & { code?: string }) => e.code === "ERR_S7_CERT_USE" && /may not sign certificates/.test(e.message));
  });

  it("a non-CA file put into issuers/ by hand is a problem line and never an anchor", async () => {
    fs.writeFileSync(path.join(store().dir, "issuers", "leaf.der"), pki.leaf.der);
    const snap = await store().snapshot();
    assert.deepEqual(snap.issuers, []);
    assert.ok(snap.problems.some((p) => /issuers\/leaf\.der: not a CA certificate/.test(p)), snap.problems.join("\n"));
  });
});
