/**
 * The contract between the TLS transport and the trust layer.
 *
 * The transport completes the TLS handshake without judging the certificate
 * (Node's own check knows nothing of the device store), then hands the
 * presented certificates to a CertificateVerifier before it sends the first
 * S7CommPlus byte inside TLS. The verifier either resolves with a verdict or
 * rejects with an S7Error whose code says why (ERR_S7_UNTRUSTED,
 * ERR_S7_REVOKED, ERR_S7_EXPIRED, ERR_S7_ADDRESS_MISMATCH, ...); on
 * rejection the transport destroys the connection.
 *
 * There is deliberately no verifier in src/ that accepts everything.
 */

/** The certificates a controller presented in the handshake, DER encoded. */
export interface PeerCertificates {
  /** The controller's own certificate. */
  leaf: Buffer;
  /** Further certificates it sent (issuers), in the order sent; often empty. */
  intermediates: Buffer[];
}

/** What was dialled: the identity check uses this address, never "localhost". */
export interface VerificationTarget {
  /** Connection name (or host) used in messages. */
  plc: string;
  /** The address dialled: an IP literal, or a host name. */
  host: string;
  port: number;
}

/** Public facts about a certificate, safe to show and log. */
export interface CertificateSummary {
  subject: string;
  issuer: string;
  /** SHA-256 of the DER, lower-case hex without separators. */
  fingerprint256: string;
  serialNumber: string;
  validFrom: Date;
  validTo: Date;
  selfSigned: boolean;
  /** IP addresses from the subjectAltName extension. */
  ipAddresses: string[];
  /** DNS names from the subjectAltName extension. */
  dnsNames: string[];
}

export type TrustWarningCode =
  | "EXPIRED" // trusted, but past notAfter (connect-and-warn policy)
  | "NOT_YET_VALID" // trusted, but before notBefore (possible clock problem)
  | "REVOCATION_NOT_CHECKED" // issued by a root CA that has no CRL in the store
  | "NO_IP_IN_CERTIFICATE" // the certificate names no IP address; the address check was not possible
  | "CRL_EXPIRED" // the applicable CRL's nextUpdate has passed (still applied)
  | "CRL_NOT_YET_VALID"; // the applicable CRL's thisUpdate is in the future (clock?)

export interface TrustWarning {
  code: TrustWarningCode;
  message: string;
}

export interface TrustVerdict {
  certificate: CertificateSummary;
  /** How trust was established: exact DER in the store's trusted/ folder, or a chain to an imported root CA. */
  trustedBy: "store" | "root-ca";
  /** Whether a CRL was consulted for every CA level of the chain. */
  revocationChecked: boolean;
  warnings: TrustWarning[];
}

export interface CertificateVerifier {
  /**
   * Judges the presented certificates for one connection attempt (or a
   * re-check of a running connection). Resolves with the verdict or rejects
   * with a typed S7Error. Never throws synchronously.
   */
  verify(peer: PeerCertificates, target: VerificationTarget): Promise<TrustVerdict>;
}
