/**
 * One S7CommPlus session on an established secure channel (docs/PROTOCOL.md
 * §13–§18, §21, §25): CreateObject, session setup, system limits, protection
 * level and password legitimation, then typed service calls. Every call goes
 * through the RequestMultiplexer (sequence numbers, deadlines, matching); this
 * module adds the session id, the IntegrityId counters and their check on the
 * answer.
 */
import { ConnectionError, PlcError, ProtocolError, S7Error, errorCodeName, isErrorReturnValue, returnValueCode } from "../errors.js";
import { FunctionCode, Ids } from "../protocol/constants.js";
import { ProtocolVersion } from "../protocol/frame.js";
import { encodeRequest, type RequestMessage, type ResponseMessage } from "../protocol/pdu.js";
import { makeSessionCreateObjectRequest, sessionInfoFromResponse, type SessionInfo as CreateInfo } from "../protocol/messages/createObject.js";
import { makeSessionSetupRequest, type GetMultiVariablesResponse, type SetMultiVariablesResponse } from "../protocol/messages/multiVariables.js";
import type { ExploreResponse, ExploreRequest } from "../protocol/messages/explore.js";
import type { ItemValue } from "../protocol/messages/common.js";
import type { ItemAddress } from "../protocol/address.js";
import { decodeSystemEvent, isFatalSystemEvent, systemEventReturnValue } from "../protocol/messages/systemEvent.js";
import { numberOf, bytesOf, pv, type PValue } from "../protocol/pvalue.js";
import { encodeLegitimationPayload } from "../protocol/messages/legitimation.js";
import {
  makeCreditLimitRequest,
  makeSubscriptionDeleteRequest,
  makeSubscriptionRequest,
  subscriptionIdOf,
  type SubscriptionSpec,
} from "../protocol/messages/subscription.js";
import { RequestMultiplexer, type PduChannel } from "./request-mux.js";
import { parseControllerIdentity, type ControllerIdentity } from "../protocol/firmware.js";
import { encryptLegitimation, legacyLegitimationResponse, legitimationKey, sha1, CHALLENGE_LENGTH } from "../protocol/legitimation.js";
import { alarmsOfExplore, makeActiveAlarmsExplore, makeAlarmAckRequest, makeAlarmSubscriptionRequest, type AlarmInstance } from "../protocol/messages/alarm.js";

/** What a session needs from the secure channel below it. */
export interface SessionChannel extends PduChannel {
  /** TLS exporter (§12.4); the new legitimation derives its key from it. */
  exportKeyingMaterial(length: number, label: string, context?: Buffer): Buffer;
  close(): Promise<void>;
  /** Starts delivering PDUs once the session's listeners are attached. */
  start?(): void;
}

export interface SessionOptions {
  plc: string;
  requestTimeoutMs: number;
  /** Password for a protected controller; never logged. */
  password?: string;
  /** User name for controllers with user management (legitimation type 2). */
  username?: string;
  /** Sequence number of the first request (the transport used 1 for InitSsl). */
  firstSequence?: number;
  /** Counts what the session tolerated (the connection passes one across its sessions). */
  diagnostics?: SessionDiagnostics;
  /** Receives one line per tolerated oddity, once per session and kind. */
  log?: (message: string) => void;
}

/** What a session tolerates instead of failing, counted for the connection's diagnostics. */
export interface SessionDiagnostics {
  /** Item answers with a negative ReturnValue, decided by their per-item lists instead. */
  negativeReturnValues: number;
  /** Answers whose IntegrityId was missing or not the expected one. */
  integrityIdMismatches: number;
}

/** Tags per request until the controller's limits are known (CS's default). */
export const DEFAULT_ITEM_LIMIT = 20;
const SYSTEM_LIMIT_READ_MAX = 1000;
const SYSTEM_LIMIT_WRITE_MAX = 1001;
/** Returned by CreateObject / legitimation on some firmware; not an error (§13.2, §27). */
const PRE_LEGITIMATED = 17;
const FLAGS_SESSION_CREATE = 0x36;
const FLAGS_DEFAULT = 0x34;
/** Transport flags of a request that wants no answer (§6.5). */
const FLAGS_NO_ANSWER = 0x74;

