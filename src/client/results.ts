/** Per-tag outcomes of reads and writes, and the facts a session reports about itself. */
import type { S7Error } from "../errors.js";
import type { TrustVerdict } from "../transport/verifier.js";
import type { ControllerIdentity } from "../protocol/firmware.js";

export type ReadOutcome = { tag: string; ok: true; value: unknown } | { tag: string; ok: false; error: S7Error };

export type WriteOutcome = { tag: string; ok: true; value: unknown } | { tag: string; ok: false; error: S7Error };

export interface WriteEntry {
  tag: string;
  value: unknown;
}

/** How 64-bit integers (LInt, ULInt, LWord, LTime, LTOD) are handed to flows (docs/NODES.md §6). */
export type Int64Mode = "bigint" | "string" | "number";

export interface SessionInfo {
  /** "TLSv1.3" or "TLSv1.2". */
  tlsVersion: string;
  /** OpenSSL cipher name, e.g. "TLS_AES_256_GCM_SHA384". */
  cipher: string;
  /** The certificate verdict of this connection. */
  verdict: TrustVerdict;
  identity: ControllerIdentity;
  /** Effective protection level after legitimation: 1 full … 4 none; 0 unknown. */
  protectionLevel: number;
  limits: { readMax: number; writeMax: number };
}
