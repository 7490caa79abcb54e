"""qa: document-grounded question answering with cited, extractive answers."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _distribution_version

__all__ = ["version"]


def version() -> str:
    """The installed qa version (for manifests, OpenAPI and the MCP handshake)."""
    try:
        return _distribution_version("qa")
    except PackageNotFoundError:
        return "0+unknown"
