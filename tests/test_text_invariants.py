"""Invariants of the normaliser and the chunker on arbitrary text (hypothesis): a file either
reads or is refused with a clear error, its passages' offsets reproduce the text, no passage
is over the token limit, and sentence spans are trimmed, ordered and inside their passage."""

from __future__ import annotations

import tempfile
from pathlib import Path

from conftest import FakeEmbedder
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from qa.chunking import chunk_document, split_sentences
from qa.errors import DocumentParseError
from qa.ingest.corpus import read_document
from qa.ingest.normalize import clean_text

# Words, punctuation, abbreviations, whitespace of every kind, control and odd characters.
PIECES = st.sampled_from(
    ["Policy", "the EU", "U.S.", "e.g.", "Dr.", "42", "3.5%", "-\n", "\n\n", "\r\n", "\t", " ",
     ". ", "? ", "! ", "…", "“quoted”", "# Heading\n", "- item\n", "\x00", "\x1e", "\u200b",
     "\ufeff", "ﬁ", "Ⅻ", "\\$5", "国际合作", "é"]
)  # fmt: skip
TEXTS = st.one_of(
    st.lists(st.one_of(PIECES, st.text(max_size=12)), max_size=80).map("".join),
    st.text(max_size=400),
)
EMBEDDER = FakeEmbedder()  # 40-token window: the limit is reached often


def _read(text: str, suffix: str):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"doc{suffix}"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            return read_document(path, Path(folder))
        except DocumentParseError as exc:
            assert exc.message.startswith("doc")  # names the file, says why
            return None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS, st.sampled_from([".txt", ".md", ".html"]), st.sampled_from([(16, 0), (32, 8)]))
def test_chunk_offsets_reproduce_text_and_respect_the_token_limit(
    text: str, suffix: str, size_overlap: tuple[int, int]
) -> None:
    document = _read(text, suffix)
    if document is None:
        return
    size, overlap = size_overlap
    passages = chunk_document(document, EMBEDDER, size=size, overlap=overlap, min_tokens=4)
    for passage in passages:
        assert document.text[passage.start : passage.end] == passage.text
        assert EMBEDDER.count_tokens(passage.text) <= EMBEDDER.max_tokens
        previous_end = 0
        for a, b in passage.sentences:
            assert previous_end <= a < b <= len(passage.text)
            assert passage.text[a:b] == passage.text[a:b].strip()
            previous_end = b
    # Nothing is lost: every non-space character of the text is inside some passage.
    covered = set()
    for passage in passages:
        covered.update(range(passage.start, passage.end))
    assert all(i in covered for i, c in enumerate(document.text) if not c.isspace())


@settings(max_examples=300, deadline=None)
@given(TEXTS)
@example("\\\\$5")  # an escaped backslash before "$": not unescaped on a second cleaning
def test_clean_text_leaves_no_control_characters_and_is_stable(text: str) -> None:
    cleaned = clean_text(text)
    assert not any(ord(c) < 32 and c not in "\n\t" for c in cleaned)
    assert "\r" not in cleaned
    assert clean_text(cleaned) == cleaned


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_sentence_spans_are_ordered_trimmed_and_cover_every_word(text: str) -> None:
    spans = split_sentences(text)
    end = 0
    for a, b in spans:
        assert end <= a < b <= len(text)
        assert text[a:b] == text[a:b].strip()
        end = b
    assert " ".join(text[a:b] for a, b in spans).split() == text.split()
