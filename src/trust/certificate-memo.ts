/**
 * Facts derived from a certificate's DER never change, so they are worked
 * out once per certificate and kept: a connect then costs no ASN.1 parsing of
 * a certificate seen before (a controller presents the same one every time).
 * Keyed by the SHA-256 fingerprint OpenSSL already computed; bounded, oldest
 * dropped first.
 */
import type { X509Certificate } from "node:crypto";

const MAX_ENTRIES = 256;

export function memoByCertificate<T>(compute: (x: X509Certificate) => T, maxEntries = MAX_ENTRIES): (x: X509Certificate) => T {
  const memo = new Map<string, T>();
  return (x) => {
    const key = x.fingerprint256;
    const known = memo.get(key);
    if (known !== undefined || memo.has(key)) return known as T;
    const value = compute(x);
    if (memo.size >= maxEntries) memo.delete(memo.keys().next().value as string);
    memo.set(key, value);
    return value;
  };
}
