"""qa: document-grounded question answering with cited, extractive answers."""

from __future__ import annotations

__all__: list[str] = []