type Counter = "read" | "write" | "none";

type BodyOf<S extends ResponseMessage["service"]> = Extract<ResponseMessage, { service: S }>["body"];

export class Session {
  readonly plc: string;
  readonly mux: RequestMultiplexer;
  sessionId = Ids.ObjectNullServerSession as number;
  /** The session's subscription container (§13.2, §24.1). */
  sessionId2 = 0;
  identity: ControllerIdentity = parseControllerIdentity("");
  /** 1 full access … 4 no access; 0 not reported. */
  protectionLevel = 0;
  limits = { readMax: DEFAULT_ITEM_LIMIT, writeMax: DEFAULT_ITEM_LIMIT };
  /** Attribute 306 of the CreateObject answer, echoed in the session setup (§14). */
  private serverSessionVersion: PValue = pv.null();
  private legitimationAttempts = 0;
  private closing: Promise<void> | undefined;
  private closedError: S7Error | undefined;
  private readonly closeListeners: ((err: S7Error) => void)[] = [];
  private readonly diagnostics: SessionDiagnostics;
  /** Kinds of oddity already logged in this session. */
  private readonly logged = new Set<string>();

  private constructor(
    private readonly channel: SessionChannel,
    private readonly options: SessionOptions,
  ) {
    this.plc = options.plc;
    this.diagnostics = options.diagnostics ?? { negativeReturnValues: 0, integrityIdMismatches: 0 };
    this.mux = new RequestMultiplexer(channel, {
      plc: options.plc,
      requestTimeoutMs: options.requestTimeoutMs,
      firstSequence: options.firstSequence ?? 2,
    });
    channel.on("systemEvent", (data) => this.onSystemEvent(data));
    channel.on("close", (err) => {
      this.closedError = err ?? new ConnectionError("ERR_S7_CONNECTION_CLOSED", "connection closed", { plc: this.plc });
      for (const l of this.closeListeners.splice(0)) l(this.closedError);
    });
    channel.start?.();
  }

  /** Runs the session set-up of §13–§16 on a fresh channel. Closes the channel on failure. */
  static async establish(channel: SessionChannel, options: SessionOptions): Promise<Session> {
    const session = new Session(channel, options);
    try {
      await session.create();
      await session.setup();
      await session.readLimits();
      await session.readProtectionLevel();
      if (session.protectionLevel > 1 && options.password !== undefined && options.password !== "") await session.legitimate();
      return session;
    } catch (err) {
      channel.destroy(err instanceof S7Error ? err : undefined);
      throw err;
    }
  }

  get isClosed(): boolean {
    return this.closedError !== undefined;
  }

  onClosed(listener: (err: S7Error) => void): void {
    if (this.closedError) listener(this.closedError);
    else this.closeListeners.push(listener);
  }

  // -------------------------------------------------------------------------
  // Set-up steps

  private async create(): Promise<void> {
    const body = await this.call("CreateObject", { service: "CreateObject", body: makeSessionCreateObjectRequest() }, "none", {
      version: ProtocolVersion.V1,
      flags: FLAGS_SESSION_CREATE,
    });
    const rv = body.returnValue;
    if (isErrorReturnValue(rv)) throw new PlcError("the controller refused the session", rv, { plc: this.plc });
    const info: CreateInfo = sessionInfoFromResponse(body);
    this.sessionId = info.sessionId;
    this.sessionId2 = info.sessionId2;
    this.identity = parseControllerIdentity(info.paom ?? "");
    this.serverSessionVersion = info.serverSessionVersion;
  }


  private async setup(): Promise<void> {
    const body = await this.call("SetMultiVariables", { service: "SetMultiVariables", body: makeSessionSetupRequest(this.sessionId, this.serverSessionVersion) }, "none");
    if (isErrorReturnValue(body.returnValue)) throw new PlcError("the controller refused the session setup", body.returnValue, { plc: this.plc });
  }

