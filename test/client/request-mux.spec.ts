import { strict as assert } from "node:assert";
import { EventEmitter } from "node:events";
import { RequestMultiplexer, type PduChannel } from "../../src/client/request-mux.js";
import { ConnectionError, ProtocolError, S7Error, TimeoutError } from "../../src/errors.js";

class FakeChannel extends EventEmitter implements PduChannel {
  readonly sent: Array<{ version: number; pdu: Buffer }> = [];
  destroyedWith: S7Error | undefined;
  sendPdu(version: number, pdu: Buffer): void {
    this.sent.push({ version, pdu });
  }
  destroy(err?: S7Error): void {
    this.destroyedWith = err;
    this.emit("close", err);
  }
  /** A response header: 32 00 00 <fn> 00 00 <seq> 34, plus a body. */
  answer(functionCode: number, sequence: number, body: number[] = [0x00]): void {
    const pdu = Buffer.from([0x32, 0, 0, functionCode >> 8, functionCode & 0xff, 0, 0, sequence >> 8, sequence & 0xff, 0x34, ...body]);
    this.emit("pdu", 2, pdu);
  }
}

const request = (seq: number, fn = 0x054c): Buffer => Buffer.from([0x31, 0, 0, fn >> 8, fn & 0xff, 0, 0, seq >> 8, seq & 0xff]);

describe("request multiplexer", () => {
  it("numbers requests from the given start and wraps from 65535 to 1, skipping 0", () => {
    const mux = new RequestMultiplexer(new FakeChannel(), { plc: "PLC1", requestTimeoutMs: 1000, firstSequence: 2 });
    assert.equal(mux.nextSequence(), 2);
    for (let i = 3; i <= 65535; i++) mux.nextSequence();
    assert.equal(mux.nextSequence(), 1);
    assert.equal(mux.nextSequence(), 2);
  });

  it("keeps two IntegrityId counters starting at 1", () => {
    const mux = new RequestMultiplexer(new FakeChannel(), { plc: "PLC1", requestTimeoutMs: 1000 });
    assert.deepEqual([mux.nextIntegrityId("read"), mux.nextIntegrityId("read"), mux.nextIntegrityId("write"), mux.nextIntegrityId("read")], [1, 2, 1, 3]);
  });

  // One request on the wire per session: the answers can no longer come in another order, so the
  // former "any order" check became the gate's check (the second request waits for the first answer).
  it("keeps one request on the wire: the next waits at the gate, is numbered when sent and gets its own answer", async () => {
    const ch = new FakeChannel();
    const mux = new RequestMultiplexer(ch, { plc: "PLC1", requestTimeoutMs: 1000 });
    const a = mux.request(2, 0x054c, request);
    const b = mux.request(2, 0x0542, (s) => request(s, 0x0542));
    assert.equal(ch.sent.length, 1, "the second request waits while the first is on the wire");
    assert.equal(mux.pendingCount, 2);
    ch.answer(0x054c, 1, [0x05]);
    assert.equal((await a).pdu.at(-1), 0x05);
    assert.equal(ch.sent.length, 2, "the answer frees the wire for the next request");
    assert.equal(ch.sent[1]!.pdu.readUInt16BE(7), 2);
    ch.answer(0x0542, 2, [0x07]);
    assert.equal((await b).pdu.at(-1), 0x07);
    assert.equal(mux.pendingCount, 0);
    assert.deepEqual(mux.stats, { requests: 2, waited: 1 });
  });

  it("treats an answer for a request still waiting at the gate as a protocol error", async () => {
    const ch = new FakeChannel();
    const mux = new RequestMultiplexer(ch, { plc: "PLC1", requestTimeoutMs: 1000 });
    const a = mux.request(2, 0x054c, request);
    const b = mux.request(2, 0x054c, request);
    ch.answer(0x054c, 2);
    await assert.rejects(a, ProtocolError);
    await assert.rejects(b, ProtocolError);
    assert.equal(ch.sent.length, 1, "the waiting request was never sent");
  });

  it("ends the connection with a protocol error on an unknown sequence number or a foreign function code, failing pending requests", async () => {
    for (const wrong of [(ch: FakeChannel) => ch.answer(0x054c, 99), (ch: FakeChannel) => ch.answer(0x04bb, 1)]) {
      const ch = new FakeChannel();
      const mux = new RequestMultiplexer(ch, { plc: "PLC1", requestTimeoutMs: 1000 });
      const pending = mux.request(2, 0x054c, request);
      wrong(ch);
      await assert.rejects(pending, (e: unknown) => e instanceof ProtocolError && /PLC1/.test(e.message));
      assert.ok(ch.destroyedWith instanceof ProtocolError);
      await assert.rejects(mux.request(2, 0x054c, request), ProtocolError);
    }
  });

  it("fails a request whose deadline passes, ends the connection, and never hands its late answer to a newer request", async () => {
    const ch = new FakeChannel();
    const mux = new RequestMultiplexer(ch, { plc: "PLC1", requestTimeoutMs: 20 });
    await assert.rejects(mux.request(2, 0x054c, request), (e: unknown) => e instanceof TimeoutError && e.transient);
    assert.ok(ch.destroyedWith instanceof TimeoutError);
    await assert.rejects(mux.request(2, 0x054c, request), TimeoutError, "the closed multiplexer refuses new requests with the close reason");
    ch.answer(0x054c, 1); // the late answer
    assert.equal(mux.pendingCount, 0);
  });

  it("fails every pending request with 'connection closed during response' when the channel closes", async () => {
    const ch = new FakeChannel();
    const mux = new RequestMultiplexer(ch, { plc: "PLC1", requestTimeoutMs: 1000 });
    const all = [mux.request(2, 0x054c, request), mux.request(2, 0x054c, request)];
    ch.emit("close");
    for (const p of all) await assert.rejects(p, (e: unknown) => e instanceof ConnectionError && e.code === "ERR_S7_CONNECTION_CLOSED" && /during response/.test(e.message));
  });

  it("passes an Error-function answer with the right sequence number to its request", async () => {
    const ch = new FakeChannel();
    const mux = new RequestMultiplexer(ch, { plc: "PLC1", requestTimeoutMs: 1000 });
    const p = mux.request(2, 0x054c, request);
    ch.answer(0x04b1, 1);
    assert.equal((await p).functionCode, 0x04b1);
  });
});
