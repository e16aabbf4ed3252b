/**
 * Everything one `s7-secure-connection` config node owns, without Node-RED:
 * the connection manager (system tags, reconnect, one request at a time with
 * read coalescing) over controller sessions, the system tags answered
 * locally in reads and writes, and browsing. The trust layer comes in as a
 * verifier plus an optional store-change subscription.
 */
import { EventEmitter } from "node:events";
import { ConfigError, S7Error, TagError, ValueError } from "../errors.js";
import type { CertificateVerifier } from "../transport/verifier.js";
import { parsePort, type ControllerAddress } from "./alternative-address.js";
import { ConnectionManager, type ConnectionStatus, type SystemTagValues } from "./connection-manager.js";
import { ControllerSession, type ChannelOpener } from "./controller-session.js";
import type { ReadOutcome, SessionInfo, WriteEntry, WriteOutcome } from "./results.js";
import type { SymbolNode } from "../tags/symbols.js";
import { parseTagName, SYSTEM_TAG_NAMES, type SystemTagName } from "../tags/tag-name.js";

export interface ControllerConnectionConfig {
  /** Connection name; system tags are @<name>@<tag>. */
  name: string;
  host: string;
  port: number;
  /** Local interface or source address to connect from; "" = default route. */
  accessPoint: string;
  forceConnectionState: 0 | 1;
  useAlternativeAddress: 0 | 1;
  alternativeAddress: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  username?: string;
  password?: string;
  /** Items waiting at most; beyond it requests fail fast with ERR_S7_OVERLOAD. */
  maxQueuedItems?: number;
}

export interface ControllerConnectionDeps {
  verifier: CertificateVerifier;
  openChannel: ChannelOpener;
  onTrustChange?: (listener: () => void) => () => void;
}

export interface BrowseResult {
  plc: { name: string; orderNumber: string; firmware: string; family: string };
  tags: SymbolNode[];
}

type Manager = ConnectionManager<string, WriteEntry, ReadOutcome, WriteOutcome, SessionInfo>;

export class ControllerConnection extends EventEmitter {
  readonly name: string;
  private readonly manager: Manager;
  private current: ControllerSession | undefined;

  constructor(config: ControllerConnectionConfig, deps: ControllerConnectionDeps) {
    super();
    this.name = config.name;
    if (config.host.trim() === "") throw new ConfigError(`connection "${config.name}": no controller address`, { plc: config.name });
    const primary: ControllerAddress = { host: config.host.trim(), port: parsePort(config.port), accessPoint: config.accessPoint.trim() };
    this.manager = new ConnectionManager({
      name: config.name,
      primary,
      systemTags: {
        ForceConnectionState: config.forceConnectionState,
        AlternativeAddress: config.alternativeAddress,
        UseAlternativeAddress: config.useAlternativeAddress,
      },
      backoff: { minMs: config.reconnectMinMs, maxMs: config.reconnectMaxMs },
      connectWaitMs: config.connectTimeoutMs,
      ...(config.maxQueuedItems === undefined ? {} : { maxQueuedItems: config.maxQueuedItems }),
      factory: async (endpoint, signal) => {
        const session = await ControllerSession.open(
          endpoint,
          {
            plc: config.name,
            verifier: deps.verifier,
            openChannel: deps.openChannel,
            connectTimeoutMs: config.connectTimeoutMs,
            requestTimeoutMs: config.requestTimeoutMs,
            ...(config.password ? { password: config.password } : {}),
            ...(config.username ? { username: config.username } : {}),
            ...(deps.onTrustChange ? { onTrustChange: deps.onTrustChange } : {}),
          },
          signal,
        );
        this.current = session;
        return session;
      },
    });
    this.manager.on("status", (status: ConnectionStatus<SessionInfo>) => this.emit("status", status));
    this.manager.on("systemTags", (tags: SystemTagValues) => this.emit("systemTags", tags));
  }

  start(): void {
    this.manager.start();
  }

  get status(): ConnectionStatus<SessionInfo> {
    return this.manager.status;
  }

  get systemTags(): SystemTagValues {
    return this.manager.systemTags;
  }

  get requestStats(): { requests: number; readRequests: number; writeRequests: number } {
    return this.manager.requestStats;
  }

