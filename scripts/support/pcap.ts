/**
 * A small reader for the reference captures: classic pcap and pcapng,
 * Ethernet (optionally VLAN-tagged), Linux cooked or raw IPv4, TCP.
 * Each TCP direction is reassembled by sequence number, cut into TPKT
 * packets, COTP DT payloads are joined until EOT and the result is fed
 * to the S7CommPlus FrameParser.
 */
import * as fs from "node:fs";
import { FrameParser, type FramedMessage } from "../../src/protocol/frame.js";

export interface TcpSegment {
  /** "srcIp:srcPort>dstIp:dstPort" */
  flow: string;
  seq: number;
  syn: boolean;
  payload: Buffer;
  /** Packet number in the file, 1-based. */
  packet: number;
}

interface RawPacket {
  linkType: number;
  data: Buffer;
}

function readClassicPcap(file: Buffer): RawPacket[] {
  const magic = file.readUInt32LE(0);
  let le: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
  else throw new Error("not a classic pcap file");
  const u32 = (o: number): number => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const linkType = u32(20) & 0x0fffffff;
  const out: RawPacket[] = [];
  let off = 24;
  while (off + 16 <= file.length) {
    const caplen = u32(off + 8);
    const start = off + 16;
    if (start + caplen > file.length) throw new Error(`truncated pcap record at ${off}`);
    out.push({ linkType, data: file.subarray(start, start + caplen) });
    off = start + caplen;
  }
  return out;
}

function readPcapng(file: Buffer): RawPacket[] {
  const out: RawPacket[] = [];
  let le = true;
  let linkTypes: number[] = [];
  let off = 0;
  while (off + 12 <= file.length) {
    let type = le ? file.readUInt32LE(off) : file.readUInt32BE(off);
    if (file.readUInt32LE(off) === 0x0a0d0d0a) {
      type = 0x0a0d0d0a;
      const bom = file.readUInt32LE(off + 8);
      le = bom === 0x1a2b3c4d;
      if (!le && file.readUInt32BE(off + 8) !== 0x1a2b3c4d) throw new Error("bad pcapng byte-order magic");
      linkTypes = [];
    }
    const u32 = (o: number): number => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
    const u16 = (o: number): number => (le ? file.readUInt16LE(o) : file.readUInt16BE(o));
    const length = u32(off + 4);
    if (length < 12 || off + length > file.length) throw new Error(`bad pcapng block length at ${off}`);
    const body = off + 8;
    if (type === 1) {
      linkTypes.push(u16(body));
    } else if (type === 6) {
      const iface = u32(body);
      const caplen = u32(body + 12);
      const start = body + 20;
      out.push({ linkType: linkTypes[iface] ?? 1, data: file.subarray(start, start + caplen) });
    } else if (type === 3) {
      const caplen = Math.min(u32(body), length - 16);
      out.push({ linkType: linkTypes[0] ?? 1, data: file.subarray(body + 4, body + 4 + caplen) });
    }
    off += length;
  }
  return out;
}

function ipv4Offset(p: RawPacket): number | undefined {
  const d = p.data;
  if (p.linkType === 1) {
    let off = 12;
    let ethType = d.readUInt16BE(off);
    while (ethType === 0x8100 || ethType === 0x88a8) {
      off += 4;
      ethType = d.readUInt16BE(off);
    }
    return ethType === 0x0800 ? off + 2 : undefined;
  }
  if (p.linkType === 113) return d.readUInt16BE(14) === 0x0800 ? 16 : undefined;
  if (p.linkType === 101 || p.linkType === 228) return 0;
  if (p.linkType === 0) return d.readUInt32LE(0) === 2 ? 4 : undefined;
  return undefined;
}

