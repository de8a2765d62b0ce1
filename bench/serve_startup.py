"""Time from `belegwerk serve` start to the first answer of /api/v1/health on a fresh SQLite file.

Target (issue 2): under 2 s. Run: .venv/bin/python bench/serve_startup.py
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {**os.environ, "BELEGWERK_DATA_DIR": tmp, "BELEGWERK_DATABASE_URL": ""}
        exe = Path(sys.executable).with_name("belegwerk")
        start = time.perf_counter()
        proc = subprocess.Popen(
            [str(exe), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                try:
                    url = f"http://127.0.0.1:{port}/api/v1/health"
                    with urllib.request.urlopen(url, timeout=0.5) as resp:
                        if resp.status == 200:
                            return time.perf_counter() - start
                except OSError:
                    if proc.poll() is not None:
                        raise SystemExit("serve exited early") from None
                    if time.perf_counter() - start > 30:
                        raise SystemExit("no answer within 30 s") from None
                    time.sleep(0.02)
        finally:
            proc.terminate()
            proc.wait(10)


def main() -> None:
    runs = [measure() for _ in range(3)]
    print(f"serve → /api/v1/health on a fresh SQLite file: {', '.join(f'{r:.2f} s' for r in runs)}")
    print(f"best {min(runs):.2f} s, worst {max(runs):.2f} s (target < 2 s)")


if __name__ == "__main__":
    main()
