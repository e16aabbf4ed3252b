/**
 * The one gate every request of a session goes through: exactly one request
 * is on the wire at a time. Controllers do not take pipelined requests, and
 * the fragments of a large answer carry no sequence number to tell two
 * answers apart, so a request waits here (FIFO) until the previous one has
 * been answered or has failed.
 *
 * - One sequence counter per connection; after 65535 comes 1 (0 is skipped,
 *   docs/PROTOCOL.md §7.1). The number is taken when the request is sent.
 * - Two IntegrityId counters ("read" and "write" functions, §7.3), first value 1.
 * - An answer is delivered only to the request on the wire, matched by
 *   sequence number and function code; anything else is a protocol error
 *   that ends the connection (a value must never reach the wrong request).
 * - The request on the wire has a deadline. When it passes the request fails
 *   with ERR_S7_TIMEOUT and the connection is ended: a controller that does
 *   not answer in time is treated as unreachable (black-holed path,
 *   slow-loris), and a late answer can never be matched to a newer request.
 * - When the connection ends, the request on the wire and every waiting one
 *   fail with a typed error.
 */
import { ProtocolError, S7Error, TimeoutError, ConnectionError } from "../errors.js";
import { Opcode } from "../protocol/constants.js";
import { readResponse, type ResponseHeader, type ResponseMessage } from "../protocol/pdu.js";

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
  /** The whole response PDU (opcode … end). */
  pdu: Buffer;
  /** Decodes the body; the header was read once, by the multiplexer. */
  body(): ResponseMessage;
}

interface Waiting {
  version: number;
  functionCode: number;
  build: (sequence: number) => Buffer;
  timeoutMs: number;
  /** A request sent with "no answer wanted" (flags 74): the gate is free again once it is sent. */
  noAnswer?: boolean;
  resolve(response: ResponsePdu | undefined): void;
  reject(err: S7Error): void;
}

interface OnWire {
  sequence: number;
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

const FUNCTION_ERROR = 0x04b1;
/** Sequence numbers of recent no-answer requests kept, to drop an answer some firmware sends anyway (§24.2). */
const UNANSWERED_KEPT = 16;

export interface MuxStats {
  /** Requests sent since the session began. */
  requests: number;
  /** Requests that had to wait at the gate because another one was on the wire. */
  waited: number;
}

export class RequestMultiplexer {
  private sequence: number;
  private readIntegrity = 0;
  private writeIntegrity = 0;
  private onWire: OnWire | undefined;
  private readonly waiting: Waiting[] = [];
  private readonly unanswered: number[] = [];
  private closedWith: S7Error | undefined;
  private readonly plc: string;
  private readonly requestTimeoutMs: number;
  readonly stats: MuxStats = { requests: 0, waited: 0 };
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

  /** Requests not yet answered: the one on the wire and those waiting at the gate. */
  get pendingCount(): number {
    return (this.onWire ? 1 : 0) + this.waiting.length;
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
   * Sends one request once the wire is free and resolves with its answer.
   * `build` receives the sequence number at sending time and returns the
   * request PDU; the deadline starts when the request is sent.
   */
  request(version: number, functionCode: number, build: (sequence: number) => Buffer, timeoutMs = this.requestTimeoutMs): Promise<ResponsePdu> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise<ResponsePdu>((resolve, reject) => {
      if (this.onWire !== undefined) this.stats.waited++;
      this.waiting.push({ version, functionCode, build, timeoutMs, resolve: resolve as (r: ResponsePdu | undefined) => void, reject });
      this.sendNext();
    });
  }

  /**
   * Sends one request that wants no answer (transport flags 74, e.g. the
   * credit top-up of a subscription) in its turn at the gate; resolves when
   * it has been handed to the channel. An answer that comes anyway is dropped.
   */
  send(version: number, functionCode: number, build: (sequence: number) => Buffer): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise<void>((resolve, reject) => {
      if (this.onWire !== undefined) this.stats.waited++;
      this.waiting.push({ version, functionCode, build, timeoutMs: 0, noAnswer: true, resolve: () => resolve(), reject });
      this.sendNext();
    });
  }

