/** A ControllerConnection to 127.0.0.1 with short test timings; `extra` overrides any setting. */
import { ControllerConnection, type ControllerConnectionConfig } from "../../src/client/controller-connection.js";
import type { CertificateVerifier } from "../../src/transport/verifier.js";

export function testConnection(port: number, verifier: CertificateVerifier, extra: Partial<ControllerConnectionConfig> = {}): ControllerConnection {
  return new ControllerConnection(
    {
      name: "PLC1",
      host: "127.0.0.1",
      port,
      accessPoint: "",
      forceConnectionState: 1,
      useAlternativeAddress: 0,
      alternativeAddress: "",
      connectTimeoutMs: 3000,
      requestTimeoutMs: 1000,
      reconnectMinMs: 50,
      reconnectMaxMs: 400,
      ...extra,
    },
    { verifier },
  );
}
