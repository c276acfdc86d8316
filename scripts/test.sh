#!/usr/bin/env bash
# Installs what is missing, then runs every check CI runs: formatting, clippy (native and wasm32),
# the console build, all tests (unit, property, API, real-binary end to end), and a fuzz of the
# HTTP API from its OpenAPI description.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh

step() { printf '\n\033[1;34m==> %s\033[0m\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (native, all targets)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "clippy (wasm32: shared, the client crate and the console)"
cargo clippy -p gatehouse-shared -p gatehouse-client -p gatehouse-frontend --target wasm32-unknown-unknown --locked -- -D warnings

step "console build (trunk, then the wasm split)"
bash scripts/build-console.sh

step "console size budget (what loads at start, gzip -9, under 600,000 bytes)"
bash scripts/check-console-size.sh

step "binaries"
# The API fuzz and the end-to-end tests start the real binaries: build them first.
cargo build --workspace --bins --locked

step "API fuzz (schemathesis against the OpenAPI description)"
bash scripts/fuzz-api.sh

step "tests"
cargo test --workspace --locked
