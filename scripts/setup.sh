#!/usr/bin/env bash
# Installs everything Gatehouse needs to build, run and test, from the package registries only
# (crates.io, npm, Debian). Idempotent: anything already at the right version is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

# The wasm-bindgen CLI must equal the library version in Cargo.lock.
wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
fi
for component in clippy rustfmt; do
    if ! rustup component list --installed | grep -q "^${component}"; then
        rustup component add "$component"
    fi
done

if [ "$(trunk --version 2>/dev/null || true)" != "trunk ${TRUNK_VERSION}" ]; then
    log "installing trunk ${TRUNK_VERSION} (takes several minutes the first time)"
    cargo install trunk --version "${TRUNK_VERSION}" --locked
fi

WBG_VERSION=$(wasm_bindgen_version)
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen ${WBG_VERSION}" ]; then
    log "installing wasm-bindgen-cli ${WBG_VERSION}"
    # --locked fails against this registry mirror (a pinned dependency is missing).
    cargo install wasm-bindgen-cli --version "${WBG_VERSION}"
fi

# Splits the console's wasm into the start module and lazily loaded pages (scripts/split-console.sh).
WASM_SPLIT_VERSION=0.2.4
if ! cargo install --list | grep -qx "wasm_split_cli_support v${WASM_SPLIT_VERSION}:"; then
    log "installing wasm-split-cli ${WASM_SPLIT_VERSION} (wasm_split_cli_support)"
    cargo install wasm_split_cli_support --version "${WASM_SPLIT_VERSION}" --locked --features build-binary
fi

if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -f node_modules/@xterm/xterm/package.json ] \
    || [ ! -x node_modules/.bin/esbuild ] || [ ! -f node_modules/@codemirror/theme-one-dark/package.json ]; then
    log "installing npm packages (binaryen's wasm-opt, xterm.js, CodeMirror and esbuild for the editor)"
    npm ci --no-audit --no-fund
fi

if [ "${GATEHOUSE_SKIP_BROWSER:-0}" != "1" ] && ! { command -v chromium && command -v chromedriver; } >/dev/null 2>&1; then
    log "installing Chromium and ChromeDriver from Debian"
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi

if ! command -v asciinema >/dev/null 2>&1; then
    log "installing asciinema from PyPI (the end-to-end tests replay recordings with it)"
    python3 -m pip install --quiet "asciinema==2.4.0"
fi

SCHEMATHESIS_VERSION=4.32.5
if [ "$(.venv-fuzz/bin/schemathesis --version 2>/dev/null | awk '{print $NF}')" != "${SCHEMATHESIS_VERSION}" ]; then
    log "installing schemathesis ${SCHEMATHESIS_VERSION} from PyPI into .venv-fuzz (the API fuzzer)"
    if ! python3 -m venv .venv-fuzz >/dev/null 2>&1; then
        if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv .venv-fuzz
    fi
    .venv-fuzz/bin/pip install --quiet "schemathesis==${SCHEMATHESIS_VERSION}"
fi

log "fetching crates"
cargo fetch --locked >/dev/null
log "ready"
