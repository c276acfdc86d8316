#!/usr/bin/env bash
# Builds the web console into dist/ with Trunk, offline, with the pinned wasm-bindgen and wasm-opt.
#
# First the code editor's bundle: CodeMirror 6 (from node_modules, installed by setup.sh's
# `npm ci`) bundled by esbuild into one ES module, build/editor/editor.mjs. index.html copies it
# into dist/ with a Trunk copy-file link, which does not load it: the console adds it to the page
# only when the editor opens, so it stays out of the initial download.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

if [ ! -x node_modules/.bin/esbuild ] || [ ! -f node_modules/codemirror/package.json ]; then
    echo "build-console: esbuild or CodeMirror is missing from node_modules: run scripts/setup.sh" >&2
    exit 1
fi
mkdir -p build/editor
# Written beside, then moved into place, so an interrupted build never leaves half a bundle.
esbuild frontend/editor/main.js --bundle --format=esm --minify --target=es2020 \
    --legal-comments=none --log-level=warning --outfile=build/editor/editor.mjs.tmp
mv -f build/editor/editor.mjs.tmp build/editor/editor.mjs

trunk build --release
# Then the wasm is split: the pages marked #[lazy] go into chunks loaded when first shown.
bash scripts/split-console.sh
