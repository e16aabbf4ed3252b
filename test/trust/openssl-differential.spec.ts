import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { S7Error, type S7ErrorCode } from "../../src/errors.js";
import { CertificateStore } from "../../src/trust/store.js";
import { DeviceCertificateVerifier } from "../../src/trust/verifier.js";
import type { TrustVerdict, TrustWarningCode } from "../../src/transport/verifier.js";
import { OpensslPki, opensslVersion, type OpensslCertificate } from "./openssl-chains.js";

const DAY = 86_400_000;
const target = { plc: "PLC1", host: "127.0.0.1", port: 102 };

/** What our verifier must say about a chain. */
type Ours = { accept: true; warning?: TrustWarningCode; warns?: RegExp } | { accept: false; code: S7ErrorCode; message: RegExp };

interface ChainCase {
  name: string;
  leaf: OpensslCertificate;
  intermediates?: OpensslCertificate[];
  /** Root CAs of the connection's trust settings; "manual" = the leaf's DER is in trusted/. */
  anchors: OpensslCertificate[] | "manual";
  rejectExpired?: boolean;
  ours: Ours;
  /**
   * A documented policy difference (docs/SECURITY.md): OpenSSL's verdict is
   * the opposite of ours, for the reason given.
   */
  differs?: string;
}

