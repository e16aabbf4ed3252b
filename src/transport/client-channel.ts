/**
 * Opens a secure channel to a controller (docs/PROTOCOL.md §2–§4, §11, §12):
 * TCP → COTP CR/CC → InitSsl in clear → TLS over the COTP Duplex → the
 * certificate verifier, all before the first S7CommPlus byte inside TLS.
 * One deadline covers every step; an abort signal cancels at any point.
 * Every failure is a typed S7Error naming the controller.
 */
import * as net from "node:net";
import * as os from "node:os";
import * as tls from "node:tls";
import { ConfigError, ConnectionError, ProtocolError, S7Error, TimeoutError, TlsError, errorCodeName, returnValueCode } from "../errors.js";
import { DEFAULT_CALLING_TSAP, DEFAULT_TPDU_SIZE_CODE, PduType, TSAP, decodeConnectionTpdu, encodeConnectionTpdu, encodeDt, tpduSizeBytes, tpduType } from "./cotp.js";
import { CotpLink, nextDtUnit, nextTpdu } from "./cotp-link.js";
import { CotpDuplex } from "./cotp-duplex.js";
import { decodeInitSslResponse, encodeInitSslRequest } from "./initssl.js";
import { SecureChannel } from "./secure-channel.js";
import { clientContext, type TlsVersionName } from "./tls-settings.js";
import { TPKT_HEADER } from "./tpkt.js";
import type { CertificateVerifier } from "./verifier.js";

export interface OpenChannelOptions {
  host: string;
  port?: number;
  /** Connection name for messages. */
  plc: string;
  verifier: CertificateVerifier;
  /** Deadline for TCP, COTP, InitSsl, TLS and the certificate check together (default 10 s). */
  connectTimeoutMs?: number;
  /** Versions offered; default TLS 1.3 preferred with TLS 1.2 (ECDHE + AES-GCM) accepted. */
  tlsVersions?: TlsVersionName[];
  /** Local interface name or source address; "" or absent = default route. */
  accessPoint?: string;
  remoteTsap?: string;
  tpduSizeCode?: number;
  signal?: AbortSignal;
  maxPduBytes?: number;
}

const SOURCE_REF = 0x0001;
const MIN_TPDU_SIZE_CODE = 7; // 128 bytes

