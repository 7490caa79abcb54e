"""Sentence vectors: pooled out of the passage pass against embedded one by one, on PolicyQA.

Per question, the sentence with the highest cosine to the question is picked (a) among the
sentences of its gold paragraph and (b) among the sentences of the top-3 passages `qa`
retrieves; it is a hit when it contains the answer. Both kinds of sentence vector come
from the same ONNX export of the model, so only the pooling differs.

    python benchmarks/bench_sentence_pooling.py                 # (a) all 20 policies, (b) 6
    python benchmarks/bench_sentence_pooling.py --tiny          # 8 paragraphs of 1, for CI
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as c
import numpy as np


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _articles(limit: int | None, paragraphs: int | None = None) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(c.POLICYQA.read_text(encoding="utf-8"))["data"]
    return [{**a, "paragraphs": a["paragraphs"][:paragraphs]} for a in data[:limit]]


def _pick(question: np.ndarray, sentences: np.ndarray) -> int:
    return int(np.argmax(np.asarray(sentences, dtype=np.float32) @ question))


def gold_paragraphs(encoder: Any, articles: list[dict[str, Any]]) -> dict[str, float]:
    """(a): the best sentence of the gold paragraph, separate vs pooled vectors."""
    from qa.chunking import split_sentences

    contexts = [p["context"] for a in articles for p in a["paragraphs"]]
    spans = [split_sentences(t) for t in contexts]
    start = time.perf_counter()
    separate = encoder.encode([t[a:b] for t, s in zip(contexts, spans, strict=True) for a, b in s])
    separate_seconds = time.perf_counter() - start
    start = time.perf_counter()
    _, pooled = encoder.encode_spans(contexts, spans)
    pooled_seconds = time.perf_counter() - start
    firsts = np.cumsum([0, *(len(s) for s in spans)])
    cases = [
        (i, q)
        for i, p in enumerate(a_p for a in articles for a_p in a["paragraphs"])
        for q in p["qas"]
        if q.get("answers")
    ]
    questions = encoder.encode([q["question"] for _, q in cases])
    hits: dict[str, list[bool]] = {"separate": [], "pooled": [], "separate~": [], "pooled~": []}
    for (i, q), vector in zip(cases, questions, strict=True):
        rows = slice(int(firsts[i]), int(firsts[i + 1]))
        if rows.start == rows.stop:
            continue
        answers = [(a["answer_start"], a["answer_start"] + len(a["text"])) for a in q["answers"]]
        texts = [_norm(a["text"]) for a in q["answers"]]
        for name, vectors in (("separate", separate), ("pooled", pooled)):
            a, b = spans[i][_pick(vector, vectors[rows])]
            sentence = _norm(contexts[i][a:b])
            hits[name].append(any(t in sentence for t in texts))
            hits[name + "~"].append(any(s < b and e > a for s, e in answers))
    out = {name: float(np.mean(v)) for name, v in hits.items()}
    out["questions"] = len(hits["pooled"])
    out["sentences"] = len(separate)
    out["separate_seconds"] = separate_seconds
    out["pooled_seconds"] = pooled_seconds
    return out


def retrieved_passages(
    encoder: Any, embedder: Any, articles: list[dict[str, Any]], base: Path
) -> dict[str, float]:
    """(b): the best sentence of the top-3 retrieved passages, separate vs pooled vectors."""
    from qa.config import load_settings
    from qa.service import QAService

    hits: dict[str, list[bool]] = {"separate": [], "pooled": [], "any": []}
    for number, article in enumerate(articles):
        corpus = base / f"corpus-{number}"
        corpus.mkdir()
        text = f"{article['title']}\n\n" + "\n\n".join(
            p["context"].strip() for p in article["paragraphs"]
        )
        (corpus / "policy.txt").write_text(text, encoding="utf-8")
        settings = load_settings(corpus_dir=corpus, index_dir=base / f"index-{number}")
        service = QAService(settings, embedder=embedder)
        service.ingest()  # the real path: ONNX export, sentence vectors pooled
        snapshot, _ = service.current()
        separate: dict[int, np.ndarray] = {}
        cases = [q for p in article["paragraphs"] for q in p["qas"] if q.get("answers")]
        vectors = encoder.encode([q["question"] for q in cases])
        for q, vector in zip(cases, vectors, strict=True):
            texts = [_norm(a["text"]) for a in q["answers"]]
            rows = [snapshot.row_of(h.passage_id) for h in service.search(q["question"], k=3).hits]
            sentences = [
                (row, k, _norm(t))
                for row in rows
                for k, t in enumerate(snapshot.passage(row).sentence_texts())
            ]
            if not sentences:
                continue
            for row in rows:
                if row not in separate:
                    separate[row] = encoder.encode(snapshot.passage(row).sentence_texts())
            pooled = np.concatenate(
                [
                    snapshot.sentence_vectors[
                        snapshot.sentence_rows(r).start : snapshot.sentence_rows(r).stop
                    ]
                    for r in rows
                ]
            )
            alone = np.concatenate([separate[r] for r in rows])
            for name, matrix in (("separate", alone), ("pooled", pooled)):
                sentence = sentences[_pick(vector, matrix)][2]
                hits[name].append(any(t in sentence for t in texts))
            hits["any"].append(any(t in s for _, _, s in sentences for t in texts))
    out = {name: float(np.mean(v)) for name, v in hits.items()}
    out["questions"] = len(hits["pooled"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="8 paragraphs of 1 policy, for CI")
    parser.add_argument("--gold-articles", type=int, default=20, help="policies for (a)")
    parser.add_argument("--retrieval-articles", type=int, default=6, help="policies for (b)")
    args = parser.parse_args()
    gold_n, retrieval_n = (1, 1) if args.tiny else (args.gold_articles, args.retrieval_articles)
    paragraphs = 8 if args.tiny else None

    from qa.config import load_settings
    from qa.encoders.onnx import OnnxQueryEncoder
    from qa.encoders.onnx_export import export_query_encoder
    from qa.encoders.sentence_transformer import load_embedder

    c.header(
        "sentence vectors: pooled from the passage pass vs embedded alone (PolicyQA dev)",
        f"(a) {gold_n} policies, (b) {retrieval_n} policies",
    )
    embedder = load_embedder(load_settings())
    with tempfile.TemporaryDirectory(prefix="bench-pooling-") as tmp:
        export = export_query_encoder(embedder.model, Path(tmp) / "onnx")
        if export is None:
            raise SystemExit("the model could not be exported to ONNX")
        encoder = OnnxQueryEncoder(export, model_id=embedder.model_id)
        gold = gold_paragraphs(encoder, _articles(gold_n, paragraphs))
        top3 = retrieved_passages(encoder, embedder, _articles(retrieval_n, paragraphs), Path(tmp))

    print(f"(a) best sentence of the gold paragraph, {gold['questions']:.0f} questions")
    print("                                   separate     pooled   difference")
    for label, key in (("contains the answer", ""), ("overlaps the answer span", "~")):
        s, p = gold["separate" + key], gold["pooled" + key]
        print(f"  {label:<30} {s:9.1%} {p:9.1%}   {(p - s) * 100:+6.1f} points")
    print(
        f"  embedding time, {gold['sentences']:.0f} sentences   "
        f"{gold['separate_seconds']:7.1f} s (alone)  vs {gold['pooled_seconds']:.1f} s "
        "(pooled, includes the paragraphs' own vectors)"
    )
    print(f"(b) best sentence of the top-3 retrieved passages, {top3['questions']:.0f} questions")
    s, p = top3["separate"], top3["pooled"]
    print(f"  contains the answer            {s:9.1%} {p:9.1%}   {(p - s) * 100:+6.1f} points")
    print(f"  some top-3 sentence contains it (ceiling) {top3['any']:9.1%}")


if __name__ == "__main__":
    main()
