/**
 * An established S7CommPlus-over-TLS connection (either side): PDUs in,
 * PDUs out, with the framing of docs/PROTOCOL.md §5 — one S7CommPlus fragment
 * per TLS record, the trailer in the record of the last fragment, fragment
 * sizes chosen so that each record fits one COTP TPDU. Incoming frames are
 * reassembled from the decrypted stream with a size cap. Every fault ends the
 * channel with one typed error; `close` is emitted exactly once.
 *
 * Fragments are written one at a time: fragment n + 1 is handed to TLS only
 * when the write of fragment n has completed, i.e. when its record has left
 * through the COTP Duplex as its own DT. Node's TLS socket otherwise gathers
 * the writes queued behind a pending one into a single SSL_write, which makes
 * one large record of several fragments spread over DTs with EOT = 0.
 *
 * Events: "pdu" (version, pdu), "systemEvent" (data), "record" (the
 * plaintext of one received TLS record, for diagnostics), "warning"
 * (message), "close" (error or undefined).
 */
import { EventEmitter } from "node:events";
import type { TLSSocket } from "node:tls";
import { ConnectionError, ProtocolError, S7Error, TlsError } from "../errors.js";
import { FrameParser, encodeFrames } from "../protocol/frame.js";
import type { PeerCertificates, TrustVerdict } from "./verifier.js";
import type { CotpLink } from "./cotp-link.js";
import type { FramingStats } from "./framing-stats.js";

const FRAME_OVERHEAD = 8; // 4-byte frame header + 4-byte trailer
const TLS_RECORD_HEADER = 5;
/** TLS 1.3 AEAD: 16-byte tag + 1 inner content-type byte. */
const TLS13_OVERHEAD = 17;
/** TLS 1.2 AES-GCM: 8-byte explicit nonce + 16-byte tag. */
const TLS12_OVERHEAD = 24;

export interface SecureChannelInit {
  plc: string;
  role: "client" | "server";
  tls: TLSSocket;
  link: CotpLink;
  /** Largest DT payload (TPDU size − 7). */
  maxDtPayload: number;
  /** The counters the COTP Duplex keeps of what it received. */
  framing: FramingStats;
  maxPduBytes?: number;
  remote: { host: string; port: number };
}

export class SecureChannel extends EventEmitter {
  readonly plc: string;
  readonly role: "client" | "server";
  readonly remote: { host: string; port: number };
  readonly tlsVersion: string;
  readonly cipher: string;
  /** S7CommPlus data bytes per fragment, from the negotiated record overhead. */
  readonly maxFragmentData: number;
  /** DTs and TLS records received so far (diagnostics: a peer should send one record per DT with EOT = 1). */
  readonly framing: FramingStats;
  /** Set by the client after the certificate check. */
  verdict!: TrustVerdict;
  private readonly tls: TLSSocket;
  private readonly link: CotpLink;
  private readonly parser: FrameParser;
  private closed = false;
  private closeError: S7Error | undefined;
  /** Fragments (or raw bytes) waiting for the write before them to complete. */
  private readonly outbox: Buffer[] = [];
  private writing = false;
  private endWhenFlushed = false;
  private peer: PeerCertificates | undefined;

  constructor(init: SecureChannelInit) {
    super();
    this.plc = init.plc;
    this.role = init.role;
    this.remote = init.remote;
    this.tls = init.tls;
    this.link = init.link;
    this.framing = init.framing;
    this.tlsVersion = init.tls.getProtocol() ?? "unknown";
    this.cipher = init.tls.getCipher()?.standardName ?? init.tls.getCipher()?.name ?? "unknown";
    const overhead = this.tlsVersion === "TLSv1.3" ? TLS13_OVERHEAD : TLS12_OVERHEAD;
    this.maxFragmentData = init.maxDtPayload - TLS_RECORD_HEADER - overhead - FRAME_OVERHEAD;
    this.parser = new FrameParser(init.maxPduBytes === undefined ? {} : { maxPduBytes: init.maxPduBytes });
    this.link.on("warning", (message: string) => this.emit("warning", message));
    // Events are attached by start(): the caller first decides whether to keep the channel.
  }

