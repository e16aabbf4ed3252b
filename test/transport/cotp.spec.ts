/** TPKT, COTP and InitSsl against the vectors, and the TPKT / COTP / InitSSL lines of docs/RELIABILITY-MATRIX.md. */
import { strict as assert } from "node:assert";
import * as net from "node:net";
import { PassThrough } from "node:stream";
import { S7Error } from "../../src/errors.js";
import { fromHex, toHex } from "../../src/protocol/bytes.js";
import { TpktParser, encodeTpkt } from "../../src/transport/tpkt.js";
import { DEFAULT_CALLING_TSAP, TSAP, decodeConnectionTpdu, encodeConnectionTpdu, encodeDt } from "../../src/transport/cotp.js";
import { CotpLink, nextDtUnit, nextTpdu } from "../../src/transport/cotp-link.js";
import { CotpDuplex } from "../../src/transport/cotp-duplex.js";
import { decodeInitSslRequest, encodeInitSslRequest, encodeInitSslResponse } from "../../src/transport/initssl.js";
import { openSecureChannel } from "../../src/transport/client-channel.js";
import { readFixtureJson } from "../../scripts/support/fixtures.js";
import { PinnedVerifier } from "../support/pinned-verifier.js";

interface TransportVectors {
  csConnectionRequest: string;
  pairs: { what: string; cr: string; cc: string }[];
  emptyDt: string;
  initSslRequest: string;
  initSslResponse: string;
}
const V = readFixtureJson<TransportVectors>("vectors", "transport.json");

function typed(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof S7Error && err.code === code && (message === undefined || message.test(err.message)));
}

