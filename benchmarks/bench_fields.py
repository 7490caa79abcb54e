"""Field-map build time as the corpus grows (to 1,000 documents), and one-shot `qa fields`.

    PYTHONPATH=src python benchmarks/bench_fields.py [--sizes 10 100 1000] [--index DIR]

Documents are the seed article with its countries rotated (so actors and fields vary);
they are chunked and mapped with `HashingEmbedder` (see `_synthetic.py`), which stands in
for MiniLM so the figure is the cost of attribution and scoring, not of embedding. With
`--index` (a built seed index) it also times `qa fields --json` as a fresh process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _synthetic import HashingEmbedder

from qa.chunking import chunk_document
from qa.config import load_settings
from qa.fields.build import map_documents
from qa.fields.taxonomy import load_taxonomy
from qa.ingest.corpus import read_document

ROOT = Path(__file__).resolve().parents[1]
SEED = next((ROOT / "corpus").glob("*.txt"))
SWAPS = [
    ("Korean", "German"), ("Korea", "Germany"), ("Japan", "Canada"), ("Japanese", "Canadian"),
    ("Taiwan", "Mexico"), ("Taiwanese", "Mexican"), ("China", "Brazil"), ("India", "Chile"),
]  # fmt: skip


def write_documents(folder: Path, count: int) -> list[Path]:
    text = SEED.read_text(encoding="utf-8")
    paths = []
    for i in range(count):
        variant = text
        for a, b in SWAPS[: i % (len(SWAPS) + 1)]:
            variant = variant.replace(a, b)
        path = folder / f"doc-{i:05d}.txt"
        path.write_text(variant + f"\n\nDocument number {i}.\n", encoding="utf-8")
        paths.append(path)
    return paths


def build_time(count: int, folder: Path) -> float:
    folder.mkdir(parents=True, exist_ok=True)
    embedder = HashingEmbedder()
    documents = [read_document(p, folder) for p in write_documents(folder, count)]
    passages = {d.id: chunk_document(d, embedder, size=160, min_tokens=24) for d in documents}
    taxonomy = load_taxonomy(load_settings(corpus_dir=folder))
    started = time.perf_counter()
    map_documents(
        documents, passages.__getitem__, taxonomy=taxonomy, encoder=embedder, model="bench"
    )
    return time.perf_counter() - started


def one_shot(index: Path, runs: int = 5) -> float:
    env = {**os.environ, "QA_INDEX_DIR": str(index), "PYTHONPATH": str(ROOT / "src")}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [str(Path(sys.executable).with_name("qa")), "fields", "--json"],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--index", type=Path, help="A built seed index, to time `qa fields`.")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-fields"))
    args = parser.parse_args()
    print("documents  map build (s)  per document (ms)")
    for size in args.sizes:
        seconds = build_time(size, args.work / str(size))
        print(f"{size:9d}  {seconds:13.2f}  {1000 * seconds / size:17.1f}")
    if args.index:
        print(
            f"one-shot `qa fields --json` (median of 5): {one_shot(args.index):.2f} s (target 1 s)"
        )


if __name__ == "__main__":
    main()
