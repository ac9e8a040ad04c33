# Shared by the benchmark scripts: messages, and installing Debian packages
# they need. Source it after setting SCRIPT (the caller's name).

die() { echo "${SCRIPT:-bench}: error: $*" >&2; exit 1; }
log() { echo "==> $*" >&2; }

# install_packages PKG...: apt-get install the given packages (root only).
# Another apt may hold the lock (e.g. a provisioning job): wait for it,
# never kill it.
install_packages() {
  (($#)) || return 0
  [[ $(id -u) -eq 0 ]] || die "missing $*; install them (apt-get install -y $*)"
  log "installing $*"
  export DEBIAN_FRONTEND=noninteractive
  local attempt
  for attempt in $(seq 1 60); do
    if apt-get -o DPkg::Lock::Timeout=60 update &&
       apt-get -o DPkg::Lock::Timeout=60 install -y "$@"; then
      return 0
    fi
    ((attempt < 60)) || die "apt-get install $* failed"
    log "apt-get failed (lock held?), retrying in 10 s ($attempt/60)"
    sleep 10
  done
}
