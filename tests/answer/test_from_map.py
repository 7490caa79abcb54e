"""Set questions answered from the cooperation-field map, on the real seed index: every
actor or field the map holds for the question is covered, each quote verbatim and cited;
other questions keep going through retrieval."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa.actors import find_actors, related_ids
from qa.answer.from_map import MapQuery, read_question
from qa.answer.questions import plan_question
from qa.config import Settings
from qa.encoders.sentence_transformer import SentenceTransformerEmbedder
from qa.index import layout
from qa.models import Answer
from qa.service import QAService


def _named(text: str) -> set[str]:
    ids: set[str] = set()
    for mention in find_actors(text):
        ids |= {mention.actor_id} | related_ids(mention.actor_id)
    return ids


def _assert_grounded(service: QAService, answer: Answer) -> None:
    assert answer.answered and answer.citations
    for citation in answer.citations:
        text = service.document(citation.document_id).text
        assert citation.spans, citation
        quoted = [text[a:b] for a, b in citation.spans]
        assert citation.quote == " ".join(quoted)
        for part in quoted:
            assert f"{part} [{citation.n}]" in answer.answer


def _map_query(service: QAService, question: str) -> MapQuery | None:
    snapshot = service.current().snapshot
    stored = service._stored_fields(snapshot)
    assert stored is not None
    vector = service.current().retriever.query_vector(question)
    return read_question(plan_question(question), stored, vector)


@pytest.mark.parametrize(
    ("question", "field"),
    [
        ("Who works on semiconductor projects?", "semiconductors"),
        ("Who is working on hydrogen standards?", "hydrogen"),
        ("Which countries cooperate on battery supply chains?", "battery_technology"),
        ("Which countries are involved in autonomous driving?", "autonomous_driving"),
    ],
)
def test_field_question_names_every_actor_of_the_field(
    seed_service: QAService, question: str, field: str
) -> None:
    answer = seed_service.ask(question)
    _assert_grounded(seed_service, answer)
    cells = seed_service.fields(fields=[field]).cells
    assert cells
    named = _named(answer.answer)
    for cell in cells:
        assert cell.actor in named, (cell.actor, answer.answer)
        assert set(cell.partners) <= named, (cell.partners, answer.answer)


def test_semiconductor_question_names_india_and_the_united_states(
    seed_service: QAService,
) -> None:
    answer = seed_service.ask("Who works on semiconductor projects?")
    assert {"ind", "usa"} <= _named(answer.answer)
    assert "$10 billion budget for semiconductor projects" in answer.answer


def test_battery_question_quotes_the_bare_they_with_its_antecedent(
    seed_service: QAService,
) -> None:
    answer = seed_service.ask("Which countries cooperate on battery supply chains?")
    assert {"eu", "usa", "jpn"} <= _named(answer.answer)
    they = answer.answer.index("They have also strengthened cooperation in battery technology")
    assert answer.answer.rindex("The EU and the US", 0, they) < they
    # One passage's quotes are one citation, and the parts read in document order.
    starts = [c.spans[0][0] for c in answer.citations]
    assert starts == sorted(starts) and len({c.passage_id for c in answer.citations}) == len(
        answer.citations
    )


def test_actor_question_lists_its_fields_and_nobody_else(seed_service: QAService) -> None:
    answer = seed_service.ask("What does China cooperate on?")
    _assert_grounded(seed_service, answer)
    assert "ISO 34501" in answer.answer
    assert "autonomous driving test scenarios" in answer.answer
    # Only China's sentences: no other country's paragraph is quoted.
    assert _named(answer.answer) - {"chn", "un"} <= related_ids("chn")
    assert "Korea" not in answer.answer and "EU" not in answer.answer


def test_fields_of_an_actor_are_its_own_cells_as_one_span_per_run_of_sentences(
    seed_service: QAService,
) -> None:
    answer = seed_service.ask("In which fields does Japan cooperate?")
    _assert_grounded(seed_service, answer)
    japan = {c.field for c in seed_service.fields(actors=["jpn"]).cells if c.actor == "jpn"}
    assert japan >= {"battery_technology", "autonomous_driving"}
    assert "solid-state battery" in answer.answer and "autonomous driving" in answer.answer
    # Taiwan's plan to cooperate with Japan (a cell naming Japan as a partner) is not
    # what Japan works on.
    assert "Taiwan" not in answer.answer
    # Consecutive sentences of one passage read as one quote, cited once.
    (citation,) = answer.citations
    assert len(citation.spans) == 1 and answer.answer.count("[1]") == 1


def test_partner_question_names_the_counterparts(seed_service: QAService) -> None:
    answer = seed_service.ask("Which partners does Taiwan want?")
    _assert_grounded(seed_service, answer)
    assert {"eu", "usa", "jpn", "asean"} <= _named(answer.answer)
    assert answer.answer.count("[") == 1  # one sentence states them all


def test_counterparts_of_korea_include_both_directions(seed_service: QAService) -> None:
    answer = seed_service.ask("Who cooperates with Korea?")
    _assert_grounded(seed_service, answer)
    assert {"aus", "ind", "usa"} <= _named(answer.answer)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who works on semiconductor projects?", MapQuery((), ("semiconductors",), False)),
        ("What does China cooperate on?", MapQuery(("chn",), (), False)),
        ("Which partners does Taiwan want?", MapQuery(("twn",), (), True)),
        ("Which countries cooperate with Korea?", MapQuery(("kor",), (), True)),
        ("In which fields does Japan cooperate?", MapQuery(("jpn",), (), False)),
        # Not the map's questions: retrieval reads the text for them.
        ("What incentives does the Taiwanese government offer?", None),
        ("What are the EU and the US strengthening cooperation on besides raw materials?", None),
        ("Which countries attract foreign investment with market opportunities?", None),
        ("What is the budget for semiconductor projects?", None),
        ("Which standard did China develop, and with how many countries?", None),
        ("Which countries were involved in building the Trade and Technology Council?", None),
        # The map's inventories: questions with no topic besides what they ask for.
        ("Which countries does the article discuss?", MapQuery((), (), False, "actors")),
        ("Which countries are mentioned?", MapQuery((), (), False, "actors")),
        ("List the fields of cooperation.", MapQuery((), (), False, "fields")),
        ("What areas do countries cooperate in?", MapQuery((), (), False, "fields")),
        ("Which fields of cooperation does the article cover?", MapQuery((), (), False, "fields")),
    ],
)
def test_read_question_tells_map_questions_from_the_rest(
    seed_service: QAService, question: str, expected: MapQuery | None
) -> None:
    assert _map_query(seed_service, question) == expected


def test_actor_inventory_names_every_actor_of_the_map(seed_service: QAService) -> None:
    answer = seed_service.ask("Which countries are mentioned in the article?")
    _assert_grounded(seed_service, answer)
    cells = seed_service.fields().cells
    everyone = {cell.actor for cell in cells} | {p for cell in cells for p in cell.partners}
    assert {"eu", "usa", "jpn", "kor", "chn", "ind", "twn", "aus", "phl"} <= everyone
    assert everyone <= _named(answer.answer), everyone - _named(answer.answer)
    # Few sentences name them all: each quote names someone no earlier one did.
    assert len(answer.citations) < len(everyone)
    # The map holds the actors of its fields, not every mention: the answer says so.
    assert answer.caution is not None and "field of cooperation" in answer.caution
    assert seed_service.ask("Which countries cooperate?").caution is None


def test_field_inventory_quotes_a_sentence_of_every_field(seed_service: QAService) -> None:
    answer = seed_service.ask("Which fields of cooperation does the article cover?")
    _assert_grounded(seed_service, answer)
    quoted = {(c.document_id, a, b) for c in answer.citations for a, b in c.spans}
    fields = {cell.field for cell in seed_service.fields().cells}
    assert len(fields) >= 6
    for field in fields:
        sentences = [
            (c.document_id, c.quote_start, c.quote_end)
            for cell in seed_service.fields(fields=[field]).cells
            for c in cell.citations
        ]
        # A quoted span holds one of the field's sentences.
        assert any(
            d == doc and a <= start and end <= b
            for doc, start, end in sentences
            for d, a, b in quoted
            if start is not None and end is not None
        ), field


def test_inventory_past_the_cap_says_what_it_leaves_out(seed_settings: Settings) -> None:
    service = QAService(seed_settings.model_copy(update={"max_list_sentences": 2}))
    answer = service.ask("Which countries are mentioned in the article?")
    assert answer.answered and len(answer.citations) <= 2
    assert answer.caution is not None and "QA_MAX_LIST_SENTENCES" in answer.caution
    cells = service.fields().cells
    everyone = {cell.actor for cell in cells} | {p for cell in cells for p in cell.partners}
    left = len(everyone - _named(answer.answer))
    assert left and f"leave out {left} of the field map's actors" in answer.caution


def test_question_outside_the_map_is_answered_from_retrieval(seed_service: QAService) -> None:
    answer = seed_service.ask("What incentives does the Taiwanese government offer?")
    assert answer.answered and "purchase of EV" in answer.answer
    answer = seed_service.ask(
        "What are the EU and the US strengthening cooperation on besides raw materials?"
    )
    assert answer.answered and "battery technology" in answer.answer


def test_index_without_a_field_map_answers_set_questions_from_retrieval(
    seed_settings, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    shutil.copytree(seed_settings.index_dir, index, symlinks=True)
    settings = seed_settings.model_copy(update={"index_dir": index})
    service = QAService(settings, embedder=embedder)
    (service.current().snapshot.path / layout.FIELDS).unlink()
    answer = service.ask("Who works on semiconductor projects?")
    assert answer.answered and "semiconductor projects" in answer.answer
    with pytest.raises(Exception, match="without a field map"):
        service.fields()


def test_unreadable_field_map_is_read_and_warned_about_once_per_build(
    seed_settings, embedder: SentenceTransformerEmbedder, tmp_path: Path, caplog
) -> None:
    index = tmp_path / "index"
    shutil.copytree(seed_settings.index_dir, index, symlinks=True)
    settings = seed_settings.model_copy(update={"index_dir": index})
    service = QAService(settings, embedder=embedder)
    (service.current().snapshot.path / layout.FIELDS).write_text('{"algorithm": 1}')
    with caplog.at_level("WARNING", logger="qa.fields.store"):
        for _ in range(3):
            answer = service.ask("Who works on semiconductor projects?")
            assert answer.answered and "semiconductor projects" in answer.answer
    warnings = [r for r in caplog.records if "unreadable field map" in r.getMessage()]
    assert len(warnings) == 1
