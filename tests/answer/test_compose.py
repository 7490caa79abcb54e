"""Answers end to end on the seed, with the real model and the bundled answer model: verbatim,
attributed, cited quotes, or abstentions with a reason."""

from __future__ import annotations

import json

import pytest
from conftest import EVAL_DIR, SEED, SEED_DEV, CorpusFactory

from qa.answer.compose import ELISION
from qa.attribution import is_bare_reference
from qa.encoders.sentence_transformer import SentenceTransformerEmbedder
from qa.models import Answer
from qa.service import QAService

pytestmark = pytest.mark.e2e

QUESTIONS = [
    json.loads(line)["question"]
    for path in (SEED_DEV, EVAL_DIR / "seed-dev-extra.jsonl")
    for line in path.read_text(encoding="utf-8").splitlines()
    if line.strip()
]


def _ingested(
    make_corpus: CorpusFactory, embedder: SentenceTransformerEmbedder, files: dict[str, str]
) -> QAService:
    """A service over a fresh corpus of `files`, indexed."""
    settings, _ = make_corpus(files)
    service = QAService(settings, embedder=embedder)
    service.ingest()
    return service


def _check_grounded(answer: Answer, service: QAService) -> None:
    by_n = {c.n: c for c in answer.citations}
    assert sorted(by_n) == list(range(1, len(by_n) + 1))
    pieces = [p.strip() for p in answer.answer.split("]") if p.strip()]
    for piece in pieces:
        quote, _, marker = piece.rpartition("[")
        citation = by_n[int(marker)]
        # A quote cut at the end of a clause is marked so; the words are still verbatim.
        quote = quote.strip().removeprefix(ELISION).removesuffix(ELISION).strip()
        assert quote in citation.quote and quote in citation.text
    for citation in answer.citations:
        text = service.document(citation.document_id).text
        assert " ".join(text[a:b] for a, b in citation.spans) == citation.quote
        assert text[citation.start : citation.end] == citation.text


def _one_quote(answer: Answer, service: QAService) -> tuple[str, str, str]:
    """The document text before the answer's one quoted span, the span, and the text after;
    the answer is checked grounded, and the span is its citation's quote."""
    _check_grounded(answer, service)
    [citation] = answer.citations
    [(a, b)] = citation.spans
    text = service.document(citation.document_id).text
    assert text[a:b] == citation.quote
    return text[:a], text[a:b], text[b:]


@pytest.mark.parametrize("question", QUESTIONS)
def test_compose_every_quote_is_verbatim_and_names_its_subject(
    seed_service: QAService, question: str
) -> None:
    answer = seed_service.ask(question)
    if not answer.answered:
        assert answer.reason and answer.message and not answer.citations
        return
    _check_grounded(answer, seed_service)
    for citation in answer.citations:
        text = seed_service.document(citation.document_id).text
        for a, b in citation.spans:
            # A span opens with the sentence that names who it is about (or a front-matter line).
            assert not is_bare_reference(text[a:b]), text[a:b]


@pytest.mark.parametrize(
    "question",
    [
        "Who wrote this?",
        "Who's the author?",
        "By whom was this written?",
        "Where does the author work?",
        "What is the author's position?",
        "What institution is the author affiliated with?",
        # Who the person the byline names is, in any order or case of the name.
        "Who is Wu Yu-Yin?",
        "who is yu-yin wu?",
    ],
)
def test_compose_who_wrote_this_uses_byline(seed_service: QAService, question: str) -> None:
    answer = seed_service.ask(question)
    assert answer.answered and "Wu, Yu-Yin" in answer.answer
    assert "Assistant Research Fellow" in answer.answer


@pytest.mark.parametrize(
    "question", ["When was it published?", "What is the publication date?", "Who is the publisher?"]
)
def test_compose_publication_questions_use_the_copyright_line(
    seed_service: QAService, question: str
) -> None:
    answer = seed_service.ask(question)
    assert answer.answered and "Chung-Hua Institution for Economic Research 2024" in answer.answer


def test_compose_who_is_a_person_the_byline_does_not_name_is_not_the_byline(
    seed_service: QAService,
) -> None:
    for question in ("Who is Wu Zetian?", "Who was Genghis Khan?"):
        assert "Wu, Yu-Yin" not in seed_service.ask(question).answer