/** A server speaking raw COTP: `script` gets the link of each connection. */
async function rawServer(script: (link: CotpLink) => Promise<void>): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const link = new CotpLink(socket, { plc: "raw", maxPacket: 8192 });
    script(link).catch(() => socket.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

async function acceptCr(link: CotpLink, sizeCode = 0x0a): Promise<void> {
  const cr = decodeConnectionTpdu(await nextTpdu(link));
  link.send(encodeConnectionTpdu({ type: "CC", dstRef: cr.srcRef, srcRef: 1, classOption: 0, tpduSizeCode: sizeCode, callingTsap: cr.callingTsap!, calledTsap: cr.calledTsap!, order: [] }));
}

async function connectFails(port: number, timeoutMs = 2000): Promise<S7Error> {
  try {
    await openSecureChannel({ host: "127.0.0.1", port, plc: "PLC1", verifier: new PinnedVerifier("00"), connectTimeoutMs: timeoutMs });
  } catch (err) {
    assert.ok(err instanceof S7Error, String(err));
    return err;
  }
  throw new Error("connected unexpectedly");
}

describe("TPKT / COTP / InitSsl (test/fixtures/vectors/README.md §1, §2; docs/RELIABILITY-MATRIX.md)", function () {
  this.timeout(20000);

  it("encodes the CS connection request byte for byte", () => {
    const cr = encodeConnectionTpdu({ type: "CR", dstRef: 0, srcRef: 1, classOption: 0, tpduSizeCode: 0x0a, callingTsap: DEFAULT_CALLING_TSAP, calledTsap: Buffer.from(TSAP.HMI), order: [] });
    assert.equal(toHex(encodeTpkt(cr)), V.csConnectionRequest);
  });

  for (const pair of V.pairs) {
    it(`${pair.what}: decodes the CR in its parameter order and answers the CC a real CPU sent`, () => {
      const [cr] = new TpktParser().push(fromHex(pair.cr));
      const req = decodeConnectionTpdu(cr!);
      assert.equal(req.type, "CR");
      assert.equal(req.tpduSizeCode, 0x0a);
      const [real] = new TpktParser().push(fromHex(pair.cc));
      const cc = decodeConnectionTpdu(real!);
      const ours = encodeConnectionTpdu({ ...cc, order: [] });
      assert.equal(toHex(encodeTpkt(ours)), pair.cc);
      assert.equal(cc.dstRef, req.srcRef);
      assert.ok(cc.calledTsap!.equals(req.calledTsap!));
    });
  }

  it("InitSsl: the request is the CS/JS one (test/fixtures/vectors/README.md §2.1), the answer the template of §6.2", () => {
    assert.equal(toHex(encodeInitSslRequest()), V.initSslRequest);
    assert.equal(toHex(encodeInitSslResponse(1)), V.initSslResponse);
    assert.deepEqual(decodeInitSslRequest(fromHex(V.initSslRequest)), { sequence: 1, sessionId: 288 });
  });

  it("TPKT version ≠ 3 → protocol error", () => {
    typed(() => new TpktParser().push(fromHex("04 00 00 07 02 f0 80")), "ERR_S7_PROTOCOL", /TPKT version 4/);
  });

  it("TPKT length < 7 → protocol error; = 7 (empty DT) → ignored safely", async () => {
    typed(() => new TpktParser().push(fromHex("03 00 00 06 02 f0")), "ERR_S7_PROTOCOL", /below 7/);
    const [empty] = new TpktParser().push(fromHex(V.emptyDt));
    assert.equal(empty!.length, 3);
    // Through the Duplex under TLS: the empty DT yields no byte.
    const socket = new PassThrough() as unknown as net.Socket;
    Object.assign(socket, { setNoDelay: () => socket, destroy: () => socket, end: () => socket });
    const link = new CotpLink(socket, { plc: "t", maxPacket: 1028 });
    const duplex = new CotpDuplex(link, 1024);
    const chunks: Buffer[] = [];
    duplex.on("data", (c: Buffer) => chunks.push(c));
    (socket as unknown as PassThrough).emit("data", fromHex(V.emptyDt));
    (socket as unknown as PassThrough).emit("data", encodeTpkt(encodeDt(Buffer.from("abc"))));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(Buffer.concat(chunks).toString(), "abc");
  });

  it("TPKT length above 8 KiB (up to 65535) → rejected from the header, without allocating that size", () => {
    for (const length of [0xffff, 8193]) {
      const parser = new TpktParser(1028);
      const before = process.memoryUsage().arrayBuffers;
      const head = Buffer.from([3, 0, length >> 8, length & 0xff, 0x02, 0xf0, 0x80]);
      typed(() => parser.push(head), "ERR_S7_PROTOCOL", new RegExp(`TPKT length ${length} exceeds the 8192-byte limit`));
      assert.ok(process.memoryUsage().arrayBuffers - before < length);
    }
  });

  it("TPKT length between the negotiated TPDU+4 and 8 KiB → accepted, one warning per connection", async () => {
    const oversize: number[] = [];
    const parser = new TpktParser(1028, (length, expected) => oversize.push(length, expected));
    const packets = [2000, 8192, 1028].map((n) => encodeTpkt(encodeDt(Buffer.alloc(n - 7, 5))));
    const got = parser.push(Buffer.concat(packets));
    assert.deepEqual(got.map((p) => p.length), [1996, 8188, 1024]);
    assert.deepEqual(oversize, [2000, 1028], "reported once, for the first oversized packet");
    // Through a link: the payload reaches TLS and the link warns once.
    const socket = new PassThrough() as unknown as net.Socket;
    Object.assign(socket, { setNoDelay: () => socket, destroy: () => socket, end: () => socket });
    const link = new CotpLink(socket, { plc: "t", maxPacket: 1028 });
    const warnings: string[] = [];
    link.on("warning", (w: string) => warnings.push(w));
    const duplex = new CotpDuplex(link, 1024);
    let bytes = 0;
    duplex.on("data", (c: Buffer) => (bytes += c.length));
    for (let i = 0; i < 3; i++) (socket as unknown as PassThrough).emit("data", encodeTpkt(encodeDt(Buffer.alloc(3000, 1))));
    await new Promise((r) => setImmediate(r));
    assert.equal(bytes, 9000);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /TPKT packet of 3007 bytes, above the negotiated 1028/);
    assert.equal(link.isEnded, false);
  });

  it("What we send never exceeds the negotiated size: a larger packet is refused before it is written", () => {
    const socket = new PassThrough() as unknown as net.Socket;
    const written: Buffer[] = [];
    Object.assign(socket, { setNoDelay: () => socket, destroy: () => socket, end: () => socket, write: (b: Buffer) => written.push(b) });
    const link = new CotpLink(socket, { plc: "t", maxPacket: 1028 });
    link.send(encodeDt(Buffer.alloc(1021)));
    assert.throws(() => link.send(encodeDt(Buffer.alloc(1022))), (err: unknown) => err instanceof RangeError && /1029 bytes exceeds the negotiated 1028/.test(err.message));
    assert.deepEqual(written.map((b) => b.length), [1028]);
    // The Duplex under TLS cuts a record that does not fit into DTs within the size.
    const duplex = new CotpDuplex(link, 1024);
    duplex.write(Buffer.concat([Buffer.from([0x17, 3, 3, 0x0b, 0xb8]), Buffer.alloc(3000)]));
    assert.ok(written.every((b) => b.length <= 1028));
    assert.equal(written.slice(1).reduce((n, b) => n + b.length - 7, 0), 3005);
  });

  it("Frame split at every byte boundary / many frames in one chunk → identical decoded results (TPKT)", () => {
    const packets = [encodeTpkt(encodeDt(Buffer.alloc(100, 1))), fromHex(V.emptyDt), encodeTpkt(encodeDt(Buffer.from("xyz"), false))];
    const stream = Buffer.concat(packets);
    const whole = new TpktParser().push(stream);
    const parser = new TpktParser();
    const split: Buffer[] = [];
    for (const b of stream) split.push(...parser.push(Buffer.from([b])));
    assert.deepEqual(split.map(toHex), whole.map(toHex));
    assert.equal(whole.length, 3);
  });

  it("COTP DT without EOT → reassembled up to the cap, beyond it protocol error", async () => {
    const socket = new PassThrough() as unknown as net.Socket;
    let destroyed = false;
    Object.assign(socket, { setNoDelay: () => socket, destroy: () => ((destroyed = true), socket), end: () => socket });
    const link = new CotpLink(socket, { plc: "t", maxPacket: 1028 });
    const duplex = new CotpDuplex(link, 1024, 2000);
    const errors: unknown[] = [];
    duplex.on("error", (e: unknown) => errors.push(e));
    let got = 0;
    duplex.on("data", (c: Buffer) => (got += c.length));
    for (let i = 0; i < 3; i++) (socket as unknown as PassThrough).emit("data", encodeTpkt(encodeDt(Buffer.alloc(900), false)));
    await new Promise((r) => setImmediate(r));
    assert.equal(got, 1800, "the first two segments were passed on");
    assert.ok(errors.some((e) => e instanceof S7Error && e.code === "ERR_S7_PROTOCOL" && /without EOT exceeds 2000/.test(e.message)));
    assert.ok(destroyed);
  });

  it("CC missing or with an unexpected TPDU size → typed connect error within the deadline", async () => {
    const bigger = await rawServer((link) => acceptCr(link, 0x0d));
    const silent = await rawServer(async () => undefined);
    try {
      const e1 = await connectFails(bigger.port);
      assert.equal(e1.code, "ERR_S7_PROTOCOL");
      assert.match(e1.message, /TPDU size code 0xd; requested 0xa/);
      const e2 = await connectFails(silent.port, 400);
      assert.equal(e2.code, "ERR_S7_TIMEOUT");
    } finally {
      await bigger.close();
      await silent.close();
    }
  });

  it("InitSSL error, garbage or no response → connection fails closed; never continues unencrypted", async () => {
    const garbage = await rawServer(async (link) => {
      await acceptCr(link);
      await nextDtUnit(link, "InitSsl");
      link.send(encodeDt(Buffer.from("HTTP/1.1 400 Bad Request\r\n\r\n")));
    });
    const mute = await rawServer(async (link) => {
      await acceptCr(link);
      await nextDtUnit(link, "InitSsl");
    });
    try {
      const e1 = await connectFails(garbage.port);
      assert.equal(e1.code, "ERR_S7_NO_TLS");
      const e2 = await connectFails(mute.port, 400);
      assert.equal(e2.code, "ERR_S7_TIMEOUT");
      assert.match(e2.message, /InitSsl/);
    } finally {
      await garbage.close();
      await mute.close();
    }
  });

  it("Fatal alert or non-TLS bytes during the handshake → typed TLS error carrying the OpenSSL code", async () => {
    const server = await rawServer(async (link) => {
      await acceptCr(link);
      await nextDtUnit(link, "InitSsl");
      link.send(encodeDt(encodeInitSslResponse(1)));
      await nextTpdu(link); // the ClientHello
      link.send(encodeDt(Buffer.from("this is not a TLS record at all")));
    });
    try {
      const e = await connectFails(server.port);
      assert.equal(e.code, "ERR_S7_TLS");
      assert.match(e.message, /\[ERR_SSL_[A-Z_]+\]/);
    } finally {
      await server.close();
    }
  });

  it("Key log never written unless a debug option is set: nothing in src/ listens for TLS key material", async () => {
    const fs = await import("node:fs");
    const path = await import("node:path");
    const src = path.resolve(__dirname, "..", "..", "..", "src");
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.ts$/.test(e.name) && /["']keylog["']|enableTrace|SSLKEYLOGFILE/.test(fs.readFileSync(p, "utf8"))) offenders.push(p);
      }
    };
    walk(src);
    assert.deepEqual(offenders, []);
    assert.ok(!process.execArgv.some((a) => a.startsWith("--tls-keylog")));
  });
});
