"""qa: document-grounded question answering with cited, extractive answers."""

from __future__ import annotations

__all__ = ["version"]


def version() -> str:
    """The installed qa version (for manifests, OpenAPI and the MCP handshake)."""
    # importlib.metadata costs 50 ms to import: only a caller that needs the version pays.
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as distribution_version

    try:
        return distribution_version("qa")
    except PackageNotFoundError:
        return "0+unknown"
