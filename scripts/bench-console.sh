#!/usr/bin/env bash
# Console benchmarks: the gzip -9 size of what the browser loads, then the time headless Chromium
# takes to show 1,000 work sessions on /sessions (tests/benches/console.rs), then the terminal's
# keystroke echo, output flood and Ctrl-C in the browser (tests/benches/console_terminal.rs).
# Environment: BENCH_SESSIONS (default 1000), BENCH_RUNS (default 5); BENCH_KEYS (300),
# BENCH_FLOOD_MIB (100), BENCH_STOPS (5) for the terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

echo "== console build"
bash scripts/build-console.sh

echo "== console download size (gzip -9)"
# What index.html loads at start, against the budget (the same check scripts/test.sh runs)...
bash scripts/check-console-size.sh
# ...and what pages fetch when first used.
on_use() {
    local label=$1 gz=0 f
    shift
    for f in "$@"; do gz=$((gz + $(gzip -9 -c "$f" | wc -c))); done
    awk -v l="$label" -v n="$#" -v g="$gz" 'BEGIN { printf "  %-52s %3d files %8.1f KB gzip\n", l, n, g / 1024 }'
}
on_use "on use: xterm.js and its fit addon (terminals)" dist/xterm.mjs dist/addon-fit.mjs
on_use "on use: CodeMirror (the editor)" dist/editor.mjs
on_use "on use: the split pages' wasm (all groups together)" dist/split_*.wasm dist/chunk_*.wasm

echo "== 1,000 work sessions on /sessions in headless Chromium"
# The bench starts the release binaries next to it.
cargo build --release -p gatehouse -p gatehouse-agent --bins
cargo bench -p gatehouse-e2e --bench console

echo "== the terminal in headless Chromium: keystroke echo, a yes flood, Ctrl-C"
cargo bench -p gatehouse-e2e --bench console_terminal