  /**
   * The certificates the peer presented (client side), read once. The leaf
   * alone is cheap; walking the chain makes Node describe every certificate
   * (about 0.2 ms), so the issuers are read only when someone asks for them,
   * which a trusted self-signed certificate never makes the verifier do.
   */
  get peerCertificates(): PeerCertificates {
    if (this.peer !== undefined) return this.peer;
    const tls = this.tls;
    const leaf = tls.getPeerCertificate(false)?.raw ?? Buffer.alloc(0);
    let intermediates: Buffer[] | undefined;
    this.peer = {
      leaf,
      get intermediates(): Buffer[] {
        return (intermediates ??= issuersSent(tls));
      },
    };
    return this.peer;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get bytesIn(): number {
    return this.link.bytesIn;
  }

  get bytesOut(): number {
    return this.link.bytesOut;
  }

  /** Starts delivering PDUs (call once listeners are attached). */
  start(): void {
    this.tls.on("data", (chunk: Buffer) => this.onData(chunk));
    this.tls.on("error", (err: Error & { code?: string }) => this.end(this.classify(err)));
    this.tls.on("close", () => this.end(this.link.error));
    // The peer's FIN / close_notify: nothing more will come; pending requests fail now.
    this.tls.on("end", () => this.end(this.link.error));
    this.link.on("end", (err?: S7Error) => {
      if (err) this.end(err);
    });
    if (this.tls.destroyed) this.end(this.link.error);
  }

  /** TLS exporter (§12.4), e.g. (32, "EXPERIMENTAL_OMS"). */
  exportKeyingMaterial(length: number, label: string, context?: Buffer): Buffer {
    if (context !== undefined) return this.tls.exportKeyingMaterial(length, label, context);
    // Without a context argument at all (§12.4); the typings insist on one.
    const exportWithoutContext = this.tls.exportKeyingMaterial as unknown as (this: TLSSocket, length: number, label: string) => Buffer;
    return exportWithoutContext.call(this.tls, length, label);
  }

  /** Frames and queues one PDU: each fragment becomes one TLS record, written after the one before it has left. */
  sendPdu(version: number, pdu: Buffer): void {
    if (this.closed || this.endWhenFlushed || this.tls.writableEnded || this.tls.destroyed) {
      throw this.closeError ?? new ConnectionError("ERR_S7_CONNECTION_CLOSED", "connection closed", { plc: this.plc, transient: true });
    }
    for (const frame of encodeFrames(version, pdu, this.maxFragmentData)) this.outbox.push(frame);
    this.flush();
  }

  /** Writes raw bytes inside TLS as one record, in order with the PDUs (fault injection in the simulator). */
  writeRaw(bytes: Buffer): void {
    if (this.closed || this.endWhenFlushed) return;
    this.outbox.push(bytes);
    this.flush();
  }

  /** Ends at once; pending requests fail with `err` (or a plain close). */
  destroy(err?: S7Error): void {
    this.end(err);
  }

  /** Ends politely (close_notify, FIN) and resolves when the socket is gone (at most 2 s). */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.end(undefined), 2000);
      this.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      // The peer's close ends the channel through the link too: a channel never started has no TLS listeners.
      this.link.once("end", (err?: S7Error) => this.end(err));
      // What is queued still goes out, then close_notify.
      this.endWhenFlushed = true;
      this.flush();
    });
  }

  /** Hands the next queued fragment to TLS once the previous write has completed. */
  private flush(): void {
    if (this.writing || this.closed) return;
    const next = this.outbox.shift();
    if (next === undefined) {
      if (this.endWhenFlushed && !this.tls.writableEnded) this.tls.end();
      return;
    }
    this.writing = true;
    this.tls.write(next, (err?: Error | null) => {
      this.writing = false;
      if (err) this.end(this.classify(err));
      else this.flush();
    });
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    // Node hands over the plaintext of one TLS record per "data" event.
    this.emit("record", chunk);
    if (this.closed) return;
    let messages;
    try {
      messages = this.parser.push(chunk);
    } catch (err) {
      this.end(new ProtocolError(err instanceof Error ? err.message : String(err), { plc: this.plc, cause: err }));
      return;
    }
    for (const m of messages) {
      if (this.closed) return;
      if (m.kind === "pdu") this.emit("pdu", m.version, m.pdu);
      else if (m.kind === "systemEvent") this.emit("systemEvent", m.data);
      // Legacy keep-alives carry nothing for us.
    }
  }

  private classify(err: Error & { code?: string; library?: string; reason?: string }): S7Error {
    if (this.link.error) return this.link.error;
    if (err instanceof S7Error) return err;
    if (err.code === "ECONNRESET" || err.code === "EPIPE" || err.code === "ERR_STREAM_WRITE_AFTER_END" || err.code === "ERR_STREAM_DESTROYED") {
      return new ConnectionError("ERR_S7_CONNECTION_CLOSED", `connection reset by the ${this.role === "client" ? "controller" : "client"}`, { plc: this.plc, transient: true, cause: err });
    }
    return new TlsError(`TLS error: ${err.reason ?? err.message}`, err.code, { plc: this.plc, transient: true, cause: err });
  }

  private end(err: S7Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError = err;
    this.outbox.length = 0;
    this.tls.destroy();
    this.link.socket.destroy();
    this.emit("close", err);
  }
}

/** The certificates after the leaf in the chain the peer sent, in order (DER). */
function issuersSent(tls: TLSSocket): Buffer[] {
  const chain: Buffer[] = [];
  let cert = tls.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(cert.raw);
    cert = cert.issuerCertificate;
  }
  return chain.slice(1);
}
