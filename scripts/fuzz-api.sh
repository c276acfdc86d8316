#!/usr/bin/env bash
# Fuzzes the HTTP API from its own OpenAPI description (schemathesis, installed by setup.sh): a
# throwaway server on loopback, a superuser's API token, every operation with generated valid and
# invalid input. Fails on any server error, any status the description does not list, and any
# answer that does not match its schema. Deterministic (fixed seed), so a failure reproduces.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

gatehouse="${CARGO_TARGET_DIR:-target}/debug/gatehouse"
[ -x "$gatehouse" ] || cargo build --locked --workspace --bins
work=$(mktemp -d)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

password="fuzzing-password-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$password" | "$gatehouse" admin create-user --data-dir "$work" --username fuzz --role superuser >/dev/null
RUST_LOG=error "$gatehouse" serve --data-dir "$work" --listen 127.0.0.1:0 >"$work/stdout" 2>"$work/server.log" &
server_pid=$!
# The first line says where it listens; wait for it (at most 20 s).
first=""
for _ in $(seq 1 200); do
    first=$(head -n 1 "$work/stdout" 2>/dev/null || true)
    [ -n "$first" ] && break
    sleep 0.1
done
case "$first" in
    "gatehouse listening on "*) base=${first#gatehouse listening on } ;;
    *) echo "the server did not start: $first" >&2; cat "$work/server.log" >&2; exit 1 ;;
esac

json() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
csrf=$(curl -sf -c "$work/jar" -H 'content-type: application/json' \
    -d "{\"username\":\"fuzz\",\"password\":\"$password\"}" "$base/api/auth/login" | json csrf_token)
token=$(curl -sf -b "$work/jar" -H "x-csrf-token: $csrf" -H 'content-type: application/json' \
    -d '{"name":"fuzz"}' "$base/api/tokens" | json token)

# The event stream never ends by design. Of the WebSockets only the exec stream is described;
# to plain HTTP it answers 400 like every upgrade, which is what a fuzzer gets.
.venv-fuzz/bin/schemathesis run "$base/api/openapi.json" \
    -H "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance \
    --exclude-path-regex '^/api/events$' \
    --max-examples 15 --seed 20261205 --generation-deterministic \
    --workers 1 ${FUZZ_EXTRA:-}
