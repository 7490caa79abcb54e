"""The taxonomy file: the default, a corpus `fields.toml`, QA_FIELDS_FILE, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.config import load_settings
from qa.errors import TaxonomyError
from qa.fields.taxonomy import load_taxonomy, parse_taxonomy

DEFAULT_IDS = [
    "critical_minerals",
    "battery_technology",
    "standards",
    "hydrogen",
    "autonomous_driving",
    "semiconductors",
    "supply_chain_investment",
    "public_private_platforms",
]
SMALL = """threshold = 0.6
[[field]]
id = "water"
label = "Water"
description = "Water supply and sanitation."
seeds = ["water", "sanitation"]
"""


def test_taxonomy_default_has_the_issue_field_ids(tmp_path: Path) -> None:
    taxonomy = load_taxonomy(load_settings(corpus_dir=tmp_path))
    assert [f.id for f in taxonomy.fields] == DEFAULT_IDS
    assert taxonomy.source == "default"
    assert all(f.label and f.description and f.seeds for f in taxonomy.fields)
    assert 0 < taxonomy.threshold < 1


def test_taxonomy_corpus_file_replaces_the_default(tmp_path: Path) -> None:
    (tmp_path / "fields.toml").write_text(SMALL, encoding="utf-8")
    taxonomy = load_taxonomy(load_settings(corpus_dir=tmp_path))
    assert [f.id for f in taxonomy.fields] == ["water"]
    assert taxonomy.threshold == 0.6 and taxonomy.seed_weight == 0.25
    assert taxonomy.source.endswith("fields.toml")


def test_taxonomy_env_file_wins_and_digest_follows_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = tmp_path / "mine.toml"
    chosen.write_text(SMALL, encoding="utf-8")
    monkeypatch.setenv("QA_FIELDS_FILE", str(chosen))
    first = load_taxonomy(load_settings(corpus_dir=tmp_path))
    assert [f.id for f in first.fields] == ["water"]
    chosen.write_text(SMALL.replace("0.6", "0.7"), encoding="utf-8")
    assert load_taxonomy(load_settings(corpus_dir=tmp_path)).digest != first.digest


def test_taxonomy_missing_env_file_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QA_FIELDS_FILE", str(tmp_path / "absent.toml"))
    with pytest.raises(TaxonomyError, match="QA_FIELDS_FILE"):
        load_taxonomy(load_settings(corpus_dir=tmp_path))


@pytest.mark.parametrize(
    "text,line,problem",
    [
        ('[[field]]\nid = "a"\nlabel = "A\n', 3, "not valid TOML"),
        (
            '[[field]]\nid = "a"\nlabel = "A"\ndescription = "d"\n\n[[field]]\nid = "a"\n'
            'label = "B"\ndescription = "e"\n',
            6,
            "defined twice",
        ),
        ('[[field]]\nid = "a"\nlabel = "A"\n', 1, "non-empty string `description`"),
        ('[[field]]\nid = "Bad Id"\nlabel = "A"\ndescription = "d"\n', 1, "lower_snake_case"),
        ('[[field]]\nid = "a"\nlabel = "A"\ndescription = "d"\nseeds = "x"\n', 1, "list"),
        ('[[field]]\nid = "a"\nlabel = "A"\ndescription = "d"\ncolour = "red"\n', 1, "colour"),
        (
            'threshold = "high"\n[[field]]\nid = "a"\nlabel = "A"\ndescription = "d"\n',
            1,
            "must be a number",
        ),
        ("title = 'x'\n", 1, "unknown key"),
        ("", 1, "no [[field]] tables"),
    ],
)
def test_taxonomy_malformed_file_names_file_line_and_problem(
    text: str, line: int, problem: str
) -> None:
    with pytest.raises(TaxonomyError) as info:
        parse_taxonomy(text, "corpus/fields.toml")
    message = str(info.value)
    assert message.startswith(f"corpus/fields.toml, line {line}:"), message
    assert problem in message
    assert info.value.remedy
