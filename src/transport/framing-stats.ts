/**
 * Counters of how TLS records arrive in COTP DTs (docs/PROTOCOL.md §4, §5.2),
 * kept from the ciphertext stream without decrypting it: how many DTs, how
 * many of them without EOT, how many records, and how many records were cut
 * over several DTs or shared a DT with another record. A peer that sends one
 * record per DT with EOT = 1 leaves the last four at zero.
 */

export interface FramingStats {
  /** DTs received (empty ones included). */
  dts: number;
  /** DTs received with EOT = 0. */
  dtsWithoutEot: number;
  /** TLS records received. */
  records: number;
  /** Records whose bytes came in more than one DT. */
  recordsOverSeveralDts: number;
  /** DTs that carried bytes of more than one record. */
  dtsWithSeveralRecords: number;
  /** Largest TPKT packet received (header included). */
  largestPacket: number;
}

export function emptyFramingStats(): FramingStats {
  return { dts: 0, dtsWithoutEot: 0, records: 0, recordsOverSeveralDts: 0, dtsWithSeveralRecords: 0, largestPacket: 0 };
}

const RECORD_HEADER = 5;

/** Follows record boundaries through a sequence of DT payloads and adds to `stats`. */
export class RecordBoundaryCounter {
  private header = Buffer.alloc(RECORD_HEADER);
  private headerFill = 0;
  private bodyLeft = 0;
  private inRecord = false;
  private dtIndex = 0;
  private recordStartDt = 0;

  constructor(readonly stats: FramingStats) {}

  /** One DT as received: its TPKT packet length, EOT bit and payload. */
  onDt(packetLength: number, eot: boolean, payload: Buffer): void {
    const s = this.stats;
    s.dts++;
    if (!eot) s.dtsWithoutEot++;
    if (packetLength > s.largestPacket) s.largestPacket = packetLength;
    this.dtIndex++;
    let touched = this.inRecord && payload.length > 0 ? 1 : 0;
    let off = 0;
    while (off < payload.length) {
      if (!this.inRecord) {
        this.inRecord = true;
        this.headerFill = 0;
        this.recordStartDt = this.dtIndex;
        s.records++;
        touched++;
      }
      if (this.headerFill < RECORD_HEADER) {
        const n = Math.min(RECORD_HEADER - this.headerFill, payload.length - off);
        payload.copy(this.header, this.headerFill, off, off + n);
        this.headerFill += n;
        off += n;
        if (this.headerFill < RECORD_HEADER) break;
        this.bodyLeft = this.header.readUInt16BE(3);
      }
      const n = Math.min(this.bodyLeft, payload.length - off);
      this.bodyLeft -= n;
      off += n;
      if (this.bodyLeft === 0) {
        if (this.recordStartDt !== this.dtIndex) s.recordsOverSeveralDts++;
        this.inRecord = false;
      }
    }
    if (touched > 1) s.dtsWithSeveralRecords++;
  }
}
