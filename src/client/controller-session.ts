/**
 * A connected controller as the connection manager uses it: secure channel
 * + S7CommPlus session + symbol table + tag access, behind the
 * ManagedSession interface (batches of tag reads and writes, limits, facts
 * for the status, close).
 *
 * While connected, trust changes (a certificate untrusted or revoked in the
 * store) re-check the controller's certificate; a refusal for any reason but
 * expiry ends the session (RELIABILITY policy: expiry never ends a running
 * connection).
 */
import { ConnectionError, S7Error } from "../errors.js";
import type { CertificateVerifier, PeerCertificates, TrustVerdict } from "../transport/verifier.js";
import type { ControllerAddress } from "./alternative-address.js";
import type { ManagedSession } from "./connection-manager.js";
import type { ReadOutcome, SessionInfo, WriteEntry, WriteOutcome } from "./results.js";
import { Session, type SessionChannel } from "./session.js";
import { SymbolTable, type SymbolNode } from "../tags/symbols.js";
import { TagIO } from "./tag-io.js";

/** What the transport hands over after the handshake and the certificate check. */
export interface VerifiedChannel extends SessionChannel {
  readonly tlsVersion: string;
  readonly cipher: string;
  readonly verdict: TrustVerdict;
  readonly peerCertificates: PeerCertificates;
}

export interface ChannelRequest {
  host: string;
  port: number;
  /** Local interface name or source address; "" = default route. */
  accessPoint: string;
  plc: string;
  verifier: CertificateVerifier;
  connectTimeoutMs: number;
  signal: AbortSignal;
}

export type ChannelOpener = (request: ChannelRequest) => Promise<VerifiedChannel>;

export interface ControllerSessionOptions {
  /** Connection name, used in every message. */
  plc: string;
  verifier: CertificateVerifier;
  openChannel: ChannelOpener;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  password?: string;
  username?: string;
  /** Subscribes to trust-store changes; returns the unsubscribe function. */
  onTrustChange?: (listener: () => void) => () => void;
}

/** Codes of a re-check refusal that must not end a running session. */
const KEEP_RUNNING_CODES: ReadonlySet<string> = new Set(["ERR_S7_EXPIRED", "ERR_S7_NOT_YET_VALID"]);

export class ControllerSession implements ManagedSession<string, WriteEntry, ReadOutcome, WriteOutcome, SessionInfo> {
  readonly info: SessionInfo;
  private readonly tags: TagIO;
  private readonly symbols: SymbolTable;
  private readonly unsubscribe: () => void;

  private constructor(
    readonly session: Session,
    private readonly channel: VerifiedChannel,
    private readonly endpoint: ControllerAddress,
    private readonly options: ControllerSessionOptions,
  ) {
    this.symbols = new SymbolTable(session);
    this.tags = new TagIO(session, this.symbols);
    this.info = {
      tlsVersion: channel.tlsVersion,
      cipher: channel.cipher,
      verdict: channel.verdict,
      identity: session.identity,
      protectionLevel: session.protectionLevel,
      limits: { ...session.limits },
    };
    this.unsubscribe = options.onTrustChange?.(() => void this.recheck()) ?? (() => undefined);
    session.onClosed(() => this.unsubscribe());
  }

  /** Opens channel and session to one endpoint; `signal` aborts the attempt. */
  static async open(endpoint: ControllerAddress, options: ControllerSessionOptions, signal: AbortSignal): Promise<ControllerSession> {
    const channel = await options.openChannel({
      host: endpoint.host,
      port: endpoint.port,
      accessPoint: endpoint.accessPoint,
      plc: options.plc,
      verifier: options.verifier,
      connectTimeoutMs: options.connectTimeoutMs,
      signal,
    });
    const onAbort = (): void => channel.destroy(new ConnectionError("ERR_S7_CLOSED", "connection attempt cancelled", { plc: options.plc }));
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const session = await Session.establish(channel, {
        plc: options.plc,
        requestTimeoutMs: options.requestTimeoutMs,
        ...(options.password === undefined ? {} : { password: options.password }),
        ...(options.username === undefined ? {} : { username: options.username }),
      });
      return new ControllerSession(session, channel, endpoint, options);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  get limits(): { readMax: number; writeMax: number } {
    return this.session.limits;
  }

  read(tags: string[]): Promise<ReadOutcome[]> {
    return this.tags.read(tags);
  }

  write(entries: WriteEntry[]): Promise<WriteOutcome[]> {
    return this.tags.write(entries);
  }

  /** The entries that cannot be written (bad name or value), checked without writing. */
  check(entries: WriteEntry[]): Promise<WriteOutcome[]> {
    return this.tags.check(entries);
  }

  browse(): Promise<SymbolNode[]> {
    return this.symbols.browse();
  }

  close(): Promise<void> {
    this.unsubscribe();
    return this.session.close();
  }

  onClosed(listener: (err: S7Error) => void): void {
    this.session.onClosed(listener);
  }

  private async recheck(): Promise<void> {
    if (this.session.isClosed) return;
    try {
      await this.options.verifier.verify(this.channel.peerCertificates, { plc: this.options.plc, host: this.endpoint.host, port: this.endpoint.port });
    } catch (err) {
      if (err instanceof S7Error && KEEP_RUNNING_CODES.has(err.code)) return;
      const reason = err instanceof S7Error ? err : new ConnectionError("ERR_S7_CONNECTION_CLOSED", String(err), { plc: this.options.plc });
      this.session.destroy(reason);
    }
  }
}
