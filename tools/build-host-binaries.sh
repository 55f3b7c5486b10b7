#!/usr/bin/env bash
# Builds the binaries a real (simulated) host runs: kubelet, containerd (with ctr and the
# runc shim), crictl and node-problem-detector, and the add-ons packed into images for its
# pods (kube-proxy, CoreDNS), from the Go module proxy, into a cache keyed by component and version:
#
#   <cache>/host-bin/<component>/<version>/<binaries>   e.g. host-bin/kubelet/v1.36.3/kubelet
#   <cache>/host-bin/<component>/<version>/.version     written last: a dir without it is incomplete
#
# and prints the host-bin directory on its last line. It also installs the Debian packages a
# host needs when they are missing (runc, the CNI plugins, a static busybox for test images,
# iproute2, iptables).
#
#   KOK_CACHE_DIR=<d>  cache root (default: ${XDG_CACHE_HOME:-~/.cache}/kok)
#
# A version is rebuilt only when its .version stamp is missing or does not match, so the
# script is a no-op when everything is cached. Progress goes to stderr.
set -euo pipefail

tools_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "${tools_dir}/versions.env"

log() { printf '[kok-host-binaries] %s\n' "$*" >&2; }

# --- Debian packages ------------------------------------------------------------------------
# shellcheck source=debian-packages.sh
source "${tools_dir}/debian-packages.sh"
install_debian_packages "the tests that run real hosts will fail" \
  runc containernetworking-plugins busybox-static iproute2 iptables

# --- Go builds ------------------------------------------------------------------------------
command -v go >/dev/null || { log "Go is required to build the host binaries (Go 1.26+)"; exit 1; }

cache_root="${KOK_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/kok}"
out_root="${cache_root}/host-bin"
mkdir -p "${out_root}"

# Serialize concurrent runs (two terminals, a test run and a dev run) on one cache.
exec 9>"${out_root}/.lock"
flock 9

read -r -a kubelet_versions <<< "${KUBELET_HOST_VERSIONS}"
read -r -a containerd_versions <<< "${CONTAINERD_VERSIONS}"
read -r -a coredns_versions <<< "${COREDNS_VERSIONS}"

minor_of() { local v="${1#v}"; v="${v#*.}"; echo "${v%%.*}"; } # v1.36.3 -> 36
major_minor_of() { local v="${1#v}"; echo "${v%.*}"; }        # v2.2.9 -> 2.2

# The builder module (a directory under tools/) for a component version. The kubelet of the
# control-plane version comes from the control-plane module, so the two share one build cache.
module_of() {
  case "$1" in
    # kube-proxy comes from the same module as the kubelet of its version (one shared build cache).
    kubelet | kube-proxy) if [[ "$2" == "${KUBERNETES_VERSION}" ]]; then echo kubernetes; else echo "kubernetes-$(major_minor_of "$2")"; fi ;;
    containerd) echo "containerd-$(major_minor_of "$2")" ;;
    crictl) echo crictl ;;
    node-problem-detector) echo node-problem-detector ;;
    coredns) echo coredns ;;
  esac
}

# The Go module the builder module pins, as written in its go.mod.
pinned_module_of() {
  case "$1" in
    kubelet | kube-proxy) echo k8s.io/kubernetes ;;
    containerd) echo github.com/containerd/containerd/v2 ;;
    crictl) echo sigs.k8s.io/cri-tools ;;
    node-problem-detector) echo k8s.io/node-problem-detector ;;
    coredns) echo github.com/coredns/coredns ;;
  esac
}

# "<binary> <package>" lines for a component.
binaries_of() {
  case "$1" in
    kubelet) echo "kubelet k8s.io/kubernetes/cmd/kubelet" ;;
    kube-proxy) echo "kube-proxy k8s.io/kubernetes/cmd/kube-proxy" ;;
    containerd)
      echo "containerd github.com/containerd/containerd/v2/cmd/containerd"
      echo "ctr github.com/containerd/containerd/v2/cmd/ctr"
      echo "containerd-shim-runc-v2 github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2" ;;
    crictl) echo "crictl sigs.k8s.io/cri-tools/cmd/crictl" ;;
    node-problem-detector) echo "node-problem-detector k8s.io/node-problem-detector/cmd/nodeproblemdetector" ;;
    coredns) echo "coredns github.com/coredns/coredns" ;;
  esac
}

tags_of() {
  case "$1" in
    kubelet | kube-proxy) echo selinux,notest ;;
    # No cgo: the btrfs, devmapper and zfs snapshotters need it (overlayfs and native remain).
    containerd) echo no_btrfs,no_devmapper,no_zfs,urfave_cli_no_docs ;;
    # The journald log watcher needs cgo (libsystemd); the kmsg and file watchers remain.
    *) echo "" ;;
  esac
}

