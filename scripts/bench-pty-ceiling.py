#!/usr/bin/env python3
"""The kernel's own PTY throughput, with no network and no Gatehouse: `cat` of a file into a PTY
whose master is read in 64 KiB reads, once with the terminal as a shell has it (output processing
on: OPOST/ONLCR) and once in raw mode. This is the ceiling any terminal (websh, `ssh -tt`) meets.

Usage: scripts/bench-pty-ceiling.py [FILE]   (default: a 256 MiB base64 text file it writes to /tmp)
"""
import os
import pty
import sys
import time
import tty


def measure(path: str, raw: bool) -> tuple[float, float]:
    pid, fd = pty.fork()
    if pid == 0:
        if raw:
            tty.setraw(0)
        os.execvp("cat", ["cat", path])
    start, total, reads = time.monotonic(), 0, 0
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO once the child has exited and everything was read
            break
        if not chunk:
            break
        total, reads = total + len(chunk), reads + 1
    elapsed = time.monotonic() - start
    os.waitpid(pid, 0)
    os.close(fd)
    return total / elapsed / 2**20, total / max(reads, 1)


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/gatehouse-pty-ceiling.txt"
    if not os.path.exists(path):
        with open(path, "wb") as f:
            import base64
            for _ in range(256):
                f.write(base64.encodebytes(os.urandom(768 * 1024)))
    for raw in (False, True):
        rate, per_read = measure(path, raw)
        mode = "raw (no output processing)" if raw else "cooked (as a shell has it)"
        print(f"PTY {mode}: {rate:.1f} MiB/s, {per_read:.0f} bytes per read")


if __name__ == "__main__":
    main()
