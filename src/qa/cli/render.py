"""Human-readable terminal output for the CLI and the interactive prompt (rich)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from qa.formats import describe_formats
from qa.models import (
    Answer,
    Citation,
    FieldMap,
    Hit,
    IndexStatus,
    IngestReport,
    SearchResult,
)

if TYPE_CHECKING:
    from qa.evaluation import EvalReport


STATUS_ROWS = 50  # a table of thousands of documents helps nobody and takes seconds


def console() -> Console:
    # Built per call so tests capturing stdout see the output.
    return Console(highlight=False, soft_wrap=True)


def _where(item: Citation | Hit) -> str:
    page = f", p. {item.page}" if item.page is not None else ""
    return f"{item.title} ({item.source}{page})"


def render_answer(answer: Answer, out: Console | None = None) -> None:
    out = out or console()
    if not answer.answered:
        out.print(f"[bold yellow]{escape(answer.answer)}[/]")
        if answer.suggestions:
            out.print("\nClosest passages:")
            for hit in answer.suggestions[:3]:
                out.print(f"  • {escape(_where(hit))}: {escape(_clip(hit.text))}")
        return
    out.print(escape(answer.answer))
    render_sources(answer.citations, out)


def render_sources(citations: Sequence[Citation], out: Console | None = None) -> None:
    out = out or console()
    if citations:
        out.print("\n[bold]Sources[/]")
    for c in citations:
        out.print(f"  [{c.n}] {escape(_where(c))}\n      “{escape(c.quote)}”")


def render_search(result: SearchResult, out: Console | None = None) -> None:
    out = out or console()
    if not result.hits:
        out.print("No matching passages.")
    for hit in result.hits:
        out.print(f"[bold]{hit.rank}.[/] {escape(_where(hit))}  score {hit.score:.3f}")
        out.print(f"   {escape(_clip(hit.text, 300))}\n")


def render_status(status: IndexStatus, out: Console | None = None) -> None:
    out = out or console()
    if not status.built:
        out.print(f"No index in {status.index_dir}. Run `qa ingest` to build it.")
        return
    out.print(f"Index   {status.index_dir} (build {status.build_id})")
    out.print(f"Model   {status.model} ({status.dimension} dimensions)")
    if status.built_at is not None:
        out.print(f"Built   {status.built_at:%Y-%m-%d %H:%M:%S %Z} ({_age(status.built_at)} ago)")
    out.print(f"Size    {len(status.documents)} documents, {status.passage_count} passages")
    if status.is_stale:
        out.print("[yellow]Stale[/]   " + "; ".join(status.stale_reasons) + " — run `qa ingest`")
    else:
        out.print("Fresh   the index matches the corpus")
    table = Table("id", "title", "source", "pages", "passages")
    shown = status.documents[:STATUS_ROWS]
    for d in shown:
        table.add_row(d.id, d.title, d.source, str(d.pages or "-"), str(d.passages))
    out.print(table)
    if len(status.documents) > len(shown):
        out.print(f"… and {len(status.documents) - len(shown)} more (`qa status --json` lists all)")


def render_ingest(report: IngestReport, out: Console | None = None) -> None:
    out = out or Console(stderr=False, highlight=False)
    out.print(
        f"Indexed {report.documents} documents, {report.passages} passages "
        f"({len(report.added)} added, {len(report.changed)} changed, {len(report.removed)} "
        f"removed, {len(report.unchanged)} unchanged; {report.embedded_passages} passages "
        f"embedded) in {report.seconds:.1f}s."
    )
    for skipped in report.skipped:
        out.print(f"[yellow]Skipped[/] {escape(skipped.source)}: {escape(skipped.reason)}")
    if report.documents == 0:
        out.print(f"[yellow]The index is empty:[/] add {describe_formats()} files to the corpus.")


def render_eval(reports: Sequence[EvalReport], out: Console | None = None) -> None:
    out = out or console()
    # Metrics as rows and modes as columns: readable on an 80-column terminal.
    table = Table("metric", *(f"{r.dataset} {r.mode}" for r in reports))
    rows: list[tuple[str, str]] = [
        ("questions", "questions"), ("hit@1", "hit_at_1"), ("hit@3", "hit_at_3"),
        ("hit@10", "hit_at_10"), ("MRR", "mrr"), ("answer contains", "answer_contains"),
        ("citation contains", "citation_contains"), ("answered (answerable)", "answered_rate"),
        ("abstention precision", "abstention_precision"),
        ("abstention recall", "abstention_recall"), ("latency p50 ms", "latency_ms_p50"),
        ("latency p95 ms", "latency_ms_p95"),
    ]  # fmt: skip
    for label, field in rows:
        values = [getattr(r, field) for r in reports]
        if field in ("questions", "mrr") or field.startswith("latency"):
            cells = ["-" if v is None else f"{v:g}" for v in values]
        else:
            cells = [_pct(v) for v in values]
        table.add_row(label, *cells)
    out.print(table)
    for report in reports:
        for failure in report.failures[:10]:
            out.print(f"[yellow]{report.mode}[/] {escape(failure)}")


def _age(moment: datetime) -> str:
    seconds = max(0, int((datetime.now(UTC) - moment).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count > 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def _pct(value: Any) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A rich progress bar with ETA on a terminal (stderr); silent when piped."""
    if not sys.stderr.isatty() or total == 0:
        yield lambda n: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def render_field_map(field_map: FieldMap, out: Console | None = None) -> None:
    """The matrix (a mark and the number of sentences per cell), then each cell's quotes."""
    out = out or console()
    if not field_map.cells:
        out.print("[yellow]No actor–field cells for this selection.[/]")
        return
    names = {a.id: a.name for a in field_map.actors}
    counts = {(c.actor, c.field): len(c.citations) for c in field_map.cells}
    table = Table(show_lines=False)
    table.add_column("Actor")
    for f in field_map.fields:
        table.add_column(escape(f.label), justify="center")
    for actor_id in dict.fromkeys(c.actor for c in field_map.cells):
        marks = [
            f"● {counts[(actor_id, f.id)]}" if (actor_id, f.id) in counts else "·"
            for f in field_map.fields
        ]
        table.add_row(escape(names.get(actor_id, actor_id)), *marks)
    out.print(table)
    labels = {f.id: f.label for f in field_map.fields}
    for cell in field_map.cells:
        partners = ", ".join(names.get(p, p) for p in cell.partners)
        with_whom = f" [dim](with {escape(partners)})[/]" if partners else ""
        title = f"{names.get(cell.actor, cell.actor)} — {labels[cell.field]}"
        out.print(f"\n[bold]{escape(title)}[/]{with_whom}")
        for c in cell.citations:
            out.print(f"  [{c.n}] {escape(_where(c))}\n      “{escape(c.quote)}”")
