/**
 * One client connection to the simulated controller (docs/SIMULATOR.md §6–§16):
 * decodes each request PDU, answers it with the codec of src/protocol, and
 * keeps the per-connection state (session ids, set-up, legitimation).
 * Faults are applied by the Simulator around it.
 */
import { randomBytes } from "node:crypto";
import { FunctionCode, Ids } from "../protocol/constants.js";
import { ByteWriter } from "../protocol/bytes.js";
import { ProtocolVersion } from "../protocol/frame.js";
import { decodePdu, encodeResponse, type RequestHeader, type ResponseMessage } from "../protocol/pdu.js";
import { makeObject, type PObject } from "../protocol/pobject.js";
import { pv, bytesOf, numberOf, type PValue } from "../protocol/pvalue.js";
import { responseIntegrityId, type ItemError, type ItemValue } from "../protocol/messages/common.js";
import { makeDeleteObjectResponse } from "../protocol/messages/deleteObject.js";
import { decodeLegitimationPayload } from "../protocol/messages/legitimation.js";
import type { ItemAddress } from "../protocol/address.js";
import { decryptLegitimation, legacyLegitimationResponse, legitimationKey, sha1 } from "../protocol/legitimation.js";
import type { TagTable } from "./tag-table.js";
import type { ControllerModel } from "./controller.js";
import { parseSubscriptionRequest, makeSubscriptionResponse } from "../protocol/messages/subscription.js";
import type { SessionSubscriptions } from "./subscriptions.js";
import type { SessionAlarms } from "./alarms.js";
import { parseAlarmAckRequest, parseAlarmSubscriptionRequest, AlarmIds } from "../protocol/messages/alarm.js";

/** Low-16-bit codes used in answers. */
const Code = {
  ServiceUnknownRequest: -119,
  ServiceInvalidSession: -106,
  AccessDenied: -100,
  ObjectNotFound: -12,
  InvalidLID: -255,
  TooManyItems: -4,
} as const;

/** A ReturnValue with error bit 63 and the code in the low 16 bits (upper bits as a real CPU's). */
export function errorReturnValue(code: number): bigint {
  return 0x8000_0000_0000_0000n | (BigInt(code) & 0xffffn);
}
const OBJECT_NOT_FOUND_EXPLORE = 0x8020ab001992fff4n;

const FLAGS_SESSION = 0x36;
const FLAGS_DEFAULT = 0x34;

export interface SessionAnswer {
  version: number;
  pdu: Buffer;
}

/** What the session needs from its connection. */
export interface SessionPeer {
  exportKeyingMaterial(length: number, label: string): Buffer;
}

/** The session's subscriptions and whether a write on the session resets them. */
export interface SessionSubscriptionHooks {
  subscriptions: SessionSubscriptions;
  resetOnWrite(): boolean;
  /** Alarm subscriptions, the active list and acknowledgements (alarms.ts). */
  alarms?: SessionAlarms;
}

export class SimulatedSession {
  readonly sessionId: number;
  readonly sessionId2: number;
  private created = false;
  private setUp = false;
  private level: number;
  private challenge: Buffer | undefined;
  private attempts = 0;
  /** Set when the client deleted its own session: the connection closes after the answer. */
  ended = false;

  constructor(
    private readonly model: ControllerModel,
    private readonly table: TagTable,
    private readonly peer: SessionPeer,
    ids: { sessionId: number },
    private readonly subs?: SessionSubscriptionHooks,
  ) {
    this.sessionId = ids.sessionId;
    this.sessionId2 = ids.sessionId + 1;
    this.level = model.password ? model.protectionLevel : 1;
  }

  get effectiveProtectionLevel(): number {
    return this.level;
  }

