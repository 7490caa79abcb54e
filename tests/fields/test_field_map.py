"""The field map of the seed article, checked by hand against corpus/*.txt: the cells the
text states (with their quotes and partners), none it does not, verbatim offsets, filters."""

from __future__ import annotations

import pytest

from qa.errors import NotFoundError, UnknownActorError, UnknownFieldError
from qa.models import FieldMap
from qa.service import QAService

# (actor, field): a phrase of the quoted sentence that states it.
STATED = {
    ("eu", "critical_minerals"): "Critical Raw Materials Club",
    ("usa", "critical_minerals"): "Critical Raw Materials Club",
    ("eu", "battery_technology"): "strengthened cooperation in battery technology",
    ("usa", "battery_technology"): "strengthened cooperation in battery technology",
    ("eu", "standards"): "unified standards for EV charging and power grids",
    ("usa", "standards"): "unified standards for EV charging and power grids",
    ("jpn", "critical_minerals"): "ensures the supply of mineral resources",
    ("jpn", "battery_technology"): "solid-state battery technology",
    ("jpn", "standards"): "internationalization of Japanese domestic standards",
    ("jpn", "autonomous_driving"): "autonomous driving technology",
    ("jpn", "supply_chain_investment"): "expanding overseas markets",
    ("kor", "critical_minerals"): "cooperating with Australia and India",
    ("kor", "supply_chain_investment"): "final assembly of vehicles",
    ("kor", "standards"): "hydrogen economy standards forum",
    ("kor", "hydrogen"): "hydrogen economy standards forum",
    ("kor", "public_private_platforms"): "public-private joint platforms",
    ("tha", "supply_chain_investment"): "attract foreign investment",
    ("idn", "supply_chain_investment"): "attract foreign investment",
    ("vnm", "supply_chain_investment"): "attract foreign investment",
    ("phl", "battery_technology"): "develop the EV battery supply chain",
    ("ind", "supply_chain_investment"): "localization of the EV supply chain",
    ("ind", "semiconductors"): "semiconductor projects",
    ("chn", "standards"): "ISO 34501",
    ("chn", "autonomous_driving"): "autonomous driving test scenarios",
    ("twn", "public_private_platforms"): "public-private sector platform",
    ("twn", "supply_chain_investment"): "diversify market",
}
# Pairs the text does not state (a nearby sentence would make them easy to get wrong).
NOT_STATED = [
    ("tha", "battery_technology"),  # the Philippines' clause, not Thailand's
    ("idn", "battery_technology"),
    ("kor", "battery_technology"),  # raw materials for battery chains: minerals only
    ("chn", "hydrogen"),  # the Korean hydrogen sentence is not China's
    ("usa", "semiconductors"),  # India's project; the US is its partner
    ("asean", "supply_chain_investment"),  # ASEAN only "develops the industry"
    ("ind", "critical_minerals"),  # India is Korea's partner there, not a subject
    ("aus", "critical_minerals"),
    ("twn", "standards"),  # fuel consumption standards are a domestic rule
    ("un", "standards"),
    ("iso", "standards"),
]
PARTNERS = {
    ("kor", "critical_minerals"): ["aus", "ind"],
    ("kor", "supply_chain_investment"): ["usa"],
    ("ind", "semiconductors"): ["usa"],
    ("twn", "public_private_platforms"): ["eu", "usa", "jpn", "asean"],
    ("phl", "battery_technology"): ["asean"],
    ("chn", "autonomous_driving"): [],
}


@pytest.fixture(scope="module")
def seed_map(seed_service: QAService) -> FieldMap:
    return seed_service.fields()


def _cells(field_map: FieldMap) -> dict[tuple[str, str], object]:
    return {(c.actor, c.field): c for c in field_map.cells}


@pytest.mark.parametrize("pair", sorted(STATED))
def test_field_map_seed_has_each_stated_cell_with_its_quote(
    seed_map: FieldMap, pair: tuple[str, str]
) -> None:
    cell = _cells(seed_map).get(pair)
    assert cell is not None, f"missing cell {pair}"
    assert any(STATED[pair] in c.quote for c in cell.citations), [c.quote for c in cell.citations]


