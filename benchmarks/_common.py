"""Helpers shared by the benchmark scripts: paths, statistics, processes and the seed index.

Not a benchmark itself. Each `bench_*.py` imports it as `_common` (scripts run with
`benchmarks/` first on `sys.path`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
EVAL_DIR = ROOT / "eval"  # committed copies of seed-dev and PolicyQA dev
SHARED_EVAL = ROOT.parent / "shared" / "eval"  # SQuAD and FinanceBench: benchmarks skip without it
SEED_DEV = EVAL_DIR / "seed-dev.jsonl"
POLICYQA = EVAL_DIR / "policyqa-dev.json"
BIN = Path(sys.executable).parent
QA = BIN / "qa"
QUESTION = "What forum did Korea set up for hydrogen?"


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0-100), linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def secs(seconds: float) -> str:
    return f"{seconds:8.3f} s"


def verdict(value: float, target: float) -> str:
    """`ok` or `MISS`, for `value <= target` (lower is better)."""
    return "ok" if value <= target else "MISS"


def verdict_at_least(value: float, target: float) -> str:
    return "ok" if value >= target else "MISS"


def header(title: str, detail: str = "") -> None:
    load = os.getloadavg()[0]
    print(f"== {title} ==")
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load:.1f} at start"
        + (f"; {detail}" if detail else "")
    )


def questions(limit: int | None = None) -> list[str]:
    """The seed-dev questions (all of them, answerable or not)."""
    rows = [json.loads(line) for line in SEED_DEV.read_text(encoding="utf-8").splitlines() if line]
    found = [str(row["question"]) for row in rows]
    return found[:limit] if limit else found


def clean_env(index_dir: Path | None = None, corpus_dir: Path | None = None) -> dict[str, str]:
    """This environment without the caller's `QA_*`, offline, pointed at the given folders."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(
        HF_HUB_OFFLINE="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        TRANSFORMERS_VERBOSITY="error",
        TQDM_DISABLE="1",
        TOKENIZERS_PARALLELISM="false",
        PYTHONUNBUFFERED="1",
    )
    if index_dir is not None:
        env["QA_INDEX_DIR"] = str(index_dir)
    if corpus_dir is not None:
        env["QA_CORPUS_DIR"] = str(corpus_dir)
    return env


def run_measured(argv: Sequence[str], env: dict[str, str]) -> tuple[float, str, float]:
    """Run `argv` to completion (it must exit 0): wall seconds, stdout, peak RSS in MB."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(list(argv), env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise SystemExit(
                f"{' '.join(argv)} failed ({process.returncode}):\n{err.read()[-2000:]}"
            )
        return seconds, out.read(), usage.ru_maxrss / 1024


def time_process(argv: Sequence[str], env: dict[str, str]) -> tuple[float, str]:
    """Wall time of running `argv` to completion (it must exit 0), and its stdout."""
    seconds, stdout, _ = run_measured(argv, env)
    return seconds, stdout


def build_seed_index(base: Path) -> tuple[Path, Path, float]:
    """Copy the seed corpus under `base` and `qa ingest` it there: (index, corpus, seconds)."""
    corpus, index = base / "corpus", base / "index"
    shutil.copytree(CORPUS, corpus)
    seconds, _ = time_process([str(QA), "ingest", "--json"], clean_env(index, corpus))
    return index, corpus, seconds


def add_index_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index",
        type=Path,
        help="reuse this already built seed index folder instead of building one "
        "(its corpus is taken from --corpus, default the repository's corpus/)",
    )
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="corpus folder of --index")


def seed_index(args: argparse.Namespace, base: Path) -> tuple[Path, Path]:
    """`args.index` if given, else a fresh seed index built under `base`."""
    if args.index is not None:
        return args.index.resolve(), args.corpus.resolve()
    index, corpus, seconds = build_seed_index(base)
    print(f"built seed index in {seconds:.1f} s (qa ingest, fresh process)")
    return index, corpus


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_status(pid: int) -> dict[str, int]:
    """The kB fields of /proc/<pid>/status (VmHWM, VmRSS, ...)."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB":
            out[key] = int(parts[0])
    return out


def self_peak_rss_mb() -> float:
    """Peak RSS (VmHWM) of this process, in MB."""
    return proc_status(os.getpid())["VmHWM"] / 1024


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