@pytest.mark.parametrize(
    "question",
    [
        "What is the main argument of the article?",
        "What is the purpose of this report?",
        "What is the article's main point?",
    ],
)
def test_compose_what_the_document_argues_is_its_own_summary(
    seed_service: QAService, question: str
) -> None:
    answer = seed_service.ask(question)
    assert answer.answered and answer.answer.startswith("This article summarizes")
    # "The purpose of" something else is a topical question.
    answer = seed_service.ask("What is the purpose of the Mineral Security Partnership?")
    assert "This article summarizes" not in answer.answer


def test_compose_quotes_the_clause_that_answers_and_marks_the_cut(
    seed_service: QAService,
) -> None:
    answer = seed_service.ask("What does the article summarize?")
    assert answer.answered
    assert answer.answer.endswith(f"South Korea, and ASEAN countries {ELISION} [1]")
    assert "explores the possible strategies" not in answer.answer
    _, quote, after = _one_quote(answer, seed_service)
    assert quote.endswith("ASEAN countries")
    assert after.startswith(", and explores")  # the sentence goes on past the quote
    # The rest of the sentence is the answer to "What is the article about?": kept.
    answer = seed_service.ask("What is the article about?")
    assert "explores the possible strategies" in answer.answer and ELISION not in answer.answer
    # With QA_QUOTE_CLAUSES off, whole sentences.
    whole = QAService(
        seed_service.settings.model_copy(update={"quote_clauses": False}),
        embedder=seed_service.embedder,
    )
    answer = whole.ask("What does the article summarize?")
    assert "explores the possible strategies" in answer.answer and ELISION not in answer.answer


def test_compose_quotes_only_the_clauses_about_the_actor_asked(seed_service: QAService) -> None:
    answer = seed_service.ask("What resource does the Philippines have?")
    assert answer.answered
    assert answer.answer.startswith(f"{ELISION} the Philippines, with its rich nickel ore")
    assert "foreign investment" not in answer.answer
    before, _, _ = _one_quote(answer, seed_service)
    assert before.endswith("policy guidance, while ")
    # The nickel is the Philippines': it is never quoted as Indonesia's.
    answer = seed_service.ask("What is Indonesia's nickel policy?")
    assert "nickel" not in answer.answer
    # Asked about the bloc, the sentence is about its members: whole.
    answer = seed_service.ask("What is ASEAN doing?")
    assert "foreign investment" in answer.answer and "rich nickel ore" in answer.answer


def test_compose_recommendations_are_quoted_whole(seed_service: QAService) -> None:
    # "… can use …, and establish a public-private sector platform …" is all suggested.
    answer = seed_service.ask("What is recommended for Taiwan?")
    assert answer.answered and "public-private sector platform" in answer.answer


@pytest.mark.parametrize(
    ("question", "says", "not_says"),
    [
        # The first sentence about Japan says what was asked; the second is more of Japan.
        (
            "How does the Japanese government help its companies abroad?",
            "expanding overseas markets",
            "Sustainable Battery Research Group",
        ),
        # The second says what was asked, and the first says nothing asked it does not.
        (
            "What kind of standards does Japan want to internationalize?",
            "internationalization of Japanese domestic standards",
            "solid-state battery technology",
        ),
    ],
)
def test_compose_one_sentence_when_more_of_the_same_subject_adds_nothing_asked(
    seed_service: QAService, question: str, says: str, not_says: str
) -> None:
    answer = seed_service.ask(question)
    assert answer.answered and says in answer.answer
    assert not_says not in answer.answer


def test_compose_author_in_a_topical_question_is_not_the_byline(seed_service: QAService) -> None:
    answer = seed_service.ask("What does the author recommend for Taiwan?")
    assert answer.answered and "Wu, Yu-Yin" not in answer.answer
    assert "Taiwan" in answer.answer
    answer = seed_service.ask("What is the author's position on cooperation with ASEAN?")
    assert "Wu, Yu-Yin" not in answer.answer


def test_compose_pronoun_sentence_about_korea_is_not_shown_as_china(
    seed_service: QAService,
) -> None:
    answer = seed_service.ask("What has China done in international standard setting?")
    assert answer.answered and "ISO 34501" in answer.answer
    assert "hydrogen economy standards forum" not in answer.answer


def test_compose_answer_about_a_named_country_quotes_no_other_country(
    seed_service: QAService,
) -> None:
    answer = seed_service.ask("What is the Philippines trying to build with its mineral resources?")
    assert answer.answered and "battery supply chain" in answer.answer
    assert "Japan" not in answer.answer and len(answer.citations) == 1


