/**
 * X.509 certificates for the simulator, the demo and the tests: self-signed
 * controller certificates, a root CA, intermediates and leaves issued by
 * them, with settable validity, SANs, key usage and basic constraints.
 * Keys are RSA-2048 from node:crypto (native, fast); the certificate
 * structure is built and signed with node-forge.
 */
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import forge from "node-forge";

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  der: Buffer;
  /** SHA-256 of the DER, lower-case hex. */
  fingerprint256: string;
  serialNumber: string;
}

export interface CertificateRequest {
  commonName: string;
  organization?: string;
  ipAddresses?: string[];
  dnsNames?: string[];
  notBefore?: Date;
  notAfter?: Date;
  /** CA:TRUE with keyCertSign/cRLSign. */
  isCa?: boolean;
  /** Path length constraint of a CA. */
  pathLength?: number;
  /** The issuer; absent = self-signed. */
  issuer?: { certPem: string; keyPem: string };
  /** Serial number (hex); random when absent. */
  serialNumber?: string;
  /** Key usage for a leaf (default digitalSignature + keyEncipherment). */
  keyUsage?: { digitalSignature?: boolean; keyEncipherment?: boolean; keyCertSign?: boolean; cRLSign?: boolean };
  /** Reuse a key (PEM, PKCS#8) instead of generating one, e.g. to renew a certificate. */
  keyPem?: string;
}

const DAY = 86_400_000;

export function generateRsaKeyPem(): string {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

export function issueCertificate(req: CertificateRequest): IssuedCertificate {
  const keyPem = req.keyPem ?? generateRsaKeyPem();
  const privateKey = forge.pki.privateKeyFromPem(keyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey((privateKey as forge.pki.rsa.PrivateKey).n, (privateKey as forge.pki.rsa.PrivateKey).e);
  // A positive serial: forge writes the hex as is, so keep the top bit clear.
  cert.serialNumber = req.serialNumber ?? "1" + randomBytes(9).toString("hex");
  cert.validity.notBefore = req.notBefore ?? new Date(Date.now() - DAY);
  cert.validity.notAfter = req.notAfter ?? new Date(Date.now() + 10 * 365 * DAY);
  const subject = [{ name: "commonName", value: req.commonName }, ...(req.organization ? [{ name: "organizationName", value: req.organization }] : [])];
  cert.setSubject(subject);
  let signer = privateKey;
  if (req.issuer) {
    const issuerCert = forge.pki.certificateFromPem(req.issuer.certPem);
    cert.setIssuer(issuerCert.subject.attributes);
    signer = forge.pki.privateKeyFromPem(req.issuer.keyPem);
  } else cert.setIssuer(subject);
  const extensions: object[] = [
    req.isCa
      ? { name: "basicConstraints", cA: true, critical: true, ...(req.pathLength === undefined ? {} : { pathLenConstraint: req.pathLength }) }
      : { name: "basicConstraints", cA: false },
    req.isCa
      ? { name: "keyUsage", critical: true, keyCertSign: true, cRLSign: true, digitalSignature: true }
      : { name: "keyUsage", critical: true, ...(req.keyUsage ?? { digitalSignature: true, keyEncipherment: true }) },
    { name: "subjectKeyIdentifier" },
  ];
  const altNames = [...(req.ipAddresses ?? []).map((ip) => ({ type: 7, ip })), ...(req.dnsNames ?? []).map((value) => ({ type: 2, value }))];
  if (altNames.length > 0) extensions.push({ name: "subjectAltName", altNames });
  if (!req.isCa) extensions.push({ name: "extKeyUsage", serverAuth: true });
  cert.setExtensions(extensions);
  cert.sign(signer, forge.md.sha256.create());
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), "binary");
  return {
    certPem: forge.pki.certificateToPem(cert),
    keyPem,
    der,
    fingerprint256: createHash("sha256").update(der).digest("hex"),
    serialNumber: cert.serialNumber,
  };
}

export function generateSelfSigned(req: Omit<CertificateRequest, "issuer">): IssuedCertificate {
  return issueCertificate(req);
}

export function generateCa(req: Omit<CertificateRequest, "isCa"> & { commonName: string }): IssuedCertificate {
  return issueCertificate({ ...req, isCa: true });
}

// PEM helpers live with the trust layer below; re-exported for the generators' callers.
export { derToPem, pemToDer } from "../trust/pem.js";
