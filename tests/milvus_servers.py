"""Real Milvus servers on free loopback ports, for the Milvus backend tests.

    with milvus_lite_server(tmp_path / "milvus") as uri:   # `milvus-lite server`
    with milvus_standalone(tmp_path / "m23") as uri:       # PyPI `milvus` 2.3.5 standalone

Each is started by the fixture that needs it and stopped when the block ends.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listened on port {port} within {timeout:.0f} s")


def milvus_lite_executable() -> str | None:
    beside = Path(sys.executable).with_name("milvus-lite")
    return str(beside) if beside.exists() else shutil.which("milvus-lite")


@contextmanager
def milvus_lite_server(data_dir: Path, *, timeout: float = 60.0) -> Iterator[str]:
    """`milvus-lite server` over `data_dir`; yields its http URI."""
    executable = milvus_lite_executable()
    if executable is None:
        raise FileNotFoundError("milvus-lite is not installed (pip install milvus-lite)")
    port = free_port()
    process = subprocess.Popen(
        [executable, "server", "--data-dir", str(data_dir), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_for_port(port, process, timeout)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


@contextmanager
def milvus_standalone(data_dir: Path) -> Iterator[str]:
    """The PyPI `milvus` (2.3.5) standalone server; yields its http URI.

    Raises when it cannot start here (no binary for this platform, ports, timeout).
    """
    from milvus import MilvusServer

    server = MilvusServer()
    server.set_base_dir(str(data_dir))
    server.listen_port = free_port()
    try:
        server.start()  # waits for its health check
        yield f"http://127.0.0.1:{server.listen_port}"
    finally:
        server.stop()


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