describe("trust: verdicts agree with `openssl verify` (docs/RELIABILITY-MATRIX.md: openssl agreement, path length, keyUsage, CA validity, weak crypto)", function () {
  this.timeout(120_000);
  let pki: OpensslPki;
  const cases: ChainCase[] = [];

  before(function () {
    const version = opensslVersion();
    if (version === undefined) {
      const message = "the `openssl` command is missing: install Debian's openssl (.ci/run does) to run the differential trust test";
      if (process.env.CI) throw new Error(message);
      console.warn(`      skipped: ${message}`);
      this.skip();
    }
    pki = new OpensslPki();
    const ip = ["127.0.0.1"];
    const leafOf = (name: string, issuer: OpensslCertificate, extra: Partial<Parameters<OpensslPki["issue"]>[0]> = {}): OpensslCertificate => pki.issue({ name, issuer, ipAddresses: ip, ...extra });
    const root = pki.issue({ name: "Root" , ca: true });
    const inter = pki.issue({ name: "Inter", ca: true, issuer: root });
    const rootLen0 = pki.issue({ name: "RootLen0", ca: true, pathLength: 0 });
    const interUnderLen0 = pki.issue({ name: "InterUnderLen0", ca: true, issuer: rootLen0 });
    const interLen0 = pki.issue({ name: "InterLen0", ca: true, pathLength: 0, issuer: root });
    const interBelowLen0 = pki.issue({ name: "InterBelowLen0", ca: true, issuer: interLen0 });
    const noKeyCertSign = pki.issue({ name: "NoKeyCertSign", ca: true, issuer: root, keyUsage: "critical,digitalSignature,cRLSign" });
    const endEntity = leafOf("EndEntity", root);
    const expiredInter = pki.issue({ name: "ExpiredInter", ca: true, issuer: root, notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - DAY) });
    const expiredRoot = pki.issue({ name: "ExpiredRoot", ca: true, notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - DAY) });
    const futureRoot = pki.issue({ name: "FutureRoot", ca: true, notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 400 * DAY) });
    const weakInter = pki.issue({ name: "WeakInter", ca: true, issuer: root, key: "rsa:1024" });
    const weakRoot = pki.issue({ name: "WeakRoot", ca: true, key: "rsa:1024" });
    const sha1Root = pki.issue({ name: "Sha1Root", ca: true, md: "sha1" });
    const unknownRoot = pki.issue({ name: "UnknownRoot", ca: true });
    const ok: Ours = { accept: true };
    const strictExpired = (who: RegExp): Ours => ({ accept: false, code: "ERR_S7_EXPIRED", message: who });
    cases.push(
      { name: "good: leaf under the root", leaf: leafOf("Good", root), anchors: [root], ours: ok },
      { name: "good: leaf under an intermediate", leaf: leafOf("GoodInter", inter), intermediates: [inter], anchors: [root], ours: ok },
      { name: "good: EC P-256 leaf", leaf: leafOf("GoodP256", root, { key: "ec:P-256" }), anchors: [root], ours: ok },
      { name: "good: intermediate with pathlen:0 directly over the leaf", leaf: leafOf("UnderLen0", interLen0), intermediates: [interLen0], anchors: [root], ours: ok },
      { name: "good: a SHA-1 self-signature of the root itself is not judged (it is the anchor)", leaf: leafOf("UnderSha1Root", sha1Root), anchors: [sha1Root], ours: ok },
      { name: "path length: root pathlen:0 over an intermediate", leaf: leafOf("RootLen0Leaf", interUnderLen0), intermediates: [interUnderLen0], anchors: [rootLen0], ours: { accept: false, code: "ERR_S7_CHAIN", message: /path length exceeded: root CA CN=RootLen0 allows 0 CAs below it/ } },
      { name: "path length: intermediate pathlen:0 over another CA", leaf: leafOf("InterLen0Leaf", interBelowLen0), intermediates: [interBelowLen0, interLen0], anchors: [root], ours: { accept: false, code: "ERR_S7_CHAIN", message: /path length exceeded: intermediate CN=InterLen0 allows 0 CAs below it/ } },
      { name: "keyUsage: issuer CA:TRUE without keyCertSign", leaf: leafOf("NoKcsLeaf", noKeyCertSign), intermediates: [noKeyCertSign], anchors: [root], ours: { accept: false, code: "ERR_S7_CERT_USE", message: /issuer CN=NoKeyCertSign may not sign certificates \(keyUsage lacks keyCertSign\)/ } },
      { name: "issuer is an end-entity (CA:FALSE)", leaf: leafOf("ByEndEntity", endEntity), intermediates: [endEntity], anchors: [root], ours: { accept: false, code: "ERR_S7_CERT_USE", message: /issuer CN=EndEntity is not a CA/ } },
      { name: "unknown critical extension in the leaf", leaf: leafOf("CriticalExt", root, { extra: ["1.2.3.4 = critical,DER:05:00"] }), anchors: [root], ours: { accept: false, code: "ERR_S7_CERT_USE", message: /critical extension that is not understood \(1\.2\.3\.4\)/ } },
      { name: "unknown CA", leaf: leafOf("OfUnknown", unknownRoot), anchors: [root], ours: { accept: false, code: "ERR_S7_UNTRUSTED", message: /unknown CA \(CN=UnknownRoot\)/ } },
      { name: "weak: RSA-1024 leaf", leaf: leafOf("Rsa1024", root, { key: "rsa:1024" }), anchors: [root], ours: { accept: false, code: "ERR_S7_WEAK_CRYPTO", message: /key too weak: RSA 1024 bits \(minimum 2048\) — the controller's certificate CN=Rsa1024/ } },
      { name: "weak: RSA-1024 intermediate", leaf: leafOf("UnderWeakInter", weakInter), intermediates: [weakInter], anchors: [root], ours: { accept: false, code: "ERR_S7_WEAK_CRYPTO", message: /key too weak: RSA 1024 bits \(minimum 2048\) — intermediate CN=WeakInter/ } },
      { name: "weak: RSA-1024 root key signs the leaf", leaf: leafOf("UnderWeakRoot", weakRoot), anchors: [weakRoot], ours: { accept: false, code: "ERR_S7_WEAK_CRYPTO", message: /key too weak: RSA 1024 bits \(minimum 2048\) — root CA CN=WeakRoot/ } },
      { name: "weak: SHA-1 signed leaf", leaf: leafOf("Sha1Leaf", root, { md: "sha1" }), anchors: [root], ours: { accept: false, code: "ERR_S7_WEAK_CRYPTO", message: /signature too weak: sha1WithRSAEncryption \(SHA-1\) — the controller's certificate CN=Sha1Leaf/ } },
      { name: "weak: EC P-192 leaf", leaf: leafOf("P192", root, { key: "ec:P-192" }), anchors: [root], ours: { accept: false, code: "ERR_S7_WEAK_CRYPTO", message: /key too weak: EC 192 bits, prime192v1 \(minimum 256\)/ } },
      { name: "weak: EC P-224 leaf", leaf: leafOf("P224", root, { key: "ec:P-224" }), anchors: [root], ours: { accept: false, code: "ERR_S7_WEAK_CRYPTO", message: /key too weak: EC 224 bits/ }, differs: "the floor is EC 256 bits (STEP 7 uses P-256); OpenSSL's level 2 accepts 224" },
      { name: "validity: expired intermediate, reject expired on", leaf: leafOf("UnderExpiredInter", expiredInter), intermediates: [expiredInter], anchors: [root], rejectExpired: true, ours: strictExpired(/intermediate CN=ExpiredInter expired \(valid /) },
      { name: "validity: expired intermediate, default policy", leaf: leafOf("UnderExpiredInter2", expiredInter), intermediates: [expiredInter], anchors: [root], ours: { accept: true, warning: "EXPIRED", warns: /intermediate CN=ExpiredInter expired \(valid \d{4}-/ }, differs: "expiry warns by default (connect-and-warn policy)" },
      { name: "validity: expired root, reject expired on", leaf: leafOf("UnderExpiredRoot", expiredRoot), anchors: [expiredRoot], rejectExpired: true, ours: strictExpired(/root CA CN=ExpiredRoot expired/) },
      { name: "validity: expired root, default policy", leaf: leafOf("UnderExpiredRoot2", expiredRoot), anchors: [expiredRoot], ours: { accept: true, warning: "EXPIRED", warns: /root CA CN=ExpiredRoot expired/ }, differs: "expiry warns by default (connect-and-warn policy)" },
      { name: "validity: root not yet valid, reject expired on", leaf: leafOf("UnderFutureRoot", futureRoot), anchors: [futureRoot], rejectExpired: true, ours: { accept: false, code: "ERR_S7_NOT_YET_VALID", message: /root CA CN=FutureRoot not yet valid .* clock/ } },
      { name: "validity: root not yet valid, default policy", leaf: leafOf("UnderFutureRoot2", futureRoot), anchors: [futureRoot], ours: { accept: true, warning: "NOT_YET_VALID", warns: /root CA CN=FutureRoot not yet valid/ }, differs: "expiry warns by default (connect-and-warn policy)" },
      { name: "validity: expired leaf, reject expired on", leaf: leafOf("ExpiredLeaf", root, { notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) }), anchors: [root], rejectExpired: true, ours: strictExpired(/the controller's certificate expired/) },
      { name: "manual trust: self-signed, good", leaf: pki.issue({ name: "SelfGood", ipAddresses: ip }), anchors: "manual", ours: ok },
      { name: "manual trust: self-signed RSA-1024", leaf: pki.issue({ name: "SelfRsa1024", key: "rsa:1024", ipAddresses: ip }), anchors: "manual", ours: { accept: false, code: "ERR_S7_WEAK_CRYPTO", message: /key too weak: RSA 1024 bits \(minimum 2048\)/ } },
      { name: "unknown self-signed RSA-1024: untrusted, and the error says trusting it would not help", leaf: pki.issue({ name: "UnknownRsa1024", key: "rsa:1024", ipAddresses: ip }), anchors: [root], ours: { accept: false, code: "ERR_S7_UNTRUSTED", message: /manual trust required — .*; note: key too weak: RSA 1024 bits \(minimum 2048\), so it would be refused even when trusted/ } },
      { name: "manual trust: self-signed with SHA-1", leaf: pki.issue({ name: "SelfSha1", md: "sha1", ipAddresses: ip }), anchors: "manual", ours: { accept: false, code: "ERR_S7_WEAK_CRYPTO", message: /signature too weak: sha1WithRSAEncryption/ }, differs: "the floor covers a manually trusted certificate's own signature; OpenSSL does not judge a trust anchor's self-signature" },
      { name: "manual trust: exact DER of a CA-issued leaf without its chain", leaf: leafOf("ExactDer", unknownRoot), anchors: "manual", ours: ok, differs: "manual trust of an exact DER is a trust anchor of its own; OpenSSL asks for the issuer unless -partial_chain" },
    );
  });

  after(() => pki?.dispose());

  it("builds the whole matrix with openssl, and every verdict matches openssl verify -x509_strict -auth_level 2 or a listed policy difference", async () => {
    assert.ok(cases.length >= 25, "the matrix is built");
    const report: string[] = [];
    for (const c of cases) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "s7-diff-"));
      const store = new CertificateStore(dir);
      try {
        await store.ensureFolders();
        if (c.anchors === "manual") fs.writeFileSync(path.join(store.trustedDir, `${c.leaf.name}.der`), c.leaf.der);
        const rootCAs = c.anchors === "manual" ? [] : c.anchors.map((a) => a.pem);
        const verifier = new DeviceCertificateVerifier({ store, rootCAs, checkAddress: false, rejectExpired: c.rejectExpired ?? false });
        let verdict: TrustVerdict | undefined;
        let error: S7Error | undefined;
        try {
          verdict = await verifier.verify({ leaf: c.leaf.der, intermediates: (c.intermediates ?? []).map((i) => i.der) }, target);
        } catch (err) {
          assert.ok(err instanceof S7Error, `${c.name}: not a typed error: ${String(err)}`);
          error = err;
        }
        // Ours, as the policy says.
        const ours = c.ours;
        if (ours.accept) {
          assert.ok(verdict, `${c.name}: refused: ${error?.message}`);
          if (ours.warning) {
            const w = verdict.warnings.find((x) => x.code === ours.warning);
            assert.ok(w, `${c.name}: no ${ours.warning} warning`);
            if (ours.warns) assert.match(w.message, ours.warns);
          }
        } else {
          assert.ok(error, `${c.name}: accepted`);
          assert.equal(error.code, ours.code, `${c.name}: ${error.message}`);
          assert.match(error.message, ours.message, `${c.name}: ${error.message}`);
        }
        // OpenSSL's, with the same anchors.
        const anchors = c.anchors === "manual" ? [c.leaf] : c.anchors;
        const ossl = pki.verify(c.leaf, anchors, c.intermediates ?? []);
        const oursOk = verdict !== undefined;
        if (c.differs === undefined) assert.equal(oursOk, ossl.ok, `${c.name}: ours ${oursOk ? "accepts" : `refuses (${error?.message})`}, openssl says ${ossl.output}`);
        else {
          assert.notEqual(oursOk, ossl.ok, `${c.name}: listed as a policy difference (${c.differs}) but both agree: ${ossl.output}`);
          report.push(c.differs);
        }
      } finally {
        store.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    // The documented policy differences are exactly these, no more.
    assert.deepEqual(
      [...new Set(report)].sort(),
      [
        "expiry warns by default (connect-and-warn policy)",
        "manual trust of an exact DER is a trust anchor of its own; OpenSSL asks for the issuer unless -partial_chain",
        "the floor covers a manually trusted certificate's own signature; OpenSSL does not judge a trust anchor's self-signature",
        "the floor is EC 256 bits (STEP 7 uses P-256); OpenSSL's level 2 accepts 224",
      ],
    );
  });

  it("manual trust of an exact DER agrees with openssl once OpenSSL is told to accept a partial chain", () => {
    const c = cases.find((x) => x.name.startsWith("manual trust: exact DER"))!;
    assert.equal(pki.verify(c.leaf, [c.leaf], [], ["-partial_chain"]).ok, true);
  });
});
