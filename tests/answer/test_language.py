"""Language of a question: detected by py3langid, believed only against the passages."""

from __future__ import annotations

import pytest

from qa.answer.language import foreign_language, language_name

PASSAGES = ["The Korean government established a hydrogen economy standards forum (ISO 34501)."]


@pytest.mark.parametrize(
    ("question", "code"),
    [
        ("中国在自动驾驶方面与谁合作?", "zh"),
        ("Quels pays coopèrent sur les batteries ?", "fr"),
        ("¿Qué países cooperan en baterías?", "es"),
        ("What forum did Korea set up for hydrogen?", None),
        ("Who wrote this?", None),
        ("Korea hydrogen", None),
        ("ISO 34501?", None),
    ],
)
def test_language_foreign_questions_are_detected(question: str, code: str | None) -> None:
    assert foreign_language(question, ["en"], PASSAGES) == code


def test_language_any_language_accepted_with_star() -> None:
    assert foreign_language("中国在自动驾驶方面与谁合作?", ["*"], PASSAGES) is None


def test_language_words_shared_with_the_corpus_are_not_foreign() -> None:
    # A French question about French text is in the corpus's language.
    assert foreign_language("Quels pays coopèrent ?", ["en"], ["Quels pays coopèrent ?"]) is None


def test_language_names_come_from_pycountry() -> None:
    assert language_name("zh") == "Chinese"
    assert language_name("en") == "English"
