/**
 * The certificate decision for a controller connection (SPEC §3, §8,
 * RELIABILITY.md policy), in this order:
 *
 * 1. revocation: a CRL in trusted/crl/ that lists the certificate refuses it;
 * 2. trust: the exact DER in trusted/ (a self-signed one must also verify its
 *    own signature), else a chain to a root CA of the connection's trust
 *    settings (basicConstraints and keyUsage honoured, depth limited, every
 *    signature checked); else the certificate goes to untrusted/ and the
 *    connection is refused ("manual trust required" / "import the issuing
 *    root certificate");
 * 3. validity: expired or not yet valid → a warning, or a refusal when the
 *    connection rejects expired certificates;
 * 4. address: when the certificate names IP addresses, the dialled one must
 *    be among them; when it names none, a warning.
 */
import { X509Certificate } from "node:crypto";
import * as net from "node:net";
import { S7Error } from "../errors.js";
import type { CertificateVerifier, PeerCertificates, TrustVerdict, TrustWarning, VerificationTarget } from "../transport/verifier.js";
import { fingerprint256, isSelfSigned, signedBy, summarize } from "./certificate-info.js";
import { normalizeSerial } from "./crl.js";
import type { CertificateStore, StoreSnapshot, StoredCrl } from "./store.js";
import { pemToDer } from "../pki/certificates.js";
import { loadPkijs } from "./pkijs.js";

type Pkijs = typeof import("pkijs");
const OID_KEY_USAGE = "2.5.29.15";
/** keyCertSign is bit 5 of the KeyUsage BIT STRING (RFC 5280 §4.2.1.3). */
const KEY_CERT_SIGN = 0x04;

/** false when a keyUsage extension is present without keyCertSign; undefined without the extension. */
function keyCertSignAllowed(der: Buffer, pkijs: Pkijs): boolean | undefined {
  const cert = pkijs.Certificate.fromBER(der);
  const ext = cert.extensions?.find((e) => e.extnID === OID_KEY_USAGE);
  if (ext === undefined) return undefined;
  const bits = (ext.parsedValue as { valueBlock?: { valueHexView?: Uint8Array } } | undefined)?.valueBlock?.valueHexView;
  return bits !== undefined && bits.length > 0 && (bits[0]! & KEY_CERT_SIGN) !== 0;
}

export interface VerifierOptions {
  store: CertificateStore;
  /** Root CA certificates (PEM) of the connection's trust settings. */
  rootCAs?: string[];
  rejectExpired?: boolean;
  checkAddress?: boolean;
  /** Longest chain from the leaf to a root, both included (default 5). */
  maxChainLength?: number;
  /** Clock for tests. */
  now?: () => Date;
}

export class DeviceCertificateVerifier implements CertificateVerifier {
  private readonly store: CertificateStore;
  private readonly roots: X509Certificate[];
  private readonly rejectExpired: boolean;
  private readonly checkAddress: boolean;
  private readonly maxChainLength: number;
  private readonly now: () => Date;

  constructor(options: VerifierOptions) {
    this.store = options.store;
    this.roots = (options.rootCAs ?? []).flatMap(splitPem).map((pem) => new X509Certificate(pem));
    this.rejectExpired = options.rejectExpired ?? false;
    this.checkAddress = options.checkAddress ?? true;
    this.maxChainLength = options.maxChainLength ?? 5;
    this.now = options.now ?? (() => new Date());
  }

  private pkijs: Pkijs | undefined;

  async verify(peer: PeerCertificates, target: VerificationTarget): Promise<TrustVerdict> {
    const plc = target.plc;
    this.pkijs ??= (await loadPkijs()).pkijs;
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(peer.leaf);
    } catch (err) {
      throw new S7Error("ERR_S7_TLS", `the controller's certificate cannot be read: ${(err as Error).message}`, { plc });
    }
    const summary = summarize(leaf);
    const fp = summary.fingerprint256;
    const snap = await this.store.snapshot();
    const warnings: TrustWarning[] = [];
    const when = this.now();

    if (leaf.ca) {
      throw new S7Error("ERR_S7_CERT_USE", `the controller presented a CA certificate (CA:TRUE) as its own, SHA-256 ${fp}; refused`, { plc });
    }