  /** Handles one request PDU; returns the answer, or undefined when none is due. */
  handle(version: number, pdu: Buffer): SessionAnswer | undefined {
    const decoded = decodePdu(pdu); // a DecodeError closes the connection (Simulator)
    if (decoded.kind !== "request") return undefined;
    const header = decoded.header;
    const message = decoded.message;
    this.model.countRequest(message.service === "Other" ? `0x${header.functionCode.toString(16)}` : message.service);
    if (header.transportFlags === 0x74) {
      // No reply wanted (docs/SIMULATOR.md §6 rule 7); a credit top-up still takes effect (docs/PROTOCOL.md §24.2).
      if (message.service === "SetVariable" && this.created && header.sessionId === this.sessionId) this.setVariable(message.body.inObjectId, message.body.address, message.body.value);
      return undefined;
    }
    const answerVersion = version === ProtocolVersion.V1 ? ProtocolVersion.V1 : ProtocolVersion.V2;
    const respond = (m: ResponseMessage, flags = FLAGS_DEFAULT): SessionAnswer => ({
      version: answerVersion,
      pdu: encodeResponse({ functionCode: header.functionCode, sequenceNumber: header.sequenceNumber, transportFlags: flags }, m),
    });
    const iid = (m: { integrityId?: number }): number => responseIntegrityId(header.sequenceNumber, m.integrityId ?? 0);

    if (message.service === "CreateObject" && !this.created) {
      if (header.sessionId !== Ids.ObjectNullServerSession) return this.errorAnswer(header, answerVersion, Code.ServiceInvalidSession);
      this.created = true;
      return respond(
        {
          service: "CreateObject",
          body: { returnValue: 0n, objectIds: [this.sessionId, this.sessionId2], objects: [this.sessionObject()] },
        },
        FLAGS_SESSION,
      );
    }
    if (!this.created || header.sessionId !== this.sessionId) return this.errorAnswer(header, answerVersion, Code.ServiceInvalidSession);

    switch (message.service) {
      case "SetMultiVariables": {
        const body = message.body;
        if (body.inObjectId === this.sessionId) {
          this.setUp = true;
          return respond({ service: "SetMultiVariables", body: { returnValue: 0n, errors: [], integrityId: 0 } });
        }
        if (!this.setUp) return respond({ service: "SetMultiVariables", body: { returnValue: errorReturnValue(Code.ServiceInvalidSession), errors: [], integrityId: iid(body) } });
        if (this.subs?.resetOnWrite() === true) this.subs.subscriptions.resetByWrite();
        return respond({ service: "SetMultiVariables", body: { ...this.write(body.addresses as ItemAddress[], body.values), integrityId: iid(body) } });
      }
      case "GetMultiVariables": {
        const body = message.body;
        const result = this.read(body.addresses as ItemAddress[]);
        return respond({ service: "GetMultiVariables", body: { ...result, integrityId: iid(body) } });
      }
      case "Explore": {
        const body = message.body;
        if (body.exploreId === AlarmIds.AlarmSubsystem && body.exploreRequestId === AlarmIds.UpdateRelevantDAI && this.subs?.alarms !== undefined) {
          return respond({ service: "Explore", body: { returnValue: 0n, objectId: Ids.ObjectRoot, integrityId: iid(body), objects: this.subs.alarms.activeObjects() } });
        }
        const objects = this.explore(body.exploreId, body.attributeIds);
        if (objects === undefined) {
          return respond({ service: "Explore", body: { returnValue: OBJECT_NOT_FOUND_EXPLORE, objectId: 0, integrityId: iid(body), objects: [] } });
        }
        return respond({ service: "Explore", body: { returnValue: 0n, objectId: body.exploreId === Ids.PLCProgram ? Ids.ASRoot : Ids.ObjectRoot, integrityId: iid(body), objects } });
      }
      case "GetVarSubStreamed": {
        const body = message.body;
        const value = this.sessionAttribute(body.inObjectId, body.addresses[0] ?? 0);
        if (value === undefined) return respond({ service: "GetVarSubStreamed", body: { returnValue: errorReturnValue(Code.ObjectNotFound), value: pv.null(), integrityId: iid(body) } });
        return respond({ service: "GetVarSubStreamed", body: { returnValue: 0n, value, integrityId: iid(body) } });
      }
      case "SetVariable": {
        const body = message.body;
        const ack = this.subs?.alarms === undefined ? undefined : parseAlarmAckRequest(body);
        if (ack !== undefined) return respond({ service: "SetVariable", body: { returnValue: this.subs!.alarms!.acknowledge(ack) ? 0n : errorReturnValue(Code.ObjectNotFound), integrityId: iid(body) } });
        return respond({ service: "SetVariable", body: { returnValue: this.setVariable(body.inObjectId, body.address, body.value), integrityId: iid(body) } });
      }
      case "DeleteObject": {
        const body = message.body;
        const own = body.objectId === this.sessionId;
        if (own) this.ended = true;
        const subs = this.subs?.subscriptions;
        if (own || body.objectId === this.sessionId2) {
          subs?.deleteAll();
          this.subs?.alarms?.deleteAll();
        } else if (subs?.has(body.objectId) === true) subs.delete(body.objectId);
        else if (this.subs?.alarms?.has(body.objectId) === true) this.subs.alarms.delete(body.objectId);
        else if (body.objectId !== this.sessionId2) {
          return respond({
            service: "DeleteObject",
            body: makeDeleteObjectResponse({ objectId: body.objectId, ownSession: false, sequenceNumber: header.sequenceNumber, returnValue: errorReturnValue(Code.ObjectNotFound), ...(body.integrityId === undefined ? {} : { requestIntegrityId: body.integrityId }) }),
          });
        }
        return respond({
          service: "DeleteObject",
          body: makeDeleteObjectResponse({ objectId: body.objectId, ownSession: own, sequenceNumber: header.sequenceNumber, ...(body.integrityId === undefined ? {} : { requestIntegrityId: body.integrityId }) }),
        });
      }
      case "SetVarSubStreamed":
        return respond({ service: "SetVarSubStreamed", body: { returnValue: errorReturnValue(Code.ObjectNotFound), integrityId: iid(message.body) } });
      case "CreateObject": {
        const body = message.body;
        const alarmSpec = body.requestId === this.sessionId2 && this.subs?.alarms !== undefined ? parseAlarmSubscriptionRequest(body) : undefined;
        if (alarmSpec !== undefined) return respond({ service: "CreateObject", body: makeSubscriptionResponse(this.subs!.alarms!.subscribe(alarmSpec.languages), iid(body)) });
        const spec = body.requestId === this.sessionId2 && this.subs !== undefined ? parseSubscriptionRequest(body) : undefined;
        if (spec === undefined || this.subs === undefined) {
          return respond({ service: "CreateObject", body: { returnValue: errorReturnValue(Code.ServiceUnknownRequest), objectIds: [], objects: [], integrityId: iid(body) } });
        }
        const created = this.subs.subscriptions.create(spec);
        if ("code" in created) return respond({ service: "CreateObject", body: makeSubscriptionResponse(0, iid(body), errorReturnValue(created.code)) });
        return respond({ service: "CreateObject", body: makeSubscriptionResponse(created.id, iid(body)) });
      }
      default:
        return this.errorAnswer(header, answerVersion, Code.ServiceUnknownRequest, header.functionCode);
    }
  }