  private async readLimits(): Promise<void> {
    const address = (lid: number): ItemAddress => ({ symbolCrc: 0, area: Ids.ObjectRoot, subArea: Ids.SystemLimits, lids: [lid] });
    try {
      const result = await this.getMultiVariables([address(SYSTEM_LIMIT_READ_MAX), address(SYSTEM_LIMIT_WRITE_MAX)]);
      const readMax = numberOf(result.values.get(0));
      const writeMax = numberOf(result.values.get(1));
      if (readMax !== undefined && readMax > 0) this.limits.readMax = readMax;
      if (writeMax !== undefined && writeMax > 0) this.limits.writeMax = writeMax;
    } catch (err) {
      // Limits are optional (§15): a controller that refuses them keeps the defaults.
      if (!(err instanceof PlcError)) throw err;
    }
  }

  private async readProtectionLevel(): Promise<void> {
    try {
      const body = await this.getVarSubStreamed(Ids.EffectiveProtectionLevel);
      this.protectionLevel = numberOf(body) ?? 0;
    } catch (err) {
      if (!(err instanceof PlcError)) throw err;
      this.protectionLevel = 0;
    }
  }

  /** Password legitimation (§16.2 / §16.3), method chosen by the firmware. */
  private async legitimate(): Promise<void> {
    const password = this.options.password ?? "";
    const challengeValue = await this.getVarSubStreamed(Ids.ServerSessionChallenge);
    const challenge = bytesOf(challengeValue);
    if (challenge === undefined || challenge.length < CHALLENGE_LENGTH) {
      throw new ProtocolError("the controller's legitimation challenge is not 20 bytes", { plc: this.plc });
    }
    let address: number;
    let value: PValue;
    if (this.identity.legitimation === "legacy") {
      address = Ids.ServerSessionResponse;
      value = pv.usintArray(legacyLegitimationResponse(password, challenge.subarray(0, CHALLENGE_LENGTH)));
    } else {
      this.legitimationAttempts++;
      const secret = this.channel.exportKeyingMaterial(32, "EXPERIMENTAL_OMS");
      const key = legitimationKey(secret, this.legitimationAttempts);
      const username = this.options.username ?? "";
      const plaintext = encodeLegitimationPayload(
        username === ""
          ? { type: 1, username: Buffer.alloc(0), password: sha1(Buffer.from(password, "utf8")) }
          : { type: 2, username: Buffer.from(username, "utf8"), password: Buffer.from(password, "utf8") },
      );
      address = Ids.Legitimate;
      value = pv.blob(encryptLegitimation(plaintext, key, challenge.subarray(0, CHALLENGE_LENGTH)));
    }
    const body = await this.call(
      "SetVariable",
      { service: "SetVariable", body: { inObjectId: this.sessionId, address, value } },
      "write",
    );
    const code = Number(BigInt.asIntN(16, body.returnValue));
    if (code < 0 || code === 22) {
      const code16 = Number(BigInt.asIntN(16, body.returnValue));
      throw new S7Error("ERR_S7_LEGITIMATION", `password refused by the controller (legitimation failed, code ${code16})`, { plc: this.plc });
    }
    if (code !== PRE_LEGITIMATED) await this.readProtectionLevel();
  }

  // -------------------------------------------------------------------------
  // Services

