"""Passage vectors made from the vectors of a passage's parts (`qa.index.writer`)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FakeEmbedder

from qa.index.writer import embed_passages, passage_parts, passage_vectors


def test_passage_parts_are_the_sentences_then_what_they_leave_out() -> None:
    text = "One rule. Two rules.\nTitle > Section\nDocument title: Charging"
    spans = [(0, 9), (10, 20)]
    assert passage_parts(text, spans) == [
        "One rule.",
        "Two rules.",
        "Title > Section\nDocument title: Charging",
    ]


def test_passage_parts_keep_text_before_and_between_sentences() -> None:
    text = "Note:  First.  --  Second."
    assert passage_parts(text, [(7, 13), (19, 26)]) == ["First.", "Second.", "Note:\n--"]


def test_passage_parts_without_sentences_is_the_whole_text() -> None:
    assert passage_parts("A heading only", []) == ["A heading only"]


def test_passage_parts_of_a_text_covered_by_its_sentences_add_nothing() -> None:
    assert passage_parts("Only this.  ", [(0, 10)]) == ["Only this."]


def test_passage_vectors_weigh_parts_by_the_root_of_their_length() -> None:
    embedded = np.eye(3, dtype=np.float32)
    parts = [["a" * 16, "b" * 4], ["c"]]
    vectors = passage_vectors(embedded, parts)
    expected = np.array([4.0, 2.0, 0.0]) / np.sqrt(20.0)
    np.testing.assert_allclose(vectors[0], expected, atol=1e-6)
    np.testing.assert_allclose(vectors[1], [0.0, 0.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)


def test_passage_vectors_of_opposite_parts_stay_finite() -> None:
    embedded = np.array([[1.0, 0.0], [-1.0, 0.0]], dtype=np.float32)
    vectors = passage_vectors(embedded, [["ab", "cd"]])
    assert np.all(np.isfinite(vectors))


def test_embed_passages_is_one_call_and_keeps_sentence_order() -> None:
    encoder = FakeEmbedder()
    texts = ["Batteries matter. Chips too.\nHeading", "Hydrogen.", "Heading only"]
    spans = [[(0, 17), (18, 28)], [(0, 9)], []]
    vectors, sentences = embed_passages(encoder, texts, spans)
    assert encoder.calls == [2 + 1 + 1 + 1]  # 3 sentences, 1 heading, 1 whole text
    assert vectors.shape == (3, encoder.dimension) and sentences.shape == (3, encoder.dimension)
    np.testing.assert_allclose(
        sentences, FakeEmbedder().encode(["Batteries matter.", "Chips too.", "Hydrogen."])
    )
    np.testing.assert_allclose(vectors[1], sentences[2], atol=1e-6)  # one sentence: itself
    np.testing.assert_allclose(vectors[2], FakeEmbedder().encode(["Heading only"])[0])


def test_embed_passages_rejects_mismatched_spans() -> None:
    with pytest.raises(ValueError):
        embed_passages(FakeEmbedder(), ["One.", "Two."], [[(0, 4)]])
