"""The bundled answer-sentence scorer, run through onnxruntime: it must prefer the sentence
that answers, tell a question's own text from another corpus's, and fail loudly when a
configured scorer folder is broken."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import SEED_DEV

from qa.answer.scorer import BUNDLED, CARD_FILE, MODEL_FILE, SentenceScorer, bundled_scorer
from qa.config import Settings
from qa.encoders.sentence_transformer import SentenceTransformerEmbedder
from qa.errors import ConfigError
from qa.service import QAService

TITLE = "Key Fields of International Cooperation in the New Vehicle Industry"
CHINA = (
    "China has jointly developed the ChaoJi charging standard with Japan, which is "
    "compatible with the CHAdeMO standard."
)
KOREA = "The Korean government has expanded its hydrogen-vehicle subsidies to buses."
TESLA = "Tesla was born in 1856 in the village of Smiljan, in the Austrian Empire."


def test_scorer_prefers_the_sentence_that_answers() -> None:
    scorer = bundled_scorer()
    assert scorer is not None
    question = "Which charging standard did China develop with Japan?"
    p = scorer.probabilities([(question, s, TITLE, "") for s in (CHINA, KOREA, TESLA)])
    assert p.shape == (3,) and np.all((p >= 0) & (p <= 1))
    assert p[0] > p[1] and p[0] > p[2]
    assert p[0] >= scorer.threshold


def test_scorer_probability_is_low_for_a_foreign_text() -> None:
    scorer = bundled_scorer()
    assert scorer is not None
    question = "Where was Nikola Tesla born?"
    own = scorer.probabilities([(question, TESLA, "Nikola Tesla", "")])[0]
    away = scorer.probabilities([(question, CHINA, TITLE, "")])[0]
    assert own > scorer.threshold > away


def test_scorer_batches_match_single_pairs() -> None:
    # Padding inside a batch must not change any pair's score.
    scorer = bundled_scorer()
    assert scorer is not None
    pairs = [("Who developed ChaoJi?", s, TITLE, p) for s, p in ((CHINA, ""), (KOREA, CHINA))]
    together = scorer.logits(pairs)
    alone = np.array([scorer.logits([pair])[0] for pair in pairs])
    assert np.allclose(together, alone, atol=1e-4)


def test_scorer_card_records_data_and_validation() -> None:
    card = json.loads((BUNDLED / CARD_FILE).read_text(encoding="utf-8"))
    assert card["data"]["train_pairs"] > 10_000 and not card["tiny"]
    assert set(card["validation"]) >= {"torch", "onnx_fp32"}
    assert 0 < card["calibration"]["threshold"] < 1
    assert (BUNDLED / MODEL_FILE).stat().st_size <= 30 * 2**20


def test_service_rejects_a_broken_configured_scorer(tmp_path: Path) -> None:
    broken = tmp_path / "scorer"
    shutil.copytree(BUNDLED, broken)
    (broken / MODEL_FILE).write_bytes(b"not a model")
    settings = Settings(answer_scorer="trained", scorer_path=broken, index_dir=tmp_path / "i")
    service = QAService(settings)
    with pytest.raises(ConfigError, match="QA_SCORER_PATH") as caught:
        service.scorer()
    assert "train_scorer.py" in (caught.value.remedy or "")


def test_service_uses_no_scorer_by_default(tmp_path: Path) -> None:
    # The rule is the default: it is ahead on held-out data (benchmarks/README.md).
    assert QAService(Settings(index_dir=tmp_path / "index")).scorer() is None


@pytest.mark.e2e
def test_trained_scorer_answers_are_grounded_and_abstain_on_foreign_questions(
    seed_settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    settings = seed_settings.model_copy(update={"answer_scorer": "trained"})
    service = QAService(settings, embedder=embedder)
    assert isinstance(service.scorer(), SentenceScorer)
    cases = [json.loads(line) for line in SEED_DEV.read_text(encoding="utf-8").splitlines()]
    right = 0
    for case in (c for c in cases if c["answerable"]):
        answer = service.ask(case["question"])
        for citation in answer.citations:
            text = service.document(citation.document_id).text
            assert " ".join(text[a:b] for a, b in citation.spans) == citation.quote
        found = answer.answer.lower()
        right += answer.answered and all(p.lower() in found for p in case["answer_contains"])
    # Measured: 7 of 10 (benchmarks/README.md); the rule, the default, gets all 10.
    assert right >= 6
    foreign = service.ask("What causes the seasons on earth?")
    assert not foreign.answered and foreign.reason == "no_evidence"
