#!/usr/bin/env bash
# Installs what is missing, builds Gatehouse and runs it on http://127.0.0.1:8080 with embedded
# SQLite in ./gatehouse-data. On first start it creates the superuser `admin` and prints its password.
set -euo pipefail
cd "$(dirname "$0")/.."
GATEHOUSE_SKIP_BROWSER=1 bash scripts/setup.sh
source scripts/env.sh

export GATEHOUSE_DATA_DIR="${GATEHOUSE_DATA_DIR:-$PWD/gatehouse-data}"
export GATEHOUSE_LISTEN="${GATEHOUSE_LISTEN:-127.0.0.1:8080}"

bash scripts/build-console.sh
cargo build --release --locked -p gatehouse
BIN=target/release/gatehouse

mkdir -p "$GATEHOUSE_DATA_DIR"
if [ ! -f "$GATEHOUSE_DATA_DIR/gatehouse.db" ]; then
    PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | head -c 20)
    echo "$PASSWORD" | "$BIN" admin create-user --username admin --role superuser >/dev/null
    cat <<MSG

  First sign-in:  user admin  password $PASSWORD
  (shown once; change it or enrol TOTP after signing in)

MSG
fi
echo "  Gatehouse console: http://${GATEHOUSE_LISTEN}/"
exec "$BIN" serve --console-dir dist
