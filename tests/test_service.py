"""`QAService` input rules, checked against the JSON schemas that document them."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa.config import Settings
from qa.errors import QueryError
from qa.models import QUESTION_PATTERN
from qa.service import QAService

SERVICE = QAService(Settings(max_question_chars=10_000))


def _accepted(text: str) -> bool:
    try:
        SERVICE.check_question(text)
    except QueryError:
        return False
    return True


@given(st.text(max_size=40))
def test_service_accepts_exactly_the_questions_the_schema_pattern_allows(text: str) -> None:
    # JSON Schema `pattern` is a search, not a full match.
    assert _accepted(text) == bool(re.search(QUESTION_PATTERN, text))


@pytest.mark.parametrize("text", ["\u001e\u001f", " \t\n", "\u3000\u00a0", "\x00\x7f"])
def test_service_rejects_control_and_space_only_questions(text: str) -> None:
    assert not _accepted(text) and not re.search(QUESTION_PATTERN, text)
