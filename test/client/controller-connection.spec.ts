import { strict as assert } from "node:assert";
import { ControllerConnection, TRANSITIONS, type ConnectionStatus, type ControllerConnectionConfig } from "../../src/client/controller-connection.js";
import type { ConnectedSession } from "../../src/client/controller-session.js";
import type { ControllerAddress } from "../../src/client/alternative-address.js";
import type { ReadOutcome, SessionInfo, WriteEntry, WriteOutcome } from "../../src/client/results.js";
import type { CertificateVerifier, TrustVerdict } from "../../src/transport/verifier.js";
import { parseControllerIdentity } from "../../src/protocol/firmware.js";
import { ConnectionError, S7Error, ConfigError, ValueError } from "../../src/errors.js";

const FAKE_VERDICT: TrustVerdict = {
  certificate: {
    subject: "CN=PLC1",
    issuer: "CN=PLC1",
    fingerprint256: "00".repeat(32),
    serialNumber: "01",
    validFrom: new Date(0),
    validTo: new Date(0),
    selfSigned: true,
    ipAddresses: ["127.0.0.1"],
    dnsNames: [],
  },
  trustedBy: "store",
  revocationChecked: false,
  warnings: [],
};

/** A session that answers reads with "<host>:<port>:<tag>" and can be lost on demand. */
class FakeSession implements ConnectedSession {
  readonly info: SessionInfo;
  closed = false;
  private lost: ((err: S7Error) => void) | undefined;
  constructor(readonly endpoint: ControllerAddress) {
    this.info = { tlsVersion: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", verdict: FAKE_VERDICT, identity: parseControllerIdentity(""), protectionLevel: 1, limits: { readMax: 3, writeMax: 3 } };
  }
  async read(tags: string[]): Promise<ReadOutcome[]> {
    if (this.closed) throw new ConnectionError("ERR_S7_CONNECTION_CLOSED", "closed");
    return tags.map((tag) => ({ tag, ok: true, value: `${this.endpoint.host}:${this.endpoint.port}:${tag}` }));
  }
  async write(entries: WriteEntry[]): Promise<WriteOutcome[]> {
    return this.read(entries.map((e) => e.tag));
  }
  async browse(): Promise<[]> {
    return [];
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  onClosed(listener: (err: S7Error) => void): void {
    this.lost = listener;
  }
  loseConnection(): void {
    this.closed = true;
    this.lost?.(new ConnectionError("ERR_S7_CONNECTION_CLOSED", "connection reset by peer"));
  }
}

class FakeFactory {
  readonly attempts: ControllerAddress[] = [];
  readonly sessions: FakeSession[] = [];
  failures: S7Error[] = [];
  /** When set, attempts hang until aborted. */
  hang = false;
  readonly aborted: ControllerAddress[] = [];
  open = (endpoint: ControllerAddress, signal: AbortSignal): Promise<FakeSession> => {
    this.attempts.push(endpoint);
    if (this.hang) {
      return new Promise((_, reject) => signal.addEventListener("abort", () => {
        this.aborted.push(endpoint);
        reject(signal.reason);
      }));
    }
    const failure = this.failures.shift();
    if (failure) return Promise.reject(failure);
    const session = new FakeSession(endpoint);
    this.sessions.push(session);
    return Promise.resolve(session);
  };
}

/** The fake sessions never dial, so nothing is verified. */
const NO_VERIFIER: CertificateVerifier = { verify: () => Promise.reject(new Error("not used: the fake sessions do not dial")) };

function manager(factory: FakeFactory, extra: Partial<ControllerConnectionConfig> = {}): ControllerConnection {
  return new ControllerConnection(
    {
      name: "PLC1",
      host: "127.0.0.1",
      port: 1102,
      accessPoint: "",
      forceConnectionState: 1,
      useAlternativeAddress: 0,
      alternativeAddress: "",
      connectTimeoutMs: 2000,
      requestTimeoutMs: 2000,
      reconnectMinMs: 5,
      reconnectMaxMs: 40,
      reconnectJitter: 0,
      ...extra,
    },
    { verifier: NO_VERIFIER, openSession: factory.open },
  );
}

const readValues = async (m: ControllerConnection, tags: string[]): Promise<unknown[]> => (await m.read(tags)).map((o) => (o.ok ? o.value : o.error));

function nextState(m: ControllerConnection, state: string): Promise<ConnectionStatus> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`state ${state} not reached (now ${m.status.state})`)), 5000);
    const onStatus = (s: ConnectionStatus): void => {
      if (s.state === state) {
        clearTimeout(timer);
        m.off("status", onStatus);
        resolve(s);
      }
    };
    m.on("status", onStatus);
  });
}

