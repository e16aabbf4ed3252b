/**
 * Certificates made by the tests at run time (nothing that can expire is
 * stored in the repository): an RSA key from node:crypto (fast, native),
 * the X.509 structure signed with node-forge.
 */
import { generateKeyPairSync, createHash } from "node:crypto";
import forge from "node-forge";

export interface TestCertificate {
  keyPem: string;
  certPem: string;
  der: Buffer;
  fingerprint256: string;
}

export function selfSignedCertificate(options: { commonName?: string; ipAddresses?: string[]; notBefore?: Date; notAfter?: Date } = {}): TestCertificate {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: "spki", format: "pem" }).toString());
  cert.serialNumber = "01" + createHash("sha1").update(keyPem).digest("hex").slice(0, 14);
  cert.validity.notBefore = options.notBefore ?? new Date(Date.now() - 3600_000);
  cert.validity.notAfter = options.notAfter ?? new Date(Date.now() + 365 * 86400_000);
  const attrs = [{ name: "commonName", value: options.commonName ?? "PLC_TEST" }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  const altNames = (options.ipAddresses ?? ["127.0.0.1"]).map((ip) => ({ type: 7, ip }));
  cert.setExtensions([{ name: "basicConstraints", cA: false }, { name: "keyUsage", digitalSignature: true, keyEncipherment: true }, { name: "subjectAltName", altNames }]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: "pkcs1", format: "pem" }).toString()), forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), "binary");
  return { keyPem, certPem, der, fingerprint256: createHash("sha256").update(der).digest("hex") };
}
