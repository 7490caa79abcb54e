"""Answers: grounded sentences, citations, intents, answer-type checks and abstention."""

from __future__ import annotations

import pytest

from qa.answer.intents import label_boost, overview_boost, unsupported
from qa.service import QAService


@pytest.mark.parametrize(
    ("question", "evidence", "expected"),
    [
        ("What was the market share of EVs in 2023?", ["EV sales grew in 2022."], True),
        ("What was the market share of EVs in 2023?", ["In 2023 EVs took 9 percent."], False),
        (
            "How many charging stations does the EU have?",
            ["The EU builds charging stations."],
            True,
        ),
        ("How many charging stations does the EU have?", ["The EU has 600,000 stations."], False),
        ("Which company sells the most batteries?", ["Japan supports battery firms."], True),
        ("Which company sells the most batteries?", ["CATL is the largest seller."], False),
        ("In what year did the programme start?", ["It started long ago."], True),
        ("In what year did the programme start?", ["It started in 2018."], False),
        ("When will Taiwan ban petrol cars?", ["Taiwan raised fuel standards."], True),
        ("When will Taiwan ban petrol cars?", ["Taiwan bans them from 2040."], False),
        ("When does the site collect data?", ["Data is collected when you register."], False),
        ("What is Germany's EV subsidy?", ["The EU funds EV chargers."], True),
        ("How does the Japanese government help firms?", ["Japan assists companies."], False),
        ("What do the EU and the US agree?", ["The EU and the US agree on rules."], False),
        ("How does Japan help its companies abroad?", ["Japan assists companies overseas."], False),
    ],
)
def test_intents_unsupported_answer_types(
    question: str, evidence: list[str], expected: bool
) -> None:
    assert unsupported(question, evidence) is expected


def test_intents_names_are_checked_against_passages_not_sentences() -> None:
    question = "What forum did Korea set up?"
    sentence = ["It established a hydrogen economy standards forum."]
    assert not unsupported(question, sentence, ["The Korean government ... " + sentence[0]])
    assert unsupported(question, sentence, ["China established a forum. " + sentence[0]])


@pytest.mark.parametrize(
    ("question", "label", "boosted"),
    [
        ("Who wrote this?", "author", True),
        ("Who is the author of the report?", "author", True),
        ("Who wrote this?", "title", False),
        ("What is the title?", "title", True),
        ("Who holds the copyright?", "copyright", True),
        ("What forum did Korea set up?", "author", False),
        ("Who wrote this?", "", False),
    ],
)
def test_intents_label_boost(question: str, label: str, boosted: bool) -> None:
    assert (label_boost(question, label) > 0) is boosted


def test_intents_overview_boost_needs_self_reference() -> None:
    question = "What does the article summarize?"
    assert overview_boost(question, "This article summarizes the direction of cooperation.") > 0
    assert overview_boost(question, "Japan ensures the supply of minerals.") == 0
    assert overview_boost("What does Japan summarize?", "This article summarizes it.") == 0


def test_answer_sentences_are_verbatim_and_cited(seed_service: QAService) -> None:
    answer = seed_service.ask(
        "What are the EU and the US strengthening cooperation on besides raw materials?"
    )
    assert answer.answered and "battery technology" in answer.answer
    pieces = [p.strip() for p in answer.answer.split("]") if p.strip()]
    by_n = {c.n: c for c in answer.citations}
    for piece in pieces:
        sentence, _, marker = piece.rpartition("[")
        citation = by_n[int(marker)]
        assert sentence.strip() in citation.quote and sentence.strip() in citation.text
    assert sorted(by_n) == list(range(1, len(by_n) + 1))


def test_answer_who_wrote_this_uses_byline(seed_service: QAService) -> None:
    answer = seed_service.ask("Who wrote this?")
    assert answer.answered and "Wu, Yu-Yin" in answer.answer


@pytest.mark.parametrize(
    "question",
    [
        "What was the market share of electric cars in Taiwan in 2023?",
        "Which company sells the most solid-state batteries?",
        "How do I bake a chocolate cake?",
        "What is the capital of France?",
        "How many charging stations does the EU have?",
    ],
)
def test_answer_abstains_with_suggestions(seed_service: QAService, question: str) -> None:
    answer = seed_service.ask(question)
    assert not answer.answered and not answer.citations
    assert answer.answer == "The documents do not cover this question."
    assert answer.suggestions and answer.confidence < seed_service.settings.abstain_threshold


def test_answer_threshold_is_configurable(seed_service: QAService) -> None:
    strict = QAService(
        seed_service.settings.model_copy(update={"abstain_threshold": 1.0}),
        embedder=seed_service.embedder,
    )
    assert not strict.ask("What forum did Korea set up for hydrogen?").answered
    lenient = QAService(
        seed_service.settings.model_copy(update={"abstain_threshold": 0.0}),
        embedder=seed_service.embedder,
    )
    assert lenient.ask("What is the capital of France?").answered


def test_answer_document_filter(seed_service: QAService) -> None:
    document = seed_service.documents()[0].id
    hits = seed_service.search("hydrogen", documents=[document]).hits
    assert hits and all(h.document == document for h in hits)
