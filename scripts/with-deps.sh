#!/bin/sh
# Runs a command after making sure everything it needs is installed: the npm
# dependencies (pinned Node.js 24 included), the control-plane binaries, the host binaries
# (kubelet, containerd, crictl, node-problem-detector and their Debian packages) and promtool.
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
bash tools/build-host-binaries.sh >/dev/null

# promtool checks the charts' alert rules and a real prometheus scrapes the operators in a
# test: both come from Debian's prometheus package. Its service must not start on install
# (the tests run their own prometheus), so a policy-rc.d denies it when none is in place.
if ! command -v promtool >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  echo "[kok] installing promtool and prometheus (apt-get install prometheus) ..." >&2
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ] && printf '#!/bin/sh\nexit 101\n' | ${sudo} tee /usr/sbin/policy-rc.d >/dev/null; then
    policy=/usr/sbin/policy-rc.d
    ${sudo} chmod 755 "${policy}" || true
  fi
  { ${sudo} apt-get update -qq &&
    ${sudo} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; } >&2 ||
    echo "[kok] could not install prometheus: the alert-rule and scrape tests will fail" >&2
  if [ -n "${policy}" ]; then ${sudo} rm -f "${policy}" || true; fi
  if command -v systemctl >/dev/null 2>&1; then ${sudo} systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
fi

# node_modules/.bin first: the pinned Node.js 24 runs everything below.
PATH="${root}/node_modules/.bin:${PATH}"
export PATH
exec "$@"
