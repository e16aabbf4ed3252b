/**
 * Editor side of the nodes: message catalogues, help texts, edit templates and
 * the registerType contract (docs/EDITOR.md), checked without a browser.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as vm from "node:vm";
import { spawnSync } from "node:child_process";
import { parseAlternativeAddress as runtimeParseAlternativeAddress } from "../../src/client/alternative-address.js";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const DIST_NODES = path.join(ROOT, "dist", "nodes");
const NODES = ["s7-secure-connection", "s7-read", "s7-write", "s7-switch-connection", "cert-trust", "s7-alarms"] as const;
const FLOW_NODES = NODES.filter((n) => n !== "s7-secure-connection");
const LANGS = ["en-US", "de"] as const;
const STATUS_NODES = ["s7-read", "s7-write", "s7-switch-connection", "s7-alarms"];
const CONNECTION_STATUS_KEYS = [
  "connecting",
  "connected",
  "disconnected",
  "reconnecting",
  "untrusted",
  "expired",
  "forcedOff",
  "error",
  "reading",
  "writing",
];
const HELP_HEADINGS: Record<string, string[]> = {
  "en-US": ["Inputs", "Outputs", "Details", "References"],
  de: ["Eingangsdaten", "Ausgangsdaten", "Details", "Referenzen"],
};

type Catalogue = { [key: string]: string | Catalogue };

function read(...parts: string[]): string {
  return fs.readFileSync(path.join(ROOT, ...parts), "utf8");
}
function catalogue(lang: string, node: string): Catalogue {
  return JSON.parse(read("locales", lang, `${node}.json`)) as Catalogue;
}
function flatten(cat: Catalogue, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(cat)) {
    const full = prefix ? `${prefix}.${key}` : key;
    if (typeof value === "string") out.set(full, value);
    else for (const [k, v] of flatten(value, full)) out.set(k, v);
  }
  return out;
}
function placeholders(text: string): string[] {
  return (text.match(/__[A-Za-z0-9]+__/g) ?? []).sort();
}
function scripts(html: string, type: string): string[] {
  const re = new RegExp(`<script type="${type.replace("/", "\\/")}"[^>]*>([\\s\\S]*?)</script>`, "g");
  return [...html.matchAll(re)].map((m) => m[1] ?? "");
}
function i18nKeys(html: string): string[] {
  const keys: string[] = [];
  for (const m of html.matchAll(/data-i18n="([^"]+)"/g)) {
    for (const part of (m[1] ?? "").split(";")) {
      const key = part.replace(/^\[[a-z-]+\]/, "").trim();
      if (key) keys.push(key);
    }
  }
  return keys;
}

/** Loads the editor scripts of all nodes into a sandbox with a minimal RED and jQuery. */
interface NodeDef {
  category: string;
  color?: string;
  icon?: string;
  inputs?: number;
  outputs?: number;
  defaults: Record<string, { value: unknown; required?: boolean; type?: string; validate?: (this: unknown, v: unknown, opt?: unknown) => unknown }>;
  credentials?: Record<string, { type: string }>;
  label: (this: unknown) => string;
  _?: (key: string, args?: Record<string, unknown>) => string;
}
/** The settings the connection node registers for the editor, read from the running node's registration. */
function editorConnectionDefaults(): unknown {
  let exported: unknown;
  const red = {
    nodes: {
      createNode: () => undefined,
      getNode: () => null,
      registerType(_type: string, _ctor: unknown, options?: { settings?: Record<string, { value: unknown }> }) {
        exported = options?.settings?.["s7SecureConnectionDefaults"]?.value;
      },
    },
    httpAdmin: { get: () => undefined, post: () => undefined },
    auth: { needsPermission: () => () => undefined },
    settings: {},
    _: (k: string) => k,
    log: { warn: () => undefined, info: () => undefined, error: () => undefined },
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require(path.join(DIST_NODES, "s7-secure-connection.js")) as (r: unknown) => void)(red);
  return exported;
}

