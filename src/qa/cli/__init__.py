"""The `qa` command line: commands, the interactive prompt and terminal rendering."""

from __future__ import annotations

from qa.cli.commands import main

__all__ = ["main"]
