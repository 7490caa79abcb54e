"""The interactive question prompt: load once, then answer question after question."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from qa.cli.commands import REMEDIES
from qa.cli.render import plural, render_answer, render_passages
from qa.errors import QAError
from qa.models import Answer

if TYPE_CHECKING:
    from qa.service import QAService

HELP = "Ask a question and press Enter; /help lists the commands."
COMMANDS = (
    ("/sources", "the passages behind the last answer, quotes in bold"),
    ("/help", "this list"),
    ("/quit", "leave (also /exit, /q, Ctrl-D)"),
)
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
    size = f"{plural(info.documents, 'document')}, {plural(info.passage_count, 'passage')}"
    out.print(f"qa: {size}. {HELP}")
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
            out.print("Type a question and press Enter. Commands:")
            for name, what in COMMANDS:
                out.print(f"  {name:<9} {what}")
            continue
        if line == "/sources":
            if last is None or not last.citations:
                out.print("No sources yet: ask a question that the documents answer.")
            else:
                render_passages(last.citations, out)
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
