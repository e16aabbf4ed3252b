/**
 * The byte stream Node's `tls` runs over (docs/PROTOCOL.md §12.1): what TLS
 * writes goes out as COTP DT TPDUs, one TLS record per DT where the record
 * fits the negotiated TPDU size (split over several DTs with EOT = 0 where it
 * does not); DT payloads received are handed to TLS as a stream. Empty DTs
 * are ignored; a Disconnect Request or any other TPDU ends the stream.
 */
import { Duplex } from "node:stream";
import { ConnectionError, ProtocolError } from "../errors.js";
import { DT_HEADER, PduType, decodeDt, encodeDt, tpduType } from "./cotp.js";
import { TPKT_HEADER } from "./tpkt.js";
import type { CotpLink } from "./cotp-link.js";
import { RecordBoundaryCounter, emptyFramingStats, type FramingStats } from "./framing-stats.js";

const TLS_RECORD_HEADER = 5;
const EMPTY = Buffer.alloc(0);
/** Bytes accepted in DTs without EOT before the stream is treated as hostile. */
export const DEFAULT_MAX_SEGMENTED_BYTES = 64 * 1024;

export class CotpDuplex extends Duplex {
  /** Largest DT payload: TPDU size minus TPKT and DT headers. */
  readonly maxPayload: number;
  private pending: Buffer = EMPTY;
  private segmented = 0;
  private readonly counter: RecordBoundaryCounter;

  /** @param framingStats counters of received DTs and records to add to (diagnostics). */
  constructor(
    private readonly link: CotpLink,
    tpduSize: number,
    private readonly maxSegmentedBytes = DEFAULT_MAX_SEGMENTED_BYTES,
    framingStats: FramingStats = emptyFramingStats(),
  ) {
    super({ allowHalfOpen: false });
    this.maxPayload = tpduSize - TPKT_HEADER - DT_HEADER;
    this.counter = new RecordBoundaryCounter(framingStats);
    link.setConsumer((tpdu) => this.onTpdu(tpdu));
    link.once("end", (err?: Error) => {
      if (err) this.destroy(err);
      else this.push(null);
    });
  }

  /** What this Duplex has received: DTs, DTs without EOT, TLS records and how they were cut. */
  get framing(): FramingStats {
    return this.counter.stats;
  }

  override _read(): void {
    // Data is pushed as it arrives; TLS records are small and the peer waits for answers.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    // Cut the TLS output at record boundaries so that each record travels in its own DT.
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    // The DTs of one TLS write (a handshake flight is several records) leave in one send
    // call: each still its own TPKT packet, without a system call and a TCP segment apiece.
    const socket = this.link.socket;
    socket.cork();
    try {
      while (data.length >= TLS_RECORD_HEADER) {
        const recordLength = TLS_RECORD_HEADER + data.readUInt16BE(3);
        if (data.length < recordLength) break;
        this.sendRecord(data.subarray(0, recordLength));
        data = data.subarray(recordLength);
      }
    } finally {
      socket.uncork();
    }
    this.pending = data.length > 0 ? Buffer.from(data) : EMPTY;
    callback();
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (this.pending.length > 0) this.sendRecord(this.pending);
    this.pending = EMPTY;
    this.link.socket.end();
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.link.socket.destroy();
    callback(err);
  }

  private sendRecord(record: Buffer): void {
    for (let off = 0; off < record.length; off += this.maxPayload) {
      const end = Math.min(record.length, off + this.maxPayload);
      this.link.send(encodeDt(record.subarray(off, end), end === record.length));
    }
  }

  private onTpdu(tpdu: Buffer): void {
    const type = tpduType(tpdu);
    if (type === PduType.DT) {
      const { eot, payload } = decodeDt(tpdu);
      this.counter.onDt(TPKT_HEADER + tpdu.length, eot, payload);
      if (eot) this.segmented = 0;
      else {
        this.segmented += payload.length;
        if (this.segmented > this.maxSegmentedBytes) {
          throw new ProtocolError(`COTP DT sequence without EOT exceeds ${this.maxSegmentedBytes} bytes`, { plc: this.link.plc });
        }
      }
      if (payload.length > 0) this.push(Buffer.from(payload));
      return;
    }
    if (type === PduType.DR) {
      throw new ConnectionError("ERR_S7_CONNECTION_CLOSED", "the controller sent a COTP disconnect request", { plc: this.link.plc, transient: true });
    }
    throw new ProtocolError(`unexpected COTP TPDU 0x${tpdu[1]!.toString(16)} during the session`, { plc: this.link.plc });
  }
}