# Each upstream Makefile's version stamping; -s -w and a fixed build date keep builds reproducible.
ldflags_of() {
  local component="$1" version="$2"
  case "${component}" in
    kubelet | kube-proxy)
      local flags="-s -w" pkg
      for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        flags+=" -X ${pkg}.gitVersion=${version} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=$(minor_of "${version}")"
        flags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=2000-01-01T00:00:00Z"
      done
      echo "${flags}" ;;
    containerd) echo "-s -w -X github.com/containerd/containerd/v2/version.Version=${version#v}" ;;
    crictl) echo "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=${version#v}" ;;
    node-problem-detector) echo "-s -w -X k8s.io/node-problem-detector/pkg/version.version=${version}" ;;
    # CoreDNS's version is a constant in its source; its Makefile stamps only the git commit,
    # which a module download does not have.
    coredns) echo "-s -w" ;;
  esac
}

# Build order: the newest kubelet and containerd first (what most tests use), then the older
# ones (version-skew and upgrade tests), then the tools, then the add-ons (kube-proxy right
# after its kubelet's module is warm in the build cache, CoreDNS last).
builds=()
for ((i = 0; i < ${#kubelet_versions[@]} || i < ${#containerd_versions[@]}; i++)); do
  [[ -n "${kubelet_versions[i]:-}" ]] && builds+=("kubelet ${kubelet_versions[i]}")
  [[ -n "${containerd_versions[i]:-}" ]] && builds+=("containerd ${containerd_versions[i]}")
done
builds+=("crictl ${CRICTL_VERSION}" "node-problem-detector ${NPD_VERSION}")
for version in "${kubelet_versions[@]}"; do builds+=("kube-proxy ${version}"); done
for version in "${coredns_versions[@]}"; do builds+=("coredns ${version}"); done

check_pinned() {
  local module_dir="${tools_dir}/$1" needle="$2"
  [[ -f "${module_dir}/go.mod" ]] || { log "tools/$1/go.mod is missing: add a builder module for ${needle}"; exit 1; }
  grep -qF "require ${needle}" "${module_dir}/go.mod" || { log "tools/$1/go.mod does not pin ${needle}; update tools/versions.env or the module"; exit 1; }
}
for build in "${builds[@]}"; do
  read -r component version <<< "${build}"
  check_pinned "$(module_of "${component}" "${version}")" "$(pinned_module_of "${component}") ${version}"
done

complete() { # <dir> <version> <component>: the stamp matches and every binary is there
  local dir="$1" version="$2" component="$3" bin pkg
  [[ "$(cat "${dir}/.version" 2>/dev/null)" == "${version}" ]] || return 1
  while read -r bin pkg; do [[ -x "${dir}/${bin}" ]] || return 1; done < <(binaries_of "${component}")
}

started_all=${SECONDS}
built=0
for build in "${builds[@]}"; do
  read -r component version <<< "${build}"
  dir="${out_root}/${component}/${version}"
  complete "${dir}" "${version}" "${component}" && continue
  log "building ${component} ${version} ..."
  started=${SECONDS}
  mkdir -p "${dir}"
  rm -f "${dir}/.version" # from here on the dir is incomplete until the stamp is back
  module="$(module_of "${component}" "${version}")"
  while read -r bin pkg; do
    tmp="${dir}/.${bin}.tmp"
    # The module directory is read-only input: -mod=readonly refuses to rewrite go.mod/go.sum.
    (cd "${tools_dir}/${module}" && CGO_ENABLED=0 GOFLAGS=-mod=readonly \
      go build -trimpath -tags "$(tags_of "${component}")" -ldflags "$(ldflags_of "${component}" "${version}")" -o "${tmp}" "${pkg}")
    mv -f "${tmp}" "${dir}/${bin}" # atomic: an interrupted build never leaves a half binary
  done < <(binaries_of "${component}")
  echo "$((SECONDS - started))" > "${dir}/.build-seconds"
  echo "${version}" > "${dir}/.version.tmp"
  mv -f "${dir}/.version.tmp" "${dir}/.version" # last: marks the dir complete
  built=$((built + 1))
  log "built ${component} ${version} in $((SECONDS - started))s"
done

if [[ ${built} -gt 0 ]]; then
  log "built ${built} host components in $((SECONDS - started_all))s into ${out_root}"
else
  log "all host binaries cached in ${out_root}"
fi
echo "${out_root}"
