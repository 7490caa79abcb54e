"""A question that names a financial statement one way retrieves the statement a filing
titles another way ("income statement" → "Consolidated Statements of Earnings")."""

from __future__ import annotations

import pytest

import qa.service
from qa.retrieval.terms import expand_terms
from qa.service import QAService


@pytest.mark.parametrize(
    ("question", "added"),
    [
        ("By the income statement, what was net income?", "statement of earnings"),
        ("What do the Income Statements show?", "statement of operations"),  # plural, case
        ("Using only the balance sheet, how much cash?", "statement of financial position"),
        ("Is free cashflow conversion improving?", "statement of cash flows"),
        ("What do the Statements of Cash Flows say?", "cash flow statement"),
        ("What does the statement of stockholders' equity show?", "changes in equity"),
    ],
)
def test_expand_terms_adds_the_other_names_of_a_named_statement(question, added) -> None:
    expanded = expand_terms(question)
    assert expanded.startswith(question + "\n")  # the question itself is untouched, first
    assert added in expanded.split("\n", 1)[1]


@pytest.mark.parametrize(
    "question",
    [
        "Which countries cooperate on battery supply chains?",
        "How does the company balance its books, and which sheet lists the income?",  # not runs
        "What does the discussion of financial condition say?",  # MD&A, not the balance sheet
        "",
    ],
)
def test_expand_terms_leaves_other_questions_as_they_are(question) -> None:
    assert expand_terms(question) == question


STATEMENT = (
    "Consolidated Statements of Earnings\n\n"
    "Revenue | $ 46,298 | $ 51,761\n"
    "Cost of sales | 36,386 | 40,121\n"
    "Net earnings | $ 1,419 | $ 2,454\n"
)
LETTER = (
    "Letter to shareholders\n\n"
    "This statement reports how our income grew in the year, and what we plan next.\n"
)


def test_service_search_finds_the_statement_the_question_names_otherwise(
    make_corpus, embedder, monkeypatch
) -> None:
    settings, _ = make_corpus({"statements.md": STATEMENT, "letter.md": LETTER})
    service = QAService(settings, embedder=embedder)
    service.ingest()
    question = "What net earnings does the income statement report?"
    hits = service.search(question, k=2).hits
    assert hits[0].source == "statements.md" and "Net earnings" in hits[0].text
    # The names are what finds it: searched with the question alone, the letter ranks first.
    monkeypatch.setattr(qa.service, "expand_terms", lambda query: query)
    assert service.search(question, k=2).hits[0].source == "letter.md"
