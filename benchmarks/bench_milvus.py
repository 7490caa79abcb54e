"""Local vs Milvus (Lite) retrieval quality and search latency, side by side.

PolicyQA dev (each policy its own corpus) and seed-dev: hit@1/3/10 of `search` for the
local backend (FAISS + bm25s) and Milvus variants: BM25 over qa's stemmed tokens or over
Milvus's own analyzer, fused client-side (weighted RRF, as local) or by `hybrid_search`
with RRFRanker. Query and passage vectors are embedded once and shared by all variants.

    .venv/bin/python benchmarks/bench_milvus.py [--limit N] [--corpora N] [--tiny]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from _common import CORPUS, POLICYQA, SEED_DEV, percentile

from qa.backends.milvus.backend import MilvusBackend
from qa.config import Settings
from qa.encoders.sentence_transformer import SentenceTransformerEmbedder
from qa.evaluation import Case, _contains, read_seed_jsonl, read_squad
from qa.service import QAService

VARIANTS: dict[str, dict[str, Any]] = {
    "local": {"index_backend": "local"},
    "milvus stemmed BM25, weighted RRF": {"index_backend": "milvus", "bm25": "stemmed",
                                          "fusion": "client"},
    "milvus analyzer BM25, weighted RRF": {"index_backend": "milvus", "bm25": "analyzer",
                                           "fusion": "client"},
    "milvus stemmed BM25, hybrid_search RRFRanker": {"index_backend": "milvus",
                                                     "bm25": "stemmed", "fusion": "hybrid"},
}  # fmt: skip
DEFAULT = "milvus stemmed BM25, weighted RRF"  # what MilvusBackend uses


class CachedEmbedder:
    """The real model, with every vector kept: all variants embed each text once."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.model_id, self.dimension = inner.model_id, inner.dimension
        self.max_tokens = inner.max_tokens
        self.cache: dict[str, np.ndarray] = {}

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return self.inner.token_spans(text)

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            for text, vector in zip(missing, self.inner.encode(missing), strict=True):
                self.cache[text] = vector
        return np.stack([self.cache[t] for t in texts]).astype(np.float32)


def corpora(limit: int | None, count: int | None, scratch: Path) -> dict[str, list]:
    sets: dict[str, list[tuple[Path, list[Case]]]] = {"seed-dev": []}
    if SEED_DEV.exists():
        sets["seed-dev"].append((CORPUS, read_seed_jsonl(SEED_DEV)[:limit]))
    sets["PolicyQA dev"] = []
    if POLICYQA.exists():
        for number, (title, paragraphs, cases) in enumerate(read_squad(POLICYQA)[:count]):
            folder = scratch / f"policy-{number}"
            folder.mkdir()
            text = f"{title}\n\n" + "\n\n".join(p.strip() for p in paragraphs)
            name = re.sub(r"[^A-Za-z0-9]+", "-", title)[:80] or str(number)
            (folder / f"{name}.txt").write_text(text, encoding="utf-8")
            sets["PolicyQA dev"].append((folder, cases[:limit]))
    return sets


def run(variant: dict[str, Any], sets: dict[str, list], embedder: Any, scratch: Path) -> dict:
    MilvusBackend.default_bm25 = variant.get("bm25", "stemmed")
    MilvusBackend.default_fusion = variant.get("fusion", "client")
    results: dict[str, Any] = {}
    tag = re.sub(r"\W+", "-", str(variant))[:60]
    for name, items in sets.items():
        ranks: list[int | None] = []
        latencies: list[float] = []
        for number, (corpus, cases) in enumerate(items):
            settings = Settings(
                corpus_dir=corpus, index_dir=scratch / f"{tag}-{name[:6]}-{number}",
                index_backend=variant["index_backend"],
            )  # fmt: skip
            QAService(settings, embedder=embedder).ingest(export_query_encoder=False)
            service = QAService(settings, embedder=embedder)
            service.search("warm up", k=1)
            for case in cases:
                if not case.answerable:
                    continue
                embedder.encode([case.question])  # embedded outside the timing
                started = time.perf_counter()
                hits = service.search(case.question, k=10).hits
                latencies.append((time.perf_counter() - started) * 1000)
                ranks.append(next((h.rank for h in hits if _contains(h.text, case.gold, False)),
                                  None))  # fmt: skip
        hit = {k: sum(r is not None and r <= k for r in ranks) / max(len(ranks), 1)
               for k in (1, 3, 10)}  # fmt: skip
        results[name] = {"questions": len(ranks), "hit": hit,
                         "p50": statistics.median(latencies) if latencies else float("nan"),
                         "p95": percentile(latencies, 95)}  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="questions per corpus")
    parser.add_argument("--corpora", type=int, help="PolicyQA policies to use")
    parser.add_argument("--variants", nargs="*", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--tiny", action="store_true", help="3 questions, 1 policy, 2 variants")
    args = parser.parse_args()
    if args.tiny:
        args.limit, args.corpora, args.variants = 3, 1, list(VARIANTS)[:2]
    if not POLICYQA.exists() and not SEED_DEV.exists():
        print("skipped: eval/policyqa-dev.json and eval/seed-dev.jsonl are missing")
        return
    embedder = CachedEmbedder(SentenceTransformerEmbedder("sentence-transformers/all-MiniLM-L6-v2"))
    with tempfile.TemporaryDirectory(prefix="bench-milvus-") as tmp:
        scratch = Path(tmp)
        sets = corpora(args.limit, args.corpora, scratch)
        table: dict[str, dict] = {}
        for variant in args.variants:
            table[variant] = run(VARIANTS[variant], sets, embedder, scratch)
            print_table(sets, table)  # after each variant, so a long run shows its progress


def print_table(sets: dict[str, list], table: dict[str, dict]) -> None:
    print(f"\n== after {len(table)} variant(s)", flush=True)
    for name in sets:
        if not sets[name]:
            continue
        first = next(iter(table.values()))[name]
        print(f"\n{name} ({first['questions']} answerable questions, search k=10)")
        print("| backend | hit@1 | hit@3 | hit@10 | search p50 ms | p95 ms |")
        print("|---|---|---|---|---|---|")
        for variant, results in table.items():
            r = results[name]
            print(f"| {variant} | {r['hit'][1]:.3f} | {r['hit'][3]:.3f} | {r['hit'][10]:.3f} "
                  f"| {r['p50']:.1f} | {r['p95']:.1f} |")  # fmt: skip
        local, milvus = table.get("local"), table.get(DEFAULT)
        if local and milvus:
            gap = (local[name]["hit"][3] - milvus[name]["hit"][3]) * 100
            print(f"hit@3 gap, local − Milvus default: {gap:+.1f} points "
                  f"(target ≤ 1.0): {'OK' if gap <= 1.0 else 'MISS'}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
