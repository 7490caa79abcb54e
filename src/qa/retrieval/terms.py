"""Query expansion by names that mean the same thing (data: `terms.toml`).

A filing titles its statement of operations "Consolidated Statements of Earnings"; an
analyst asks about "the income statement". Neither BM25 nor MiniLM links the two, so the
statement page ranks below pages that merely repeat the question's words. A question that
says one name of a group is searched with every name of it added on a line of its own.
Only retrieval sees the expanded text; sentences are still scored against the question.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources

from qa.retrieval.lexical import tokenize

Group = tuple[tuple[tuple[str, ...], ...], str]  # (each name's stemmed tokens, all names)


@lru_cache(maxsize=1)
def _groups() -> tuple[Group, ...]:
    data = tomllib.loads(resources.files("qa.retrieval").joinpath("terms.toml").read_text("utf-8"))
    groups: list[Group] = []
    for group in data["groups"]:
        names: list[str] = group["names"]
        tokens = tuple(tuple(t) for t in tokenize(names) if t)
        groups.append((tokens, "; ".join(names)))
    return tuple(groups)


def _contains(words: tuple[str, ...], run: tuple[str, ...]) -> bool:
    n = len(run)
    return any(words[i : i + n] == run for i in range(len(words) - n + 1))


def expand_terms(query: str) -> str:
    """`query`, then the names of every group it names one of (unchanged when none)."""
    groups = _groups()
    words = tuple(tokenize([query])[0])
    added = [names for runs, names in groups if any(_contains(words, run) for run in runs)]
    return "\n".join([query, *added])
