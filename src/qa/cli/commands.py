"""The `qa` command line: ingest, ask, search, status, fields, chat, eval, serve, mcp, tools.

Every command builds one `QAService` from the settings (options override `QA_*`
variables) and maps `QAError` to a one-line message and a non-zero exit, here only.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from qa.config import Settings, load_settings
from qa.errors import QAError, RemedyKey
from qa.logs import configure_logging, quiet_libraries

F = TypeVar("F", bound=Callable[..., Any])

# Remedies in command-line terms (see `QAError.explain`).
REMEDIES: dict[RemedyKey, str] = {
    "list_documents": "List documents with `qa status`.",
    "find_passage": "Use a passage id from `qa search` or `qa ask --json`.",
    "build_index": "Run `qa ingest` to build it.",
}


def handle_errors(func: F) -> F:
    """Turn expected failures into `error: … remedy` on stderr and exit status 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except QAError as exc:
            click.echo(f"error: {exc.explain(REMEDIES)}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _settings(ctx: click.Context, **overrides: Any) -> Settings:
    base: dict[str, Any] = dict(ctx.obj or {})
    base.update({k: v for k, v in overrides.items() if v is not None})
    settings = load_settings(**base)
    configure_logging(settings.log_level)
    return settings


def _service(settings: Settings) -> Any:
    from qa.service import QAService

    return QAService(settings)


def _emit_json(model: Any) -> None:
    click.echo(model.model_dump_json(indent=2))


@click.group(invoke_without_command=True)
@click.option("--corpus", "corpus_dir", type=click.Path(path_type=Path), help="Corpus folder.")
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index folder.")
@click.option("--model", "embedding_model", help="Embedding model name or path.")
@click.version_option(package_name="qa")
@click.pass_context
@handle_errors
def main(
    ctx: click.Context, corpus_dir: Path | None, index_dir: Path | None, embedding_model: str | None
) -> None:
    """Ask questions of your policy documents; every answer cites its sources.

    \b
    Start with:   qa ingest            (index ./corpus)
    Then:         qa ask "Who wrote this?"
    Or simply:    qa                   (interactive prompt)
    """
    quiet_libraries()
    ctx.obj = {"corpus_dir": corpus_dir, "index_dir": index_dir, "embedding_model": embedding_model}
    if ctx.invoked_subcommand is None:
        ctx.invoke(chat)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--rebuild", is_flag=True, help="Re-embed everything instead of only changes.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
@handle_errors
def ingest(ctx: click.Context, paths: tuple[Path, ...], rebuild: bool, as_json: bool) -> None:
    """Index the corpus (or a folder, or PATHS); only changes are embedded.

    A single folder outside the corpus becomes the corpus: it is recorded in the index,
    and later `qa status`, `qa ask` and `qa ingest` use it.

    \b
    Example:  qa ingest
              qa ingest corpus/new-report.pdf
              qa ingest ~/policies
              qa ingest --rebuild
    """
    settings = _settings(ctx)
    from qa.cli.render import progress_bar

    progress = None if as_json else progress_bar
    report = _service(settings).ingest(list(paths) or None, rebuild=rebuild, progress=progress)
    if as_json:
        _emit_json(report)
        return
    from qa.cli.render import render_ingest

    if report.corpus_dir and Path(report.corpus_dir) != settings.corpus_dir.resolve():
        click.echo(
            f"Corpus  {report.corpus_dir} (recorded in the index, so "
            "`qa status` and `qa ask` use it)"
        )
    render_ingest(report)


def _k_option(func: F) -> F:
    return click.option("--k", "k", type=int, help="How many passages to retrieve.")(func)


def _doc_option(func: F) -> F:
    return click.option(
        "--document", "documents", multiple=True, help="Only search this document id (repeatable)."
    )(func)


@main.command()
@click.argument("question")
@_k_option
@_doc_option
@click.option("--json", "as_json", is_flag=True, help="Print the Answer object as JSON.")
@click.pass_context
@handle_errors
def ask(
    ctx: click.Context, question: str, k: int | None, documents: tuple[str, ...], as_json: bool
) -> None:
    """Answer QUESTION from the documents, citing each sentence's source.

    \b
    Example:  qa ask "What forum did Korea set up for hydrogen?"
              qa ask --json "Who wrote the article?"
    """
    settings = _settings(ctx)
    answer = _service(settings).ask(question, k=k, documents=list(documents) or None)
    if as_json:
        _emit_json(answer)
        return
    from qa.cli.render import render_answer

    render_answer(answer)


@main.command()
@click.argument("query")
@_k_option
@_doc_option
@click.option("--json", "as_json", is_flag=True, help="Print the hits as JSON.")
@click.pass_context
@handle_errors
def search(
    ctx: click.Context, query: str, k: int | None, documents: tuple[str, ...], as_json: bool
) -> None:
    """Show the passages that best match QUERY.

    \b
    Example:  qa search "solid-state batteries" --k 3
    """
    settings = _settings(ctx)
    result = _service(settings).search(query, k=k, documents=list(documents) or None)
    if as_json:
        _emit_json(result)
        return
    from qa.cli.render import render_search

    render_search(result)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_context
@handle_errors
def status(ctx: click.Context, as_json: bool) -> None:
    """Show documents, passages, model, index age, staleness and skips.

    \b
    Example:  qa status
    """
    settings = _settings(ctx)
    report = _service(settings).status()
    if as_json:
        _emit_json(report)
        return
    from qa.cli.render import render_status

    render_status(report)


@main.command()
@click.option("--document", "documents", multiple=True, help="Only this document id (repeatable).")
@click.option(
    "--actor", "actors", multiple=True, help="Only this actor id or name, e.g. kor (repeatable)."
)
@click.option(
    "--field", "fields", multiple=True, help="Only this field id, e.g. hydrogen (repeatable)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the FieldMap object as JSON.")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "markdown"]), help="Print CSV or Markdown."
)
@click.pass_context
@handle_errors
def fields(
    ctx: click.Context,
    documents: tuple[str, ...],
    actors: tuple[str, ...],
    fields: tuple[str, ...],
    as_json: bool,
    fmt: str | None,
) -> None:
    """Show who cooperates on what: actors by fields, every cell cited.

    The map is computed at ingest; the taxonomy is `fields.toml` in the corpus folder,
    QA_FIELDS_FILE, or the bundled default.

    \b
    Example:  qa fields
              qa fields --actor kor --json
              qa fields --format csv > fields.csv
    """
    settings = _settings(ctx)
    field_map = _service(settings).fields(
        documents=list(documents) or None, actors=list(actors) or None, fields=list(fields) or None
    )
    if as_json:
        _emit_json(field_map)
        return
    if fmt is not None:
        from qa.plaintext import field_map_csv, field_map_markdown

        render = field_map_csv if fmt == "csv" else field_map_markdown
        click.echo(render(field_map), nl=False)
        return
    from qa.cli.render import render_field_map

    render_field_map(field_map)


