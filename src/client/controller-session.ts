/**
 * One connected period of a controller, as the connection runs its
 * operations on it: secure channel + S7CommPlus session + symbol table + tag
 * access (batches of tag reads and writes, browse, facts for the status,
 * close). A reconnect makes a new one.
 *
 * While connected, trust changes (a certificate untrusted or revoked in the
 * store) re-check the controller's certificate; a refusal for any reason but
 * expiry ends the session (docs/SECURITY.md "Decision order": expiry never ends a running
 * connection).
 */
import { ConnectionError, ProtocolError, S7Error } from "../errors.js";
import { Ids } from "../protocol/constants.js";
import type { ItemAddress } from "../protocol/address.js";
import { numberOf } from "../protocol/pvalue.js";
import type { CertificateVerifier, PeerCertificates, TrustVerdict } from "../transport/verifier.js";
import { openSecureChannel } from "../transport/client-channel.js";
import type { ControllerAddress } from "./alternative-address.js";
import type { ReadOutcome, SessionInfo, WriteEntry, WriteOutcome } from "./results.js";
import { Session, type SessionChannel, type SessionDiagnostics } from "./session.js";
import { SymbolTable, type SymbolNode } from "../tags/symbols.js";
import { TagIO, type TagItems, type TagRequestStats } from "./tag-io.js";

/** What the transport hands over after the handshake and the certificate check. */
export interface VerifiedChannel extends SessionChannel {
  readonly tlsVersion: string;
  readonly cipher: string;
  readonly verdict: TrustVerdict;
  readonly peerCertificates: PeerCertificates;
}

/** What a connection needs of its session (a test may stand in a fake one). */
export interface ConnectedSession {
  /** Facts about the session for status and the switch node (TLS version, certificate …). */
  readonly info: SessionInfo;
  read(tags: string[]): Promise<ReadOutcome[]>;
  write(entries: WriteEntry[]): Promise<WriteOutcome[]>;
  browse(): Promise<SymbolNode[]>;
  /** Ends the session politely (DeleteObject, then close). Resolves when the socket is gone. */
  close(): Promise<void>;
  /** Registers the listener called once when the session ends by itself (not through close()). */
  onClosed(listener: (err: S7Error) => void): void;
}

/** Opens a session to one endpoint; `signal` aborts the attempt. */
export type SessionOpener = (endpoint: ControllerAddress, signal: AbortSignal) => Promise<ConnectedSession>;

export interface ControllerSessionOptions {
  /** Connection name, used in every message. */
  plc: string;
  verifier: CertificateVerifier;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  password?: string;
  username?: string;
  /** Subscribes to trust-store changes; returns the unsubscribe function. */
  onTrustChange?: (listener: () => void) => () => void;
  /** Counts the tag requests (the connection passes one across its sessions). */
  stats?: TagRequestStats;
  /** Counts what the session tolerated (IntegrityId mismatches, negative ReturnValues). */
  diagnostics?: SessionDiagnostics;
  /** Receives one line per tolerated oddity, once per session and kind. */
  log?: (message: string) => void;
}

/** Codes of a re-check refusal that must not end a running session. */
const KEEP_RUNNING_CODES: ReadonlySet<string> = new Set(["ERR_S7_EXPIRED", "ERR_S7_NOT_YET_VALID"]);

export class ControllerSession implements ConnectedSession {
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
    this.tags = new TagIO(session, this.symbols, options.stats);
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
    const channel: VerifiedChannel = await openSecureChannel({
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
        ...(options.diagnostics === undefined ? {} : { diagnostics: options.diagnostics }),
        ...(options.log === undefined ? {} : { log: options.log }),
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

  browse(): Promise<SymbolNode[]> {
    return this.symbols.browse();
  }

  /** The wire items of tags for a subscription (resolved as reads are). */
  items(tags: readonly string[]): Promise<TagItems[]> {
    return this.tags.items(tags);
  }

  /** Forgets resolved tags and symbols (the program changed). */
  invalidateSymbols(): void {
    this.tags.invalidate();
  }

  // Subscriptions: this session as a push session (subscription-manager.ts).

  /** SystemLimits LIDs 0 and 1: most subscriptions and most subscribed items (docs/PROTOCOL.md §24.5). */
  async subscriptionLimits(): Promise<{ subscriptionsMax: number; itemsMax: number }> {
    const address = (lid: number): ItemAddress => ({ symbolCrc: 0, area: Ids.ObjectRoot, subArea: Ids.SystemLimits, lids: [lid] });
    const { values } = await this.session.getMultiVariables([address(0), address(1)]);
    const subscriptionsMax = numberOf(values.get(0));
    const itemsMax = numberOf(values.get(1));
    if (subscriptionsMax === undefined || itemsMax === undefined || subscriptionsMax < 1 || itemsMax < 1) {
      throw new ProtocolError("the controller reports no subscription limits", { plc: this.options.plc });
    }
    return { subscriptionsMax, itemsMax };
  }

  createSubscription(spec: Parameters<Session["createSubscription"]>[0]): Promise<number> {
    return this.session.createSubscription(spec);
  }

  setCreditLimit(id: number, limit: number): Promise<void> {
    return this.session.setCreditLimit(id, limit);
  }

  deleteSubscription(id: number): Promise<void> {
    return this.session.deleteSubscription(id);
  }

  onNotification(listener: ((pdu: Buffer) => void) | undefined): void {
    this.session.onNotification(listener);
  }

  // Alarms on this push session (alarms.ts).

  createAlarmSubscription(languages: readonly number[]): Promise<number> {
    return this.session.createAlarmSubscription(languages);
  }

  readActiveAlarms(): ReturnType<Session["readActiveAlarms"]> {
    return this.session.readActiveAlarms();
  }

  acknowledgeAlarm(cpuAlarmId: bigint): Promise<void> {
    return this.session.acknowledgeAlarm(cpuAlarmId);
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
