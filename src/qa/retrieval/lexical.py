"""Lexical retrieval with bm25s (stemmed, English stop words removed), plus term IDFs."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray


_TOKENIZE_BLOCK = 10_000
# A year run into a period label is two words: "FY2019" and "2022Q4" match "2019" and "Q4".
_YEAR_JOIN = re.compile(r"(?<=[^\W\d_])(?=\d{4}(?!\d))|(?<=(?<!\d)\d{4})(?=[^\W\d_])")


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, stemmed word tokens without stop words, one list per text."""
    import bm25s

    tokens = bm25s.tokenize(
        [_YEAR_JOIN.sub(" ", text) for text in texts],
        stopwords="en",
        stemmer=_stemmer(),
        return_ids=False,
        show_progress=False,
    )
    return [list(t) for t in tokens]


def content_terms(text: str) -> list[str]:
    """The stemmed content words of a question, once each: `tokenize` with NLTK's fuller
    English stop-word list (bm25s's `STOPWORDS_EN_PLUS`), so that "what", "does", "how"
    and "which" are not words an answer sentence must say."""
    import bm25s
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    tokens = bm25s.tokenize(
        [_YEAR_JOIN.sub(" ", text)],
        stopwords=list(STOPWORDS_EN_PLUS),
        stemmer=_stemmer(),
        return_ids=False,
        show_progress=False,
    )
    return list(dict.fromkeys(tokens[0]))


def document_label(title: str, source: str) -> str:
    """The words that name a document: its title, then its file name as words.

    A file name often names what its title page does not: "AMAZON_2019_10K.pdf" gives
    "AMAZON 2019 10K".
    """
    stem = file_name_words(source)
    return f"{title}\n{stem}" if stem and stem.lower() != title.lower() else title


def file_name_words(source: str) -> str:
    """A file's name as words: "filings/AMAZON_2019_10K.pdf" gives "AMAZON 2019 10K"."""
    return re.sub(r"[\W_]+", " ", PurePosixPath(source).stem).strip()


class LexicalIndex:
    """BM25 over the passages' search texts, and document frequencies for IDF."""

    def __init__(self, bm25: Any | None, idf: dict[str, float]) -> None:
        self._bm25 = bm25  # None for an empty corpus: bm25s cannot index nothing
        self.idf = idf

    @classmethod
    def build(cls, texts: Iterable[str]) -> LexicalIndex:
        """Index `texts`, read once and tokenised a block at a time (never all held)."""
        import bm25s

        corpus_tokens: list[list[str]] = []
        block: list[str] = []
        for text in texts:
            block.append(text)
            if len(block) == _TOKENIZE_BLOCK:
                corpus_tokens += tokenize(block)
                block = []
        if block:
            corpus_tokens += tokenize(block)
        bm25 = None
        if corpus_tokens:
            bm25 = bm25s.BM25()
            bm25.index(corpus_tokens, show_progress=False)
        df = Counter(token for tokens in corpus_tokens for token in set(tokens))
        n = max(len(corpus_tokens), 1)
        idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        return cls(bm25, idf)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self._bm25 is not None:
            self._bm25.save(str(folder))
        (folder / "idf.json").write_text(json.dumps(self.idf), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, *, mmap: bool = True) -> LexicalIndex:
        import bm25s

        bm25 = (
            bm25s.BM25.load(str(folder), mmap=mmap)
            if (folder / "params.index.json").exists()
            else None
        )
        idf = json.loads((folder / "idf.json").read_text(encoding="utf-8"))
        return cls(bm25, idf)

    def scores(self, query: str) -> NDArray[np.float32]:
        """BM25 score of every passage row for `query` (zeros when no term matches)."""
        if self._bm25 is None:
            return np.zeros(0, dtype=np.float32)
        tokens = [t for t in tokenize([query])[0] if t in self._bm25.vocab_dict]
        size = int(self._bm25.scores.get("num_docs", 0)) if self._bm25.scores else 0
        if not tokens or size == 0:
            return np.zeros(size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

    def search(
        self, query: str, k: int, *, rows: NDArray[np.int64] | None = None
    ) -> list[tuple[int, float]]:
        """Top-`k` (row, BM25 score) with a positive score, optionally within `rows`."""
        scores = self.scores(query)
        if rows is not None:
            mask = np.zeros_like(scores, dtype=bool)
            mask[rows] = True
            scores = np.where(mask, scores, 0.0)
        if len(scores) == 0:
            return []
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
