"""Where a quoted sentence may end early (`qa.answer.clauses`): pure logic on sentences."""

from __future__ import annotations

import re

import pytest

from qa.answer.clauses import actor_clauses, clause_end

SUMMARY = (
    "This article summarizes the direction of international cooperation promoted by global "
    "major vehicle producing countries, including the EU, the US, Japan, South Korea, and "
    "ASEAN countries, and explores the possible strategies for Taiwan to participate in "
    "international cooperation in the new vehicle industry."
)


def _saying(*words: str):
    """A test that a text says one of `words` (whole words, any case)."""
    pattern = re.compile(r"\b(?:" + "|".join(words) + r")\b", re.IGNORECASE)
    return lambda text: bool(pattern.search(text))


def test_clauses_cut_a_further_predicate_that_says_nothing_asked() -> None:
    end = clause_end(SUMMARY, _saying("summarizes"), _saying("summarizes", "article"))
    assert end is not None
    # The list's own ", and ASEAN countries" is not a clause: the cut is after it.
    assert SUMMARY[:end].endswith("South Korea, and ASEAN countries")
    assert SUMMARY[end:].startswith(", and explores")


def test_clauses_keep_a_sentence_whose_rest_says_what_was_asked() -> None:
    # "participate" is asked, and only the rest says it.
    assert clause_end(SUMMARY, _saying("summarizes"), _saying("participate")) is None


def test_clauses_keep_a_sentence_whose_opening_does_not_answer() -> None:
    assert clause_end(SUMMARY, _saying("strategies"), _saying("strategies")) is None


@pytest.mark.parametrize(
    ("sentence", "head"),
    [
        (
            "A second series of the programme aired in 2008; for three episodes, the cast was "
            "joined by a guest reprising her role.",
            "A second series of the programme aired in 2008",
        ),
        (
            "Linebacker Brandon Marshall led the team in total tackles with 109, while Danny "
            "Trevathan ranked second with 102 of his own.",
            "Linebacker Brandon Marshall led the team in total tackles with 109",
        ),
        (
            "The Korean government is cooperating with Australia and India on raw materials, "
            "and continues to negotiate with the US on final assembly rules.",
            "The Korean government is cooperating with Australia and India on raw materials",
        ),
    ],
)
def test_clauses_cut_at_a_semicolon_while_or_finite_and(sentence: str, head: str) -> None:
    end = clause_end(
        sentence, _saying("aired", "led", "cooperating"), _saying("aired|led|Australia")
    )
    assert end is not None and sentence[:end] == head


@pytest.mark.parametrize(
    "sentence",
    [
        # A condition or exception qualifies the claim: dropping it changes it.
        "We do not sell your personal information to anyone at all; except to the service "
        "providers who process payments for us.",
        "We do not sell your personal information to anyone at all; however, we share it with "
        "the partners named in this policy.",
        # The items of a list a colon or "such as" introduces.
        "We use the information we collect to: provide and maintain our services for you; "
        "personalise the content and advertising you see.",
        "We collect information that does not identify you, such as demographic data; "
        "information about the device that you use to reach us.",
        # A base-form or -ing verb shares the clause's modal, "to" or governing verb.
        "It is suggested that the government can use the dialogue platforms to promote "
        "cooperation in Europe, and establish a public-private platform to formulate plans.",
        "We keep your information as long as necessary to comply with our legal obligations, "
        "resolve disputes, and enforce our terms of use for every site.",
        # The last of a list of finite predicates: the list goes on past "and".
        "The ministry funds research on batteries, trains engineers, and supports the "
        "industry's exports to the markets abroad.",
        "The agency suggested sending the craft to orbit the Moon instead of the Earth, "
        "deferring the next mission by some months, and eliminating the one after it.",
        # A clause inside brackets or quotation marks is not the sentence's.
        "The council (which meets twice a year; and reports to the ministers in turn) sets "
        "the standards for charging equipment in the region.",
    ],
)
def test_clauses_never_cut_a_qualification_a_list_or_a_shared_verb(sentence: str) -> None:
    said = _saying("sell", "use", "collect", "suggested", "keep", "council", "agency", "funds")
    assert clause_end(sentence, said, _saying("nothing-asked")) is None


def test_clauses_leave_no_fragment_of_a_few_words() -> None:
    sentence = "It rained; and the long match between the two old rivals was put off until May."
    assert clause_end(sentence, _saying("rained"), _saying("nothing-asked")) is None


ASEAN = (
    "Thailand, Indonesia, and Vietnam attract foreign investment with market opportunities and "
    "policy guidance, while the Philippines, with its rich nickel ore, strives to develop the "
    "EV battery supply chain and actively participates in ASEAN electric vehicle development."
)


def test_clauses_of_one_actor_leave_out_another_subject_s_clause() -> None:
    span = actor_clauses([ASEAN], 0, {"phl"}, opening=True)
    assert span is not None
    start, end = span
    assert ASEAN[start:end].startswith("the Philippines, with its rich nickel ore")
    assert end == len(ASEAN)
    # Indonesia's part stops before the Philippines' nickel.
    start, end = actor_clauses([ASEAN], 0, {"idn"}, opening=True) or (0, 0)
    assert start == 0 and ASEAN[:end].endswith("market opportunities and policy guidance")
    # Without `opening` (the quote starts at an antecedent), the start stays.
    assert actor_clauses([ASEAN], 0, {"phl"}, opening=False) is None


def test_clauses_of_one_subject_are_never_split() -> None:
    korea = (
        "The Korean government is cooperating with Australia and India to stabilize the "
        "supply of raw materials; and continues to negotiate with the US to ensure that the "
        "requirements for final assembly are beneficial to Korean companies."
    )
    # The clause after the semicolon has no subject of its own: it is still Korea's.
    assert actor_clauses([korea], 0, {"kor"}, opening=True) is None
    # Nor is a sentence cut for an actor it names only as a partner.
    assert actor_clauses([korea], 0, {"usa"}, opening=True) is None
    # All its clauses about the actors asked: whole.
    assert actor_clauses([ASEAN], 0, {"tha", "phl"}, opening=True) is None
