#!/usr/bin/env bash
# Runs the benchmarks whose results BENCHMARKS.md records.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
echo "== gate decision (criterion)"
cargo bench -p gatehouse-shared --bench gate -- --noplot 2>&1 | grep -E "^gate_|time:"
echo "== session list, 100,000 sessions in SQLite, through HTTP"
cargo bench -p gatehouse --bench session_list
echo "== websh throughput and keystroke echo over WSS, side by side with OpenSSH"
bash scripts/bench-ssh.sh
echo "== file transfers over HTTPS/WSS, side by side with scp; keystroke echo during a download"
bash scripts/bench-files.sh
echo "== exec fan-out on 1,000 agents and server memory with 10,000 (load-test agents)"
cargo bench -p gatehouse-e2e --bench fanout
echo "== the gate CLI: exec, start-up, size, cp and keystroke echo side by side with OpenSSH; exec on 1,000 agents"
bash scripts/bench-ssh.sh cli