function loadDefinitions(configNodes: Array<{ id: string; type: string; name: string }> = []): {
  defs: Map<string, NodeDef>;
  helpers: Record<string, (...args: never[]) => unknown>;
} {
  const defs = new Map<string, NodeDef>();
  const en = new Map<string, string>();
  for (const node of NODES) for (const [k, v] of flatten(catalogue("en-US", node))) en.set(k, v);
  const translate = (key: string, args?: Record<string, unknown>): string => {
    let text = en.get(key) ?? key;
    for (const [name, value] of Object.entries(args ?? {})) text = text.split(`__${name}__`).join(String(value));
    return text;
  };
  const jq = (): unknown => ({ length: 0, val: () => undefined, on: () => undefined });
  const sandbox: Record<string, unknown> = {
    window: {},
    URL,
    $: jq,
    RED: {
      _: translate,
      nodes: {
        registerType(type: string, def: NodeDef) {
          def._ = translate;
          defs.set(type, def);
        },
        eachConfig(cb: (n: unknown) => unknown) {
          for (const n of configNodes) if (cb(n) === false) break;
        },
        node: () => null,
      },
      validators: {},
      // What the connection node exports to the editor (nodes/s7-secure-connection.ts).
      settings: { s7SecureConnectionDefaults: editorConnectionDefaults() },
    },
  };
  vm.createContext(sandbox);
  for (const node of NODES) {
    for (const code of scripts(read("nodes", `${node}.html`), "text/javascript")) vm.runInContext(code, sandbox);
  }
  const helpers = (sandbox["window"] as Record<string, unknown>)["S7SecureEditor"] as Record<string, (...args: never[]) => unknown>;
  return { defs, helpers };
}
function validate(def: NodeDef, prop: string, value: unknown, self: Record<string, unknown> = {}): true | string {
  const spec = def.defaults[prop];
  assert.ok(spec, `no default ${prop}`);
  if (spec.required && (value === "" || value === undefined)) return "required";
  if (!spec.validate) return true;
  const node = { _: def._, ...self };
  const result = spec.validate.call(node, value, {});
  return result === true ? true : String(result);
}

describe("editor: files", () => {
  for (const node of NODES) {
    it(`${node} has its editor file, catalogues and help in en-US and de, copied by the build`, () => {
      const files = [path.join("nodes", `${node}.html`)];
      for (const lang of LANGS) files.push(path.join("locales", lang, `${node}.json`), path.join("locales", lang, `${node}.html`));
      for (const file of files) assert.ok(fs.existsSync(path.join(ROOT, file)), `${file} missing`);
      assert.ok(fs.existsSync(path.join(DIST_NODES, `${node}.html`)), "build did not copy the editor file");
      for (const lang of LANGS) {
        assert.ok(fs.existsSync(path.join(DIST_NODES, "locales", lang, `${node}.json`)), `build did not copy ${lang} catalogue`);
        assert.ok(fs.existsSync(path.join(DIST_NODES, "locales", lang, `${node}.html`)), `build did not copy ${lang} help`);
      }
    });
  }

  it("icons are 40x60 SVGs and are copied by the build", () => {
    for (const icon of ["s7-secure.svg", "s7-switch.svg", "cert-trust.svg"]) {
      const svg = read("icons", icon);
      assert.match(svg, /^<svg [^>]*viewBox="0 0 40 60"/, icon);
      assert.ok(fs.existsSync(path.join(DIST_NODES, "icons", icon)), `${icon} not copied`);
    }
  });
});

