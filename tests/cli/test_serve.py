"""`qa serve` in a real subprocess: the start-up line names every surface, and is right."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_prints_one_startup_line_with_urls_and_key(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "QA_API_KEY": "k" * 20, "QA_INDEX_DIR": str(tmp_path / "index")}
    command = [
        sys.executable,
        "-c",
        "from qa.cli import main; main()",
        "serve",
        "--port",
        str(port),
    ]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        base = f"http://127.0.0.1:{port}"
        for url in (f"{base}/ ", f"{base}/docs", f"{base}/v1", f"{base}/mcp"):
            assert url in line, line
        assert "API key required" in line
        # The URLs are real: the server comes up where the line says.
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