  private errorAnswer(header: RequestHeader, version: number, code: number, functionCode: number = FunctionCode.Error): SessionAnswer {
    const rv = errorReturnValue(code);
    const body: ResponseMessage =
      functionCode === FunctionCode.Error
        ? { service: "Error", body: { returnValue: rv, integrityId: 0 } }
        : { service: "Other", body: unknownServiceBody(rv) };
    return { version, pdu: encodeResponse({ functionCode, sequenceNumber: header.sequenceNumber, transportFlags: FLAGS_DEFAULT }, body) };
  }

  private sessionObject(): PObject {
    const m = this.model;
    const paom = m.paom;
    return makeObject(Ids.ObjectNullServerSession, Ids.ClassServerSession, [
      [Ids.ObjectVariableTypeName, pv.wstring("")],
      [
        Ids.ServerSessionVersion,
        pv.struct(Ids.ServerSessionVersionStruct, [
          [Ids.SystemOMS, pv.udint(320)],
          [Ids.ProjectOMS, pv.udint(320)],
          [Ids.SystemPAOM, pv.udint(0x804040)],
          [Ids.ProjectPAOM, pv.udint(0x804040)],
          [Ids.SystemPAOMString, pv.wstring(paom)],
          [Ids.ProjectPAOMString, pv.wstring(paom)],
          [Ids.ProjectFormat, pv.uint(3)],
        ]),
      ],
    ]);
  }

  private sessionAttribute(objectId: number, attribute: number): PValue | undefined {
    if (objectId === Ids.ObjectRoot && attribute === Ids.SystemLimits) return systemLimits(this.model.readMax, this.model.writeMax);
    if (objectId === Ids.CPUcommon && attribute === Ids.CPUProtectionLevel) return pv.dint(this.model.protectionLevel);
    if (objectId !== this.sessionId) return undefined;
    if (attribute === Ids.EffectiveProtectionLevel) return pv.udint(this.level);
    if (attribute === Ids.ServerSessionChallenge) {
      this.challenge = randomBytes(20);
      return pv.usintArray(this.challenge);
    }
    return undefined;
  }

