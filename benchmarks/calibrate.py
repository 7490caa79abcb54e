"""Reproduce the tuned constants: fusion weights, answer scoring and the abstention model.

    python benchmarks/calibrate.py [--per-corpus 70] [--tiny]

Answerable questions: seed-dev and a sample of PolicyQA dev per policy. Unanswerable
ones: each corpus is also asked questions from the other corpora (seed questions of a
privacy policy, privacy questions of the seed) plus off-topic questions. Prints the
retrieval grid, then the logistic-regression weights that `qa.answer.compose` hard-codes.
"""

from __future__ import annotations

import argparse
import pickle
import random
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.answer.scoring import COVERAGE_WEIGHT, PASSAGE_WEIGHT, RANK_PENALTY, coverage
from qa.config import load_settings
from qa.encoders.sentence_transformer import SentenceTransformerEmbedder
from qa.evaluation import Case, _contains, read_seed_jsonl, read_squad
from qa.retrieval.fusion import Ranking, convex_fusion, reciprocal_rank_fusion
from qa.retrieval.lexical import tokenize
from qa.service import QAService

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "eval"
OFF_TOPIC = [
    "What is the capital of France?",
    "How do I bake a chocolate cake?",
    "Who won the 2018 World Cup?",
    "How many moons does Jupiter have?",
]


# A fusion candidate the grid compares; the product does not use it.
def zscore_fusion(rankings: Sequence[Ranking], weights: Sequence[float]) -> list[tuple[int, float]]:
    """Σ weight × z-score of the row's score within each ranking (missing rows: the minimum)."""
    fused: dict[int, float] = {}
    standardised: list[tuple[dict[int, float], float, float]] = []
    for ranking in rankings:
        scores = [score for _, score in ranking]
        if len(scores) < 2:
            standardised.append(({row: 0.0 for row, _ in ranking}, 0.0, 0.0))
            continue
        mean = sum(scores) / len(scores)
        std = (sum((s - mean) ** 2 for s in scores) / len(scores)) ** 0.5 or 1.0
        z = {row: (score - mean) / std for row, score in ranking}
        standardised.append((z, min(z.values()), std))
    rows = {row for ranking in rankings for row, _ in ranking}
    for row in rows:
        fused[row] = sum(
            weight * z.get(row, floor)
            for (z, floor, _), weight in zip(standardised, weights, strict=True)
        )
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def collect(per_corpus: int, articles_limit: int | None) -> list[dict]:
    embedder = SentenceTransformerEmbedder("sentence-transformers/all-MiniLM-L6-v2")
    rng = random.Random(0)
    articles = read_squad(EVAL / "policyqa-dev.json")[:articles_limit]
    seed_cases = read_seed_jsonl(EVAL / "seed-dev.jsonl")
    privacy = [c.question for _, _, cases in articles for c in cases]
    scratch = Path(tempfile.mkdtemp(prefix="qa-calibrate-"))
    corpora = []
    for i, (title, paragraphs, cases) in enumerate(articles):
        folder = scratch / f"policy{i}"
        folder.mkdir()
        (folder / "policy.txt").write_text(
            f"{title}\n\n" + "\n\n".join(p.strip() for p in paragraphs)
        )
        negatives = [Case(c.question, False) for c in seed_cases]
        corpora.append((folder, rng.sample(cases, min(per_corpus, len(cases))) + negatives))
    seed = scratch / "seed"
    seed.mkdir()
    shutil.copy(next((ROOT / "corpus").glob("key-fields*.txt")), seed)
    negatives = [Case(q, False) for q in rng.sample(privacy, min(60, len(privacy))) + OFF_TOPIC]
    corpora.append((seed, seed_cases + negatives))
    rows = []
    for number, (folder, cases) in enumerate(corpora):
        settings = load_settings(corpus_dir=folder, index_dir=scratch / f"index{number}")
        QAService(settings, embedder=embedder).ingest()
        snapshot, retriever = QAService(settings, embedder=embedder).current()
        for case in cases:
            rows.append(_features(case, snapshot, retriever, folder.name))
        print(f"collected {folder.name}: {len(rows)} questions", file=sys.stderr)
    shutil.rmtree(scratch, ignore_errors=True)
    return rows


def _features(case: Case, snapshot, retriever, corpus: str) -> dict:  # type: ignore[no-untyped-def]
    vector = retriever.query_vector(case.question)
    dense = snapshot.dense.search(vector, 50)
    lexical = snapshot.lexical.search(case.question, 50)
    terms = list(dict.fromkeys(tokenize([case.question])[0]))
    passages = {}
    for row in dict.fromkeys([r for r, _ in dense[:20]] + [r for r, _ in lexical[:20]]):
        passage = snapshot.passage(row)
        span = snapshot.sentence_rows(row)
        cosines = np.asarray(snapshot.sentence_vectors[span.start : span.stop]) @ vector
        texts = passage.sentence_texts()
        sentences = [
            (float(c), coverage(terms, set(t), snapshot.lexical.idf), text)
            for c, t, text in zip(cosines, tokenize(texts), texts, strict=True)
        ]
        passages[row] = {
            "cosine": float(np.asarray(snapshot.vectors[row]) @ vector),
            "gold": case.answerable and _contains(passage.text, case.gold, False),
            "sentences": sentences,
        }
    return {
        "corpus": corpus,
        "question": case.question,
        "answerable": case.answerable,
        "expected": case.expected,
        "all": case.require_all,
        "dense": dense,
        "lexical": lexical,
        "passages": passages,
    }


