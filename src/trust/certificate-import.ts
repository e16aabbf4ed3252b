/**
 * Importing a controller or CA certificate from a file exported by TIA
 * Portal (DER or PEM; .cer, .crt, .der, .pem), ahead of any connection:
 * a CA certificate (basicConstraints CA:TRUE) becomes a root CA in
 * `issuers/`, an end-entity certificate is trusted by its exact DER in
 * `trusted/`. What the verifier would refuse anyway is refused here with the
 * same words: a self-signed certificate whose signature does not verify, a
 * CA that may not sign certificates, anything below the crypto floor.
 */
import type { X509Certificate } from "node:crypto";
import { S7Error } from "../errors.js";
import { printable } from "../printable.js";
import { certificateDer, certificateView, parseCertificate, summarize, type CertificateView } from "./certificate-info.js";
import { weakKey, weakSignature } from "./crypto-floor.js";
import { pathFacts } from "./path-rules.js";
import { loadPkijs } from "./pkijs.js";
import { splitPem } from "./verifier.js";

/** Where an imported certificate goes. */
export type ImportDestination = "trusted" | "issuers";

/** What an import will do (or did): shown to the person before they confirm. */
export interface CertificateImportPlan {
  destination: ImportDestination;
  /** Subject, issuer, SHA-256, validity of the certificate. */
  certificate: CertificateView & { fingerprint256: string };
  /** Why it goes there, in words for the confirmation. */
  reason: string;
  der: Buffer;
}

/** File name extensions a certificate export carries. */
export const CERTIFICATE_FILE_EXTENSIONS = [".cer", ".crt", ".der", ".pem"] as const;

function refused(source: string, message: string): S7Error {
  return new S7Error("ERR_S7_STORE", `${printable(source)}: ${message}; not imported`, { file: source });
}

/** The one certificate of `data` (DER, or PEM with exactly one CERTIFICATE block). */
function onlyCertificate(data: Buffer, source: string): X509Certificate {
  const text = data.subarray(0, 64).toString("latin1");
  if (text.includes("-----BEGIN")) {
    const blocks = splitPem(data.toString("latin1"));
    if (blocks.length > 1) throw refused(source, `holds ${blocks.length} certificates; import one file per certificate`);
  }
  const der = certificateDer(data);
  if (der === undefined) throw refused(source, "not a certificate (neither DER nor a PEM CERTIFICATE block)");
  try {
    return parseCertificate(der, source);
  } catch (err) {
    throw refused(source, (err as Error).message);
  }
}

/**
 * Reads and judges a certificate file's bytes; `source` names it in every
 * message. Throws an S7Error (ERR_S7_STORE, ERR_S7_CERT_USE,
 * ERR_S7_BAD_SIGNATURE, ERR_S7_WEAK_CRYPTO) naming the file.
 */
export async function planCertificateImport(data: Buffer, source: string): Promise<CertificateImportPlan> {
  const x = onlyCertificate(data, source);
  const { pkijs } = await loadPkijs();
  const facts = pathFacts(x, pkijs);
  const summary = summarize(x);
  const certificate = certificateView({ ...summary, file: source });
  const named = `${printable(summary.subject)} (SHA-256 ${summary.fingerprint256})`;
  if (facts.ca) {
    if (facts.keyCertSign === false) throw new S7Error("ERR_S7_CERT_USE", `${printable(source)}: CA ${named} may not sign certificates (keyUsage lacks keyCertSign); not imported`, { file: source });
    // The anchor's own self-signature is not judged (as in the verifier); its key is.
    const key = weakKey(x, pkijs);
    if (key !== undefined) throw new S7Error("ERR_S7_WEAK_CRYPTO", `${printable(source)}: key too weak: ${key} — root CA ${named}; not imported`, { file: source });
    return { destination: "issuers", certificate, reason: "a CA certificate (CA:TRUE): controller certificates it issues are accepted", der: Buffer.from(x.raw) };
  }
  if (summary.selfSigned && !x.verify(x.publicKey)) {
    throw new S7Error("ERR_S7_BAD_SIGNATURE", `${printable(source)}: the self-signed certificate ${named} has a bad signature; not imported`, { file: source });
  }
  const key = weakKey(x, pkijs);
  const signature = weakSignature(x, pkijs);
  const weak = key !== undefined ? `key too weak: ${key}` : signature !== undefined ? `signature too weak: ${signature}` : undefined;
  if (weak !== undefined) throw new S7Error("ERR_S7_WEAK_CRYPTO", `${printable(source)}: ${weak} — the controller's certificate ${named}; not imported`, { file: source });
  const reason = summary.selfSigned ? "a self-signed controller certificate: trusted as it is" : `a controller certificate issued by ${printable(summary.issuer)}: this exact certificate is trusted`;
  return { destination: "trusted", certificate, reason, der: Buffer.from(x.raw) };
}
