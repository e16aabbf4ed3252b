/**
 * The WinCC note's table (docs/NODES.md §3) end to end: the client against simulated
 * controllers over TLS with each kind of certificate, through the real
 * device store and verifier, with the store watched as in a running
 * Node-RED.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ControllerConnection } from "../../src/client/controller-connection.js";
import { acquireStore, releaseStore } from "../../src/trust/registry.js";
import type { CertificateStore } from "../../src/trust/store.js";
import { DeviceCertificateVerifier } from "../../src/trust/verifier.js";
import { generateCrl } from "../../src/pki/crl.js";
import { issueCertificate, type IssuedCertificate } from "../../src/pki/certificates.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { defaultSimulatorConfig } from "../../src/simulator/config.js";
import { testPki, type TestPki } from "../support/pki.js";

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("trust end to end: the WinCC note's table against simulated controllers (docs/NODES.md §3)", function () {
  this.timeout(60_000);
  let pki: TestPki;
  let dir: string;
  let store: CertificateStore;
  const sims: Simulator[] = [];
  const connections: ControllerConnection[] = [];

  before(() => {
    pki = testPki();
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "s7-e2e-"));
    store = acquireStore(path.join(dir, "pki"), { pollMs: 500 });
  });
  afterEach(async () => {
    for (const c of connections.splice(0)) await c.close();
    for (const s of sims.splice(0)) await s.stop();
    releaseStore(store);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function simWith(cert: IssuedCertificate | undefined, name = "PLC1", extra: object = {}): Promise<Simulator> {
    let certificate: object | undefined;
    if (cert) {
      const certFile = path.join(dir, `${name}-${cert.fingerprint256.slice(0, 8)}.pem`);
      const keyFile = path.join(dir, `${name}-${cert.fingerprint256.slice(0, 8)}-key.pem`);
      fs.writeFileSync(certFile, cert.certPem);
      fs.writeFileSync(keyFile, cert.keyPem);
      certificate = { mode: "files", certFile, keyFile };
    }
    const sim = await Simulator.start({ ...defaultSimulatorConfig(), name, ...(certificate ? { certificate } : {}), ...extra });
    sims.push(sim);
    return sim;
  }

  function connect(sim: Simulator, options: { rootCAs?: string[]; rejectExpired?: boolean; alternative?: Simulator } = {}): ControllerConnection {
    const c = new ControllerConnection(
      {
        name: "PLC1",
        host: "127.0.0.1",
        port: sim.port,
        accessPoint: "",
        forceConnectionState: 1,
        useAlternativeAddress: 0,
        alternativeAddress: options.alternative ? `IPAddress=127.0.0.1; Port=${options.alternative.port};` : "",
        connectTimeoutMs: 3000,
        requestTimeoutMs: 2000,
        reconnectMinMs: 100,
        reconnectMaxMs: 300,
      },
      {
        verifier: new DeviceCertificateVerifier({ store, rootCAs: options.rootCAs ?? [], rejectExpired: options.rejectExpired ?? false }),
        onTrustChange: (l) => {
          store.on("changed", l);
          return () => store.off("changed", l);
        },
      },
    );
    connections.push(c);
    c.start();
    return c;
  }

  const untrustedFiles = (): string[] => fs.readdirSync(path.join(store.dir, "untrusted"));

  it("controller cert self-signed, unknown → refused, stored in untrusted/, \"manual trust required\"; then trusted → connects without a restart", async () => {
    const sim = await simWith(undefined);
    const c = connect(sim);
    await until("refused", () => c.status.lastError?.code === "ERR_S7_UNTRUSTED");
    assert.match(c.status.lastError!.message, /manual trust required/);
    assert.equal(untrustedFiles().length, 1);
    await store.trust(sim.fingerprint256);
    c.retryNow();
    await until("connected", () => c.status.state === "connected");
  });

  it("controller cert from an unknown root CA → refused, \"import the root certificate\"", async () => {
    const sim = await simWith(pki.leafOfOtherRoot);
    const c = connect(sim, { rootCAs: [pki.root.certPem] });
    await until("refused", () => c.status.lastError?.code === "ERR_S7_UNTRUSTED");
    assert.match(c.status.lastError!.message, /import the issuing root certificate/);
  });

  it("controller cert from an imported root CA → connect", async () => {
    const sim = await simWith(pki.leaf);
    const c = connect(sim, { rootCAs: [pki.root.certPem] });
    await until("connected", () => c.status.state === "connected");
    assert.equal(c.status.info?.verdict.trustedBy, "root-ca");
    assert.equal((await c.read(["Line.Setpoint"]))[0]!.ok, true);
  });

  it("cert revoked by a CRL in trusted/crl/ → refused \"revoked\"; a CRL arriving while connected ends the session at the next re-scan", async () => {
    const sim = await simWith(pki.revoked);
    const c = connect(sim, { rootCAs: [pki.root.certPem] });
    await until("connected", () => c.status.state === "connected");
    await store.importCrl(await generateCrl({ issuer: pki.root, revoked: [pki.revoked.serialNumber] }));
    await until("revoked", () => c.status.lastError?.code === "ERR_S7_REVOKED", 10_000);
    assert.notEqual(c.status.state, "connected");
  });

  it("file removed from trusted/ → the running session ends (policy) and the next connection is refused as untrusted", async () => {
    const sim = await simWith(undefined);
    fs.mkdirSync(path.join(store.dir, "trusted"), { recursive: true });
    fs.writeFileSync(path.join(store.dir, "trusted", "plc1.der"), new (await import("node:crypto")).X509Certificate(sim.certificatePem).raw);
    const c = connect(sim);
    await until("connected", () => c.status.state === "connected");
    fs.rmSync(path.join(store.dir, "trusted", "plc1.der"));
    await until("refused", () => c.status.lastError?.code === "ERR_S7_UNTRUSTED", 10_000);
  });

  it("cert expired during a running connection → the connection continues; warn. Expired at connect → connects with a warning", async () => {
    const soon = issueCertificate({ commonName: "PLC_SOON", ipAddresses: ["127.0.0.1"], issuer: pki.root, notAfter: new Date(Date.now() + 2500) });
    const sim = await simWith(soon);
    const c = connect(sim, { rootCAs: [pki.root.certPem] });
    await until("connected", () => c.status.state === "connected");
    await new Promise((r) => setTimeout(r, 3000));
    // A store change makes every running connection re-check its certificate: expiry does not end it.
    fs.writeFileSync(path.join(store.dir, "untrusted", "noise.der"), pki.selfSigned.der);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(c.status.state, "connected");
    assert.equal((await c.read(["Line.Setpoint"]))[0]!.ok, true);
    // The next connection follows the expiry policy: a warning by default …
    sim.dropConnections();
    await until("reconnected with a warning", () => c.status.state === "connected" && (c.status.info?.verdict.warnings.some((w) => w.code === "EXPIRED") ?? false));
  });

  it("expired certificate with \"reject expired certificates\" on → refused \"expired\"", async () => {
    const sim = await simWith(pki.expiredCaIssued);
    const c = connect(sim, { rootCAs: [pki.root.certPem], rejectExpired: true });
    await until("refused", () => c.status.lastError?.code === "ERR_S7_EXPIRED");
  });

  it("new certs imported while running → used at the next (re)connection; no restart", async () => {
    const sim = await simWith(pki.leaf);
    const c = connect(sim, { rootCAs: [pki.root.certPem] });
    await until("connected", () => c.status.state === "connected");
    const renewed = issueCertificate({ commonName: "PLC_RENEWED", ipAddresses: ["127.0.0.1"], issuer: pki.root });
    sim.swapCertificate({ cert: renewed.certPem, key: renewed.keyPem });
    assert.equal((await c.read(["Line.Setpoint"]))[0]!.ok, true, "the current session is unaffected");
    sim.dropConnections();
    await until("reconnected with the new certificate", () => c.status.state === "connected" && c.status.info?.verdict.certificate.fingerprint256 === renewed.fingerprint256);
  });

  it("UseAlternativeAddress = 1, then ForceConnectionState = 1 → the alternative gets its own check: untrusted there is refused and stored; the primary's trust does not carry over", async () => {
    const primary = await simWith(pki.leaf, "PLC1");
    const alternative = await simWith(undefined, "PLC3");
    const c = connect(primary, { rootCAs: [pki.root.certPem], alternative });
    await until("connected to the primary", () => c.status.state === "connected");
    await c.setSystemTag("ForceConnectionState", 0);
    await c.setSystemTag("UseAlternativeAddress", 1);
    await c.setSystemTag("ForceConnectionState", 1);
    await until("alternative refused", () => c.status.lastError?.code === "ERR_S7_UNTRUSTED" && c.status.alternative);
    assert.ok(untrustedFiles().some((f) => f.startsWith("PLC3-")));
  });

  it("original secure, alternative without TLS → refused (no downgrade)", async () => {
    const primary = await simWith(pki.leaf, "PLC1");
    const legacy = await simWith(undefined, "LEGACY", { secureCommunication: false });
    const c = connect(primary, { rootCAs: [pki.root.certPem], alternative: legacy });
    await until("connected", () => c.status.state === "connected");
    await c.switchTo(true);
    await until("refused", () => c.status.lastError?.code === "ERR_S7_NO_TLS");
    assert.notEqual(c.status.state, "connected");
  });

  describe("certificates imported from files before the first connection (issue 19.3)", () => {
    it("a self-signed controller certificate exported as DER → the first connection is trusted, nothing lands in untrusted/", async () => {
      const sim = await simWith(pki.selfSigned);
      const imported = await store.importCertificate(pki.selfSigned.der, "PLC_1.cer");
      assert.equal(imported.destination, "trusted");
      const c = connect(sim);
      await until("connected", () => c.status.state === "connected");
      assert.equal(c.status.info?.verdict.trustedBy, "store");
      assert.deepEqual(untrustedFiles(), []);
    });

    it("a self-signed controller certificate exported as PEM → the first connection is trusted", async () => {
      const sim = await simWith(pki.selfSigned);
      await store.importCertificate(Buffer.from(pki.selfSigned.certPem), "PLC_1.pem");
      const c = connect(sim);
      await until("connected", () => c.status.state === "connected");
      assert.deepEqual(untrustedFiles(), []);
    });

    it("a root CA exported as DER → issuers/; a controller certificate it issued is trusted with no root CA in the connection", async () => {
      const sim = await simWith(pki.leaf);
      const imported = await store.importCertificate(pki.root.der, "root.der");
      assert.equal(imported.destination, "issuers");
      const c = connect(sim);
      await until("connected", () => c.status.state === "connected");
      assert.equal(c.status.info?.verdict.trustedBy, "root-ca");
      assert.deepEqual(untrustedFiles(), []);
    });

    it("a root CA exported as PEM → issuers/; the first connection to a controller it issued is trusted", async () => {
      const sim = await simWith(pki.leaf);
      await store.importCertificate(Buffer.from(pki.root.certPem), "root.crt");
      const c = connect(sim);
      await until("connected or refused", () => c.status.state === "connected" || c.status.lastError !== undefined);
      assert.equal(c.status.state, "connected", c.status.lastError?.message);
    });

    it("issuers/ is picked up while running: a connection refused as untrusted connects once a root CA file is dropped in, without a restart", async () => {
      const sim = await simWith(pki.leaf);
      const c = connect(sim);
      await until("refused", () => c.status.lastError?.code === "ERR_S7_UNTRUSTED");
      assert.match(c.status.lastError!.message, /import the issuing root certificate/);
      // As the connection node does: a change of issuers/ makes a waiting connection retry at once.
      const retry = (): void => c.retryNow();
      store.on("issuers-changed", retry);
      try {
        fs.writeFileSync(path.join(store.dir, "issuers", "plant-root.pem"), pki.root.certPem);
        await until("connected", () => c.status.state === "connected", 10_000);
        assert.equal(c.status.info?.verdict.trustedBy, "root-ca");
      } finally {
        store.off("issuers-changed", retry);
      }
    });

    it("a root CA removed from issuers/ ends the running session it vouched for", async () => {
      const sim = await simWith(pki.leaf);
      const imported = await store.importCertificate(pki.root.der, "root.der");
      const c = connect(sim);
      await until("connected", () => c.status.state === "connected");
      fs.rmSync(path.join(store.dir, imported.file));
      await until("refused", () => c.status.lastError?.code === "ERR_S7_UNTRUSTED", 10_000);
    });
  });
});
