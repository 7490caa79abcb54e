"""Synthetic scale data for `bench_scale.py`: a PolicyQA-derived corpus and a fast embedder.

`write_corpus` writes Markdown policies made of PolicyQA paragraphs repeated with variation
(renamed companies, changed figures, swapped synonyms, reordered sentences, invented
product words), so every document differs and the vocabulary keeps growing with size.

`HashingEmbedder` stands in for MiniLM when 100k passages must be embedded in minutes: a
random projection of a sublinear term-frequency vector (hashed into 4,096 buckets) to 384
dimensions. Cosine between its vectors tracks word overlap, so near-duplicate passages
cluster the way real embeddings do, and HNSW recall against exact search is meaningful.
"""

from __future__ import annotations

import json
import random
import re
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

POLICYQA = Path(__file__).resolve().parents[1] / "eval" / "policyqa-dev.json"

_WORD = re.compile(r"\w+")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_NUMBER = re.compile(r"\b\d+\b")
_STOP = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to was "  # noqa: SIM905
    "we were will with you your our us may not can".split()
)
_SYNONYMS = [
    ("information", "data"),
    ("collect", "gather"),
    ("share", "disclose"),
    ("third parties", "other companies"),
    ("use", "process"),
    ("website", "service"),
    ("personal", "individual"),
    ("users", "customers"),
    ("provide", "supply"),
    ("cookies", "tracking technologies"),
    ("policy", "notice"),
    ("request", "ask"),
]
_SYLLABLES = "ka lo mi ra ve zu to ne sa ri po la qui dor fen gal hos jin mar tel vex".split()  # noqa: SIM905


def policyqa_policies(path: Path = POLICYQA) -> list[tuple[str, list[str]]]:
    """(title, paragraphs) of each PolicyQA policy."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    return [(str(d["title"]), [str(p["context"]) for p in d["paragraphs"]]) for d in data]


def policyqa_questions(path: Path = POLICYQA) -> list[str]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    return [str(q["question"]) for d in data for p in d["paragraphs"] for q in p["qas"]]


def _invented_word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))


def _vary(paragraph: str, rng: random.Random, company: str, words: Sequence[str]) -> str:
    sentences = _SENTENCE.split(paragraph)
    if len(sentences) > 2 and rng.random() < 0.5:
        head, tail = sentences[:1], sentences[1:]
        rng.shuffle(tail)
        sentences = head + tail
    text = " ".join(sentences)
    for a, b in _SYNONYMS:
        if rng.random() < 0.3:
            text = text.replace(a, b)
    text = _NUMBER.sub(lambda m: str(int(m.group()) + rng.randint(1, 9)), text)
    extra = " ".join(rng.sample(list(words), k=min(3, len(words))))
    return f"{text} This applies to the {company} {extra} products."


def write_corpus(folder: Path, documents: int, *, seed: int = 0) -> int:
    """Write `documents` Markdown files into `folder`; returns the bytes written."""
    rng = random.Random(seed)
    policies = policyqa_policies()
    vocabulary = [_invented_word(rng) for _ in range(max(200, documents * 4))]
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for n in range(documents):
        title, paragraphs = policies[n % len(policies)]
        company = f"{_invented_word(rng).capitalize()} {rng.choice(['Inc', 'Ltd', 'GmbH', 'LLC'])}"
        words = rng.sample(vocabulary, k=12)
        lines = [f"# {company}: {title} (edition {n // len(policies) + 1})", ""]
        for i, paragraph in enumerate(paragraphs):
            if i % 6 == 0:
                lines += [f"## Section {i // 6 + 1}", ""]
            lines += [_vary(paragraph, rng, company, words), ""]
        text = "\n".join(lines)
        (folder / f"policy-{n:06d}.md").write_text(text, encoding="utf-8")
        written += len(text.encode())
    return written


class HashingEmbedder:
    """Deterministic, fast stand-in for a 384-dimension sentence embedder (see module doc)."""

    model_id = "bench-hashing-384"
    dimension = 384
    max_tokens = 254

    def __init__(self, buckets: int = 4096, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self._projection = rng.standard_normal((buckets, self.dimension)).astype(np.float32)
        self._buckets = buckets
        self._bucket_of: dict[str, int] = {}
        self.seconds = 0.0  # time spent in encode, so callers can subtract it
        self.texts = 0

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in _TOKEN.finditer(text)]

    def count_tokens(self, text: str) -> int:
        return len(_TOKEN.findall(text))

    def _bucket(self, word: str) -> int:
        bucket = self._bucket_of.get(word)
        if bucket is None:
            bucket = zlib.crc32(word.encode()) % self._buckets
            self._bucket_of[word] = bucket
        return bucket

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        import time

        from scipy.sparse import csr_matrix

        start = time.perf_counter()
        rows: list[int] = []
        cols: list[int] = []
        for i, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                if word not in _STOP:
                    rows.append(i)
                    cols.append(self._bucket(word))
        counts = csr_matrix(
            (np.ones(len(rows), np.float32), (rows, cols)), shape=(len(texts), self._buckets)
        )
        counts.sum_duplicates()
        counts.data = 1.0 + np.log(counts.data)  # sublinear tf
        out = np.asarray(counts @ self._projection, dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        out /= np.where(norms == 0, 1.0, norms)
        self.seconds += time.perf_counter() - start
        self.texts += len(texts)
        return out
