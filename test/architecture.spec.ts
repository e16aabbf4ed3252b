/**
 * The layer order of src/ and nodes/, read from the imports of every file:
 * a file may import its own layer and the layers below it, never one above.
 *
 *   src/*.ts (errors, …)  <  protocol, values  <  tags  <  transport  <  trust, pki
 *   <  client  <  flow, cli, simulator, src/index.ts (the library)  <  nodes
 *
 * Beside that: layers that share a rank do not import each other, except the
 * pairs listed in PEERS; the simulator never imports the client; nothing in
 * src/ imports Node-RED.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");

/** Rank of each layer; "root" is a file directly in src/. */
const RANK: Readonly<Record<string, number>> = {
  root: 0,
  protocol: 1,
  values: 1,
  tags: 2,
  transport: 3,
  trust: 4,
  pki: 4,
  client: 5,
  flow: 6,
  cli: 6,
  simulator: 6,
  library: 6,
  nodes: 7,
};

/** Same-rank imports that are allowed ("from>to"). */
const PEERS = new Set(["protocol>values", "values>protocol", "pki>trust", "cli>simulator"]);

/** Imports that are refused even though the rank would allow them. */
const FORBIDDEN = new Set(["simulator>client"]);

const NODE_RED = /^(node-red|@node-red\/.*)$/;

/** One import: the importing file and the specifier, both relative to the repository. */
export interface ImportEdge {
  file: string;
  specifier: string;
}

/**
 * The layer of a repository path ("src/client/session.ts" → "client"), or
 * undefined outside src/ and nodes/. `src/index.ts`, the library's front door,
 * is a layer of its own beside flow and cli.
 */
function layerOf(file: string): string | undefined {
  const parts = file.split("/");
  if (parts[0] === "nodes") return "nodes";
  if (parts[0] !== "src") return undefined;
  if (file === "src/index.ts") return "library";
  return parts.length === 2 ? "root" : parts[1];
}

/** Resolves a relative specifier of `file` to a repository path ("../errors.js" → "src/errors.ts"). */
function resolve(file: string, specifier: string): string {
  return path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)).replace(/\.js$/, ".ts");
}

/** Every import that breaks the layer order, as "file imports specifier (reason)". */
export function layerViolations(edges: readonly ImportEdge[]): string[] {
  const out: string[] = [];
  for (const { file, specifier } of edges) {
    const from = layerOf(file);
    if (from === undefined) continue;
    if (!specifier.startsWith(".")) {
      if (from !== "nodes" && NODE_RED.test(specifier)) out.push(`${file} imports ${specifier} (no Node-RED in src/)`);
      continue;
    }
    const target = resolve(file, specifier);
    const to = layerOf(target);
    const fromRank = RANK[from];
    const toRank = to === undefined ? undefined : RANK[to];
    if (fromRank === undefined) {
      out.push(`${file} imports ${specifier} (layer "${from}" is not in the layer order)`);
    } else if (to === undefined || toRank === undefined) {
      out.push(`${file} imports ${specifier} (${target} is outside the layers)`);
    } else if (FORBIDDEN.has(`${from}>${to}`)) {
      out.push(`${file} imports ${specifier} (${from} never imports ${to})`);
    } else if (toRank > fromRank) {
      out.push(`${file} imports ${specifier} (${from} is below ${to})`);
    } else if (toRank === fromRank && from !== to && !PEERS.has(`${from}>${to}`)) {
      out.push(`${file} imports ${specifier} (${from} and ${to} are peers that do not import each other)`);
    }
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...sourceFiles(rel));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) out.push(rel);
  }
  return out;
}

/**
 * The module specifiers of a TypeScript source: static imports and re-exports
 * (also `import type`), side-effect imports, dynamic `import()` and `require()`.
 * Comments are removed first so that an example in a comment does not count.
 */
export function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|\s)\/\/.*$/gm, "$1");
  const out: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^;"'`]*?\sfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\b(?:import|require)\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) for (const m of code.matchAll(pattern)) if (m[1] !== undefined) out.push(m[1]);
  return out;
}

/** The imports of every TypeScript file of src/ and nodes/. */
function repositoryImports(): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of [...sourceFiles("src"), ...sourceFiles("nodes")]) {
    for (const specifier of importsOf(fs.readFileSync(path.join(ROOT, file), "utf8"))) edges.push({ file, specifier });
  }
  return edges;
}

