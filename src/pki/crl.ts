/**
 * Certificate revocation lists for tests and the demo (signed by a CA made
 * with ./certificates.ts). node-forge cannot write CRLs; pkijs can.
 */
import { webcrypto } from "node:crypto";
import { loadPkijs } from "../trust/pkijs.js";
import { pemToDer } from "./certificates.js";

export interface CrlRequest {
  issuer: { certPem: string; keyPem: string };
  /** Serial numbers (hex) to list as revoked. */
  revoked: string[];
  thisUpdate?: Date;
  nextUpdate?: Date;
}

export async function generateCrl(req: CrlRequest): Promise<Buffer> {
  const { pkijs, asn1js } = await loadPkijs();
  const issuerDer = pemToDer(req.issuer.certPem);
  const keyDer = pemToDer(req.issuer.keyPem, "PRIVATE KEY");
  if (issuerDer === undefined || keyDer === undefined) throw new RangeError("issuer certificate or PKCS#8 key missing");
  const issuer = pkijs.Certificate.fromBER(issuerDer);
  const crl = new pkijs.CertificateRevocationList();
  crl.version = 1;
  crl.issuer = issuer.subject;
  crl.thisUpdate = new pkijs.Time({ type: 0, value: req.thisUpdate ?? new Date(Date.now() - 3600_000) });
  crl.nextUpdate = new pkijs.Time({ type: 0, value: req.nextUpdate ?? new Date(Date.now() + 30 * 86400_000) });
  crl.revokedCertificates = req.revoked.map(
    (serial) =>
      new pkijs.RevokedCertificate({
        userCertificate: new asn1js.Integer({ valueHex: Buffer.from(serial.length % 2 ? "0" + serial : serial, "hex") }),
        revocationDate: new pkijs.Time({ type: 0, value: new Date(Date.now() - 60_000) }),
      }),
  );
  const key = await webcrypto.subtle.importKey("pkcs8", keyDer, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
  await crl.sign(key as unknown as Parameters<typeof crl.sign>[0], "SHA-256");
  return Buffer.from(crl.toSchema(true).toBER(false));
}
