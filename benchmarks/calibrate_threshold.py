"""Calibrate `QA_ABSTAIN_THRESHOLD` for the answer-sentence scorer on held-out dev data.

The held-out documents (`training/heldout.json`) are split in two: the threshold is chosen
on the first half (the lowest that abstains most on questions asked of another corpus while
answering at least 95% of answerable ones) and checked on the second half, which neither
training nor calibration saw.

    python benchmarks/calibrate_threshold.py [--per-corpus 40] [--foreign 10]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import _common as c
from bench_answers import HELDOUT, SQUAD, heldout_file

from qa.config import load_settings
from qa.encoders.sentence_transformer import SentenceTransformerEmbedder
from qa.evaluation import read_squad
from qa.service import QAService

GRID = [round(0.05 * i, 2) for i in range(1, 20)]


def collect(path: Path, embedder: SentenceTransformerEmbedder) -> list[tuple[bool, float, bool]]:
    """(answerable, confidence, answerable by the rules) for every question of `path`."""
    rows: list[tuple[bool, float, bool]] = []
    with tempfile.TemporaryDirectory(prefix="qa-calibrate-") as scratch:
        for number, (title, paragraphs, cases) in enumerate(read_squad(path)):
            corpus = Path(scratch) / f"corpus-{number}"
            corpus.mkdir()
            (corpus / "doc.txt").write_text(f"{title}\n\n" + "\n\n".join(paragraphs))
            settings = load_settings(
                corpus_dir=corpus, index_dir=Path(scratch) / f"index-{number}", abstain_threshold=0
            )
            service = QAService(settings, embedder=embedder)
            service.ingest(export_query_encoder=False)
            for case in cases:
                answer = service.ask(case.question)
                rows.append((case.answerable, answer.confidence, answer.reason is None))
    return rows


def rates(rows: list[tuple[bool, float, bool]], t: float) -> tuple[float, float]:
    """(answered share of answerable, abstained share of unanswerable) at threshold `t`."""
    own = [ok and p >= t for a, p, ok in rows if a]
    foreign = [not (ok and p >= t) for a, p, ok in rows if not a]
    return sum(own) / max(1, len(own)), sum(foreign) / max(1, len(foreign))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-corpus", type=int, default=40)
    parser.add_argument("--foreign", type=int, default=10)
    args = parser.parse_args()
    heldout = json.loads(HELDOUT.read_text(encoding="utf-8"))
    embedder = SentenceTransformerEmbedder("sentence-transformers/all-MiniLM-L6-v2")
    halves: dict[str, list[tuple[bool, float, bool]]] = {"calibration": [], "check": []}
    with tempfile.TemporaryDirectory(prefix="qa-heldout-") as scratch:
        sources = [("policyqa", c.POLICYQA)] + ([("squad", SQUAD)] if SQUAD.is_file() else [])
        for name, source in sources:
            titles = heldout[name]
            half = len(titles) // 2
            for part, chosen in (("calibration", titles[:half]), ("check", titles[half:])):
                path = heldout_file(
                    source, chosen, Path(scratch) / f"{name}-{part}.json",
                    per_corpus=args.per_corpus, foreign=args.foreign,
                )  # fmt: skip
                rows = collect(path, embedder)
                halves[part] += rows
                print(f"{name} {part}: {len(rows)} questions")
    print(f"\n{'threshold':>9}  {'calibration':>24}  {'check (unseen)':>24}")
    print(f"{'':>9}  {'answered':>11} {'abstained':>12}  {'answered':>11} {'abstained':>12}")
    chosen_t = GRID[0]
    for t in GRID:
        a1, r1 = rates(halves["calibration"], t)
        a2, r2 = rates(halves["check"], t)
        print(f"{t:>9.2f}  {a1:>11.1%} {r1:>12.1%}  {a2:>11.1%} {r2:>12.1%}")
        if a1 >= 0.95:
            chosen_t = t
    print(f"\nchosen threshold (highest with >= 95% answered on calibration): {chosen_t}")


if __name__ == "__main__":
    main()
