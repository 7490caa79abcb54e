"""Which of a question's words may be misspelt: those no English dictionary has.

A word the dictionary has is spelt as meant, so it is never taken for a nearby word of the
passages: "charging" is not a misspelling of "changes", while "nikel" may be "nickel". The
dictionary is symspellpy's English frequency list (82,765 words, MIT), read once.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files

from qa.retrieval.lexical import content_terms

_DICTIONARY = "frequency_dictionary_en_82_765.txt"


@lru_cache(maxsize=1)
def _english() -> frozenset[str]:
    text = (files("symspellpy") / _DICTIONARY).read_text(encoding="utf-8")
    return frozenset(line.split(" ", 1)[0] for line in text.splitlines() if line)


def is_english_word(word: str) -> bool:
    """Whether the dictionary has `word` (any case)."""
    return word.lower() in _english()


@lru_cache(maxsize=1024)
def misspellable_terms(text: str) -> frozenset[str]:
    """The stemmed content terms of `text` that may be misspellings: those of its words
    (letters only: "Korea's" is "Korea" and "s") that the dictionary lacks."""
    return frozenset(
        term
        for word in re.findall(r"[^\W\d_]+", text)
        if not is_english_word(word)
        for term in content_terms(word)
    )
