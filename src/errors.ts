/**
 * Typed errors of the whole package.
 *
 * Every error carries a stable `code` (for Catch nodes and programs), says
 * whether retrying can help (`transient`), and names what it concerns: the
 * controller (`plc`, "name (host:port)"), the tag, the file. Messages never
 * contain passwords, keys or session secrets: callers pass only names,
 * addresses and public certificate data.
 */

export type S7ErrorCode =
  // wire and session
  | "ERR_S7_DECODE" // a frame or value that cannot be decoded
  | "ERR_S7_PROTOCOL" // a well-formed frame that breaks the protocol
  | "ERR_S7_CONNECT" // TCP / COTP / InitSsl set-up failed
  | "ERR_S7_CONNECTION_CLOSED" // the connection ended while a request was pending
  | "ERR_S7_TIMEOUT" // a deadline passed
  | "ERR_S7_TLS" // TLS handshake or record failure
  | "ERR_S7_NO_TLS" // the controller offers no Secure Communication
  | "ERR_S7_PLC" // the controller answered with an error return value
  | "ERR_S7_SYSTEM_EVENT" // a fatal SystemEvent from the controller
  | "ERR_S7_OVERLOAD" // the request queue is full
  | "ERR_S7_CLOSED" // the client was closed by its owner
  | "ERR_S7_LEGITIMATION" // password legitimation failed
  // tags and values
  | "ERR_S7_TAG_SYNTAX"
  | "ERR_S7_TAG_NOT_FOUND"
  | "ERR_S7_ITEM" // a per-item error from the controller
  | "ERR_S7_VALUE" // a value that does not fit the tag's type or range
  // trust
  | "ERR_S7_UNTRUSTED"
  | "ERR_S7_REVOKED"
  | "ERR_S7_EXPIRED"
  | "ERR_S7_NOT_YET_VALID"
  | "ERR_S7_BAD_SIGNATURE"
  | "ERR_S7_CERT_USE" // a CA certificate as leaf, an end-entity as issuer
  | "ERR_S7_CHAIN" // chain too deep or looping
  | "ERR_S7_WEAK_CRYPTO" // a key or signature below the crypto floor (docs/SECURITY.md)
  | "ERR_S7_CRL" // a CRL that is unreadable or badly signed
  | "ERR_S7_ADDRESS_MISMATCH"
  | "ERR_S7_STORE" // the certificate store cannot be used
  // configuration
  | "ERR_S7_CONFIG";

export interface S7ErrorContext {
  /** The controller: connection name and/or "host:port". */
  plc?: string;
  /** The tag the error concerns. */
  tag?: string;
  /** A file the error concerns (certificate, CRL, configuration). */
  file?: string;
  /** Whether retrying the same operation later can succeed. */
  transient?: boolean;
  /** The underlying error. */
  cause?: unknown;
}

export class S7Error extends Error {
  readonly code: S7ErrorCode;
  readonly transient: boolean;
  readonly plc?: string;
  readonly tag?: string;
  readonly file?: string;

  constructor(code: S7ErrorCode, message: string, context: S7ErrorContext = {}) {
    super(composeMessage(message, context), context.cause === undefined ? undefined : { cause: context.cause });
    this.name = new.target.name;
    this.code = code;
    this.transient = context.transient ?? false;
    if (context.plc !== undefined) this.plc = context.plc;
    if (context.tag !== undefined) this.tag = context.tag;
    if (context.file !== undefined) this.file = context.file;
  }
}

function composeMessage(message: string, context: S7ErrorContext): string {
  const where: string[] = [];
  if (context.plc !== undefined && !message.includes(context.plc)) where.push(`PLC ${context.plc}`);
  if (context.tag !== undefined && !message.includes(context.tag)) where.push(`tag ${context.tag}`);
  return where.length > 0 ? `${where.join(", ")}: ${message}` : message;
}

/** Bytes that cannot be decoded: truncated, oversized, malformed. */
export class DecodeError extends S7Error {
  /** Offset in the decoded buffer where decoding failed, when known. */
  readonly offset?: number;
  constructor(message: string, offset?: number, context: S7ErrorContext = {}) {
    super("ERR_S7_DECODE", offset === undefined ? message : `${message} (at byte ${offset})`, context);
    if (offset !== undefined) this.offset = offset;
  }
}

/** A protocol rule was broken by the peer. Not transient: the connection is reset. */
export class ProtocolError extends S7Error {
  constructor(message: string, context: S7ErrorContext = {}) {
    super("ERR_S7_PROTOCOL", message, { transient: false, ...context });
  }
}

