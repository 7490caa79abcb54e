"""Ingest: first ingest of the seed corpus against re-ingest of the unchanged corpus.

Fresh processes (`qa ingest --json`, what a user runs) and, unless --tiny, in-process
`QAService.ingest` with the model already loaded (the work itself, without Python and
model start-up). Each repetition starts from an empty index folder.

    python benchmarks/bench_ingest.py            # 3 repetitions
    python benchmarks/bench_ingest.py --tiny     # 1 repetition, fresh processes only, for CI
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import _common as c

TARGET_RATIO = 0.05


def _fresh_processes(
    base: Path, repeat: int
) -> tuple[list[float], list[float], list[float], list[float]]:
    first, again, first_rss, again_rss = [], [], [], []
    for i in range(repeat):
        corpus, index = base / f"corpus-{i}", base / f"index-{i}"
        shutil.copytree(c.CORPUS, corpus)
        env = c.clean_env(index, corpus)
        argv = [str(c.QA), "ingest", "--json"]
        seconds, out, rss = c.run_measured(argv, env)
        assert json.loads(out)["embedded_passages"] > 0, out
        first.append(seconds)
        first_rss.append(rss)
        seconds, out, rss = c.run_measured(argv, env)
        assert json.loads(out)["embedded_passages"] == 0, out
        again.append(seconds)
        again_rss.append(rss)
    return first, again, first_rss, again_rss


def _in_process(base: Path, repeat: int) -> tuple[list[float], list[float], float]:
    from qa.config import load_settings
    from qa.encoders.sentence_transformer import load_embedder
    from qa.service import QAService

    start = time.perf_counter()
    embedder = load_embedder(load_settings())
    model_load = time.perf_counter() - start
    first, again = [], []
    for i in range(repeat):
        corpus, index = base / f"ip-corpus-{i}", base / f"ip-index-{i}"
        shutil.copytree(c.CORPUS, corpus)
        settings = load_settings(index_dir=index, corpus_dir=corpus)
        start = time.perf_counter()
        QAService(settings, embedder=embedder).ingest()
        first.append(time.perf_counter() - start)
        start = time.perf_counter()
        report = QAService(settings, embedder=embedder).ingest()
        again.append(time.perf_counter() - start)
        assert report.embedded_passages == 0
    return first, again, model_load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="1 repetition, fresh processes only")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each variant")
    parser.add_argument(
        "--keep-index",
        type=Path,
        help="copy the first built seed index (and its corpus) into this folder",
    )
    args = parser.parse_args()
    repeat = 1 if args.tiny else max(1, args.repeat)
    os.environ.update(c.clean_env())

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        base = Path(tmp)
        c.header("ingest: first vs unchanged re-ingest of the seed corpus", f"{repeat} repetitions")
        first, again, first_rss, again_rss = _fresh_processes(base, repeat)
        if args.keep_index is not None:
            args.keep_index.mkdir(parents=True, exist_ok=True)
            for name in ("index", "corpus"):
                shutil.copytree(
                    base / f"{name}-0", args.keep_index / name, symlinks=True, dirs_exist_ok=True
                )
        ip = None if args.tiny else _in_process(base, repeat)

    print("fresh process (qa ingest --json)           median        min   peak RSS")
    print(
        f"  first ingest                        {c.secs(c.median(first))} {c.secs(min(first))} "
        f"{max(first_rss):6.0f} MB"
    )
    print(
        f"  re-ingest, corpus unchanged         {c.secs(c.median(again))} {c.secs(min(again))} "
        f"{max(again_rss):6.0f} MB"
    )
    ratio = c.median(again) / c.median(first)
    print(
        f"  ratio re-ingest / first             {ratio:8.1%}   "
        f"target <= {TARGET_RATIO:.0%} {c.verdict(ratio, TARGET_RATIO)}"
    )
    if ip is not None:
        ip_first, ip_again, model_load = ip
        print(f"in process, model already loaded ({model_load:.1f} s to load it, not counted)")
        print(f"  first ingest                        {c.secs(c.median(ip_first))}")
        print(f"  re-ingest, corpus unchanged         {c.ms(c.median(ip_again))}")
        print(
            f"  ratio re-ingest / first             {c.median(ip_again) / c.median(ip_first):8.2%}"
        )
    if args.keep_index is not None:
        print(f"kept the seed index in {args.keep_index}")


if __name__ == "__main__":
    main()
