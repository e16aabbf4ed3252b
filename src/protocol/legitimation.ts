/**
 * Password legitimation crypto (docs/PROTOCOL.md §16). The password and the
 * derived keys stay inside these functions: nothing here logs or formats them.
 *
 * - legacy (S7-1500 FW 2.9–3.0, S7-1200 FW 4.3–4.6): response =
 *   SHA-1(password) XOR the 20-byte challenge;
 * - new (S7-1500 FW ≥ 3.1, S7-1200 FW ≥ 4.7, S7-1200 G2): the legitimation
 *   struct encrypted with AES-256-CBC, key = SHA-256 of the TLS exporter
 *   secret (rolled by SHA-256 for every further attempt on the session),
 *   IV = the first 16 bytes of the challenge.
 */
import { createCipheriv, createDecipheriv, createHash } from "node:crypto";
import { ValueError } from "../errors.js";

export const CHALLENGE_LENGTH = 20;

export function sha1(data: string | Uint8Array): Buffer {
  return createHash("sha1").update(data).digest();
}

export function sha256(data: Uint8Array): Buffer {
  return createHash("sha256").update(data).digest();
}

function checkChallenge(challenge: Uint8Array): void {
  if (challenge.length !== CHALLENGE_LENGTH) {
    throw new ValueError(`legitimation challenge must be ${CHALLENGE_LENGTH} bytes, got ${challenge.length}`);
  }
}

/** Legacy response: SHA-1(UTF-8 password) XOR challenge. */
export function legacyLegitimationResponse(password: string, challenge: Uint8Array): Buffer {
  checkChallenge(challenge);
  const digest = sha1(Buffer.from(password, "utf8"));
  const out = Buffer.alloc(CHALLENGE_LENGTH);
  for (let i = 0; i < CHALLENGE_LENGTH; i++) out[i] = digest[i]! ^ challenge[i]!;
  return out;
}

/** Key for the n-th attempt (1-based) on a session: SHA-256 applied n times to the exporter secret. */
export function legitimationKey(exporterSecret: Uint8Array, attempt: number): Buffer {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError("attempt must be a whole number >= 1");
  let key = sha256(exporterSecret);
  for (let i = 1; i < attempt; i++) key = sha256(key);
  return key;
}

/** AES-256-CBC with PKCS#7 padding, IV = challenge[0..16). */
export function encryptLegitimation(plaintext: Uint8Array, key: Uint8Array, challenge: Uint8Array): Buffer {
  checkChallenge(challenge);
  const cipher = createCipheriv("aes-256-cbc", key, challenge.subarray(0, 16));
  return Buffer.concat([cipher.update(plaintext), cipher.final()]);
}

/** The server side (simulator): undoes encryptLegitimation; throws on a bad key or padding. */
export function decryptLegitimation(ciphertext: Uint8Array, key: Uint8Array, challenge: Uint8Array): Buffer {
  checkChallenge(challenge);
  const decipher = createDecipheriv("aes-256-cbc", key, challenge.subarray(0, 16));
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}
