# shellcheck shell=bash
# install_debian_packages <what fails without them> <package>...: installs the packages that are
# missing, with apt-get (through sudo -n when not root). Never fatal: without Debian's tools, or when
# the install fails, it logs what to install and what will fail. Needs the caller's log().

install_debian_packages() {
  local consequence="$1" missing=() pkg
  shift
  if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    log "not a Debian-like system: install $* (or their equivalents) yourself"
    return 0
  fi
  for pkg in "$@"; do
    [[ "$(dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null)" == "install ok installed" ]] || missing+=("${pkg}")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  local sudo=()
  [[ "$(id -u)" -eq 0 ]] || sudo=(sudo -n)
  log "installing ${missing[*]} (apt-get install) ..."
  if ! { "${sudo[@]}" apt-get update -qq &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >&2; then
    log "could not install ${missing[*]}: ${consequence} (install them as root)"
  fi
}
