"""Attribution: bare references, antecedents and subject actors, on the seed's passages."""

from __future__ import annotations

import pytest
from conftest import SEED

from qa.attribution import (
    antecedent,
    clause_attributions,
    is_bare_reference,
    partner_actors,
    subject_actors,
)
from qa.chunking import chunk_document
from qa.ingest.corpus import read_document


@pytest.mark.parametrize(
    "sentence",
    [
        "It has strengthened cooperation regarding the international standards.",
        "They have also strengthened cooperation in battery technology.",
        "This platform will set charging standards.",
        "These measures help suppliers.",
        "Its ministry funds the programme.",
        "Their governments agreed.",
        "The country is rich in nickel.",
        "The government promotes localisation.",
        "In addition, it promotes technical cooperation between SMEs.",
        "Moreover, they signed a memorandum.",
        "It is suggested that the government can use dialogue platforms.",
        "The Council established through this cooperation will formulate standards.",
        "First demonstrated in 1973, it was developed to explore alternatives.",
    ],
)
def test_attribution_detects_bare_references(sentence: str) -> None:
    assert is_bare_reference(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "The Korean government is cooperating with Australia and India.",
        "Japan, through international cooperation, ensures the supply of minerals.",
        "The EU and the US are actively seeking international partners.",
        "In addition to promoting incentives, the Taiwanese government raised standards.",
        "The government of Japan funds batteries.",
        "It is suggested that Japan should invest.",
        "It is usually recognized that lawbreaking must be publicly announced.",
        "Key Fields of International Cooperation in the New Vehicle Industry",
    ],
)
def test_attribution_named_subjects_are_not_bare(sentence: str) -> None:
    assert not is_bare_reference(sentence)


def test_attribution_antecedent_walks_back_over_bare_sentences() -> None:
    sentences = [
        "Japan invests in batteries.",
        "The Korean government is cooperating with Australia.",
        "It has strengthened standards cooperation.",
        "In addition, it promotes SME cooperation.",
    ]
    assert antecedent(sentences, 3) == 1
    assert antecedent(sentences, 2) == 1
    assert antecedent(sentences, 1) == 1  # not a bare reference: itself
    assert subject_actors(sentences, 3) == ["kor"]
    assert antecedent(sentences, 3, max_back=1) is None


def test_attribution_antecedent_is_none_without_a_named_subject() -> None:
    sentences = ["The report was published in 2024.", "It covers batteries."]
    assert antecedent(sentences, 1) is None
    assert subject_actors(sentences, 1) == []
    assert antecedent(["It covers batteries."], 0) is None


def test_attribution_partners_are_counterparts_not_subjects() -> None:
    sentences = ["The Indian government collaborates with the United States on chips."]
    assert subject_actors(sentences, 0) == ["ind"]
    assert partner_actors(sentences, 0) == ["usa"]


def test_attribution_clauses_after_while_have_their_own_subject() -> None:
    sentence = (
        "Thailand, Indonesia, and Vietnam attract foreign investment, while the Philippines, "
        "with its rich nickel ore, strives to develop the EV battery supply chain."
    )
    clauses = clause_attributions([sentence], 0)
    assert [c.subjects for c in clauses] == [("tha", "idn", "vnm"), ("phl",)]
    assert sentence[clauses[1].start : clauses[1].end].startswith("while the Philippines")


@pytest.fixture(scope="module")
def seed_passages(embedder):
    document = read_document(SEED, SEED.parent)
    return chunk_document(document, embedder, size=160, overlap=0, min_tokens=24)


def _locate(passages, opening: str) -> tuple[list[str], int]:
    for passage in passages:
        sentences = passage.sentence_texts()
        for i, sentence in enumerate(sentences):
            if sentence.startswith(opening):
                return sentences, i
    raise AssertionError(f"no seed sentence starts with {opening!r}")


