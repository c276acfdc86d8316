#!/usr/bin/env bash
# Builds the web console into dist/ with Trunk, offline, with the pinned wasm-bindgen and wasm-opt.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
trunk build --release
