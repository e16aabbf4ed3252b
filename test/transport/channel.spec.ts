import { strict as assert } from "node:assert";
import * as net from "node:net";
import { S7Error } from "../../src/errors.js";
import { openSecureChannel } from "../../src/transport/client-channel.js";
import { acceptSecureChannel, type AcceptChannelOptions } from "../../src/transport/server-channel.js";
import type { SecureChannel } from "../../src/transport/secure-channel.js";
import { CotpLink, nextDtUnit, nextTpdu } from "../../src/transport/cotp-link.js";
import { decodeConnectionTpdu, encodeConnectionTpdu, encodeDt, decodeDt } from "../../src/transport/cotp.js";
import { encodeInitSslResponse } from "../../src/transport/initssl.js";
import { selfSignedCertificate, type TestCertificate } from "../support/certs.js";
import { PinnedVerifier } from "../support/pinned-verifier.js";

interface TestServer {
  port: number;
  channels: SecureChannel[];
  errors: unknown[];
  close(): Promise<void>;
}

/** A channel server that echoes every PDU. */
async function echoServer(cert: TestCertificate, extra: Partial<AcceptChannelOptions> = {}): Promise<TestServer> {
  const channels: SecureChannel[] = [];
  const errors: unknown[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    acceptSecureChannel(socket, { key: cert.keyPem, cert: cert.certPem, plc: "echo", handshakeTimeoutMs: 3000, ...extra }).then(
      (channel) => {
        channels.push(channel);
        channel.on("pdu", (version: number, pdu: Buffer) => channel.sendPdu(version, pdu));
        channel.start();
      },
      (err: unknown) => errors.push(err),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    channels,
    errors,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function collect(channel: SecureChannel, count: number): Promise<Buffer[]> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    channel.on("pdu", (_v: number, pdu: Buffer) => {
      got.push(pdu);
      if (got.length === count) resolve(got);
    });
  });
}

