"""Plain-text renderings of answers, hits, passages, documents and the field map for chat
models: what the MCP tools, the OpenAI-compatible `/v1` replies and `qa tools` users read;
also the field map's CSV and Markdown, which the CLI and the web page share."""

from __future__ import annotations

import csv
import io
import json

from qa.models import (
    Answer,
    Citation,
    DocumentInfo,
    FieldMap,
    Hit,
    Passage,
    PassageDetail,
    SearchResult,
    describe_page,
)


def _where(item: Citation | Hit | Passage) -> str:
    shown = describe_page(item.page, item.page_label, item.ocr)
    return f"{item.title}, {shown}" if shown else item.title


def _snippet(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def render_answer(answer: Answer) -> str:
    """The answer with its `[n]` markers, then a numbered source list (or, when the
    documents do not answer, the closest passages, clearly labelled as such)."""
    if answer.answered:
        lines = [answer.answer.strip()]
        if answer.uncovered:
            lines.append(f"Not covered by the documents: {'; '.join(answer.uncovered)}.")
        if answer.caution:
            lines.append(f"Caution: {answer.caution}")
        lines += ["", "Sources:"]
        for c in answer.citations:
            lines.append(f'[{c.n}] {_where(c)} — "{" ".join(c.quote.split())}"')
        return "\n".join(lines)
    text = (answer.message or answer.answer).strip()
    text = text or "The indexed documents do not answer this question."
    if answer.reason:
        text += f" (reason: {answer.reason})"
    if not answer.suggestions:
        return text
    lines = [text, "", "Closest passages (they do not answer the question):"]
    for hit in answer.suggestions:
        lines.append(f'{hit.rank}. {_where(hit)} — "{_snippet(hit.text)}"')
    return "\n".join(lines)


def _render_hit(hit: Hit) -> str:
    return (
        f"{hit.rank}. {_where(hit)} "
        f"(passage {hit.passage_id}, document {hit.document}, score {hit.score:.3f})\n"
        f"   {_snippet(hit.text, 1200)}"
    )


def render_search(result: SearchResult) -> str:
    """Ranked hits with their passage ids, for a model that only reads text."""
    if not result.hits:
        return f"No passages found for {json.dumps(result.query)}."
    head = f"{len(result.hits)} passages for {json.dumps(result.query)}:"
    return "\n".join([head, *(_render_hit(hit) for hit in result.hits)])


def render_passage(detail: PassageDetail) -> str:
    """One passage with where it comes from and its neighbours' ids."""
    p = detail.passage
    lines = [f"{_where(p)} — passage {p.id} (document {p.document_id})"]
    if p.headings:
        lines.append("Section: " + " › ".join(p.headings))
    lines.append(
        f"previous_id: {detail.previous_id or 'none'}; next_id: {detail.next_id or 'none'}"
    )
    lines += ["", p.text]
    return "\n".join(lines)


def render_documents(documents: list[DocumentInfo]) -> str:
    """One line per indexed document, with the resource URI of its full text."""
    if not documents:
        return "No documents are indexed. Run `qa ingest` to index the corpus."
    lines = [f"{len(documents)} indexed documents:"]
    for d in documents:
        pages = f", {d.pages} pages" if d.pages else ""
        lines.append(
            f"- {d.id}: {d.title} ({d.source}, {d.format}{pages}, {d.passages} passages; "
            f"full text: qa://documents/{d.id})"
        )
    return "\n".join(lines)


# -- the cooperation-field map ------------------------------------------------------------


def _cell_counts(field_map: FieldMap) -> tuple[list[str], dict[tuple[str, str], int]]:
    rows = list(dict.fromkeys(c.actor for c in field_map.cells))
    return rows, {(c.actor, c.field): len(c.citations) for c in field_map.cells}


def _actor_names(field_map: FieldMap) -> dict[str, str]:
    return {a.id: a.name for a in field_map.actors}


def field_map_csv(field_map: FieldMap) -> str:
    """The matrix as CSV: one row per actor, one column per field, cells = sentence counts."""
    rows, counts = _cell_counts(field_map)
    names = _actor_names(field_map)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["actor_id", "actor", *(f.id for f in field_map.fields)])
    for actor_id in rows:
        values = [counts.get((actor_id, f.id), 0) for f in field_map.fields]
        writer.writerow([actor_id, names.get(actor_id, actor_id), *values])
    return out.getvalue()


def _cited_lines(field_map: FieldMap, bullet: str) -> list[str]:
    names = _actor_names(field_map)
    labels = {f.id: f.label for f in field_map.fields}
    lines: list[str] = []
    for cell in field_map.cells:
        partners = ", ".join(names.get(p, p) for p in cell.partners)
        with_whom = f" (with {partners})" if partners else ""
        lines.append(f"{names.get(cell.actor, cell.actor)} — {labels[cell.field]}{with_whom}:")
        for c in cell.citations:
            lines.append(f'{bullet}[{c.n}] {_where(c)} — "{" ".join(c.quote.split())}"')
    return lines


def field_map_markdown(field_map: FieldMap) -> str:
    """The matrix as a Markdown table (counts of supporting sentences), then the quotes."""
    rows, counts = _cell_counts(field_map)
    names = _actor_names(field_map)
    head = ["Actor", *(f.label for f in field_map.fields)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for actor_id in rows:
        marks = [str(counts.get((actor_id, f.id), "")) for f in field_map.fields]
        lines.append("| " + " | ".join([names.get(actor_id, actor_id), *marks]) + " |")
    if not rows:
        lines.append("| (no cells) |" + " |" * len(field_map.fields))
    return "\n".join([*lines, "", *_cited_lines(field_map, "- ")]) + "\n"


def render_field_map(field_map: FieldMap) -> str:
    """The map for a model that reads text: one line per cell with partners, then quotes."""
    if not field_map.cells:
        return "The field map has no cells for this selection."
    names = _actor_names(field_map)
    labels = {f.id: f.label for f in field_map.fields}
    rows, _ = _cell_counts(field_map)
    summary = [
        f"{names.get(a, a)} ({a}): "
        + ", ".join(f"{labels[c.field]} ({c.field})" for c in field_map.cells if c.actor == a)
        for a in rows
    ]
    head = f"{len(field_map.cells)} cells (actor: fields):"
    return "\n".join([head, *summary, "", "Evidence:", *_cited_lines(field_map, "  ")])
