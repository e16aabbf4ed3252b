/** Reading certificates: DER or PEM, their public facts, names for files. */
import { X509Certificate, createHash } from "node:crypto";
import { S7Error } from "../errors.js";
import type { CertificateSummary } from "../transport/verifier.js";
import { pemToDer } from "./pem.js";
import type { ParsedCrl } from "./crl.js";

/** DER from DER or PEM bytes (a person may drop either). */
export function certificateDer(data: Buffer): Buffer | undefined {
  const text = data.subarray(0, 64).toString("latin1");
  if (text.includes("-----BEGIN")) return pemToDer(data.toString("latin1"));
  return data.length > 0 && data[0] === 0x30 ? data : undefined;
}

export function fingerprint256(der: Uint8Array): string {
  return createHash("sha256").update(der).digest("hex");
}

/** "AB:CD:…" or "abcd…" → "abcd…" */
export function normalizeFingerprint(text: string): string {
  return text.replace(/[^0-9a-fA-F]/g, "").toLowerCase();
}

function sanList(x: X509Certificate, prefix: string): string[] {
  return (x.subjectAltName ?? "")
    .split(/,\s*/)
    .filter((e) => e.startsWith(prefix))
    .map((e) => e.slice(prefix.length).trim());
}

export function parseCertificate(der: Buffer, file?: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (err) {
    throw new S7Error("ERR_S7_STORE", `not a readable X.509 certificate: ${(err as Error).message}`, file === undefined ? {} : { file });
  }
}

/** Subject = issuer ("self-issued"); whether its signature verifies is checked where it matters. */
export function isSelfSigned(x: X509Certificate): boolean {
  return x.subject === x.issuer;
}

/** Whether `issuer` signed `cert`: names match and the signature verifies (CA rules are checked separately). */
export function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.issuer === issuer.subject && cert.verify(issuer.publicKey);
}

export function isCa(x: X509Certificate): boolean {
  return x.ca;
}

export function summarize(x: X509Certificate): CertificateSummary {
  return {
    subject: x.subject.replace(/\n/g, ", "),
    issuer: x.issuer.replace(/\n/g, ", "),
    fingerprint256: fingerprint256(x.raw),
    serialNumber: x.serialNumber,
    validFrom: new Date(x.validFrom),
    validTo: new Date(x.validTo),
    selfSigned: isSelfSigned(x),
    ipAddresses: sanList(x, "IP Address:").map((ip) => ip.toLowerCase()),
    dnsNames: sanList(x, "DNS:"),
  };
}

/** The CN (or the whole subject) for file names and messages. */
export function commonName(x: X509Certificate): string {
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(x.subject);
  return cn ? cn[1]! : x.subject;
}

/** A file name that cannot leave its folder: the CN cleaned and cut, then the full SHA-256. */
export function safeFileName(x: X509Certificate): string {
  const base = commonName(x)
    .normalize("NFKD")
    .replace(/[^A-Za-z0-9_-]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 48);
  return `${base || "certificate"}-${fingerprint256(x.raw)}.der`;
}

/** A certificate as shown to people and programs (CLI, editor, node output): no DER, ISO dates. */
export interface CertificateView extends Omit<Partial<CertificateSummary>, "validFrom" | "validTo"> {
  file: string;
  validFrom?: string;
  validTo?: string;
}

type ViewInput = Partial<CertificateSummary> & { file: string; der?: Buffer };

/** The one certificate view; accepts a stored certificate or the partial facts of a store event. */
export function certificateView(c: ViewInput & { fingerprint256: string }): CertificateView & { fingerprint256: string };
export function certificateView(c: ViewInput): CertificateView;
export function certificateView(c: ViewInput): CertificateView {
  const { der: _der, validFrom, validTo, ...rest } = c;
  return { ...rest, ...(validFrom ? { validFrom: validFrom.toISOString() } : {}), ...(validTo ? { validTo: validTo.toISOString() } : {}) };
}

/** A CRL as shown: its facts, or why it cannot be used. */
export type CrlView = { file: string; issuer: string; thisUpdate: string; nextUpdate: string | null; revoked: number } | { file: string; error: string };

/** The one CRL view. */
export function crlView(c: { file: string; crl?: ParsedCrl; error?: string }): CrlView {
  if (c.crl === undefined) return { file: c.file, error: c.error ?? "unusable" };
  return { file: c.file, issuer: c.crl.issuer, thisUpdate: c.crl.thisUpdate.toISOString(), nextUpdate: c.crl.nextUpdate?.toISOString() ?? null, revoked: c.crl.revoked.size };
}
