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
total=0
while IFS= read -r -d '' file; do
    raw=$(wc -c <"$file")
    gz=$(gzip -9 -c "$file" | wc -c)
    total=$((total + gz))
    awk -v f="${file#dist/}" -v r="$raw" -v g="$gz" \
        'BEGIN { printf "  %-48s %9.1f KB raw %8.1f KB gzip\n", f, r / 1024, g / 1024 }'
done < <(find dist -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.mjs' -o -name '*.css' \) -print0 | sort -z)
awk -v t="$total" 'BEGIN { printf "  %-48s %30.1f KB gzip\n", "total", t / 1024 }'

echo "== 1,000 work sessions on /sessions in headless Chromium"
# The bench starts the release binaries next to it.
cargo build --release -p gatehouse -p gatehouse-agent --bins
cargo bench -p gatehouse-e2e --bench console
