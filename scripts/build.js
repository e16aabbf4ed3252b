#!/usr/bin/env node
// Compiles the TypeScript sources into dist/ and copies the editor assets
// (HTML, locales, icons) next to the compiled node files, where Node-RED
// looks for them. `--if-needed` skips the compile when dist/ is newer than
// every source file (used by `npm start`).
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");

const root = path.resolve(__dirname, "..");
const dist = path.join(root, "dist");
const sourceDirs = ["src", "nodes", "test", "scripts", "bench", "locales", "icons"];

function newestMtime(dir) {
  let newest = 0;
  if (!fs.existsSync(dir)) return newest;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const t = entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs;
    if (t > newest) newest = t;
  }
  return newest;
}

function copyDir(from, to) {
  if (!fs.existsSync(from)) return;
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) copyDir(src, dst);
    else fs.copyFileSync(src, dst);
  }
}

const ifNeeded = process.argv.includes("--if-needed");
const stamp = path.join(dist, ".build-stamp");
if (ifNeeded && fs.existsSync(stamp)) {
  const built = fs.statSync(stamp).mtimeMs;
  const newest = Math.max(
    ...sourceDirs.map((d) => newestMtime(path.join(root, d))),
    fs.statSync(path.join(root, "tsconfig.json")).mtimeMs,
  );
  if (built >= newest) process.exit(0);
}

// Compiled files of sources that were moved or removed would otherwise stay in dist/ and run as tests.
for (const dir of ["src", "nodes", "test", "scripts", "bench"]) fs.rmSync(path.join(dist, dir), { recursive: true, force: true });

const tsc = path.join(path.dirname(require.resolve("typescript/package.json", { paths: [root] })), "bin", "tsc");
const result = spawnSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.json")], {
  stdio: "inherit",
});
if (result.status !== 0) process.exit(result.status ?? 1);

// Editor HTML lives beside the node sources; locales and icons at the top level.
fs.mkdirSync(path.join(dist, "nodes"), { recursive: true });
for (const file of fs.existsSync(path.join(root, "nodes")) ? fs.readdirSync(path.join(root, "nodes")) : []) {
  if (file.endsWith(".html")) fs.copyFileSync(path.join(root, "nodes", file), path.join(dist, "nodes", file));
}
copyDir(path.join(root, "locales"), path.join(dist, "nodes", "locales"));
copyDir(path.join(root, "icons"), path.join(dist, "nodes", "icons"));
fs.mkdirSync(dist, { recursive: true });
fs.writeFileSync(stamp, new Date().toISOString() + "\n");