/** All TCP segments of a capture file, in file order. */
export function readTcpSegments(path: string): TcpSegment[] {
  const file = fs.readFileSync(path);
  const packets = file.readUInt32LE(0) === 0x0a0d0d0a ? readPcapng(file) : readClassicPcap(file);
  const out: TcpSegment[] = [];
  packets.forEach((p, index) => {
    const ip = ipv4Offset(p);
    if (ip === undefined || p.data.length < ip + 20) return;
    const d = p.data;
    if (d[ip]! >> 4 !== 4 || d[ip + 9] !== 6) return;
    const ihl = (d[ip]! & 0x0f) * 4;
    const totalLength = d.readUInt16BE(ip + 2);
    const ipEnd = Math.min(d.length, ip + totalLength);
    const tcp = ip + ihl;
    const dataOffset = (d[tcp + 12]! >> 4) * 4;
    const src = `${d[ip + 12]}.${d[ip + 13]}.${d[ip + 14]}.${d[ip + 15]}:${d.readUInt16BE(tcp)}`;
    const dst = `${d[ip + 16]}.${d[ip + 17]}.${d[ip + 18]}.${d[ip + 19]}:${d.readUInt16BE(tcp + 2)}`;
    out.push({
      flow: `${src}>${dst}`,
      seq: d.readUInt32BE(tcp + 4),
      syn: (d[tcp + 13]! & 0x02) !== 0,
      payload: Buffer.from(d.subarray(tcp + dataOffset, ipEnd)),
      packet: index + 1,
    });
  });
  return out;
}

export interface TcpStream {
  flow: string;
  /** Index of this connection among those with the same 4-tuple. */
  generation: number;
  data: Buffer;
}

/** Reassembles each direction of each connection by sequence number (duplicates and overlaps dropped). */
export function reassembleTcp(segments: TcpSegment[]): TcpStream[] {
  interface Pending {
    flow: string;
    generation: number;
    isn: number | undefined;
    parts: { rel: number; payload: Buffer }[];
  }
  const streams: Pending[] = [];
  const current = new Map<string, Pending>();
  for (const s of segments) {
    let st = current.get(s.flow);
    if (st === undefined || (s.syn && st.parts.length > 0)) {
      st = { flow: s.flow, generation: st === undefined ? 0 : st.generation + 1, isn: undefined, parts: [] };
      current.set(s.flow, st);
      streams.push(st);
    }
    if (s.syn) {
      st.isn = (s.seq + 1) >>> 0;
      continue;
    }
    if (s.payload.length === 0) continue;
    if (st.isn === undefined) st.isn = s.seq;
    st.parts.push({ rel: (s.seq - st.isn) >>> 0, payload: s.payload });
  }
  return streams.map((st) => {
    const parts = [...st.parts].sort((a, b) => a.rel - b.rel);
    const chunks: Buffer[] = [];
    let end = 0;
    for (const p of parts) {
      if (p.rel > end) throw new Error(`gap in TCP stream ${st.flow} at relative seq ${end}`);
      const skip = end - p.rel;
      if (skip < p.payload.length) {
        chunks.push(p.payload.subarray(skip));
        end += p.payload.length - skip;
      }
    }
    return { flow: st.flow, generation: st.generation, data: Buffer.concat(chunks) };
  });
}

/** Splits a TPKT stream and returns the joined COTP DT payloads (one entry per complete TSDU). */
export function cotpDataUnits(stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pending: Buffer[] = [];
  let off = 0;
  while (off + 4 <= stream.length) {
    if (stream[off] !== 3) throw new Error(`not a TPKT packet at ${off}`);
    const len = stream.readUInt16BE(off + 2);
    if (len < 7 || off + len > stream.length) break;
    const tpdu = stream.subarray(off + 4, off + len);
    off += len;
    const li = tpdu[0]!;
    if (tpdu[1] !== 0xf0) continue;
    const eot = (tpdu[2]! & 0x80) !== 0;
    pending.push(tpdu.subarray(li + 1));
    if (eot) {
      const unit = Buffer.concat(pending);
      pending = [];
      if (unit.length > 0) out.push(unit);
    }
  }
  return out;
}

export interface CapturedMessage {
  flow: string;
  generation: number;
  message: FramedMessage;
}

/** Every S7CommPlus message of every direction of every TCP connection to or from port 102. */
export function readS7Messages(path: string): CapturedMessage[] {
  const out: CapturedMessage[] = [];
  for (const stream of reassembleTcp(readTcpSegments(path))) {
    if (!/:102>|:102$/.test(stream.flow)) continue;
    const parser = new FrameParser();
    for (const unit of cotpDataUnits(stream.data)) {
      for (const message of parser.push(unit)) out.push({ flow: stream.flow, generation: stream.generation, message });
    }
  }
  return out;
}