def test_compose_a_standard_named_by_its_code_is_not_its_organisation(
    seed_service: QAService,
) -> None:
    # "ISO 34501" is the standard: the question is about China's partners in it, not about
    # China's dealings with the ISO, which the text never names as a body.
    answer = seed_service.ask("How many countries worked with China on ISO 34501?")
    assert answer.answered and "more than 20 countries" in answer.answer


def test_compose_drops_a_quote_where_the_asked_actor_is_only_a_counterpart(
    seed_service: QAService,
) -> None:
    # Korea's negotiations with the US rank with the EU and US platforms; they are what
    # Korea does, not how the US ensures its supply.
    answer = seed_service.ask("How does the US ensure raw material supply?")
    assert answer.answered and "Mineral Security Partnership" in answer.answer
    assert "Korean government" not in answer.answer and len(answer.citations) == 1
    # Asked of Korea, the same sentence is the answer.
    answer = seed_service.ask("How does Korea ensure raw material supply?")
    assert answer.answered and "The Korean government is cooperating" in answer.answer


def test_compose_a_question_about_two_actors_quotes_each(seed_service: QAService) -> None:
    # No one passage says what both do on standards: each gets its own sentence.
    answer = seed_service.ask("What do Japan and China do on standards?")
    assert answer.answered, answer.message
    assert "ISO 34501" in answer.answer and "Japan" in answer.answer
    assert len(answer.citations) == 2 and answer.uncovered == []


def test_compose_comparison_quotes_each_actor_on_its_own(seed_service: QAService) -> None:
    # Not "they do not mention South Korea in connection with it", nor a relation check:
    # a sentence about Japan and one about Korea, each naming its own subject.
    answer = seed_service.ask("Compare Japan and Korea on batteries.")
    assert answer.answered and len(answer.citations) == 2
    _check_grounded(answer, seed_service)
    assert answer.citations[0].quote.startswith("Japan")
    assert answer.citations[1].quote.startswith("The Korean government")
    answer = seed_service.ask("What is the difference between Japan's and China's approach?")
    assert answer.answered
    assert {c.quote.split()[0].strip(",") for c in answer.citations} == {"Japan", "China"}
    # A side the texts say nothing of is named as not covered; the EU's sentences do not
    # stand in for Germany's.
    answer = seed_service.ask("Compare Germany and Japan on batteries.")
    assert answer.answered and answer.answer.startswith("Japan")
    assert "EU" not in answer.answer and answer.uncovered == ["Germany: batteries"]
    answer = seed_service.ask("Compare Germany and France on batteries.")
    assert not answer.answered and answer.reason == "unsupported_detail"
    assert answer.message is not None and "Germany or France" in answer.message


def test_compose_what_the_documents_say_about_a_topic(seed_service: QAService) -> None:
    # The words around the topic blur the question, and nothing scored over the threshold;
    # the sentences naming the topic answer it, in document order.
    answer = seed_service.ask("What does the article say about critical minerals?")
    assert answer.answered and "Critical Raw Materials Club" in answer.answer
    _check_grounded(answer, seed_service)
    answer = seed_service.ask("What does the report say about semiconductors?")
    assert answer.answered and "semiconductor projects" in answer.answer
    answer = seed_service.ask("What does the article say about raw materials?")
    assert answer.answered and [c.quote.split()[1] for c in answer.citations] == ["EU", "Korean"]
    # Capped, it says that there is more.
    capped = QAService(
        seed_service.settings.model_copy(update={"max_list_sentences": 1}),
        embedder=seed_service.embedder,
    )
    answer = capped.ask("What does the article say about raw materials?")
    assert answer.answered and len(answer.citations) == 1
    assert answer.caution is not None and "QA_MAX_LIST_SENTENCES" in answer.caution
    # A topic nothing names is still not covered.
    answer = seed_service.ask("What does the article say about tidal energy?")
    assert not answer.answered


def test_compose_list_question_names_every_actor(seed_service: QAService) -> None:
    answer = seed_service.ask("Which countries are linked to semiconductor projects?")
    assert answer.answered
    assert "India" in answer.answer and "United States" in answer.answer


