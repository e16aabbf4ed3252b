/**
 * Connection failures as a person on site needs them: the address that was
 * tried, and what the failure most likely means (nothing listening, not an
 * S7 controller, no answer).
 */
import { S7Error } from "../errors.js";

/** The same error with `host:port` and a hint in its message; other failures unchanged. */
export function explainConnectionError(err: unknown, host: string, port: number, timeoutMs: number): S7Error {
  const e = err instanceof S7Error ? err : new S7Error("ERR_S7_CONNECT", err instanceof Error ? err.message : String(err));
  const where = `${host}:${port}`;
  // The client names the controller by host only ("PLC <host>: …"); the address replaces that.
  const prefix = `PLC ${host}: `;
  const text = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
  let message: string | undefined;
  if (/ECONNREFUSED/.test(text)) message = `${where}: connection refused (nothing listens on port ${port}; is the address right?)`;
  else if (/EHOSTUNREACH|ENETUNREACH/.test(text)) message = `${where}: host unreachable (${text})`;
  else if (/ENOTFOUND|EAI_AGAIN/.test(text)) message = `${where}: unknown host name`;
  else if (/\bTPKT\b|\bCOTP\b/.test(text) || e.code === "ERR_S7_DECODE") message = `${where}: not an S7 controller? (${text})`;
  else if (e.code === "ERR_S7_TIMEOUT") message = `${where}: no answer within ${timeoutMs} ms (${text})`;
  else if (!text.includes(where)) message = `${where}: ${text}`;
  if (message === undefined) return e;
  return new S7Error(e.code, message, { cause: e, ...(e.file === undefined ? {} : { file: e.file }) });
}