  /**
   * One GetMultiVariables request; values and item errors by 0-based item
   * index. The per-item lists decide: a negative ReturnValue alone does not
   * fail the items that have a value (some firmware reports one when a
   * single item failed); items without value or error take the ReturnValue
   * as their error.
   */
  async getMultiVariables(addresses: ItemAddress[]): Promise<{ values: Map<number, PValue>; errors: Map<number, bigint> }> {
    const body: GetMultiVariablesResponse = await this.call(
      "GetMultiVariables",
      { service: "GetMultiVariables", body: { linkId: 0, addresses } },
      "read",
    );
    const values = new Map<number, PValue>();
    const errors = new Map<number, bigint>();
    for (const v of body.values) values.set(v.itemNumber - 1, v.value);
    for (const e of body.errors) errors.set(e.itemNumber - 1, e.returnValue);
    if (isErrorReturnValue(body.returnValue)) {
      this.noteReturnValue("read", body.returnValue, addresses.length, values.size);
      for (let i = 0; i < addresses.length; i++) if (!values.has(i) && !errors.has(i)) errors.set(i, body.returnValue);
    }
    this.checkItemNumbers(addresses.length, values, errors);
    return { values, errors };
  }

  /**
   * One SetMultiVariables request; item errors by 0-based item index (absent
   * = written). The per-item list decides; a negative ReturnValue with an
   * empty list means the request was refused, so every item takes it as its
   * error.
   */
  async setMultiVariables(addresses: ItemAddress[], values: PValue[]): Promise<Map<number, bigint>> {
    const items: ItemValue[] = values.map((value, i) => ({ itemNumber: i + 1, value }));
    const body: SetMultiVariablesResponse = await this.call(
      "SetMultiVariables",
      { service: "SetMultiVariables", body: { inObjectId: 0, addresses, values: items } },
      "write",
    );
    const errors = new Map<number, bigint>();
    for (const e of body.errors) {
      if (e.itemNumber < 1 || e.itemNumber > addresses.length) {
        throw this.fatal(`write answer names item ${e.itemNumber} of ${addresses.length}`);
      }
      errors.set(e.itemNumber - 1, e.returnValue);
    }
    if (isErrorReturnValue(body.returnValue)) {
      if (errors.size === 0) for (let i = 0; i < addresses.length; i++) errors.set(i, body.returnValue);
      this.noteReturnValue("write", body.returnValue, addresses.length, addresses.length - errors.size);
    }
    return errors;
  }

  async explore(request: Omit<ExploreRequest, "integrityId" | "exploreRequestId" | "unknown" | "parents"> & Partial<ExploreRequest>): Promise<ExploreResponse> {
    const body = await this.call(
      "Explore",
      {
        service: "Explore",
        body: { exploreRequestId: 0, unknown: 1, parents: 0, ...request },
      },
      "read",
    );
    if (isErrorReturnValue(body.returnValue)) {
      throw new PlcError(`explore of object 0x${request.exploreId.toString(16)} refused`, body.returnValue, { plc: this.plc });
    }
    return body;
  }

  /** GetVarSubStreamed of one attribute of the session object (§21.2). */
  async getVarSubStreamed(attribute: number): Promise<PValue> {
    const body = await this.call("GetVarSubStreamed", { service: "GetVarSubStreamed", body: { inObjectId: this.sessionId, addresses: [attribute] } }, "read");
    if (isErrorReturnValue(body.returnValue)) throw new PlcError(`reading session attribute ${attribute} refused`, body.returnValue, { plc: this.plc });
    return body.value;
  }

  // -------------------------------------------------------------------------
  // Subscriptions (§24)

  /** Creates a data subscription below SessionId2; its object id. A refusal is a PlcError. */
  async createSubscription(spec: Omit<SubscriptionSpec, "containerId" | "integrityId">): Promise<number> {
    const body = await this.call("CreateObject", { service: "CreateObject", body: makeSubscriptionRequest({ ...spec, containerId: this.sessionId2 }) }, "write");
    if (isErrorReturnValue(body.returnValue) || body.objectIds.length === 0) {
      // A refused subscription may exist all the same (CS): delete it, errors ignored.
      const id = body.objectIds[0];
      if (id !== undefined) await this.deleteSubscription(id).catch(() => undefined);
      throw new PlcError(`the controller refused a subscription of ${spec.items.length} item(s)`, body.returnValue, { plc: this.plc });
    }
    return subscriptionIdOf(body);
  }

