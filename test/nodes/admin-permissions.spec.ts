/**
 * The admin endpoints in a Node-RED with adminAuth: every one needs the
 * s7-secure.write permission. Node-RED answers 401 both without a token and
 * for a user who lacks the permission; the read-only user's token is shown
 * to be valid on an endpoint it may use. The test helper's runtime grants every permission, so this runs a
 * real runtime in a child process.
 */
import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";

describe("admin endpoints require s7-secure.write (Node-RED with adminAuth)", function () {
  this.timeout(60_000);
  let child: ChildProcess;
  let base = "";

  before(async () => {
    child = spawn(process.execPath, [path.join(__dirname, "..", "support", "node-red-auth-server.js")], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    const end = Date.now() + 45_000;
    while (!/READY (\d+)/.test(out)) {
      if (child.exitCode !== null || Date.now() > end) throw new Error(`the runtime did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    base = `http://127.0.0.1:${/READY (\d+)/.exec(out)![1]}`;
  });
  after(async () => {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  });

  const call = (method: "GET" | "POST", url: string, token?: string): Promise<Response> =>
    fetch(`${base}${url}`, {
      method,
      headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), "Content-Type": "application/json" },
      ...(method === "POST" ? { body: JSON.stringify({ fingerprint256: "00" }) } : {}),
    });

  for (const [method, url] of [["GET", "/s7-secure/c1/certificates"], ["POST", "/s7-secure/c1/certificates/trust"], ["POST", "/s7-secure/c1/certificates/untrust"], ["GET", "/s7-secure/c1/browse"]] as const) {
    it(`${method} ${url}: refused without a token and for a read-only user`, async () => {
      assert.equal((await call("GET", "/flows", "viewer-token")).status, 200, "the read-only token is valid");
      assert.equal((await call(method, url)).status, 401);
      assert.equal((await call(method, url, "viewer-token")).status, 401);
    });
  }

  it("an editor with write permission lists the certificates; the controller's unknown certificate is there", async () => {
    let body: { untrusted: { subject: string }[] } = { untrusted: [] };
    for (let i = 0; i < 100 && body.untrusted.length === 0; i++) {
      const res = await call("GET", "/s7-secure/c1/certificates", "admin-token");
      assert.equal(res.status, 200);
      body = (await res.json()) as typeof body;
      if (body.untrusted.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(body.untrusted[0]?.subject, "CN=PLC1");
  });
});
