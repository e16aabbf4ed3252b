/**
 * The flow library's scorecard (`node-red-dev validate`, rules P01-P08,
 * N01-N02, D01-D03), judged offline from package.json, examples/ and the
 * node map. P08 (similar names in the catalogue), D02 (known bad packages)
 * and D03 (outdated dependencies) need the catalogue or the registry; their
 * result is recorded in the README's Development section.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..", "..");

interface PackageJson {
  name: string;
  license?: string;
  keywords?: string[];
  repository?: { url?: string } | string;
  bugs?: { url?: string } | string;
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  "node-red"?: { version?: string; nodes?: Record<string, string> };
}

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as PackageJson;
const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

/** Node types of Node-RED's core palette and of widely used S7 packages; ours must not reuse one. */
const TAKEN_TYPES = new Set([
  "inject", "debug", "complete", "catch", "status", "link in", "link out", "link call", "comment", "unknown", "junction",
  "function", "switch", "change", "range", "template", "delay", "trigger", "exec", "rbe", "filter",
  "mqtt in", "mqtt out", "mqtt-broker", "http in", "http response", "http request", "websocket in", "websocket out",
  "websocket-listener", "websocket-client", "tcp in", "tcp out", "tcp request", "udp in", "udp out", "tls-config", "http proxy",
  "split", "join", "sort", "batch", "csv", "html", "json", "xml", "yaml", "file", "file in", "watch",
  "s7 endpoint", "s7 in", "s7 out", "s7 control", "s7comm", "s7comm read", "s7comm write",
]);

/** The types the node files register, read from the compiled nodes that package.json names. */
function registeredTypes(): string[] {
  const types: string[] = [];
  for (const file of Object.values(pkg["node-red"]?.nodes ?? {})) {
    const code = fs.readFileSync(path.join(ROOT, file), "utf8");
    for (const m of code.matchAll(/registerType\("([^"]+)"/g)) types.push(m[1]!);
  }
  return types;
}

function url(field: { url?: string } | string | undefined): string {
  return typeof field === "string" ? field : (field?.url ?? "");
}

describe("flow library scorecard (offline rules)", () => {
  it("P01 declares a license and ships its text", () => {
    assert.equal(pkg.license, "MIT");
    assert.match(fs.readFileSync(path.join(ROOT, "LICENSE"), "utf8"), /MIT License/);
  });

  it("P02/P03 names a repository whose name matches the package, and an issue tracker", () => {
    const repo = url(pkg.repository);
    assert.match(repo, /^https:\/\/github\.com\/[^/]+\/[^/]+?(\.git)?$/);
    const repoName = /\/([^/]+?)(\.git)?$/.exec(repo)![1];
    assert.equal(repoName, pkg.name.replace(/^@[^/]+\//, ""));
    assert.match(url(pkg.bugs), /^https:\/\/github\.com\/.+\/issues$/);
  });

  it("P04 is a scoped package", () => {
    assert.match(pkg.name, /^@[a-z0-9-]+\/[a-z0-9-]+$/);
  });

  it("P05 has the node-red keyword first, then what users search for", () => {
    assert.deepEqual(pkg.keywords, ["node-red", "siemens", "s7", "s7-1500", "s7-1200", "s7commplus", "tls", "plc", "industrial", "scada"]);
  });

  it("P06/P07 declare node-red.version and engines.node, as the README's compatibility table says", () => {
    const nodeRed = pkg["node-red"]?.version ?? "";
    const node = pkg.engines?.node ?? "";
    const minNodeRed = /^>=(\d+\.\d+)(\.0)?$/.exec(nodeRed)?.[1];
    const minNode = /^>=(\d+\.\d+)$/.exec(node)?.[1];
    assert.ok(minNodeRed, `node-red.version "${nodeRed}" is not a plain lower bound`);
    assert.ok(minNode, `engines.node "${node}" is not a plain lower bound`);
    const table = readme.slice(readme.indexOf("## Compatibility"));
    const rows = [...table.matchAll(/^\| (\d+)\.(\d+)\.\d+ \| (\d+) \|/gm)].map((m) => ({ nodeRed: `${m[1]}.${m[2]}`, node: Number(m[3]) }));
    assert.ok(rows.length > 0, "the README has no compatibility table");
    const oldest = rows.reduce((a, b) => (Number(a.nodeRed.split(".")[0]) * 100 + Number(a.nodeRed.split(".")[1]) <= Number(b.nodeRed.split(".")[0]) * 100 + Number(b.nodeRed.split(".")[1]) ? a : b));
    assert.equal(minNodeRed, oldest.nodeRed, "node-red.version is the oldest Node-RED in the table");
    assert.equal(Number(minNode.split(".")[0]), Math.min(...rows.map((r) => r.node)), "engines.node is the oldest Node.js major in the table");
    assert.ok(readme.includes(`Node.js ≥ ${minNode}`), `the README's requirements say Node.js ≥ ${minNode}`);
  });

  it("N01 registers node types that clash with no core or well-known node", () => {
    const types = registeredTypes();
    assert.deepEqual([...types].sort(), Object.keys(pkg["node-red"]?.nodes ?? {}).sort(), "each node file registers the type it is listed under");
    for (const t of types) assert.ok(!TAKEN_TYPES.has(t), `node type "${t}" is taken`);
  });

  it("N02 uses every node in at least one example", () => {
    const used = new Set<string>();
    for (const file of fs.readdirSync(path.join(ROOT, "examples")).filter((f) => f.endsWith(".json"))) {
      for (const n of JSON.parse(fs.readFileSync(path.join(ROOT, "examples", file), "utf8")) as Array<{ type: string }>) used.add(n.type);
    }
    for (const t of registeredTypes()) assert.ok(used.has(t), `no example uses ${t}`);
  });

  it("D01 has at most six runtime dependencies, none of them Node-RED itself", () => {
    const deps = Object.keys(pkg.dependencies ?? {});
    assert.ok(deps.length <= 6, `${deps.length} dependencies: ${deps.join(", ")}`);
    assert.ok(!deps.includes("node-red"));
  });
});
