"""Which question words may be misspelt: those the English dictionary lacks."""

from __future__ import annotations

import pytest

from qa.answer.spelling import is_english_word, misspellable_terms


@pytest.mark.parametrize(
    ("word", "english"),
    [
        ("charging", True),
        ("Nickel", True),
        ("semiconductors", True),
        ("nikel", False),
        ("recylcing", False),
        ("Philipines", False),
    ],
)
def test_is_english_word(word: str, english: bool) -> None:
    assert is_english_word(word) is english


def test_misspellable_terms_are_the_stems_of_words_no_dictionary_has() -> None:
    assert misspellable_terms("Does the Philippines have nikel?") == {"nikel"}
    assert misspellable_terms("What does Japan do about charging?") == set()
    # Letters only: a possessive or a hyphen does not make a word unknown.
    assert misspellable_terms("Korea's self-driving recylcing plans") == {"recylc"}