def retrieval_grid(rows: list[dict]) -> None:
    answerable = [r for r in rows if r["answerable"]]
    groups = {
        "policyqa": [r for r in answerable if r["corpus"] != "seed"],
        "seed": [r for r in answerable if r["corpus"] == "seed"],
    }
    print("\nretrieval: method, dense weight, lexical weight → hit@1/3/10 per dataset")
    variants = [("dense", 1, 0, 60), ("lexical", 0, 1, 60)]
    variants += [("convex", 1, w, 60) for w in (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)]
    variants += [("rrf", 1, w, k) for k in (20, 60) for w in (0.75, 1.0, 1.1, 1.15, 1.25, 1.5)]
    variants += [("zscore", 1, w, 0) for w in (0.25, 0.5, 0.75, 1.0, 1.25)]
    for method, wd, wl, k in variants:
        line = f"{method:8} {wd} {wl:<5} k={k:<3}"
        for name, group in groups.items():
            hits = np.zeros(3)
            for r in group:
                rankings = [r["dense"], r["lexical"]]
                if method == "rrf":
                    fused = reciprocal_rank_fusion(rankings, [wd, wl], k=k)[:10]
                elif method == "zscore":
                    fused = zscore_fusion(rankings, [wd, wl])[:10]
                else:
                    fused = convex_fusion(rankings, [wd, wl])[:10]
                rank = next(
                    (
                        i
                        for i, (row, _) in enumerate(fused, 1)
                        if row in r["passages"] and r["passages"][row]["gold"]
                    ),
                    None,
                )
                if rank:
                    hits += [rank <= 1, rank <= 3, True]
            line += f"  {name} " + " ".join(f"{h / max(len(group), 1):.3f}" for h in hits)
        print(line)


def abstention_model(rows: list[dict]) -> None:
    from sklearn.linear_model import LogisticRegression

    features, labels = [], []
    for r in rows:
        top = [
            row
            for row, _ in reciprocal_rank_fusion([r["dense"], r["lexical"]], [1, 1.15])[:5]
            if row in r["passages"]
        ]
        scored = [
            (
                cos
                + PASSAGE_WEIGHT * r["passages"][row]["cosine"]
                + COVERAGE_WEIGHT * cov
                - RANK_PENALTY * rank,
                cos,
                r["passages"][row]["cosine"],
                cov,
            )
            for rank, row in enumerate(top)
            for cos, cov, _ in r["passages"][row]["sentences"]
        ]
        if not scored:
            continue
        best = max(scored)
        features.append(
            [
                best[1],
                best[2],
                best[3],
                max(r["passages"][row]["cosine"] for row in top),
                max(s[3] for s in scored),
            ]
        )
        labels.append(int(r["answerable"]))
    x, y = np.array(features), np.array(labels)
    weights = np.where(y == 1, 1.0, (y == 1).sum() / max((y == 0).sum(), 1))
    model = LogisticRegression(C=1.0).fit(x, y, sample_weight=weights)
    print("\nabstention model (paste into qa.answer.compose):")
    print(f"CONFIDENCE_WEIGHTS = {tuple(round(float(w), 3) for w in model.coef_[0])}")
    print(f"CONFIDENCE_BIAS = {round(float(model.intercept_[0]), 3)}")
    probability = model.predict_proba(x)[:, 1]
    for threshold in (0.3, 0.4, 0.5, 0.6):
        answered = probability >= threshold
        print(
            f"threshold {threshold}: answers {answered[y == 1].mean():.3f} of answerable, "
            f"{answered[y == 0].mean():.3f} of unanswerable"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-corpus", type=int, default=70, help="PolicyQA questions per policy")
    parser.add_argument("--tiny", action="store_true", help="two policies, five questions each")
    parser.add_argument("--cache", type=Path, help="reuse (or write) collected features here")
    args = parser.parse_args()
    if args.cache and args.cache.exists():
        rows = pickle.loads(args.cache.read_bytes())
    else:
        rows = collect(5, 2) if args.tiny else collect(args.per_corpus, None)
        if args.cache:
            args.cache.parent.mkdir(parents=True, exist_ok=True)
            args.cache.write_bytes(pickle.dumps(rows))
    retrieval_grid(rows)
    abstention_model(rows)


if __name__ == "__main__":
    main()
