/**
 * A simulated S7-1500 with Secure Communication on a TCP port (default
 * 127.0.0.1): one SimulatedSession per connection over the transport's
 * server-side secure channel, shared controller state, animation of tag
 * values, runtime controls (RUN/STOP, certificate swap) and fault injection.
 * Several instances can run in one process.
 */
import { EventEmitter } from "node:events";
import * as net from "node:net";
import { createHash, X509Certificate } from "node:crypto";
import { ProtocolError, S7Error } from "../errors.js";
import { Ids } from "../protocol/constants.js";
import { encodeFrames, framesInRecord, encodeSystemEvent as frameSystemEvent } from "../protocol/frame.js";
import { encodeSystemEvent } from "../protocol/messages/systemEvent.js";
import { pv } from "../protocol/pvalue.js";
import { decodePdu, encodePdu } from "../protocol/pdu.js";
import { acceptSecureChannel } from "../transport/server-channel.js";
import type { SecureChannel } from "../transport/secure-channel.js";
import { emptyFramingStats, type FramingStats } from "../transport/framing-stats.js";
import { encodeValue } from "../values/value-map.js";
import { checkSimulatorConfig, loadSimulatorConfig, type SimulatorConfig } from "./config.js";
import { assertServable, resolveCertificate, type ServerCertificate } from "./certificate.js";
import { ControllerModel, type ControllerStats, type RunState } from "./controller.js";
import { SimulatedSession, type SessionAnswer } from "./session.js";
import { ControllerAlarms, SessionAlarms } from "./alarms.js";
import { SessionSubscriptions } from "./subscriptions.js";
import { ProtocolVersion } from "../protocol/frame.js";
import { TagTable, fromJson, type SimMember } from "./tag-table.js";
import type { PlcType } from "../values/plc-type.js";

export interface FaultControls {
  /** Delay before every answer (ms). */
  responseDelayMs: number;
  /** Reset each connection after this many requests (undefined = never). */
  dropAfterRequests: number | undefined;
  /** Accept TCP, COTP and InitSsl, then never start TLS. */
  stallHandshake: boolean;
  /** Read requests but never answer (a black-holed path). */
  blackHole: boolean;
  /** Answer one byte at a time at this rate (slow-loris), undefined = off. */
  slowLorisBytesPerSecond: number | undefined;
  /** Close new connections at once (too many sessions). */
  refuseConnections: boolean;
  /** Answer with an IntegrityId off by one. */
  wrongIntegrityId: boolean;
  /**
   * A read or write with a failed item also carries that item's error as the
   * request's ReturnValue ("also"), or only there, without the per-item lists
   * ("only"), as firmware may answer; undefined = off.
   */
  returnValueOnItemError: "also" | "only" | undefined;
}

const DEFAULT_FAULTS: FaultControls = {
  responseDelayMs: 0,
  dropAfterRequests: undefined,
  stallHandshake: false,
  blackHole: false,
  slowLorisBytesPerSecond: undefined,
  refuseConnections: false,
  wrongIntegrityId: false,
  returnValueOnItemError: undefined,
};

interface Connection {
  socket: net.Socket;
  channel?: SecureChannel;
  session?: SimulatedSession;
  subscriptions?: SessionSubscriptions;
  alarms?: SessionAlarms;
  requests: number;
  /** Requests received and not yet answered. */
  outstanding: number;
  timers: Set<NodeJS.Timeout>;
}

/** Session ids like a TLS-era CPU: 0x7000xxxx, unique across instances (docs/PROTOCOL.md §7). */
let nextSessionId = 0x70001000;
let nextSourceRef = 1;

/** What the simulator saw of the clients' DTs and TLS records, over all connections. */
export interface SimulatorFramingStats extends FramingStats {
  /** Records (plaintext) that held more than one S7CommPlus fragment or did not start on a fragment. */
  recordsNotOneFragment: number;
  /** Connections reset for such a record (strictFraming). */
  connectionsRefused: number;
}

/** NoSupportForTls (−507) as an InitSsl ReturnValue. */
const NO_TLS_RETURN_VALUE = 0x8000_0000_0000_fe05n;