@pytest.mark.parametrize("pair", NOT_STATED)
def test_field_map_seed_has_no_cell_the_text_does_not_state(
    seed_map: FieldMap, pair: tuple[str, str]
) -> None:
    assert pair not in _cells(seed_map)


def test_field_map_seed_cells_are_all_checked_by_hand(seed_map: FieldMap) -> None:
    # Beyond the pinned cells only these defensible readings may appear.
    extra = set(_cells(seed_map)) - set(STATED)
    assert extra <= {("phl", "critical_minerals"), ("chn", "supply_chain_investment")}, extra


@pytest.mark.parametrize("pair,partners", sorted(PARTNERS.items()))
def test_field_map_seed_partners_are_the_named_counterparts(
    seed_map: FieldMap, pair: tuple[str, str], partners: list[str]
) -> None:
    assert _cells(seed_map)[pair].partners == partners


def test_field_map_quotes_are_verbatim_with_offsets(
    seed_map: FieldMap, seed_service: QAService
) -> None:
    for cell in seed_map.cells:
        for c in cell.citations:
            text = seed_service.document(c.document_id).text
            assert c.quote_start is not None and c.quote_end is not None
            assert text[c.quote_start : c.quote_end] == c.quote
            assert c.start <= c.quote_start < c.quote_end <= c.end
            assert c.text[c.quote_start - c.start : c.quote_end - c.start] == c.quote


def test_field_map_bare_reference_quote_starts_at_its_antecedent(seed_map: FieldMap) -> None:
    quotes = [c.quote for c in _cells(seed_map)[("kor", "hydrogen")].citations]
    assert quotes[0].startswith("The Korean government")
    assert quotes[0].endswith("revitalize the hydrogen economy.")
    for cell in seed_map.cells:
        for c in cell.citations:
            assert not c.quote.startswith(("It ", "They ", "In addition, it"))


def test_field_map_json_has_the_issue_shape(seed_map: FieldMap) -> None:
    data = seed_map.model_dump(mode="json")
    assert set(data) == {"fields", "actors", "cells"}
    assert {"id", "label", "description"} <= set(data["fields"][0])
    assert {"id", "name", "kind", "aliases"} <= set(data["actors"][0])
    kinds = {a["id"]: a["kind"] for a in data["actors"]}
    assert kinds["kor"] == "country" and kinds["asean"] == "bloc"
    assert {"actor", "field", "partners", "citations"} == set(data["cells"][0])
    ns = {c["n"] for cell in data["cells"] for c in cell["citations"]}
    assert ns == set(range(1, len(ns) + 1))


def test_field_map_filters_by_actor_bloc_and_field(seed_service: QAService) -> None:
    korea = seed_service.fields(actors=["Korean government"])
    assert {c.actor for c in korea.cells} == {"kor"}
    semis = seed_service.fields(fields=["semiconductors"])
    assert [(c.actor, c.partners) for c in semis.cells] == [("ind", ["usa"])]
    assert [f.id for f in semis.fields] == ["semiconductors"]
    # A bloc matches its members' cells and cells naming it as a partner.
    asean = {c.actor for c in seed_service.fields(actors=["asean"]).cells}
    assert {"tha", "idn", "vnm", "phl", "twn"} <= asean
    # The US as a partner: India's semiconductor cell is among the US's cells.
    us = seed_service.fields(actors=["the US"], fields=["semiconductors"])
    assert [c.actor for c in us.cells] == ["ind"]
    assert seed_service.fields(documents=["no-such-doc"] * 0 or None) == seed_service.fields()


@pytest.mark.parametrize(
    "kwargs,error",
    [
        ({"fields": ["nope"]}, UnknownFieldError),
        ({"actors": ["Atlantis"]}, UnknownActorError),
        ({"documents": ["no-such-doc"]}, NotFoundError),
    ],
)
def test_field_map_unknown_ids_are_clear_errors(
    seed_service: QAService, kwargs: dict[str, list[str]], error: type[Exception]
) -> None:
    with pytest.raises(error):
        seed_service.fields(**kwargs)
