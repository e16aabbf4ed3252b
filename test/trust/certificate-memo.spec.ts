import { strict as assert } from "node:assert";
import { X509Certificate } from "node:crypto";
import { memoByCertificate } from "../../src/trust/certificate-memo.js";
import { generateSelfSigned } from "../../src/pki/certificates.js";

describe("trust: facts derived from a certificate are worked out once", () => {
  it("computes once per certificate (by its DER), again for another certificate, and stays bounded", () => {
    const a = generateSelfSigned({ commonName: "MEMO_A" });
    const b = generateSelfSigned({ commonName: "MEMO_B", keyPem: a.keyPem });
    let computed = 0;
    const facts = memoByCertificate((x) => {
      computed++;
      return x.subject;
    }, 4);
    // A new X509Certificate object of the same DER is the same certificate.
    assert.match(facts(new X509Certificate(a.der)), /CN=MEMO_A/);
    assert.match(facts(new X509Certificate(a.der)), /CN=MEMO_A/);
    assert.equal(computed, 1);
    assert.match(facts(new X509Certificate(b.der)), /CN=MEMO_B/);
    assert.equal(computed, 2);
    // An undefined result is remembered too (a certificate that is not weak).
    let undefinedComputed = 0;
    const none = memoByCertificate(() => {
      undefinedComputed++;
      return undefined;
    });
    none(new X509Certificate(a.der));
    none(new X509Certificate(a.der));
    assert.equal(undefinedComputed, 1);
    // Bounded: after 4 other certificates the first is computed again.
    const many = Array.from({ length: 4 }, (_, i) => new X509Certificate(generateSelfSigned({ commonName: `MEMO_${i}`, keyPem: a.keyPem }).der));
    for (const x of many) facts(x);
    const before = computed;
    facts(new X509Certificate(a.der));
    assert.equal(computed, before + 1);
  });
});
