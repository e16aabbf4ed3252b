/** The connection of the commands that wait for pushed data (watch, alarms): it reconnects like a flow's. */
import { ControllerConnection } from "../client/controller-connection.js";
import type { ControllerTarget } from "./connection-options.js";

export function pushConnection(target: ControllerTarget): ControllerConnection {
  return new ControllerConnection(
    {
      name: target.host,
      host: target.host,
      port: target.port,
      accessPoint: "",
      forceConnectionState: 1,
      useAlternativeAddress: 0,
      alternativeAddress: "",
      connectTimeoutMs: target.timeoutMs,
      requestTimeoutMs: target.timeoutMs,
      reconnectMinMs: 1000,
      reconnectMaxMs: 30_000,
      ...(target.password === undefined ? {} : { password: target.password }),
    },
    { verifier: target.verifier },
  );
}