@pytest.mark.parametrize(
    "opening,expected",
    [
        ("It has strengthened cooperation regarding the international standards", ["kor"]),
        ("They have also strengthened cooperation in battery technology", ["eu", "usa"]),
        ("In addition, it promotes technical cooperation between small", ["kor"]),
        ("It has jointly developed the first international standard ISO 34501", ["chn"]),
        ("The Korean government is cooperating with Australia and India", ["kor"]),
        ("The Trade and Technology Council established through this cooperation", ["eu", "usa"]),
        ("The Cabinet Office has promoted", ["jpn"]),
        ("Thailand, Indonesia, and Vietnam attract", ["tha", "idn", "vnm", "phl"]),
        ("The Indian government promotes the localization", ["ind"]),
        ("It is suggested that the government can use", ["twn"]),
        ("This article summarizes", []),
    ],
)
def test_attribution_seed_sentences_subjects(
    seed_passages, opening: str, expected: list[str]
) -> None:
    sentences, index = _locate(seed_passages, opening)
    assert subject_actors(sentences, index) == expected


def test_attribution_seed_page_break_paragraph_stays_in_one_passage(seed_passages) -> None:
    # The Korea paragraph is split by a page break in the source ("more than 15 … global
    # standards"); the chunker keeps it in one passage, so "In addition, it" finds Korea.
    sentences, index = _locate(seed_passages, "In addition, it promotes technical cooperation")
    assert antecedent(sentences, index) is not None
    assert sentences[antecedent(sentences, index)].startswith("The Korean government")


@pytest.mark.parametrize(
    "opening,partners",
    [
        ("The Korean government is cooperating with Australia and India", ["aus", "ind", "usa"]),
        ("The Indian government promotes the localization", ["usa"]),
        ("It is suggested that the government can use", ["eu", "usa", "jpn", "asean"]),
        ("It has jointly developed the first international standard ISO 34501", []),
    ],
)
def test_attribution_seed_partners(seed_passages, opening: str, partners: list[str]) -> None:
    sentences, index = _locate(seed_passages, opening)
    assert partner_actors(sentences, index) == partners


def test_attribution_document_self_reference_needs_no_antecedent() -> None:
    from qa.attribution import antecedent, is_bare_reference

    sentence = "This article summarizes the direction of international cooperation."
    assert not is_bare_reference(sentence)
    assert antecedent([sentence], 0) == 0
    assert is_bare_reference("This has strengthened cooperation with Japan.")


def test_attribution_antecedent_may_be_a_proper_name_not_only_an_actor() -> None:
    lyell = [
        "Sir Charles Lyell first published his famous book, Principles of Geology, in 1830.",
        "This book successfully promoted the doctrine of uniformitarianism.",
        "This theory states that slow geological processes are still occurring today.",
    ]
    assert antecedent(lyell, 2) == 0  # over "This book", to the sentence naming Lyell
    network = [
        "In 1973, the CYCLADES network was designed by Louis Pouzin.",
        "It was the first network to make the hosts responsible for delivery.",
    ]
    assert antecedent(network, 1) == 0
    # A subject that names no one is still no antecedent: "It" is not the deals, and a
    # sentence's own first capital is no name.
    assert antecedent(["The deals cover batteries.", "It also set up a forum."], 1) is None
    assert antecedent(["Advances in algebra were made.", "It spread widely."], 1) is None


def test_attribution_antecedent_walks_over_sentences_that_name_no_one() -> None:
    # "This relationship" is the Normans' contact with England, two sentences back.
    normans = [
        "The Normans were in contact with England from an early date.",
        "Not only were their original Viking brethren still ravaging the English coasts.",
        "This relationship eventually produced closer ties of blood.",
    ]
    assert antecedent(normans, 2) == 0
    seed = [
        "The Korean government is cooperating with Australia.",
        "The deals cover batteries.",
        "It also set up a forum.",
    ]
    assert antecedent(seed, 2) == 0
    assert subject_actors(seed, 2) == ["kor"]
    assert antecedent(seed, 2, max_back=1) is None


