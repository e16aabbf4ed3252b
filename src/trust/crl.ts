/**
 * Certificate revocation lists, parsed and verified with pkijs (node-forge
 * cannot read CRLs; OpenSSL's own handling demands a CRL for every CA level
 * once any is loaded). Serials are compared as lower-case hex without
 * leading zeros.
 */
import { loadPkijs } from "./pkijs.js";

export interface ParsedCrl {
  thisUpdate: Date;
  nextUpdate?: Date;
  revoked: Set<string>;
  /** Verifies the CRL's signature with a candidate issuer certificate (DER). */
  signedBy(issuerDer: Buffer): Promise<boolean>;
  /** The issuer as "CN=…, O=…". */
  issuer: string;
}

export function normalizeSerial(hex: string): string {
  return hex.toLowerCase().replace(/[^0-9a-f]/g, "").replace(/^0+(?=.)/, "");
}

const OID_NAMES: Record<string, string> = { "2.5.4.3": "CN", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST" };

/** Throws on anything that is not a DER CRL. */
export async function parseCrl(der: Buffer): Promise<ParsedCrl> {
  const { pkijs } = await loadPkijs();
  const crl = pkijs.CertificateRevocationList.fromBER(der);
  const revoked = new Set<string>();
  for (const r of crl.revokedCertificates ?? []) revoked.add(normalizeSerial(Buffer.from(r.userCertificate.valueBlock.valueHexView).toString("hex")));
  const issuer = crl.issuer.typesAndValues.map((tv) => `${OID_NAMES[tv.type] ?? tv.type}=${String(tv.value.valueBlock.value)}`).join(", ");
  return {
    thisUpdate: crl.thisUpdate.value,
    ...(crl.nextUpdate ? { nextUpdate: crl.nextUpdate.value } : {}),
    revoked,
    issuer,
    signedBy: async (issuerDer) => {
      try {
        const cert = pkijs.Certificate.fromBER(issuerDer);
        if (!cert.subject.isEqual(crl.issuer)) return false;
        return await crl.verify({ issuerCertificate: cert });
      } catch {
        return false;
      }
    },
  };
}