  /** Raises a subscription's credit limit: SetVariable 1053 with flags 74, no answer (§24.2). */
  setCreditLimit(subscriptionId: number, limit: number): Promise<void> {
    const functionCode = FunctionCode.SetVariable;
    return this.mux.send(ProtocolVersion.V2, functionCode, (sequence) => {
      const body = makeCreditLimitRequest(subscriptionId, limit, this.mux.nextIntegrityId("write"));
      return encodeRequest({ functionCode, sequenceNumber: sequence, sessionId: this.sessionId, transportFlags: FLAGS_NO_ANSWER }, { service: "SetVariable", body });
    });
  }

  /** DeleteObject of one subscription (§24.4); a refusal is a PlcError. */
  async deleteSubscription(subscriptionId: number): Promise<void> {
    const body = await this.call("DeleteObject", { service: "DeleteObject", body: makeSubscriptionDeleteRequest(subscriptionId) }, "write");
    if (isErrorReturnValue(body.returnValue)) throw new PlcError(`deleting subscription 0x${subscriptionId.toString(16)} refused`, body.returnValue, { plc: this.plc });
  }

  // Alarms (§29)

  /** Creates the alarm subscription below SessionId2 (§29.2); its object id. A refusal is a PlcError. */
  async createAlarmSubscription(languages: readonly number[]): Promise<number> {
    const request = makeAlarmSubscriptionRequest({ containerId: this.sessionId2, relationId: Ids.FirstSubscriptionRelation + 0x100, languages, creditLimit: -1 });
    const body = await this.call("CreateObject", { service: "CreateObject", body: request }, "write");
    if (isErrorReturnValue(body.returnValue) || body.objectIds.length === 0) throw new PlcError("the controller refused the alarm subscription", body.returnValue, { plc: this.plc });
    return subscriptionIdOf(body);
  }

  /** The active alarms (Explore of the alarm subsystem, §29.4). */
  async readActiveAlarms(): Promise<AlarmInstance[]> {
    const body = await this.explore(makeActiveAlarmsExplore());
    return alarmsOfExplore(body.objects);
  }

  /** Acknowledges one alarm (provisional request, docs/PROTOCOL-NOTES.md "Alarms"); a refusal is a PlcError. */
  async acknowledgeAlarm(cpuAlarmId: bigint): Promise<void> {
    const body = await this.call("SetVariable", { service: "SetVariable", body: makeAlarmAckRequest(cpuAlarmId) }, "write");
    if (isErrorReturnValue(body.returnValue)) throw new PlcError(`the controller refused to acknowledge alarm 0x${cpuAlarmId.toString(16)}`, body.returnValue, { plc: this.plc });
  }

  /** Receives every notification PDU (opcode 33) of this session. */
  onNotification(listener: ((pdu: Buffer) => void) | undefined): void {
    this.mux.onNotification = listener;
  }

  /** Ends the session: DeleteObject (errors ignored, §25), then the channel. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.isClosed && this.sessionId !== Ids.ObjectNullServerSession) {
        try {
          await this.call(
            "DeleteObject",
            { service: "DeleteObject", body: { objectId: this.sessionId, withQualifier: true } },
            "write",
            { expectIntegrity: false, timeoutMs: Math.min(this.options.requestTimeoutMs, 2000) },
          );
        } catch {
          // The controller may already be gone or answer with a non-fatal code; the socket closes anyway.
        }
      }
      await this.channel.close().catch(() => undefined);
    })();
    return this.closing;
  }

  /** Ends the session at once (no DeleteObject). */
  destroy(err?: S7Error): void {
    this.channel.destroy(err);
  }

  // -------------------------------------------------------------------------
  // Plumbing

