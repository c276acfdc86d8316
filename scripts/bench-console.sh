#!/usr/bin/env bash
# Console benchmarks: the gzip -9 size of what the browser loads, then the time headless Chromium
# takes to show 1,000 work sessions on /sessions (tests/benches/console.rs).
# Environment: BENCH_SESSIONS (default 1000), BENCH_RUNS (default 5).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

echo "== console build"
bash scripts/build-console.sh

echo "== console download size (gzip -9)"
# What index.html loads at start (counted in the total) and what pages fetch when first used.
LAZY='xterm.mjs addon-fit.mjs editor.mjs'
total=0
lazy_total=0
while IFS= read -r -d '' file; do
    name=${file#dist/}
    raw=$(wc -c <"$file")
    gz=$(gzip -9 -c "$file" | wc -c)
    when=start
    if [[ " $LAZY " == *" $name "* ]]; then
        when=on-use
        lazy_total=$((lazy_total + gz))
    else
        total=$((total + gz))
    fi
    awk -v f="$name" -v r="$raw" -v g="$gz" -v w="$when" \
        'BEGIN { printf "  %-44s %-7s %9.1f KB raw %8.1f KB gzip\n", f, w, r / 1024, g / 1024 }'
done < <(find dist -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.mjs' -o -name '*.css' -o -name '*.html' \) -print0 | sort -z)
awk -v t="$total" 'BEGIN { printf "  %-44s %38.1f KB gzip\n", "loaded at start (total)", t / 1024 }'
awk -v t="$lazy_total" 'BEGIN { printf "  %-44s %38.1f KB gzip\n", "loaded on use (terminal, editor)", t / 1024 }'

echo "== 1,000 work sessions on /sessions in headless Chromium"
# The bench starts the release binaries next to it.
cargo build --release -p gatehouse -p gatehouse-agent --bins
cargo bench -p gatehouse-e2e --bench console
