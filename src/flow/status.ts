/** The node status for a connection state (SPEC §2, NODE-RED-NOTES §3 status). */
import type { ConnectionStatus } from "../client/connection-manager.js";
import type { SessionInfo } from "../client/results.js";

export interface NodeStatus {
  fill?: "red" | "green" | "yellow" | "blue" | "grey";
  shape?: "ring" | "dot";
  /** A message-catalogue key under `<node-type>.status.`. */
  key?: string;
  /** Interpolation values for the key. */
  params?: Record<string, string>;
}

export function connectionNodeStatus(status: ConnectionStatus<SessionInfo>): NodeStatus {
  switch (status.state) {
    case "closed":
      return {};
    case "connecting":
      return { fill: "yellow", shape: "ring", key: "connecting" };
    case "connected": {
      const info = status.info;
      const version = info?.tlsVersion.replace("TLSv", "") ?? "";
      const expired = info?.verdict.warnings.some((w) => w.code === "EXPIRED" || w.code === "NOT_YET_VALID") ?? false;
      return expired
        ? { fill: "yellow", shape: "dot", key: "expired" }
        : { fill: "green", shape: "dot", key: "connected", params: { version } };
    }
    case "disconnected":
      if (status.systemTags.ForceConnectionState === 0) return { fill: "grey", shape: "ring", key: "forcedOff" };
      return { fill: "red", shape: "ring", key: "disconnected" };
    case "reconnect-wait": {
      const code = status.lastError?.code;
      if (code === "ERR_S7_UNTRUSTED") return { fill: "yellow", shape: "ring", key: "untrusted" };
      if (code === "ERR_S7_EXPIRED" || code === "ERR_S7_NOT_YET_VALID") return { fill: "red", shape: "ring", key: "expired" };
      return { fill: "red", shape: "ring", key: "reconnecting" };
    }
  }
}