export async function openSecureChannel(options: OpenChannelOptions): Promise<SecureChannel> {
  const plc = options.plc;
  const port = options.port ?? 102;
  const deadlineMs = options.connectTimeoutMs ?? 10_000;
  const versions = options.tlsVersions ?? ["TLSv1.3", "TLSv1.2"];
  const localAddress = resolveAccessPoint(options.accessPoint ?? "", plc);
  if (options.signal?.aborted) throw cancelled(plc);

  let phase = "TCP connect";
  const socket = net.connect({ host: options.host, port, ...(localAddress ? { localAddress } : {}) });
  socket.setNoDelay(true);
  socket.setKeepAlive(true, 15_000);
  const requestedCode = options.tpduSizeCode ?? DEFAULT_TPDU_SIZE_CODE;
  const link = new CotpLink(socket, { plc, maxPacket: tpduSizeBytes(requestedCode) + TPKT_HEADER });
  let tlsSocket: tls.TLSSocket | undefined;

  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  let onLinkEnd: ((err?: S7Error) => void) | undefined;
  const failure = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`no answer from ${options.host}:${port} within ${deadlineMs} ms (${phase})`, { plc, transient: true })), deadlineMs);
    onAbort = () => reject(cancelled(plc));
    options.signal?.addEventListener("abort", onAbort, { once: true });
    onLinkEnd = (err?: S7Error) => reject(err ?? new ConnectionError("ERR_S7_CONNECT", `${options.host}:${port} closed the connection during ${phase}`, { plc, transient: true }));
    link.once("end", onLinkEnd);
  });
  failure.catch(() => undefined);

  try {
    await Promise.race([failure, once(socket, "connect")]);

    phase = "COTP connection request";
    const tsap = Buffer.from(options.remoteTsap ?? TSAP.HMI, "ascii");
    link.send(encodeConnectionTpdu({ type: "CR", dstRef: 0, srcRef: SOURCE_REF, classOption: 0, tpduSizeCode: requestedCode, callingTsap: DEFAULT_CALLING_TSAP, calledTsap: tsap, order: [] }));
    const cc = await Promise.race([failure, nextTpdu(link)]);
    const tpduSize = checkConnectionConfirm(cc, requestedCode, plc);
    link.setMaxPacket(tpduSize + TPKT_HEADER);

    phase = "InitSsl";
    link.send(encodeDt(encodeInitSslRequest()));
    const answer = await Promise.race([failure, nextDtUnit(link, "the InitSsl answer")]);
    let init;
    try {
      init = decodeInitSslResponse(answer);
    } catch (err) {
      throw new ConnectionError("ERR_S7_NO_TLS", `${options.host}:${port} did not answer InitSsl as a controller with Secure Communication (${err instanceof Error ? err.message : String(err)})`, { plc });
    }
    if (returnValueCode(init.returnValue) < 0) {
      const code = returnValueCode(init.returnValue);
      throw new ConnectionError("ERR_S7_NO_TLS", `${options.host}:${port} refused TLS (InitSsl code ${code}${errorCodeName(code)}): Secure PG/HMI communication is not on; no unencrypted fallback`, { plc });
    }

    phase = "TLS handshake";
    const duplex = new CotpDuplex(link, tpduSize);
    tlsSocket = tls.connect({
      socket: duplex,
      secureContext: clientContext(versions),
      rejectUnauthorized: false, // the verifier decides, with the device store
      checkServerIdentity: () => undefined, // the address check is the verifier's
      ...(versions.includes("TLSv1.2") ? {} : { minVersion: "TLSv1.3" as const }),
    });
    const secured = tlsSocket;
    const tlsFailure = new Promise<never>((_, reject) => {
      secured.once("error", (err: Error & { code?: string; reason?: string }) =>
        reject(link.error ?? new TlsError(`TLS handshake with ${options.host}:${port} failed: ${err.reason ?? err.message}`, err.code, { plc })),
      );
    });
    tlsFailure.catch(() => undefined);
    await Promise.race([failure, tlsFailure, once(secured, "secureConnect")]);
    if (secured.isSessionReused()) throw new TlsError("the TLS session was resumed; resumption is never used", "SESSION_REUSED", { plc });
    const protocol = secured.getProtocol();
    if (protocol !== "TLSv1.3" && !(protocol === "TLSv1.2" && versions.includes("TLSv1.2"))) {
      throw new TlsError(`${options.host}:${port} negotiated ${protocol ?? "no TLS version"}; only ${versions.join(" / ")} are accepted`, "UNSUPPORTED_PROTOCOL", { plc });
    }

    phase = "certificate check";
    const channel = new SecureChannel({ plc, role: "client", tls: secured, link, maxDtPayload: duplex.maxPayload, framing: duplex.framing, remote: { host: options.host, port }, ...(options.maxPduBytes === undefined ? {} : { maxPduBytes: options.maxPduBytes }) });
    channel.verdict = await Promise.race([failure, tlsFailure, options.verifier.verify(channel.peerCertificates, { plc, host: options.host, port })]);
    return channel;
  } catch (err) {
    tlsSocket?.destroy();
    link.fail(err instanceof S7Error ? err : new ConnectionError("ERR_S7_CONNECT", String(err), { plc }));
    throw err instanceof S7Error ? err : new ConnectionError("ERR_S7_CONNECT", `connecting to ${options.host}:${port} failed: ${String(err)}`, { plc, transient: true, cause: err });
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener("abort", onAbort);
    // Connected (or failed): the channel hears the link's end from now on.
    if (onLinkEnd) link.off("end", onLinkEnd);
  }
}

function cancelled(plc: string): ConnectionError {
  return new ConnectionError("ERR_S7_CLOSED", "connection attempt cancelled", { plc });
}

function once(emitter: NodeJS.EventEmitter, event: string): Promise<void> {
  return new Promise((resolve) => emitter.once(event, () => resolve()));
}

function checkConnectionConfirm(tpdu: Buffer, requestedCode: number, plc: string): number {
  const type = tpduType(tpdu);
  if (type === PduType.DR) throw new ConnectionError("ERR_S7_CONNECT", "the controller refused the COTP connection (disconnect request)", { plc, transient: true });
  if (type !== PduType.CC) throw new ProtocolError(`expected a COTP connection confirm, got TPDU 0x${tpdu[1]!.toString(16)}`, { plc });
  const cc = decodeConnectionTpdu(tpdu);
  if (cc.dstRef !== SOURCE_REF) throw new ProtocolError(`COTP connection confirm for reference ${cc.dstRef}, expected ${SOURCE_REF}`, { plc });
  const code = cc.tpduSizeCode ?? requestedCode;
  if (code > requestedCode || code < MIN_TPDU_SIZE_CODE) {
    throw new ProtocolError(`the controller confirmed TPDU size code 0x${code.toString(16)}; requested 0x${requestedCode.toString(16)}`, { plc });
  }
  return tpduSizeBytes(code);
}

/** An access point is a local IP address or an interface name (its first IPv4 address). */
function resolveAccessPoint(accessPoint: string, plc: string): string | undefined {
  const ap = accessPoint.trim();
  if (ap === "") return undefined;
  if (net.isIP(ap)) return ap;
  const addresses = os.networkInterfaces()[ap];
  const v4 = addresses?.find((a) => a.family === "IPv4") ?? addresses?.[0];
  if (!v4) throw new ConfigError(`access point "${ap}" is neither a local IP address nor a network interface of this machine`, { plc });
  return v4.address;
}
