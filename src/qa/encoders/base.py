"""The encoder protocols: `QueryEncoder`, `Embedder` (knows its tokenizer) and `SpanEncoder`
(pools span vectors out of the same forward pass)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

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


@runtime_checkable
class SpanEncoder(QueryEncoder, Protocol):
    """A `QueryEncoder` that also pools vectors for character spans of each text.

    One forward pass gives both: the text's vector, as `encode` would, and for each span
    the unit mean of the token embeddings inside it (see `qa.encoders.pooling`).
    """

    def encode_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """(vectors of `texts`, vectors of all their spans, concatenated in order)."""
        ...
