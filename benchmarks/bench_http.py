"""HTTP latency: `POST /ask` p50/p95 at concurrency 1 and 8, throughput, and HTTP / in-process.

Starts `qa serve` (one uvicorn worker, a separate process) on a fresh seed index, sends
the seed-dev questions over keep-alive connections, then times `QAService.ask` in this
process on the same questions. Every timed question is made distinct (a numbered
suffix), so neither side answers from the retriever's query-vector cache.

    python benchmarks/bench_http.py             # 10 rounds over the questions
    python benchmarks/bench_http.py --tiny      # a handful of requests, for CI
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import _common as c
import httpx


def _distinct(questions: list[str], count: int, start: int) -> list[str]:
    cycle = itertools.cycle(questions)
    return [f"{next(cycle)} ({start + i})" for i in range(count)]


@contextmanager
def _server(index: Path, corpus: Path) -> Iterator[str]:
    """`qa serve` on a free loopback port, until it answers /readyz."""
    port = c.free_port()
    env = c.clean_env(index, corpus)
    process = subprocess.Popen(
        [str(c.QA), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise SystemExit(f"qa serve exited with {process.returncode}")
            try:
                if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("qa serve did not become ready in 120 s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _ask_over_http(url: str, questions: list[str], concurrency: int) -> tuple[list[float], float]:
    """Latency of each `POST /ask`, and the wall time of the whole batch."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    shares = [questions[i::concurrency] for i in range(concurrency)]

    def client(share: list[str]) -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            for question in share:
                start = time.perf_counter()
                response = http.post("/ask", json={"question": question})
                seconds = time.perf_counter() - start
                with lock:
                    latencies.append(seconds)
                    if response.status_code != 200:
                        errors.append(f"{response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, e.g. {errors[0]}")
    return latencies, wall


def _time_in_process(ask: Callable[[str], object], questions: list[str]) -> list[float]:
    out: list[float] = []
    for question in questions:
        start = time.perf_counter()
        ask(question)
        out.append(time.perf_counter() - start)
    return out


def _row(name: str, values: list[float], extra: str = "") -> None:
    p50, p95 = c.median(values), c.percentile(values, 95)
    print(f"{name:<30} p50 {c.ms(p50)}   p95 {c.ms(p95)}   n={len(values):<5} {extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a handful of requests, for CI")
    parser.add_argument("--rounds", type=int, default=10, help="rounds over the questions")
    c.add_index_option(parser)
    args = parser.parse_args()
    os.environ.update(
        HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", HF_HUB_DISABLE_PROGRESS_BARS="1"
    )
    seed = c.questions()
    count = len(seed) * (1 if args.tiny else max(1, args.rounds))
    warmup = 2 if args.tiny else len(seed)

    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        c.header("HTTP /ask latency", f"{count} seed-dev questions per run, 1 uvicorn worker")
        index, corpus = c.seed_index(args, Path(tmp))
        results: dict[int, tuple[list[float], float]] = {}
        with _server(index, corpus) as url:
            _ask_over_http(url, _distinct(seed, warmup, 0), 1)
            for n, concurrency in enumerate((1, 8), start=1):
                results[concurrency] = _ask_over_http(
                    url, _distinct(seed, count, n * 100_000), concurrency
                )

        from qa.config import load_settings
        from qa.service import QAService

        service = QAService(load_settings(index_dir=index, corpus_dir=corpus))
        service.warm()
        for question in _distinct(seed, warmup, 0):
            service.ask(question)
        in_process = _time_in_process(service.ask, _distinct(seed, count, 900_000))

    for concurrency, (latencies, wall) in results.items():
        _row(
            f"HTTP POST /ask, concurrency {concurrency}",
            latencies,
            f"throughput {len(latencies) / wall:6.1f} req/s",
        )
    _row("in-process QAService.ask", in_process)
    http_p50, http_p95 = c.median(results[1][0]), c.percentile(results[1][0], 95)
    ratio50 = http_p50 / c.median(in_process)
    ratio95 = http_p95 / c.percentile(in_process, 95)
    overhead = (http_p50 - c.median(in_process)) * 1000
    print(
        f"HTTP / in-process (concurrency 1): p50 x{ratio50:.2f}, p95 x{ratio95:.2f} "
        f"(HTTP adds {overhead:.1f} ms at p50)"
    )


if __name__ == "__main__":
    main()
