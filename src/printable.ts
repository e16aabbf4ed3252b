/**
 * Text that came from a file name, a certificate or the network, made safe
 * to print: control characters (C0, DEL, C1), line and paragraph separators,
 * bidirectional overrides and lone surrogates become visible escapes, so
 * nothing read from outside can move a terminal's cursor, recolour it or
 * forge a log line. A backslash is doubled so that the escapes stay
 * unambiguous. This module has no imports: every layer may use it.
 */
const UNPRINTABLE = /[\\\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function escapeOne(ch: string): string {
  if (ch === "\\") return "\\\\";
  if (ch === "\n") return "\\n";
  if (ch === "\r") return "\\r";
  if (ch === "\t") return "\\t";
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** `text` with every unprintable character escaped (see above). */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escapeOne);
}