describe("architecture: the layer order of src/ and nodes/", () => {
  it("reads the imports of every file (each layer has files, the graph is not empty)", () => {
    const layers = new Set([...sourceFiles("src"), ...sourceFiles("nodes")].map(layerOf));
    for (const layer of Object.keys(RANK)) assert.ok(layers.has(layer), `no file of layer ${layer} was found`);
    const edges = repositoryImports();
    assert.ok(edges.length > 200, `only ${edges.length} imports read`);
  });

  it("has no import against the layer order", () => {
    assert.deepEqual(layerViolations(repositoryImports()), []);
  });

  it("names the file and the import of each violation in a bad graph", () => {
    const bad: ImportEdge[] = [
      { file: "src/simulator/controller.ts", specifier: "../client/session.js" },
      { file: "src/values/value-map.ts", specifier: "../client/plc-time.js" },
      { file: "src/protocol/frame.ts", specifier: "../tags/symbols.js" },
      { file: "src/errors.ts", specifier: "./protocol/bytes.js" },
      { file: "src/flow/status.ts", specifier: "../cli/io.js" },
      { file: "src/client/session.ts", specifier: "node-red" },
      { file: "src/client/session.ts", specifier: "../../nodes/red.js" },
      { file: "src/transport/tpkt.ts", specifier: "../../test/support/pki.js" },
      { file: "scripts/fuzz.ts", specifier: "../test/support/pki.js" },
      { file: "src/trust/verifier.ts", specifier: "../pki/certificates.js" },
      { file: "src/client/session.ts", specifier: "../index.js" },
    ];
    assert.deepEqual(layerViolations(bad), [
      "src/simulator/controller.ts imports ../client/session.js (simulator never imports client)",
      "src/values/value-map.ts imports ../client/plc-time.js (values is below client)",
      "src/protocol/frame.ts imports ../tags/symbols.js (protocol is below tags)",
      "src/errors.ts imports ./protocol/bytes.js (root is below protocol)",
      "src/flow/status.ts imports ../cli/io.js (flow and cli are peers that do not import each other)",
      "src/client/session.ts imports node-red (no Node-RED in src/)",
      "src/client/session.ts imports ../../nodes/red.js (client is below nodes)",
      "src/transport/tpkt.ts imports ../../test/support/pki.js (test/support/pki.ts is outside the layers)",
      "src/trust/verifier.ts imports ../pki/certificates.js (trust and pki are peers that do not import each other)",
      "src/client/session.ts imports ../index.js (client is below library)",
    ]);
  });

  it("finds every form of import and none in comments", () => {
    const source = [
      `import { a } from "./a.js";`,
      `import type {`,
      `  B,`,
      `} from "../b.js";`,
      `export { c } from "./c.js";`,
      `export * from "./d.js";`,
      `import "./e.js";`,
      `const f = await import("./f.js");`,
      `const g = require("node-red");`,
      `// import { x } from "./commented.js";`,
      `/** require("./doc-example.js") */`,
      `const url = "http://example.invalid/x"; // from "./after-string.js"`,
    ].join("\n");
    assert.deepEqual(importsOf(source).sort(), ["../b.js", "./a.js", "./c.js", "./d.js", "./e.js", "./f.js", "node-red"]);
  });

  it("accepts the allowed arrows of a good graph", () => {
    const good: ImportEdge[] = [
      { file: "src/values/value-map.ts", specifier: "../protocol/pvalue.js" },
      { file: "src/protocol/pvalue.ts", specifier: "../values/plc-type.js" },
      { file: "src/cli/sim.ts", specifier: "../simulator/simulator.js" },
      { file: "src/pki/certificates.ts", specifier: "../trust/pem.js" },
      { file: "src/client/session.ts", specifier: "../errors.js" },
      { file: "src/index.ts", specifier: "./client/controller-connection.js" },
      { file: "nodes/s7-read.ts", specifier: "../src/client/controller-connection.js" },
      { file: "nodes/red.ts", specifier: "node-red" },
      { file: "src/transport/tpkt.ts", specifier: "node:net" },
    ];
    assert.deepEqual(layerViolations(good), []);
  });
});
