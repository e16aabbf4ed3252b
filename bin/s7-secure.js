#!/usr/bin/env node
"use strict";
// The `s7-secure` command line. The implementation is compiled TypeScript in dist/.
const { main } = require("../dist/src/cli/main.js");
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`s7-secure: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
