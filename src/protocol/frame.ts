/**
 * S7CommPlus framing (docs/PROTOCOL.md §5, §26).
 *
 * A PDU (opcode … end of body) travels in one or more frames
 * `72 | version | dataLength u16 | data`; the last one is followed by the
 * trailer `72 | version | 00 00`. SystemEvents (`72 fe len data`) carry no
 * trailer, are never fragmented and may arrive at any moment, even between
 * two fragments of a PDU.
 */
import { DecodeError, ProtocolError } from "../errors.js";

export const FRAME_MAGIC = 0x72;

export const ProtocolVersion = {
  V1: 0x01, // InitSsl, session CreateObject
  V2: 0x02, // everything after the session CreateObject
  V3: 0x03, // pre-TLS HMAC sessions (old captures only)
  SystemEvent: 0xfe,
  KeepAlive: 0xff, // legacy keep-alive of old firmware
} as const;

const FRAME_HEADER = 4;
const MAX_FRAME_DATA = 0xffff;

/** Default cap for one reassembled PDU; larger answers are refused without buffering more. */
export const DEFAULT_MAX_PDU_BYTES = 1024 * 1024;

/**
 * Cuts a PDU into frames of at most `maxData` data bytes each and appends the
 * trailer to the last one. Each returned buffer is meant to be written as one
 * TLS record (one record per fragment, trailer in the last record).
 */
export function encodeFrames(version: number, pdu: Uint8Array, maxData: number = MAX_FRAME_DATA): Buffer[] {
  if (version === ProtocolVersion.SystemEvent) throw new RangeError("use encodeSystemEvent for SystemEvents");
  const size = Math.min(Math.floor(maxData), MAX_FRAME_DATA);
  if (size < 1) throw new RangeError(`fragment size must be at least 1, got ${maxData}`);
  if (pdu.length === 0) throw new RangeError("a PDU cannot be empty");
  const frames: Buffer[] = [];
  for (let start = 0; start < pdu.length; start += size) {
    const chunk = pdu.subarray(start, Math.min(start + size, pdu.length));
    const last = start + size >= pdu.length;
    const frame = Buffer.alloc(FRAME_HEADER + chunk.length + (last ? FRAME_HEADER : 0));
    frame[0] = FRAME_MAGIC;
    frame[1] = version;
    frame.writeUInt16BE(chunk.length, 2);
    frame.set(chunk, FRAME_HEADER);
    if (last) {
      frame[FRAME_HEADER + chunk.length] = FRAME_MAGIC;
      frame[FRAME_HEADER + chunk.length + 1] = version;
    }
    frames.push(frame);
  }
  return frames;
}

/**
 * How many frames one TLS record's plaintext holds (a trailer counts with the
 * frame before it), or -1 when the record does not start and end on frame
 * boundaries or holds a trailer without its frame.
 */
export function framesInRecord(record: Uint8Array): number {
  let off = 0;
  let frames = 0;
  while (off < record.length) {
    if (off + FRAME_HEADER > record.length || record[off] !== FRAME_MAGIC) return -1;
    const dataLength = (record[off + 2]! << 8) | record[off + 3]!;
    off += FRAME_HEADER + dataLength;
    if (dataLength === 0) {
      if (frames === 0) return -1;
    } else frames++;
  }
  return off === record.length ? frames : -1;
}

/** One frame plus trailer: the whole PDU unfragmented (as in the reference vectors). */
export function encodeFrame(version: number, pdu: Uint8Array): Buffer {
  const frames = encodeFrames(version, pdu, MAX_FRAME_DATA);
  if (frames.length !== 1) throw new RangeError(`PDU of ${pdu.length} bytes needs fragmentation`);
  return frames[0]!;
}

/** A SystemEvent frame: no trailer, never fragmented. */
export function encodeSystemEvent(data: Uint8Array): Buffer {
  if (data.length > MAX_FRAME_DATA) throw new RangeError("SystemEvent too large");
  const frame = Buffer.alloc(FRAME_HEADER + data.length);
  frame[0] = FRAME_MAGIC;
  frame[1] = ProtocolVersion.SystemEvent;
  frame.writeUInt16BE(data.length, 2);
  frame.set(data, FRAME_HEADER);
  return frame;
}

export type FramedMessage =
  | { kind: "pdu"; version: number; pdu: Buffer; fragments: number }
  | { kind: "systemEvent"; data: Buffer }
  | { kind: "keepAlive"; data: Buffer };

export interface FrameParserOptions {
  /** Cap for one reassembled PDU in bytes (default 1 MiB). */
  maxPduBytes?: number;
}

/**
 * Incremental parser for a stream of S7CommPlus frames (the decrypted TLS
 * stream, or the COTP payload stream before TLS). Indifferent to how the
 * bytes are chunked. After it throws, the stream is unusable: the caller
 * resets the connection.
 */
export class FrameParser {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private partialVersion = -1;
  private partialFragments = 0;
  private failed: Error | undefined;
  private readonly maxPduBytes: number;

