"""Which documents a question names, by the words of their titles and file names.

"What is Amazon's FY2017 days payable outstanding?" over a folder of filings names
`AMAZON_2017_10K.pdf`: its passages should be read first, not another company's that use
the same words. A document is named by a capitalised word of the question that is a word
of the document's label (not the first word of a sentence, unless it is an acronym), by a
run of capitalised words written as one in the label ("Best Buy" for "BESTBUY"), or by an
acronym that starts a word of its file name ("MGM" for "MGMRESORTS"). When several documents share
the name, a year that the question and their labels give picks among them. An initialism
names a document whose label words it abbreviates ("IRA", "JnJ" for "JOHNSON_JOHNSON").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from qa.retrieval.lexical import document_label, file_name_words, tokenize

_WORD = re.compile(r"[^\W\d_][\w&'’.-]*")
_SENTENCE_END = re.compile(r"[.?!:;]\s*$")
_RUN_GAP = re.compile(r"\s+(?:&\s+)?")  # "Best Buy", "Johnson & Johnson"
_POSSESSIVE = re.compile(r"['’]s?$")
_YEAR = re.compile(r"(?:19|20)\d\d")
MIN_PREFIX = 3  # a shorter acronym names a document only as a whole label word

Row = TypeVar("Row")


@dataclass(frozen=True)
class NameTerms:
    """What a question's capitalised words can match in a label."""

    words: frozenset[str]  # tokens matching a label word exactly
    prefixes: frozenset[str]  # acronyms matching the start of a file-name word
    initialisms: frozenset[str]  # "IRA", "JnJ" as "ira", "jj": a label's initials


def name_terms(question: str) -> NameTerms:
    """The name tokens of `question`: its capitalised words (a sentence's first word only
    if it is an acronym, such as "EU"), runs of them joined ("Best Buy" as "bestbuy"), and
    its acronyms of at least `MIN_PREFIX` letters as prefixes."""
    pieces: list[str] = []  # the words and joined runs to tokenise, in one call at the end
    prefixes: set[str] = set()
    initialisms: set[str] = set()
    run: list[str] = []
    previous_end = -1

    def close_run() -> None:
        # Every stretch of two or more: "Are Best Buy" gives "arebestbuy" and "bestbuy".
        pieces.extend(
            "".join(run[i:j]) for i in range(len(run)) for j in range(i + 2, len(run) + 1)
        )
        run.clear()

    for match in _WORD.finditer(question):
        raw = match.group(0).rstrip(".'’")
        word = _POSSESSIVE.sub("", raw)
        letters = [c for c in word if c.isalpha()]
        acronym = len(letters) >= 2 and all(c.isupper() for c in letters)
        if not word[:1].isupper() or acronym or not word.isalpha():
            close_run()  # a run is of capitalised words: "Best Buy", not "Amazon FY2017"
        else:
            if not (run and _RUN_GAP.fullmatch(question[previous_end : match.start()])):
                close_run()
            run.append(word.lower())
        previous_end = match.end()
        if raw != word:
            close_run()  # "Best Buy's margins": the name ends at the possessive
        if not word[:1].isupper():
            continue
        before = question[: match.start()]
        if acronym and len(letters) >= MIN_PREFIX:
            prefixes.add(re.sub(r"\W", "", word).lower())
        capitals = "".join(c for c in letters if c.isupper()).lower()
        if (acronym and len(letters) >= MIN_PREFIX) or (not acronym and len(capitals) >= 2):
            initialisms.add(capitals)  # "IRA"; "JnJ" as "jj" (not "EU": too short to tell)
        if acronym or (before.strip() and not _SENTENCE_END.search(before)):
            pieces.append(word)
    close_run()
    tokens = tokenize(pieces) if pieces else []
    words = {t for piece in tokens for t in piece if not t.isdigit()}
    return NameTerms(frozenset(words), frozenset(prefixes), frozenset(initialisms))


class DocumentNames:
    """The labels (title and file-name words) of a corpus's documents, to find the ones a
    question names."""

    def __init__(self, documents: Iterable[tuple[str, str, str]]) -> None:
        """`documents`: (id, title, source) of each document, in corpus order."""
        self._labels: dict[str, frozenset[str]] = {}  # in corpus order
        self._file_words: dict[str, frozenset[str]] = {}  # what an acronym may start
        self._initials: dict[str, frozenset[str]] = {}
        for document_id, title, source in documents:
            label = document_label(title, source)
            self._labels[document_id] = frozenset(tokenize([label])[0])
            self._file_words[document_id] = frozenset(tokenize([file_name_words(source)])[0])
            self._initials[document_id] = _initials(label)

    def named(self, question: str) -> list[str] | None:
        """Ids of the documents `question` names, or None when it names none of them (or
        every one: then naming tells them apart no better than the question's other words)."""
        if len(self._labels) < 2:
            return None
        terms = name_terms(question)
        if not (terms.words or terms.prefixes or terms.initialisms):
            return None
        matched = {
            document_id: {t for t in terms.words if t in label}
            | {
                p
                for p in terms.prefixes
                if any(word.startswith(p) for word in self._file_words[document_id])
            }
            | (terms.initialisms & self._initials[document_id])
            for document_id, label in self._labels.items()
        }
        best = max(len(found) for found in matched.values())
        if best == 0:
            return None
        named = [d for d, found in matched.items() if len(found) == best]
        years = {t for t in tokenize([question])[0] if _YEAR.fullmatch(t)}
        if years:  # among documents of the same name, the ones of the year asked about
            dated = {d: len(years & self._labels[d]) for d in named}
            most: dict[frozenset[str], int] = {}
            for d in named:
                name = frozenset(matched[d])
                most[name] = max(most.get(name, 0), dated[d])
            named = [d for d in named if dated[d] == most[frozenset(matched[d])]]
        return named if len(named) < len(self._labels) else None


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN  # bm25s imports scipy: not for `qa status`

    return frozenset(STOPWORDS_EN)


def _initials(label: str) -> frozenset[str]:
    """The initials of the first 2 to 6 words of each line of `label` (its title, its file
    name), stop words left out: "Inflation Reduction Act guidance" gives "ir", "ira" and
    "irag". Only a line's start counts, so "SEC" does not name every filing whose cover
    reads "United States Securities and Exchange Commission"."""
    found: set[str] = set()
    for line in label.splitlines():
        words = [
            w.lower() for w in re.findall(r"[^\W\d_]{2,}", line) if w.lower() not in _stop_words()
        ]
        found.update("".join(w[0] for w in words[:n]) for n in range(2, min(6, len(words)) + 1))
    return frozenset(found)


def named_first(
    retrieve: Callable[[Sequence[str] | None], list[Row]],
    named: Sequence[str],
    k: int,
    key: Callable[[Row], object],
) -> list[Row]:
    """The top `k` of the named documents, then (if they hold fewer) the rest of the corpus's."""
    first = retrieve(named)
    if len(first) >= k:
        return first[:k]
    seen = {key(row) for row in first}
    return first + [row for row in retrieve(None) if key(row) not in seen][: k - len(first)]
