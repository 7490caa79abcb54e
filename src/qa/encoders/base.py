"""The encoder protocols every embedder satisfies: `QueryEncoder` and `Embedder`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray


class QueryEncoder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    model_id: str
    dimension: int

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> NDArray[np.float32]: ...


class Embedder(QueryEncoder, Protocol):
    """A `QueryEncoder` that also knows its tokenizer, for chunking within its limit."""

    max_tokens: int

    def count_tokens(self, text: str) -> int:
        """Word pieces in `text`, special tokens excluded."""
        ...

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character span of each word piece, special tokens excluded."""
        ...
