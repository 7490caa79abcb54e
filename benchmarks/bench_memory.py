"""Memory: peak RSS (VmHWM) of a `qa serve` process with the seed index, after a few /ask.

Also says which heavy libraries the server has mapped (torch, onnxruntime, faiss, ...) and
the largest mappings by resident size, so an overrun points at its cause.

    python benchmarks/bench_memory.py            # 20 /ask requests
    python benchmarks/bench_memory.py --tiny     # 3 /ask requests, for CI
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections import defaultdict
from pathlib import Path

import _common as c

TARGET_MB = 400
LIBRARIES = {
    "torch": "libtorch",
    "onnxruntime": "onnxruntime",
    "faiss": "faiss",
    "scipy": "scipy",
    "tokenizers": "tokenizers",
}


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0


def _ask(base: str, question: str) -> dict[str, object]:
    body = json.dumps({"question": question}).encode()
    request = urllib.request.Request(
        f"{base}/ask", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return dict(json.load(response))


def _mappings(pid: int) -> dict[str, int]:
    """Resident kB per mapped file (anonymous memory as `[anon]`), from /proc/<pid>/smaps."""
    sizes: dict[str, int] = defaultdict(int)
    name = "[anon]"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and len(fields) >= 5 and not fields[0].endswith(":"):
            name = fields[5] if len(fields) > 5 else "[anon]"
        elif fields and fields[0] == "Rss:":
            sizes[name] += int(fields[1])
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="3 requests, for CI")
    parser.add_argument("--requests", type=int, default=20, help="/ask requests to send")
    c.add_index_option(parser)
    args = parser.parse_args()
    count = 3 if args.tiny else max(1, args.requests)
    qs = c.questions()

    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        c.header("memory: qa serve peak RSS with the seed index", f"{count} /ask requests")
        index, corpus = c.seed_index(args, Path(tmp))
        port = c.free_port()
        base = f"http://127.0.0.1:{port}"
        log = (Path(tmp) / "serve.log").open("w")
        start = time.perf_counter()
        server = subprocess.Popen(
            [str(c.QA), "serve", "--port", str(port)],
            env=c.clean_env(index, corpus),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            while _get(f"{base}/readyz") != 200:
                if server.poll() is not None or time.perf_counter() - start > 120:
                    raise SystemExit(
                        f"qa serve did not become ready:\n{Path(log.name).read_text()}"
                    )
                time.sleep(0.05)
            ready = time.perf_counter() - start
            ready_status = c.proc_status(server.pid)
            answered = sum(bool(_ask(base, qs[i % len(qs)])["answered"]) for i in range(count))
            status = c.proc_status(server.pid)
            maps = _mappings(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()

    peak = status["VmHWM"] / 1024
    print(f"ready (/readyz 200) after            {c.secs(ready)}")
    print(f"RSS when ready                       {ready_status['VmRSS'] / 1024:8.1f} MB")
    print(
        f"RSS after {count:>3} /ask                  {status['VmRSS'] / 1024:8.1f} MB "
        f"({answered} answered)"
    )
    print(
        f"  private (RssAnon) {status.get('RssAnon', 0) / 1024:.1f} MB, file-backed (RssFile: "
        f"libraries, mapped index files) {status.get('RssFile', 0) / 1024:.1f} MB"
    )
    print(
        f"peak RSS (VmHWM)                     {peak:8.1f} MB   "
        f"target <= {TARGET_MB} MB {c.verdict(peak, TARGET_MB)}"
    )
    loaded = [name for name, marker in LIBRARIES.items() if any(marker in m for m in maps)]
    print(f"heavy libraries mapped: {', '.join(loaded) or 'none'}")
    print(f"torch imported by the server: {'yes' if 'torch' in loaded else 'no'}")
    print("largest resident mappings:")
    for name, kb in sorted(maps.items(), key=lambda item: -item[1])[:8]:
        print(f"  {kb / 1024:8.1f} MB  {name}")


if __name__ == "__main__":
    main()
