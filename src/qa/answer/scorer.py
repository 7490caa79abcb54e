"""The trained answer-sentence scorer: a MiniLM cross-encoder, run through onnxruntime.

It reads a question and one sentence, with the document's title and the sentence before it,
and gives the probability that the sentence answers the question. `training/train_scorer.py`
trains it on SQuAD v1.1 dev and PolicyQA dev, exports it to int8 ONNX and writes
`scorer.json` (data, hyperparameters, validation figures and the calibration used here).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from qa.encoders.onnx import cpu_session

logger = logging.getLogger(__name__)

# The shipped model: package data beside this module.
BUNDLED = Path(__file__).with_name("scorer")
MODEL_FILE = "scorer.onnx"
TOKENIZER_FILE = "tokenizer.json"
CARD_FILE = "scorer.json"
# Tokens of one (question, sentence | title | previous sentence) pair, specials included.
MAX_TOKENS = 72

# (question, sentence, title, previous sentence)
ScorerInput = tuple[str, str, str, str]


def pair_text(sentence: str, title: str, previous: str) -> str:
    """The second segment the model reads: the sentence first, so truncation cuts context."""
    return f"{sentence} | {title} | {previous}".rstrip(" |")


class SentenceScorer:
    """Probability that a sentence answers a question, from the exported cross-encoder."""

    def __init__(self, folder: Path, *, calibrated: bool = True, threads: int | None = None):
        from tokenizers import Tokenizer

        self.folder = folder
        try:
            self.card: dict[str, Any] = json.loads((folder / CARD_FILE).read_text("utf-8"))
            tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        # tokenizers reports every parse failure as a bare Exception.
        except Exception as exc:
            raise ValueError(f"the answer scorer in {folder} is unusable: {exc}") from exc
        calibration = self.card.get("calibration", {}) if calibrated else {}
        self.scale = float(calibration.get("scale", 1.0))
        self.bias = float(calibration.get("bias", 0.0))
        self.threshold = float(calibration.get("threshold", 0.5))
        max_tokens = int(self.card.get("max_tokens", MAX_TOKENS))
        tokenizer.enable_truncation(max_length=max_tokens, strategy="only_second")
        self._tokenizer = tokenizer
        try:
            self._session = cpu_session(folder / MODEL_FILE, threads)
        except RuntimeError as exc:
            raise ValueError(str(exc)) from exc
        self._inputs = [node.name for node in self._session.get_inputs()]

    def logits(self, pairs: Sequence[ScorerInput]) -> np.ndarray:
        """The model's raw scores, one per pair.

        One pair per run: int8 activations are quantised with one scale per tensor, so a
        pair batched with others would score differently than alone; a pair is one short
        sequence, so little is lost.
        """
        out = np.zeros(len(pairs), dtype=np.float32)
        for i, (question, sentence, title, previous) in enumerate(pairs):
            encoding = self._tokenizer.encode(question, pair_text(sentence, title, previous))
            feeds = {
                "input_ids": encoding.ids,
                "attention_mask": encoding.attention_mask,
                "token_type_ids": encoding.type_ids,
            }
            inputs = {k: np.array([feeds[k]], dtype=np.int64) for k in self._inputs}
            (logits,) = self._session.run(None, inputs)
            out[i] = float(np.asarray(logits).reshape(-1)[0])
        return out

    def probabilities(self, pairs: Sequence[ScorerInput]) -> np.ndarray:
        """Calibrated probability that each sentence answers its question."""
        z = self.scale * self.logits(pairs) + self.bias
        return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)


@cache
def bundled_scorer() -> SentenceScorer | None:
    """The shipped scorer, or None (with a warning) when its files are missing or broken."""
    try:
        return SentenceScorer(BUNDLED)
    except (OSError, ValueError) as exc:
        logger.warning("answer scorer unavailable (%s); using the retrieval-score rule", exc)
        return None
