"""Answer-sentence scoring without torch: a small cross-encoder, run with onnxruntime.

`SentenceScorer.score` gives the probability that a sentence answers a question.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "scorer.json"
DEFAULT_MAX_LENGTH = 128
_BATCH_SIZE = 32
_INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


class ScorerModelError(RuntimeError):
    """The scorer model folder is missing, incomplete or unreadable."""


def default_model_path() -> Path:
    """The scorer model packaged with `qa` (`qa/encoders/scorer_model/`)."""
    return Path(__file__).resolve().parent / "scorer_model"


def format_pair(
    question: str, sentence: str, *, title: str = "", previous: str = ""
) -> tuple[str, str]:
    """The (text A, text B) pair the cross-encoder reads; training and runtime both use it.

    Text A is the question. Text B is the candidate sentence, then ` [SEP] ` and its context:
    the document title and the previous sentence of the same paragraph, as
    `"{sentence} [SEP] {title}: {previous}"` (parts that are empty are left out with their
    separator). The sentence comes first so that truncation cuts the context, never the sentence.
    """
    context = ": ".join(part for part in (title.strip(), previous.strip()) if part)
    sentence = sentence.strip()
    return question.strip(), f"{sentence} [SEP] {context}" if context else sentence


def load_tokenizer(path: Path, max_length: int) -> Any:
    """A `tokenizers.Tokenizer` from `path`, truncating pairs longest-first to `max_length`
    tokens and padding each batch to its longest member."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_length, strategy="longest_first")
    pad_id = tokenizer.token_to_id("[PAD]")
    tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")
    return tokenizer


def encode_pairs(tokenizer: Any, pairs: Sequence[tuple[str, str]]) -> dict[str, NDArray[np.int64]]:
    """Model inputs (`input_ids`, `attention_mask`, `token_type_ids`) for a batch of pairs."""
    encodings = tokenizer.encode_batch([(a, b) for a, b in pairs])
    return {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
    }


class SentenceScorer:
    """Scores (question, sentence) pairs with the cross-encoder exported to `path`."""

    def __init__(self, path: Path, *, threads: int = 2) -> None:
        import onnxruntime as ort

        self.path = path
        try:
            config = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ScorerModelError(f"no readable {CONFIG_FILE} in scorer model {path}") from error
        if not isinstance(config, dict) or config.get("format_version") != FORMAT_VERSION:
            raise ScorerModelError(
                f"scorer model {path} has format {config.get('format_version')!r}"
                f" (expected {FORMAT_VERSION})"
                if isinstance(config, dict)
                else f"{path / CONFIG_FILE} is not a JSON object"
            )
        self.config: dict[str, Any] = config
        self.max_length = int(config.get("max_length", DEFAULT_MAX_LENGTH))
        threshold = config.get("threshold")
        self.threshold: float | None = float(threshold) if threshold is not None else None
        for name in (MODEL_FILE, TOKENIZER_FILE):
            if not (path / name).is_file():
                raise ScorerModelError(f"scorer model {path} lacks {name}")
        try:
            self._tokenizer = load_tokenizer(path / TOKENIZER_FILE, self.max_length)
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            self._session = ort.InferenceSession(
                str(path / MODEL_FILE), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # tokenizers and onnxruntime raise their own types
            raise ScorerModelError(f"cannot load scorer model {path}: {error}") from error
        self._inputs = [i.name for i in self._session.get_inputs() if i.name in _INPUT_NAMES]
        logger.debug("loaded sentence scorer from %s (max_length %d)", path, self.max_length)

    @classmethod
    def load(cls, path: Path | None = None) -> SentenceScorer:
        """The scorer at `path`, by default the one packaged with `qa`."""
        folder = default_model_path() if path is None else Path(path)
        if not folder.is_dir():
            raise ScorerModelError(f"scorer model folder {folder} does not exist")
        return cls(folder)

    def logits(
        self,
        question: str,
        sentences: Sequence[str],
        *,
        titles: Sequence[str] | None = None,
        previous: Sequence[str] | None = None,
    ) -> NDArray[np.float32]:
        """Raw logits, one per sentence; `titles` and `previous` align with `sentences`."""
        if titles is not None and len(titles) != len(sentences):
            raise ValueError("titles must have one entry per sentence")
        if previous is not None and len(previous) != len(sentences):
            raise ValueError("previous must have one entry per sentence")
        pairs = [
            format_pair(
                question,
                sentence,
                title=titles[i] if titles is not None else "",
                previous=previous[i] if previous is not None else "",
            )
            for i, sentence in enumerate(sentences)
        ]
        return self.logits_of_pairs(pairs)

    def logits_of_pairs(self, pairs: Sequence[tuple[str, str]]) -> NDArray[np.float32]:
        """Raw logits for already formatted (`format_pair`) pairs."""
        out = np.empty(len(pairs), dtype=np.float32)
        for start in range(0, len(pairs), _BATCH_SIZE):
            batch = pairs[start : start + _BATCH_SIZE]
            feed = encode_pairs(self._tokenizer, batch)
            (logits,) = self._session.run(["logits"], {k: feed[k] for k in self._inputs})
            out[start : start + len(batch)] = np.asarray(logits, dtype=np.float32).reshape(-1)
        return out

    def score(
        self,
        question: str,
        sentences: Sequence[str],
        *,
        titles: Sequence[str] | None = None,
        previous: Sequence[str] | None = None,
    ) -> NDArray[np.float32]:
        """Probabilities (sigmoid of the logits) that each sentence answers `question`."""
        return sigmoid(self.logits(question, sentences, titles=titles, previous=previous))


def sigmoid(logits: NDArray[np.float32]) -> NDArray[np.float32]:
    """The logistic function, without overflow warnings for large negative logits."""
    clipped = np.clip(logits.astype(np.float32), -60.0, 60.0)
    return (1.0 / (1.0 + np.exp(-clipped))).astype(np.float32)


def load_scorer(path: Path | None = None) -> SentenceScorer:
    """The scorer at `path` (default: the bundled one), or `ConfigError` saying what to do."""
    from qa.errors import ConfigError

    try:
        return SentenceScorer.load(path)
    except ScorerModelError as exc:
        raise ConfigError(
            f"Cannot load the answer-sentence scorer: {exc}.",
            remedy="Set QA_SCORER_MODEL to a scorer model folder, or unset it to use the "
            "bundled one (reinstall qa if that is missing).",
        ) from exc
