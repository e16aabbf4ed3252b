/**
 * The command line with engineering files (issue 19 points 3 and 4):
 * `certs import` of a TIA Portal certificate export (shown, confirmed, then
 * a first connection that is trusted without any manual step), and
 * `read`/`write --tag-table` resolving a table's names against the simulator.
 */
import { strict as assert } from "node:assert";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fixturePath } from "../../scripts/support/fixtures.js";
import { main } from "../../src/cli/main.js";
import { collectingIO } from "../support/cli-io.js";
import { defaultSimulatorConfig } from "../../src/simulator/config.js";
import { Simulator } from "../../src/simulator/simulator.js";

const io = collectingIO;

describe("s7-secure with engineering files: certs import, --tag-table", function () {
  this.timeout(60_000);
  let sim: Simulator;
  let caSim: Simulator;
  let dir: string;
  let store: string;
  /** The certificate files of a store folder (none when the folder was never made). */
  const certFiles = (folder: string): string[] =>
    fs.existsSync(path.join(store, folder)) ? fs.readdirSync(path.join(store, folder), { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name) : [];

  before(async () => {
    sim = await Simulator.start(defaultSimulatorConfig());
    caSim = await Simulator.start({ ...defaultSimulatorConfig(), name: "PLC2", certificate: { mode: "ca" } });
  });
  after(async () => {
    await sim.stop();
    await caSim.stop();
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "s7-cli-offline-"));
    store = path.join(dir, "pki");
    fs.mkdirSync(store);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const connect = (s: Simulator): string[] => ["127.0.0.1", "--port", String(s.port), "--store", store, "--timeout", "3000"];

  it("certs import shows subject, SHA-256 and validity and asks; without a yes nothing is written", async () => {
    const file = path.join(dir, "PLC_1.cer");
    fs.writeFileSync(file, new X509Certificate(sim.certificatePem).raw);
    const o = io("n\n");
    assert.equal(await main(["certs", "import", file, "--store", store], o), 1);
    assert.match(o.err, /certificate {2}CN=/);
    assert.match(o.err, new RegExp(`SHA-256 ${sim.fingerprint256}`));
    assert.match(o.err, /valid \d{4}-\d\d-\d\dT.* … \d{4}-/);
    assert.match(o.err, /import to {4}trusted\/: a self-signed controller certificate/);
    assert.match(o.err, /import it\? \[y\/N\] not imported/);
    assert.deepEqual(certFiles("trusted"), []);
    // No input at all is no yes either.
    assert.equal(await main(["certs", "import", file, "--store", store], io()), 1);
    assert.deepEqual(certFiles("trusted"), []);
  });

  it("certs import (DER, answered y) → trusted/; the first read is trusted without any manual step", async () => {
    const file = path.join(dir, "PLC_1.der");
    fs.writeFileSync(file, new X509Certificate(sim.certificatePem).raw);
    const o = io("y\n");
    assert.equal(await main(["certs", "import", file, "--store", store], o), 0, o.err);
    assert.match(o.out, /^imported: trusted\/.*\.der/);
    const r = io();
    assert.equal(await main(["read", ...connect(sim), "Line.Setpoint"], r), 0, r.err);
    assert.equal(r.out, "Line.Setpoint = 1200\n");
    assert.deepEqual(certFiles("untrusted"), []);
  });

  it("certs import --yes of a CA (PEM) → issuers/; a controller it issued is read with no --ca", async () => {
    const file = path.join(dir, "plant-root.pem");
    fs.writeFileSync(file, caSim.caCertificatePem!);
    const o = io();
    assert.equal(await main(["certs", "import", file, "--yes", "--json", "--store", store], o), 0, o.err);
    const result = JSON.parse(o.out) as { destination: string; file: string; certificate: { fingerprint256: string } };
    assert.equal(result.destination, "issuers");
    assert.match(result.file, /^issuers\//);
    const list = io();
    await main(["certs", "list", "--json", "--store", store], list);
    assert.deepEqual((JSON.parse(list.out) as { issuers: { fingerprint256: string }[] }).issuers.map((c) => c.fingerprint256), [result.certificate.fingerprint256]);
    const r = io();
    assert.equal(await main(["read", ...connect(caSim), "Line.Name"], r), 0, r.err);
    assert.equal(r.out, 'Line.Name = "PLC1"\n');
  });

  it("certs import refuses a file that is not a certificate, naming it", async () => {
    const file = path.join(dir, "readme.crt");
    fs.writeFileSync(file, "not a certificate");
    const o = io();
    assert.equal(await main(["certs", "import", file, "--yes", "--store", store], o), 1);
    assert.match(o.err, /readme\.crt: not a certificate/);
  });

  describe("--tag-table", () => {
    beforeEach(async () => {
      fs.mkdirSync(path.join(store, "trusted"), { recursive: true });
      fs.writeFileSync(path.join(store, "trusted", "plc1.der"), new X509Certificate(sim.certificatePem).raw);
    });
    const tables = ["--tag-table", fixturePath("tia", "simulator", "plc-tags.xml"), "--tag-table", fixturePath("tia", "simulator", "db-line.xml")];

    it("write and read a table's PLC tag by name (Speed_SP at %MW20, Int); the absolute address holds the value", async () => {
      const w = io();
      assert.equal(await main(["write", ...connect(sim), ...tables, "Speed_SP=321", "Flow_Actual=2.5"], w), 0, w.err);
      assert.equal(w.out, "Speed_SP = 321  written\nFlow_Actual = 2.5  written\n");
      const r = io();
      assert.equal(await main(["read", ...connect(sim), ...tables, "Speed_SP", "Flow_Actual", "MW20:INT", "--json"], r), 0, r.err);
      assert.deepEqual(JSON.parse(r.out), { Speed_SP: 321, Flow_Actual: 2.5, "MW20:INT": 321 });
    });

    it("a DB member the controller types otherwise: read with the controller's type, and a warning naming both", async () => {
      const r = io();
      assert.equal(await main(["read", ...connect(sim), ...tables, "Line.Setpoint", "Line.Speed"], r), 0, r.err);
      assert.match(r.out, /^Line\.Setpoint = 1200\nLine\.Speed = -?\d/);
      assert.match(r.err, /^warning: Line\.Speed: the tag table \(.*db-line\.xml:\d+\) says Int, the controller says Real; the controller's type is used\n$/);
    });

    it("without --tag-table a table name is not known to the controller", async () => {
      const r = io();
      assert.equal(await main(["read", ...connect(sim), "Speed_SP"], r), 1);
      assert.match(r.out, /Speed_SP = ERROR/);
    });

    it("a bad table file is one error naming file and line, before any connection", async () => {
      const before = sim.stats.connectionsTotal;
      const r = io();
      assert.equal(await main(["read", ...connect(sim), "--tag-table", fixturePath("tia", "simulator", "broken.xml"), "Speed_SP"], r), 1);
      assert.match(r.err, /broken\.xml:4: <Tag>: tag Bad_Tag at %MD2/);
      assert.equal(sim.stats.connectionsTotal, before, "the controller was not contacted");
    });

    it("--tag-table belongs to read and write only", async () => {
      const r = io();
      assert.equal(await main(["probe", ...connect(sim), ...tables], r), 1);
      assert.match(r.err, /--tag-table is an option of read and write/);
    });
  });
});
