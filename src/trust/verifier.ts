/**
 * The certificate decision for a controller connection (docs/NODES.md §3, §8,
 * docs/SECURITY.md "Decision order"), in this order:
 *
 * 1. revocation: a CRL in trusted/crl/ that lists the certificate refuses it;
 * 2. trust: the exact DER in trusted/ (a self-signed one must also verify its
 *    own signature), else a certification path to a root CA of the
 *    connection's trust settings or of the store's issuers/, validated as RFC 5280 §6.1 does it (every
 *    signature checked with Node's X509Certificate, i.e. OpenSSL; CA and
 *    keyUsage of every issuer, path length constraints, critical extensions:
 *    ./path-rules.ts; depth limited); else the certificate goes to untrusted/
 *    and the connection is refused ("manual trust required" / "import the
 *    issuing root certificate");
 *    then the crypto floor on every certificate below the trust anchor,
 *    manual trust included (./crypto-floor.ts);
 * 3. validity of every certificate on the path: expired or not yet valid →
 *    a warning naming the certificate and its dates, or a refusal when the
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
import { pemToDer } from "./pem.js";
import { loadPkijs } from "./pkijs.js";
import { casBelow, pathFacts } from "./path-rules.js";
import { weakKey, weakSignature } from "./crypto-floor.js";
import { certificateOf, memoByCertificate } from "./certificate-memo.js";
import { printable } from "../printable.js";

type Pkijs = typeof import("pkijs");

/** Whether a self-signed certificate's signature verifies with its own key (a fact of its DER). */
const selfSignatureVerifies = memoByCertificate((x) => x.verify(x.publicKey));

/** "CN=…, O=…" of a certificate, printable. */
function subjectOf(x: X509Certificate): string {
  return printable(x.subject.replace(/\n/g, ", "));
}

/** "key too weak: RSA 1024 bits (minimum 2048)" or "signature too weak: …" when `x` is below the crypto floor. */
function belowFloor(x: X509Certificate, pkijs: Pkijs, keyOnly = false): string | undefined {
  const key = weakKey(x, pkijs);
  if (key !== undefined) return `key too weak: ${key}`;
  const signature = keyOnly ? undefined : weakSignature(x, pkijs);
  return signature === undefined ? undefined : `signature too weak: ${signature}`;
}

