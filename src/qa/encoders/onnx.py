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
        import onnxruntime as ort
        from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

        self.model_id = model_id
        self.path = path
        config = _read_config(path)
        self.dimension: int = int(config["dimension"])
        self.max_seq_length: int = int(config["max_seq_length"])
        self._pooling: PoolingMode = config["pooling"]
        self._input_names: list[str] = list(config["input_names"])
        self._tokenizer = _load_tokenizer(path / TOKENIZER_FILE, config)

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or _default_threads()
        options.inter_op_num_threads = 1
        # Spinning threads would burn a shared core between queries for a few ms of latency.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._ort_errors: tuple[type[Exception], ...] = _ort_error_types(ort_state)
        try:
            self._session = ort.InferenceSession(
                str(path / MODEL_FILE), options, providers=["CPUExecutionProvider"]
            )
        except self._ort_errors as exc:
            raise RuntimeError(f"cannot load {path / MODEL_FILE}: {exc}") from exc
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

    def _encode_batch(self, texts: list[str]) -> NDArray[np.float32]:
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
        pooled: NDArray[np.float32]
        if self._pooling == "cls":
            pooled = hidden[:, 0, :]
        else:
            mask = feeds["attention_mask"][:, :, None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: NDArray[np.float32] = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
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