export class Simulator extends EventEmitter {
  readonly name: string;
  readonly host: string;
  readonly model: ControllerModel;
  readonly table: TagTable;
  readonly faults: FaultControls = { ...DEFAULT_FAULTS };
  /** A write on a session that carries subscriptions deletes them (docs/SIMULATOR.md "Subscriptions"). */
  resetSubscriptionOnWrite = false;
  private readonly config: SimulatorConfig;
  private certificate: ServerCertificate;
  private server: net.Server | undefined;
  private boundPort = 0;
  private readonly connections = new Set<Connection>();
  private readonly stalled = new Set<() => void>();
  private readonly framing: SimulatorFramingStats = { ...emptyFramingStats(), recordsNotOneFragment: 0, connectionsRefused: 0 };
  private animation: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  /** Program alarms of the configuration (alarms.ts). */
  readonly alarms: ControllerAlarms;
  private readonly animated: { key: string; dbIndex: number; member: SimMember; type: PlcType; initial: unknown }[] = [];

  private constructor(config: SimulatorConfig) {
    super();
    this.config = config;
    this.name = config.name;
    this.host = config.host ?? "127.0.0.1";
    this.table = new TagTable(config.dataBlocks);
    this.table.checkCrc = config.checkSymbolCrc !== false;
    this.model = new ControllerModel({
      name: config.name,
      orderNumber: config.orderNumber ?? "6ES7 516-3AN02-0AB0",
      firmware: config.firmware ?? "3.1",
      ...(config.password ? { password: config.password } : {}),
      ...(config.username ? { username: config.username } : {}),
      protectionLevel: config.password ? config.protectionLevel ?? 3 : 1,
      readMax: config.tagsPerReadMax ?? 20,
      writeMax: config.tagsPerWriteMax ?? 20,
      runState: config.runState ?? "RUN",
      subscriptionsMax: config.subscriptionsMax ?? 20,
      subscriptionItemsMax: config.subscriptionItemsMax ?? 2000,
      subscriptionMinCycleMs: config.subscriptionMinCycleMs ?? 100,
    });
    this.resetSubscriptionOnWrite = config.resetSubscriptionOnWrite === true;
    this.certificate = resolveCertificate(config.certificate, config.name, this.host);
    assertServable(this.certificate, config.tlsVersions ?? ["TLSv1.3"]);
    this.alarms = new ControllerAlarms(config.alarms ?? [], (path) => {
      const { db, key, type } = this.locate(path);
      return { value: db.values.get(key), type };
    });
    this.table.blocks.forEach((db, dbIndex) => {
      for (const leaf of this.table.leaves(db)) {
        if (leaf.member.animation) this.animated.push({ key: leaf.key, dbIndex, member: leaf.member, type: leaf.type, initial: db.values.get(leaf.key) });
      }
    });
  }

  /** Starts a simulator from a configuration object or a JSON file. */
  static async start(config: SimulatorConfig | string): Promise<Simulator> {
    const c = typeof config === "string" ? loadSimulatorConfig(config) : checkSimulatorConfig(config);
    const sim = new Simulator(c);
    await sim.listen(c.port ?? 0);
    return sim;
  }

  get port(): number {
    return this.boundPort;
  }

  get certificatePem(): string {
    return this.certificate.leafPem;
  }

  get caCertificatePem(): string | undefined {
    return this.certificate.caCertificatePem;
  }

  /** SHA-256 of the presented certificate, lower-case hex without separators. */
  get fingerprint256(): string {
    return createHash("sha256").update(new X509Certificate(this.certificate.leafPem).raw).digest("hex");
  }

  get stats(): ControllerStats & { connectionsOpen: number; framing: SimulatorFramingStats } {
    return { ...this.model.stats, requestsByService: { ...this.model.stats.requestsByService }, connectionsOpen: this.connections.size, framing: { ...this.framing } };
  }

  get runState(): RunState {
    return this.model.runState;
  }

  setRunState(state: RunState): void {
    this.model.setRunState(state);
  }

