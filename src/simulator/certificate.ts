/**
 * The simulated controller's certificate (docs/SIMULATOR.md): self-signed
 * (generated on first start and kept in `dir` when given, so a restart
 * presents the same certificate), issued by a given or generated test CA, or
 * read from PEM files.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import { ConfigError } from "../errors.js";
import { serverContext } from "../transport/tls-settings.js";
import type { TlsVersionName } from "../transport/tls-settings.js";
import { generateCa, issueCertificate, type IssuedCertificate } from "../pki/certificates.js";
import type { CertificateConfig } from "./config.js";

export interface ServerCertificate {
  /** Leaf first, then the issuing CA when there is one. */
  certPem: string;
  keyPem: string;
  /** The leaf alone. */
  leafPem: string;
  caCertificatePem?: string;
}

function readPem(file: string, what: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read the ${what}: ${(err as Error).message}`, { file });
  }
}

function keep(dir: string | undefined, base: string, make: () => IssuedCertificate): { certPem: string; keyPem: string } {
  if (dir !== undefined) {
    const certFile = path.join(dir, `${base}-cert.pem`);
    const keyFile = path.join(dir, `${base}-key.pem`);
    if (fs.existsSync(certFile) && fs.existsSync(keyFile)) return { certPem: readPem(certFile, "certificate"), keyPem: readPem(keyFile, "key") };
    const made = make();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(keyFile, made.keyPem, { mode: 0o600 });
    fs.writeFileSync(certFile, made.certPem);
    return made;
  }
  return make();
}

export function resolveCertificate(config: CertificateConfig | undefined, name: string, host: string): ServerCertificate {
  const c = config ?? {};
  const mode = c.mode ?? "self-signed";
  const commonName = c.commonName ?? name;
  const ipAddresses = c.ipAddresses ?? (net.isIP(host) ? [host] : []);
  const validity = {
    ...(c.notBefore ? { notBefore: new Date(c.notBefore) } : {}),
    ...(c.notAfter ? { notAfter: new Date(c.notAfter) } : {}),
  };
  const safe = commonName.replace(/[^A-Za-z0-9_-]/g, "_");
  if (mode === "files") {
    if (!c.certFile || !c.keyFile) throw new ConfigError('certificate mode "files" needs certFile and keyFile');
    const certPem = readPem(c.certFile, "certificate");
    return { certPem, keyPem: readPem(c.keyFile, "key"), leafPem: certPem };
  }
  if (mode === "ca") {
    let ca: { certPem: string; keyPem: string };
    if (c.caCertFile && c.caKeyFile) ca = { certPem: readPem(c.caCertFile, "CA certificate"), keyPem: readPem(c.caKeyFile, "CA key") };
    else ca = keep(c.dir, "test-root-ca", () => generateCa({ commonName: "S7 Secure Test Root CA", organization: "S7 Secure" }));
    const leaf = keep(c.dir, safe, () => issueCertificate({ commonName, ipAddresses, ...validity, issuer: ca }));
    return { certPem: leaf.certPem + ca.certPem, keyPem: leaf.keyPem, leafPem: leaf.certPem, caCertificatePem: ca.certPem };
  }
  if (mode !== "self-signed") throw new ConfigError(`unknown certificate mode "${String(mode)}"`);
  const own = keep(c.dir, safe, () => issueCertificate({ commonName, ipAddresses, ...validity }));
  return { certPem: own.certPem, keyPem: own.keyPem, leafPem: own.certPem };
}

/** "RSA 512 bits", "EC prime256v1", … of a certificate, for messages. */
function keyDescription(certPem: string): string {
  try {
    const key = new X509Certificate(certPem).publicKey;
    const d = key.asymmetricKeyDetails;
    const type = (key.asymmetricKeyType ?? "unknown").toUpperCase();
    return d?.modulusLength ? `${type} ${d.modulusLength} bits` : d?.namedCurve ? `${type} ${d.namedCurve}` : type;
  } catch {
    return "unreadable certificate";
  }
}

/**
 * Refuses, before the simulator listens, a certificate or key that TLS will
 * not serve (a key below OpenSSL's security level, a SHA-1 signature from
 * a CA, a key that does not belong to the certificate): the same secure
 * context every connection uses is built once here, so that no connection
 * can fail on it later.
 */
export function assertServable(cert: Pick<ServerCertificate, "certPem" | "keyPem">, versions: readonly TlsVersionName[]): void {
  try {
    serverContext({ key: cert.keyPem, cert: cert.certPem, versions });
  } catch (err) {
    const e = err as Error & { reason?: string };
    const reason = (e.reason ?? e.message).replace(/^error:[0-9A-F]+:[^:]*:[^:]*:/, "").split("\n")[0];
    throw new ConfigError(`TLS cannot serve this certificate and key: ${reason} (${keyDescription(cert.certPem)})`);
  }
}
