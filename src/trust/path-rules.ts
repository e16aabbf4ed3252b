/**
 * The RFC 5280 §6.1 rules a certification path must satisfy besides its
 * signatures (which Node's X509Certificate.verify checks): every issuer is a
 * CA (basicConstraints cA), may sign certificates (keyUsage keyCertSign when
 * the extension is present), and no CA has more non-self-issued CAs below it
 * than its pathLenConstraint allows; no certificate carries a critical
 * extension that is not understood here. Extensions are read with pkijs.
 */
import type { X509Certificate } from "node:crypto";
import type * as PkijsModule from "pkijs";
import { memoByCertificate } from "./certificate-memo.js";

type Pkijs = typeof PkijsModule;

const OID_KEY_USAGE = "2.5.29.15";
const OID_BASIC_CONSTRAINTS = "2.5.29.19";
/** keyCertSign is bit 5 of the KeyUsage BIT STRING (RFC 5280 §4.2.1.3). */
const KEY_CERT_SIGN = 0x04;

/**
 * Extensions whose meaning the verifier honours or that carry no
 * constraint for a path without explicit policy. A critical extension not
 * listed (name constraints, policy constraints, …) is refused.
 */
const UNDERSTOOD = new Set([
  OID_BASIC_CONSTRAINTS,
  OID_KEY_USAGE,
  "2.5.29.37", // extended key usage
  "2.5.29.17", // subject alternative name
  "2.5.29.18", // issuer alternative name
  "2.5.29.14", // subject key identifier
  "2.5.29.35", // authority key identifier
  "2.5.29.31", // CRL distribution points
  "2.5.29.32", // certificate policies (no explicit policy is required)
  "1.3.6.1.5.5.7.1.1", // authority information access
]);

export interface PathFacts {
  /**
   * basicConstraints cA. (Node's X509Certificate.ca is OpenSSL's
   * X509_check_ca, which is also false for a CA whose keyUsage lacks
   * keyCertSign, and would hide that reason.)
   */
  ca: boolean;
  /** false when keyUsage is present without keyCertSign; undefined without the extension. */
  keyCertSign: boolean | undefined;
  /** The basicConstraints pathLenConstraint, when given. */
  pathLength: number | undefined;
  /** OIDs of critical extensions that are not understood. */
  unknownCritical: string[];
}

export function pathFacts(x: X509Certificate, pkijs: Pkijs): PathFacts {
  return (memoPathFacts ??= memoByCertificate((c) => readPathFacts(c, pkijs)))(x);
}

let memoPathFacts: ((x: X509Certificate) => PathFacts) | undefined;

function readPathFacts(x: X509Certificate, pkijs: Pkijs): PathFacts {
  const cert = pkijs.Certificate.fromBER(x.raw);
  const facts: PathFacts = { ca: false, keyCertSign: undefined, pathLength: undefined, unknownCritical: [] };
  for (const ext of cert.extensions ?? []) {
    if (ext.critical && !UNDERSTOOD.has(ext.extnID)) facts.unknownCritical.push(ext.extnID);
    if (ext.extnID === OID_KEY_USAGE) {
      const bits = (ext.parsedValue as { valueBlock?: { valueHexView?: Uint8Array } } | undefined)?.valueBlock?.valueHexView;
      facts.keyCertSign = bits !== undefined && bits.length > 0 && (bits[0]! & KEY_CERT_SIGN) !== 0;
    } else if (ext.extnID === OID_BASIC_CONSTRAINTS && ext.parsedValue instanceof pkijs.BasicConstraints) {
      facts.ca = ext.parsedValue.cA === true;
      const len = ext.parsedValue.pathLenConstraint;
      if (typeof len === "number") facts.pathLength = len;
      else if (len !== undefined) facts.pathLength = len.valueBlock.valueDec;
    }
  }
  return facts;
}

/** Subject = issuer: a self-issued CA does not count against path lengths (RFC 5280 §6.1.4 (l)). */
export function selfIssued(x: X509Certificate): boolean {
  return x.subject === x.issuer;
}

/**
 * For chain[k] (a CA, k ≥ 1; chain[0] is the leaf): how many non-self-issued
 * intermediate CAs lie between it and the leaf.
 */
export function casBelow(chain: X509Certificate[], k: number): number {
  let n = 0;
  for (let i = 1; i < k; i++) if (!selfIssued(chain[i]!)) n++;
  return n;
}
