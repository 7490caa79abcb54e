"""Question analysis: list questions, multi-part questions and the detail an ask needs."""

from __future__ import annotations

import pytest

from qa.answer.questions import (
    asked_topic,
    asked_words,
    asks_for_deeds,
    asks_relation,
    asks_whether,
    is_list_question,
    named_actors,
    naming_terms,
    plan_question,
    proper_names,
    section_words,
    topic_words,
)
from qa.retrieval.lexical import content_terms


@pytest.mark.parametrize(
    ("question", "is_list"),
    [
        ("Which countries cooperate on battery supply chains?", True),
        ("Who is working on hydrogen standards?", True),
        ("Who works on semiconductor projects?", True),
        ("What fields does China cooperate on?", True),
        ("What does China cooperate on?", True),
        ("List the platforms the EU and the US established.", True),
        ("With which regions should Taiwan promote cooperation?", True),
        ("What kind of standards does Japan want to internationalize?", False),
        ("In which international body does China help coordinate standards?", False),
        ("What forum did Korea set up for hydrogen?", False),
        ("What does the Indian government promote for its EV industry?", False),
        ("Who wrote this?", False),
        ("What is the status of the process?", False),
    ],
)
def test_questions_recognise_list_questions(question: str, is_list: bool) -> None:
    assert is_list_question(question) is is_list


def test_questions_split_multi_part_question_into_asks() -> None:
    plan = plan_question("Which standard did China develop, and with how many countries?")
    assert [a.text for a in plan.asks] == [
        "Which standard did China develop",
        "with how many countries",
    ]
    assert plan.is_multipart
    assert not plan.asks[0].wants_number and plan.asks[1].wants_number


def test_questions_single_ask_with_and_is_not_split() -> None:
    plan = plan_question("What are the EU and the US strengthening cooperation on?")
    assert not plan.is_multipart


@pytest.mark.parametrize(
    ("question", "evidence", "lacks"),
    [
        ("How many standards will Korea formulate?", "Korea will formulate 15 standards.", False),
        ("How many standards will Korea formulate?", "Korea formulates standards.", True),
        ("In what year did the programme start?", "It started in 2018.", False),
        ("In what year did the programme start?", "It started long ago.", True),
        ("When will Taiwan ban petrol cars?", "Taiwan raised fuel standards.", True),
        ("What forum did Korea set up?", "Korea set up a forum.", False),
        # Years before 1800, centuries and seasons are dates too.
        ("When was the Duchy of Normandy founded?", "It was founded in 911 by treaty.", False),
        ("When were the wars of religion?", "They raged in the 16th century.", False),
        ("When did he found his academy?", "He founded it in the spring of 1329.", False),
        ("When was the duchy founded?", "The duchy was founded by treaty.", True),
        ("When was the bridge built?", "The bridge cost 500 crowns to build.", True),  # a sum
        # "When …, what …?" asks the "what"; the "when" opens a clause.
        ("When violence is used, what is disobedience called?", "It is called rebellion.", False),
        # A short number after a capitalised word is part of a name; years and codes are not.
        ("What damaged the camera that Apollo 12 took?", "The Sun damaged the camera.", False),
        ("Who created the theme used in 1986?", "Dominic Glynn created the theme.", True),
        ("Who wrote ISO 34501?", "Twenty countries wrote the standard.", True),
        ("When will the EU ban diesel by 2035?", "The EU will ban diesel by 2035.", False),
    ],
)
def test_questions_ask_lacks_detail(question: str, evidence: str, lacks: bool) -> None:
    assert plan_question(question).asks[0].lacks_detail(evidence) is lacks


@pytest.mark.parametrize(
    ("question", "deeds"),
    [
        ("What do photosynthetic carotenoids do?", True),
        ("What has China done in international standard setting?", True),
        ("What is Korea doing for hydrogen?", True),
        ("What does the Indian government promote for its EV industry?", False),
        ("What does the author recommend for Taiwan?", False),
        ("How do companies do business abroad?", False),
        # Its purpose says what answers: what helps companies, not all Japan does.
        ("What does the Japanese government do to help companies abroad?", False),
        ("What has Korea done to revitalize the hydrogen economy?", False),
    ],
)
def test_questions_recognise_a_question_about_what_someone_does(question: str, deeds: bool) -> None:
    assert asks_for_deeds(question) is deeds


@pytest.mark.parametrize(
    ("question", "terms"),
    [
        ("How does the Japanese government help its companies abroad?", {"japanes", "govern"}),
        ("What does the EU do about charging?", {"eu"}),
        ("What does the Korean administration plan?", {"korean", "administr"}),
        # A government that no actor's name precedes is something asked about.
        ("What does the government of a small state do?", set()),
    ],
)
def test_questions_naming_terms_are_the_words_that_say_who(question: str, terms: set) -> None:
    assert naming_terms(question) == terms


@pytest.mark.parametrize(
    ("question", "relation"),
    [
        ("Does Taiwan cooperate with India?", True),
        ("How do the EU and the US work together?", True),
        ("Is there cooperation between Korea and India?", True),
        ("What are Korea's trade relations with Australia?", True),
        ("Which partners should Taiwan cooperate with?", True),  # one actor: no pair to check
        ("What are the EU and the US strengthening cooperation on?", False),
        ("What does Japan do with its mineral resources?", False),
        ("Is Taiwan's tradition of manufacturing shared with Japan?", False),
    ],
)
def test_questions_recognise_a_question_about_how_actors_deal_with_each_other(
    question: str, relation: bool
) -> None:
    assert asks_relation(question) is relation


