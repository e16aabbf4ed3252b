/**
 * The controller side of a secure channel (docs/SIMULATOR.md §2–§5): accepts the
 * COTP CR (parameters in any order, the SIMATIC-ROOT TSAPs), answers the CC
 * exactly like a real CPU (c0, c1, c2, calling TSAP echoed), answers InitSsl
 * in one plaintext DT, then runs the TLS server over the COTP Duplex. Any
 * violation closes the socket; nothing is thrown out of a socket handler.
 */
import type { Socket } from "node:net";
import * as tls from "node:tls";
import { ConnectionError, ProtocolError, S7Error, TimeoutError, TlsError } from "../errors.js";
import { DEFAULT_TPDU_SIZE_CODE, PduType, TSAP, decodeConnectionTpdu, encodeConnectionTpdu, encodeDt, tpduSizeBytes, tpduType } from "./cotp.js";
import { CotpLink, nextDtUnit, nextTpdu } from "./cotp-link.js";
import { CotpDuplex } from "./cotp-duplex.js";
import { decodeInitSslRequest, encodeInitSslResponse } from "./initssl.js";
import { SecureChannel } from "./secure-channel.js";
import { serverContext, type TlsVersionName } from "./tls-settings.js";
import { TPKT_HARD_LIMIT, TPKT_HEADER } from "./tpkt.js";
import type { FramingStats } from "./framing-stats.js";

export interface AcceptChannelOptions {
  /** PEM private key and certificate (chain allowed). */
  key: string;
  cert: string;
  tlsVersions?: TlsVersionName[];
  /** TLS 1.2 cipher list override (tests of refused suites). */
  ciphers?: string;
  /** Deadline for CR, InitSsl and the handshake (default 10 s). */
  handshakeTimeoutMs?: number;
  maxPduBytes?: number;
  /** Name for messages. */
  plc?: string;
  /** Own COTP source reference (a real CPU counts them up per connection). */
  sourceRef?: number;
  /** Answer InitSsl with this ReturnValue (negative = a controller without Secure Communication). */
  initSslReturnValue?: bigint;
  /** Counters of the DTs and TLS records received under TLS, added to (diagnostics). */
  framingStats?: FramingStats;
  hooks?: {
    /** Runs after InitSsl, before the TLS server starts (fault injection: stall the handshake). */
    beforeTls?(): Promise<void>;
  };
}

const ACCEPTED_TSAPS: ReadonlySet<string> = new Set(Object.values(TSAP));

export async function acceptSecureChannel(socket: Socket, options: AcceptChannelOptions): Promise<SecureChannel> {
  const plc = options.plc ?? "simulator";
  // Until the CC, the hard limit; then the negotiated size (longer packets are tolerated with a warning, docs/SIMULATOR.md §2).
  const link = new CotpLink(socket, { plc, maxPacket: TPKT_HARD_LIMIT });
  socket.setNoDelay(true);
  const deadline = options.handshakeTimeoutMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  let phase = "COTP connection request";
  const failure = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`client silent during ${phase} for ${deadline} ms`, { plc })), deadline);
    link.once("end", (err?: S7Error) => reject(err ?? new ConnectionError("ERR_S7_CONNECTION_CLOSED", `client left during ${phase}`, { plc })));
  });
  failure.catch(() => undefined);
  let tlsSocket: tls.TLSSocket | undefined;
  try {
    const cr = await Promise.race([failure, nextTpdu(link)]);
    if (tpduType(cr) !== PduType.CR) throw new ProtocolError(`expected a COTP connection request, got 0x${cr[1]!.toString(16)}`, { plc });
    const request = decodeConnectionTpdu(cr);
    const called = request.calledTsap?.toString("ascii") ?? "";
    if (!ACCEPTED_TSAPS.has(called)) throw new ProtocolError(`unknown called TSAP "${called}"`, { plc });
    const asked = request.tpduSizeCode ?? DEFAULT_TPDU_SIZE_CODE;
    const sizeCode = Math.min(asked, DEFAULT_TPDU_SIZE_CODE);
    link.send(
      encodeConnectionTpdu({
        type: "CC",
        dstRef: request.srcRef,
        srcRef: options.sourceRef ?? 1,
        classOption: 0,
        tpduSizeCode: sizeCode,
        ...(request.callingTsap ? { callingTsap: request.callingTsap } : {}),
        ...(request.calledTsap ? { calledTsap: request.calledTsap } : {}),
        order: [],
      }),
    );
    link.setMaxPacket(tpduSizeBytes(sizeCode) + TPKT_HEADER);

    phase = "InitSsl";
    const frame = await Promise.race([failure, nextDtUnit(link, "the InitSsl request")]);
    const init = decodeInitSslRequest(frame);
    const returnValue = options.initSslReturnValue ?? 0n;
    link.send(encodeDt(encodeInitSslResponse(init.sequence, returnValue)));
    if (returnValue !== 0n && BigInt.asIntN(16, returnValue) < 0n) {
      throw new ConnectionError("ERR_S7_NO_TLS", "configured without Secure Communication: InitSsl refused", { plc });
    }
    if (options.hooks?.beforeTls) await Promise.race([failure, options.hooks.beforeTls()]);

    phase = "TLS handshake";
    // The context first: a key or certificate TLS refuses then fails this connection before a
    // Duplex exists whose 'error' nobody would listen to.
    let secureContext: tls.SecureContext;
    try {
      secureContext = serverContext({ key: options.key, cert: options.cert, versions: options.tlsVersions ?? ["TLSv1.3"], ...(options.ciphers ? { ciphers: options.ciphers } : {}) });
    } catch (err) {
      const e = err as Error & { code?: string };
      throw new TlsError(`TLS cannot serve this certificate and key: ${e.message}`, e.code, { plc });
    }
    const duplex = new CotpDuplex(link, tpduSizeBytes(sizeCode), undefined, options.framingStats);
    tlsSocket = new tls.TLSSocket(duplex, { isServer: true, secureContext, requestCert: false });
    const secured = tlsSocket;
    await Promise.race([
      failure,
      new Promise<void>((resolve, reject) => {
        secured.once("secure", () => resolve());
        secured.once("error", (err: Error & { code?: string; reason?: string }) => reject(link.error ?? new TlsError(`TLS handshake failed: ${err.reason ?? err.message}`, err.code, { plc })));
      }),
    ]);
    return new SecureChannel({
      plc,
      role: "server",
      tls: secured,
      link,
      maxDtPayload: duplex.maxPayload,
      framing: duplex.framing,
      remote: { host: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 },
      ...(options.maxPduBytes === undefined ? {} : { maxPduBytes: options.maxPduBytes }),
    });
  } catch (err) {
    tlsSocket?.destroy();
    link.fail(err instanceof S7Error ? err : new ProtocolError(String(err), { plc }));
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
