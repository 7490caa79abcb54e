"""Documents → Passages that follow headings, paragraphs and sentences.

Every passage is a contiguous slice of the document's normalised text (so offsets
are exact), fits the embedding model's token window (measured with its own
tokenizer, because MiniLM silently drops word pieces past 256), and has an id that
depends only on its document and text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from qa.ingest.normalize import CELL_SEPARATOR, metadata_of
from qa.models import Document, Passage

CHUNKER_VERSION = 13  # bump when passages or what is embedded or indexed for them change

# A regex splitter, not pysbd/nltk: it is ~100x faster on large corpora, needs no
# downloaded data, and policy prose has few of the hard cases those libraries solve.
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof inc ltd co corp vs etc e.g i.e eg ie u.s u.k u.n no nos fig figs st
    jan feb mar apr jun jul aug sep sept oct nov dec art arts sec para paras approx dept govt
    est vol al cf resp jr sr ch pp p""".split()  # noqa: SIM905 (a word list reads better)
)
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
# A heading run into its first sentence, as policies pasted as plain text have it:
# "CONFIDENTIALITY AND SECURITY We limit access …" (three or more words in capitals, then
# a capitalised word).
_CAPS_WORD = r"[A-Z][A-Z'’&-]*[A-Z]"
_RUN_IN_HEADING = re.compile(rf"(?:{_CAPS_WORD}\s+){{2,}}{_CAPS_WORD}\s+(?=[A-Z][a-z])")
# The same in title case: "How Yahoo Uses Your Personal Information This policy covers …",
# "What Information Does The Motley Fool Gather About You- The Motley Fool collects …".
# Such a heading is two or more capitalised words (small words may be lower case) up to a
# word ending in a dash, or up to a capitalised word that opens sentences and is followed
# by a lower-case one. Mid-sentence, those words are not capitalised.
_TITLE_WORD = re.compile(r"[A-Z][\w'’&-]*,?")
_TITLE_SMALL_WORDS = frozenset(
    """a an and or nor of the to for in on at by with from about into is are your our its
    not""".split()  # noqa: SIM905 (a word list reads better)
)
_SENTENCE_OPENERS = frozenset(
    """We You Our Your This These Those The It Its They Their There If When Where While
    Whether To In On For As At By From With Under Unless Although Because Please Some Many
    Most All Each Any No Personal""".split()  # noqa: SIM905
)