@pytest.mark.parametrize(
    "question",
    [
        "What was the market share of electric cars in Taiwan in 2023?",
        "Which company sells the most solid-state batteries?",
        "How do I bake a chocolate cake?",
        "What is the capital of France?",
        "How many charging stations does the EU have?",
    ],
)
def test_compose_abstains_with_reason_and_suggestions(
    seed_service: QAService, question: str
) -> None:
    answer = seed_service.ask(question)
    assert not answer.answered and not answer.citations
    assert answer.reason in ("no_evidence", "unsupported_detail")
    assert answer.message == answer.answer and answer.message
    assert answer.suggestions


def test_compose_a_country_no_passage_names_is_the_reason_given(seed_service: QAService) -> None:
    for question, name in (
        ("Does the article mention Germany?", "Germany"),
        ("What is the capital of France?", "France"),
    ):
        answer = seed_service.ask(question)
        assert not answer.answered and answer.reason == "unsupported_detail", question
        assert answer.message is not None and f"never mention {name}." in answer.message
    # Weak evidence on what the texts name stays `no_evidence`.
    answer = seed_service.ask("How do I bake a chocolate cake?")
    assert not answer.answered and answer.reason == "no_evidence"


def test_compose_other_language_abstains_with_language_reason(seed_service: QAService) -> None:
    answer = seed_service.ask("中国在自动驾驶方面与谁合作?")
    assert not answer.answered and answer.reason == "language"
    assert "English" in answer.answer and "QA_EMBEDDING_MODEL" in answer.answer


def test_compose_threshold_is_configurable(seed_service: QAService) -> None:
    strict = QAService(
        seed_service.settings.model_copy(update={"abstain_threshold": 1.0}),
        embedder=seed_service.embedder,
    )
    assert not strict.ask("What forum did Korea set up for hydrogen?").answered
    lenient = QAService(
        seed_service.settings.model_copy(update={"abstain_threshold": 0.0}),
        embedder=seed_service.embedder,
    )
    assert lenient.ask("How do I bake a chocolate cake?").answered


def test_compose_document_filter(seed_service: QAService) -> None:
    document = seed_service.documents()[0].id
    hits = seed_service.search("hydrogen", documents=[document]).hits
    assert hits and all(h.document_id == document for h in hits)


def test_compose_headings_are_never_quoted_as_answers(make_corpus, embedder) -> None:
    service = _ingested(
        make_corpus,
        embedder,
        {
            "due-diligence.md": "# Supplier rules\n\n## Due diligence\n\n"
            "Importers must verify the origin of battery minerals every year.\n\n"
            "## Implications for non-EU suppliers\n\n"
            "Suppliers outside the EU must publish an audit of their mines.\n"
        },
    )
    for question in ("How often must importers verify the origin of battery minerals?",
                     "What must suppliers outside the EU publish?"):  # fmt: skip
        answer = service.ask(question)
        assert answer.answered, question
        assert "Due diligence [" not in answer.answer
        assert "Implications for non-EU suppliers [" not in answer.answer
        assert answer.citations[0].headings  # the heading shows as context instead


def test_compose_a_heading_run_into_its_sentence_is_not_quoted(make_corpus, embedder) -> None:
    # Policies pasted as plain text run their headings into the first sentence.
    text = (
        "Acme Privacy Policy\n\n"
        "INFORMATION SHARING AND DISCLOSURE Acme does not rent or sell personal information "
        "about you to other companies. CONFIDENTIALITY AND SECURITY We limit access to "
        "personal information about you to employees who need it to do their jobs.\n"
    )
    service = _ingested(make_corpus, embedder, {"acme.txt": text})
    answer = service.ask("Does Acme sell personal information to other companies?")
    assert answer.answered
    assert answer.answer.startswith("Acme does not rent or sell personal information")
    assert "DISCLOSURE" not in answer.answer and "SECURITY" not in answer.answer
    [citation] = answer.citations
    [(a, b)] = citation.spans
    assert text[a:b] == citation.quote  # still one verbatim span, document offsets


def test_compose_a_title_case_heading_run_into_its_sentence_is_not_quoted(
    make_corpus, embedder
) -> None:
    text = (
        "Acme Privacy Policy\n\n"
        "How Acme Shares Your Personal Information We do not rent or sell personal "
        "information about you to other companies. What Security Measures Do We Take- We "
        "limit access to personal information about you to employees who need it.\n"
    )
    service = _ingested(make_corpus, embedder, {"acme.txt": text})
    for question, start in [
        ("Does Acme sell personal information to other companies?", "We do not rent"),
        ("Who can access my personal information?", "We limit access"),
    ]:
        answer = service.ask(question)
        assert answer.answered, question
        assert answer.answer.startswith(start), answer.answer
        assert "Shares Your" not in answer.answer and "Take-" not in answer.answer
        for citation in answer.citations:
            assert [text[a:b] for a, b in citation.spans] == [citation.quote]