  /** Presents another certificate from the next connection on; running sessions are unaffected. */
  swapCertificate(pem: { cert: string; key: string }): void {
    assertServable({ certPem: pem.cert, keyPem: pem.key }, this.config.tlsVersions ?? ["TLSv1.3"]);
    this.certificate = { certPem: pem.cert, keyPem: pem.key, leafPem: pem.cert };
  }

  /** Resets every fault to off. */
  clearFaults(): void {
    Object.assign(this.faults, DEFAULT_FAULTS);
    for (const resume of this.stalled) resume();
    this.stalled.clear();
  }

  /** Sends a fatal SystemEvent (negative ReturnValue) on every connection. */
  sendFatalSystemEvent(code = -352): void {
    const data = encodeSystemEvent({
      head: 0,
      counter: 0,
      reserved: 0n,
      body: { kind: "struct", value: pv.struct(0x00009dd2, [[Ids.SystemEventReturnValue, pv.lint(BigInt(code))]]) },
    });
    for (const c of this.connections) c.channel?.writeRaw(frameSystemEvent(data));
  }

  /** Sends a harmless 16-byte confirmation SystemEvent on every connection. */
  sendSystemEventConfirmation(): void {
    const data = encodeSystemEvent({ head: 0, counter: 16, reserved: 0n, body: { kind: "none" } });
    for (const c of this.connections) c.channel?.writeRaw(frameSystemEvent(data));
  }

  /** Sends bytes that are not an S7CommPlus frame on every connection. */
  sendMalformedFrame(): void {
    for (const c of this.connections) c.channel?.writeRaw(Buffer.from([0x72, 0x09, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef]));
  }

  /** Ends every connection at once (a controller restart or a cable pulled). */
  dropConnections(): void {
    for (const c of this.connections) c.socket.destroy();
  }

  /** Reads a tag by name ("Line.Speed", "Line.Recipe.Limits.Max", "Line.Recipe.Steps"). */
  getValue(path: string): unknown {
    const { db, key } = this.locate(path);
    return db.values.get(key);
  }

  /** Writes a tag by name; the value is checked against the tag's type. */
  setValue(path: string, value: unknown): void {
    const { db, key, type } = this.locate(path);
    const js = fromJson(type, value);
    encodeValue(type, js, { tag: path });
    db.values.set(key, js);
    this.alarms.check();
  }

  async stop(): Promise<void> {
    if (this.animation) clearInterval(this.animation);
    this.animation = undefined;
    for (const resume of this.stalled) resume();
    this.stalled.clear();
    for (const c of this.connections) {
      c.subscriptions?.deleteAll();
      c.alarms?.deleteAll();
      for (const t of c.timers) clearTimeout(t);
      c.socket.destroy();
    }
    this.connections.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.removeAllListeners();
  }

  // -------------------------------------------------------------------------

  private async listen(port: number): Promise<void> {
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, this.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.boundPort = (server.address() as net.AddressInfo).port;
    this.animation = setInterval(() => this.animate(), 200);
    this.animation.unref();
  }

  private accept(socket: net.Socket): void {
    const conn: Connection = { socket, requests: 0, outstanding: 0, timers: new Set() };
    this.connections.add(conn);
    this.model.stats.connectionsTotal++;
    socket.on("error", () => undefined);
    socket.on("close", () => {
      conn.subscriptions?.deleteAll();
      conn.alarms?.deleteAll();
      for (const t of conn.timers) clearTimeout(t);
      this.connections.delete(conn);
      this.emit("disconnect");
    });
    if (this.faults.refuseConnections) {
      socket.destroy();
      return;
    }
    const secure = this.config.secureCommunication !== false;
    acceptSecureChannel(socket, {
      key: this.certificate.keyPem,
      cert: this.certificate.certPem,
      tlsVersions: this.config.tlsVersions ?? ["TLSv1.3"],
      handshakeTimeoutMs: 10_000,
      plc: this.name,
      sourceRef: nextSourceRef++ & 0xffff || 1,
      framingStats: this.framing,
      ...(secure ? {} : { initSslReturnValue: NO_TLS_RETURN_VALUE }),
      hooks: {
        beforeTls: () =>
          this.faults.stallHandshake
            ? new Promise<void>((resolve) => {
                const resume = (): void => {
                  socket.destroy();
                  resolve();
                };
                this.stalled.add(resume);
              })
            : Promise.resolve(),
      },
    }).then(
      (channel) => this.serve(conn, channel),
      () => socket.destroy(),
    );
  }

