#!/usr/bin/env bash
# Installs everything bpflink needs to build, test and demo on a fresh Debian 12 machine, as root.
# Idempotent and quick when everything is already there.
#   scripts/setup.sh          what make demo / make test need
#   scripts/setup.sh --fuzz   the nightly toolchain and cargo-fuzz for scripts/fuzz.sh
set -euo pipefail

CBINDGEN_VERSION=0.29.4
CARGO_FUZZ_VERSION=0.13.2
APT_PACKAGES=(
  build-essential pkg-config git ca-certificates
  clang-19 llvm-19 lld-19 libclang-dev        # BPF compiler, bindgen's libclang
  libbpf-dev bpftool xdp-tools                # BPF-side headers, reference implementation, corpus
  linux-libc-dev iproute2 kmod valgrind
  qemu-system-x86 linux-image-6.12-amd64 linux-image-amd64   # guest kernels 6.12 and 6.1
  busybox-static zstd cpio udev time
  python3 python3-pip
)
PIP_PACKAGES=(virtme-ng pytest)

log() { printf '[setup] %s\n' "$*"; }

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "[setup] must run as root (apt-get, bpf(2) and bpffs need it)" >&2
    exit 1
  fi
}

missing_apt_packages() {
  local pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || echo "$pkg"
  done
}

install_apt_packages() {
  local missing
  missing=$(missing_apt_packages)
  if [ -z "$missing" ]; then
    log "Debian packages: all present"
    return
  fi
  log "installing Debian packages: $(echo $missing | tr '\n' ' ')"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing
}

install_rust() {
  if command -v cargo >/dev/null 2>&1; then
    log "Rust: $(cargo --version)"
    return
  fi
  log "no cargo on PATH: installing Debian's cargo/rustc (the crate needs Rust >= 1.80)"
  apt-get install -y -q --no-install-recommends cargo rustc
}

pip_install() {
  python3 -m pip install -q "$@" 2>/dev/null ||
    python3 -m pip install -q --break-system-packages "$@"
}

install_python_tools() {
  local pkg missing=()
  for pkg in "${PIP_PACKAGES[@]}"; do
    python3 -m pip show -q "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "Python tools: all present"
  else
    log "installing Python tools: ${missing[*]}"
    pip_install "${missing[@]}"
  fi
  # pip may install scripts outside PATH (pyenv shims, ~/.local/bin).
  command -v vng >/dev/null 2>&1 || log "warning: vng not on PATH after install; scripts/vm-run locates it"
}

install_cbindgen() {
  export PATH="$HOME/.cargo/bin:$PATH"
  if cbindgen --version 2>/dev/null | grep -qx "cbindgen $CBINDGEN_VERSION"; then
    log "cbindgen $CBINDGEN_VERSION present"
    return
  fi
  log "installing cbindgen $CBINDGEN_VERSION (the committed header is generated with exactly this version)"
  cargo install -q --locked cbindgen --version "$CBINDGEN_VERSION"
}

# Only for scripts/fuzz.sh (not needed by make test): libFuzzer targets build with cargo-fuzz
# on the nightly toolchain (sanitizer flags).
install_fuzz_tools() {
  export PATH="$HOME/.cargo/bin:$PATH"
  if ! cargo +nightly --version >/dev/null 2>&1; then
    command -v rustup >/dev/null 2>&1 || { log "fuzzing needs rustup (https://rustup.rs) for a nightly toolchain"; exit 1; }
    log "installing the nightly Rust toolchain (for cargo-fuzz)"
    rustup toolchain install nightly --profile minimal
  fi
  if cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    log "cargo-fuzz $CARGO_FUZZ_VERSION present"
  else
    log "installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install -q --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION"
  fi
}

need_root
if [ "${1:-}" = "--fuzz" ]; then
  install_fuzz_tools
  exit 0
fi
install_apt_packages
install_rust
install_python_tools
install_cbindgen
log "done"
