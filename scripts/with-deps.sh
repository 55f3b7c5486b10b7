#!/bin/sh
# Runs a command after making sure everything it needs is installed: the npm
# dependencies (pinned Node.js 24 included) and the control-plane binaries.
# Used by the npm scripts, so that `npm run kok` and `npm test` work on a fresh clone.
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "${root}"

lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
marker="node_modules/.kok-installed"
if [ ! -f "${marker}" ] || [ "$(cat "${marker}")" != "${lock_hash}" ]; then
  echo "[kok] installing npm dependencies (npm ci) ..." >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "${lock_hash}" > "${marker}"
fi

bash tools/build-binaries.sh >/dev/null

# node_modules/.bin first: the pinned Node.js 24 runs everything below.
PATH="${root}/node_modules/.bin:${PATH}"
export PATH
exec "$@"