def test_compose_never_quotes_a_bold_label_or_a_table_header_row(make_corpus, embedder) -> None:
    text = (
        "# Battery rules\n\n## Key obligations\n\n"
        "- **Battery passport.** From February 2027, every EV battery needs a digital "
        "battery passport.\n"
        "- **Carbon footprint.** From 18 February 2025, EV batteries must carry a carbon "
        "footprint declaration.\n\n"
        "| Obligation | Applies from | Who |\n|---|---|---|\n"
        "| Battery passport | 18 Feb 2027 | EV and industrial batteries |\n"
    )
    service = _ingested(make_corpus, embedder, {"rules.md": text})
    answer = service.ask("When is the battery passport required?")
    assert answer.answered
    assert answer.answer.startswith("From February 2027, every EV battery needs"), answer.answer
    assert "Battery passport. From" not in answer.answer
    for question in ("Who does the battery passport apply to?", "What obligations apply?"):
        assert "Obligation | Applies from | Who" not in service.ask(question).answer


def test_compose_never_quotes_a_label_run_into_a_plain_text_paragraph(
    make_corpus, embedder
) -> None:
    # A privacy policy pasted as plain text: its bold labels are short phrases run into
    # their paragraphs. The label guides the ranking; the sentences after it answer.
    text = (
        "Privacy Policy\n\nWe collect information from and about you. Contact information. "
        "For example, we might collect your name and street address. We might also collect "
        "your phone number or email.\n\nPayment and billing information. For example, we "
        "collect your credit card number and zip code when you buy a ticket.\n\n"
        "Demographic information. We may collect information about events you like or "
        "products you buy. We might collect this as part of a survey, for example.\n"
    )
    service = _ingested(make_corpus, embedder, {"policy.txt": text})
    answer = service.ask("Do you keep a record of my demographic information?")
    assert answer.answered
    assert "events you like or products you buy" in answer.answer, answer.answer
    assert "Demographic information." not in answer.answer
    answer = service.ask("Do you ask for my contact information?")
    assert answer.answered and "Contact information." not in answer.answer
    assert "name and street address" in answer.answer or "phone number" in answer.answer


def test_compose_a_name_in_the_title_is_said_by_every_passage_under_it(
    make_corpus, embedder
) -> None:
    # The obligations never say "EU": the document's title does, and they answer.
    text = (
        "# EU Battery Regulation: what changes for EV batteries\n\n## Scope\n\n"
        "The Batteries Regulation (EU) 2023/1542 replaces the 2006 Batteries Directive. It "
        "applies to all batteries placed on the EU market, whether made in the EU or "
        "imported.\n\n## Key obligations\n\n"
        "- **Carbon footprint.** From 18 February 2025, EV batteries must carry a carbon "
        "footprint declaration.\n"
        "- **Recycled content.** From 2031, new EV batteries must contain at least 16% "
        "recycled cobalt, 6% recycled lithium and 6% recycled nickel.\n\n"
        "## Implications for non-EU suppliers\n\n"
        "Suppliers in Japan, Korea and China that export cells to Europe will need to share "
        "data for the battery passport.\n"
    )
    service = _ingested(make_corpus, embedder, {"eu-battery-regulation.md": text})
    answer = service.ask("How much recycled cobalt does the EU require in new batteries?")
    assert answer.answered
    assert answer.answer.startswith("From 2031, new EV batteries must contain"), answer.answer


def test_compose_what_each_actor_does_answers_for_those_the_texts_cover(
    seed_service: QAService,
) -> None:
    # The article says nothing of Germany: Japan's part is answered, Germany's not covered.
    answer = seed_service.ask("What do Germany and Japan do on batteries?")
    assert answer.answered and "Japan" in answer.answer
    assert answer.uncovered == ["Germany: batteries"]
    _check_grounded(answer, seed_service)
    # India is only Korea's partner in Korea's sentence: that does not say what India does.
    answer = seed_service.ask("What do Korea and India do on batteries?")
    assert answer.answered and "The Korean government" in answer.answer
    assert "The Indian government" in answer.answer or answer.uncovered == ["India: batteries"]
    # Neither covered: an abstention that names both.
    answer = seed_service.ask("What do Germany and France do on batteries?")
    assert not answer.answered and answer.reason == "unsupported_detail"
    assert "Germany or France" in (answer.message or "")
    # Dealings between them are not asked of each: nothing ties Germany to Japan.
    answer = seed_service.ask("How do Germany and Japan cooperate with each other?")
    assert not answer.answered and answer.reason == "unsupported_detail"


