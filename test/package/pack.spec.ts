/**
 * The published package: `npm pack` from a clean copy of the repository
 * (prepack builds), the tarball's contents, and the library used from the
 * tarball installed in a fresh folder, against the simulator.
 *
 * The registry is out of reach in tests, so the install unpacks the tarball
 * where npm puts it and copies the runtime dependencies from this
 * repository's node_modules.
 */
import { strict as assert } from "node:assert";
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import { Simulator } from "../../src/simulator/simulator.js";
import { defaultSimulatorConfig } from "../../src/simulator/config.js";
import { REPO, cleanCopy } from "./clean-copy.js";

const NAME = "@s7-secure/node-red-s7";
/** Asynchronous, so that the simulator in this process keeps answering. */
const run = promisify(execFile);

interface PackedFile {
  path: string;
}

/** The runtime dependency closure of a package, found in a flat node_modules. */
function dependencyClosure(modules: string, names: string[], seen = new Set<string>()): Set<string> {
  for (const name of names) {
    if (seen.has(name)) continue;
    seen.add(name);
    const pkg = JSON.parse(fs.readFileSync(path.join(modules, name, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    dependencyClosure(modules, Object.keys(pkg.dependencies ?? {}), seen);
  }
  return seen;
}

describe("the npm package", function () {
  this.timeout(120_000);
  let dir: string;
  let files: string[];
  let app: string;
  let sim: Simulator;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "s7-pack-"));
    const clone = path.join(dir, "clone");
    cleanCopy(clone);
    assert.ok(!fs.existsSync(path.join(clone, "dist")), "a clean copy has no dist/");
    const out = execFileSync("npm", ["pack", "--json", "--pack-destination", dir], { cwd: clone, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const report = JSON.parse(out.slice(out.indexOf("["))) as Array<{ filename: string; files: PackedFile[] }>;
    files = report[0]!.files.map((f) => f.path);
    const tarball = path.join(dir, report[0]!.filename);

    app = path.join(dir, "app");
    const target = path.join(app, "node_modules", ...NAME.split("/"));
    fs.mkdirSync(target, { recursive: true });
    fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "app", private: true }));
    execFileSync("tar", ["xzf", tarball, "-C", target, "--strip-components=1"]);
    const packed = JSON.parse(fs.readFileSync(path.join(target, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    for (const dep of dependencyClosure(path.join(REPO, "node_modules"), Object.keys(packed.dependencies))) {
      fs.cpSync(path.join(REPO, "node_modules", dep), path.join(app, "node_modules", dep), { recursive: true });
    }

    const config = defaultSimulatorConfig();
    config.port = 0;
    sim = await Simulator.start(config);
  });

  after(async () => {
    await sim?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("holds the compiled nodes, editor files, library and CLI, and no tests or sources", () => {
    for (const f of [
      "package.json",
      "README.md",
      "LICENSE",
      "bin/s7-secure.js",
      "dist/src/index.js",
      "dist/src/index.d.ts",
      "dist/src/cli/main.js",
      "dist/nodes/s7-read.js",
      "dist/nodes/s7-read.html",
      "dist/nodes/locales/en-US/s7-read.json",
      "dist/nodes/locales/de/s7-read.html",
      "examples/read-write.json",
    ]) {
      assert.ok(files.includes(f), `${f} is not in the tarball`);
    }
    assert.ok(files.some((f) => f.startsWith("dist/nodes/icons/")), "no icons");
    const unwanted = files.filter((f) => /^(dist\/)?(test|bench|scripts)\//.test(f) || /^(src|nodes)\//.test(f) || /\.spec\./.test(f));
    assert.deepEqual(unwanted, []);
  });

  it("names files that exist: main, types, bin and every node", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { main: string; types: string; bin: Record<string, string>; "node-red": { nodes: Record<string, string> } };
    for (const f of [pkg.main, pkg.types, ...Object.values(pkg.bin), ...Object.values(pkg["node-red"].nodes)]) {
      assert.ok(files.includes(f.replace(/^\.\//, "")), `${f} is named in package.json but not packed`);
    }
  });

  it("installed in a fresh folder: connect(), read, write, browse, close, typed errors, the CLI", async () => {
    const store = path.join(dir, "pki");
    fs.mkdirSync(path.join(store, "trusted"), { recursive: true });
    fs.writeFileSync(path.join(store, "trusted", "PLC1.der"), new X509Certificate(sim.certificatePem).raw);
    const script = `
      const { connect, S7Error, ConnectionError, ValueError } = require(${JSON.stringify(NAME)});
      (async () => {
        const plc = await connect({ host: "127.0.0.1", port: ${sim.port}, storeDir: ${JSON.stringify(store)} });
        const written = await plc.write({ "Line.Setpoint": 1234, "Line.Running": 5 });
        const read = await plc.read(["Line.Setpoint", "Line.Name"]);
        const tree = await plc.browse();
        await plc.close();
        let refused;
        try {
          await connect({ host: "127.0.0.1", port: 1, storeDir: ${JSON.stringify(store)}, connectTimeoutMs: 2000 });
        } catch (err) {
          refused = { s7: err instanceof S7Error, connection: err instanceof ConnectionError, code: err.code };
        }
        const badValue = written[1].ok ? null : { value: written[1].error instanceof ValueError, message: written[1].error.message };
        console.log(JSON.stringify({ written: written.map((w) => w.ok), read, plc: tree.plc.orderNumber, tags: tree.tags.map((t) => t.tag), refused, badValue }));
      })().catch((err) => { console.error(err); process.exit(1); });
    `;
    const out = JSON.parse((await run(process.execPath, ["-e", script], { cwd: app, encoding: "utf8" })).stdout) as {
      written: boolean[];
      read: Array<{ tag: string; ok: boolean; value: unknown }>;
      plc: string;
      tags: string[];
      refused: { s7: boolean; connection: boolean; code: string };
      badValue: { value: boolean; message: string } | null;
    };
    assert.deepEqual(out.written, [false, false], "a bad value refuses the whole request before anything is sent");
    assert.deepEqual(out.badValue?.value, true);
    assert.match(out.badValue!.message, /Line\.Running: 5 is not a Bool/);
    assert.deepEqual(out.read.map((r) => [r.tag, r.ok]), [["Line.Setpoint", true], ["Line.Name", true]]);
    assert.equal(out.read[1]!.value, "PLC1");
    assert.equal(out.plc, "6ES7 516-3AN02-0AB0");
    assert.ok(out.tags.includes("Line"), out.tags.join(", "));
    assert.equal(out.refused.s7, true);
    assert.equal(out.refused.connection, true);
    assert.match(out.refused.code, /^ERR_S7_CONNECT/);

    const version = execFileSync(process.execPath, [path.join(app, "node_modules", ...NAME.split("/"), "bin", "s7-secure.js"), "--version"], { encoding: "utf8" });
    assert.equal(version, `${(JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { version: string }).version}\n`);
  });

  it("writes from the installed package reach the controller", async () => {
    const store = path.join(dir, "pki");
    const script = `
      const { connect } = require(${JSON.stringify(NAME)});
      (async () => {
        const plc = await connect({ host: "127.0.0.1", port: ${sim.port}, storeDir: ${JSON.stringify(store)} });
        const written = await plc.write({ "Line.Setpoint": 1234 });
        const [setpoint] = await plc.read(["Line.Setpoint"]);
        await plc.close();
        console.log(JSON.stringify({ written, setpoint }));
      })().catch((err) => { console.error(err); process.exit(1); });
    `;
    const out = JSON.parse((await run(process.execPath, ["-e", script], { cwd: app, encoding: "utf8" })).stdout) as { written: unknown; setpoint: unknown };
    assert.deepEqual(out, { written: [{ tag: "Line.Setpoint", ok: true, value: 1234 }], setpoint: { tag: "Line.Setpoint", ok: true, value: 1234 } });
  });
});
