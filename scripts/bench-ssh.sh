#!/usr/bin/env bash
# Starts a throwaway sshd on loopback (key auth only) and runs a benchmark (default `websh`; also
# `files`, `cli`, `tunnel`: gate tunnel against ssh -L) side by side with OpenSSH. Needs root (it
# logs in as root with a temporary key).
# Installs openssh from Debian when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

if ! command -v sshd >/dev/null 2>&1 && [ ! -x /usr/sbin/sshd ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server openssh-client >/dev/null
fi
work=$(mktemp -d)
trap 'kill $(cat "$work/sshd.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$work/user_key"
cp "$work/user_key.pub" "$work/authorized_keys"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/sshd_config" <<CFG
Port $port
ListenAddress 127.0.0.1
HostKey $work/host_key
PidFile $work/sshd.pid
AuthorizedKeysFile $work/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
# scp speaks SFTP since OpenSSH 9.0.
Subsystem sftp internal-sftp
CFG
mkdir -p /run/sshd
/usr/sbin/sshd -f "$work/sshd_config"
# BENCH_SKIP_BUILD=1: the release binaries are already built (several runs in a row).
if [ "${BENCH_SKIP_BUILD:-0}" != "1" ]; then
    cargo build --release --locked -p gatehouse -p gatehouse-agent -p gatehouse-cli
fi
BENCH_SSH="$port $work/user_key" cargo bench -p gatehouse-e2e --bench "${1:-websh}"