def test_compose_a_named_document_that_covers_part_gives_way_to_the_corpus(
    make_corpus, embedder
) -> None:
    # "EU" names the briefing, which says nothing of the US; the article says what both did.
    briefing = (
        "# EU Battery Regulation: what changes for EV batteries\n\n## Scope\n\n"
        "The Batteries Regulation (EU) 2023/1542 replaces the 2006 Batteries Directive. It "
        "applies to all batteries placed on the EU market, whether made in the EU or "
        "imported.\n\n## Due diligence\n\n"
        "Economic operators with a turnover above 40 million euros must run supply-chain due "
        "diligence on cobalt, lithium, nickel and natural graphite.\n"
    )
    files = {"eu-battery-regulation.md": briefing, SEED.name: SEED.read_text(encoding="utf-8")}
    service = _ingested(make_corpus, embedder, files)
    answer = service.ask("What platforms have the EU and the US established for critical minerals?")
    assert answer.answered and "Mineral Security Partnership" in answer.answer
    assert answer.uncovered == []
    assert answer.caution is not None and "eu-battery-regulation.md" in answer.caution


def test_compose_answers_a_question_naming_a_section_from_the_sentences_under_it(
    make_corpus, embedder
) -> None:
    text = (
        "# Battery rules\n\n"
        "## Overview\n\nThe regulation entered into force on 17 August 2023 and covers the "
        "whole life cycle of batteries.\n\n"
        "## Key obligations\n\n"
        "- **Carbon footprint.** From 18 February 2025, EV batteries must carry a carbon "
        "footprint declaration.\n"
        "- **Battery passport.** From February 2027, every EV battery needs a digital "
        "battery passport.\n\n"
        "## Due diligence\n\nEconomic operators must set up a policy for cobalt, graphite, "
        "lithium and nickel.\n"
    )
    service = _ingested(make_corpus, embedder, {"rules.md": text})
    answer = service.ask("What are the key obligations?")
    assert answer.answered, answer.message
    assert "carbon footprint declaration" in answer.answer
    assert "digital battery passport" in answer.answer
    assert "cobalt" not in answer.answer and "17 August 2023" not in answer.answer
    assert all(c.headings[-1] == "Key obligations" for c in answer.citations)


def test_compose_a_published_by_line_is_front_matter(make_corpus, embedder) -> None:
    text = (
        "# Battery rules\n\n*Published by the Policy Desk, 12 March 2024*\n\n"
        "## Key obligations\n\nBy 2031, new EV batteries must contain 85% recycled lead and "
        "6% recycled lithium.\n"
    )
    service = _ingested(make_corpus, embedder, {"rules.md": text})
    [info] = service.documents()
    assert info.metadata["publisher"] == "the Policy Desk, 12 March 2024"
    line = "Published by the Policy Desk, 12 March 2024"
    for question in ("Who published this?", "When was this published?"):
        answer = service.ask(question)
        assert answer.answered and answer.answer == f"{line} [1]", question
        assert answer.confidence == 0.9  # read off the front matter, not scored
    # The byline "By 2031, …" is not an author, and no topical answer quotes front matter.
    author = service.ask("Who wrote this?")
    assert not author.answered and author.reason == "no_evidence"
    topical = service.ask("Does the regulation require recycled lead?")
    assert topical.answered and line not in topical.answer
    assert topical.answer.startswith("By 2031, new EV batteries must contain")


def test_compose_answer_checks_can_be_turned_off(seed_service: QAService) -> None:
    question = "What was the market share of electric cars in Taiwan in 2023?"
    checked = seed_service.ask(question)
    assert not checked.answered and checked.reason == "unsupported_detail"
    unchecked = QAService(
        seed_service.settings.model_copy(update={"answer_checks": False}),
        embedder=seed_service.embedder,
    ).ask(question)
    # Without the checks the best evidence is quoted, still verbatim and cited.
    assert unchecked.answered and unchecked.citations
    assert all(c.quote in c.text for c in unchecked.citations)
