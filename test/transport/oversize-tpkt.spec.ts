/**
 * TPKT length policy over real sockets (docs/RELIABILITY-MATRIX.md "TPKT length above
 * 8 KiB…"): a controller that ignores the negotiated TPDU size and packs
 * several records into one large DT is accepted with one warning per
 * connection up to 8 KiB, and refused above.
 */
import { strict as assert } from "node:assert";
import * as net from "node:net";
import { S7Error } from "../../src/errors.js";
import { openSecureChannel } from "../../src/transport/client-channel.js";
import { acceptSecureChannel } from "../../src/transport/server-channel.js";
import type { SecureChannel } from "../../src/transport/secure-channel.js";
import { TpktParser, encodeTpkt } from "../../src/transport/tpkt.js";
import { decodeDt, encodeDt } from "../../src/transport/cotp.js";
import { selfSignedCertificate, type TestCertificate } from "../support/certs.js";
import { PinnedVerifier } from "../support/pinned-verifier.js";

/**
 * Relays client ↔ echo server; once `coalesce(records, packetPayload)` is called, the DT payloads
 * of the next `records` TLS records from the server are re-cut into DTs of `packetPayload` bytes
 * (the last one shorter), as a server that ignores the negotiated size would send them.
 */
class CoalescingRelay {
  private readonly sockets = new Set<net.Socket>();
  private plan: { records: number; payload: number } | undefined;
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(target: number): Promise<CoalescingRelay> {
    let relay: CoalescingRelay | undefined;
    const server = net.createServer((client) => relay!.relay(client, target));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    relay = new CoalescingRelay(server, (server.address() as net.AddressInfo).port);
    return relay;
  }

  coalesce(records: number, payload: number): void {
    this.plan = { records, payload };
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private relay(client: net.Socket, target: number): void {
    const upstream = net.connect(target, "127.0.0.1");
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("data", (b: Buffer) => upstream.write(b));
    const parser = new TpktParser();
    let held = Buffer.alloc(0);
    let recordLeft = 0; // bytes of the current record still to come
    let recordsDone = 0;
    upstream.on("data", (chunk: Buffer) => {
      for (const tpdu of parser.push(chunk)) {
        const plan = this.plan;
        if (plan === undefined) {
          client.write(encodeTpkt(tpdu));
          continue;
        }
        const { payload } = decodeDt(tpdu);
        held = Buffer.concat([held, payload]);
        // Count complete records in what was held so far (DT payloads are the record stream).
        for (let off = held.length - payload.length; off < held.length; ) {
          if (recordLeft === 0) {
            recordLeft = 5 + held.readUInt16BE(off + 3);
          }
          const n = Math.min(recordLeft, held.length - off);
          recordLeft -= n;
          off += n;
          if (recordLeft === 0) recordsDone++;
        }
        if (recordsDone === plan.records && recordLeft === 0) {
          for (let off = 0; off < held.length; off += plan.payload) client.write(encodeTpkt(encodeDt(held.subarray(off, off + plan.payload))));
          held = Buffer.alloc(0);
          recordsDone = 0;
          this.plan = undefined;
        }
      }
    });
  }
}

describe("transport: TPKT packets above the negotiated size, over 127.0.0.1", function () {
  this.timeout(20_000);
  let cert: TestCertificate;
  let echo: net.Server;
  let echoPort: number;
  const serverSockets = new Set<net.Socket>();
  before(async () => {
    cert = selfSignedCertificate({ commonName: "PLC_BIG_TPKT" });
    echo = net.createServer((socket) => {
      serverSockets.add(socket);
      acceptSecureChannel(socket, { key: cert.keyPem, cert: cert.certPem, plc: "echo", handshakeTimeoutMs: 3000 }).then(
        (channel) => {
          channel.on("pdu", (version: number, pdu: Buffer) => channel.sendPdu(version, pdu));
          channel.start();
        },
        () => socket.destroy(),
      );
    });
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
    echoPort = (echo.address() as net.AddressInfo).port;
  });
  after(async () => {
    for (const s of serverSockets) s.destroy();
    await new Promise<void>((r) => echo.close(() => r()));
  });

  async function connect(relay: CoalescingRelay): Promise<{ channel: SecureChannel; warnings: string[] }> {
    const channel = await openSecureChannel({ host: "127.0.0.1", port: relay.port, plc: "PLC1", verifier: new PinnedVerifier(cert.fingerprint256), connectTimeoutMs: 5000 });
    const warnings: string[] = [];
    channel.on("warning", (w: string) => warnings.push(w));
    channel.start();
    // One small round trip first: whatever the server sends after its handshake (tickets) is then
    // behind us, so the relay's record count covers the echo alone.
    assert.equal((await echoOf(channel, Buffer.from("ping"))).toString(), "ping");
    return { channel, warnings };
  }

  function echoOf(channel: SecureChannel, pdu: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      channel.once("pdu", (_v: number, got: Buffer) => resolve(got));
      channel.once("close", (err?: S7Error) => reject(err ?? new Error("closed")));
      channel.sendPdu(2, pdu);
    });
  }

  it("DTs of 2 993 and then 8 185 bytes (TPKT up to 8 KiB) → accepted, one warning for the connection", async () => {
    const relay = await CoalescingRelay.start(echoPort);
    try {
      const { channel, warnings } = await connect(relay);
      const pdu = Buffer.alloc(5000, 0x5a);
      relay.coalesce(6, 2993); // 5 000 bytes come back as six fragments / records
      assert.ok((await echoOf(channel, pdu)).equals(pdu));
      const big = Buffer.alloc(20_000, 0x33);
      relay.coalesce(21, 8185); // TPKT of exactly 8 192 bytes
      assert.ok((await echoOf(channel, big)).equals(big));
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.match(warnings[0]!, /TPKT packet of 3000 bytes, above the negotiated 1028/);
      assert.equal(channel.isClosed, false);
      await channel.close();
    } finally {
      await relay.stop();
    }
  });

  it("a DT in a TPKT above 8 KiB → the connection ends with a protocol error", async () => {
    const relay = await CoalescingRelay.start(echoPort);
    try {
      const { channel } = await connect(relay);
      relay.coalesce(21, 8186); // TPKT of 8 193 bytes
      await assert.rejects(echoOf(channel, Buffer.alloc(20_000, 0x44)), (err: unknown) => err instanceof S7Error && err.code === "ERR_S7_PROTOCOL" && /TPKT length 8193 exceeds the 8192-byte limit/.test(err.message));
      assert.equal(channel.isClosed, true);
    } finally {
      await relay.stop();
    }
  });
});
