"""Question intents that embeddings miss: metadata, document overviews and answer types.

A bi-encoder scores "Who wrote this?" low against a byline, and scores "Which company
sells the most batteries?" high against any battery sentence. These small, general
rules fill both gaps: they point metadata questions at front-matter lines, and they
flag evidence that lacks the kind of answer the question asks for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_I = re.IGNORECASE
_LABEL_INTENTS = {
    "author": re.compile(
        r"\b(who (wrote|authored|prepared|is the author|are the authors)|authors?|written by|"
        r"writer)\b",
        _I,
    ),
    "title": re.compile(
        r"\b(title|what is (this|the) (article|document|report|paper) called)\b", _I
    ),
    "copyright": re.compile(
        r"\b(copyright|who (published|owns|issued)|publisher|published by)\b", _I
    ),
    "date": re.compile(r"\b(when was (it|this|the \w+) (written|published|released))\b", _I),
    "affiliation": re.compile(
        r"\b(affiliat\w*|which (institution|organi[sz]ation) .*author)\b", _I
    ),
}
_DOCUMENT = re.compile(r"\b(article|document|report|paper|study|brief|text)\b", _I)
_OVERVIEW_ASK = re.compile(
    r"\b(summari[sz]e\w*|about|cover\w*|discuss\w*|describe\w*|explore\w*|purpose|overview|"
    r"main point)\b",
    _I,
)
_SELF_REFERENCE = re.compile(
    r"\b(this|the present) (article|document|report|paper|study|brief)\b", _I
)

_YEAR_OR_NUMBER = re.compile(r"\b\d[\d,.]*\b")
_QUANTITY_ASK = re.compile(
    r"\b(how (many|much)|what (percentage|percent|proportion|share|number|amount)|"
    r"market share|price of|cost of)\b",
    _I,
)
_QUANTITY = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|dozen|hundred|thousand|million|"
    r"billion|half|percent)\b",
    _I,
)
_SUPERLATIVE_ASK = re.compile(
    r"\b(the (most|least|largest|biggest|highest|lowest|best|worst|top|leading|fastest|"
    r"cheapest|first|greatest))\b",
    _I,
)
_SUPERLATIVE = re.compile(
    r"\b(most|least|largest|biggest|highest|lowest|best|worst|top|leading|first|greatest|"
    r"fastest|cheapest|strongest|earliest|latest|newest|oldest|main|primary|number one)\b",
    _I,
)
_YEAR_ASK = re.compile(
    r"\b(what|which|in what) year\b|\b(since|by|until) when\b|^when (will|did)\b", _I
)
_DATE = re.compile(
    r"\b(1[89]|20)\d\d\b|\b(january|february|march|april|may|june|july|august|september|"
    r"october|november|december|since|until|by the end|next year|this year|currently)\b",
    _I,
)


def label_boost(question: str, label: str) -> float:
    """A bonus for a front-matter sentence whose label is what the question asks for."""
    if label:
        pattern = _LABEL_INTENTS.get(label)
        if pattern is not None and pattern.search(question):
            return 1.0
    return 0.0


def overview_boost(question: str, sentence: str) -> float:
    """A bonus for "This article …" sentences when the question asks what the text is about."""
    if _DOCUMENT.search(question) and _OVERVIEW_ASK.search(question):
        return 0.5 if _SELF_REFERENCE.search(sentence) else 0.0
    return 0.0


_NAME = re.compile(r"\b(?:[A-Z][a-z]+(?:-[A-Z][a-z]+)*|[A-Z]{2,})\b")
_NOT_NAMES = frozenset(
    [
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "does",
        "do",
        "did",
        "is",
        "are",
        "was",
        "were",
        "can",
        "could",
        "should",
        "would",
        "will",
        "may",
        "might",
        "has",
        "have",
        "had",
        "the",
        "a",
        "an",
        "in",
        "on",
        "of",
        "for",
        "to",
        "and",
        "or",
        "if",
    ]
)


def names_in(question: str) -> list[str]:
    """Proper names and acronyms of the question (not its first word), lower-cased."""
    found = []
    for match in _NAME.finditer(question):
        word = match.group(0)
        if match.start() == 0 or word.lower() in _NOT_NAMES or word == "I":
            continue
        found.append(word.lower())
    return found


def _mentions(text: str, name: str) -> bool:
    # "Japan" matches "Japanese", "Korean" matches "Korea": a shared stem of 4+ letters.
    if len(name) <= 3:
        return re.search(rf"\b{re.escape(name)}\b", text) is not None
    stem = name[: max(4, len(name) - 3)]
    return any(
        w.startswith(stem) or name.startswith(w)
        for w in re.findall(rf"\b{re.escape(stem[:4])}\w*", text)
    )


def unsupported(question: str, evidence: Sequence[str], context: Sequence[str] = ()) -> bool:
    """True when the question asks for a figure, year or ranking that the evidence lacks,
    or names something (a country, an organisation) that its passages never mention."""
    text = " ".join(evidence)
    passages = " ".join(context).lower() or text.lower()
    if any(not _mentions(passages, name) for name in names_in(question)):
        return True
    numbers = set(_YEAR_OR_NUMBER.findall(question))
    if numbers and not any(n in text for n in numbers):
        return True
    if _QUANTITY_ASK.search(question) and not _QUANTITY.search(text):
        return True
    if _YEAR_ASK.search(question.strip()) and not _DATE.search(text):
        return True
    return bool(_SUPERLATIVE_ASK.search(question) and not _SUPERLATIVE.search(text))