def test_attribution_a_passage_name_is_a_proper_subject_even_first() -> None:
    zhu = [
        "The mathematician Zhu Shijie solved simultaneous equations.",
        "Zhu used a method of elimination.",
        "His method is described in the Jade Mirror of the Four Unknowns.",
    ]
    assert antecedent(zhu, 2) == 1
    # A first word the passage also writes in lower case is no name.
    advances = ["Advances were made in algebra.", "These advances spread.", "It grew."]
    assert antecedent(advances, 2) is None


def test_attribution_demonstrative_noun_points_back_to_the_sentence_that_says_it() -> None:
    earth = [
        "Seismologists use the arrival times of seismic waves to image the Earth's interior.",
        "Early advances in this field showed the existence of a liquid outer core.",
        "These advances led to a layered model of the Earth, with a crust on top.",
    ]
    assert antecedent(earth, 2) == 1
    # A sentence that names its subject still wins over one that only says the noun ...
    fund = [
        "Korea launched a battery fund.",
        "The fund invests in batteries.",
        "This fund also invests in hydrogen.",
    ]
    assert antecedent(fund, 2) == 0
    # ... a noun said with a determiner is itself a reference back, and a pronoun or a
    # demonstrative with no noun ("This is …") has no noun to look for.
    assert antecedent(fund[1:], 1) is None
    assert antecedent(["Advances were made in algebra.", "It spread widely."], 1) is None
    assert antecedent(["Tariffs were raised.", "This is also key."], 1) is None
    assert antecedent(["Tariffs were raised.", "These tariffs hurt trade."], 1) == 0


@pytest.mark.parametrize(
    "sentence",
    [
        "While etioplasts lack chlorophyll, they have a yellow chlorophyll precursor stocked.",
        "As organisms exist throughout the world, their presence gives a relative age.",
        "When angiosperm shoots are not exposed to light, they become etiolated.",
        "When a rock crystallizes from melt, it is an igneous rock.",
        "When finally Edward the Confessor returned in 1041, at the invitation of his "
        "half-brother, he brought with him a Norman court.",
        "For instance, when Japan signed the accord, it also agreed to share data.",
        "When Italy signed the deal, it also agreed to share data.",  # "Italy" is no adverb
    ],
)
def test_attribution_pronoun_naming_its_own_lead_is_not_bare(sentence: str) -> None:
    assert not is_bare_reference(sentence)
    assert antecedent([sentence], 0) == 0


@pytest.mark.parametrize(
    "sentence",
    [
        "While these countries lack minerals, they have invested abroad.",  # a determiner
        "When the talks stalled, they turned to Japan.",
        "After the deal was signed, it set up a forum.",  # singular: "it" may be a country
        "When the deal was signed, it set up a forum.",
        "If the country invests, it grows.",  # "the country" is a reference back itself
        "When it joined the pact, it pledged funds.",
        "As a result, they launched a fund.",
    ],
)
def test_attribution_pronoun_after_a_lead_without_its_referent_is_bare(sentence: str) -> None:
    assert is_bare_reference(sentence)


def test_attribution_an_antecedent_may_name_its_subject_in_its_lead_clause() -> None:
    sentences = [
        "When Korea opened the forum in 2021, it invited Japan.",
        "It also set fifteen standards.",
    ]
    assert antecedent(sentences, 1) == 0
    assert subject_actors(sentences, 0) == ["kor"]  # Japan is the object
    assert subject_actors(sentences, 1) == ["kor"]
    assert subject_actors(["It invited Japan."], 0) == []


@pytest.mark.parametrize(
    ("sentence", "bare"),
    [
        ("It became clear that managing the program would exceed NASA's capacity.", False),
        ("It became clear that the country would need partners.", True),
        ("Proteins such as NFIL3, which shape T-cells, can be affected by light.", False),
        ("Such measures, which shape supply chains, can be costly.", True),
    ],
)
def test_attribution_expletives_and_examples_are_no_reference_back(
    sentence: str, bare: bool
) -> None:
    assert is_bare_reference(sentence) is bare
