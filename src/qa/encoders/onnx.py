"""Query encoding without torch: an exported model run through onnxruntime and tokenizers.

`qa.encoders.onnx_export` writes `model.onnx`, `tokenizer.json` and `encoder.json` into the
index's `onnx/` folder at ingest; `OnnxQueryEncoder` reads them at query time.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from qa.encoders.pooling import pool_spans

if TYPE_CHECKING:
    from numpy.typing import NDArray

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
# Written last: its presence marks an export as complete.
CONFIG_FILE = "encoder.json"

PoolingMode = Literal["mean", "cls"]
SUPPORTED_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_BATCH_SIZE = 32


# Parity the export must reach against sentence-transformers before it is kept.
def find_export(folder: Path) -> Path | None:
    """`folder` if it holds a complete export, else None."""
    try:
        config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(config, dict) or config.get("format_version") != FORMAT_VERSION:
        return None
    if not (folder / MODEL_FILE).is_file() or not (folder / TOKENIZER_FILE).is_file():
        return None
    return folder


def open_export(folder: Path, *, model_id: str) -> OnnxQueryEncoder | None:
    """An encoder over the export in `folder`, or None (with a warning) if it is unusable."""
    try:
        return OnnxQueryEncoder(folder, model_id=model_id)
    except (OSError, ValueError, RuntimeError) as exc:
        logger.warning("ONNX export in %s unusable (%s); using sentence-transformers", folder, exc)
        return None


class OnnxQueryEncoder:
    """Encodes queries with an exported model through onnxruntime, like sentence-transformers."""

    def __init__(self, path: Path, *, model_id: str, threads: int | None = None) -> None:
        from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

        self.model_id = model_id
        self.path = path
        config = _read_config(path)
        self.dimension: int = int(config["dimension"])
        self.max_seq_length: int = int(config["max_seq_length"])
        self._pooling: PoolingMode = config["pooling"]
        self._input_names: list[str] = list(config["input_names"])
        self._tokenizer = _load_tokenizer(path / TOKENIZER_FILE, config)

        self._ort_errors: tuple[type[Exception], ...] = _ort_error_types(ort_state)
        self._session = cpu_session(path / MODEL_FILE, threads)
        session_inputs = {node.name for node in self._session.get_inputs()}
        if session_inputs != set(self._input_names):
            raise ValueError(
                f"{path / MODEL_FILE} takes {sorted(session_inputs)}, not the config's"
            )

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> NDArray[np.float32]:
        """L2-normalised float32 vectors, shape (len(texts), dimension).

        `progress` is accepted for the `QueryEncoder` protocol; query batches are too small
        to need a bar.
        """
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        # Batch texts of similar length together so little compute goes on padding.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), _BATCH_SIZE):
            rows = order[start : start + _BATCH_SIZE]
            out[rows] = self._encode_batch([texts[i] for i in rows])
        return out

    def encode_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """Vectors of `texts` (as `encode`) and of each span in them, from one forward pass.

        A span's vector is the unit mean of its token embeddings in its text's pass; a span
        the model window cut off is embedded on its own instead.
        """
        starts = np.cumsum([0, *(len(s) for s in spans)])
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        pooled = np.zeros((int(starts[-1]), self.dimension), dtype=np.float32)
        missing: list[tuple[int, str]] = []
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), _BATCH_SIZE):
            rows = order[start : start + _BATCH_SIZE]
            encodings, hidden, mask = self._forward([texts[i] for i in rows])
            out[rows] = _normalise(self._pool(hidden, mask))
            for j, i in enumerate(rows):
                vectors, empty = pool_spans(hidden[j], encodings[j].offsets, spans[i])
                pooled[starts[i] : starts[i + 1]] = vectors
                missing += [
                    (int(starts[i]) + k, texts[i][a:b])
                    for k, (a, b) in enumerate(spans[i])
                    if empty[k]
                ]
        if missing:
            pooled[[row for row, _ in missing]] = self.encode([text for _, text in missing])
        return out, pooled

    def _encode_batch(self, texts: list[str]) -> NDArray[np.float32]:
        _, hidden, mask = self._forward(texts)
        return _normalise(self._pool(hidden, mask))

    def _forward(
        self, texts: list[str]
    ) -> tuple[list[Any], NDArray[np.float32], NDArray[np.int64]]:
        """(tokenizer encodings, token embeddings, attention mask) of one padded batch."""
        encodings = self._tokenizer.encode_batch(texts)
        columns = {
            "input_ids": [e.ids for e in encodings],
            "attention_mask": [e.attention_mask for e in encodings],
            "token_type_ids": [e.type_ids for e in encodings],
        }
        feeds = {name: np.asarray(columns[name], dtype=np.int64) for name in self._input_names}
        try:
            (output,) = self._session.run(None, feeds)
        except self._ort_errors as exc:
            raise RuntimeError(f"ONNX query encoder failed: {exc}") from exc
        hidden: NDArray[np.float32] = np.asarray(output, dtype=np.float32)
        if hidden.ndim != 3 or hidden.shape[-1] != self.dimension:
            raise ValueError(
                f"ONNX model returned shape {hidden.shape}, expected (*, *, {self.dimension})"
            )
        mask = np.asarray(columns["attention_mask"], dtype=np.int64)
        return encodings, hidden, mask

    def _pool(self, hidden: NDArray[np.float32], mask: NDArray[np.int64]) -> NDArray[np.float32]:
        if self._pooling == "cls":
            return hidden[:, 0, :]
        weights = mask[:, :, None].astype(np.float32)
        pooled: NDArray[np.float32] = (hidden * weights).sum(axis=1) / np.clip(
            weights.sum(axis=1), 1e-9, None
        )
        return pooled


def cpu_session(model: Path, threads: int | None = None) -> Any:
    """An onnxruntime CPU session over `model`, set up for short requests on a shared
    machine; RuntimeError when the file cannot be loaded."""
    import onnxruntime as ort
    from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or _default_threads()
    options.inter_op_num_threads = 1
    # Spinning threads would burn a shared core between queries for a few ms of latency.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    except _ort_error_types(ort_state) as exc:
        raise RuntimeError(f"cannot load {model}: {exc}") from exc


def _normalise(vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: NDArray[np.float32] = (vectors / np.clip(norms, 1e-12, None)).astype(np.float32)
    return unit


def _read_config(path: Path) -> dict[str, Any]:
    try:
        config = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"{path / CONFIG_FILE} is not valid JSON: {exc}") from exc
    if not isinstance(config, dict) or config.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path / CONFIG_FILE} is not a format {FORMAT_VERSION} export")
    required = ("dimension", "max_seq_length", "pooling", "input_names", "pad_id", "pad_token")
    if missing := [key for key in required if key not in config]:
        raise ValueError(f"{path / CONFIG_FILE} lacks {missing}")
    if config["pooling"] not in ("mean", "cls"):
        raise ValueError(f"{path / CONFIG_FILE}: unknown pooling {config['pooling']!r}")
    if not set(config["input_names"]) <= set(SUPPORTED_INPUTS):
        raise ValueError(f"{path / CONFIG_FILE}: unknown inputs {config['input_names']!r}")
    return config


def _load_tokenizer(file: Path, config: dict[str, Any]) -> Any:
    from tokenizers import Tokenizer

    text = file.read_text(encoding="utf-8")
    try:
        tokenizer = Tokenizer.from_str(text)
    # tokenizers reports every parse failure as a bare Exception.
    except Exception as exc:
        raise ValueError(f"{file} is not a valid tokenizer: {exc}") from exc
    tokenizer.no_padding()
    # Same cut as sentence-transformers: max_seq_length tokens, special tokens included.
    tokenizer.enable_truncation(max_length=int(config["max_seq_length"]), strategy="longest_first")
    tokenizer.enable_padding(
        direction="right",
        pad_id=int(config["pad_id"]),
        pad_type_id=int(config.get("pad_type_id", 0)),
        pad_token=str(config["pad_token"]),
    )
    return tokenizer


def _ort_error_types(ort_state: Any) -> tuple[type[Exception], ...]:
    """onnxruntime's own exception classes; they derive from Exception and nothing narrower."""
    return tuple(
        cls
        for cls in vars(ort_state).values()
        if isinstance(cls, type)
        and issubclass(cls, Exception)
        and cls.__module__ == ort_state.__name__
    )


def _default_threads() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    # Beyond a few threads a single short query gains nothing and other processes lose.
    return max(1, min(cores, 4))
