#!/usr/bin/env bash
# Builds the local control-plane binaries (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, etcd, etcdutl, kwok, helm) from the Go module proxy into a cache
# keyed by version, and prints the directory that holds them on its last line.
# The control-plane binaries of CONTROL_PLANE_PREVIOUS_VERSIONS go to sibling
# directories (<cache>/bin/<version>), for upgrades from them.
#
#   KOK_ASSETS=<dir>   use binaries that already exist there; build nothing
#   KOK_CACHE_DIR=<d>  cache root (default: ${XDG_CACHE_HOME:-~/.cache}/kok)
#
# A binary is rebuilt only when <bin>.version beside it does not match, so the
# script is a no-op when everything is cached. Progress goes to stderr.
set -euo pipefail

tools_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "${tools_dir}/versions.env"

binaries=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd etcdutl kwok helm)

log() { printf '[kok-binaries] %s\n' "$*" >&2; }

if [[ -n "${KOK_ASSETS:-}" ]]; then
  for bin in "${binaries[@]}"; do
    [[ -x "${KOK_ASSETS}/${bin}" ]] || { log "KOK_ASSETS=${KOK_ASSETS} has no executable ${bin}"; exit 1; }
  done
  log "using binaries from KOK_ASSETS=${KOK_ASSETS}"
  echo "${KOK_ASSETS}"
  exit 0
fi

command -v go >/dev/null || { log "Go is required to build the control-plane binaries (Go 1.26+); or set KOK_ASSETS"; exit 1; }

cache_root="${KOK_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/kok}"
out_dir="${cache_root}/bin/${KUBERNETES_VERSION}"
mkdir -p "${out_dir}"

# Serialize concurrent runs (two terminals, a test run and a dev run) on one cache.
exec 9>"${out_dir}/.lock"
flock 9

# The version of a binary: $2 for the Kubernetes ones (the version being built), else its own.
version_of() {
  case "$1" in
    etcd | etcdutl) echo "${ETCD_VERSION}" ;;
    kwok) echo "${KWOK_VERSION}" ;;
    helm) echo "${HELM_VERSION}" ;;
    *) echo "$2" ;;
  esac
}

minor_of() { local v="${1#v1.}"; echo "${v%%.*}"; } # v1.36.3 -> 36

# The builder module (a directory under tools/) of a binary at version $2.
module_of() {
  case "$1" in
    etcd | etcdutl) echo etcd ;; kwok) echo kwok ;; helm) echo helm ;;
    *) if [[ "$2" == "${KUBERNETES_VERSION}" ]]; then echo kubernetes; else echo "kubernetes-1.$(minor_of "$2")"; fi ;;
  esac
}

package_of() {
  case "$1" in
    etcd) echo go.etcd.io/etcd/server/v3 ;;
    etcdutl) echo go.etcd.io/etcd/etcdutl/v3 ;;
    kwok) echo sigs.k8s.io/kwok/cmd/kwok ;;
    helm) echo helm.sh/helm/v3/cmd/helm ;;
    *) echo "k8s.io/kubernetes/cmd/$1" ;;
  esac
}

ldflags_of() {
  local bin="$1" version
  version="$(version_of "${bin}" "$2")"
  local k8s_minor
  k8s_minor="$(minor_of "$2")"
  local build_date="2000-01-01T00:00:00Z" # fixed: the build is reproducible, not timestamped
  case "${bin}" in
    etcd | etcdutl) echo "-s -w" ;; # etcd's version is a constant in its source
    kwok) echo "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${version#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBERNETES_VERSION#v}" ;;
    helm) echo "-s -w -X helm.sh/helm/v3/internal/version.version=${version} -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
      "-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${k8s_minor}" \
      "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${k8s_minor}" ;;
    *)
      local flags="-s -w" pkg
      for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        flags+=" -X ${pkg}.gitVersion=${version} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${k8s_minor}"
        flags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=${build_date}"
      done
      echo "${flags}" ;;
  esac
}

check_pinned() {
  local module_dir="${tools_dir}/$1" needle="$2"
  grep -qF "${needle}" "${module_dir}/go.mod" || { log "tools/$1/go.mod does not pin ${needle}; update tools/versions.env or the module"; exit 1; }
}
check_pinned kubernetes "k8s.io/kubernetes ${KUBERNETES_VERSION}"
read -r -a previous_versions <<< "${CONTROL_PLANE_PREVIOUS_VERSIONS:-}"
for previous in "${previous_versions[@]}"; do
  check_pinned "$(module_of kube-apiserver "${previous}")" "k8s.io/kubernetes ${previous}"
done
check_pinned etcd "go.etcd.io/etcd/server/v3 ${ETCD_VERSION}"
check_pinned etcd "go.etcd.io/etcd/etcdutl/v3 ${ETCD_VERSION}"
check_pinned kwok "sigs.k8s.io/kwok ${KWOK_VERSION}"
check_pinned helm "helm.sh/helm/v3 ${HELM_VERSION}"

started_all=${SECONDS}
built=0
# build_into <dir> <kubernetes version> <binary>...: builds what <dir> lacks at its version.
build_into() {
  local dir="$1" kubernetes="$2" bin version stamp started tmp
  shift 2
  mkdir -p "${dir}"
  for bin in "$@"; do
    version="$(version_of "${bin}" "${kubernetes}")"
    stamp="${dir}/${bin}.version"
    if [[ -x "${dir}/${bin}" && "$(cat "${stamp}" 2>/dev/null)" == "${version}" ]]; then
      continue
    fi
    log "building ${bin} ${version} ..."
    started=${SECONDS}
    tmp="${dir}/.${bin}.tmp"
    # The module directory is read-only input: -mod=readonly refuses to rewrite go.mod/go.sum.
    (cd "${tools_dir}/$(module_of "${bin}" "${kubernetes}")" && CGO_ENABLED=0 GOFLAGS=-mod=readonly \
      go build -trimpath -tags selinux,notest -ldflags "$(ldflags_of "${bin}" "${kubernetes}")" -o "${tmp}" "$(package_of "${bin}")")
    mv -f "${tmp}" "${dir}/${bin}" # atomic: an interrupted build never leaves a half binary
    echo "${version}" > "${stamp}"
    echo "$((SECONDS - started))" > "${dir}/${bin}.build-seconds" # read by bench/control-plane-start
    built=$((built + 1))
    log "built ${bin} ${version} in $((SECONDS - started))s"
  done
}

build_into "${out_dir}" "${KUBERNETES_VERSION}" "${binaries[@]}"
for previous in "${previous_versions[@]}"; do
  build_into "${cache_root}/bin/${previous}" "${previous}" kube-apiserver kube-controller-manager kube-scheduler
done

if [[ ${built} -gt 0 ]]; then
  log "built ${built} binaries in $((SECONDS - started_all))s into ${cache_root}/bin"
else
  log "all binaries cached in ${cache_root}/bin"
fi
echo "${out_dir}"
