"""The interactive question prompt: load once, then answer question after question."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from qa.cli.commands import REMEDIES
from qa.cli.render import render_answer, render_sources
from qa.errors import QAError
from qa.models import Answer

if TYPE_CHECKING:
    from qa.service import QAService

HELP = "Ask a question and press Enter. /sources shows the last sources in full, /quit exits."
Prompt = Callable[[str], str]


def history_file() -> Path:
    base = Path.home() / ".local" / "state" / "qa"
    base.mkdir(parents=True, exist_ok=True)
    return base / "history"


def terminal_prompt() -> Prompt:
    """prompt_toolkit with line editing and persistent history on a terminal."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    try:
        history: FileHistory | None = FileHistory(str(history_file()))
    except OSError:
        history = None
    session: PromptSession[str] = PromptSession(history=history)
    return lambda message: session.prompt(message)


def plain_prompt(message: str) -> str:
    """Read a line from piped input; EOF ends the session."""
    sys.stdout.write(message)
    sys.stdout.flush()
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line.rstrip("\n")


def run_chat(
    service: QAService,
    *,
    k: int | None = None,
    prompt: Prompt | None = None,
    out: Console | None = None,
) -> None:
    """Loop until /quit, Ctrl-D or Ctrl-C; errors on one question never end the session."""
    out = out or Console(highlight=False, soft_wrap=True)
    if prompt is None:
        prompt = terminal_prompt() if sys.stdin.isatty() and sys.stdout.isatty() else plain_prompt
    service.warm()
    info = service.info()
    out.print(f"qa: {info.documents} documents, {info.passage_count} passages. {HELP}")
    last: Answer | None = None
    while True:
        try:
            line = prompt("question> ").strip()
        except (EOFError, KeyboardInterrupt):
            out.print("bye")
            return
        if not line:
            continue
        if line in ("/quit", "/exit", "/q"):
            out.print("bye")
            return
        if line in ("/help", "?"):
            out.print(HELP)
            continue
        if line == "/sources":
            if last is None or not last.citations:
                out.print("No sources yet: ask a question that the documents answer.")
            else:
                render_sources(last.citations, out)
                for c in last.citations:
                    out.print(f"\n\\[{c.n}] full passage:\n{escape(c.text)}")
            continue
        if line.startswith("/"):
            out.print(f"Unknown command {escape(line)}. {HELP}")
            continue
        try:
            last = service.ask(line, k=k)
        except QAError as exc:
            out.print(f"[red]error:[/] {escape(exc.explain(REMEDIES))}")
            continue
        render_answer(last, out)
        out.print()