describe("controller connection: states, system tags, one queue", () => {
  it("connects at start when ForceConnectionState is 1 and serves reads through one session", async () => {
    const f = new FakeFactory();
    const m = manager(f);
    const connected = nextState(m, "connected");
    m.start();
    await connected;
    assert.deepEqual(await readValues(m, ["a", "b"]), ["127.0.0.1:1102:a", "127.0.0.1:1102:b"]);
    assert.equal(f.attempts.length, 1);
    await m.close();
  });

  it("stays disconnected with ForceConnectionState 0 and fails requests with a clear reason", async () => {
    const f = new FakeFactory();
    const m = manager(f, { forceConnectionState: 0 });
    m.start();
    await assert.rejects(m.read(["a"]), (err: unknown) => err instanceof ConnectionError && /ForceConnectionState = 0/.test(err.message) && /PLC1/.test(err.message));
    assert.equal(f.attempts.length, 0);
    assert.equal(m.status.state, "disconnected");
    await m.close();
  });

  it("terminates on ForceConnectionState 0 and establishes on 1 (docs/NODES.md §3)", async () => {
    const f = new FakeFactory();
    const m = manager(f);
    m.start();
    await nextState(m, "connected");
    await m.setSystemTag("ForceConnectionState", 0);
    assert.equal(m.status.state, "disconnected");
    assert.equal(f.sessions[0]!.closed, true);
    const again = nextState(m, "connected");
    await m.setSystemTag("ForceConnectionState", "1");
    await again;
    assert.equal(f.attempts.length, 2);
    await m.close();
  });

  it("connects to the AlternativeAddress after UseAlternativeAddress = 1 and ForceConnectionState 0 → 1", async () => {
    const f = new FakeFactory();
    const m = manager(f);
    m.start();
    await nextState(m, "connected");
    await m.setSystemTag("AlternativeAddress", "IPAddress=127.0.0.2; Port=2102;");
    await m.setSystemTag("ForceConnectionState", 0);
    await m.setSystemTag("UseAlternativeAddress", 1);
    const connected = nextState(m, "connected");
    await m.setSystemTag("ForceConnectionState", 1);
    const status = await connected;
    assert.equal(status.alternative, true);
    assert.deepEqual(f.attempts[1], { host: "127.0.0.2", port: 2102, accessPoint: "" });
    assert.deepEqual(await readValues(m, ["x"]), ["127.0.0.2:2102:x"]);
    await m.close();
  });

  it("performs switch and switchBack as one step each", async () => {
    const f = new FakeFactory();
    const m = manager(f, { alternativeAddress: "IPAddress=127.0.0.3;" });
    m.start();
    await nextState(m, "connected");
    let connected = nextState(m, "connected");
    await m.switchTo(true);
    assert.equal((await connected).endpoint.host, "127.0.0.3");
    assert.equal(m.systemTags.UseAlternativeAddress, 1);
    assert.equal(f.sessions[0]!.closed, true, "the previous session was ended first");
    connected = nextState(m, "connected");
    await m.switchTo(false);
    assert.equal((await connected).endpoint.host, "127.0.0.1");
    assert.deepEqual(f.attempts.map((a) => a.host), ["127.0.0.1", "127.0.0.3", "127.0.0.1"]);
    await m.close();
  });

  it("refuses bad system tag values, names the tag and changes nothing", async () => {
    const f = new FakeFactory();
    const m = manager(f, { forceConnectionState: 0 });
    await assert.rejects(m.setSystemTag("ForceConnectionState", 2), (e: unknown) => e instanceof ValueError && /@PLC1@ForceConnectionState must be 0 or 1/.test(e.message));
    await assert.rejects(m.setSystemTag("AlternativeAddress", "IPAddress=1.2.3.4; Speed=9;"), ConfigError);
    await assert.rejects(m.setSystemTag("UseAlternativeAddress", 1), /needs @PLC1@AlternativeAddress/);
    await assert.rejects(m.switchTo(true), /AlternativeAddress is empty/);
    assert.deepEqual(m.systemTags, { ForceConnectionState: 0, UseAlternativeAddress: 0, AlternativeAddress: "" });
    assert.equal(f.attempts.length, 0);
    await m.close();
  });

  it("reconnects with back-off after a lost session and resumes serving requests", async () => {
    const f = new FakeFactory();
    const m = manager(f);
    m.start();
    await nextState(m, "connected");
    f.failures.push(new ConnectionError("ERR_S7_CONNECT", "connection refused"));
    const waiting = nextState(m, "reconnect-wait");
    f.sessions[0]!.loseConnection();
    const w = await waiting;
    assert.equal(w.lastError?.code, "ERR_S7_CONNECTION_CLOSED");
    await nextState(m, "reconnect-wait");
    await nextState(m, "connected");
    assert.equal(f.attempts.length, 3);
    assert.deepEqual(await readValues(m, ["z"]), ["127.0.0.1:1102:z"]);
    await m.close();
  });

  it("retries at once on retryNow() while waiting (certificate trusted)", async () => {
    const f = new FakeFactory();
    const m = manager(f, { reconnectMinMs: 60_000, reconnectMaxMs: 60_000 });
    f.failures.push(new S7Error("ERR_S7_UNTRUSTED", "manual trust required"));
    m.start();
    const wait = await nextState(m, "reconnect-wait");
    assert.equal(wait.lastError?.code, "ERR_S7_UNTRUSTED");
    assert.equal(wait.retryInMs, 60_000);
    const connected = nextState(m, "connected");
    m.retryNow();
    await connected;
    await m.close();
  });

  it("close() during a connection attempt aborts it, fails waiting requests and never reconnects", async () => {
    const f = new FakeFactory();
    f.hang = true;
    const m = manager(f);
    m.start();
    assert.equal(m.status.state, "connecting");
    const pending = m.read(["a"]);
    await new Promise((r) => setImmediate(r));
    await m.close();
    await assert.rejects(pending, (e: unknown) => e instanceof ConnectionError && e.code === "ERR_S7_CLOSED");
    assert.equal(f.aborted.length, 1);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(f.attempts.length, 1, "no attempt after close");
    await assert.rejects(m.read(["b"]), (e: unknown) => e instanceof ConnectionError && e.code === "ERR_S7_CLOSED");
  });

  it("never holds more than one session or attempt at a time across rapid toggles", async () => {
    const f = new FakeFactory();
    const m = manager(f);
    m.start();
    for (let i = 0; i < 20; i++) {
      await m.setSystemTag("ForceConnectionState", 0);
      await m.setSystemTag("ForceConnectionState", 1);
    }
    if (m.status.state !== "connected") await nextState(m, "connected");
    const open = f.sessions.filter((s) => !s.closed);
    assert.equal(open.length, 1);
    await m.close();
    assert.equal(f.sessions.filter((s) => !s.closed).length, 0);
  });

  it("has one transition table: closed ends everything, every other state can be closed, only an attempt connects", () => {
    assert.deepEqual(TRANSITIONS.closed, {});
    for (const [state, next] of Object.entries(TRANSITIONS)) {
      if (state !== "closed") assert.equal(next.close, "closed", `${state} can be closed`);
      if (state !== "connecting") assert.equal(next.connected, undefined, `${state} cannot become connected without an attempt`);
    }
  });

  it("fails reads, writes and browse at once with the refusal while the controller is refused (untrusted), not after the connect wait", async () => {
    const f = new FakeFactory();
    // A request that waited for the connection would run into mocha's timeout long before this wait ends.
    const m = manager(f, { reconnectMinMs: 600_000, reconnectMaxMs: 600_000, connectTimeoutMs: 600_000 });
    const untrusted = new S7Error("ERR_S7_UNTRUSTED", "PLC1: the certificate PLC_1 is not trusted");
    f.failures.push(untrusted);
    const early = m.read(["a"]);
    m.start();
    await assert.rejects(early, (e: unknown) => e === untrusted, "a request waiting for the attempt fails with its refusal");
    assert.equal(m.status.state, "reconnect-wait");
    await assert.rejects(m.read(["b"]), (e: unknown) => e === untrusted);
    await assert.rejects(m.write([{ tag: "c", value: 1 }]), (e: unknown) => e === untrusted);
    await assert.rejects(m.browse(), (e: unknown) => e === untrusted);
    assert.equal(f.attempts.length, 1, "failing fast starts no extra attempt");
    const connected = nextState(m, "connected");
    m.retryNow();
    await connected;
    assert.deepEqual(await readValues(m, ["d"]), ["127.0.0.1:1102:d"], "after the trust the requests are served again");
    await m.close();
  });

  it("keeps requests waiting through a transient refusal (port closed) and serves them after the reconnect", async () => {
    const f = new FakeFactory();
    const m = manager(f);
    f.failures.push(new ConnectionError("ERR_S7_CONNECT", "connection refused"));
    const waiting = readValues(m, ["a"]);
    m.start();
    assert.deepEqual(await waiting, ["127.0.0.1:1102:a"]);
    assert.equal(f.attempts.length, 2);
    await m.close();
  });
});