  /** Fails the request on the wire and every waiting one (the connection is going away). */
  failAll(err: S7Error): void {
    const onWire = this.onWire;
    this.onWire = undefined;
    if (onWire) {
      clearTimeout(onWire.timer);
      onWire.reject(err);
    }
    for (const w of this.waiting.splice(0)) w.reject(err);
  }

  private sendNext(): void {
    while (this.onWire === undefined && this.closedWith === undefined) {
      const next = this.waiting.shift();
      if (next === undefined) return;
      const sequence = this.nextSequence();
      const { functionCode, timeoutMs } = next;
      if (next.noAnswer === true) {
        try {
          const pdu = next.build(sequence);
          this.unanswered.push(sequence);
          if (this.unanswered.length > UNANSWERED_KEPT) this.unanswered.shift();
          this.stats.requests++;
          this.channel.sendPdu(next.version, pdu);
          next.resolve(undefined);
        } catch (err) {
          next.reject(err instanceof S7Error ? err : new ConnectionError("ERR_S7_CONNECTION_CLOSED", `sending failed: ${String(err)}`, { plc: this.plc }));
        }
        continue;
      }
      try {
        const pdu = next.build(sequence);
        const timer = setTimeout(() => {
          if (this.onWire?.sequence !== sequence) return;
          this.onWire = undefined;
          next.reject(new TimeoutError(`no answer within ${timeoutMs} ms (request ${sequence}, function 0x${functionCode.toString(16)})`, { plc: this.plc }));
          this.channel.destroy(new TimeoutError(`controller did not answer within ${timeoutMs} ms; connection ended`, { plc: this.plc }));
        }, timeoutMs);
        this.onWire = { sequence, functionCode, resolve: next.resolve, reject: next.reject, timer };
        this.stats.requests++;
        this.channel.sendPdu(next.version, pdu);
      } catch (err) {
        if (this.onWire?.sequence === sequence) {
          clearTimeout(this.onWire.timer);
          this.onWire = undefined;
        }
        next.reject(err instanceof S7Error ? err : new ConnectionError("ERR_S7_CONNECTION_CLOSED", `sending failed: ${String(err)}`, { plc: this.plc }));
      }
    }
  }

  private onPdu(version: number, pdu: Buffer): void {
    if (pdu.length === 0) return this.protocolError("empty PDU");
    const opcode = pdu[0]!;
    if (opcode === Opcode.Notification) {
      this.onNotification?.(pdu);
      return;
    }
    let response: ReturnType<typeof readResponse>;
    try {
      response = readResponse(pdu);
    } catch (err) {
      return this.protocolError(opcode === Opcode.Response || opcode === Opcode.Response2 ? `undecodable response header: ${err instanceof Error ? err.message : String(err)}` : `unexpected opcode 0x${opcode.toString(16).padStart(2, "0")} from the controller`);
    }
    const header: ResponseHeader = response.header;
    const { functionCode, sequenceNumber: sequence } = header;
    const onWire = this.onWire;
    if (onWire?.sequence !== sequence && this.unanswered.includes(sequence)) return;
    if (onWire === undefined || onWire.sequence !== sequence) {
      return this.protocolError(`response with sequence number ${sequence} matches no pending request`);
    }
    if (functionCode !== onWire.functionCode && functionCode !== FUNCTION_ERROR) {
      return this.protocolError(`response ${sequence} carries function 0x${functionCode.toString(16)}, the request had 0x${onWire.functionCode.toString(16)}`);
    }
    clearTimeout(onWire.timer);
    this.onWire = undefined;
    onWire.resolve({ version, functionCode, sequence, pdu, body: response.body });
    this.sendNext();
  }

  private protocolError(message: string): void {
    const err = new ProtocolError(message, { plc: this.plc });
    this.failAll(err);
    this.channel.destroy(err);
  }

  private onClose(err?: S7Error): void {
    this.closedWith = err ?? new ConnectionError("ERR_S7_CONNECTION_CLOSED", "connection closed", { plc: this.plc });
    // An error (and its stack trace) only when a request is there to fail.
    if (this.onWire !== undefined || this.waiting.length > 0) {
      this.failAll(err ?? new ConnectionError("ERR_S7_CONNECTION_CLOSED", "connection closed during response", { plc: this.plc }));
    }
  }
}
