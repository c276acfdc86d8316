#!/usr/bin/env bash
# Installs what is missing, builds Gatehouse and runs it on http://127.0.0.1:8080 with embedded
# SQLite in ./gatehouse-data, plus a local agent registered as server "local". On first start it
# creates the superuser `admin` and prints its password once. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
GATEHOUSE_SKIP_BROWSER=1 bash scripts/setup.sh
source scripts/env.sh

export GATEHOUSE_DATA_DIR="${GATEHOUSE_DATA_DIR:-$PWD/gatehouse-data}"
export GATEHOUSE_LISTEN="${GATEHOUSE_LISTEN:-127.0.0.1:8080}"
URL="http://${GATEHOUSE_LISTEN}"

bash scripts/build-console.sh
cargo build --release --locked -p gatehouse -p gatehouse-agent
BIN=target/release/gatehouse
AGENT=target/release/gatehouse-agent
AGENT_CONFIG="$GATEHOUSE_DATA_DIR/local-agent.json"

mkdir -p "$GATEHOUSE_DATA_DIR"
FIRST_PASSWORD=""
if [ ! -f "$GATEHOUSE_DATA_DIR/gatehouse.db" ]; then
    FIRST_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | head -c 20)
    echo "$FIRST_PASSWORD" | "$BIN" admin create-user --username admin --role superuser >/dev/null
fi

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

"$BIN" serve --console-dir dist > "$GATEHOUSE_DATA_DIR/server.out" &
pids+=($!)
for _ in $(seq 1 100); do
    grep -q "gatehouse listening" "$GATEHOUSE_DATA_DIR/server.out" 2>/dev/null && break
    kill -0 "${pids[0]}" 2>/dev/null || { cat "$GATEHOUSE_DATA_DIR/server.out"; exit 1; }
    sleep 0.1
done

if [ ! -f "$AGENT_CONFIG" ]; then
    TOKEN=$("$BIN" admin registration-token --max-uses 1)
    "$AGENT" register --server "$URL" --token "$TOKEN" --name local --config "$AGENT_CONFIG" >/dev/null
fi
# As root the agent creates each person's own account on first use; otherwise it can run only as
# the user who started it, so there is nothing to create.
AGENT_FLAGS=()
ACCOUNTS="everyone runs as $(id -un), the agent's own user"
if [ "$(id -u)" = 0 ]; then
    AGENT_FLAGS+=(--provision-users)
    ACCOUNTS="each person runs as their own account, created on first use (--provision-users)"
fi
"$AGENT" run --config "$AGENT_CONFIG" "${AGENT_FLAGS[@]}" &
pids+=($!)

cat <<MSG

  Gatehouse is running: $URL/
  A local agent serves this machine as server "local": $ACCOUNTS.
MSG
if [ -n "$FIRST_PASSWORD" ]; then
    cat <<MSG
  First sign-in:  user admin   password $FIRST_PASSWORD
  (shown once; enrol TOTP after signing in)
MSG
fi
echo "  Stop with Ctrl-C."
wait -n "${pids[@]}"
