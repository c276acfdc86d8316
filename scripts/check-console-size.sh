#!/usr/bin/env bash
# The console's size budget: what a browser loads at start must stay under 600,000 bytes once
# compressed with `gzip -9`. Run by scripts/test.sh right after the console build.
#
# "At start" is read from the build itself, not hard-coded: dist/index.html, every file it
# references (stylesheets, scripts, module preloads, the wasm passed to init(), the import map's
# targets), and whatever those JS modules import statically, transitively. Dynamic imports
# (xterm.js, the editor) and the lazily loaded wasm chunks of scripts/split-console.sh are not
# counted: they load when a page needs them.
#
# Usage: scripts/check-console-size.sh [dist-dir] (default dist/); BUDGET=<bytes> overrides.
set -euo pipefail
cd "$(dirname "$0")/.."
DIST="${1:-dist}"
BUDGET="${BUDGET:-600000}"
[ -f "$DIST/index.html" ] || { echo "check-console-size: no $DIST/index.html: build the console first" >&2; exit 1; }

python3 - "$DIST" "$BUDGET" <<'EOF'
import json, os, re, subprocess, sys

dist, budget = sys.argv[1], int(sys.argv[2])

def local(ref, base):
    """The dist/ path of a reference made from the file `base` (None if not a local file)."""
    if re.match(r"^[a-z]+:|^//|^#|^data:", ref):
        return None
    ref = ref.split("#")[0].split("?")[0]
    path = ref.lstrip("/") if ref.startswith("/") else os.path.join(os.path.dirname(base), ref)
    return os.path.normpath(path)

html = open(os.path.join(dist, "index.html"), encoding="utf-8").read()
refs = []
for tag in re.findall(r"<(?:link|script)\b[^>]*>", html):
    rel = re.search(r'\brel="([^"]*)"', tag)
    ref = re.search(r'\b(?:href|src)="([^"]*)"', tag)
    if ref and (tag.startswith("<script") or rel and rel.group(1) in ("stylesheet", "modulepreload", "preload", "icon", "manifest")):
        refs.append(ref.group(1))
bare = {}
for body in re.findall(r'<script type="importmap">(.*?)</script>', html, re.S):
    bare.update(json.loads(body).get("imports", {}))
for body in re.findall(r"<script[^>]*>(.*?)</script>", html, re.S):
    refs += re.findall(r"""\bimport\b[^'"]*?from\s*['"]([^'"]+)['"]""", body)
    refs += re.findall(r"""module_or_path:\s*['"]([^'"]+)['"]""", body)

# What index.html loads, then what each JS module imports statically (a bare name goes through
# the import map), until nothing new is found.
seen, order, todo = set(), ["index.html"], [local(r, "index.html") for r in refs]
seen.add("index.html")
while todo:
    path = todo.pop(0)
    if path is None or path in seen:
        continue
    if not os.path.isfile(os.path.join(dist, path)):
        sys.exit(f"check-console-size: index.html loads {path}, which is not in {dist}/")
    seen.add(path)
    order.append(path)
    if path.endswith((".js", ".mjs")):
        src = open(os.path.join(dist, path), encoding="utf-8").read()
        for spec in re.findall(r"""^\s*(?:import|export)\b[^'"();]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]""", src, re.M):
            spec = spec[0] or spec[1]
            spec = bare.get(spec, spec)
            todo.append(local(spec, path))

total = 0
print(f"{'gzip -9 bytes':>14}  file (loaded at start)")
for path in order:
    # Exactly `gzip -9c FILE | wc -c`, the measure BENCHMARKS.md records.
    size = len(subprocess.run(["gzip", "-9c", os.path.join(dist, path)], check=True, capture_output=True).stdout)
    total += size
    print(f"{size:>14,}  {path}")
verdict = "within" if total <= budget else "OVER"
print(f"{total:>14,}  total, {verdict} the budget of {budget:,} bytes")
sys.exit(0 if total <= budget else 1)
EOF
