/** The node status for a connection state (docs/NODES.md §2, docs/NODES.md "Node-RED conventions"). */
import type { ConnectionStatus } from "../client/controller-connection.js";

export interface NodeStatus {
  fill?: "red" | "green" | "yellow" | "blue" | "grey";
  shape?: "ring" | "dot";
  /** A message-catalogue key under `<node-type>.status.`. */
  key?: string;
  /** Interpolation values for the key. */
  params?: Record<string, string>;
}

/** Status keys for connection attempts refused for a reason a person must act on. */
const REFUSAL_KEYS: Readonly<Record<string, string>> = {
  ERR_S7_UNTRUSTED: "untrusted",
  ERR_S7_EXPIRED: "expired",
  ERR_S7_NOT_YET_VALID: "expired",
  ERR_S7_REVOKED: "revoked",
  ERR_S7_ADDRESS_MISMATCH: "addressMismatch",
  ERR_S7_NO_TLS: "downgradeRefused",
};

export function connectionNodeStatus(status: ConnectionStatus): NodeStatus {
  switch (status.state) {
    case "closed":
      return {};
    case "connecting":
      return { fill: "yellow", shape: "ring", key: "connecting" };
    case "connected": {
      const info = status.info;
      const version = info?.tlsVersion.replace("TLSv", "") ?? "";
      const expired = info?.verdict.warnings.some((w) => w.code === "EXPIRED" || w.code === "NOT_YET_VALID") ?? false;
      if (expired) return { fill: "yellow", shape: "dot", key: "expired" };
      if (status.alternative) return { fill: "green", shape: "dot", key: "alternative", params: { name: controllerName(status) } };
      return { fill: "green", shape: "dot", key: "connected", params: { version } };
    }
    case "disconnected":
      if (status.systemTags.ForceConnectionState === 0) return { fill: "grey", shape: "ring", key: "forcedOff" };
      return { fill: "red", shape: "ring", key: "disconnected" };
    case "reconnect-wait": {
      const code = status.lastError?.code;
      const key = code === undefined ? undefined : REFUSAL_KEYS[code];
      if (key === "untrusted") return { fill: "yellow", shape: "ring", key };
      if (key !== undefined) return { fill: "red", shape: "ring", key };
      return { fill: "red", shape: "ring", key: "reconnecting" };
    }
  }
}

/** The controller's name as its certificate gives it (CN), else its address. */
function controllerName(status: ConnectionStatus): string {
  const subject = status.info?.verdict.certificate.subject ?? "";
  const cn = /(?:^|[,/\n]\s*)CN=([^,/\n]+)/.exec(subject)?.[1]?.trim();
  return cn !== undefined && cn !== "" ? cn : status.endpoint.host;
}

/** A node whose last request failed for some of its tags while the connection is up: yellow, with the count. */
export function tagFailureStatus(failed: number, total: number): NodeStatus {
  return { fill: "yellow", shape: "dot", key: "tagsFailed", params: { failed: String(failed), total: String(total) } };
}

/** An s7-switch-connection whose last command was refused (a bad value, an unusable address). */
export const COMMAND_REJECTED_STATUS: NodeStatus = { fill: "red", shape: "ring", key: "commandRejected" };

/**
 * What a flow node shows: its own last problem (failed tags, a rejected
 * command) while the connection is up, else the connection's state.
 */
export function flowNodeStatus(connection: ConnectionStatus, own: NodeStatus | undefined): NodeStatus {
  return own !== undefined && connection.state === "connected" ? own : connectionNodeStatus(connection);
}