    // 1 + 2: trust, with revocation checked on every level that has a CRL.
    let trustedBy: TrustVerdict["trustedBy"];
    let revocationChecked: boolean;
    const exact = snap.trusted.find((c) => c.fingerprint256 === fp);
    if (exact !== undefined) {
      if (summary.selfSigned && !leaf.verify(leaf.publicKey)) {
        throw new S7Error("ERR_S7_BAD_SIGNATURE", `the trusted self-signed certificate ${exact.file} (SHA-256 ${fp}) has a bad signature; refused`, { plc, file: exact.file });
      }
      if (!summary.selfSigned) {
        // A CA-issued certificate trusted by hand: its issuer's CRL still applies when we know the issuer.
        const issuer = [...this.roots, ...peer.intermediates.map((d) => new X509Certificate(d))].find((c) => signedBy(leaf, c));
        if (issuer) await this.checkRevocation(leaf, issuer, snap, plc, warnings, fp);
      }
      trustedBy = "store";
      revocationChecked = false;
    } else {
      const chain = this.buildChain(leaf, peer.intermediates, plc, fp);
      if (chain === undefined) {
        const file = await this.store.storeUntrusted(peer.leaf);
        if (summary.selfSigned) {
          throw new S7Error("ERR_S7_UNTRUSTED", `untrusted self-signed certificate: manual trust required — move ${file} to trusted/ (SHA-256 ${fp})`, { plc, file });
        }
        throw new S7Error("ERR_S7_UNTRUSTED", `certificate issued by an unknown CA (${summary.issuer}): import the issuing root certificate, or trust ${file} (SHA-256 ${fp})`, { plc, file });
      }
      revocationChecked = true;
      for (let i = 0; i + 1 < chain.length; i++) {
        const checked = await this.checkRevocation(chain[i]!, chain[i + 1]!, snap, plc, warnings, fp);
        revocationChecked &&= checked;
      }
      if (!revocationChecked) warnings.push({ code: "REVOCATION_NOT_CHECKED", message: "revocation not checked: no CRL in trusted/crl/ for the issuing CA" });
      trustedBy = "root-ca";
    }

    // 3: validity.
    const from = summary.validFrom;
    const to = summary.validTo;
    const range = `${from.toISOString()} … ${to.toISOString()}`;
    if (when.getTime() > to.getTime()) {
      if (this.rejectExpired) throw new S7Error("ERR_S7_EXPIRED", `the controller's certificate expired (valid ${range}); refused because "reject expired certificates" is on`, { plc });
      warnings.push({ code: "EXPIRED", message: `certificate expired (valid ${range})` });
    } else if (when.getTime() < from.getTime()) {
      const message = `certificate not yet valid (valid ${range}) — check the clock of the controller and of this machine`;
      if (this.rejectExpired) throw new S7Error("ERR_S7_NOT_YET_VALID", `${message}; refused because "reject expired certificates" is on`, { plc });
      warnings.push({ code: "NOT_YET_VALID", message });
    }

