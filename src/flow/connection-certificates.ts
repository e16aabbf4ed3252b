/**
 * The certificates of the store as one connection's Security tab shows them:
 * first the ones this connection was offered (to trust or untrust), then the
 * other trusted ones (to untrust), and the rest of the store's untrusted
 * certificates apart (usually other controllers' — folded away in the editor).
 */
import type { ConnectionStatus } from "../client/controller-connection.js";

const FINGERPRINT = /\b([0-9a-f]{64})\b/;

/** The SHA-256 of the certificate a connection status names: the connected one, or the one a refusal names. */
export function offeredFingerprint(status: ConnectionStatus): string | undefined {
  const connected = status.info?.verdict.certificate.fingerprint256;
  if (connected !== undefined) return connected.toLowerCase();
  const error = status.lastError;
  if (error === undefined) return undefined;
  const fromFile = error.file === undefined ? undefined : FINGERPRINT.exec(error.file.toLowerCase())?.[1];
  return fromFile ?? FINGERPRINT.exec(error.message.toLowerCase())?.[1];
}

export interface CertificateLists<C> {
  /** Offered to this connection, trusted or not, in the order they were offered. */
  thisConnection: Array<C & { trusted: boolean }>;
  /** Trusted, not offered to this connection. */
  trusted: C[];
  /** Untrusted, not offered to this connection. */
  otherUntrusted: C[];
}

export function connectionCertificateLists<C extends { fingerprint256: string }>(
  snapshot: { trusted: readonly C[]; untrusted: readonly C[] },
  offered: readonly string[],
): CertificateLists<C> {
  const key = (c: C): string => c.fingerprint256.replace(/:/g, "").toLowerCase();
  const byFingerprint = new Map<string, C & { trusted: boolean }>();
  for (const c of snapshot.untrusted) byFingerprint.set(key(c), { ...c, trusted: false });
  for (const c of snapshot.trusted) byFingerprint.set(key(c), { ...c, trusted: true });
  const mine = new Set(offered.map((f) => f.replace(/:/g, "").toLowerCase()));
  return {
    thisConnection: [...mine].flatMap((f) => {
      const c = byFingerprint.get(f);
      return c === undefined ? [] : [c];
    }),
    trusted: snapshot.trusted.filter((c) => !mine.has(key(c))),
    otherUntrusted: snapshot.untrusted.filter((c) => !mine.has(key(c))),
  };
}