  private serve(conn: Connection, channel: SecureChannel): void {
    if (conn.socket.destroyed) return;
    conn.channel = channel;
    const sessionId = nextSessionId;
    nextSessionId += 3;
    const subscriptions = new SessionSubscriptions({
      read: (address) => this.model.readItem(this.table, address, conn.session?.effectiveProtectionLevel ?? 4),
      send: (pdu) => {
        if (channel.isClosed || this.faults.blackHole) return false;
        channel.sendPdu(ProtocolVersion.V2, pdu);
        return true;
      },
      limits: this.model.subscriptionLimits,
      stats: this.model.stats,
    });
    conn.subscriptions = subscriptions;
    const alarms = new SessionAlarms(this.alarms, (pdu) => {
      if (channel.isClosed || this.faults.blackHole) return false;
      channel.sendPdu(ProtocolVersion.V2, pdu);
      return true;
    });
    conn.alarms = alarms;
    conn.session = new SimulatedSession(this.model, this.table, channel, { sessionId }, { subscriptions, resetOnWrite: () => this.resetSubscriptionOnWrite, alarms });
    channel.on("record", (plaintext: Buffer) => this.checkRecord(channel, plaintext));
    channel.on("pdu", (version: number, pdu: Buffer) => this.onPdu(conn, version, pdu));
    channel.on("close", () => conn.socket.destroy());
    channel.start();
    this.emit("connect");
  }

  /** One S7CommPlus fragment per TLS record, as the C# reference's receiver requires (docs/PROTOCOL.md §5.2). */
  private checkRecord(channel: SecureChannel, plaintext: Buffer): void {
    const frames = framesInRecord(plaintext);
    if (frames === 1) return;
    this.framing.recordsNotOneFragment++;
    if (this.config.strictFraming !== true) return;
    this.framing.connectionsRefused++;
    const what = frames < 0 ? "does not start and end on a fragment boundary" : `holds ${frames} fragments`;
    channel.destroy(new ProtocolError(`a TLS record of ${plaintext.length} bytes ${what}; one fragment per record is required`, { plc: this.name }));
  }

  private onPdu(conn: Connection, version: number, pdu: Buffer): void {
    const channel = conn.channel!;
    conn.requests++;
    conn.outstanding++;
    this.model.stats.maxOutstandingPerSession = Math.max(this.model.stats.maxOutstandingPerSession, conn.outstanding);
    if (this.faults.dropAfterRequests !== undefined && conn.requests > this.faults.dropAfterRequests) {
      conn.socket.resetAndDestroy();
      return;
    }
    if (this.faults.blackHole) return;
    let answer: SessionAnswer | undefined;
    try {
      answer = conn.session!.handle(version, pdu);
    } catch (err) {
      // A request that cannot be decoded: reset, like a CPU does on a protocol violation.
      channel.destroy(err instanceof S7Error ? err : new ProtocolError(String(err), { plc: this.name }));
      return;
    }
    if (answer === undefined) {
      conn.outstanding--;
      return;
    }
    if (this.faults.wrongIntegrityId) answer = { ...answer, pdu: corruptIntegrityId(answer.pdu) };
    if (this.faults.returnValueOnItemError) answer = { ...answer, pdu: itemErrorAsReturnValue(answer.pdu, this.faults.returnValueOnItemError) };
    const send = (): void => {
      conn.outstanding--;
      if (channel.isClosed) return;
      if (this.faults.slowLorisBytesPerSecond !== undefined) this.trickle(conn, Buffer.concat(encodeFrames(answer.version, answer.pdu, channel.maxFragmentData)));
      else channel.sendPdu(answer.version, answer.pdu);
      if (conn.session!.ended) this.later(conn, () => void channel.close(), 50);
    };
    if (this.faults.responseDelayMs > 0) this.later(conn, send, this.faults.responseDelayMs);
    else send();
    // A write may have turned an alarm trigger (the events follow the answer).
    this.alarms.check();
  }

