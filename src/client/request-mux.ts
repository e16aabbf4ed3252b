/**
 * Matches S7CommPlus responses to requests on one secure channel.
 *
 * - One sequence counter per connection; after 65535 comes 1 (0 is skipped,
 *   S7COMMPLUS-TLS §7.1).
 * - Two IntegrityId counters ("read" and "write" functions, §7.3), first value 1.
 * - A response is delivered only to the request with its sequence number and
 *   function code; anything else is a protocol error that ends the connection
 *   (a value must never reach the wrong request).
 * - Every request has a deadline. When it passes the request fails with
 *   ERR_S7_TIMEOUT and the connection is ended: a controller that does not
 *   answer in time is treated as unreachable (black-holed path, slow-loris),
 *   and a late answer can never be matched to a newer request.
 * - When the connection ends, every pending request fails with a typed error.
 */
import { ProtocolError, S7Error, TimeoutError, ConnectionError } from "../errors.js";

/** What the multiplexer needs from a secure channel (the transport's SecureChannel satisfies it). */
export interface PduChannel {
  sendPdu(version: number, pdu: Buffer): void;
  on(event: "pdu", listener: (version: number, pdu: Buffer) => void): unknown;
  on(event: "systemEvent", listener: (data: Buffer) => void): unknown;
  on(event: "close", listener: (err?: S7Error) => void): unknown;
  destroy(err?: S7Error): void;
}

export interface ResponsePdu {
  version: number;
  functionCode: number;
  sequence: number;
  /** The whole response PDU (opcode … end), for the message decoders. */
  pdu: Buffer;
}

interface Pending {
  functionCode: number;
  resolve(response: ResponsePdu): void;
  reject(err: S7Error): void;
  timer: NodeJS.Timeout;
}

export interface RequestMuxOptions {
  /** Controller name for messages. */
  plc: string;
  /** Default per-request deadline (ms). */
  requestTimeoutMs: number;
  /** First sequence number to hand out (the transport used 1 for InitSsl). */
  firstSequence?: number;
}

const OPCODE_RESPONSE = 0x32;
const OPCODE_NOTIFICATION = 0x33;
/** Old S7-1200 firmware answers a 0x74-flagged SetVariable with opcode 02 (S7COMMPLUS-TLS §6.2). */
const OPCODE_RESPONSE_OLD = 0x02;
const FUNCTION_ERROR = 0x04b1;
const RESPONSE_HEADER = 10;

export class RequestMultiplexer {
  private sequence: number;
  private readIntegrity = 0;
  private writeIntegrity = 0;
  private readonly pending = new Map<number, Pending>();
  private closedWith: S7Error | undefined;
  private readonly plc: string;
  private readonly requestTimeoutMs: number;
  /** Notifications (opcode 33) go here; none are expected without subscriptions. */
  onNotification: ((pdu: Buffer) => void) | undefined;
  /** Called for non-fatal SystemEvents (for logging). */
  onSystemEvent: ((data: Buffer) => void) | undefined;

  constructor(
    private readonly channel: PduChannel,
    options: RequestMuxOptions,
  ) {
    this.plc = options.plc;
    this.requestTimeoutMs = options.requestTimeoutMs;
    this.sequence = (options.firstSequence ?? 1) - 1;
    channel.on("pdu", (version, pdu) => this.onPdu(version, pdu));
    channel.on("close", (err) => this.onClose(err));
  }

  get isClosed(): boolean {
    return this.closedWith !== undefined;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** The next sequence number: 1 … 65535, then 1 again. */
  nextSequence(): number {
    this.sequence = this.sequence >= 0xffff ? 1 : this.sequence + 1;
    return this.sequence;
  }

  /** The next IntegrityId of the given counter (first value 1, modulo 2^32). */
  nextIntegrityId(counter: "read" | "write"): number {
    if (counter === "read") {
      this.readIntegrity = (this.readIntegrity + 1) >>> 0;
      return this.readIntegrity;
    }
    this.writeIntegrity = (this.writeIntegrity + 1) >>> 0;
    return this.writeIntegrity;
  }

  /**
   * Sends one request and resolves with its response. `build` receives the
   * sequence number and returns the request PDU.
   */
  request(version: number, functionCode: number, build: (sequence: number) => Buffer, timeoutMs = this.requestTimeoutMs): Promise<ResponsePdu> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const sequence = this.nextSequence();
    const pdu = build(sequence);
    return new Promise<ResponsePdu>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(sequence)) return;
        const err = new TimeoutError(`no answer within ${timeoutMs} ms (request ${sequence}, function 0x${functionCode.toString(16)})`, {
          plc: this.plc,
        });
        reject(err);
        this.channel.destroy(new TimeoutError(`controller did not answer within ${timeoutMs} ms; connection ended`, { plc: this.plc }));
      }, timeoutMs);
      this.pending.set(sequence, { functionCode, resolve, reject, timer });
      try {
        this.channel.sendPdu(version, pdu);
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(sequence);
        reject(err instanceof S7Error ? err : new ConnectionError("ERR_S7_CONNECTION_CLOSED", `sending failed: ${String(err)}`, { plc: this.plc }));
      }
    });
  }

  /** Fails every pending request (the connection is going away). */
  failAll(err: S7Error): void {
    for (const [sequence, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(sequence);
      p.reject(err);
    }
  }

  private onPdu(version: number, pdu: Buffer): void {
    if (pdu.length === 0) return this.protocolError("empty PDU");
    const opcode = pdu[0]!;
    if (opcode === OPCODE_NOTIFICATION) {
      this.onNotification?.(pdu);
      return;
    }
    if (opcode !== OPCODE_RESPONSE && opcode !== OPCODE_RESPONSE_OLD) {
      return this.protocolError(`unexpected opcode 0x${opcode.toString(16).padStart(2, "0")} from the controller`);
    }
    if (pdu.length < RESPONSE_HEADER) return this.protocolError(`response of ${pdu.length} bytes is shorter than its header`);
    const functionCode = pdu.readUInt16BE(3);
    const sequence = pdu.readUInt16BE(7);
    const pending = this.pending.get(sequence);
    if (pending === undefined) {
      return this.protocolError(`response with sequence number ${sequence} matches no pending request`);
    }
    if (functionCode !== pending.functionCode && functionCode !== FUNCTION_ERROR) {
      return this.protocolError(
        `response ${sequence} carries function 0x${functionCode.toString(16)}, the request had 0x${pending.functionCode.toString(16)}`,
      );
    }
    clearTimeout(pending.timer);
    this.pending.delete(sequence);
    pending.resolve({ version, functionCode, sequence, pdu });
  }

  private protocolError(message: string): void {
    const err = new ProtocolError(message, { plc: this.plc });
    this.failAll(err);
    this.channel.destroy(err);
  }

  private onClose(err?: S7Error): void {
    this.closedWith = err ?? new ConnectionError("ERR_S7_CONNECTION_CLOSED", "connection closed", { plc: this.plc });
    this.failAll(
      err ?? new ConnectionError("ERR_S7_CONNECTION_CLOSED", "connection closed during response", { plc: this.plc }),
    );
  }
}