/** What a certificate is on its path, for messages: "the controller's certificate CN=…", "intermediate CN=…", "root CA CN=…". */
function roleOf(chain: X509Certificate[], i: number): string {
  if (i === 0) return `the controller's certificate ${subjectOf(chain[0]!)}`;
  return `${i === chain.length - 1 ? "root CA" : "intermediate"} ${subjectOf(chain[i]!)}`;
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
    const pkijs = (this.pkijs ??= (await loadPkijs()).pkijs);
    let leaf: X509Certificate;
    try {
      leaf = certificateOf(peer.leaf);
    } catch (err) {
      throw new S7Error("ERR_S7_TLS", `the controller's certificate cannot be read: ${(err as Error).message}`, { plc });
    }
    const summary = summarize(leaf);
    const fp = summary.fingerprint256;
    const snap = await this.store.snapshot();
    const warnings: TrustWarning[] = [];
    // The connection's own root CAs, then the root CAs imported into the store's issuers/.
    const roots = [...this.roots, ...snap.issuers.map((c) => certificateOf(c.der))];

    if (leaf.ca || pathFacts(leaf, pkijs).ca) {
      throw new S7Error("ERR_S7_CERT_USE", `the controller presented a CA certificate (CA:TRUE) as its own, SHA-256 ${fp}; refused`, { plc });
    }

    // 1 + 2: trust, with revocation checked on every level that has a CRL.
    let trustedBy: TrustVerdict["trustedBy"];
    let revocationChecked: boolean;
    /** The certification path, leaf first; its last certificate is the trust anchor. */
    let path: X509Certificate[];
    const exact = snap.trusted.find((c) => c.fingerprint256 === fp);
    if (exact !== undefined) {
      if (summary.selfSigned && !selfSignatureVerifies(leaf)) {
        throw new S7Error("ERR_S7_BAD_SIGNATURE", `the trusted self-signed certificate ${printable(exact.file)} (SHA-256 ${fp}) has a bad signature; refused`, { plc, file: exact.file });
      }
      if (!summary.selfSigned) {
        // A CA-issued certificate trusted by hand: its issuer's CRL still applies when we know the issuer.
        const issuer = [...roots, ...peer.intermediates.map((d) => certificateOf(d))].find((c) => signedBy(leaf, c));
        if (issuer) await this.checkRevocation([leaf, issuer], 0, snap, plc, warnings, fp);
      }
      trustedBy = "store";
      revocationChecked = false;
      path = [leaf];
    } else {
      const chain = this.buildChain(leaf, roots, peer.intermediates, pkijs, plc, fp);
      if (chain === undefined) {
        const file = await this.store.storeUntrusted(peer.leaf);
        // Trusting a certificate below the crypto floor would not help: say so before anyone tries.
        const weak = belowFloor(leaf, pkijs);
        const note = weak === undefined ? "" : `; note: ${weak}, so it would be refused even when trusted — renew the controller's certificate`;
        if (summary.selfSigned) {
          throw new S7Error("ERR_S7_UNTRUSTED", `untrusted self-signed certificate: manual trust required — move ${file} to trusted/ (SHA-256 ${fp})${note}`, { plc, file });
        }
        throw new S7Error("ERR_S7_UNTRUSTED", `certificate issued by an unknown CA (${printable(summary.issuer)}): import the issuing root certificate, or trust ${file} (SHA-256 ${fp})${note}`, { plc, file });
      }
      this.checkPathRules(chain, pkijs, plc, fp);
      revocationChecked = true;
      for (let i = 0; i + 1 < chain.length; i++) {
        const checked = await this.checkRevocation(chain, i, snap, plc, warnings, fp);
        revocationChecked &&= checked;
      }
      if (!revocationChecked) warnings.push({ code: "REVOCATION_NOT_CHECKED", message: "revocation not checked: no CRL in trusted/crl/ for the issuing CA" });
      trustedBy = "root-ca";
      path = chain;
    }
    this.checkCryptoFloor(path, pkijs, plc);

    // 3: validity of every certificate on the path.
    for (let i = 0; i < path.length; i++) this.checkValidity(path, i, plc, warnings);

    // 4: address.
    if (this.checkAddress) {
      const host = normalizeHost(target.host);
      if (net.isIP(host)) {
        if (summary.ipAddresses.length === 0) warnings.push({ code: "NO_IP_IN_CERTIFICATE", message: "the certificate names no IP address; the address could not be checked" });
        else if (!summary.ipAddresses.map(normalizeHost).includes(host)) {
          throw new S7Error("ERR_S7_ADDRESS_MISMATCH", `address not in certificate: dialled ${printable(target.host)}, the certificate names ${summary.ipAddresses.join(", ")} (SHA-256 ${fp})`, { plc });
        }
      } else if (summary.dnsNames.length > 0 && !summary.dnsNames.some((d) => d.toLowerCase() === host.toLowerCase())) {
        throw new S7Error("ERR_S7_ADDRESS_MISMATCH", `address not in certificate: dialled ${printable(target.host)}, the certificate names ${printable(summary.dnsNames.join(", "))}`, { plc });
      }
    }
    return { certificate: summary, trustedBy, revocationChecked, warnings };
  }

  /** Leaf → … → a configured root; undefined when no root is reached. Throws on misuse and loops. */
  private buildChain(leaf: X509Certificate, roots: X509Certificate[], intermediates: Buffer[], pkijs: Pkijs, plc: string, fp: string): X509Certificate[] | undefined {
    const pool = intermediates.map((d) => certificateOf(d));
    const chain = [leaf];
    const seen = new Set([fingerprint256(leaf.raw)]);
    let current = leaf;
    for (;;) {
      const root = roots.find((r) => signedBy(current, r));
      if (root) {
        this.checkIssuerUse(root, pkijs, plc, fp);
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
      this.checkIssuerUse(next, pkijs, plc, fp);
      chain.push(next);
      if (chain.length >= this.maxChainLength) throw new S7Error("ERR_S7_CHAIN", `certificate chain longer than ${this.maxChainLength}; refused (SHA-256 ${fp})`, { plc });
      current = next;
    }
  }

  private checkIssuerUse(issuer: X509Certificate, pkijs: Pkijs, plc: string, fp: string): void {
    const facts = pathFacts(issuer, pkijs);
    if (!facts.ca) throw new S7Error("ERR_S7_CERT_USE", `issuer ${subjectOf(issuer)} is not a CA (CA:FALSE); refused (SHA-256 ${fp})`, { plc });
    if (facts.keyCertSign === false) {
      throw new S7Error("ERR_S7_CERT_USE", `issuer ${subjectOf(issuer)} may not sign certificates (keyUsage lacks keyCertSign); refused (SHA-256 ${fp})`, { plc });
    }
  }

  /** Path length constraints of every CA on the path and critical extensions of every certificate. */
  private checkPathRules(chain: X509Certificate[], pkijs: Pkijs, plc: string, fp: string): void {
    for (let i = 0; i < chain.length; i++) {
      const facts = pathFacts(chain[i]!, pkijs);
      if (facts.unknownCritical.length > 0) {
        throw new S7Error("ERR_S7_CERT_USE", `${roleOf(chain, i)} carries a critical extension that is not understood (${facts.unknownCritical.join(", ")}); refused (SHA-256 ${fp})`, { plc });
      }
      if (i > 0 && facts.pathLength !== undefined && casBelow(chain, i) > facts.pathLength) {
        throw new S7Error(
          "ERR_S7_CHAIN",
          `path length exceeded: ${roleOf(chain, i)} allows ${facts.pathLength} CA${facts.pathLength === 1 ? "" : "s"} below it (pathLenConstraint), the path has ${casBelow(chain, i)}; refused (SHA-256 ${fp})`,
          { plc },
        );
      }
    }
  }

  /** Keys and signatures of every certificate below the trust anchor (the leaf's own when it is the anchor), and the anchor's key. */
  private checkCryptoFloor(path: X509Certificate[], pkijs: Pkijs, plc: string): void {
    for (let i = 0; i < path.length; i++) {
      const x = path[i]!;
      // The self-signature of an imported root is not judged: it is the anchor.
      const weak = belowFloor(x, pkijs, i === path.length - 1 && path.length > 1);
      if (weak !== undefined) throw new S7Error("ERR_S7_WEAK_CRYPTO", `${weak} — ${roleOf(path, i)} (SHA-256 ${fingerprint256(x.raw)}); refused`, { plc });
    }
  }

  /** The one expiry policy, for the leaf and for every CA on its path. */
  private checkValidity(path: X509Certificate[], i: number, plc: string, warnings: TrustWarning[]): void {
    const x = path[i]!;
    const when = this.now().getTime();
    const range = `${new Date(x.validFrom).toISOString()} … ${new Date(x.validTo).toISOString()}`;
    const who = i === 0 ? "certificate" : roleOf(path, i);
    const whose = i === 0 ? "the controller's certificate" : roleOf(path, i);
    if (when > new Date(x.validTo).getTime()) {
      if (this.rejectExpired) throw new S7Error("ERR_S7_EXPIRED", `${whose} expired (valid ${range}); refused because "reject expired certificates" is on`, { plc });
      warnings.push({ code: "EXPIRED", message: `${who} expired (valid ${range})` });
    } else if (when < new Date(x.validFrom).getTime()) {
      const message = `${who} not yet valid (valid ${range}) — check the clock of the controller and of this machine`;
      if (this.rejectExpired) throw new S7Error("ERR_S7_NOT_YET_VALID", `${message}; refused because "reject expired certificates" is on`, { plc });
      warnings.push({ code: "NOT_YET_VALID", message });
    }
  }

  /**
   * Applies the CRL of chain[i + 1] to chain[i]; true when a CRL was consulted.
   * Throws when revoked or when the CRL is bad.
   */
  private async checkRevocation(chain: X509Certificate[], i: number, snap: StoreSnapshot, plc: string, warnings: TrustWarning[], fp: string): Promise<boolean> {
    const cert = chain[i]!;
    const issuer = chain[i + 1]!;
    const forIssuer: StoredCrl[] = [];
    const badForIssuer: StoredCrl[] = [];
    for (const c of snap.crls) {
      if (c.crl === undefined) continue;
      if (await c.crl.signedBy(issuer.raw)) forIssuer.push(c);
      else if (c.crl.issuer === issuer.subject.split("\n").join(", ")) badForIssuer.push(c);
    }
    if (forIssuer.length === 0 && badForIssuer.length > 0) {
      throw new S7Error("ERR_S7_CRL", `the CRL ${printable(badForIssuer[0]!.file)} for ${subjectOf(issuer)} has a bad signature; certificates of that CA are refused until it is replaced`, { plc, file: badForIssuer[0]!.file });
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
      if (crl.revoked.has(serial)) {
        if (i === 0) throw new S7Error("ERR_S7_REVOKED", `certificate revoked by ${printable(c.file)} (serial ${cert.serialNumber}, SHA-256 ${fp})`, { plc, file: c.file });
        throw new S7Error(
          "ERR_S7_REVOKED",
          `intermediate ${subjectOf(cert)} (serial ${cert.serialNumber}) is revoked by the CRL of ${subjectOf(issuer)} (${printable(c.file)}); the controller's certificate (SHA-256 ${fp}) is refused`,
          { plc, file: c.file },
        );
      }
      if (crl.nextUpdate && crl.nextUpdate.getTime() < now) warnings.push({ code: "CRL_EXPIRED", message: `${printable(c.file)} is past its nextUpdate (${crl.nextUpdate.toISOString()}); still applied` });
      if (crl.thisUpdate.getTime() > now) warnings.push({ code: "CRL_NOT_YET_VALID", message: `${printable(c.file)} has thisUpdate in the future (${crl.thisUpdate.toISOString()}); check the clock` });
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
