/**
 * One TCP socket carrying TPKT/COTP: sends TPDUs, hands received TPDUs to
 * the current consumer (the connection set-up first, then the Duplex under
 * TLS), and turns every fault into one typed error. Nothing thrown by a
 * parser escapes the socket's event handlers. Emits "warning" (a message)
 * once when the peer sends packets above the negotiated size.
 */
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { ConnectionError, ProtocolError, S7Error } from "../errors.js";
import { PduType, decodeDt, tpduType } from "./cotp.js";
import { TpktParser, encodeTpkt } from "./tpkt.js";

export interface CotpLinkOptions {
  plc: string;
  /**
   * Largest TPKT packet the TPDU size allows (header included). Longer ones
   * from the peer are accepted up to the 8 KiB hard limit with one "warning"
   * event per link; nothing longer is ever sent.
   */
  maxPacket: number;
}

export class CotpLink extends EventEmitter {
  private readonly parser: TpktParser;
  private queue: Buffer[] = [];
  private consumer: ((tpdu: Buffer) => void) | undefined;
  private failure: S7Error | undefined;
  private ended = false;
  private maxPacket: number;
  readonly plc: string;
  bytesIn = 0;
  bytesOut = 0;

  constructor(
    readonly socket: Socket,
    options: CotpLinkOptions,
  ) {
    super();
    this.plc = options.plc;
    this.maxPacket = options.maxPacket;
    this.parser = new TpktParser(options.maxPacket, (length, expected) =>
      this.emit("warning", `${this.plc}: received a TPKT packet of ${length} bytes, above the negotiated ${expected}; accepted (warned once per connection)`),
    );
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (err: Error & { code?: string }) => {
      this.fail(new ConnectionError("ERR_S7_CONNECTION_CLOSED", `connection lost: ${err.code ?? err.message}`, { plc: this.plc, cause: err, transient: true }));
    });
    socket.on("close", () => this.finish());
  }

  /** The error that ended the link, if any. */
  get error(): S7Error | undefined {
    return this.failure;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Routes TPDUs (queued ones first) to `consumer`. */
  setConsumer(consumer: ((tpdu: Buffer) => void) | undefined): void {
    this.consumer = consumer;
    while (this.consumer && this.queue.length > 0 && !this.ended) this.consumer(this.queue.shift()!);
  }

  /** Sets the packet size negotiated in the CR/CC exchange (both directions). */
  setMaxPacket(bytes: number): void {
    this.maxPacket = bytes;
    this.parser.setExpectedPacket(bytes);
  }

  send(tpdu: Buffer): void {
    if (this.ended || this.socket.destroyed) return;
    const packet = encodeTpkt(tpdu);
    if (packet.length > this.maxPacket) throw new RangeError(`TPKT packet of ${packet.length} bytes exceeds the negotiated ${this.maxPacket}`);
    this.bytesOut += packet.length;
    this.socket.write(packet);
  }

  /** Ends the link with an error (the first one wins); the socket is destroyed. */
  fail(err: S7Error): void {
    this.failure ??= err;
    this.socket.destroy();
    this.finish();
  }

  private onData(chunk: Buffer): void {
    if (this.ended) return;
    this.bytesIn += chunk.length;
    let tpdus: Buffer[];
    try {
      tpdus = this.parser.push(chunk);
    } catch (err) {
      this.fail(err instanceof S7Error ? err : new ConnectionError("ERR_S7_CONNECTION_CLOSED", String(err), { plc: this.plc }));
      return;
    }
    for (const tpdu of tpdus) {
      if (this.ended) return;
      if (this.consumer) {
        try {
          this.consumer(tpdu);
        } catch (err) {
          this.fail(err instanceof S7Error ? err : new ConnectionError("ERR_S7_CONNECTION_CLOSED", String(err), { plc: this.plc }));
          return;
        }
      } else this.queue.push(tpdu);
    }
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue = [];
    this.emit("end", this.failure);
  }
}

/** The next TPDU received on the link (connection set-up). */
export function nextTpdu(link: CotpLink): Promise<Buffer> {
  return new Promise((resolve) =>
    link.setConsumer((tpdu) => {
      link.setConsumer(undefined);
      resolve(tpdu);
    }),
  );
}

/** The next non-empty DT payloads up to EOT (the plaintext InitSsl exchange); empty DTs are skipped. */
export function nextDtUnit(link: CotpLink, what: string): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    link.setConsumer((tpdu) => {
      if (tpduType(tpdu) !== PduType.DT) throw new ProtocolError(`unexpected COTP TPDU 0x${tpdu[1]!.toString(16)} instead of ${what}`, { plc: link.plc });
      const { eot, payload } = decodeDt(tpdu);
      if (payload.length > 0) parts.push(Buffer.from(payload));
      if (parts.length > 16) throw new ProtocolError(`${what} spread over too many DTs`, { plc: link.plc });
      if (eot && parts.length > 0) {
        link.setConsumer(undefined);
        resolve(Buffer.concat(parts));
      }
    });
  });
}
