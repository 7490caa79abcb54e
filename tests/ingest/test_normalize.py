"""Normalisation and file reading: page breaks, escapes, hyphenation, encodings, metadata."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SEED

from qa.errors import DocumentParseError
from qa.ingest.corpus import read_document
from qa.ingest.markdown import blocks_from_markdown
from qa.ingest.normalize import (
    blocks_from_plain_text,
    clean_text,
    join_broken_paragraphs,
    metadata_of,
)


@pytest.fixture(scope="module")
def seed_document():
    return read_document(SEED, SEED.parent)


def test_normalize_joins_paragraph_split_by_page_break(seed_document) -> None:
    assert "more than 15 global standards and revitalize the hydrogen economy" in seed_document.text
    assert "more than 15\n" not in seed_document.text


def test_normalize_unescapes_dollar_sign(seed_document) -> None:
    assert "launching a $10 billion budget" in seed_document.text
    assert "\\$" not in seed_document.text


def test_normalize_rejoins_hyphenated_words() -> None:
    assert clean_text("interna-\ntional cooperation") == "international cooperation"
    # A real hyphen before a capitalised word on the next line is kept.
    assert "-\nEU" in clean_text("pre-\nEU")


def test_normalize_keeps_sentence_end_before_lowercase_paragraph_apart() -> None:
    blocks = join_broken_paragraphs(blocks_from_plain_text("It ended.\n\nand this starts anew"))
    assert [b.text for b in blocks] == ["It ended.", "and this starts anew"]


def test_normalize_recognises_title_and_metadata(seed_document) -> None:
    assert (
        seed_document.title == "Key Fields of International Cooperation in the New Vehicle Industry"
    )
    assert seed_document.metadata["author"] == "Wu, Yu-Yin"
    assert "Chung-Hua Institution for Economic Research 2024" in seed_document.metadata["copyright"]
    kinds = [kind for _, _, kind, _ in seed_document.blocks]
    assert kinds[:2] == ["title", "meta"] and kinds[-1] == "meta"
    # metadata stays in the searchable text
    assert "Wu, Yu-Yin" in seed_document.text


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("By Jane Doe, Senior Fellow", ("author", "Jane Doe, Senior Fellow")),
        ("Written by: J. Smith", ("author", "J. Smith")),
        ("Written by J. Smith and A. N. Other.", ("author", "J. Smith and A. N. Other.")),
        ("By Jane Doe, senior fellow at CIER", ("author", "Jane Doe, senior fellow at CIER")),
        ("By Monday, the ministry must publish its list.", None),
        (
            "Prepared by the Ministry of Economic Affairs",
            ("author", "the Ministry of Economic Affairs"),
        ),
        ("By the way, the EU funds hydrogen corridors.", None),
        (
            "Published by the Policy Desk, 12 March 2024",
            ("publisher", "the Policy Desk, 12 March 2024"),
        ),
        ("Published by the Ministry in 2020, the plan sets targets for 2030.", None),
        ("By 2031, batteries must carry a passport.", None),
        ("By contrast, the EU funds hydrogen corridors.", None),
    ],
)
def test_metadata_byline_names_someone(line: str, expected: tuple[str, str] | None) -> None:
    assert metadata_of(line) == expected


def test_normalize_blocks_index_the_text(seed_document) -> None:
    for start, end, _, _ in seed_document.blocks:
        assert seed_document.text[start:end].strip() == seed_document.text[start:end]


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        ("Café policy: naïve data rules for señor Müller.", "latin-1"),
        ("Политика конфиденциальности и защита данных пользователей сайта.", "cp1251"),
    ],
)
def test_ingest_decodes_non_utf8_text(tmp_path: Path, raw: str, encoding: str) -> None:
    path = tmp_path / "legacy.txt"
    path.write_bytes((raw + "\n\n" + raw).encode(encoding))
    document = read_document(path, tmp_path)
    assert raw in document.text


def test_ingest_unicode_is_nfkc_normalised(tmp_path: Path) -> None:
    (tmp_path / "u.txt").write_text("The ﬁnal\u00a0report\u200b is here.", encoding="utf-8")
    assert read_document(tmp_path / "u.txt", tmp_path).text == "The final report is here."


def test_markdown_headings_and_inline_markup() -> None:
    blocks = blocks_from_markdown(
        "# Title\n\nSome **bold** [link](http://x) text.\n\n## Part\n\nBody."
    )
    assert [(b.kind, b.text, b.level) for b in blocks] == [
        ("heading", "Title", 1),
        ("paragraph", "Some bold link text.", 0),
        ("heading", "Part", 2),
        ("paragraph", "Body.", 0),
    ]


def test_html_keeps_visible_text_only(tmp_path: Path) -> None:
    (tmp_path / "p.html").write_text(
        "<html><head><title>Charging Rules</title><style>p{color:red}</style>"
        "<script>var secret = 1;</script></head><body><nav>Home | About</nav>"
        "<h1>Charging Rules</h1><p>Chargers must follow <b>ISO 15118</b>.</p>"
        "<footer>Cookie banner</footer></body></html>"
    )
    document = read_document(tmp_path / "p.html", tmp_path)
    assert document.title == "Charging Rules"
    assert "Chargers must follow ISO 15118." in document.text
    for hidden in ("secret", "color:red", "Home | About", "Cookie banner"):
        assert hidden not in document.text


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.md", b"  \n\n ", "empty"),
        ("binary.txt", b"\x00\x01\x02\xff" * 100, "binary"),
        ("corrupt.pdf", b"%PDF-1.4\n garbage that is not a pdf", "PDF"),
        ("fake.pdf", b"just text with a pdf name", "not a PDF"),
        ("data.csv", b"a,b\n1,2", "unsupported"),
        ("marked.html", b"<p>Charging rules <![0 apply.</p>", "HTML parser rejected"),
    ],
)
def test_ingest_rejects_bad_files_with_reason(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(DocumentParseError, match=reason) as info:
        read_document(tmp_path / name, tmp_path)
    assert name in str(info.value)


def test_ingest_rejects_huge_file(tmp_path: Path) -> None:
    (tmp_path / "huge.txt").write_text("word " * 5000)
    with pytest.raises(DocumentParseError, match="limit"):
        read_document(tmp_path / "huge.txt", tmp_path, max_bytes=10_000)


def test_pdf_pages_are_kept(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    for text in ("Battery passports start in 2027.", "Hydrogen stations need common standards."):
        pdf.add_page()
        pdf.set_font("helvetica", size=12)
        pdf.multi_cell(0, 10, text)
    pdf.output(str(tmp_path / "two.pdf"))
    document = read_document(tmp_path / "two.pdf", tmp_path)
    assert document.format == "pdf" and len(document.page_starts) == 2
    assert document.page_at(document.text.index("Hydrogen")) == 2
    assert document.page_at(document.text.index("Battery")) == 1


def test_markdown_blocks_lists_code_html_and_escapes() -> None:
    blocks = blocks_from_markdown(
        "Setext title\n============\n\n- item *one*\n- item two\n\n"
        "> Quoted text.\n\n```\nrun --fast\n```\n\n<div>Raw <b>HTML</b> text</div>\n\n"
        "Not \\*emphasis\\*, but `code` and ![a chart](c.png)."
    )
    assert [(b.kind, b.text, b.level) for b in blocks] == [
        ("heading", "Setext title", 1),
        ("paragraph", "item one", 0),
        ("paragraph", "item two", 0),
        ("paragraph", "Quoted text.", 0),
        ("paragraph", "run --fast", 0),
        ("paragraph", "Raw HTML text", 0),
        ("paragraph", "Not *emphasis*, but code and a chart.", 0),
    ]


def test_markdown_table_is_one_block_with_a_row_per_line() -> None:
    blocks = blocks_from_markdown(
        "## Balance sheet\n\n| Item | 2023 | 2022 |\n|:---|---:|---|\n"
        "| **Total assets** | 411,976 | 364,840 |\n| Debt \\| notes | 1 | |\n\nAfter."
    )
    assert [(b.kind, b.text) for b in blocks] == [
        ("heading", "Balance sheet"),
        ("table", "Item | 2023 | 2022\nTotal assets | 411,976 | 364,840\nDebt / notes | 1 |"),
        ("paragraph", "After."),
    ]
    assert blocks[1].level == 1  # its first row heads the columns


def test_html_data_table_is_one_block_with_its_caption(tmp_path: Path) -> None:
    (tmp_path / "t.html").write_text(
        "<html><body><h1>Annual report</h1><h2>Balance sheet</h2><table><caption>In millions</caption>"
        "<thead><tr><th>Item</th><th>2023</th><th>2022</th></tr></thead><tbody>"
        "<tr><td>Total <b>assets</b></td><td>411,976</td><td>364,840</td></tr>"
        "<tr><td> </td><td></td><td></td></tr>"
        "<tr><td>Debt | notes</td><td>1</td><td></td></tr></tbody></table>"
        "<p>After the table.</p></body></html>"
    )
    document = read_document(tmp_path / "t.html", tmp_path)
    kinds = [(kind, document.text[a:b]) for a, b, kind, _ in document.blocks]
    assert [level for _, _, kind, level in document.blocks if kind == "table"] == [1]  # <th> row
    assert kinds == [
        ("title", "Annual report"),
        ("heading", "Balance sheet"),
        (
            "table",
            "In millions\nItem | 2023 | 2022\nTotal assets | 411,976 | 364,840\nDebt / notes | 1 |",
        ),
        ("paragraph", "After the table."),
    ]


def test_html_layout_table_is_read_as_the_page(tmp_path: Path) -> None:
    (tmp_path / "l.html").write_text(
        "<html><body><table><tr><td><h1>Charging Rules</h1><p>Chargers must follow ISO "
        "15118.</p></td><td><p>Grants start in 2025.</p></td></tr></table>"
        "<table><tr><td>Only one cell of text.</td></tr></table></body></html>"
    )
    document = read_document(tmp_path / "l.html", tmp_path)
    kinds = [(kind, document.text[a:b]) for a, b, kind, _ in document.blocks]
    assert ("title", "Charging Rules") in kinds
    assert ("paragraph", "Chargers must follow ISO 15118.") in kinds
    assert ("paragraph", "Grants start in 2025.") in kinds
    assert ("paragraph", "Only one cell of text.") in kinds
    assert all(kind != "table" for kind, _ in kinds)


def test_markdown_bold_lead_in_that_ends_a_sentence_is_a_label() -> None:
    blocks = blocks_from_markdown(
        "- **Battery passport.** From 2027 every EV battery needs one.\n"
        "- **Carbon footprint**. EV batteries declare it from 2025.\n"
        "- **Note:** the dates may move.\n"
        "- **Author:** Jane Doe\n\n"
        "**Only** cars count.\n\n**A paragraph all in bold.**\n"
    )
    assert [(b.kind, b.text) for b in blocks] == [
        ("label", "Battery passport."),
        ("paragraph", "From 2027 every EV battery needs one."),
        ("label", "Carbon footprint."),
        ("paragraph", "EV batteries declare it from 2025."),
        ("paragraph", "Note: the dates may move."),  # runs on into its sentence
        ("paragraph", "Author: Jane Doe"),  # a metadata line stays whole
        ("paragraph", "Only cars count."),
        ("paragraph", "A paragraph all in bold."),
    ]


def test_html_bold_lead_in_is_a_label_and_nothing_is_lost(tmp_path: Path) -> None:
    (tmp_path / "b.html").write_text(
        "<html><body><h1>Battery rules</h1><ul>"
        "<li> <strong>Battery passport.</strong> From 2027 every battery needs one.</li>"
        "<li><b>Recycled content.</b> By 2031, <a href='#'>16% cobalt</a> is recycled.</li>"
        "<li><b>Only</b> cars count.</li></ul></body></html>"
    )
    document = read_document(tmp_path / "b.html", tmp_path)
    kinds = [(kind, document.text[a:b]) for a, b, kind, _ in document.blocks]
    assert kinds == [
        ("title", "Battery rules"),
        ("label", "Battery passport."),
        ("paragraph", "From 2027 every battery needs one."),
        ("label", "Recycled content."),
        ("paragraph", "By 2031, 16% cobalt is recycled."),
        ("paragraph", "Only cars count."),
    ]