  private async call<S extends RequestMessage["service"] & ResponseMessage["service"]>(
    service: S,
    message: Extract<RequestMessage, { service: S }>,
    counter: Counter,
    opts: { version?: number; flags?: number; expectIntegrity?: boolean; timeoutMs?: number } = {},
  ): Promise<BodyOf<S>> {
    const functionCode = FunctionCode[service as keyof typeof FunctionCode];
    let integrityId: number | undefined;
    let sentSequence = 0;
    const response = await this.mux.request(
      opts.version ?? ProtocolVersion.V2,
      functionCode,
      (sequence) => {
        sentSequence = sequence;
        if (counter !== "none") {
          integrityId = this.mux.nextIntegrityId(counter);
          (message.body as { integrityId?: number }).integrityId = integrityId;
        }
        return encodeRequest(
          { functionCode, sequenceNumber: sequence, sessionId: this.sessionId, transportFlags: opts.flags ?? FLAGS_DEFAULT },
          message,
        );
      },
      opts.timeoutMs,
    );
    let answer: ResponseMessage;
    try {
      answer = response.body();
    } catch (err) {
      throw this.fatal(`undecodable ${service} answer: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (answer.service === "Error") {
      throw new PlcError(`${service} refused with an error answer`, answer.body.returnValue, { plc: this.plc });
    }
    if (answer.service !== service) throw this.fatal(`${service} answered with ${answer.service}`);
    const body = answer.body as BodyOf<S>;
    if (integrityId !== undefined && opts.expectIntegrity !== false) {
      const got = (body as { integrityId?: number }).integrityId;
      const expected = (sentSequence + integrityId) >>> 0;
      // TLS already protects the answer; the hardware-validated drivers log or ignore a mismatch,
      // so it is counted and logged, and the session goes on.
      if (got !== expected) {
        this.diagnostics.integrityIdMismatches++;
        this.logOnce("integrity", `${service} answer carries IntegrityId ${got ?? "none"}, expected ${expected}; counted, the session continues (logged once per session)`);
      }
    }
    return body;
  }

  /** A negative ReturnValue on an item answer: counted, and logged once per session and code. */
  private noteReturnValue(kind: "read" | "write", returnValue: bigint, items: number, fine: number): void {
    this.diagnostics.negativeReturnValues++;
    const code = returnValueCode(returnValue);
    this.logOnce(
      `rv:${kind}:${code}`,
      `${kind} answer with ReturnValue ${code}${errorCodeName(code)} for ${items} item(s), ${fine} of them fine; the per-item results decide (logged once per session)`,
    );
  }

  private logOnce(kind: string, message: string): void {
    if (this.logged.has(kind)) return;
    this.logged.add(kind);
    this.options.log?.(`${this.plc}: ${message}`);
  }

  private checkItemNumbers(count: number, values: Map<number, PValue>, errors: Map<number, bigint>): void {
    for (const i of [...values.keys(), ...errors.keys()]) {
      if (i < 0 || i >= count) throw this.fatal(`read answer names item ${i + 1} of ${count}`);
    }
    for (let i = 0; i < count; i++) {
      if (!values.has(i) && !errors.has(i)) throw this.fatal(`read answer has neither a value nor an error for item ${i + 1}`);
    }
  }

  /** A protocol violation: the connection cannot be trusted any more. */
  private fatal(message: string): ProtocolError {
    const err = new ProtocolError(message, { plc: this.plc });
    this.mux.failAll(err);
    this.channel.destroy(err);
    return err;
  }

  private onSystemEvent(data: Buffer): void {
    let fatal = false;
    let code: bigint | undefined;
    try {
      const ev = decodeSystemEvent(data);
      fatal = isFatalSystemEvent(ev);
      code = systemEventReturnValue(ev);
    } catch {
      fatal = true;
    }
    if (!fatal) return;
    const detail = code !== undefined ? ` (code ${Number(BigInt.asIntN(16, code))}${errorCodeName(Number(BigInt.asIntN(16, code)))})` : "";
    const err = new S7Error("ERR_S7_SYSTEM_EVENT", `the controller ended the session with a SystemEvent${detail}`, { plc: this.plc, transient: true });
    this.mux.failAll(err);
    this.channel.destroy(err);
  }
}
