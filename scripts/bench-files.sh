#!/usr/bin/env bash
# File transfer benchmark: a 1 GiB upload and download through Gatehouse over TLS, side by side
# with scp against a throwaway sshd, the server's memory during each, and websh keystroke echo
# while a download runs. BENCH_FILE_MIB and BENCH_KEYS size it.
set -euo pipefail
cd "$(dirname "$0")/.."
exec bash scripts/bench-ssh.sh files
