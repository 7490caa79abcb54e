"""A question that names a financial statement one way retrieves the statement a filing
titles another way ("income statement" → "Consolidated Statements of Earnings")."""

from __future__ import annotations

import pytest

import qa.retrieval.retriever
from qa.answer.selection import Quote
from qa.models import Passage
from qa.retrieval.retriever import (
    LIFT_POOL,
    Candidate,
    retrieve_named_parts,
)
from qa.retrieval.terms import expand_terms, title_matcher
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
    monkeypatch.setattr(qa.retrieval.retriever, "title_matcher", lambda query: None)
    assert service.search(question, k=2).hits[0].source == "letter.md"


def _candidate(row: int, text: str, score: float, headings: tuple[str, ...] = ()) -> Candidate:
    passage = Passage(
        id=f"p{row}", document_id="d", title="10-K", source="filing.pdf", page=row,
        headings=list(headings), start=0, end=len(text), text=text,
    )  # fmt: skip
    return Candidate(row, passage, score, 0.5, 1.0)


AUDIT = (
    "We have audited the accompanying consolidated balance sheets of the Company and the "
    "related consolidated statements of income, comprehensive income and cash flows."
)
POOL_TEXTS = [
    (AUDIT, ()),  # every statement by name, in prose: ranks first on the words
    ("Index to Financial Statements\nBalance Sheets | 60\nIncome Statements | 58", ()),
    ("Debt proceeds\nWe issue debt to take advantage of favorable pricing.", ()),
    ("Long-term debt | 41,990 | 47,032\nTotal liabilities | 205,753 | 198,298", ("BALANCE SHEETS",)),
    ("MICROSOFT CORPORATION\nBALANCE SHEETS\n(In millions)\nTotal assets | 411,976", ()),
]  # fmt: skip


def _pool() -> list[Candidate]:
    return [_candidate(i, t, 0.035 - 0.002 * i, h) for i, (t, h) in enumerate(POOL_TEXTS)]


def test_title_matcher_reads_headings_and_first_lines_not_prose() -> None:
    titled = title_matcher("Has the company increased its debt on balance sheet?")
    assert titled is not None
    assert [titled(c.passage) for c in _pool()] == [False, False, False, True, True]
    assert title_matcher("Which countries cooperate on batteries?") is None


def test_retrieve_named_parts_lifts_the_named_statement_over_a_wider_pool() -> None:
    calls: list[tuple[str, int]] = []

    def retrieve(text: str, n: int) -> list[Candidate]:
        calls.append((text, n))
        return _pool()[:n]

    question = "Has the company increased its debt on balance sheet?"
    top = retrieve_named_parts(retrieve, question, 3)
    assert [c.row for c in top] == [3, 4, 0]  # both statement passages, then the rest in order
    assert top[0].score >= top[1].score >= top[2].score  # scores stay in ranked order
    [(text, n)] = calls
    assert text == expand_terms(question) and n == LIFT_POOL  # other names, a wider pool
    # A question naming no statement is the plain ranking, over exactly k.
    calls.clear()
    assert [c.row for c in retrieve_named_parts(retrieve, "What debt was issued?", 3)] == [0, 1, 2]
    assert calls == [("What debt was issued?", 3)]


def test_retrieve_named_parts_only_named_keeps_the_statement_when_it_was_found() -> None:
    def retrieve(text: str, n: int) -> list[Candidate]:
        return _pool()[:n]

    question = "Using only the balance sheet, how much total assets?"
    found = retrieve_named_parts(retrieve, question, 5, only_named=True)
    assert [c.row for c in found] == [3, 4]
    without = _pool()[:3]  # the statement was not retrieved: nothing is dropped
    assert retrieve_named_parts(lambda t, n: without, question, 3, only_named=True) == without
    no_statement = retrieve_named_parts(retrieve, "How much debt was issued?", 5, only_named=True)
    assert no_statement == _pool()


NORTHWIND_AUDIT = (
    "# Report of Independent Registered Public Accounting Firm\n\n"
    "We have audited the accompanying consolidated balance sheets of Northwind Corporation "
    "as of June 30, 2023 and 2022, the related consolidated statements of income, "
    "comprehensive income, cash flows, and stockholders' equity for each of the three years "
    "in the period ended June 30, 2023. In our opinion, the financial statements present "
    "fairly, in all material respects, the financial position of the Company.\n"
)
NORTHWIND_BALANCE = (
    "<html><body><h1>Northwind Corporation</h1><h2>Consolidated Balance Sheets</h2><table>"
    "<tr><th>June 30</th><th>2023</th><th>2022</th></tr>"
    "<tr><td>Cash and cash equivalents</td><td>34,704</td><td>13,931</td></tr>"
    "<tr><td>Total current assets</td><td>184,257</td><td>169,684</td></tr>"
    "<tr><td>Total assets</td><td>411,976</td><td>364,840</td></tr>"
    "<tr><td>Long-term debt</td><td>41,990</td><td>47,032</td></tr>"
    "<tr><td>Total liabilities</td><td>205,753</td><td>198,298</td></tr>"
    "</table></body></html>"
)


def test_service_ask_quotes_the_row_of_the_statement_the_question_names(
    make_corpus, embedder, monkeypatch
) -> None:
    """An HTML balance sheet (a table block, a row per line) beside an auditor's report."""
    settings, _ = make_corpus({"audit.md": NORTHWIND_AUDIT, "balance.html": NORTHWIND_BALANCE})
    service = QAService(settings, embedder=embedder)
    service.ingest()
    question = "Using only the balance sheet, how much total assets did Northwind have in 2023?"
    answer = service.ask(question)
    assert answer.answered, answer.message
    assert "Total assets | 411,976 | 364,840 [1]" in answer.answer.split("\n")  # a whole row
    [citation] = answer.citations
    assert citation.source == "balance.html"
    # The row names no year; the header row above it says which column is 2023. Asked for a
    # year the table does not have, it abstains.
    later = service.ask("Using only the balance sheet, how much total assets were there in 2019?")
    assert not later.answered and later.reason == "unsupported_detail"
    # Read without the lines above it, the row gives no year, and the answer would abstain.
    monkeypatch.setattr(Quote, "context", Quote.text)
    assert service.ask(question).reason == "unsupported_detail"
