/** Wires the transport under the client: the channel opener the controller sessions use. */
import { openSecureChannel } from "../transport/client-channel.js";
import type { ChannelOpener } from "./controller-session.js";

export const openVerifiedChannel: ChannelOpener = (r) =>
  openSecureChannel({
    host: r.host,
    port: r.port,
    plc: r.plc,
    verifier: r.verifier,
    connectTimeoutMs: r.connectTimeoutMs,
    accessPoint: r.accessPoint,
    signal: r.signal,
  });