/** Connection-level failures that a reconnect may cure. */
export class ConnectionError extends S7Error {
  constructor(
    code: "ERR_S7_CONNECT" | "ERR_S7_CONNECTION_CLOSED" | "ERR_S7_CLOSED" | "ERR_S7_NO_TLS",
    message: string,
    context: S7ErrorContext = {},
  ) {
    super(code, message, { transient: code !== "ERR_S7_CLOSED" && code !== "ERR_S7_NO_TLS", ...context });
  }
}

export class TimeoutError extends S7Error {
  constructor(message: string, context: S7ErrorContext = {}) {
    super("ERR_S7_TIMEOUT", message, { transient: true, ...context });
  }
}

/** TLS failures; `opensslCode` carries OpenSSL's reason code where there is one. */
export class TlsError extends S7Error {
  readonly opensslCode?: string;
  constructor(message: string, opensslCode?: string, context: S7ErrorContext = {}) {
    super("ERR_S7_TLS", opensslCode ? `${message} [${opensslCode}]` : message, { transient: true, ...context });
    if (opensslCode !== undefined) this.opensslCode = opensslCode;
  }
}

/** The controller answered a request with a negative return value. */
export class PlcError extends S7Error {
  /** The full 64-bit ReturnValue. */
  readonly returnValue: bigint;
  /** Low 16 bits of the return value as a signed number (the error code). */
  readonly plcCode: number;
  constructor(message: string, returnValue: bigint, context: S7ErrorContext = {}) {
    const plcCode = returnValueCode(returnValue);
    super("ERR_S7_PLC", `${message} (PLC code ${plcCode}${errorCodeName(plcCode)})`, context);
    this.returnValue = returnValue;
    this.plcCode = plcCode;
  }
}

/** A per-item error (one tag of a batch). */
export class ItemError extends S7Error {
  readonly returnValue: bigint;
  readonly plcCode: number;
  constructor(message: string, returnValue: bigint, context: S7ErrorContext = {}) {
    const plcCode = returnValueCode(returnValue);
    super("ERR_S7_ITEM", `${message} (PLC code ${plcCode}${errorCodeName(plcCode)})`, context);
    this.returnValue = returnValue;
    this.plcCode = plcCode;
  }
}

export class TagError extends S7Error {
  constructor(code: "ERR_S7_TAG_SYNTAX" | "ERR_S7_TAG_NOT_FOUND", message: string, context: S7ErrorContext = {}) {
    super(code, message, context);
  }
}

export class ValueError extends S7Error {
  constructor(message: string, context: S7ErrorContext = {}) {
    super("ERR_S7_VALUE", message, context);
  }
}

export class ConfigError extends S7Error {
  constructor(message: string, context: S7ErrorContext = {}) {
    super("ERR_S7_CONFIG", message, context);
  }
}

/** The low 16 bits of an S7CommPlus ReturnValue, read as a signed Int16. */
export function returnValueCode(returnValue: bigint): number {
  return Number(BigInt.asIntN(16, returnValue));
}

/** A ReturnValue means failure when its low 16 bits are negative. */
export function isErrorReturnValue(returnValue: bigint): boolean {
  return returnValueCode(returnValue) < 0;
}

const ERROR_CODE_NAMES: ReadonlyMap<number, string> = new Map([
  [-2, "InvalidValueType"],
  [-3, "InvalidArgumentValue"],
  [-4, "NotEnoughMemoryAvailable"],
  [-12, "ObjectNotFound"],
  [-17, "InvalidCRC"],
  [-24, "InvalidID"],
  [-30, "InvalidRID"],
  [-32, "InvalidAID"],
  [-50, "ReadOnlyObject"],
  [-61, "InvalidValueRange"],
  [-100, "ServiceAccessDenied"],
  [-106, "ServiceInvalidSession"],
  [-112, "ServiceTooManyRequests"],
  [-113, "ServiceTooManySessions"],
  [-119, "ServiceUnknownRequest"],
  [-134, "ServiceMultiESNotSupported"],
  [-255, "InvalidLID"],
  [-256, "InvalidTypeInfoModificationTime"],
  [-351, "IntegrityError"],
  [-352, "SecurityDisconnect"],
  [-353, "SslHandshake"],
  [-501, "SystemLimitExceeded"],
  [-505, "StartTlsFailed"],
  [-506, "StoppingTlsFailed"],
  [-507, "NoSupportForTls"],
]);

/** " Name" for a known S7CommPlus error code, "" otherwise (appended to messages). */
export function errorCodeName(code: number): string {
  const name = ERROR_CODE_NAMES.get(code);
  return name === undefined ? "" : ` ${name}`;
}