  private trickle(conn: Connection, bytes: Buffer): void {
    const interval = 1000 / Math.max(1, this.faults.slowLorisBytesPerSecond ?? 1);
    let i = 0;
    const step = (): void => {
      if (i >= bytes.length || conn.channel?.isClosed) return;
      conn.channel!.writeRaw(bytes.subarray(i, i + 1));
      i++;
      this.later(conn, step, interval);
    };
    step();
  }

  private later(conn: Connection, fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      conn.timers.delete(t);
      fn();
    }, ms);
    conn.timers.add(t);
  }

  private animate(): void {
    if (this.model.runState !== "RUN") return;
    const elapsed = Date.now() - this.startedAt;
    for (const a of this.animated) {
      const db = this.table.blocks[a.dbIndex]!;
      const { kind, periodMs, amplitude } = a.member.animation!;
      let value: unknown;
      if (kind === "counter") {
        const base = typeof a.initial === "bigint" ? a.initial : BigInt(Math.trunc(Number(a.initial ?? 0)));
        const n = base + BigInt(Math.floor(elapsed / periodMs));
        value = typeof a.initial === "bigint" ? n : Number(n);
      } else if (kind === "sine") value = Math.round(amplitude * Math.sin((2 * Math.PI * elapsed) / periodMs) * 1000) / 1000;
      else value = Math.floor(elapsed / periodMs) % 2 === 0 ? Boolean(a.initial) : !a.initial;
      try {
        encodeValue(a.type, value, { tag: a.member.name });
        db.values.set(a.key, value);
      } catch {
        // A counter that left its type's range starts again.
        db.values.set(a.key, a.initial);
      }
    }
    this.alarms.check();
  }

  private locate(path: string): { db: import("./tag-table.js").SimDataBlock; key: string; type: PlcType } {
    const [dbName, ...names] = path.split(".");
    const db = this.table.blockByName(dbName ?? "");
    if (db === undefined) throw new S7Error("ERR_S7_TAG_NOT_FOUND", `${path}: no data block "${dbName}" in simulator ${this.name}`);
    let struct = db.type;
    const keys: number[] = [];
    let type: PlcType | undefined;
    for (const name of names) {
      const m = struct?.members.find((x) => x.name === name);
      if (m === undefined) throw new S7Error("ERR_S7_TAG_NOT_FOUND", `${path}: no member "${name}"`);
      keys.push(m.lid);
      type = m.type;
      struct = m.struct!;
    }
    if (type === undefined || type.kind === "struct") throw new S7Error("ERR_S7_TAG_NOT_FOUND", `${path}: not a value`);
    return { db, key: keys.join("."), type };
  }
}


/** The same item answer with its first item error as the request's ReturnValue (see FaultControls). */
function itemErrorAsReturnValue(pdu: Buffer, mode: "also" | "only"): Buffer {
  const decoded = decodePdu(pdu);
  if (decoded.kind !== "response") return pdu;
  const m = decoded.message;
  if (m.service !== "GetMultiVariables" && m.service !== "SetMultiVariables") return pdu;
  const first = m.body.errors[0];
  if (first === undefined) return pdu;
  m.body.returnValue = first.returnValue;
  if (mode === "only") {
    m.body.errors = [];
    if (m.service === "GetMultiVariables") m.body.values = [];
  }
  return encodePdu(decoded);
}

/** The same answer with its IntegrityId (the VLQ before the 4-byte fill) increased by one. */
function corruptIntegrityId(pdu: Buffer): Buffer {
  const out = Buffer.from(pdu);
  const at = out.length - 5;
  if (at > 10 && out[at]! < 0x7f && (out[at - 1]! & 0x80) === 0) out[at] = out[at]! + 1;
  return out;
}
