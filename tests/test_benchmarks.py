"""The benchmarks in their `--tiny` mode: each runs to completion and prints its figures.

Timings are not checked here (they belong to the benchmarks); this only keeps the scripts
from rotting. The seed index built by the ingest benchmark is reused by the others.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
NUMBER = r"[\d,]+(\.\d+)?"


def run_benchmark(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--tiny", *args],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done.stdout


def assert_figures(output: str, patterns: list[str]) -> None:
    for pattern in patterns:
        assert re.search(pattern.replace("NUM", NUMBER), output), f"no {pattern!r} in:\n{output}"


@pytest.fixture(scope="module")
def ingest_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The ingest benchmark's output, and the seed index it kept for the other benchmarks."""
    kept = tmp_path_factory.mktemp("bench-seed")
    return run_benchmark("bench_ingest.py", "--keep-index", str(kept)), kept


def test_benchmarks_ingest_prints_first_reingest_and_ratio(ingest_run: tuple[str, Path]) -> None:
    output, kept = ingest_run
    assert_figures(
        output,
        [
            r"first ingest\s+NUM s",
            r"re-ingest, corpus unchanged\s+NUM s",
            r"ratio re-ingest / first\s+NUM%",
        ],
    )
    assert (kept / "index" / "current").is_dir()


@pytest.mark.parametrize(
    ("script", "patterns"),
    [
        (
            "bench_cold_start.py",
            [
                r"qa --help\s+NUM ms",
                r"qa status\s+NUM ms",
                r"qa ask\s+NUM ms",
                r"peer: sentence-transformers \+ FAISS\s+NUM ms",
                r"ratio qa ask / peer \(medians\)\s+NUM",
                r"answered with a citation: True",
            ],
        ),
        (
            "bench_warm.py",
            [
                r"QAService.ask\s+p50\s+NUM ms\s+p95\s+NUM ms",
                r"peer: ST encode \+ FAISS \+ passage\s+p50\s+NUM ms",
                r"ratio QAService.ask / peer \(p50\)\s+NUM",
            ],
        ),
        (
            "bench_memory.py",
            [r"peak RSS \(VmHWM\)\s+NUM MB", r"torch imported by the server: (yes|no)"],
        ),
    ],
)
def test_benchmarks_on_seed_index_print_figures(
    ingest_run: tuple[str, Path], script: str, patterns: list[str]
) -> None:
    _, kept = ingest_run
    output = run_benchmark(script, "--index", str(kept / "index"), "--corpus", str(kept / "corpus"))
    assert_figures(output, patterns)


def test_benchmarks_scale_prints_every_figure() -> None:
    output = run_benchmark("bench_scale.py")
    assert_figures(
        output,
        [
            r"MiniLM .* NUM passages/s",
            r"ingest excluding embedding\s+NUM s\s+= NUM passages/s",
            r"index build time \(FAISS \+ BM25\)\s+NUM s",
            r"index size on disk\s+NUM MB",
            r"peak RSS of the build process\s+NUM MB",
            r"QAService.search\s+p50\s+NUM ms\s+p95\s+NUM ms",
            r"open index \+ first search\s+NUM s",
            r"recall@10 vs exact\s+NUM",
        ],
    )


def test_benchmarks_query_encoder_prints_ratio_and_parity() -> None:
    output = run_benchmark("bench_query_encoder.py")
    assert_figures(output, [r"ratio \(b\) / \(a\)\s+NUM x", r"parity: min cosine .* NUM"])


def test_benchmarks_ingest_speed_prints_rates_and_ratios() -> None:
    output = run_benchmark("bench_ingest_speed.py")
    assert_figures(
        output,
        [
            r"qa ingest, fresh process\s+NUM s\s+NUM",
            r"peer: load model \+ encode, fresh proc\.\s+NUM s\s+NUM",
            r"ratio qa ingest / peer \(processes\)\s+NUM x",
            r"re-ingest, corpus unchanged\s+NUM s = NUM%",
        ],
    )


def test_benchmarks_sentence_pooling_prints_both_hit_rates() -> None:
    output = run_benchmark("bench_sentence_pooling.py")
    assert_figures(
        output,
        [
            r"contains the answer\s+NUM%\s+NUM%\s+[+-]NUM points",
            r"ceiling\) +NUM%",
        ],
    )


def test_benchmarks_milvus_prints_both_backends_side_by_side() -> None:
    output = run_benchmark("bench_milvus.py")
    assert_figures(
        output,
        [
            r"\| local \| NUM \| NUM \| NUM \| NUM \| NUM \|",
            r"\| milvus stemmed BM25, weighted RRF \| NUM \| NUM \| NUM \| NUM \| NUM \|",
            r"hit@3 gap, local − Milvus default: [+-]NUM points",
        ],
    )


def test_benchmarks_pdf_skips_cleanly_without_the_filings(tmp_path: Path) -> None:
    output = run_benchmark("bench_pdf.py", "--data", str(tmp_path / "absent"))
    assert output.startswith("skipped:") and "absent" in output


def test_benchmarks_answers_prints_heldout_figures() -> None:
    output = run_benchmark("bench_answers.py")
    assert_figures(
        output,
        [r"PolicyQA held-out \(NUM questions\)", r"answer contains\s+NUM%", r"abstention recall"],
    )
