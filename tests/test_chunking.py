"""Chunking invariants: exact offsets, token limit, stable ids, structure and merging."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SEED

from qa.chunking import (
    chunk_document,
    is_run_in_label,
    is_title_line,
    run_in_heading,
    split_sentences,
)
from qa.ingest.corpus import read_document


def _doc(tmp_path: Path, name: str, text: str):
    (tmp_path / name).write_text(text, encoding="utf-8")
    return read_document(tmp_path / name, tmp_path)


@pytest.mark.parametrize("size,overlap", [(160, 0), (64, 16), (32, 8)])
def test_chunking_offsets_reproduce_text_and_respect_token_limit(
    embedder, size: int, overlap: int
) -> None:
    document = read_document(SEED, SEED.parent)
    passages = chunk_document(document, embedder, size=size, overlap=overlap, min_tokens=8)
    assert passages
    for p in passages:
        assert document.text[p.start : p.end] == p.text
        assert embedder.count_tokens(p.text) <= embedder.max_tokens
        for a, b in p.sentences:
            assert p.text[a:b].strip() == p.text[a:b] and p.text[a:b]
    covered = "".join(document.text[p.start : p.end] for p in passages)
    assert all(word in covered for word in document.text.split())


def test_chunking_splits_sentences_longer_than_model_window(embedder, tmp_path: Path) -> None:
    long_sentence = " ".join(f"clause{i} about data retention" for i in range(200)) + "."
    document = _doc(tmp_path, "long.txt", f"Title\n\n{long_sentence}")
    passages = chunk_document(document, embedder, size=160)
    assert len(passages) > 2
    assert max(embedder.count_tokens(p.text) for p in passages) <= embedder.max_tokens
    assert "clause199" in passages[-1].text


def test_chunking_overlap_never_takes_a_passage_over_the_window(
    fake_embedder, tmp_path: Path
) -> None:
    # 6 tokens, then 35: carrying the first as overlap would make a 41-token passage.
    text = "Six tokens are said here. Then " + " ".join(f"w{i}" for i in range(33)) + "."
    document = _doc(tmp_path, "doc.txt", text)
    passages = chunk_document(document, fake_embedder, size=32, overlap=8, min_tokens=4)
    assert [fake_embedder.count_tokens(p.text) for p in passages] == [6, 35]
    assert all(document.text[p.start : p.end] == p.text for p in passages)


def test_chunking_ids_are_stable(fake_embedder, tmp_path: Path) -> None:
    text = "Title\n\n" + "\n\n".join(
        f"Paragraph {i} says something specific about topic {i}." for i in range(12)
    )
    first = chunk_document(_doc(tmp_path, "a.txt", text), fake_embedder, size=30)
    again = chunk_document(_doc(tmp_path, "a.txt", text), fake_embedder, size=30)
    assert [p.id for p in first] == [p.id for p in again]
    edited = chunk_document(
        _doc(tmp_path, "a.txt", text.replace("topic 11", "topic eleven")), fake_embedder, size=30
    )
    assert [p.id for p in edited][:-1] == [p.id for p in first][:-1]
    assert edited[-1].id != first[-1].id


def test_chunking_follows_headings(fake_embedder, tmp_path: Path) -> None:
    md = "# Guide\n\n## Batteries\n\nCells must be recycled.\n\n## Charging\n\nPlugs use CCS2 everywhere in the union."
    passages = chunk_document(_doc(tmp_path, "g.md", md), fake_embedder, size=200, min_tokens=0)
    charging = next(p for p in passages if "CCS2" in p.text)
    assert charging.headings == ["Guide", "Charging"]
    assert "recycled" not in charging.text


def test_chunking_merges_tiny_fragments(fake_embedder, tmp_path: Path) -> None:
    text = "Title here\n\nA long enough paragraph with many many words in it to stand alone as one.\n\nOk."
    passages = chunk_document(_doc(tmp_path, "t.txt", text), fake_embedder, size=20, min_tokens=5)
    assert not any(p.text == "Ok." for p in passages)
    assert passages[-1].text.endswith("Ok.")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The U.S. and Mr. Smith met. Then they left.",
            ["The U.S. and Mr. Smith met.", "Then they left."],
        ),
        (
            "Costs rose 3.5 percent. See Fig. 2 for details.",
            ["Costs rose 3.5 percent.", "See Fig. 2 for details."],
        ),
        ('Is it? Yes! "Quoted." Done', ["Is it?", "Yes!", '"Quoted."', "Done"]),
        (
            "His ideas came out in 1795 (Vol. 1, Vol. 2). The critics (e.g. Kirwan) objected.",
            ["His ideas came out in 1795 (Vol. 1, Vol. 2).", "The critics (e.g. Kirwan) objected."],
        ),
    ],
)
def test_split_sentences_handles_abbreviations(text: str, expected: list[str]) -> None:
    assert [text[a:b] for a, b in split_sentences(text)] == expected


@pytest.mark.parametrize(
    ("sentence", "heading"),
    [
        ("CONFIDENTIALITY AND SECURITY We limit access to staff.", "CONFIDENTIALITY AND SECURITY "),
        ("WHAT THIS POLICY COVERS Acme takes privacy seriously.", "WHAT THIS POLICY COVERS "),
        ("US EV Makers face tariffs.", ""),  # two words in capitals are acronyms
        ("The EU AND US OFFICIALS met.", ""),  # not at the start
        ("MGM RESORTS INTERNATIONAL AND SUBSIDIARIES", ""),  # a caption: no sentence follows
        ("NET CASH FROM Operations | 1,204 | 998", ""),  # a table row's label
        # Title case: up to the last capitalised sentence opener, or a dash.
        (
            "How Yahoo Uses Your Personal Information This policy covers how.",
            "How Yahoo Uses Your Personal Information ",
        ),
        (
            "Personally Identifiable Information As a general matter, you can.",
            "Personally Identifiable Information ",
        ),
        (
            "Other Important Information How Your Information Is Secured We take care.",
            "Other Important Information How Your Information Is Secured ",
        ),
        (
            "Collection of Information From or Through Social Media Sites In addition, we.",
            "Collection of Information From or Through Social Media Sites ",
        ),
        (
            "Will The Motley Fool Disclose Any of Your Information- The Motley Fool will not.",
            "Will The Motley Fool Disclose Any of Your Information- ",
        ),
        ("Your Choices You can opt out.", "Your Choices "),
        ("The San Francisco Bay Area last hosted in 1985.", ""),  # names lead a sentence
        ("The Trade and Technology Council established through this cooperation.", ""),
        ("The Computer Science Network (CSNET) was a computer network.", ""),
        ("A Doctor Who Prom was celebrated on 27 July 2008.", ""),
        ("Thailand, Indonesia, and Vietnam attract foreign investment.", ""),
        ("Under Plan A the government pays.", ""),
    ],
)
def test_run_in_heading_is_the_capitals_before_the_first_sentence(
    sentence: str, heading: str
) -> None:
    assert sentence[: run_in_heading(sentence)] == heading


@pytest.mark.parametrize(
    ("sentence", "title"),
    [
        ("Exceptions To Written Authorization Requirement.", True),
        ("B. Personally Identifiable Information.", True),
        ("As Required By Law.", True),
        ("This is Non-Personally Identifiable Information.", False),  # a sentence
        ("They are: Exception For Treatment.", False),
        ("Japan.", False),  # one word: not enough to tell
        ("The EU and the US agreed.", False),
    ],
)
def test_is_title_line_is_a_heading_set_as_a_sentence(sentence: str, title: bool) -> None:
    assert is_title_line(sentence) is title


@pytest.mark.parametrize(
    ("sentence", "label"),
    [
        ("Contact information.", True),
        ("Payment and billing information.", True),
        ("Treatment.", True),
        ("Non-personal information.", True),
        ("Warner was right.", False),  # a verb
        ("Yahoo takes your privacy seriously.", False),  # a pronoun
        ("Prices rose sharply.", False),  # an adverb
        ("Japan agreed on Tuesday.", False),  # a preposition
        ("The EU and the US.", False),
        ("Contact information", False),  # no full stop: a heading, found elsewhere
        ("Information about the cookies we use and how to turn them off.", False),
        ("FY2023.", False),
    ],
)
def test_is_run_in_label_is_a_short_phrase_without_a_verb(sentence: str, label: bool) -> None:
    assert is_run_in_label(sentence) is label


def test_chunking_marks_a_label_run_into_its_paragraph(fake_embedder, tmp_path: Path) -> None:
    text = (
        "We collect information from and about you. Contact information. For example, we "
        "might collect your name and street address.\n\nDemographic information. We may "
        "collect information about events you like.\n\nSee our partners.\n\nCookies."
    )
    labelled = {
        sentence: label
        for passage in chunk_document(_doc(tmp_path, "p.txt", text), fake_embedder, size=200)
        for sentence, label in zip(
            passage.sentence_texts(),
            passage.labels or [""] * len(passage.sentences),
            strict=True,
        )
    }
    assert labelled["Contact information."] == "heading"
    assert labelled["Demographic information."] == "heading"
    # Sentences, and a phrase ending its paragraph (no sentences follow it to head), stay.
    assert labelled["For example, we might collect your name and street address."] == ""
    assert labelled["See our partners."] == "" and labelled["Cookies."] == ""
