"""Logging set-up for the entry points (CLI, HTTP server, MCP server): one stderr handler,
one format, and the JSON-lines access log of the HTTP server. Library code only logs."""

from __future__ import annotations

import logging
import os
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ACCESS_LOGGER = "qa.access"
_NOISY = ("faiss", "sentence_transformers", "transformers", "bm25s", "httpx", "onnxruntime")


def quiet_libraries() -> None:
    """Keep model loading from spraying progress bars or hub notices over the output."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def configure_logging(level: str, *, access_log: bool = False) -> None:
    """Send qa's and libraries' logs to stderr at `level`; idempotent.

    With `access_log`, the HTTP server's `qa.access` records (one JSON object each) go to
    stderr as they are, at INFO whatever `level` is.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    # On the handler too: libraries imported later (bm25s) set their own logger levels.
    handler.setLevel(level.upper())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    if access_log:
        access = logging.getLogger(ACCESS_LOGGER)
        raw = logging.StreamHandler(sys.stderr)
        raw.setFormatter(logging.Formatter("%(message)s"))
        access.handlers[:] = [raw]
        access.setLevel(logging.INFO)
        access.propagate = False