describe("transport: secure channel over COTP on 127.0.0.1", function () {

  it("a key that does not belong to the certificate fails the accept with a typed TLS error, never an unhandled 'error'", async () => {
    const a = selfSignedCertificate({ commonName: "KEY_A" });
    const b = selfSignedCertificate({ commonName: "KEY_B" });
    const unhandled: unknown[] = [];
    const onUncaught = (err: unknown): void => void unhandled.push(err);
    process.on("uncaughtException", onUncaught);
    const server = await echoServer(b, { key: a.keyPem });
    try {
      await assert.rejects(openSecureChannel({ host: "127.0.0.1", port: server.port, plc: "PLC", verifier: new PinnedVerifier(b.fingerprint256), connectTimeoutMs: 3000 }), S7Error);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(server.errors.length, 1);
      const err = server.errors[0] as S7Error;
      assert.equal(err.code, "ERR_S7_TLS");
      assert.match(err.message, /TLS cannot serve this certificate and key/);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("uncaughtException", onUncaught);
      await server.close();
    }
  });
  this.timeout(20000);
  let cert: TestCertificate;
  let other: TestCertificate;
  before(() => {
    cert = selfSignedCertificate({ commonName: "PLC_ECHO" });
    other = selfSignedCertificate({ commonName: "PLC_OTHER" });
  });

  it("connects with TLS 1.3, checks the certificate first, and carries large PDUs both ways (fragmentation)", async () => {
    const server = await echoServer(cert);
    const verifier = new PinnedVerifier(cert.fingerprint256);
    try {
      const channel = await openSecureChannel({ host: "127.0.0.1", port: server.port, plc: "PLC1", verifier, connectTimeoutMs: 5000 });
      assert.equal(verifier.calls, 1);
      assert.equal(channel.tlsVersion, "TLSv1.3");
      assert.match(channel.cipher, /^TLS_AES_(256|128)_GCM_SHA(384|256)$|CHACHA20/);
      assert.equal(channel.maxFragmentData, 1024 - 4 - 3 - 5 - 17 - 8);
      assert.equal(channel.verdict.certificate.fingerprint256, cert.fingerprint256);
      const sizes = [10, 987, 988, 5000, 65_000];
      const pdus = sizes.map((n, i) => Buffer.alloc(n, i + 1));
      channel.start();
      // A first round trip: what the server sends after its handshake (tickets) is then behind us.
      const ping = collect(channel, 1);
      channel.sendPdu(2, Buffer.from("ping"));
      await ping;
      const received = collect(channel, pdus.length);
      const clientBefore = { ...channel.framing };
      const serverBefore = { ...server.channels[0]!.framing };
      for (const p of pdus) channel.sendPdu(2, p);
      const got = await received;
      assert.deepEqual(got.map((b) => b.length), sizes);
      got.forEach((b, i) => assert.ok(b.equals(pdus[i]!), `PDU ${i} differs`));
      // Both directions: one fragment per record, one record per DT with EOT = 1 (counted after the handshake).
      const serverSide = server.channels[0]!;
      const fragments = sizes.reduce((n, size) => n + Math.ceil(size / channel.maxFragmentData), 0);
      for (const [side, before] of [[channel, clientBefore], [serverSide, serverBefore]] as const) {
        assert.equal(side.framing.records - before.records, fragments);
        assert.equal(side.framing.dts - before.dts, fragments);
        assert.equal(side.framing.dtsWithoutEot - before.dtsWithoutEot, 0);
        assert.equal(side.framing.recordsOverSeveralDts - before.recordsOverSeveralDts, 0);
        assert.equal(side.framing.dtsWithSeveralRecords - before.dtsWithSeveralRecords, 0);
      }
      // Both ends derive the same exporter secret (the new legitimation's key material).
      assert.ok(channel.exportKeyingMaterial(32, "EXPERIMENTAL_OMS").equals(serverSide.exportKeyingMaterial(32, "EXPERIMENTAL_OMS")));
      await channel.close();
      assert.equal(channel.isClosed, true);
    } finally {
      await server.close();
    }
  });

  it("a channel closed before it was started ends with the peer's close, not with the 2-second fallback", async () => {
    const server = await echoServer(cert);
    try {
      const channel = await openSecureChannel({ host: "127.0.0.1", port: server.port, plc: "PLC1", verifier: new PinnedVerifier(cert.fingerprint256), connectTimeoutMs: 5000 });
      let serverClosed = false;
      while (server.channels.length === 0) await new Promise((r) => setTimeout(r, 5)); // the server side has its channel
      server.channels[0]!.once("close", () => (serverClosed = true));
      const fallback = new Promise<string>((resolve) => setTimeout(() => resolve("still open after 1 s"), 1000).unref());
      const outcome = await Promise.race([channel.close().then(() => "closed"), fallback]);
      assert.equal(outcome, "closed");
      assert.equal(channel.isClosed, true);
      assert.equal(serverClosed, true, "the server saw the close_notify / FIN first");
    } finally {
      await server.close();
    }
  });

  it("refuses a certificate the verifier rejects before any S7CommPlus byte is sent inside TLS", async () => {
    const server = await echoServer(cert);
    let pdusAtServer = 0;
    try {
      const attempt = openSecureChannel({ host: "127.0.0.1", port: server.port, plc: "PLC1", verifier: new PinnedVerifier(other.fingerprint256), connectTimeoutMs: 5000 });
      await assert.rejects(attempt, (err: unknown) => err instanceof S7Error && err.code === "ERR_S7_UNTRUSTED" && err.plc === "PLC1");
      await new Promise((r) => setTimeout(r, 100));
      for (const ch of server.channels) ch.on("pdu", () => pdusAtServer++);
      assert.equal(pdusAtServer, 0);
      // The server saw the connection end.
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(server.channels.every((c) => c.isClosed));
    } finally {
      await server.close();
    }
  });

  it("negotiates TLS 1.2 with ECDHE + AES-GCM when the controller offers only 1.2, with the larger record overhead", async () => {
    const server = await echoServer(cert, { tlsVersions: ["TLSv1.2"] });
    try {
      const channel = await openSecureChannel({ host: "127.0.0.1", port: server.port, plc: "PLC1", verifier: new PinnedVerifier(cert.fingerprint256) });
      assert.equal(channel.tlsVersion, "TLSv1.2");
      assert.match(channel.cipher, /ECDHE_(RSA|ECDSA)_WITH_AES_(128|256)_GCM/);
      assert.equal(channel.maxFragmentData, 1024 - 4 - 3 - 5 - 24 - 8);
      const received = collect(channel, 1);
      channel.start();
      channel.sendPdu(2, Buffer.alloc(3000, 7));
      assert.equal((await received)[0]!.length, 3000);
      await channel.close();
    } finally {
      await server.close();
    }
  });

  it("refuses TLS 1.2 when only TLS 1.3 is allowed, with a typed TLS error", async () => {
    const server = await echoServer(cert, { tlsVersions: ["TLSv1.2"] });
    try {
      await assert.rejects(
        openSecureChannel({ host: "127.0.0.1", port: server.port, plc: "PLC1", verifier: new PinnedVerifier(cert.fingerprint256), tlsVersions: ["TLSv1.3"] }),
        (err: unknown) => err instanceof S7Error && err.code === "ERR_S7_TLS" && err.plc === "PLC1",
      );
    } finally {
      await server.close();
    }
  });

  it("refuses TLS 1.2 without ECDHE / AEAD offered by the controller", async () => {
    const server = await echoServer(cert, { tlsVersions: ["TLSv1.2"], ciphers: "AES128-SHA256:AES256-SHA" });
    try {
      await assert.rejects(
        openSecureChannel({ host: "127.0.0.1", port: server.port, plc: "PLC1", verifier: new PinnedVerifier(cert.fingerprint256) }),
        (err: unknown) => err instanceof S7Error && err.code === "ERR_S7_TLS",
      );
    } finally {
      await server.close();
    }
  });

  it("fails with ERR_S7_NO_TLS when InitSsl is refused (no downgrade)", async () => {
    const server = await echoServer(cert, { initSslReturnValue: 0xfe05n });
    try {
      await assert.rejects(
        openSecureChannel({ host: "127.0.0.1", port: server.port, plc: "PLC2", verifier: new PinnedVerifier(cert.fingerprint256) }),
        (err: unknown) => err instanceof S7Error && err.code === "ERR_S7_NO_TLS" && /no unencrypted fallback/.test(err.message),
      );
    } finally {
      await server.close();
    }
  });

  it("meets its deadline against a controller that stalls the handshake", async () => {
    const server = await echoServer(cert, { hooks: { beforeTls: () => new Promise(() => undefined) } });
    try {
      await assert.rejects(
        openSecureChannel({ host: "127.0.0.1", port: server.port, plc: "PLC1", verifier: new PinnedVerifier(cert.fingerprint256), connectTimeoutMs: 400 }),
        (err: unknown) => err instanceof S7Error && err.code === "ERR_S7_TIMEOUT" && /TLS handshake/.test(err.message),
      );
    } finally {
      await server.close();
    }
  });

  it("reports a refused TCP connection as a transient connect error", async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    await assert.rejects(
      openSecureChannel({ host: "127.0.0.1", port, plc: "PLC1", verifier: new PinnedVerifier(cert.fingerprint256) }),
      (err: unknown) => err instanceof S7Error && err.code === "ERR_S7_CONNECTION_CLOSED" && err.transient && /ECONNREFUSED/.test(err.message),
    );
  });

  it("stops at once when the attempt is aborted", async () => {
    const server = await echoServer(cert, { hooks: { beforeTls: () => new Promise(() => undefined) } });
    try {
      const controller = new AbortController();
      const attempt = openSecureChannel({ host: "127.0.0.1", port: server.port, plc: "PLC1", verifier: new PinnedVerifier(cert.fingerprint256), signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await assert.rejects(attempt, (err: unknown) => err instanceof S7Error && err.code === "ERR_S7_CLOSED" && /cancelled/.test(err.message));
    } finally {
      await server.close();
    }
  });

  it("sends a ClientHello well under 1 024 bytes offering X25519 then P-256, with one X25519 key share, no SNI, ALPN or ticket", async () => {
    let hello: Buffer | undefined;
    const server = net.createServer(async (socket) => {
      const link = new CotpLink(socket, { plc: "raw", maxPacket: 8192 });
      const cr = decodeConnectionTpdu(await nextTpdu(link));
      link.send(encodeConnectionTpdu({ type: "CC", dstRef: cr.srcRef, srcRef: 1, classOption: 0, tpduSizeCode: 0x0a, callingTsap: cr.callingTsap!, calledTsap: cr.calledTsap!, order: [] }));
      await nextDtUnit(link, "InitSsl");
      link.send(encodeDt(encodeInitSslResponse(1)));
      const dt = await nextTpdu(link);
      hello = decodeDt(dt).payload;
      socket.destroy();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      await assert.rejects(openSecureChannel({ host: "127.0.0.1", port: (server.address() as net.AddressInfo).port, plc: "PLC1", verifier: new PinnedVerifier(cert.fingerprint256), connectTimeoutMs: 3000 }));
      assert.ok(hello, "no ClientHello captured");
      const record = hello!;
      assert.equal(record[0], 0x16, "a handshake record");
      assert.equal(5 + record.readUInt16BE(3), record.length, "exactly one record in the DT");
      // Measured on the wire: TPKT + DT header + the record.
      const onWire = 4 + 3 + record.length;
      assert.ok(onWire <= 512, `ClientHello of ${onWire} bytes on the wire; it must stay well under 1 024`);
      const ext = clientHelloExtensions(record);
      const groups = ext.get(10)!;
      const offered: number[] = [];
      for (let off = 2; off < 2 + groups.readUInt16BE(0); off += 2) offered.push(groups.readUInt16BE(off));
      assert.deepEqual(offered, [0x001d, 0x0017], "supported_groups: X25519, then P-256 (secp256r1)");
      assert.ok(!ext.has(0), "SNI sent");
      assert.ok(!ext.has(16), "ALPN sent");
      assert.ok(!ext.has(35), "session ticket extension sent");
      const keyShare = ext.get(51)!;
      const shares: number[] = [];
      for (let off = 2; off < keyShare.length; ) {
        shares.push(keyShare.readUInt16BE(off));
        off += 4 + keyShare.readUInt16BE(off + 2);
      }
      assert.deepEqual(shares, [0x001d], "exactly one key share, X25519");
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

/** Extensions of a ClientHello record by type. */
function clientHelloExtensions(record: Buffer): Map<number, Buffer> {
  let off = 5 + 4 + 2 + 32; // record header, handshake header, version, random
  off += 1 + record[off]!; // session id
  off += 2 + record.readUInt16BE(off); // cipher suites
  off += 1 + record[off]!; // compression
  const end = off + 2 + record.readUInt16BE(off);
  off += 2;
  const out = new Map<number, Buffer>();
  while (off < end) {
    const type = record.readUInt16BE(off);
    const len = record.readUInt16BE(off + 2);
    out.set(type, record.subarray(off + 4, off + 4 + len));
    off += 4 + len;
  }
  return out;
}
