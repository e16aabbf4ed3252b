/**
 * Facts derived from a certificate's DER never change, so they are worked
 * out once per certificate and kept: a connect then costs no ASN.1 parsing of
 * a certificate seen before (a controller presents the same one every time).
 * Keyed by the SHA-256 fingerprint OpenSSL already computed; bounded, oldest
 * dropped first.
 */
import { X509Certificate } from "node:crypto";
import { rememberBounded } from "../bounded-map.js";

const MAX_ENTRIES = 256;

export function memoByCertificate<T>(compute: (x: X509Certificate) => T, maxEntries = MAX_ENTRIES): (x: X509Certificate) => T {
  const memo = new Map<string, T>();
  return (x) => {
    const key = x.fingerprint256;
    const known = memo.get(key);
    if (known !== undefined || memo.has(key)) return known as T;
    return rememberBounded(memo, key, compute(x), maxEntries);
  };
}

const parsed = new Map<string, X509Certificate>();

/**
 * The certificate of these DER bytes, parsed once: OpenSSL 3 takes about
 * 0.2 ms to decode one (its public key above all), and a controller presents
 * the same certificate at every connect. X509Certificate objects never
 * change, so one can serve every caller. Bytes that do not parse throw and
 * are not kept.
 */
export function certificateOf(der: Uint8Array): X509Certificate {
  const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString("latin1");
  return parsed.get(key) ?? rememberBounded(parsed, key, new X509Certificate(der), MAX_ENTRIES);
}
