import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../../src/cli/main.js";
import type { CliIO } from "../../src/cli/io.js";
import { generateCrl } from "../../src/pki/crl.js";

const BIN = path.resolve(__dirname, "..", "..", "..", "bin", "s7-secure.js");

function io(env: NodeJS.ProcessEnv = {}): CliIO & { out: string; err: string } {
  const o = { out: "", err: "" };
  return Object.assign(o, {
    stdout: (t: string) => void (o.out += t),
    stderr: (t: string) => void (o.err += t),
    env,
    signal: new AbortController().signal,
  });
}

function startSim(args: string[]): Promise<{ child: ChildProcess; port: number; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "sim", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /READY port=(\d+) fingerprint=([0-9a-f]{64})/.exec(out);
      if (m) resolve({ child, port: Number(m[1]), fingerprint: m[2]! });
    });
    child.on("exit", (code) => reject(new Error(`sim exited with ${code} before READY: ${out}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on("exit", (code) => resolve(code)));
}

describe("s7-secure command line", function () {
  this.timeout(60000);
  let sim: { child: ChildProcess; port: number; fingerprint: string };
  let store: string;

  before(async () => {
    sim = await startSim(["--port", "0", "--seconds", "120"]);
    store = fs.mkdtempSync(path.join(os.tmpdir(), "s7-cli-"));
  });
  after(async () => {
    const done = exited(sim.child);
    sim.child.kill("SIGTERM");
    assert.equal(await done, 0, "sim stops cleanly on SIGTERM");
    fs.rmSync(store, { recursive: true, force: true });
  });

  it("sim prints READY with the port and the SHA-256 of its certificate", () => {
    assert.ok(sim.port > 0);
    assert.match(sim.fingerprint, /^[0-9a-f]{64}$/);
  });

  it("probe refuses the unknown self-signed certificate, stores it in untrusted/ and says how to trust it", async () => {
    const o = io();
    assert.equal(await main(["probe", "127.0.0.1", "--port", String(sim.port), "--store", store], o), 1);
    assert.match(o.err, /manual trust required — move untrusted\/PLC1-[0-9a-f]{64}\.der/);
    const j = io();
    assert.equal(await main(["probe", "127.0.0.1", "--port", String(sim.port), "--store", store, "--json"], j), 1);
    const result = JSON.parse(j.out) as { ok: boolean; code: string; certificate: { fingerprint256: string; selfSigned: boolean } };
    assert.equal(result.ok, false);
    assert.equal(result.code, "ERR_S7_UNTRUSTED");
    assert.equal(result.certificate.fingerprint256, sim.fingerprint);
    assert.equal(result.certificate.selfSigned, true);
  });

  it("certs list/details/trust/untrust work on the store with JSON output", async () => {
    const list = io();
    assert.equal(await main(["certs", "list", "--store", store, "--json"], list), 0);
    const l = JSON.parse(list.out) as { untrusted: { fingerprint256: string }[]; trusted: unknown[] };
    assert.deepEqual(l.untrusted.map((c) => c.fingerprint256), [sim.fingerprint]);
    assert.equal(l.trusted.length, 0);
    const colon = sim.fingerprint.toUpperCase().match(/../g)!.join(":");
    const details = io();
    assert.equal(await main(["certs", "details", colon, "--store", store, "--json"], details), 0);
    assert.match(JSON.parse(details.out).subject as string, /CN=PLC1/);
    const t = io();
    assert.equal(await main(["certs", "trust", sim.fingerprint, "--store", store, "--json"], t), 0);
    assert.match(JSON.parse(t.out).file as string, /^trusted\/PLC1-/);
    const again = io();
    assert.equal(await main(["certs", "trust", sim.fingerprint, "--store", store], again), 1);
    assert.match(again.err, /already trusted/);
  });

  it("probe, browse, read and write work once the certificate is trusted", async () => {
    const p = io();
    assert.equal(await main(["probe", "127.0.0.1", "--port", String(sim.port), "--store", store, "--json"], p), 0, p.err);
    const probe = JSON.parse(p.out) as { tls: { version: string }; controller: { orderNumber: string; firmware: string }; trust: { trustedBy: string } };
    assert.equal(probe.tls.version, "TLSv1.3");
    assert.equal(probe.controller.orderNumber, "6ES7 516-3AN02-0AB0");
    assert.equal(probe.trust.trustedBy, "store");
    const b = io();
    assert.equal(await main(["browse", "127.0.0.1", "--port", String(sim.port), "--store", store], b), 0, b.err);
    assert.match(b.out, /Line\.Recipe\.Steps {2}Array\[0\.\.9\] of Int/);
    const w = io();
    assert.equal(await main(["write", "127.0.0.1", "--port", String(sim.port), "--store", store, "Line.Setpoint=321", "AllTypes.ULInt=18446744073709551614", "Line.Name=CLI"], w), 0, w.err + w.out);
    const r = io();
    assert.equal(await main(["read", "127.0.0.1", "--port", String(sim.port), "--store", store, "--json", "Line.Setpoint", "AllTypes.ULInt", "Line.Name"], r), 0, r.err);
    assert.deepEqual(JSON.parse(r.out), { "Line.Setpoint": 321, "AllTypes.ULInt": "18446744073709551614", "Line.Name": "CLI" });
  });

  it("a bad tag or value exits non-zero with one line naming it", async () => {
    const r = io();
    assert.equal(await main(["read", "127.0.0.1", "--port", String(sim.port), "--store", store, "Line.Nope"], r), 1);
    assert.match(r.out, /Line\.Nope = ERROR .*no member "Nope"/);
    const w = io();
    assert.equal(await main(["write", "127.0.0.1", "--port", String(sim.port), "--store", store, "Line.Setpoint=70000"], w), 1);
    assert.match(w.out, /Line\.Setpoint NOT written: .*70000 is outside -32768 … 32767/);
  });

  it("reads the password only from the environment variable named by --password-env", async () => {
    const r = io({});
    assert.equal(await main(["read", "127.0.0.1", "--port", String(sim.port), "--store", store, "--password-env", "S7_PW", "Line.Setpoint"], r), 1);
    assert.match(r.err, /environment variable S7_PW \(--password-env\) is not set/);
  });

  it("certs import-crl stores a CRL and untrust moves the certificate back", async () => {
    const { generateCa } = await import("../../src/pki/certificates.js");
    const ca = generateCa({ commonName: "CLI CA" });
    const crlFile = path.join(store, "ca.crl");
    fs.writeFileSync(crlFile, await generateCrl({ issuer: ca, revoked: ["1234"] }));
    const i = io();
    assert.equal(await main(["certs", "import-crl", crlFile, "--store", store, "--json"], i), 0, i.err);
    const imported = JSON.parse(i.out) as { file: string; issuer: string; revoked: number };
    assert.match(imported.file, /^trusted\/crl\//);
    assert.equal(imported.revoked, 1);
    const u = io();
    assert.equal(await main(["certs", "untrust", sim.fingerprint, "--store", store], u), 0, u.err);
    assert.match(u.out, /untrusted: untrusted\/PLC1-/);
  });

  it("sim stops by itself after --seconds", async () => {
    const s = await startSim(["--port", "0", "--seconds", "1"]);
    assert.equal(await exited(s.child), 0);
  });
});
