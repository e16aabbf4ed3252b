/** A client session to a simulator on 127.0.0.1, pinned to its certificate. */
import { ControllerSession } from "../../src/client/controller-session.js";
import type { Simulator } from "../../src/simulator/simulator.js";
import { PinnedVerifier } from "../support/pinned-verifier.js";

export function openSession(sim: Simulator, requestTimeoutMs = 5000): Promise<ControllerSession> {
  return ControllerSession.open(
    { host: "127.0.0.1", port: sim.port, accessPoint: "" },
    { plc: sim.name, verifier: new PinnedVerifier(sim.fingerprint256), connectTimeoutMs: 5000, requestTimeoutMs },
    new AbortController().signal,
  );
}
