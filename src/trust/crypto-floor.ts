/**
 * The crypto floor (docs/SECURITY.md): RSA and DSA keys of at least 2048
 * bits, EC keys of at least 256 bits, no MD5 or SHA-1 signatures. STEP 7
 * V17 and later generate RSA-2048 or P-256 keys with SHA-256 signatures, so
 * a controller certificate below the floor is old or made by hand.
 * Key facts come from Node's X509Certificate (OpenSSL); the signature
 * algorithm, which Node does not expose, from pkijs.
 */
import type { X509Certificate } from "node:crypto";
import type * as PkijsModule from "pkijs";
import { memoByCertificate } from "./certificate-memo.js";

type Pkijs = typeof PkijsModule;

export const MIN_RSA_BITS = 2048;
export const MIN_EC_BITS = 256;

/** Signature algorithms that use a broken hash. */
const WEAK_SIGNATURES: Record<string, string> = {
  "1.2.840.113549.1.1.2": "md2WithRSAEncryption",
  "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
  "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
  "1.3.14.3.2.29": "sha1WithRSASignature",
  "1.2.840.10040.4.3": "dsa-with-SHA1",
  "1.3.14.3.2.27": "dsaWithSHA1",
  "1.2.840.10045.4.1": "ecdsa-with-SHA1",
};
const OID_RSASSA_PSS = "1.2.840.113549.1.1.10";
const OID_SHA1 = "1.3.14.3.2.26";
const OID_MD5 = "1.2.840.113549.2.5";

/** Why `x`'s key is below the floor ("RSA 1024 bits (minimum 2048)"), or undefined. */
export function weakKey(x: X509Certificate, pkijs: Pkijs): string | undefined {
  return (memoWeakKey ??= memoByCertificate((c) => readWeakKey(c, pkijs)))(x);
}

let memoWeakKey: ((x: X509Certificate) => string | undefined) | undefined;

function readWeakKey(x: X509Certificate, pkijs: Pkijs): string | undefined {
  const key = x.publicKey;
  const type = key.asymmetricKeyType;
  if (type === "rsa" || type === "rsa-pss" || type === "dsa") {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    return bits < MIN_RSA_BITS ? `${type === "dsa" ? "DSA" : "RSA"} ${bits} bits (minimum ${MIN_RSA_BITS})` : undefined;
  }
  if (type === "ec") {
    // The curve's size from the public point itself, so that any named curve is measured:
    // 04 || X || Y uncompressed, 02/03 || X compressed (SEC 1 §2.3.3).
    const point = pkijs.Certificate.fromBER(x.raw).subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
    const coordinate = point[0] === 0x04 ? (point.length - 1) / 2 : point.length - 1;
    const bits = coordinate * 8;
    const curve = key.asymmetricKeyDetails?.namedCurve ?? "unknown curve";
    return bits < MIN_EC_BITS ? `EC ${bits} bits, ${curve} (minimum ${MIN_EC_BITS})` : undefined;
  }
  if (type === "ed25519" || type === "ed448") return undefined;
  return `unsupported key type ${type ?? "unknown"}`;
}

/** Why `x`'s signature algorithm is below the floor ("sha1WithRSAEncryption (SHA-1)"), or undefined. */
export function weakSignature(x: X509Certificate, pkijs: Pkijs): string | undefined {
  return (memoWeakSignature ??= memoByCertificate((c) => readWeakSignature(c, pkijs)))(x);
}

let memoWeakSignature: ((x: X509Certificate) => string | undefined) | undefined;

function readWeakSignature(x: X509Certificate, pkijs: Pkijs): string | undefined {
  const cert = pkijs.Certificate.fromBER(x.raw);
  const oid = cert.signatureAlgorithm.algorithmId;
  const named = WEAK_SIGNATURES[oid];
  if (named !== undefined) return `${named} (${/md[25]/i.test(named) ? "MD5/MD2" : "SHA-1"})`;
  if (oid === OID_RSASSA_PSS) {
    // RSASSA-PSS parameters default to SHA-1 when absent (RFC 4055).
    const params = cert.signatureAlgorithm.algorithmParams;
    const hash = params === undefined ? OID_SHA1 : new pkijs.RSASSAPSSParams({ schema: params }).hashAlgorithm.algorithmId;
    if (hash === OID_SHA1 || hash === OID_MD5) return `RSASSA-PSS with ${hash === OID_SHA1 ? "SHA-1" : "MD5"}`;
  }
  return undefined;
}