describe("editor: message catalogues", () => {
  for (const node of NODES) {
    it(`${node}: en-US and de parse, have the same keys and the same placeholders`, () => {
      const en = flatten(catalogue("en-US", node));
      const de = flatten(catalogue("de", node));
      assert.deepEqual([...de.keys()].sort(), [...en.keys()].sort());
      for (const [key, text] of en) {
        assert.ok(text.trim() !== "", `${key} is empty`);
        assert.deepEqual(placeholders(de.get(key) ?? ""), placeholders(text), `placeholders of ${key} differ`);
      }
    });

    it(`${node}: the catalogue is keyed by the node type with label/status/errors/placeholder`, () => {
      for (const lang of LANGS) {
        const cat = catalogue(lang, node);
        const own = cat[node];
        assert.ok(own && typeof own === "object", `${lang}: no "${node}" section`);
        for (const group of Object.keys(own)) assert.ok(["label", "status", "errors", "placeholder"].includes(group), `${lang}: unexpected group ${group}`);
        for (const top of Object.keys(cat)) assert.ok(top === node || top === "s7-secure-connection", `${lang}: unexpected section ${top}`);
      }
    });

    it(`${node}: every data-i18n key and every literal _() key of the editor exists in en-US`, () => {
      const html = read("nodes", `${node}.html`);
      const en = flatten(catalogue("en-US", node));
      const keys = i18nKeys(html);
      for (const m of html.matchAll(/_\("([^"]+)"\s*[,)]/g)) keys.push(m[1] ?? "");
      assert.ok(keys.length > 0);
      for (const key of keys) {
        assert.ok(key.startsWith(`${node}.`), `${key} is not in the ${node} namespace`);
        assert.ok(en.has(key), `${key} missing from locales/en-US/${node}.json`);
      }
    });
  }

  it("the nodes that show a connection status carry the shared s7-secure-connection.status keys", () => {
    for (const lang of LANGS) {
      const reference = (catalogue(lang, "s7-secure-connection")["s7-secure-connection"] as Catalogue)["status"] as Catalogue;
      for (const key of CONNECTION_STATUS_KEYS) assert.ok(typeof reference[key] === "string", `${lang}: status.${key} missing`);
      assert.match(String(reference["connected"]), /__version__/);
      for (const node of STATUS_NODES) {
        const shared = catalogue(lang, node)["s7-secure-connection"] as Catalogue | undefined;
        assert.ok(shared, `${lang}/${node}: no s7-secure-connection section`);
        assert.deepEqual(shared["status"], reference, `${lang}/${node}: status block differs from the connection's`);
      }
    }
  });

  it("cert-trust has status.storeOk with __trusted__/__untrusted__ and status.storeError", () => {
    for (const lang of LANGS) {
      const status = flatten(catalogue(lang, "cert-trust"));
      assert.deepEqual(placeholders(status.get("cert-trust.status.storeOk") ?? ""), ["__trusted__", "__untrusted__"]);
      assert.ok(status.has("cert-trust.status.storeError"));
    }
  });

  it("status texts stay under 20 characters with typical values", () => {
    const sample: Record<string, string> = { version: "1.3", trusted: "12", untrusted: "3", failed: "12", total: "40", active: "3", unack: "1" };
    for (const lang of LANGS) {
      for (const node of NODES) {
        for (const [key, text] of flatten(catalogue(lang, node))) {
          if (!/\.status\./.test(key)) continue;
          const shown = text.replace(/__([A-Za-z0-9]+)__/g, (_m, name: string) => sample[name] ?? "xx");
          assert.ok(shown.length < 20, `${lang} ${key}: "${shown}" is ${shown.length} characters`);
        }
      }
    }
  });
});

describe("editor: help texts", () => {
  for (const lang of LANGS) {
    for (const node of NODES) {
      it(`${lang}/${node}: one help block, one-line first paragraph, style-guide sections`, () => {
        const html = read("locales", lang, `${node}.html`);
        const blocks = [...html.matchAll(/<script type="text\/html" data-help-name="([^"]+)">([\s\S]*?)<\/script>/g)];
        assert.equal(blocks.length, 1);
        assert.equal(blocks[0]?.[1], node);
        const body = (blocks[0]?.[2] ?? "").trim();
        const first = /^<p>([\s\S]*?)<\/p>/.exec(body);
        assert.ok(first, "help must start with a <p>");
        const summary = first[1] ?? "";
        assert.ok(!/\n/.test(summary), "first paragraph must be one line");
        assert.ok(summary.length > 20 && summary.length < 160, `first paragraph length ${summary.length}`);
        const headings = [...body.matchAll(/<h3>([^<]+)<\/h3>/g)].map((m) => m[1]);
        const wanted = (HELP_HEADINGS[lang] ?? []).filter((h) => node !== "s7-secure-connection" || !/^(Inputs|Outputs|Eingangsdaten|Ausgangsdaten)$/.test(h));
        let last = -1;
        for (const heading of wanted) {
          const at = headings.indexOf(heading);
          assert.ok(at > last, `${heading} missing or out of order in ${headings.join(", ")}`);
          last = at;
        }
        if (node !== "s7-secure-connection") assert.match(body, /<dl class="message-properties">/);
        assert.match(body, /<span class="property-type">/);
      });
    }
  }

  it("the German help is a translation, not a copy", () => {
    for (const node of NODES) {
      const en = read("locales", "en-US", `${node}.html`);
      const de = read("locales", "de", `${node}.html`);
      assert.notEqual(de, en);
      assert.ok(de.length > en.length * 0.8, `${node}: German help much shorter than English`);
    }
  });
});

describe("editor: node files", () => {
  for (const node of NODES) {
    it(`${node}: registerType and edit template only, scripts pass node --check`, () => {
      const html = read("nodes", `${node}.html`);
      assert.doesNotMatch(html, /data-help-name/, "help belongs in locales/");
      assert.match(html, new RegExp(`<script type="text/html" data-template-name="${node}">`));
      assert.match(html, new RegExp(`RED\\.nodes\\.registerType\\("${node}"`));
      const code = scripts(html, "text/javascript");
      assert.equal(code.length, 1);
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "s7-editor-")), `${node}.js`);
      fs.writeFileSync(file, code[0] ?? "");
      const result = spawnSync(process.execPath, ["--check", file], { encoding: "utf8" });
      assert.equal(result.status, 0, result.stderr);
    });
  }

  it("every default and credential has its standard input in the template (except the tag list)", () => {
    const { defs } = loadDefinitions();
    for (const node of NODES) {
      const html = read("nodes", `${node}.html`);
      const def = defs.get(node);
      assert.ok(def, `${node} not registered`);
      const prefix = def.category === "config" ? "node-config-input" : "node-input";
      const props = [...Object.keys(def.defaults), ...Object.keys(def.credentials ?? {})].filter((p) => !(node === "s7-read" && p === "tags"));
      for (const prop of props) assert.match(html, new RegExp(`id="${prefix}-${prop}"`), `${node}: no #${prefix}-${prop}`);
    }
  });

  it("test hooks exist", () => {
    const connection = read("nodes", "s7-secure-connection.html");
    assert.match(connection, /id="s7-secure-untrusted-list"/);
    assert.match(connection, /s7-secure-untrusted-row/);
    assert.match(connection, /attr\("data-fingerprint"/);
    assert.match(connection, /s7-secure-trust-button/);
    assert.match(connection, /s7-secure-tag-row/);
    assert.match(connection, /attr\("data-tag"/);
    for (const node of ["s7-read", "s7-write"]) {
      const html = read("nodes", `${node}.html`);
      assert.match(html, /id="s7-secure-tag-picker"/);
      assert.match(html, /s7-secure-browse-button/);
    }
  });
});