@main.command()
@_k_option
@click.pass_context
@handle_errors
def chat(ctx: click.Context, k: int | None = None) -> None:
    """Open the interactive question prompt (the default command).

    \b
    Type a question and press Enter. Commands: /sources, /help, /quit (or Ctrl-D).
    """
    from qa.cli.chat import run_chat

    settings = _settings(ctx)
    run_chat(_service(settings), k=k)


@main.command(name="eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--limit", type=int, help="Only the first N questions (SQuAD: per corpus).")
@click.option("--corpora", type=int, help="SQuAD: only the first N articles (corpora).")
@click.option(
    "--mode",
    type=click.Choice(["hybrid", "dense", "lexical", "all"]),
    default="hybrid",
    help="Retrieval to evaluate; `all` compares the three.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.pass_context
@handle_errors
def eval_command(
    ctx: click.Context,
    file: Path,
    limit: int | None,
    corpora: int | None,
    mode: str,
    as_json: bool,
) -> None:
    """Score retrieval, answers and abstention on seed-dev JSONL or SQuAD.

    \b
    Example:  qa eval eval/seed-dev.jsonl
              qa eval eval/policyqa-dev.json --mode all --json
    """
    from qa.evaluation import evaluate_file

    settings = _settings(ctx)
    modes = ["dense", "lexical", "hybrid"] if mode == "all" else [mode]
    reports = evaluate_file(file, settings, modes=modes, limit=limit, corpora=corpora)
    if as_json:
        click.echo(json.dumps([r.model_dump() for r in reports], indent=2))
        return
    from qa.cli.render import render_eval

    render_eval(reports)


@main.command()
@click.option("--host", help="Bind address (default 127.0.0.1).")
@click.option("--port", type=int, help="Port (default 8000).")
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes.")
@click.pass_context
@handle_errors
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int) -> None:
    """Serve the HTTP API, the web page, MCP (/mcp) and OpenAI (/v1).

    \b
    Example:  qa serve --port 8000
    """
    from qa.api.app import serve as run_server
    from qa.api.app import startup_line

    settings = _settings(ctx, host=host, port=port)
    click.echo(startup_line(settings))
    run_server(settings, workers=workers)


@main.command()
@click.pass_context
@handle_errors
def mcp(ctx: click.Context) -> None:
    """Run the MCP server over stdio (Claude Desktop, Cursor, other hosts).

    \b
    Example:  qa mcp
    """
    from qa.mcp.server import run_stdio

    run_stdio(_settings(ctx))


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["openai", "mcp"]),
    default="openai",
    show_default=True,
    help="Tool definition format.",
)
@handle_errors
def tools(fmt: str) -> None:
    """Print the tool definitions (JSON schema) for function-calling apps.

    \b
    Example:  qa tools --format openai
    """
    from qa.mcp.server import tool_definitions

    click.echo(json.dumps(tool_definitions(fmt), indent=2))  # type: ignore[arg-type]