  /** Reads tags; system tags of this connection are answered here and never reach the controller. */
  async read(tags: readonly string[]): Promise<ReadOutcome[]> {
    const outcomes: (ReadOutcome | undefined)[] = new Array(tags.length);
    const remote: string[] = [];
    const remoteIndex: number[] = [];
    tags.forEach((tag, i) => {
      const system = this.systemTagOf(tag);
      if (system instanceof S7Error) outcomes[i] = { tag, ok: false, error: system };
      else if (system !== undefined) outcomes[i] = { tag, ok: true, value: this.manager.systemTags[system] };
      else {
        remote.push(tag);
        remoteIndex.push(i);
      }
    });
    if (remote.length > 0) {
      const results = await this.manager.read(remote);
      results.forEach((r, k) => (outcomes[remoteIndex[k]!] = r));
    }
    return outcomes as ReadOutcome[];
  }

  /**
   * Writes tags. System tags change the connection (after the controller
   * writes of the same batch, so a batch never writes to a controller it just
   * switched away from).
   */
  async write(entries: readonly WriteEntry[]): Promise<WriteOutcome[]> {
    const outcomes: (WriteOutcome | undefined)[] = new Array(entries.length);
    const remote: WriteEntry[] = [];
    const remoteIndex: number[] = [];
    const system: [number, SystemTagName][] = [];
    entries.forEach((entry, i) => {
      const tag = this.systemTagOf(entry.tag);
      if (tag instanceof S7Error) outcomes[i] = { tag: entry.tag, ok: false, error: tag };
      else if (tag !== undefined) system.push([i, tag]);
      else {
        remote.push(entry);
        remoteIndex.push(i);
      }
    });
    if (remote.length > 0) {
      // Check every name and value first: the scheduler may split a large write over several
      // requests, and one bad value must stop all of them (SPEC §2 s7-write).
      const refused = await this.manager.withSession((session) => (session === this.current ? this.current.check(remote) : Promise.resolve([])));
      if (refused.length > 0) {
        const bad = new Map(refused.map((o) => [o.tag, o]));
        remote.forEach((entry, k) => {
          outcomes[remoteIndex[k]!] = bad.get(entry.tag) ?? {
            tag: entry.tag,
            ok: false,
            error: new ValueError(`${entry.tag}: not written, because ${refused[0]!.tag} in the same request is invalid`, { plc: this.name, tag: entry.tag }),
          };
        });
        return outcomes as WriteOutcome[];
      }
      const results = await this.manager.write(remote);
      results.forEach((r, k) => (outcomes[remoteIndex[k]!] = r));
    }
    for (const [i, tag] of system) {
      const entry = entries[i]!;
      try {
        await this.manager.setSystemTag(tag, entry.value);
        outcomes[i] = { tag: entry.tag, ok: true, value: this.manager.systemTags[tag] };
      } catch (err) {
        outcomes[i] = { tag: entry.tag, ok: false, error: err instanceof S7Error ? err : new ValueError(String(err), { plc: this.name, tag: entry.tag }) };
      }
    }
    return outcomes as WriteOutcome[];
  }

  setSystemTag(tag: SystemTagName, value: unknown): Promise<void> {
    return this.manager.setSystemTag(tag, value);
  }

  /** "switch" (to the AlternativeAddress) or "switchBack" as one step. */
  switchTo(alternative: boolean): Promise<void> {
    return this.manager.switchTo(alternative);
  }

  retryNow(): void {
    this.manager.retryNow();
  }

  /** The symbol tree of the connected controller (connects and waits like a read). */
  browse(): Promise<BrowseResult> {
    return this.manager.withSession(async (session) => {
      const controller = this.current === session ? this.current : undefined;
      if (controller === undefined) throw new ConfigError("no controller session to browse", { plc: this.name });
      const identity = controller.info.identity;
      return {
        plc: { name: this.name, orderNumber: identity.orderNumber, firmware: identity.firmware, family: identity.family },
        tags: await controller.browse(),
      };
    });
  }

  async close(): Promise<void> {
    await this.manager.close();
    this.current = undefined;
    this.removeAllListeners();
  }

  /** The system tag a name refers to, an error for another connection's tag, or undefined. */
  private systemTagOf(tag: string): SystemTagName | S7Error | undefined {
    if (!tag.trim().startsWith("@")) return undefined;
    try {
      const parsed = parseTagName(tag);
      if (parsed.kind !== "system") return undefined;
      if (parsed.connection !== this.name) {
        return new TagError("ERR_S7_TAG_NOT_FOUND", `${tag}: system tag of connection "${parsed.connection}", this is "${this.name}"`, { plc: this.name, tag });
      }
      return SYSTEM_TAG_NAMES.includes(parsed.tag) ? parsed.tag : undefined;
    } catch (err) {
      return err instanceof S7Error ? err : undefined;
    }
  }
}