describe("editor: registerType contract", () => {
  const { defs, helpers } = loadDefinitions([{ id: "other", type: "s7-secure-connection", name: "PLC2" }]);

  it("uses the documented property names, defaults and credentials", () => {
    const expected: Record<string, Record<string, unknown>> = {
      "s7-secure-connection": {
        name: "",
        host: "",
        port: 102,
        accessPoint: "",
        forceConnectionState: 1,
        useAlternativeAddress: 0,
        alternativeAddress: "",
        storeDir: "",
        rootCAs: "",
        rootCAFiles: "",
        tagTables: "",
        rejectExpired: false,
        checkAddress: true,
        connectTimeout: 10000,
        requestTimeout: 5000,
        reconnectMin: 1000,
        reconnectMax: 30000,
      },
      // 64-bit integers as strings: BigInt does not survive JSON, MQTT or HTTP.
      "s7-read": { name: "", connection: "", tags: [], interval: 0, trigger: "input", changeOutput: "object", int64: "string" },
      "s7-write": { name: "", connection: "", tag: "" },
      "s7-switch-connection": { name: "", connection: "" },
      "cert-trust": { name: "", storeDir: "" },
      "s7-alarms": { name: "", connection: "", language: "en-US" },
    };
    for (const node of NODES) {
      const def = defs.get(node);
      assert.ok(def);
      const actual = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(def.defaults).map(([k, v]) => [k, v.value])))) as unknown;
      assert.deepEqual(actual, expected[node], node);
    }
    const connection = defs.get("s7-secure-connection");
    assert.equal(connection?.category, "config");
    assert.deepEqual(JSON.parse(JSON.stringify(connection?.credentials)), { username: { type: "text" }, password: { type: "password" } });
    assert.ok(!("password" in (connection?.defaults ?? {})), "password must never be a default");
    for (const node of FLOW_NODES) {
      const def = defs.get(node);
      assert.equal(def?.category, "S7 Secure");
      assert.equal(def?.color, "#3FADB5");
      assert.equal(def?.inputs, 1);
      assert.equal(def?.outputs, 1);
      assert.ok(def?.icon && fs.existsSync(path.join(ROOT, "icons", def.icon)), `${node}: icon ${def?.icon}`);
      if (node !== "cert-trust") assert.deepEqual(JSON.parse(JSON.stringify(def?.defaults["connection"])), { value: "", type: "s7-secure-connection", required: true });
    }
  });

  it("labels: name, else the first tag (+ …), else a default", () => {
    const read = defs.get("s7-read");
    assert.ok(read);
    assert.equal(read.label.call({ name: "Tank", tags: ["a"] }), "Tank");
    assert.equal(read.label.call({ name: "", tags: ['"Motor_DB".Speed'] }), '"Motor_DB".Speed');
    assert.equal(read.label.call({ name: "", tags: ["a", "b"] }), "a \u2026");
    assert.equal(read.label.call({ name: "", tags: [] }), "s7 read");
    assert.equal(defs.get("s7-write")?.label.call({ name: "", tag: "DB1.DBW8:INT" }), "DB1.DBW8:INT");
    assert.equal(defs.get("s7-secure-connection")?.label.call({ name: "", host: "10.0.0.1", port: 102 }), "10.0.0.1:102");
  });

  it("validates the connection's name, host, port and timing", () => {
    const def = defs.get("s7-secure-connection");
    assert.ok(def);
    for (const ok of ["PLC1", "Line 2 PLC", "plc_a-1"]) assert.equal(validate(def, "name", ok, { id: "me" }), true, ok);
    for (const bad of ["", " PLC", "PLC@1", "a.b", "PLC2", "plc2"]) assert.notEqual(validate(def, "name", bad, { id: "me" }), true, bad);
    for (const ok of ["192.168.0.1", "::1", "fe80::1", "plc1.plant.local", "plc-1", "${PLC_HOST}"]) assert.equal(validate(def, "host", ok), true, ok);
    for (const bad of ["", "192.168.0.300", "plc_1", "a b", "-plc"]) assert.notEqual(validate(def, "host", bad), true, bad);
    for (const ok of [102, "102", 1, 65535]) assert.equal(validate(def, "port", ok), true, String(ok));
    for (const bad of [0, "0", 65536, "1.5", "abc", ""]) assert.notEqual(validate(def, "port", bad), true, String(bad));
    assert.equal(validate(def, "reconnectMax", 30000, { reconnectMin: 1000 }), true);
    assert.notEqual(validate(def, "reconnectMax", 500, { reconnectMin: 1000 }), true);
    assert.notEqual(validate(def, "connectTimeout", 10), true);
    assert.equal(validate(def, "useAlternativeAddress", 1, { alternativeAddress: "IPAddress=192.0.2.20;" }), true);
    assert.notEqual(validate(def, "useAlternativeAddress", 1, { alternativeAddress: "" }), true);
  });

  it("accepts root CA PEM text and refuses private keys", () => {
    const def = defs.get("s7-secure-connection");
    assert.ok(def);
    const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    assert.equal(validate(def, "rootCAs", ""), true);
    assert.equal(validate(def, "rootCAs", pem + pem), true);
    assert.notEqual(validate(def, "rootCAs", "hello"), true);
    assert.match(String(validate(def, "rootCAs", pem + "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----")), /private key/);
  });

  it("checks AlternativeAddress exactly like the runtime parser", () => {
    const def = defs.get("s7-secure-connection");
    assert.ok(def);
    const parse = helpers["parseAlternativeAddress"] as unknown as (t: string) => { value?: unknown; error?: string };
    const cases = [
      "",
      "AccessPoint=eth1; IPAddress=192.0.2.20;",
      "ipaddress=127.0.0.1;PORT=1102",
      "IPAddress=::1; Port=10102;",
      "IPAddress=192.0.2.20; Colour=red;",
      "IPAddress=plc.example;",
      "IPAddress=192.0.2.999;",
      "AccessPoint=eth1;",
      "IPAddress=192.0.2.1; Port=0;",
      "IPAddress=192.0.2.1; Port=70000;",
      "IPAddress=192.0.2.1; ipaddress=192.0.2.2",
      "192.0.2.1",
    ];
    for (const text of cases) {
      let runtime: unknown;
      let runtimeOk = true;
      try {
        runtime = runtimeParseAlternativeAddress(text);
      } catch {
        runtimeOk = false;
      }
      const editor = parse(text);
      assert.equal(editor.error === undefined, runtimeOk, text);
      if (runtimeOk) assert.deepEqual(JSON.parse(JSON.stringify(editor.value ?? null)), runtime ?? null, text);
      assert.equal(validate(def, "alternativeAddress", text) === true, runtimeOk, text);
    }
  });

  it("validates s7-read's tag list, interval and int64 option", () => {
    const def = defs.get("s7-read");
    assert.ok(def);
    assert.equal(validate(def, "tags", []), true);
    assert.equal(validate(def, "tags", ['"Motor_DB".Speed', "DB1.DBD4:REAL"]), true);
    assert.notEqual(validate(def, "tags", ["ok", " "]), true);
    for (const ok of [0, "0", 100, "1000"]) assert.equal(validate(def, "interval", ok), true, String(ok));
    for (const bad of [50, "99", -1, "1.5", "x"]) assert.notEqual(validate(def, "interval", bad), true, String(bad));
    for (const ok of ["bigint", "string", "number"]) assert.equal(validate(def, "int64", ok), true);
    assert.notEqual(validate(def, "int64", "float"), true);
  });

  it("formats fingerprints as grouped hex", () => {
    const lines = [...(helpers["fingerprintLines"] as unknown as (fp: string) => string[])("ab".repeat(32))];
    assert.deepEqual(lines, [Array(16).fill("AB").join(":"), Array(16).fill("AB").join(":")]);
  });
});
