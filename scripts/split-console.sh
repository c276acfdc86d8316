#!/usr/bin/env bash
# Splits the console's wasm into the module loaded at start and lazily loaded chunks, in place in
# dist/. Run by scripts/build-console.sh right after `trunk build`.
#
# Pages marked `#[lazy]` in frontend/src/app.rs are split points (Leptos' wasm_split). Splitting
# is a post-link step Trunk does not do, so this redoes the last part of Trunk's Rust pipeline the
# way `cargo leptos --split` does: the wasm cargo built (Trunk's own cargo build, same profile) →
# wasm-split-cli (main module + one wasm per page, plus chunks of code several pages share, and
# the loader `__wasm_split.js`) → wasm-bindgen on the main module only → wasm-opt on every wasm.
# The results replace the JS glue and wasm Trunk wrote, under Trunk's names, and the integrity
# hashes in dist/index.html are updated. Chunks and the loader get content-hashed names, like
# Trunk's own files. Everything is served from the console's origin, so the CSP needs nothing new
# ('wasm-unsafe-eval' already lets the page compile the chunks it fetches).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

DIST=dist
TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
INPUT="${TARGET_DIR}/wasm32-unknown-unknown/wasm-release/gatehouse-frontend.wasm"
WASM_OPT_FLAGS=(-Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
    --enable-mutable-globals --strip-debug --strip-producers)

die() { echo "split-console: $*" >&2; exit 1; }
# wasm-opt in place, without its harmless warnings about the name section's label subsection.
wasm_opt() {
    local err
    err=$(wasm-opt "${WASM_OPT_FLAGS[@]}" "$1" -o "$1" 2>&1) || { echo "$err" >&2; return 1; }
    [ -z "$err" ] || grep -v "unknown name subsection" <<<"$err" >&2 || true
}
command -v wasm-split-cli >/dev/null || die "wasm-split-cli is missing: run scripts/setup.sh"
[ -f "$INPUT" ] || die "no $INPUT: run trunk build first"
[ "$INPUT" -nt "$DIST/index.html" ] && die "$INPUT is newer than $DIST/index.html: run trunk build first"

# Trunk's names for the glue and the wasm (gatehouse-frontend-<hash>.js, ..._bg.wasm).
glue=$(grep -o "from '/gatehouse-frontend-[0-9a-f]*\.js'" "$DIST/index.html" | head -1 | sed "s|from '/||; s|'||")
[ -n "$glue" ] || die "no gatehouse-frontend-*.js import in $DIST/index.html"
stem=${glue%.js}
[ -f "$DIST/${stem}_bg.wasm" ] || die "no $DIST/${stem}_bg.wasm"

work=build/split
rm -rf "$work"
mkdir -p "$work/split" "$work/bindgen"

# 1. Split. The main module imports the loaders from ./__wasm_split.js, which imports initSync
#    from ./$stem.js to share the main module's memory, table and exports with the chunks.
wasm-split-cli "$INPUT" "$work/split" --target web --out-name "$stem" >/dev/null

# 2. wasm-bindgen on the main module only (the chunks have no bindings of their own: they reach
#    JS through the main module's exports, which --keep-lld-exports keeps).
wasm-bindgen --target web --no-typescript --keep-lld-exports --no-demangle \
    --out-dir "$work/bindgen" --out-name "$stem" "$work/split/${stem}.wasm"

# 3. wasm-opt every wasm (Trunk's data-wasm-opt is off: it would only optimise the unsplit one).
wasm_opt "$work/bindgen/${stem}_bg.wasm"
loader="$work/split/__wasm_split.js"
[ -f "$loader" ] || die "wasm-split-cli wrote no __wasm_split.js"
for chunk in "$work/split"/*.wasm; do
    [ "$(basename "$chunk")" = "${stem}.wasm" ] && continue
    wasm_opt "$chunk"
    # Content-hashed name, so a browser never pairs a cached chunk with a newer main module.
    name=$(basename "$chunk" .wasm)
    hashed="${name}-$(sha256sum "$chunk" | cut -c1-16)"
    mv "$chunk" "$work/split/${hashed}.wasm"
    sed -i "s|\"./${name}.wasm\"|\"./${hashed}.wasm\"|g" "$loader"
done
loader_hashed="__wasm_split-$(sha256sum "$loader" | cut -c1-16).js"
# Only the import statements: the same string is also the imports object's key for the wasm.
grep -q '^import .* from "./__wasm_split.js"' "$work/bindgen/${stem}.js" \
    || die "the glue does not import ./__wasm_split.js"
sed -i "s|^\(import .* from \)\"./__wasm_split.js\"|\1\"./${loader_hashed}\"|" "$work/bindgen/${stem}.js"

# 4. Into dist/, replacing Trunk's unsplit files, and the new integrity hashes into index.html.
rm -f "$DIST"/__wasm_split*.js "$DIST"/split_*.wasm "$DIST"/chunk_*.wasm
cp "$loader" "$DIST/${loader_hashed}"
for chunk in "$work/split"/*.wasm; do
    [ "$(basename "$chunk")" = "${stem}.wasm" ] || cp "$chunk" "$DIST/"
done
cp "$work/bindgen/${stem}.js" "$DIST/${stem}.js"
cp "$work/bindgen/${stem}_bg.wasm" "$DIST/${stem}_bg.wasm"
sri() { echo "sha384-$(openssl dgst -sha384 -binary "$1" | openssl base64 -A)"; }
python3 - "$DIST/index.html" "/${stem}.js" "$(sri "$DIST/${stem}.js")" \
    "/${stem}_bg.wasm" "$(sri "$DIST/${stem}_bg.wasm")" <<'EOF'
import re, sys
path, pairs = sys.argv[1], sys.argv[2:]
html = open(path).read()
for href, sri in zip(pairs[0::2], pairs[1::2]):
    html, n = re.subn(r'(href="' + re.escape(href) + r'"[^>]*?integrity=")[^"]*(")', r'\g<1>' + sri + r'\g<2>', html)
    if n != 1:
        sys.exit(f"split-console: expected one integrity for {href} in {path}, found {n}")
open(path, "w").write(html)
EOF
echo "split-console: $(ls "$work/split"/*.wasm | grep -vc "/${stem}.wasm$") lazily loaded wasm chunks"
