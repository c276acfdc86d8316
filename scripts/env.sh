# Sourced by the other scripts: puts the project's npm tools (wasm-opt 132) first on PATH.
export PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/node_modules/.bin:${HOME}/.cargo/bin:${PATH}"
export TRUNK_OFFLINE=true