  constructor(options: FrameParserOptions = {}) {
    this.maxPduBytes = options.maxPduBytes ?? DEFAULT_MAX_PDU_BYTES;
  }

  /** True while a fragmented PDU is incomplete (the caller may run a reassembly deadline). */
  get hasPartialPdu(): boolean {
    return this.partialVersion !== -1;
  }

  /** Bytes held in the parser (buffered input plus the partial PDU). */
  get heldBytes(): number {
    return this.bufferedBytes + this.partialBytes;
  }

  /** Feeds bytes; returns every message completed by them, in order. */
  push(chunk: Uint8Array): FramedMessage[] {
    if (this.failed) throw this.failed;
    if (chunk.length > 0) {
      this.buffered.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.bufferedBytes += chunk.length;
    }
    const out: FramedMessage[] = [];
    try {
      for (;;) {
        const message = this.next();
        if (message === undefined) break;
        out.push(message);
      }
    } catch (err) {
      this.failed = err instanceof Error ? err : new ProtocolError(String(err));
      this.buffered = [];
      this.partial = [];
      throw this.failed;
    }
    return out;
  }

  /** The buffered byte at `offset` (the caller knows it is there), without merging the chunks. */
  private byteAt(offset: number): number {
    let skip = offset;
    for (const chunk of this.buffered) {
      if (skip < chunk.length) return chunk[skip]!;
      skip -= chunk.length;
    }
    return -1;
  }

  private u16At(offset: number): number {
    return (this.byteAt(offset) << 8) | this.byteAt(offset + 1);
  }

  private take(n: number): Buffer {
    const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
    const taken = Buffer.from(all.subarray(0, n));
    const rest = all.subarray(n);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.bufferedBytes -= n;
    return taken;
  }

  private next(): FramedMessage | undefined {
    // Loops over the fragments of one PDU; returns at the first complete message.
    for (;;) {
      if (this.bufferedBytes < FRAME_HEADER) return undefined;
      const magic = this.byteAt(0);
      if (magic !== FRAME_MAGIC) {
        throw new ProtocolError(`S7CommPlus frame does not start with 0x72 (got 0x${magic.toString(16).padStart(2, "0")})`);
      }
      const version = this.byteAt(1);
      const length = this.u16At(2);

      if (version === ProtocolVersion.SystemEvent || version === ProtocolVersion.KeepAlive) {
        if (this.bufferedBytes < FRAME_HEADER + length) return undefined;
        const data = this.take(FRAME_HEADER + length).subarray(FRAME_HEADER);
        return version === ProtocolVersion.SystemEvent ? { kind: "systemEvent", data } : { kind: "keepAlive", data };
      }
      if (version !== ProtocolVersion.V1 && version !== ProtocolVersion.V2 && version !== ProtocolVersion.V3) {
        throw new ProtocolError(`unknown S7CommPlus protocol version 0x${version.toString(16).padStart(2, "0")}`);
      }
      if (length === 0) throw new ProtocolError("S7CommPlus trailer without a preceding frame");
      if (this.partialVersion !== -1 && this.partialVersion !== version) {
        throw new ProtocolError(`fragment of protocol version ${version} inside a version ${this.partialVersion} PDU`);
      }
      if (this.partialBytes + length > this.maxPduBytes) {
        throw new ProtocolError(`S7CommPlus PDU larger than the ${this.maxPduBytes}-byte limit`);
      }
      // The frame's data plus the next header decide whether the PDU ends here.
      if (this.bufferedBytes < FRAME_HEADER + length + FRAME_HEADER) return undefined;
      const at = FRAME_HEADER + length;
      const ends = this.byteAt(at) === FRAME_MAGIC && this.byteAt(at + 1) === version && this.u16At(at + 2) === 0;
      const data = this.take(FRAME_HEADER + length).subarray(FRAME_HEADER);
      this.partial.push(data);
      this.partialBytes += data.length;
      this.partialVersion = version;
      this.partialFragments++;
      if (ends) {
        this.take(FRAME_HEADER);
        const pdu = this.partial.length === 1 ? this.partial[0]! : Buffer.concat(this.partial);
        const fragments = this.partialFragments;
        this.partial = [];
        this.partialBytes = 0;
        this.partialVersion = -1;
        this.partialFragments = 0;
        return { kind: "pdu", version, pdu, fragments };
      }
    }
  }
}

/**
 * Decodes exactly one complete, unfragmented frame with its trailer (a
 * reference vector, a captured DT payload). Throws DecodeError otherwise.
 */
export function decodeSingleFrame(frame: Uint8Array): { version: number; pdu: Buffer } {
  const parser = new FrameParser();
  let messages: FramedMessage[];
  try {
    messages = parser.push(frame);
  } catch (err) {
    throw new DecodeError(err instanceof Error ? err.message : String(err));
  }
  const only = messages[0];
  if (messages.length !== 1 || only === undefined || only.kind !== "pdu" || parser.heldBytes !== 0) {
    throw new DecodeError("expected exactly one S7CommPlus PDU with its trailer");
  }
  return { version: only.version, pdu: only.pdu };
}