class TokenCounter(Protocol):
    """The slice of an `Embedder` that chunking needs."""

    max_tokens: int

    def count_tokens(self, text: str) -> int: ...

    def token_spans(self, text: str) -> list[tuple[int, int]]: ...


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) in `text`, trimmed of surrounding spaces."""
    spans: list[tuple[int, int]] = []
    start = len(text) - len(text.lstrip())
    for match in _BOUNDARY.finditer(text, start):
        end = match.end()
        # The word before the stop, without brackets or quotes: "(Vol. 1)" is no boundary.
        word = text[start : match.start() + 1].rsplit(None, 1)[-1]
        word = word.lstrip("([{\"'“‘").rstrip(".").lower()
        if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            continue
        spans.append((start, end))
        start = end
        while start < len(text) and text[start].isspace():
            start += 1
    if start < len(text.rstrip()):
        spans.append((start, len(text.rstrip())))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def run_in_heading(sentence: str) -> int:
    """Length of the heading `sentence` opens with, run into it, with its trailing space
    ("CONFIDENTIALITY AND SECURITY " in "CONFIDENTIALITY AND SECURITY We limit …"), or 0.
    The heading stays in the sentence, and its vector, to guide retrieval. A table row's
    label in capitals is no heading."""
    if CELL_SEPARATOR in sentence:
        return 0
    heading = _RUN_IN_HEADING.match(sentence)
    return heading.end() if heading else _title_case_heading(sentence)


def is_title_line(sentence: str) -> bool:
    """True for a sentence that is all title case: a heading set as a sentence of its own
    ("Exceptions To Written Authorization Requirement.", "B. Personally Identifiable
    Information."), which says nothing. "This is Non-Personally Identifiable Information."
    is a sentence."""
    words = sentence.split()
    if len(words) > 1 and words[0] in _SENTENCE_OPENERS and words[1][:1].islower():
        return False
    capitalised = 0
    for word in words:
        text = word.rstrip(".:;")
        if _TITLE_WORD.fullmatch(text):
            capitalised += len(text) > 1  # "A." numbers a heading
        elif text not in _TITLE_SMALL_WORDS:
            return False
    return capitalised >= 2


def is_run_in_label(sentence: str) -> bool:
    """True for a bold label as plain text has it, run into its paragraph: a phrase of at
    most four words without a verb or pronoun (no English stop word but "and", "or" and
    "of"; no "-ly" adverb), ending in a full stop. "Contact information. For example, we
    might collect your name …": the label says what the sentences after it are about, and
    answers nothing itself. "Warner was right." is a sentence."""
    words = sentence.removesuffix(".").split()
    if not sentence.endswith(".") or sentence.endswith("..") or not 1 <= len(words) <= 4:
        return False
    if not words[0][:1].isupper():
        return False
    for word in words:
        text = word.strip("\"'()“”‘’,").lower()
        if not _LABEL_WORD.fullmatch(text) or text in _label_stop_words() or text.endswith("ly"):
            return False
    return True


_LABEL_WORD = re.compile(r"[a-z][a-z'’&-]*")


@lru_cache(maxsize=1)
def _label_stop_words() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN_PLUS  # NLTK's English list

    return frozenset(STOPWORDS_EN_PLUS) - {"and", "or", "of"}


def _title_case_heading(sentence: str) -> int:
    # The heading ends at the last sentence opener before the words in title case end
    # ("… From or Through Social Media Sites In addition, …"), or after a dash.
    words = list(re.finditer(r"\S+", sentence))
    capitalised = 0
    opener = 0
    for i, word in enumerate(words):
        text = word.group()
        if capitalised >= 2 and i + 1 < len(words):
            if words[i - 1].group().endswith("-"):
                return word.start()
            if text in _SENTENCE_OPENERS and words[i + 1].group()[:1].islower():
                opener = word.start()
        if _TITLE_WORD.fullmatch(text):
            capitalised += 1
        elif text not in _TITLE_SMALL_WORDS:
            break  # a lower-case word, a figure or a bracket: the sentence has begun
    return opener


@dataclass
class _Unit:
    """A sentence (or a piece of an overlong one) with its place in the document."""

    start: int
    end: int
    tokens: int
    section: int
    headings: tuple[str, ...]
    block_tokens: int  # tokens of the whole block when this unit opens it, else 0
    label: str = ""  # "title", "author", "copyright", … for front-matter lines
    page: int | None = None


def _label(kind: str, text: str) -> str:
    if kind == "title":
        return "title"
    if kind in ("heading", "label"):
        return "heading"  # guides retrieval and shows as context, never quoted as an answer
    if kind == "meta":
        found = metadata_of(text)
        return found[0] if found else "author"  # an unlabelled byline under the title
    return ""


def _pieces(text: str, offset: int, limit: int, counter: TokenCounter) -> list[tuple[int, int]]:
    # Cut an overlong sentence into windows of `limit` word pieces, at word starts.
    spans = counter.token_spans(text)
    pieces: list[tuple[int, int]] = []
    first = 0
    while first < len(spans):
        last = min(first + limit, len(spans))
        if last < len(spans):
            for cut in range(last, first + limit // 2, -1):
                if spans[cut][0] > 0 and text[spans[cut][0] - 1].isspace():
                    last = cut
                    break
        end = spans[last - 1][1]
        pieces.append((offset + spans[first][0], offset + end))
        first = last
    return pieces


def _spans_of(kind: str, text: str) -> list[tuple[int, int]]:
    # A table's units are its rows (one per line); prose is cut into sentences.
    if kind != "table":
        return split_sentences(text)
    spans: list[tuple[int, int]] = []
    start = 0
    for row in text.split("\n"):
        if row.strip():
            spans.append((start, start + len(row)))
        start += len(row) + 1
    return spans


def _units(document: Document, counter: TokenCounter, limit: int) -> list[_Unit]:
    units: list[_Unit] = []
    headings: list[tuple[int, str]] = []
    section = 0
    for start, end, kind, level in document.blocks:
        text = document.text[start:end]
        if kind == "heading" or (kind == "title" and level > 0):
            headings = [(lvl, h) for lvl, h in headings if lvl < level] + [(level, text)]
            section += 1
        path = tuple(h for _, h in headings)
        heads = 0  # the table's caption and header rows: units that head, never answer
        if kind == "table":
            lines = text.split("\n")
            heads = int("|" not in lines[0]) + level
            # They head every passage of the table, so later rows keep their context.
            path += tuple(lines[:heads])
        label = _label(kind, text)
        opening = len(units)
        spans = _spans_of(kind, text)
        for n, (a, b) in enumerate(spans):
            sentence = text[a:b]
            unit_label = "heading" if n < heads else label
            if not unit_label and kind != "table" and n + 1 < len(spans):
                # A label run into its paragraph heads the sentences after it.
                unit_label = "heading" if is_run_in_label(sentence) else ""
            count = counter.count_tokens(sentence)
            pieces = (
                [(start + a, start + b)]
                if count <= limit
                else _pieces(sentence, start + a, limit, counter)
            )
            for s, e in pieces:
                tokens = count if len(pieces) == 1 else counter.count_tokens(document.text[s:e])
                units.append(_Unit(s, e, tokens, section, path, 0, unit_label, document.page_at(s)))
        if len(units) > opening:
            units[opening].block_tokens = sum(u.tokens for u in units[opening:])
    return units


def _pack(units: Sequence[_Unit], size: int, overlap: int, limit: int) -> list[list[_Unit]]:
    groups: list[list[_Unit]] = []
    current: list[_Unit] = []
    total = 0
    for unit in units:
        # Passages never straddle a section or a PDF page, so a citation has one page.
        new_section = bool(current) and (
            unit.section != current[-1].section or unit.page != current[-1].page
        )
        overflow = total + unit.tokens > size
        # Break before a paragraph that would not fit whole: passages keep paragraphs.
        paragraph_break = total + unit.block_tokens > size
        if current and (new_section or overflow or paragraph_break):
            groups.append(current)
            carried: list[_Unit] = []
            if overlap and not new_section:
                for previous in reversed(current):
                    kept = sum(u.tokens for u in carried) + previous.tokens
                    # The overlap never takes the next passage over the model's window.
                    if kept > overlap or kept + unit.tokens > limit:
                        break
                    carried.insert(0, previous)
            current, total = carried, sum(u.tokens for u in carried)
        current.append(unit)
        total += unit.tokens
    if current:
        groups.append(current)
    return groups


def _tokens(group: Sequence[_Unit]) -> int:
    return sum(u.tokens for u in group)


def _join(first: list[_Unit], second: list[_Unit]) -> list[_Unit]:
    # Overlapping groups share units; keep each sentence once.
    return first + [u for u in second if u.start >= first[-1].end]


def _merge_tiny(groups: list[list[_Unit]], min_tokens: int, limit: int) -> list[list[_Unit]]:
    """Fold fragments under `min_tokens` into the previous passage, else the next one."""
    merged: list[list[_Unit]] = []
    pending: list[_Unit] = []
    for group in groups:
        if pending:
            if _tokens(_join(pending, group)) <= limit and pending[-1].page == group[0].page:
                group = _join(pending, group)
            else:
                merged.append(pending)
            pending = []
        if _tokens(group) < min_tokens:
            fits = merged and _tokens(_join(merged[-1], group)) <= limit
            if fits and merged[-1][-1].page == group[0].page:
                merged[-1] = _join(merged[-1], group)
            else:
                pending = group
            continue
        merged.append(group)
    if pending:
        merged.append(pending)
    return merged


def passage_id(document_id: str, text: str, occurrence: int = 0) -> str:
    """Stable id: the same document and text always give the same id."""
    digest = hashlib.sha1(f"{document_id}\x00{occurrence}\x00{text}".encode()).hexdigest()
    return digest[:16]


def chunk_document(
    document: Document,
    counter: TokenCounter,
    *,
    size: int,
    overlap: int = 0,
    min_tokens: int = 0,
) -> list[Passage]:
    """Split `document` into passages of about `size` tokens, never over the model's limit."""
    # Only sentences over the model's window are cut; a long sentence under it is
    # better kept whole in an oversized passage than split mid-clause.
    limit = counter.max_tokens
    units = _units(document, counter, limit)
    groups = _merge_tiny(_pack(units, min(size, limit), overlap, limit), min_tokens, limit)
    passages: list[Passage] = []
    seen: dict[str, int] = {}
    for group in groups:
        start, end = group[0].start, group[-1].end
        text = document.text[start:end]
        occurrence = seen.get(text, 0)
        seen[text] = occurrence + 1
        page = document.page_at(start)
        passages.append(
            Passage(
                id=passage_id(document.id, text, occurrence),
                document_id=document.id,
                title=document.title,
                source=document.source,
                page=page,
                page_label=document.label_of(page),
                ocr=page is not None and page in document.ocr_pages,
                headings=list(group[0].headings),
                start=start,
                end=end,
                text=text,
                sentences=[(u.start - start, u.end - start) for u in group],
                labels=[u.label for u in group] if any(u.label for u in group) else [],
            )
        )
    return passages