    // 4: address.
    if (this.checkAddress) {
      const host = normalizeHost(target.host);
      if (net.isIP(host)) {
        if (summary.ipAddresses.length === 0) warnings.push({ code: "NO_IP_IN_CERTIFICATE", message: "the certificate names no IP address; the address could not be checked" });
        else if (!summary.ipAddresses.map(normalizeHost).includes(host)) {
          throw new S7Error("ERR_S7_ADDRESS_MISMATCH", `address not in certificate: dialled ${target.host}, the certificate names ${summary.ipAddresses.join(", ")} (SHA-256 ${fp})`, { plc });
        }
      } else if (summary.dnsNames.length > 0 && !summary.dnsNames.some((d) => d.toLowerCase() === host.toLowerCase())) {
        throw new S7Error("ERR_S7_ADDRESS_MISMATCH", `address not in certificate: dialled ${target.host}, the certificate names ${summary.dnsNames.join(", ")}`, { plc });
      }
    }
    return { certificate: summary, trustedBy, revocationChecked, warnings };
  }

  /** Leaf → … → a configured root; undefined when no root is reached. Throws on misuse and loops. */
  private buildChain(leaf: X509Certificate, intermediates: Buffer[], plc: string, fp: string): X509Certificate[] | undefined {
    const pool = intermediates.map((d) => new X509Certificate(d));
    const chain = [leaf];
    const seen = new Set([fingerprint256(leaf.raw)]);
    let current = leaf;
    for (;;) {
      const root = this.roots.find((r) => signedBy(current, r));
      if (root) {
        this.checkIssuerUse(root, plc, fp);
        chain.push(root);
        if (chain.length > this.maxChainLength) throw new S7Error("ERR_S7_CHAIN", `certificate chain longer than ${this.maxChainLength}; refused (SHA-256 ${fp})`, { plc });
        return chain;
      }
      if (isSelfSigned(current)) return undefined;
      const next = pool.find((c) => signedBy(current, c));
      if (next === undefined) return undefined;
      const nfp = fingerprint256(next.raw);
      if (seen.has(nfp)) throw new S7Error("ERR_S7_CHAIN", `certificate chain loops; refused (SHA-256 ${fp})`, { plc });
      seen.add(nfp);
      this.checkIssuerUse(next, plc, fp);
      chain.push(next);
      if (chain.length >= this.maxChainLength) throw new S7Error("ERR_S7_CHAIN", `certificate chain longer than ${this.maxChainLength}; refused (SHA-256 ${fp})`, { plc });
      current = next;
    }
  }

  private checkIssuerUse(issuer: X509Certificate, plc: string, fp: string): void {
    const name = issuer.subject.replace(/\n/g, ", ");
    if (!issuer.ca) throw new S7Error("ERR_S7_CERT_USE", `issuer ${name} is not a CA (CA:FALSE); refused (SHA-256 ${fp})`, { plc });
    if (this.pkijs && keyCertSignAllowed(issuer.raw, this.pkijs) === false) {
      throw new S7Error("ERR_S7_CERT_USE", `issuer ${name} may not sign certificates (keyUsage without keyCertSign); refused (SHA-256 ${fp})`, { plc });
    }
  }

  /** Applies the issuer's CRL; true when a CRL was consulted. Throws when revoked or when the CRL is bad. */
  private async checkRevocation(cert: X509Certificate, issuer: X509Certificate, snap: StoreSnapshot, plc: string, warnings: TrustWarning[], fp: string): Promise<boolean> {
    const forIssuer: StoredCrl[] = [];
    const badForIssuer: StoredCrl[] = [];
    for (const c of snap.crls) {
      if (c.crl === undefined) continue;
      if (await c.crl.signedBy(issuer.raw)) forIssuer.push(c);
      else if (c.crl.issuer === issuer.subject.split("\n").join(", ")) badForIssuer.push(c);
    }
    if (forIssuer.length === 0 && badForIssuer.length > 0) {
      throw new S7Error("ERR_S7_CRL", `the CRL ${badForIssuer[0]!.file} for ${issuer.subject.replace(/\n/g, ", ")} has a bad signature; certificates of that CA are refused until it is replaced`, { plc, file: badForIssuer[0]!.file });
    }
    const corrupt = snap.crls.filter((c) => c.crl === undefined);
    if (forIssuer.length === 0 && corrupt.length > 0 && !isSelfSigned(cert)) {
      // An unreadable CRL may belong to this CA: fail closed rather than ignore it.
      throw new S7Error("ERR_S7_CRL", `${corrupt[0]!.error}; CA-issued certificates are refused until it is fixed`, { plc, file: corrupt[0]!.file });
    }
    const serial = normalizeSerial(cert.serialNumber);
    const now = this.now().getTime();
    for (const c of forIssuer) {
      const crl = c.crl!;
      if (crl.revoked.has(serial)) throw new S7Error("ERR_S7_REVOKED", `certificate revoked by ${c.file} (serial ${cert.serialNumber}, SHA-256 ${fp})`, { plc, file: c.file });
      if (crl.nextUpdate && crl.nextUpdate.getTime() < now) warnings.push({ code: "CRL_EXPIRED", message: `${c.file} is past its nextUpdate (${crl.nextUpdate.toISOString()}); still applied` });
      if (crl.thisUpdate.getTime() > now) warnings.push({ code: "CRL_NOT_YET_VALID", message: `${c.file} has thisUpdate in the future (${crl.thisUpdate.toISOString()}); check the clock` });
    }
    return forIssuer.length > 0;
  }
}

function normalizeHost(host: string): string {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (net.isIPv6(h)) {
    // Expand "::" so that textual variants compare equal.
    const [head = "", tail = ""] = h.split("::");
    const a = head ? head.split(":") : [];
    const b = tail ? tail.split(":") : [];
    const fill = h.includes("::") ? Array(8 - a.length - b.length).fill("0") : [];
    return [...a, ...fill, ...b].map((p) => p.replace(/^0+(?=.)/, "")).join(":");
  }
  return h;
}

/** Every CERTIFICATE block of a PEM text. */
export function splitPem(text: string): string[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => m[0]).filter((pem) => pemToDer(pem) !== undefined);
}
