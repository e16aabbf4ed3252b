/**
 * `npm start` (dist/scripts/demo.js) as a user meets it: a busy port is one
 * line naming the port and the option, the editor answers only once the
 * runtime has started, deployed flows survive a restart, and --reset
 * restores the examples.
 */
import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

const DEMO = path.resolve(__dirname, "..", "..", "scripts", "demo.js");

interface Demo {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startDemo(dir: string, args: string[]): Demo {
  const child = spawn(process.execPath, [DEMO, ...args], {
    env: { ...process.env, S7_DEMO_DIR: dir, S7_DEMO_PLC1_PORT: "0", S7_DEMO_PLC2_PORT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function stopDemo(demo: Demo): Promise<void> {
  if (demo.child.exitCode === null) demo.child.kill("SIGTERM");
  await demo.exited;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Polls the admin API from the moment the demo starts; the first answer must
 * already be the started runtime's (the flows), never an error page.
 */
async function firstAnswer(demo: Demo, port: number): Promise<{ status: number; flows: Array<{ id: string; type: string }> }> {
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    if (demo.child.exitCode !== null) throw new Error(`the demo exited with ${demo.child.exitCode}:\n${demo.output()}`);
    let res: Response;
    try {
      res = await fetch(`http://127.0.0.1:${port}/flows`);
    } catch {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    return { status: res.status, flows: (await res.json()) as Array<{ id: string; type: string }> };
  }
  throw new Error(`the demo did not listen:\n${demo.output()}`);
}

describe("npm start (the demo)", function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "s7-demo-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("on a busy port says so in one line naming the port and --port, and exits 1", async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const demo = startDemo(dir, ["--port", String(port)]);
      assert.equal(await demo.exited, 1);
      const lines = demo.output().trim().split("\n");
      assert.equal(lines.length, 1, demo.output());
      assert.match(lines[0]!, new RegExp(`port ${port} is already in use`));
      assert.match(lines[0]!, /npm start -- --port N/);
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });

  it("answers only once the runtime has started, keeps deployed flows across a restart, and --reset restores the examples", async () => {
    const port = await freePort();
    let demo = startDemo(dir, ["--port", String(port)]);
    try {
      const first = await firstAnswer(demo, port);
      assert.equal(first.status, 200);
      assert.ok(first.flows.some((n) => n.type === "s7-read"), "the examples are deployed on a first start");
      const mine = [...first.flows, { id: "mine.comment", type: "comment", z: first.flows.find((n) => n.type === "tab")!.id, name: "my own note" }];
      const res = await fetch(`http://127.0.0.1:${port}/flows`, {
        method: "POST",
        headers: { "content-type": "application/json", "Node-RED-Deployment-Type": "full" },
        body: JSON.stringify(mine),
      });
      assert.ok(res.ok);
      assert.doesNotMatch(demo.output(), /runtime not started/);
    } finally {
      await stopDemo(demo);
    }

    demo = startDemo(dir, ["--port", String(port)]);
    try {
      const again = await firstAnswer(demo, port);
      assert.equal(again.status, 200);
      assert.ok(again.flows.some((n) => n.id === "mine.comment"), "the deployed flows were kept");
      assert.match(demo.output(), /npm start -- --reset restores the examples/);
    } finally {
      await stopDemo(demo);
    }

    demo = startDemo(dir, ["--port", String(port), "--reset"]);
    try {
      const reset = await firstAnswer(demo, port);
      assert.ok(!reset.flows.some((n) => n.id === "mine.comment"), "--reset brings back the examples only");
      assert.ok(reset.flows.some((n) => n.type === "s7-read"));
    } finally {
      await stopDemo(demo);
    }
  });
});
