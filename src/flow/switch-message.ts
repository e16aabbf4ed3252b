/**
 * s7-switch-connection: the system tags as message payloads (docs/NODES.md §2).
 *
 * In: `msg.topic` = a system tag (`@PLC1@ForceConnectionState` or just
 * `ForceConnectionState`) with the value in `msg.payload`; or `msg.payload`
 * = `{ ForceConnectionState?, UseAlternativeAddress?, AlternativeAddress? }`;
 * or the action `"switch"` / `"switchBack"` in `msg.action` or `msg.payload`.
 * Out: the three tags, the state, the address, TLS and the certificate.
 */
import { ValueError } from "../errors.js";
import { SYSTEM_TAG_NAMES, parseTagName, type SystemTagName } from "../tags/tag-name.js";
import type { ConnectionStatus } from "../client/controller-connection.js";

export type SwitchCommand =
  | { kind: "action"; action: "switch" | "switchBack" }
  | { kind: "set"; values: Array<[SystemTagName, unknown]> }
  | { kind: "query" };

const ACTIONS: Record<string, "switch" | "switchBack"> = { switch: "switch", switchback: "switchBack" };

function systemTagName(key: string): SystemTagName | undefined {
  return SYSTEM_TAG_NAMES.find((t) => t.toLowerCase() === key.toLowerCase());
}

/**
 * Values of an object applied in an order that makes every combination mean
 * what it says: the address first, then a disconnect, the address selection,
 * and a connect last.
 */
function ordered(values: Map<SystemTagName, unknown>): Array<[SystemTagName, unknown]> {
  const out: Array<[SystemTagName, unknown]> = [];
  const force = values.get("ForceConnectionState");
  const forceOff = force === 0 || force === "0" || force === false;
  if (values.has("AlternativeAddress")) out.push(["AlternativeAddress", values.get("AlternativeAddress")]);
  if (values.has("ForceConnectionState") && forceOff) out.push(["ForceConnectionState", force]);
  if (values.has("UseAlternativeAddress")) out.push(["UseAlternativeAddress", values.get("UseAlternativeAddress")]);
  if (values.has("ForceConnectionState") && !forceOff) out.push(["ForceConnectionState", force]);
  return out;
}

/** No topic: absent, null, or the empty string an inject node sends by default. */
function hasNoTopic(topic: unknown): boolean {
  return topic === undefined || topic === null || (typeof topic === "string" && topic.trim() === "");
}

export function switchCommandFromMessage(
  msg: { topic?: unknown; payload?: unknown; action?: unknown },
  connectionName: string,
): SwitchCommand {
  const actionText = typeof msg.action === "string" ? msg.action : typeof msg.payload === "string" && hasNoTopic(msg.topic) ? msg.payload : undefined;
  if (actionText !== undefined) {
    const action = ACTIONS[actionText.trim().toLowerCase()];
    if (action === undefined) throw new ValueError(`unknown action "${actionText}" (use "switch" or "switchBack")`);
    return { kind: "action", action };
  }
  if (typeof msg.topic === "string" && msg.topic.trim() !== "") {
    const topic = msg.topic.trim();
    let tag: SystemTagName | undefined;
    if (topic.startsWith("@")) {
      const parsed = parseTagName(topic);
      if (parsed.kind !== "system") throw new ValueError(`msg.topic "${topic}" is not a system tag`);
      if (parsed.connection !== connectionName) {
        throw new ValueError(`msg.topic "${topic}" names connection "${parsed.connection}", but this node uses "${connectionName}"`);
      }
      tag = parsed.tag;
    } else {
      tag = systemTagName(topic);
      if (tag === undefined) throw new ValueError(`msg.topic "${topic}" is not a system tag (use ${SYSTEM_TAG_NAMES.join(", ")})`);
    }
    return { kind: "set", values: [[tag, msg.payload]] };
  }
  const payload = msg.payload;
  if (payload !== null && typeof payload === "object" && !Array.isArray(payload) && !Buffer.isBuffer(payload)) {
    const values = new Map<SystemTagName, unknown>();
    for (const [key, value] of Object.entries(payload)) {
      if (key.toLowerCase() === "action") {
        if (typeof value !== "string" || ACTIONS[value.toLowerCase()] === undefined) throw new ValueError(`unknown action ${JSON.stringify(value)} (use "switch" or "switchBack")`);
        return { kind: "action", action: ACTIONS[value.toLowerCase()]! };
      }
      const tag = systemTagName(key);
      if (tag === undefined) throw new ValueError(`unknown key "${key}" in msg.payload (use ${SYSTEM_TAG_NAMES.join(", ")}, or action)`);
      values.set(tag, value);
    }
    if (values.size === 0) return { kind: "query" };
    return { kind: "set", values: ordered(values) };
  }
  if (payload === undefined || payload === null || payload === "") return { kind: "query" };
  throw new ValueError("msg.payload must be an object of system tags, or \"switch\" / \"switchBack\"");
}

export interface SwitchStatusPayload {
  connection: string;
  ForceConnectionState: 0 | 1;
  UseAlternativeAddress: 0 | 1;
  AlternativeAddress: string;
  state: string;
  address: { host: string; port: number; alternative: boolean };
  tls: { version: string; cipher: string } | null;
  certificate: {
    subject: string;
    issuer: string;
    fingerprint256: string;
    validFrom: string;
    validTo: string;
    selfSigned: boolean;
    expired: boolean;
    trustedBy: string;
    warnings: string[];
  } | null;
  controller: { orderNumber: string; firmware: string; family: string } | null;
  error: string | null;
}

export function switchStatusPayload(connection: string, status: ConnectionStatus, now: Date = new Date()): SwitchStatusPayload {
  const info = status.info;
  const cert = info?.verdict.certificate;
  return {
    connection,
    ...status.systemTags,
    state: status.state,
    address: { host: status.endpoint.host, port: status.endpoint.port, alternative: status.alternative },
    tls: info ? { version: info.tlsVersion, cipher: info.cipher } : null,
    certificate:
      info && cert
        ? {
            subject: cert.subject,
            issuer: cert.issuer,
            fingerprint256: cert.fingerprint256,
            validFrom: cert.validFrom.toISOString(),
            validTo: cert.validTo.toISOString(),
            selfSigned: cert.selfSigned,
            expired: cert.validTo.getTime() < now.getTime(),
            trustedBy: info.verdict.trustedBy === "root-ca" ? "rootCA" : "store",
            warnings: info.verdict.warnings.map((w) => w.message),
          }
        : null,
    controller: info ? { orderNumber: info.identity.orderNumber, firmware: info.identity.firmware, family: info.identity.family } : null,
    error: status.lastError ? status.lastError.message : null,
  };
}
