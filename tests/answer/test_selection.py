"""Selection and composition on hand-built passages, with fake evidence (all cosines 0), so
sentences rank by term coverage alone and each case is predictable by hand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pytest

from qa.answer.compose import ELISION, compose_answer
from qa.answer.scoring import EvidenceOf, headings_over
from qa.chunking import split_sentences
from qa.config import Settings
from qa.models import Answer, Passage
from qa.retrieval.retriever import Candidate, Evidence

KOREA = (
    "The Korean government is cooperating with Australia and India to stabilize the supply of "
    "raw materials for the EV and rechargeable battery industry chains. It has strengthened "
    "cooperation regarding the international standards with countries which have developed "
    "hydrogen technology and established a hydrogen economy standards forum. In addition, it "
    "promotes technical cooperation between small and medium-sized enterprises."
)
CHINA = (
    "China actively participates in the international technical standards system. It has "
    "jointly developed the first international standard ISO 34501 in the field of autonomous "
    "driving test scenarios with more than 20 countries."
)


def _evidence(question: str, candidates: Sequence[Candidate]) -> Evidence:
    dim = 8
    vectors = [np.zeros((len(c.passage.sentences), dim), dtype=np.float32) for c in candidates]
    return Evidence(np.zeros(dim, dtype=np.float32), vectors, {})


def _cosines(by_start: Mapping[str, float]) -> EvidenceOf:
    """Evidence in which a sentence starting with a key of `by_start` has that cosine with
    the question, and every other sentence 0."""

    def evidence(question: str, candidates: Sequence[Candidate]) -> Evidence:
        query = np.eye(8, dtype=np.float32)[0]
        vectors = []
        for c in candidates:
            rows = np.zeros((len(c.passage.sentences), 8), dtype=np.float32)
            for j, text in enumerate(c.passage.sentence_texts()):
                rows[j] = query * next((v for k, v in by_start.items() if text.startswith(k)), 0)
            vectors.append(rows)
        return Evidence(query, vectors, {})

    return evidence


def _candidate(rank: int, text: str, start: int = 0, document: str = "doc") -> Candidate:
    passage = Passage(
        id=f"p{rank}",
        document_id=document,
        title="Key Fields",
        source=f"{document}.txt",
        start=start,
        end=start + len(text),
        text=text,
        sentences=split_sentences(text),
    )
    return Candidate(rank, passage, 1.0 / (rank + 1), 0.5, 1.0)


def _ask(
    question: str,
    texts: Sequence[str],
    starts: Sequence[int] = (),
    evidence: EvidenceOf = _evidence,
    **settings: object,
) -> Answer:
    starts = starts or [1000 * i for i in range(len(texts))]
    candidates = [
        _candidate(i, t, start=s) for i, (t, s) in enumerate(zip(texts, starts, strict=True))
    ]
    values = {"abstain_threshold": 0.5, **settings}
    return compose_answer(
        question,
        lambda n: candidates[:n],
        evidence,
        Settings(**values),  # type: ignore[arg-type]
        k=len(candidates),
    )


def test_selection_pronoun_led_sentence_is_quoted_with_its_subject() -> None:
    answer = _ask("Which forum for hydrogen economy standards was established?", [KOREA, CHINA])
    assert answer.answered
    assert answer.answer.startswith("The Korean government is cooperating")
    assert "hydrogen economy standards forum." in answer.answer and answer.answer.count("[1]") == 1
    [citation] = answer.citations
    [(a, b)] = citation.spans
    assert KOREA[a:b] == citation.quote  # one verbatim span, document offsets


def test_selection_drops_pronoun_sentence_whose_span_is_too_long() -> None:
    # The forum sentence answers, but naming Korea takes more than 20 words; the others
    # rank far below it and do not answer.
    answer = _ask(
        "Which forum for hydrogen economy standards was established?",
        [KOREA],
        evidence=_cosines({"It has strengthened": 0.9}),
        max_quote_words=20,
    )
    assert not answer.answered and answer.reason == "no_evidence"


def test_selection_answers_from_the_next_sentence_when_the_best_cannot_be_quoted() -> None:
    # Korea's forum sentence ranks first but cannot be quoted with its subject in 20 words;
    # China's, nearly as good and quotable alone, is the answer.
    answer = _ask(
        "Which international standards were developed?",
        [KOREA, CHINA],
        evidence=_cosines({"It has strengthened": 0.9, "China actively": 0.7}),
        max_quote_words=20,
    )
    assert answer.answered
    assert answer.answer.startswith("China actively participates")
    assert "hydrogen" not in answer.answer and "Korea" not in answer.answer


def test_selection_one_sentence_is_the_common_case() -> None:
    answer = _ask("Which standard did China develop jointly for autonomous driving?", [CHINA])
    assert answer.answered and len(answer.citations) == 1
    assert answer.answer.count("[1]") == 1 and "ISO 34501" in answer.answer


def test_selection_list_question_collects_every_supporting_passage_in_document_order() -> None:
    answer = _ask(
        "Which countries developed international standards?",
        [CHINA, KOREA],  # China ranks first ...
        starts=[2000, 0],  # ... but Korea's passage comes first in the document
        abstain_threshold=0.6,
    )
    assert answer.answered
    assert [c.document_id for c in answer.citations] == ["doc", "doc"]
    # Ordered by position in the document (Korea's passage starts first), not by score.
    assert answer.answer.index("Korean") < answer.answer.index("ISO 34501")


PHILIPPINES = (
    "Thailand attracts foreign investment, while the Philippines, with its rich nickel ore, "
    "strives to develop the EV battery supply chain."
)
JAPAN = (
    "Japan ensures the supply of nickel and other mineral resources for the EV battery "
    "supply chain through international cooperation."
)


def test_selection_further_quote_about_another_country_is_left_out() -> None:
    question = "How does the Philippines support the EV battery supply chain with nickel?"
    answer = _ask(question, [PHILIPPINES, JAPAN], abstain_threshold=0.3)
    assert answer.answered and "the Philippines" in answer.answer
    assert "Japan" not in answer.answer and len(answer.citations) == 1
    # Asked about no country, the same close second sentence still supports the answer.
    answer = _ask(
        "How is the EV battery supply chain supported with nickel?",
        [PHILIPPINES, JAPAN],
        abstain_threshold=0.3,
    )
    assert answer.answered and "Japan" in answer.answer and len(answer.citations) == 2


def test_selection_sentence_adjoining_the_answer_is_kept_without_the_name() -> None:
    # The second sentence names no country, but it follows the answer in its passage: it
    # joins the quote as one span rather than being dropped as filler.
    text = (
        "The Philippines, with its rich nickel ore, strives to develop the EV battery supply "
        "chain. New nickel processing plants supply the battery supply chain across Asia."
    )
    answer = _ask(
        "How does the Philippines use nickel for the battery supply chain?",
        [text],
        abstain_threshold=0.3,
    )
    assert answer.answered and answer.answer == f"{text} [1]"
    [citation] = answer.citations
    assert citation.spans == [(0, len(text))]


def test_selection_multi_part_question_reports_uncovered_part() -> None:
    answer = _ask(
        "Which standard did China develop for autonomous driving, and what year was it published?",
        [CHINA],
    )
    assert answer.answered and "ISO 34501" in answer.answer
    assert answer.uncovered == ["what year was it published"]


def test_selection_missing_name_is_unsupported_detail() -> None:
    answer = _ask("Which international standards has Germany jointly developed?", [CHINA])
    assert not answer.answered and answer.reason == "unsupported_detail"
    assert "Germany" in (answer.message or "")


def test_selection_missing_name_is_said_by_its_name_not_the_question_s_word() -> None:
    answer = _ask("Which international standards has the German government developed?", [CHINA])
    assert not answer.answered and answer.reason == "unsupported_detail"
    assert "mention Germany" in (answer.message or "") and "German " not in answer.message


def test_selection_misspelt_name_is_forgiven() -> None:
    answer = _ask("What standards forum did Koreaa establish for hydrogen economy?", [KOREA])
    assert answer.answered and "hydrogen economy standards forum" in answer.answer


def test_selection_bloc_does_not_speak_for_its_members() -> None:
    eu = (
        "The EU has set up a battery alliance with its partners. It funds research on "
        "solid-state battery cells."
    )
    answer = _ask("What does Germany fund in battery research?", [eu])
    assert not answer.answered and answer.reason == "unsupported_detail"
    assert "Germany" in (answer.message or "")
    # A member does speak for its bloc: asked about ASEAN, Thailand's sentence answers.
    answer = _ask("How does ASEAN attract foreign investment?", [PHILIPPINES])
    assert answer.answered and "Thailand attracts foreign investment" in answer.answer


def test_selection_word_the_passage_says_is_no_misspelt_name() -> None:
    # "Karenia" is close to "Armenia", but the passage says "Karenia" as the question does.
    text = "Karlodinium and Karenia probably took up different heterokontophytes."
    answer = _ask("What did Karenia take up?", [text])
    assert answer.answered and answer.answer == f"{text} [1]"
    text = "Different heterokontophytes were taken up by Karenia."
    answer = _ask("What was taken up by Karenia?", [text])
    assert answer.answered and answer.answer == f"{text} [1]"


def test_selection_spaced_initials_name_the_country() -> None:
    text = "All of the U. S. flags left on the Moon were found to still be standing."
    answer = _ask("Are the U.S. flags left on the Moon still standing?", [text])
    assert answer.answered and answer.answer == f"{text} [1]"


THEME = (
    "The original theme was composed by Ron Grainer and realised by Delia Derbyshire. "
    "The theme was replaced by Dominic Glynn's arrangement for the serial in season 23 "
    "(1986)."
)


def test_selection_answers_from_the_sentence_saying_the_figure_asked_for() -> None:
    # The first sentence ranks best but does not say 1986; the one that does answers.
    evidence = _cosines({"The original theme": 0.9, "The theme was": 0.7})
    answer = _ask("Who created the theme used in 1986?", [THEME], evidence=evidence)
    assert answer.answered and "Dominic Glynn" in answer.answer
    assert "Ron Grainer" not in answer.answer
    # No sentence says the figure: the answer is still withheld, with its reason.
    answer = _ask("Who created the theme used in 1993?", [THEME], evidence=evidence)
    assert not answer.answered and answer.reason == "unsupported_detail"


def test_selection_other_language_abstains_with_reason() -> None:
    answer = _ask("中国在自动驾驶方面与谁合作?", [CHINA])
    assert not answer.answered and answer.reason == "language"
    assert "Chinese" in (answer.message or "") and "QA_EMBEDDING_MODEL" in (answer.message or "")


def test_selection_empty_corpus_abstains_with_reason() -> None:
    answer = _ask("What does China do?", [])
    assert not answer.answered and answer.reason == "empty_corpus" and not answer.suggestions


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.9])
def test_selection_every_quote_clears_the_threshold(threshold: float) -> None:
    answer = _ask(
        "Which international standards were developed?",
        [KOREA, CHINA],
        abstain_threshold=threshold,
    )
    assert all(c.score >= threshold for c in answer.citations)


def test_selection_a_sentence_that_asks_is_not_an_answer() -> None:
    # An FAQ: the question sentence shares every word with the user's question, but the
    # sentence after it is what answers.
    faq = (
        "Can I opt out of marketing emails? "
        "Yes: every marketing email has an unsubscribe link at its foot."
    )
    answer = _ask("Can I opt out of marketing emails?", [faq], abstain_threshold=0.3)
    assert answer.answered
    assert answer.answer == "Yes: every marketing email has an unsubscribe link at its foot. [1]"


def test_selection_a_line_in_capitals_is_a_caption_not_an_answer() -> None:
    # A PDF table's title line is not marked as a heading; in capitals it still heads, and
    # the row under it answers.
    text = (
        "MGM RESORTS INTERNATIONAL SUPPLEMENTAL DATA FOR LAS VEGAS STRIP RESORTS. "
        "Las Vegas Strip Resorts earned $2,867 million of Adjusted Property EBITDAR."
    )
    answer = _ask(
        "What supplemental data does MGM Resorts International give for Las Vegas Strip Resorts?",
        [text],
        abstain_threshold=0.3,
    )
    assert answer.answered
    assert answer.answer == (
        "Las Vegas Strip Resorts earned $2,867 million of Adjusted Property EBITDAR. [1]"
    )


def test_selection_a_heading_set_as_a_sentence_is_not_an_answer() -> None:
    # A notice's section heading ends with a full stop like a sentence; it shares the
    # question's words but says nothing.
    text = (
        "Exceptions To Written Authorization Requirement. "
        "We may disclose your records without written authorization in an emergency."
    )
    answer = _ask(
        "What are the exceptions to the written authorization requirement?",
        [text],
        abstain_threshold=0.3,
    )
    assert answer.answered
    assert answer.answer == (
        "We may disclose your records without written authorization in an emergency. [1]"
    )


def test_selection_a_question_about_two_actors_dealings_needs_a_quote_naming_both() -> None:
    # Each passage names one of the two: quoting both side by side would imply a tie
    # between them that no sentence states.
    taiwan = "Taiwan should promote cooperation with Japan on vehicle components."
    india = "India cooperates with the United States on semiconductor projects."
    answer = _ask("Does Taiwan cooperate with India?", [taiwan, india], abstain_threshold=0.0)
    assert not answer.answered and answer.reason == "unsupported_detail"
    assert answer.message is not None and "Taiwan and India together" in answer.message
    # A sentence that names both answers.
    answer = _ask(
        "Does India cooperate with the United States?", [taiwan, india], abstain_threshold=0.0
    )
    assert answer.answered
    assert answer.answer == f"{india} [1]"


def test_selection_two_actors_named_side_by_side_are_not_dealing_with_each_other() -> None:
    # The EU and Japan are both Taiwan's partners here; the sentence names them together
    # but ties neither to the other.
    taiwan = "Taiwan should promote cooperation with Europe and Japan on vehicle components."
    answer = _ask("Does the EU cooperate with Japan?", [taiwan], abstain_threshold=0.0)
    assert not answer.answered and answer.reason == "unsupported_detail"
    assert answer.message is not None and "dealing with each other" in answer.message
    answer = _ask("Does Taiwan cooperate with Japan?", [taiwan], abstain_threshold=0.0)
    assert answer.answered and answer.answer == f"{taiwan} [1]"


def test_selection_a_yes_no_question_needs_passages_that_say_what_it_asks_about() -> None:
    # The Japan sentence answers "Japan", and nothing of what is asked about it.
    japan = (
        "Japan accelerates the development of solid-state battery technology and assists "
        "companies in expanding overseas markets."
    )
    answer = _ask("Does Japan subsidise charging stations?", [japan], abstain_threshold=0.0)
    assert not answer.answered and answer.reason == "unsupported_detail"
    assert answer.message is not None
    assert "never mention subsidise, charging or stations" in answer.message
    answer = _ask("Does Japan develop solid-state batteries?", [japan], abstain_threshold=0.0)
    assert answer.answered and answer.answer == f"{japan} [1]"
    # So does one asking what Japan does about them; one asking what else keeps the
    # scorer's judgement, as answers paraphrase it.
    answer = _ask("What does Japan do for charging stations?", [japan], abstain_threshold=0.0)
    assert not answer.answered and answer.reason == "unsupported_detail"
    answer = _ask("What help do companies get for charging?", [japan], abstain_threshold=0.0)
    assert answer.answered


def test_selection_cooperating_is_not_what_a_question_on_cooperation_asks_about() -> None:
    # Korea cooperates, but not on charging: "cooperate" is how, "charging" what.
    korea = (
        "The Korean government is cooperating with Australia and India to stabilize the "
        "supply of raw materials for the battery industry."
    )
    answer = _ask("Does Korea cooperate on charging?", [korea], abstain_threshold=0.0)
    assert not answer.answered and answer.reason == "unsupported_detail"
    assert answer.message is not None and "never mention charging." in answer.message
    for question in ("Does Korea cooperate on raw materials?", "Does Korea cooperate?"):
        answer = _ask(question, [korea], abstain_threshold=0.0)
        assert answer.answered and answer.answer == f"{korea} [1]", question


def test_selection_a_yes_no_question_is_not_answered_by_what_is_said_of_another() -> None:
    # "nickel" is the Philippines', in a clause of its own; Vietnam is only in the first.
    asean = (
        "Thailand, Indonesia, and Vietnam attract foreign investment with policy guidance, "
        "while the Philippines, with its rich nickel ore, develops the EV battery supply chain."
    )
    answer = _ask("Does Vietnam have nickel?", [asean], abstain_threshold=0.0)
    assert not answer.answered and answer.reason == "unsupported_detail"
    assert (
        answer.message is not None and "say it of the Philippines, not of Vietnam" in answer.message
    )
    # Asked of the Philippines, its own clause; of ASEAN, all its members' sentence.
    philippines = asean[asean.index("the Philippines") :]
    for question, quoted in (
        ("Does the Philippines have nickel?", f"{ELISION} {philippines}"),
        ("Does ASEAN have nickel?", asean),
        ("Does the Philippines have nikel?", f"{ELISION} {philippines}"),  # still the passage's
    ):
        answer = _ask(question, [asean], abstain_threshold=0.0)
        assert answer.answered and answer.answer == f"{quoted} [1]", question


def test_selection_a_name_is_said_whole() -> None:
    # "Lisa" is said, and "Su" is the stem of "sued": neither makes "Lisa Su" said.
    text = (
        "Lisa M. Caputo is a director of the company. The company sued its former supplier in 2022."
    )
    answer = _ask("Who is Lisa Su?", [text], abstain_threshold=0.0)
    assert not answer.answered and answer.reason == "unsupported_detail"
    assert answer.message is not None and "never mention Lisa Su." in answer.message
    for question in ("Who is Lisa Caputo?", "Who is Lisa M. Caputo?"):
        answer = _ask(question, [text], abstain_threshold=0.0)
        assert answer.answered and "Lisa M. Caputo is a director" in answer.answer, question


def test_selection_a_word_spelt_as_meant_is_no_typo_of_a_nearby_word() -> None:
    # "mining" is one letter from "mineral"'s stem, and "charging" from "changes"': both
    # are English words, spelt as meant, so the passage does not say them.
    japan = (
        "Japan ensures the supply of mineral resources for the battery industry and "
        "publishes the changes to its battery standards every year."
    )
    for question, word in (
        ("What does Japan do about mining?", "mining"),
        ("Does Japan regulate charging?", "regulate or charging"),
    ):
        answer = _ask(question, [japan], abstain_threshold=0.0)
        assert not answer.answered and answer.reason == "unsupported_detail", question
        assert answer.message is not None and f"never mention {word}." in answer.message
    # A word no dictionary has may be a typo of the passage's.
    answer = _ask("What does Japan do about minerls?", [japan], abstain_threshold=0.0)
    assert answer.answered


def test_selection_a_name_no_passage_says_is_not_answered() -> None:
    # Nothing retrieved says "Tesla" or "Volkswagen": the EV sentences near them are not
    # about them.
    text = (
        "Thailand, Indonesia, and Vietnam attract foreign investment in EV plants with policy "
        "guidance. The Indian government promotes the localization of the EV supply chain."
    )
    for question, name in (
        ("What does the text say about Tesla?", "Tesla"),
        ("Does Volkswagen invest in Indonesia?", "Volkswagen"),
        ("What are Tesla's and Volkswagen's EV plans?", "Tesla or Volkswagen"),
    ):
        answer = _ask(question, [text], abstain_threshold=0.0)
        assert not answer.answered and answer.reason == "unsupported_detail", question
        assert answer.message is not None and f"never mention {name}." in answer.message

    # A name another document of the corpus says is not unknown: a capitalised common
    # word ("Free cashflow") always is somewhere.
    def with_vocabulary(question: str, candidates: Sequence[Candidate]) -> Evidence:
        plain = _evidence(question, candidates)
        return Evidence(plain.query_vector, plain.sentence_vectors, {"volkswagen": 1.0})

    answer = _ask(
        "Does Volkswagen invest in Indonesia?",
        [text],
        evidence=with_vocabulary,
        abstain_threshold=0.0,
    )
    assert answer.answered
    # A name the passage says however the question capitalises, inflects or misspells it,
    # a short abbreviation the asker made up, and a question in title case, are answered.
    for question in (
        "Who attracts foreign Investment in EV plants?",
        "Which countries give Policy Guidance?",  # "Policy" and "Guidance" are there
        "What does the Indian government do about Localisation?",  # spelt otherwise
        "Who Localizes the supply chain?",  # inflected
        "What does India do about the EV SC?",  # an abbreviation of the asker's
        "What Does The Indian Government Promote?",
    ):
        answer = _ask(question, [text], abstain_threshold=0.0)
        assert answer.answered, question


def test_selection_the_first_quote_comes_from_a_passage_naming_the_asked_actor() -> None:
    # Korea's hydrogen sentence ranks first on "hydrogen"; the answer about the EU must not
    # open with it, even though the EU passage is cited beside it.
    eu = "The EU and the US are seeking partners to secure hydrogen and raw materials."
    evidence = _cosines({"It has strengthened": 0.9, "The EU and the US": 0.8})
    answer = _ask("What is the EU position on hydrogen standards?", [KOREA, eu], evidence=evidence)
    assert answer.answered
    assert answer.answer.startswith(eu), answer.answer
    assert "Korean" not in answer.answer


def test_selection_a_demonym_covers_the_country_the_question_names() -> None:
    # "Japanese" names Japan, so the second sentence also covers the question's "Japan",
    # and outranks Korea's (ranked first), which names no Japan.
    korea = "Korea helps companies abroad with export credit."
    japan = "The Japanese government helps companies abroad with loans."
    question = "How does Japan help Japanese companies abroad?"
    answer = _ask(question, [korea, japan], abstain_threshold=0.3)
    assert answer.answered
    assert answer.answer == f"{japan} [1]" and answer.citations[0].document_id == "doc"


def test_selection_continuation_that_adds_nothing_asked_is_left_out() -> None:
    # "In addition, it promotes …" is about Korea too, but says nothing of the forum the
    # question asks for: the answer stops at the sentence that names it.
    # The forum sentence ranks well above the one after it.
    evidence = _cosines({"It has strengthened": 0.3})
    question = "Which hydrogen economy standards forum did Korea set up?"
    answer = _ask(question, [KOREA], evidence=evidence, abstain_threshold=0.3)
    assert answer.answered
    assert answer.answer.endswith("hydrogen economy standards forum. [1]")
    assert "small and medium-sized" not in answer.answer
    # Asked about those enterprises, the same continuation is what answers.
    answer = _ask(
        "What did Korea set up for hydrogen, and whom does it promote cooperation between?",
        [KOREA],
        abstain_threshold=0.3,
    )
    assert "small and medium-sized enterprises" in answer.answer


def test_selection_sentence_after_an_introduction_continues_it() -> None:
    # "There are about thirty …" only introduces the carotenoids; the sentence after it,
    # which names none of the question's words, says what they do.
    text = (
        "There are about thirty photosynthetic carotenoids. They help transfer and dissipate "
        "excess energy. They also colour autumn leaves."
    )
    answer = _ask("What do photosynthetic carotenoids do?", [text], abstain_threshold=0.3)
    assert answer.answered
    assert "They help transfer and dissipate excess energy." in answer.answer


def test_selection_a_recommendation_answers_what_is_recommended() -> None:
    # "Recommend" is not "suggested", but a recommendation question is answered by it.
    text = (
        "Taiwan's component makers could become the best partner of the vehicle supply "
        "chain. It is suggested that the government build a public-private platform with "
        "partners. It also raised fuel consumption standards."
    )
    question = "What does the author recommend for Taiwan's component makers?"
    evidence = _cosines({"Taiwan's": 0.3})  # the sentences after it rank well below
    answer = _ask(question, [text], evidence=evidence, abstain_threshold=0.3)
    assert answer.answered and "public-private platform" in answer.answer
    assert "fuel consumption" not in answer.answer


def test_scoring_a_pronoun_sentence_is_about_its_antecedent() -> None:
    # "It has developed ISO 34501." after a China sentence covers the question's "China";
    # the same sentence after one that names no one does not, though it ranks first.
    from qa.answer.scoring import score_sentences

    sentence = "It has developed the standard ISO 34501."
    question = "What standard has China developed?"

    def score(text: str) -> float:
        ranked = score_sentences(question, [_candidate(0, text)], _evidence)
        return next(s.score for s in ranked if s.text == sentence)

    assert score(f"China participates in standard setting. {sentence}") > score(
        f"The deals cover batteries. {sentence}"
    )


def test_selection_multi_part_answer_never_repeats_a_sentence() -> None:
    # Both asks are answered by one pronoun sentence, quoted with its antecedent: the
    # answer quotes that span once, not once per ask.
    text = (
        "The Korean government is cooperating with Australia on raw materials. It has "
        "established a hydrogen economy standards forum to formulate more than 15 global "
        "standards. In addition, it promotes technical cooperation between enterprises."
    )
    question = "What forum did Korea establish, and how many standards will it formulate?"
    answer = _ask(question, [text], abstain_threshold=0.3)
    assert answer.answered and not answer.uncovered
    assert answer.answer.count("The Korean government") == 1
    assert "15 global standards" in answer.answer
    [citation] = answer.citations
    assert [text[a:b] for a, b in citation.spans] == [citation.quote]


def test_selection_continuation_scoring_close_joins_though_it_repeats_no_word() -> None:
    # "He was installed as the emperor (Emperor Wenzong)" says none of the question's
    # words, but ranks close to the sentence it continues: it is the answer.
    text = (
        "Tugh Temur was recalled to Khanbaliq by the commander. He was installed as the "
        "emperor (Emperor Wenzong) in Khanbaliq."
    )
    answer = _ask("What was Tugh Temur's imperial title?", [text], abstain_threshold=0.3)
    assert answer.answered and "Emperor Wenzong" in answer.answer


def test_selection_continuation_about_another_actor_than_asked_is_left_out() -> None:
    # Asked about Australia, the Korea sentence that names it answers; "It has
    # strengthened …" and "In addition, it promotes …" continue Korea's story, not
    # Australia's, though they rank close to it.
    evidence = _cosines({"The Korean": 0.3, "It has": 0.25, "In addition": 0.25})
    answer = _ask("What role does Australia play?", [KOREA], evidence=evidence)
    assert answer.answered
    assert answer.answer.startswith("The Korean government is cooperating with Australia")
    assert "hydrogen" not in answer.answer and "small and medium" not in answer.answer
    # Asked about Korea, the same continuation is about what was asked, and joins.
    answer = _ask("What has Korea done?", [KOREA], evidence=evidence)
    assert "hydrogen economy standards forum" in answer.answer


def test_selection_list_member_must_say_a_word_of_the_question() -> None:
    # Both further sentences are about Taiwan and rank within the list margin; only the
    # one that says "incentives" is one of the incentives asked for.
    text = (
        "The Taiwanese government offers incentives for the purchase of EV. "
        "Taiwan can become the best partner of the vehicle supply chain. "
        "Taiwan also offers tax incentives to automakers."
    )
    answer = _ask(
        "What incentives does the Taiwanese government offer?", [text], abstain_threshold=0.3
    )
    assert answer.answered and "tax incentives" in answer.answer
    assert "best partner" not in answer.answer


def _section_candidate(
    rank: int, text: str, start: int, headings: Sequence[str], document: str = "rules"
) -> Candidate:
    sentences, at = [], 0
    for block in text.split("\n\n"):  # a heading or label is a block of its own
        sentences += [(at + a, at + b) for a, b in split_sentences(block)]
        at += len(block) + 2
    heads = {"Key obligations", "Due diligence", "Carbon footprint.", "Battery passport."}
    passage = Passage(
        id=f"p{rank}",
        document_id=document,
        title="Battery rules",
        source=f"{document}.md",
        start=start,
        end=start + len(text),
        text=text,
        sentences=sentences,
        labels=["heading" if text[a:b] in heads else "" for a, b in sentences],
        headings=list(headings),
    )
    return Candidate(rank, passage, 1.0 / (rank + 1), 0.5, 1.0)


@pytest.mark.parametrize("limit", [8, 2])
def test_selection_a_question_naming_a_section_is_answered_by_what_it_says(limit: int) -> None:
    path = ["Battery rules", "Key obligations"]
    candidates = [  # in rank order; the section runs over the first two in document order
        _section_candidate(
            0,
            "Battery passport.\n\nFrom 2027, every EV battery needs a passport.\n\n"
            "Due diligence\n\nEconomic operators must set up a policy.",
            500,
            path,
        ),
        _section_candidate(
            1,
            "Key obligations\n\nCarbon footprint.\n\nFrom 2025, EV batteries must carry a "
            "declaration. Makers file it with the Commission.",
            100,
            path,
        ),
        _section_candidate(2, "They must also report recycled content.", 900, path),
    ]
    answer = compose_answer(
        "What are the key obligations?",
        lambda n: candidates[:n],
        _evidence,  # every cosine 0: only the heading can say what answers
        Settings(abstain_threshold=0.5, max_list_sentences=limit),
        k=1,
    )
    assert answer.answered
    declaration = (
        "From 2025, EV batteries must carry a declaration. Makers file it with the Commission."
    )
    passport = "From 2027, every EV battery needs a passport."
    # Document order; the due-diligence sentence is another section's, and "They must also
    # report …" has no antecedent in its passage.
    expected = f"{declaration} [1] {passport} [2]" if limit == 8 else f"{declaration} [1]"
    assert answer.answer == expected
    # Only a capped answer says that the section goes on.
    assert (answer.caution is not None) is (limit == 2)
    if answer.caution is not None:
        assert "Key obligations" in answer.caution and "QA_MAX_LIST_SENTENCES" in answer.caution
    assert all(c.headings == path for c in answer.citations)
    for citation in answer.citations:
        text = candidates[[c.passage.id for c in candidates].index(citation.passage_id)].passage
        assert [text.text[a - text.start : b - text.start] for a, b in citation.spans] == [
            citation.quote
        ]


def test_selection_headings_over_each_sentence_of_a_passage() -> None:
    text = (
        "Key obligations\n\nBattery passport.\n\nFrom 2027, every EV battery needs one.\n\n"
        "Penalties\n\nFines by obligation\n\nObligation | From\n\nPassport | 2027"
    )
    candidate = _section_candidate(0, text, 0, ["Battery rules"])
    heads = {
        "Key obligations",
        "Battery passport.",
        "Penalties",
        "Fines by obligation",
        "Obligation | From",
    }
    passage = candidate.passage.model_copy(
        update={
            "labels": ["heading" if t in heads else "" for t in candidate.passage.sentence_texts()]
        }
    )
    assert headings_over(passage) == [
        (["Battery rules", "Key obligations"], ""),
        (["Battery rules", "Key obligations"], "Battery passport."),
        (["Battery rules", "Key obligations"], "Battery passport."),
        (["Battery rules", "Penalties"], ""),
        # A table's caption and header row head its rows; they open no section.
        (["Battery rules", "Penalties"], "Fines by obligation"),
        (["Battery rules", "Penalties"], "Obligation | From"),
        (["Battery rules", "Penalties"], "Obligation | From"),
    ]


def test_selection_a_section_named_in_two_documents_is_quoted_from_each() -> None:
    eu = "Key obligations\n\nEV batteries must carry a carbon footprint declaration."
    us = "Key obligations\n\nBattery makers must report the origin of their minerals."
    other = "Penalties\n\nMember states set fines for breaches."
    candidates = [
        _section_candidate(0, us, 0, ["US rules"], document="us"),
        _section_candidate(1, other, 500, ["EU rules"], document="eu"),
        _section_candidate(2, eu, 0, ["EU rules"], document="eu"),
    ]
    answer = compose_answer(
        "What are the key obligations?",
        lambda n: candidates[:n],
        _evidence,
        Settings(abstain_threshold=0.5),
        k=3,
    )
    assert answer.answered
    # The best-ranked document's section first, each cited to its own document.
    assert answer.answer == (
        "Battery makers must report the origin of their minerals. [1] "
        "EV batteries must carry a carbon footprint declaration. [2]"
    )
    assert [c.document_id for c in answer.citations] == ["us", "eu"]
