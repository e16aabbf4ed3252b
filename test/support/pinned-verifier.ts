/**
 * A verifier for transport tests: accepts exactly one certificate (by its
 * SHA-256) and refuses everything else. The real trust decision is tested
 * with the device-store verifier.
 */
import { createHash, X509Certificate } from "node:crypto";
import { S7Error } from "../../src/errors.js";
import type { CertificateVerifier, PeerCertificates, TrustVerdict, VerificationTarget } from "../../src/transport/verifier.js";

export class PinnedVerifier implements CertificateVerifier {
  calls = 0;
  constructor(private readonly fingerprint256: string) {}

  async verify(peer: PeerCertificates, target: VerificationTarget): Promise<TrustVerdict> {
    this.calls++;
    const fp = createHash("sha256").update(peer.leaf).digest("hex");
    if (fp !== this.fingerprint256) throw new S7Error("ERR_S7_UNTRUSTED", `certificate ${fp} is not the pinned one`, { plc: target.plc });
    const x = new X509Certificate(peer.leaf);
    return {
      certificate: {
        subject: x.subject,
        issuer: x.issuer,
        fingerprint256: fp,
        serialNumber: x.serialNumber,
        validFrom: new Date(x.validFrom),
        validTo: new Date(x.validTo),
        selfSigned: x.subject === x.issuer,
        ipAddresses: [],
        dnsNames: [],
      },
      trustedBy: "store",
      revocationChecked: false,
      warnings: [],
    };
  }
}
