/**
 * The TLS parameters of docs/PROTOCOL.md §12.2 and docs/NODES.md §8, in one place for
 * both sides: TLS 1.3 preferred, TLS 1.2 only with ECDHE + AES-GCM, the
 * groups X25519 then P-256 with a single X25519 key share (OpenSSL sends a
 * share for the first group only), no tickets or resumption. The version and curve options
 * go into the secure context (next to `secureContext` they would be ignored).
 */
import { constants } from "node:crypto";
import * as tls from "node:tls";
import { rememberBounded } from "../bounded-map.js";

export type TlsVersionName = "TLSv1.3" | "TLSv1.2";

/** AEAD suites only: the TLS 1.3 ones (Node sorts the TLS_ names into the 1.3 list) and, for TLS 1.2, ECDHE with AES-GCM. */
export const CIPHERS = [
  "TLS_AES_256_GCM_SHA384",
  "TLS_AES_128_GCM_SHA256",
  "TLS_CHACHA20_POLY1305_SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
].join(":");

/** X25519 first (what S7-1500 CPUs negotiate), P-256 as the fallback the C# reference also offers. */
export const CLIENT_GROUPS = "X25519:P-256";

/** Session tickets off, renegotiation off: nothing can be resumed. */
const SECURE_OPTIONS = constants.SSL_OP_NO_TICKET | (constants.SSL_OP_NO_RENEGOTIATION ?? 0);

export function versionRange(versions: readonly TlsVersionName[]): { minVersion: tls.SecureVersion; maxVersion: tls.SecureVersion } {
  const has12 = versions.includes("TLSv1.2");
  const has13 = versions.includes("TLSv1.3");
  if (!has12 && !has13) throw new RangeError("at least one of TLSv1.3 and TLSv1.2 is needed");
  return { minVersion: has12 ? "TLSv1.2" : "TLSv1.3", maxVersion: has13 ? "TLSv1.3" : "TLSv1.2" };
}

/**
 * Contexts are made once per set of settings and shared by every connection
 * that uses them, as a TLS server does: making one loads the key and
 * certificate and sets up OpenSSL's context, which took about a tenth of a
 * connect. Sharing resumes nothing: tickets are off, and the client never
 * offers a session (client-channel.ts refuses a resumed one).
 */
const MAX_CONTEXTS = 32;
const contexts = new Map<string, tls.SecureContext>();

function sharedContext(key: string, make: () => tls.SecureContext): tls.SecureContext {
  const known = contexts.get(key);
  if (known !== undefined) return known;
  // Made first: settings TLS refuses throw here and are never kept.
  return rememberBounded(contexts, key, make(), MAX_CONTEXTS);
}

export function clientContext(versions: readonly TlsVersionName[]): tls.SecureContext {
  const range = versionRange(versions);
  return sharedContext(`client\0${range.minVersion}\0${range.maxVersion}`, () =>
    tls.createSecureContext({
      ...range,
      ecdhCurve: CLIENT_GROUPS,
      ciphers: CIPHERS,
      secureOptions: SECURE_OPTIONS,
    } as tls.SecureContextOptions),
  );
}

export function serverContext(options: { key: string; cert: string; versions: readonly TlsVersionName[]; ciphers?: string }): tls.SecureContext {
  const range = versionRange(options.versions);
  const ciphers = options.ciphers ?? CIPHERS;
  return sharedContext(["server", range.minVersion, range.maxVersion, ciphers, options.cert, options.key].join("\0"), () =>
    tls.createSecureContext({
      key: options.key,
      cert: options.cert,
      ...range,
      ecdhCurve: "X25519:P-256",
      ciphers,
      secureOptions: SECURE_OPTIONS,
    } as tls.SecureContextOptions),
  );
}