  /** Legitimation (docs/SIMULATOR.md §14a) and the operating-state request. */
  private setVariable(objectId: number, address: number, value: PValue): bigint {
    if (objectId === Ids.CPUexecUnit && address === Ids.OperatingStateREQ) {
      if (this.level !== 1) return errorReturnValue(Code.AccessDenied);
      const requested = numberOf(value);
      if (requested === 1) this.model.setRunState("STOP");
      else if (requested === 3) this.model.setRunState("RUN");
      return 0n;
    }
    if (address === Ids.SubscriptionCreditLimit && this.subs?.subscriptions.has(objectId) === true) {
      const limit = numberOf(value);
      if (limit === undefined || !Number.isInteger(limit) || limit < -1) return errorReturnValue(Code.InvalidLID);
      this.subs.subscriptions.setCreditLimit(objectId, limit);
      return 0n;
    }
    if (objectId !== this.sessionId) return errorReturnValue(Code.ObjectNotFound);
    const password = this.model.password;
    if (password === undefined || this.challenge === undefined) return errorReturnValue(Code.AccessDenied);
    let ok = false;
    if (address === Ids.ServerSessionResponse) {
      const got = bytesOf(value);
      ok = got !== undefined && got.equals(legacyLegitimationResponse(password, this.challenge));
    } else if (address === Ids.Legitimate) {
      this.attempts++;
      const cipher = bytesOf(value);
      try {
        const key = legitimationKey(this.peer.exportKeyingMaterial(32, "EXPERIMENTAL_OMS"), this.attempts);
        const plain = decodeLegitimationPayload(decryptLegitimation(cipher ?? Buffer.alloc(0), key, this.challenge));
        ok =
          plain.type === 1
            ? plain.password.equals(sha1(Buffer.from(password, "utf8")))
            : plain.type === 2 && plain.username.toString("utf8") === (this.model.username ?? "") && plain.password.toString("utf8") === password;
      } catch {
        ok = false;
      }
    } else return errorReturnValue(Code.ObjectNotFound);
    if (!ok) return errorReturnValue(Code.AccessDenied);
    this.level = 1;
    return 0n;
  }

  private read(addresses: ItemAddress[]): { returnValue: bigint; values: ItemValue[]; errors: ItemError[] } {
    if (addresses.length > this.model.readMax) return { returnValue: 0xa027a6000054fffcn, values: [], errors: [] };
    const values: ItemValue[] = [];
    const errors: ItemError[] = [];
    addresses.forEach((a, i) => {
      const r = this.model.readItem(this.table, a, this.level);
      if (typeof r === "number") errors.push({ itemNumber: i + 1, returnValue: errorReturnValue(r) });
      else values.push({ itemNumber: i + 1, value: r });
    });
    this.model.countItems("read", addresses.length);
    return { returnValue: 0n, values, errors };
  }

  private write(addresses: ItemAddress[], items: ItemValue[]): { returnValue: bigint; errors: ItemError[] } {
    if (addresses.length > this.model.writeMax) return { returnValue: 0xa027a6000054fffcn, errors: [] };
    const errors: ItemError[] = [];
    addresses.forEach((a, i) => {
      const item = items.find((v) => v.itemNumber === i + 1);
      const code = item === undefined ? Code.InvalidLID : this.model.writeItem(this.table, a, item.value, this.level);
      if (code !== 0) errors.push({ itemNumber: i + 1, returnValue: errorReturnValue(code) });
    });
    this.model.countItems("write", addresses.length);
    return { returnValue: 0n, errors };
  }

  private explore(id: number, attributeIds: number[]): PObject[] | undefined {
    return this.model.explore(this.table, id, attributeIds);
  }
}

/**
 * The system limits as one sparse DInt array, laid out as an S7-1511 answers a
 * GetVarSubStreamed of object 201 attribute 1037 (capture S7-1511-opc-request-
 * all-types); keys 1001/1002 carry the items per read / write request.
 */
function systemLimits(readMax: number, writeMax: number): PValue {
  const entries: [number, number][] = [
    [1, 250], [2, 2000], [3, 204800], [11, 20], [12, 54], [13, 10240], [21, 50], [22, 0], [23, 10240], [31, 10],
    [32, 120], [33, 10240], [41, 2], [42, 25], [43, 10240], [201, 110], [1001, readMax], [1002, writeMax], [2001, 4], [2002, 4],
  ];
  return { kind: "sparse", flags: 0x40, datatype: "DInt", entries: entries.map(([key, value]) => ({ key, value: { type: "DInt" as const, value } })) };
}

/** Body of an answer to an unknown function: ReturnValue, IntegrityId 0, fill (docs/SIMULATOR.md §6 rule 8). */
function unknownServiceBody(returnValue: bigint): Buffer {
  return new ByteWriter(16).vlqU64(returnValue).vlqU32(0).zeros(4).toBuffer();
}
