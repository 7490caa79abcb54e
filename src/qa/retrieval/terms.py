"""Names that mean the same document part (data: `terms.toml`), for retrieval.

A filing titles its statement of operations "Consolidated Statements of Earnings"; an
analyst asks about "the income statement". Neither BM25 nor MiniLM links the two, so the
statement page ranks below pages that merely repeat the question's words, such as the
auditor's report, which lists every statement by name. A question that says one name of a
group is therefore searched with every name of it added (`expand_terms`), and passages
under a title that is one of those names are lifted above the rest (`title_matcher`,
used by `qa.retrieval.retriever.retrieve_named_parts`). Only retrieval sees this; answer sentences
are still scored against the question as asked.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from qa.ingest.normalize import CELL_SEPARATOR
from qa.models import Passage
from qa.retrieval.lexical import tokenize

Run = tuple[str, ...]  # a name as stemmed tokens without stop words
TITLE_LINES = 3  # a passage's title is among its first lines, or in its headings
MAX_TITLE_TOKENS = 10  # a longer line is prose that mentions the name, not a title
PREFIX = 4  # letters of a stem that the word it comes from surely starts with


@dataclass(frozen=True)
class TermGroup:
    """Names of one thing, as written and as stemmed runs."""

    names: tuple[str, ...]
    runs: tuple[Run, ...]

    def said_in(self, words: Run) -> bool:
        return any(_contains(words, run) for run in self.runs)

    def may_be_in(self, lowered: str) -> bool:
        """False when lower-cased text cannot name the group: a stem's first letters
        ("equi" of "equiti") are in any word that stems to it."""
        return any(all(token[:PREFIX] in lowered for token in run) for run in self.runs)


@lru_cache(maxsize=1)
def _groups() -> tuple[TermGroup, ...]:
    text = resources.files("qa.retrieval").joinpath("terms.toml").read_text("utf-8")
    groups: list[TermGroup] = []
    for group in tomllib.loads(text)["groups"]:
        names = tuple(group["names"])
        groups.append(TermGroup(names, tuple(tuple(t) for t in tokenize(names) if t)))
    return tuple(groups)


def _contains(words: Run, run: Run) -> bool:
    n = len(run)
    return any(words[i : i + n] == run for i in range(len(words) - n + 1))


@lru_cache(maxsize=256)
def named_groups(query: str) -> tuple[TermGroup, ...]:
    """The groups `query` names one of (cached: expansion and titles both ask)."""
    lowered = query.lower()
    groups = [g for g in _groups() if g.may_be_in(lowered)]  # spares most queries the stemmer
    if not groups:
        return ()
    words = tuple(tokenize([query])[0])
    return tuple(group for group in groups if group.said_in(words))


def expand_terms(query: str) -> str:
    """`query`, then the names of every group it names one of (unchanged when none)."""
    return "\n".join([query, *("; ".join(g.names) for g in named_groups(query))])


def title_matcher(query: str) -> Callable[[Passage], bool] | None:
    """Whether a passage is titled by a name of a group `query` names; None when it names
    none. The title is a heading of the passage or one of its first `TITLE_LINES` lines of
    at most `MAX_TITLE_TOKENS` words that is not a table row ("CONSOLIDATED STATEMENTS OF
    OPERATIONS"; not "Balance Sheets | 60" in an index)."""
    groups = named_groups(query)
    if not groups:
        return None

    def titled(passage: Passage) -> bool:
        lines = [line for line in passage.text.split("\n") if line.strip()][:TITLE_LINES]
        # A table row ("Balance Sheets | 60" in an index) is not a title.
        lines = [line for line in lines if CELL_SEPARATOR not in line]
        for words in tokenize([*passage.headings, *lines]):
            if 0 < len(words) <= MAX_TITLE_TOKENS and any(g.said_in(tuple(words)) for g in groups):
                return True
        return False

    return titled
