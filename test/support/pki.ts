/**
 * The test PKI, generated when the tests run (no certificate that can expire
 * is kept in the repository). How each is made is said next to it.
 */
import { generateCa, generateSelfSigned, issueCertificate, type IssuedCertificate } from "../../src/pki/certificates.js";

const DAY = 86_400_000;

export interface TestPki {
  /** Root CA: self-signed, CA:TRUE, keyCertSign + cRLSign. */
  root: IssuedCertificate;
  /** Intermediate CA issued by root. */
  intermediate: IssuedCertificate;
  /** Leaf issued by root, IP SAN 127.0.0.1. */
  leaf: IssuedCertificate;
  /** Leaf issued by the intermediate, IP SAN 127.0.0.1. */
  leafViaIntermediate: IssuedCertificate;
  /** Leaf issued by root without any IP SAN. */
  leafNoIp: IssuedCertificate;
  /** Leaf issued by root naming only 192.0.2.99. */
  leafOtherIp: IssuedCertificate;
  /** Leaf issued by root, to be listed in a CRL. */
  revoked: IssuedCertificate;
  /** Self-signed controller certificate, IP SAN 127.0.0.1. */
  selfSigned: IssuedCertificate;
  /** Self-signed with the same subject as selfSigned but another key. */
  selfSignedSameName: IssuedCertificate;
  /** Self-signed, expired yesterday. */
  expired: IssuedCertificate;
  /** Self-signed, valid from tomorrow. */
  notYetValid: IssuedCertificate;
  /** Root-issued, expired. */
  expiredCaIssued: IssuedCertificate;
  /** selfSigned with one byte of its signature flipped. */
  badSignatureDer: Buffer;
  /** A CA:TRUE certificate issued by root, presented as a leaf. */
  caAsLeaf: IssuedCertificate;
  /** An end-entity (CA:FALSE) certificate issued by root … */
  endEntityIssuer: IssuedCertificate;
  /** … and a leaf it signed. */
  signedByEndEntity: IssuedCertificate;
  /** A CA unknown to the connection, and a leaf it issued. */
  otherRoot: IssuedCertificate;
  leafOfOtherRoot: IssuedCertificate;
}

let cached: TestPki | undefined;

export function testPki(): TestPki {
  if (cached) return cached;
  const root = generateCa({ commonName: "Test Root CA", organization: "S7 Secure tests" });
  const intermediate = issueCertificate({ commonName: "Test Intermediate CA", isCa: true, issuer: root });
  const leaf = (cn: string, extra: Partial<Parameters<typeof issueCertificate>[0]> = {}): IssuedCertificate =>
    issueCertificate({ commonName: cn, ipAddresses: ["127.0.0.1"], issuer: root, ...extra });
  const selfSigned = generateSelfSigned({ commonName: "PLC_SELF", ipAddresses: ["127.0.0.1"] });
  const bad = Buffer.from(selfSigned.der);
  bad.writeUInt8(bad.readUInt8(bad.length - 10) ^ 0xff, bad.length - 10); // the last bytes are the signature value
  const endEntityIssuer = leaf("End Entity");
  const otherRoot = generateCa({ commonName: "Unknown Root CA" });
  cached = {
    root,
    intermediate,
    leaf: leaf("PLC_CA"),
    leafViaIntermediate: issueCertificate({ commonName: "PLC_INTER", ipAddresses: ["127.0.0.1"], issuer: intermediate }),
    leafNoIp: leaf("PLC_NOIP", { ipAddresses: [] }),
    leafOtherIp: leaf("PLC_OTHERIP", { ipAddresses: ["192.0.2.99"] }),
    revoked: leaf("PLC_REVOKED"),
    selfSigned,
    selfSignedSameName: generateSelfSigned({ commonName: "PLC_SELF", ipAddresses: ["127.0.0.1"] }),
    expired: generateSelfSigned({ commonName: "PLC_EXPIRED", ipAddresses: ["127.0.0.1"], notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) }),
    notYetValid: generateSelfSigned({ commonName: "PLC_FUTURE", ipAddresses: ["127.0.0.1"], notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 30 * DAY) }),
    expiredCaIssued: leaf("PLC_CA_EXPIRED", { notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) }),
    badSignatureDer: bad,
    caAsLeaf: issueCertificate({ commonName: "PLC_CA_TRUE", isCa: true, ipAddresses: ["127.0.0.1"], issuer: root }),
    endEntityIssuer,
    signedByEndEntity: issueCertificate({ commonName: "PLC_BY_EE", ipAddresses: ["127.0.0.1"], issuer: endEntityIssuer }),
    otherRoot,
    leafOfOtherRoot: issueCertificate({ commonName: "PLC_OTHER_CA", ipAddresses: ["127.0.0.1"], issuer: otherRoot }),
  };
  return cached;
}
