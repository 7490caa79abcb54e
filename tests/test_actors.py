"""Actors: gazetteer names, aliases, demonyms, blocs with members, typo-tolerant lookup."""

from __future__ import annotations

import pytest
from conftest import SEED

from qa.actors import actor, all_actors, find_actors, related_ids, resolve_actor
from qa.errors import QAError, UnknownActorError


@pytest.mark.parametrize(
    "name,expected",
    [
        ("Korean government", "kor"),
        ("South Korea", "kor"),
        ("Republic of Korea", "kor"),
        ("Korea", "kor"),
        ("North Korea", "prk"),
        ("the US", "usa"),
        ("U.S.", "usa"),
        ("the U.S.", "usa"),
        ("United States", "usa"),
        ("United States of America", "usa"),
        ("America", "usa"),
        ("American", "usa"),
        ("Japanese", "jpn"),
        ("Taiwanese", "twn"),
        ("Taiwan", "twn"),
        ("Philippines", "phl"),
        ("Filipino", "phl"),
        ("Indian", "ind"),
        ("Chinese", "chn"),
        ("Viet Nam", "vnm"),
        ("vietnam", "vnm"),
        ("Turkey", "tur"),
        ("EU", "eu"),
        ("the European Union", "eu"),
        ("ASEAN", "asean"),
        ("G7", "g7"),
        ("United Nations", "un"),
        ("UN", "un"),
        ("ISO", "iso"),
        ("kor", "kor"),
    ],
)
def test_actors_resolve_names_aliases_and_demonyms(name: str, expected: str) -> None:
    found = resolve_actor(name)
    assert found is not None and found.id == expected


@pytest.mark.parametrize(
    "typo,expected", [("Philipines", "phl"), ("Indonesa", "idn"), ("Austrailia", "aus")]
)
def test_actors_resolve_tolerates_typos(typo: str, expected: str) -> None:
    found = resolve_actor(typo)
    assert found is not None and found.id == expected
    assert resolve_actor(typo, fuzzy=False) is None


@pytest.mark.parametrize("name", ["Irna", "USS", "states", "government", "countries", "xyzzy", ""])
def test_actors_resolve_never_fuzzes_short_or_common_words(name: str) -> None:
    assert resolve_actor(name) is None


def test_actors_find_in_seed_text_in_order_with_offsets() -> None:
    text = SEED.read_text(encoding="utf-8")
    mentions = find_actors(text)
    for m in mentions:
        assert text[m.start : m.end] == m.surface
    assert [m.start for m in mentions] == sorted(m.start for m in mentions)
    ids = [m.actor_id for m in mentions]
    assert ids[:5] == ["eu", "usa", "jpn", "kor", "asean"]
    assert {"aus", "ind", "tha", "idn", "vnm", "phl", "chn", "twn", "un"} <= set(ids)
    # "North America" is a region, not the United States; "ISO 34501" is a standard.
    assert not any(m.surface == "America" for m in mentions)
    assert "iso" not in ids


def test_actors_longest_match_wins_and_words_must_be_whole() -> None:
    text = "South Korea and North Korea met; Chinese Taipei joined. Indiana and USB are not actors."
    mentions = find_actors(text)
    assert [(m.actor_id, m.surface) for m in mentions] == [
        ("kor", "South Korea"),
        ("prk", "North Korea"),
        ("twn", "Chinese Taipei"),
    ]


def test_actors_pronoun_us_is_not_the_united_states() -> None:
    assert find_actors("Let us cooperate with them.") == []
    assert [m.actor_id for m in find_actors("Japan and the U.S. signed.")] == ["jpn", "usa"]


def test_actors_blocs_have_members_and_related_ids_go_both_ways() -> None:
    asean = actor("asean")
    assert asean.kind == "bloc"
    assert {"phl", "idn", "tha", "vnm", "mys", "sgp"} <= set(asean.members)
    assert "phl" in related_ids("asean")
    assert "asean" in related_ids("phl")
    assert "eu" in related_ids("deu") and "deu" in related_ids("eu")
    assert related_ids("twn") >= {"twn"}
    assert "eu" not in related_ids("usa")


def test_actors_countries_come_from_the_gazetteer() -> None:
    countries = [a for a in all_actors() if a.kind == "country"]
    assert len(countries) > 240  # every ISO 3166 country, not a hand-written list
    assert actor("KOR").name == "South Korea"
    assert all(a.id == a.id.lower() and len(a.id) == 3 for a in countries)
    assert actor("un").kind == "organisation"


def test_actors_unknown_id_raises_qa_error() -> None:
    with pytest.raises(UnknownActorError) as info:
        actor("atlantis")
    assert isinstance(info.value, QAError) and info.value.remedy