def test_questions_terms_are_content_words_and_recommendations_add_theirs() -> None:
    # Question words and auxiliaries are no terms an answer must say.
    assert content_terms("What kind of standards does Japan want?") == [
        "kind", "standard", "japan", "want",
    ]  # fmt: skip
    recommended = content_terms(asked_words("What does the author recommend for Taiwan?"))
    assert {"suggest", "propos", "urg"} <= set(recommended)
    assert "suggest" not in content_terms(asked_words("What does Taiwan offer?"))


@pytest.mark.parametrize(
    ("question", "heading", "names_it"),
    [
        ("What are the key obligations?", "Key obligations", True),
        ("What does the section on due diligence say?", "Due diligence", True),
        ("List the implications for non-EU suppliers.", "Implications for non-EU suppliers", True),
        ("What are the key obligations for cobalt refiners?", "Key obligations", False),
        ("What is due?", "Due diligence", False),
    ],
)
def test_questions_section_words_say_whether_a_question_names_a_heading(
    question: str, heading: str, names_it: bool
) -> None:
    assert (section_words(question) == section_words(heading)) is names_it
    assert section_words(heading)


@pytest.mark.parametrize(
    ("question", "whether", "topic"),
    [
        ("Does Japan subsidise charging stations?", True, "subsidise charging stations"),
        ("Is the Korean government cooperating with India?", True, "government cooperating"),
        ("Can I opt out of cookies?", True, "opt cookies"),
        ("What does Japan subsidise?", False, "subsidise"),
        ("Which countries cooperate on hydrogen?", False, "countries cooperate hydrogen"),
        ("What has Korea done?", False, ""),  # "done" asks about nothing in particular
        ("What has Korea done on hydrogen?", False, "hydrogen"),
    ],
)
def test_questions_whether_and_what_about(question: str, whether: bool, topic: str) -> None:
    assert asks_whether(question) is whether
    assert topic_words(question) == frozenset(content_terms(topic))


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("What does the text say about Tesla?", ["Tesla"]),
        ("Does CATL supply Tesla's plant in Germany?", ["CATL", "Tesla"]),  # not the country
        ("What did the Korean government set up?", []),  # a demonym is an actor
        ("Does the Philipines have nickel?", []),  # a misspelt actor is an actor
        ("Tesla is named. What does Tesla do?", ["Tesla"]),  # "What" starts a sentence
        ("Does the company collect my IP address and device IDs?", []),  # short abbreviations
        ("What Is The Capital Of Japan?", []),  # title case
        ("Who did Emma marry?", ["Emma"]),
        ("Are Best Buy's margins consistent?", ["Best Buy"]),  # a run of words is one name
        ("Which region had the Highest EBITDAR Contribution?", ["Highest EBITDAR Contribution"]),
        ("Is JnJ's EPS growth expected to accelerate in FY2023?", []),  # short, or figures
    ],
)
def test_questions_proper_names(question: str, names: list[str]) -> None:
    assert proper_names(question) == names


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("Compare Japan and Korea on batteries.", ["Japan: batteries", "Korea: batteries"]),
        (
            "How does Korea's hydrogen policy differ from Japan's?",
            ["Korea: hydrogen policy", "Japan: hydrogen policy"],
        ),
        ("What is the difference between Japan and China?", ["Japan", "China"]),
        ("Japan versus China on standards", ["Japan: standards", "China: standards"]),
        ("Compare Japan's battery policies.", []),  # one actor: not a comparison of actors
        ("Does Taiwan cooperate with India?", []),
    ],
)
def test_questions_comparison_asks_each_actor(question: str, asks: list[str]) -> None:
    plan = plan_question(question)
    if asks:
        assert [a.text for a in plan.asks] == asks and len(plan.compared) == len(asks)
    else:
        assert not plan.compared
    # Comparing two actors is not asking how they deal with each other.
    assert asks_relation(question) is (question == "Does Taiwan cooperate with India?")


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("What does the article say about critical minerals?", "critical minerals"),
        ("What does the report mention regarding raw materials?", "raw materials"),
        ("Tell me about semiconductors.", "semiconductors"),
        ("What about batteries?", "batteries"),
        ("What does the EU say about charging?", None),  # what an actor says is no topic ask
        ("What does Japan do?", None),
    ],
)
def test_questions_asked_topic(question: str, topic: str | None) -> None:
    assert asked_topic(question) == topic


@pytest.mark.parametrize(
    ("question", "actors"),
    [
        ("How many countries worked with China on ISO 34501?", {"chn"}),  # a standard
        ("Does ISO cooperate with China?", {"iso", "chn"}),  # the organisation
        ("What did the Philipines do?", {"phl"}),  # misspelt
        ("What do Korean companies want?", {"kor"}),  # a demonym
    ],
)
def test_named_actors_tells_a_standard_from_its_organisation(
    question: str, actors: set[str]
) -> None:
    assert set(named_actors(question)) == actors
