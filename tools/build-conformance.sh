#!/usr/bin/env bash
# Builds the upstream Kubernetes conformance suite for the pinned version from the Go module proxy,
# with the module and staging replaces the control-plane binaries use (tools/kubernetes):
#   e2e.test  k8s.io/kubernetes/test/e2e, compiled with `go test -c`
#   agnhost   k8s.io/kubernetes/test/images/agnhost, the image most of its tests run
#   ginkgo    the runner that spreads the suite over several processes
# into <cache>/conformance/<version>/ and prints that directory on its last line. A no-op when
# cached (each binary's <bin>.version beside it). It also installs the Debian packages whose tools
# the agnhost image carries. Not part of `npm test`: `npm run conformance`.
set -euo pipefail

tools_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "${tools_dir}/versions.env"

log() { printf '[kok-conformance] %s\n' "$*" >&2; }
command -v go >/dev/null || { log "Go is required to build the conformance suite (Go 1.26+)"; exit 1; }

cache_root="${KOK_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/kok}"
out_dir="${cache_root}/conformance/${KUBERNETES_VERSION}"
mkdir -p "${out_dir}"
exec 9>"${out_dir}/.lock"
flock 9

# The distribution's tools the agnhost image carries, as the upstream image installs them
# and the glibc-dns-testing one needs (e2e/src/conformance/conformance-images.ts).
# shellcheck source=debian-packages.sh
source "${tools_dir}/debian-packages.sh"
install_debian_packages "the agnhost and glibc-dns-testing images cannot be packed" \
  netcat-openbsd curl bind9-dnsutils iproute2 bash libc-bin

minor="${KUBERNETES_VERSION#v1.}"
minor="${minor%%.*}"
version_flags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  version_flags+=" -X ${pkg}.gitVersion=${KUBERNETES_VERSION} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor}"
  version_flags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=2000-01-01T00:00:00Z"
done

# build <binary> <package> <go command and flags...>: builds the package in the module unless <binary> is
# there at this version.
build() {
  local bin="$1" package="$2" started tmp
  shift 2
  if [[ -x "${out_dir}/${bin}" && "$(cat "${out_dir}/${bin}.version" 2>/dev/null)" == "${KUBERNETES_VERSION}" ]]; then
    return
  fi
  log "building ${bin} for ${KUBERNETES_VERSION} ..."
  started=${SECONDS}
  tmp="${out_dir}/.${bin}.tmp"
  (cd "${tools_dir}/kubernetes" && CGO_ENABLED=0 GOFLAGS=-mod=readonly "$@" -o "${tmp}" "${package}")
  mv -f "${tmp}" "${out_dir}/${bin}" # atomic: an interrupted build never leaves a half binary
  echo "${KUBERNETES_VERSION}" > "${out_dir}/${bin}.version"
  log "built ${bin} in $((SECONDS - started))s"
}

build e2e.test k8s.io/kubernetes/test/e2e go test -c -trimpath -tags selinux,notest -ldflags "-s -w ${version_flags}"
build agnhost k8s.io/kubernetes/test/images/agnhost go build -trimpath -ldflags "-s -w"
build ginkgo github.com/onsi/ginkgo/v2/ginkgo go build -trimpath -ldflags "-s -w"
echo "${out_dir}"
