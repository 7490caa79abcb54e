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
    DocumentInfo,
    FieldMap,
    Hit,
    IndexStatus,
    IngestReport,
    SearchResult,
    SkippedFile,
    describe_page,
)

if TYPE_CHECKING:
    from qa.evaluation import EvalReport


STATUS_ROWS = 50  # a table of thousands of documents helps nobody and takes seconds


def console() -> Console:
    """Stdout: wrapped at word boundaries on a terminal, never wrapped when piped."""
    # Built per call so tests capturing stdout see the output.
    out = Console(highlight=False)
    out.soft_wrap = not out.is_terminal
    return out


def plural(count: int, noun: str) -> str:
    """`1 document`, `2 documents`."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _where(item: Citation | Hit) -> str:
    page = describe_page(item.page, item.page_label, item.ocr)
    return f"{item.title} ({item.source}{', ' + page if page else ''})"


def render_answer(answer: Answer, out: Console | None = None) -> None:
    out = out or console()
    if not answer.answered:
        out.print(f"[bold yellow]{escape(answer.message or answer.answer)}[/]")
        if answer.reason:
            out.print(f"[dim](reason: {answer.reason})[/]")
        if answer.suggestions:
            out.print("\nClosest passages:")
            for hit in answer.suggestions[:3]:
                out.print(f"  • {escape(_clip(_where(hit)))}: {escape(_clip(hit.text))}")
        return
    out.print(escape(answer.answer))
    if answer.uncovered:
        out.print(
            f"[yellow]Not covered by the documents: {escape('; '.join(answer.uncovered))}.[/]"
        )
    if answer.caution:
        out.print(f"[bold yellow]Caution:[/] [yellow]{escape(answer.caution)}[/]")
    render_sources(answer.citations, out)


def render_sources(citations: Sequence[Citation], out: Console | None = None) -> None:
    out = out or console()
    if citations:
        out.print("\n[bold]Sources[/]")
    for c in citations:
        out.print(f"  [{c.n}] {escape(_where(c))}\n      “{escape(c.quote)}”")


def render_passages(citations: Sequence[Citation], out: Console | None = None) -> None:
    """Each cited passage in full: the quote once, in bold, and the rest of it dimmed."""
    out = out or console()
    for c in citations:
        out.print(f"\n\\[{c.n}] {escape(_where(c))}")
        at = c.text.find(c.quote) if c.quote else -1
        if at < 0:
            out.print(f"[bold]{escape(c.quote)}[/]\n[dim]{escape(c.text)}[/]")
            continue
        before, after = c.text[:at], c.text[at + len(c.quote) :]
        out.print(f"[dim]{escape(before)}[/][bold]{escape(c.quote)}[/][dim]{escape(after)}[/]")


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
    size = f"{plural(len(status.documents), 'document')}, {plural(status.passage_count, 'passage')}"
    out.print(f"Size    {size}")
    if status.is_stale:
        out.print("[yellow]Stale[/]   " + "; ".join(status.stale_reasons) + " — run `qa ingest`")
    else:
        out.print("Fresh   the index matches the corpus")
    render_skipped(status.skipped, out)
    shown = status.documents[:STATUS_ROWS]
    _render_documents(shown, out)
    if len(status.documents) > len(shown):
        out.print(f"… and {len(status.documents) - len(shown)} more (`qa status --json` lists all)")


def _render_documents(documents: Sequence[DocumentInfo], out: Console) -> None:
    """A table when it fits; otherwise one block per document, so no id is ever cut."""
    if not documents:
        return
    id_width = max(len(d.id) for d in documents)
    source_width = max(len(d.source) for d in documents)
    if id_width + source_width + 45 <= out.width:
        table = Table("id", "title", "source", "pages", "passages")
        table.columns[0].no_wrap = table.columns[2].no_wrap = True
        for d in documents:
            table.add_row(d.id, d.title, d.source, str(d.pages or "-"), str(d.passages))
        out.print(table)
        return
    out.print("Documents")
    for d in documents:
        pages = f" · {plural(d.pages, 'page')}" if d.pages else ""
        out.print(f"  [bold]{escape(d.id)}[/]", soft_wrap=True)  # copied whole: never cut
        out.print(
            f"    {escape(d.title)} · {escape(d.source)}{pages} · {plural(d.passages, 'passage')}"
        )


def render_ingest(report: IngestReport, out: Console | None = None) -> None:
    out = out or console()
    changes = [
        f"{len(names)} {label}"
        for names, label in (
            (report.added, "added"),
            (report.changed, "changed"),
            (report.removed, "removed"),
            (report.unchanged, "unchanged"),
        )
        if names
    ]
    out.print(
        f"Indexed {plural(report.documents, 'document')} "
        f"({plural(report.passages, 'passage')}) in {report.seconds:.1f}s."
    )
    if changes or report.embedded_passages:
        embedded = f"{plural(report.embedded_passages, 'passage')} embedded"
        out.print(f"Files   {', '.join(changes) or 'no changes'}; {embedded}.")
    for source, encoding in report.encodings.items():
        out.print(
            f"[yellow]Guessed[/] {escape(source)}: not UTF-8; read as {escape(encoding)} "
            "(save it as UTF-8 if the text looks wrong)."
        )
    render_skipped(report.skipped, out)
    for page in report.skipped_pages:
        out.print(
            f"[yellow]Skipped page[/] {page.page} of {escape(page.source)}: "
            f"{escape(page.reason)}; {escape(page.remedy)}"
        )
    if report.documents == 0:
        out.print(f"[yellow]The index is empty:[/] add {describe_formats()} files to the corpus.")


def render_skipped(skipped: Sequence[SkippedFile], out: Console) -> None:
    """One line per skipped file, the same in the ingest summary and in status."""
    for item in skipped:
        out.print(f"[yellow]Skipped[/] {escape(item.source)}: {escape(item.reason)}")


def render_eval(reports: Sequence[EvalReport], out: Console | None = None) -> None:
    out = out or console()
    # Metrics as rows and modes as columns: readable on an 80-column terminal.
    table = Table("metric", *(f"{r.dataset} {r.mode}" for r in reports))
    rows: list[tuple[str, str]] = [
        ("questions", "questions"), ("hit@1", "hit_at_1"), ("hit@3", "hit_at_3"),
        ("hit@10", "hit_at_10"), ("MRR", "mrr"), ("answer contains", "answer_contains"),
        ("answer words p50", "answer_words_p50"),
        ("citation contains", "citation_contains"), ("answered (answerable)", "answered_rate"),
        ("abstention precision", "abstention_precision"),
        ("abstention recall", "abstention_recall"), ("latency p50 ms", "latency_ms_p50"),
        ("latency p95 ms", "latency_ms_p95"),
    ]  # fmt: skip
    for label, field in rows:
        values = [getattr(r, field) for r in reports]
        if field in ("questions", "mrr", "answer_words_p50") or field.startswith("latency"):
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
    text = " ".join(text.split())  # headings and paragraphs: one line in a bullet list
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
