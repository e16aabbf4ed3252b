/**
 * TPKT (RFC 1006, docs/PROTOCOL.md §3): `03 00 len16` + payload, where the
 * length counts the whole packet. The parser takes a TCP byte stream in any
 * chunking and returns whole packets; a wrong version, a length below the
 * smallest TPDU or above the hard limit (8 KiB) is a ProtocolError (the
 * connection is reset), and nothing is allocated for a length that was
 * refused. A packet longer than the negotiated TPDU size but within the hard
 * limit is accepted and reported once to `onOversize`: the C# reference
 * accepts such packets up to 2 KiB, and some servers ignore the negotiated
 * size.
 */
import { ProtocolError } from "../errors.js";

export const TPKT_VERSION = 3;
export const TPKT_HEADER = 4;
/** The shortest packet carrying a TPDU: header + the 3 bytes of an (empty) DT. */
export const TPKT_MIN_LENGTH = 7;
/** Packets longer than this are refused whatever was negotiated. */
export const TPKT_HARD_LIMIT = 8192;

export function encodeTpkt(payload: Uint8Array): Buffer {
  const length = TPKT_HEADER + payload.length;
  if (length > 0xffff) throw new RangeError(`TPKT payload of ${payload.length} bytes does not fit one packet`);
  const out = Buffer.allocUnsafe(length);
  out[0] = TPKT_VERSION;
  out[1] = 0;
  out.writeUInt16BE(length, 2);
  out.set(payload, TPKT_HEADER);
  return out;
}

export class TpktParser {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private oversizeReported = false;

  /**
   * @param expectedPacket largest packet the negotiated TPDU size allows (header included);
   *   longer ones up to {@link TPKT_HARD_LIMIT} are accepted and reported once.
   * @param onOversize told about the first packet above `expectedPacket`.
   */
  constructor(
    private expectedPacket: number = TPKT_HARD_LIMIT,
    private readonly onOversize?: (length: number, expected: number) => void,
  ) {}

  /** The negotiated size is known only after the connection confirm. */
  setExpectedPacket(bytes: number): void {
    this.expectedPacket = bytes;
  }

  /** Adds bytes; returns the payloads of the packets now complete. */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: Buffer[] = [];
    for (;;) {
      if (this.buffered < TPKT_HEADER) break;
      // The header is nearly always inside the first chunk: read it there, without a copy.
      const first = this.chunks[0]!;
      const head = first.length >= TPKT_HEADER ? first : this.peek(TPKT_HEADER);
      if (head[0] !== TPKT_VERSION) throw new ProtocolError(`TPKT version ${head[0]} (expected 3)`);
      const length = (head[2]! << 8) | head[3]!;
      if (length < TPKT_MIN_LENGTH) throw new ProtocolError(`TPKT length ${length} is below ${TPKT_MIN_LENGTH}`);
      if (length > TPKT_HARD_LIMIT) throw new ProtocolError(`TPKT length ${length} exceeds the ${TPKT_HARD_LIMIT}-byte limit`);
      if (length > this.expectedPacket && !this.oversizeReported) {
        this.oversizeReported = true;
        this.onOversize?.(length, this.expectedPacket);
      }
      if (this.buffered < length) break;
      const packet = this.take(length);
      out.push(packet.subarray(TPKT_HEADER));
    }
    return out;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!.subarray(0, n);
    return Buffer.concat(this.chunks).subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const packet = all.subarray(0, n);
    if (all.length === n) {
      this.chunks.length = 0;
      this.buffered = 0;
      return packet;
    }
    const rest = all.subarray(n);
    this.chunks = [rest];
    this.buffered = rest.length;
    return packet;
  }
}
