import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as net from "node:net";
import { main } from "../../src/cli/main.js";
import { parseAssignment, writeReport } from "../../src/cli/controller-commands.js";
import { defaultStoreDir } from "../../src/cli/connection-options.js";
import { ConnectionError, ValueError } from "../../src/errors.js";
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

function startSim(args: string[]): Promise<{ child: ChildProcess; port: number; fingerprint: string; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "sim", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /READY port=(\d+) fingerprint=([0-9a-f]{64})/.exec(out);
      // Resolved once the summary of what it serves is printed too.
      if (m && /Ctrl-C stops/.test(out)) resolve({ child, port: Number(m[1]), fingerprint: m[2]!, output: () => out });
    });
    child.on("exit", (code) => reject(new Error(`sim exited with ${code} before READY: ${out}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on("exit", (code) => resolve(code)));
}

describe("s7-secure command line", function () {
  this.timeout(60000);
  let sim: { child: ChildProcess; port: number; fingerprint: string; output: () => string };
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

  it("sim says what it serves: the address, the certificate, the tags and how to stop", () => {
    const out = sim.output();
    assert.match(out, new RegExp(`PLC1 \\(simulated 6ES7 516-3AN02-0AB0, firmware V3\\.1\\) on 127\\.0\\.0\\.1:${sim.port}`));
    assert.match(out, new RegExp(`certificate SHA-256 ${sim.fingerprint}`));
    assert.match(out, /DB1 "Line"/);
    assert.match(out, /Line\.Speed {2}Real/);
    assert.match(out, /Line\.Recipe/);
    assert.match(out, /Ctrl-C stops the simulator/);
  });

  it("--help on every command, --version, and usage for certs without an action", async () => {
    for (const command of ["probe", "browse", "read", "write", "certs", "sim"]) {
      const o = io();
      assert.equal(await main([command, "--help"], o), 0, `${command} --help: ${o.err}`);
      assert.match(o.out, new RegExp(`^usage: s7-secure ${command}`), command);
      assert.equal(o.err, "");
      const h = io();
      assert.equal(await main([command, "-h"], h), 0);
      assert.equal(h.out, o.out);
    }
    const v = io();
    assert.equal(await main(["--version"], v), 0);
    const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, "..", "..", "..", "package.json"), "utf8")) as { version: string };
    assert.equal(v.out, `${pkg.version}\n`);
    const c = io();
    assert.equal(await main(["certs"], c), 2);
    assert.match(c.err, /^s7-secure certs: missing action\nusage: s7-secure certs <action>/);
    assert.doesNotMatch(c.err, /unknown certs action/);
    const cs = io();
    assert.equal(await main(["certs", "--store", store], cs), 2);
    assert.match(cs.err, /missing action/);
  });

  it("parses <tag>=<value> with = inside quotes, and keeps numbers as typed", () => {
    assert.deepEqual(parseAssignment('Line.Name="a=b"'), { tag: "Line.Name", value: "a=b" });
    assert.deepEqual(parseAssignment('"My=DB".Name=x=y'), { tag: '"My=DB".Name', value: "x=y" });
    assert.deepEqual(parseAssignment("Line.Setpoint=1500"), { tag: "Line.Setpoint", value: 1500 });
    assert.deepEqual(parseAssignment("Line.Running=true"), { tag: "Line.Running", value: true });
    assert.deepEqual(parseAssignment("A.Real=99999999999999999999"), { tag: "A.Real", value: "99999999999999999999" });
    assert.deepEqual(parseAssignment("A.Real=1e400"), { tag: "A.Real", value: "1e400" });
    assert.deepEqual(parseAssignment("A.Real=1.50"), { tag: "A.Real", value: "1.50" });
    assert.deepEqual(parseAssignment("A.Real=-0.25"), { tag: "A.Real", value: -0.25 });
    assert.throws(() => parseAssignment('"Line.Name=x'), /is not <tag>=<value>/);
  });

  it("reports per tag what was written and what was not", () => {
    const lost = new ConnectionError("ERR_S7_CONNECTION_CLOSED", "connection lost before the answer", { plc: "PLC1" });
    const text = writeReport([
      { tag: "A.x", ok: true, value: 1 },
      { tag: "A.y", ok: false, error: lost },
      { tag: "A.z", ok: false, error: new ValueError("A.z: true is a boolean, not a number (Int); write 1 or 0") },
    ]);
    assert.equal(
      text,
      ["A.x = 1  written", "A.y NOT written: PLC PLC1: connection lost before the answer", "A.z NOT written: A.z: true is a boolean, not a number (Int); write 1 or 0", "1 of 3 tags written, 2 not written"].join("\n"),
    );
  });

  it("connection errors name host:port and say refused, or not an S7 controller", async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const r = io();
    assert.equal(await main(["probe", "127.0.0.1", "--port", String(closed), "--store", store], r), 1);
    assert.equal(r.err, `s7-secure: 127.0.0.1:${closed}: connection refused (nothing listens on port ${closed}; is the address right?)\n`);
    const sockets = new Set<net.Socket>();
    const http = net.createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => undefined);
      socket.write("HTTP/1.1 400 Bad Request\r\n\r\n");
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const port = (http.address() as net.AddressInfo).port;
    try {
      const n = io();
      assert.equal(await main(["probe", "127.0.0.1", "--port", String(port), "--store", store], n), 1);
      assert.match(n.err, new RegExp(`^s7-secure: 127\\.0\\.0\\.1:${port}: not an S7 controller\\? \\(.*TPKT`));
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => http.close(resolve));
    }
  });

  it("a --store that does not exist is an error, never a new empty store", async () => {
    const missing = path.join(store, "typo");
    const p = io();
    assert.equal(await main(["probe", "127.0.0.1", "--port", String(sim.port), "--store", missing], p), 1);
    assert.match(p.err, /the store folder does not exist \(--store .*typo\)/);
    assert.equal(fs.existsSync(missing), false);
  });

  it("the default store is Node-RED's when a Node-RED user directory exists", () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "s7-home-"));
    try {
      assert.equal(defaultStoreDir(home), path.join(home, ".s7-secure", "pki"));
      fs.mkdirSync(path.join(home, ".node-red"));
      assert.equal(defaultStoreDir(home), path.join(home, ".node-red", "s7-secure", "pki"));
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it("probe refuses the unknown self-signed certificate, stores it in untrusted/ and says how to trust it", async () => {
    const o = io();
    assert.equal(await main(["probe", "127.0.0.1", "--port", String(sim.port), "--store", store], o), 1);
    assert.match(o.err, /manual trust required — move untrusted\/PLC1-[0-9a-f]{64}\.der/);
    // Text mode shows the certificate a person has to compare, and the command to trust it.
    assert.match(o.err, new RegExp(`SHA-256 ${sim.fingerprint}`));
    assert.match(o.err, /certificate {2}CN=PLC1.*self-signed/);
    assert.match(o.err, new RegExp(`trust it {5}s7-secure certs trust ${sim.fingerprint} --store`));
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

  it("certs takes a unique fingerprint prefix of at least 8 hex digits and never creates a missing store", async () => {
    const { generateSelfSigned } = await import("../../src/pki/certificates.js");
    const own = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "s7-cli-prefix-")), "pki");
    for (const d of ["trusted/crl", "untrusted"]) fs.mkdirSync(path.join(own, d), { recursive: true });
    const a = generateSelfSigned({ commonName: "PREFIX_A" });
    const b = generateSelfSigned({ commonName: "PREFIX_B" });
    fs.writeFileSync(path.join(own, "untrusted", "a.der"), a.der);
    fs.writeFileSync(path.join(own, "untrusted", "b.der"), b.der);
    try {
      const eight = io();
      assert.equal(await main(["certs", "details", a.fingerprint256.slice(0, 8), "--store", own, "--json"], eight), 0, eight.err);
      assert.equal(JSON.parse(eight.out).fingerprint256, a.fingerprint256);
      const seven = io();
      assert.equal(await main(["certs", "details", b.fingerprint256.slice(0, 7), "--store", own], seven), 1);
      assert.match(seven.err, /no certificate [0-9a-f]{7} in the store/);
      // The same certificate under two names: even the whole fingerprint is ambiguous, and says so.
      fs.writeFileSync(path.join(own, "trusted", "a-copy.der"), a.der);
      const twice = io();
      assert.equal(await main(["certs", "details", a.fingerprint256, "--store", own], twice), 1);
      assert.match(twice.err, /matches 2 certificates \(.*a-copy\.der.*a\.der|matches 2 certificates \(.*a\.der.*a-copy\.der/);
      const missing = path.join(path.dirname(own), "typo");
      for (const action of ["list", "details", "trust"]) {
        const m = io();
        assert.equal(await main(["certs", action, ...(action === "list" ? [] : [a.fingerprint256]), "--store", missing], m), 1, action);
        assert.match(m.err, /store folder .*typo does not exist/);
      }
      assert.equal(fs.existsSync(missing), false, "no store was created");
    } finally {
      fs.rmSync(path.dirname(own), { recursive: true, force: true });
    }
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

  it("writes a value with = and quotes, echoes a long number as typed, refuses 1e400", async () => {
    const w = io();
    assert.equal(await main(["write", "127.0.0.1", "--port", String(sim.port), "--store", store, 'Line.Name="a=b"', "AllTypes.LReal=99999999999999999999"], w), 0, w.err + w.out);
    assert.match(w.out, /^Line\.Name = "a=b" {2}written$/m);
    assert.match(w.out, /^AllTypes\.LReal = 99999999999999999999 {2}written$/m);
    const r = io();
    assert.equal(await main(["read", "127.0.0.1", "--port", String(sim.port), "--store", store, "--json", "Line.Name"], r), 0, r.err);
    assert.deepEqual(JSON.parse(r.out), { "Line.Name": "a=b" });
    const inf = io();
    assert.equal(await main(["write", "127.0.0.1", "--port", String(sim.port), "--store", store, "AllTypes.LReal=1e400"], inf), 1);
    assert.match(inf.out, /AllTypes\.LReal NOT written: .*"1e400" is outside the range of LReal/);
    const big = io();
    assert.equal(await main(["write", "127.0.0.1", "--port", String(sim.port), "--store", store, "AllTypes.LInt=99999999999999999999"], big), 1);
    assert.match(big.out, /AllTypes\.LInt NOT written: .*"99999999999999999999" is outside -9223372036854775808/);
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
