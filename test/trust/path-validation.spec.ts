import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { S7Error } from "../../src/errors.js";
import { generateCrl } from "../../src/pki/crl.js";
import { generateCa, issueCertificate } from "../../src/pki/certificates.js";
import { CertificateStore } from "../../src/trust/store.js";
import { DeviceCertificateVerifier } from "../../src/trust/verifier.js";
import { useTempStore } from "./temp-store.js";
import { testPki, type TestPki } from "../support/pki.js";

const target = { plc: "PLC1", host: "127.0.0.1", port: 102 };
const DAY = 86_400_000;

describe("trust: certification path rules (docs/RELIABILITY-MATRIX.md: intermediate revocation, path length, CA validity)", function () {
  this.timeout(30_000);
  let pki: TestPki;
  const tempStore = useTempStore("s7-path-");
  let store: CertificateStore;
  beforeEach(() => {
    store = tempStore();
  });

  before(() => {
    pki = testPki();
  });

  it("Revocation of an intermediate → refused \"revoked\"; the message names the revoked intermediate (subject, serial) and whose CRL", async () => {
    fs.writeFileSync(path.join(store.crlDir, "root.crl"), await generateCrl({ issuer: pki.root, revoked: [pki.intermediate.serialNumber] }));
    const verifier = new DeviceCertificateVerifier({ store, rootCAs: [pki.root.certPem] });
    await assert.rejects(verifier.verify({ leaf: pki.leafViaIntermediate.der, intermediates: [pki.intermediate.der] }, target), (err: unknown) => {
      assert.ok(err instanceof S7Error);
      assert.equal(err.code, "ERR_S7_REVOKED");
      const serial = new RegExp(`intermediate CN=Test Intermediate CA \\(serial 0*${pki.intermediate.serialNumber}\\) is revoked by the CRL of CN=Test Root CA, O=S7 Secure tests \\(trusted/crl/root\\.crl\\)`, "i");
      assert.match(err.message, serial);
      assert.match(err.message, new RegExp(pki.leafViaIntermediate.fingerprint256));
      assert.equal(err.file, "trusted/crl/root.crl");
      return true;
    });
    // The root-issued leaf of the same CRL's issuer is unaffected.
    const verdict = await verifier.verify({ leaf: pki.leaf.der, intermediates: [] }, target);
    assert.equal(verdict.trustedBy, "root-ca");
  });

  it("Path length: a root with pathLenConstraint 0 over an intermediate is refused; pathLenConstraint 1 is enough", async () => {
    for (const [pathLength, accepted] of [[0, false], [1, true]] as const) {
      const root = generateCa({ commonName: `Root len ${pathLength}`, pathLength });
      const inter = issueCertificate({ commonName: "Inter", isCa: true, issuer: root });
      const leaf = issueCertificate({ commonName: "PLC", ipAddresses: ["127.0.0.1"], issuer: inter });
      const verify = new DeviceCertificateVerifier({ store, rootCAs: [root.certPem] }).verify({ leaf: leaf.der, intermediates: [inter.der] }, target);
      if (accepted) assert.equal((await verify).trustedBy, "root-ca");
      else await assert.rejects(verify, (err: unknown) => err instanceof S7Error && err.code === "ERR_S7_CHAIN" && /path length exceeded: root CA CN=Root len 0 allows 0 CAs below it \(pathLenConstraint\), the path has 1/.test(err.message));
    }
  });

  it("Expired intermediate: a warning naming it and its dates by default; refused with reject expired", async () => {
    const notAfter = new Date(Date.now() - DAY);
    const inter = issueCertificate({ commonName: "Old Inter", isCa: true, issuer: pki.root, notBefore: new Date(Date.now() - 100 * DAY), notAfter });
    const leaf = issueCertificate({ commonName: "PLC", ipAddresses: ["127.0.0.1"], issuer: inter });
    const peer = { leaf: leaf.der, intermediates: [inter.der] };
    const verdict = await new DeviceCertificateVerifier({ store, rootCAs: [pki.root.certPem] }).verify(peer, target);
    const expired = verdict.warnings.filter((w) => w.code === "EXPIRED");
    assert.equal(expired.length, 1);
    assert.match(expired[0]!.message, new RegExp(`^intermediate CN=Old Inter expired \\(valid .* … ${notAfter.toISOString().slice(0, 16)}`));
    await assert.rejects(
      new DeviceCertificateVerifier({ store, rootCAs: [pki.root.certPem], rejectExpired: true }).verify(peer, target),
      (err: unknown) => err instanceof S7Error && err.code === "ERR_S7_EXPIRED" && /intermediate CN=Old Inter expired \(valid .*\); refused because "reject expired certificates" is on/.test(err.message),
    );
  });

  it("Trust is still decided before the path rules: an unknown chain with a bad path length is reported as untrusted", async () => {
    const root = generateCa({ commonName: "Unknown len 0", pathLength: 0 });
    const inter = issueCertificate({ commonName: "Inter", isCa: true, issuer: root });
    const leaf = issueCertificate({ commonName: "PLC", ipAddresses: ["127.0.0.1"], issuer: inter });
    await assert.rejects(new DeviceCertificateVerifier({ store, rootCAs: [pki.root.certPem] }).verify({ leaf: leaf.der, intermediates: [inter.der, root.der] }, target), (err: unknown) => err instanceof S7Error && err.code === "ERR_S7_UNTRUSTED");
  });
});

describe("layering: src/trust imports nothing from src/pki; src/printable.ts imports nothing", () => {
  const src = path.resolve(__dirname, "..", "..", "..", "src");
  it("no file in src/trust imports src/pki (pki generates certificates above the trust layer)", () => {
    const files = fs.readdirSync(path.join(src, "trust")).filter((f) => f.endsWith(".ts"));
    assert.ok(files.length >= 5);
    for (const f of files) assert.doesNotMatch(fs.readFileSync(path.join(src, "trust", f), "utf8"), /from "\.\.\/pki\//, f);
  });
  it("src/printable.ts is a bottom-layer module", () => {
    assert.doesNotMatch(fs.readFileSync(path.join(src, "printable.ts"), "utf8"), /^import /m);
  });
});
