"""Sentence vectors pooled out of a passage's forward pass: the mean of the token
embeddings inside each character span, L2-normalised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray


def pool_spans(
    hidden: NDArray[np.float32],
    offsets: Sequence[tuple[int, int]] | NDArray[np.int64],
    spans: Sequence[tuple[int, int]],
) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """Unit mean of the token embeddings overlapping each span; and which spans had none.

    `hidden` is one text's token embeddings (tokens, dim); `offsets` the character span of
    each token in that text, (0, 0) for special and padding tokens, which never count. A
    span the model window cut off has no tokens: its row is zero and flagged in the mask.
    """
    dim = hidden.shape[-1]
    if not spans:
        return np.zeros((0, dim), dtype=np.float32), np.zeros(0, dtype=bool)
    marks = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)[: hidden.shape[0]]
    bounds = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    starts, ends = marks[:, 0], marks[:, 1]
    inside = (starts[None, :] < bounds[:, 1:2]) & (ends[None, :] > bounds[:, 0:1]) & (ends > starts)
    counts = inside.sum(axis=1)
    sums = inside.astype(np.float32) @ hidden[: len(marks)].astype(np.float32)
    means = sums / np.maximum(counts, 1)[:, None]
    norms = np.linalg.norm(means, axis=1, keepdims=True)
    unit = (means / np.clip(norms, 1e-12, None)).astype(np.float32)
    return unit, counts == 0
