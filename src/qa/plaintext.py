"""Plain-text renderings of answers, hits, passages and documents for chat models: what the
MCP tools, the OpenAI-compatible `/v1` replies and `qa tools` users read."""

from __future__ import annotations

import json

from qa.models import (
    Answer,
    Citation,
    DocumentInfo,
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
