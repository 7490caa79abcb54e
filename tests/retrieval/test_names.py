"""A question that names a document, by its title or file name, reads that document first."""

from __future__ import annotations

from qa.retrieval.lexical import document_label
from qa.retrieval.names import DocumentNames, name_terms, named_first
from qa.service import QAService

FILINGS = [
    ("a17", "Commission File No. 000-22513", "AMAZON_2017_10K.pdf"),
    ("a19", "Commission File No. 000-22513", "AMAZON_2019_10K.pdf"),
    ("n17", "For the transition period from to", "NETFLIX_2017_10K.pdf"),
    ("mgm", "MGMRESORTS 2022Q4 EARNINGS", "MGMRESORTS_2022Q4_EARNINGS.pdf"),
    ("bb", "UNITED STATES SECURITIES AND EXCHANGE COMMISSION", "BESTBUY_2023_10K.pdf"),
]


def test_document_label_adds_the_file_name_as_words() -> None:
    assert document_label("Commission File No. 000-22513", "filings/AMAZON_2019_10K.pdf") == (
        "Commission File No. 000-22513\nAMAZON 2019 10K"
    )
    assert document_label("Battery rules", "battery-rules.md") == "Battery rules"


def test_name_terms_are_capitalised_words_not_sentence_starts() -> None:
    terms = name_terms("What is Amazon's FY2017 days payable outstanding (DPO)?")
    assert terms.words == {"amazon", "fy", "dpo"} and terms.prefixes == {"dpo"}
    # A capitalised first word is not a name; an acronym is, wherever it stands.
    terms = name_terms("Battery rules? Which apply in the EU. ASEAN too")
    assert terms.words == {"eu", "asean"} and terms.prefixes == {"asean"}
    assert name_terms("how are batteries recycled?") == name_terms("")
    # A run of capitalised words is also one word, as file names write it.
    terms = name_terms("Are Best Buy's margins above Johnson & Johnson's?")
    assert {"best", "bestbuy", "johnsonjohnson"} <= terms.words and "are" not in terms.words


def test_named_documents_by_file_name_year_and_prefix() -> None:
    names = DocumentNames(FILINGS)
    assert names.named("What is Amazon's FY2017 days payable outstanding?") == ["a17"]
    assert names.named("By the income statement, what is Amazon's FY2019 net income?") == ["a19"]
    assert names.named("How did Amazon's sales grow?") == ["a17", "a19"]  # no year: both
    assert names.named("Which region had the highest EBITDAR for MGM in FY2022?") == ["mgm"]
    assert names.named("What acquisitions has Best Buy made?") == ["bb"]  # BESTBUY
    assert names.named("What did the Amaz team say?") is None  # not an acronym: no prefix
    assert names.named("Compare Netflix with Best Buy in FY2017.") == ["n17", "bb"]
    # Names no document, or a word too short to be the start of a name: nothing is chosen.
    assert names.named("What was the total of current liabilities in 2017?") is None
    assert names.named("What did the Co say in its 10-K?") is None


def test_initialisms_name_the_documents_whose_words_they_abbreviate() -> None:
    names = DocumentNames(
        [
            *FILINGS,
            ("jnj", "FOR IMMEDIATE RELEASE", "JOHNSON_JOHNSON_2022Q4_EARNINGS.pdf"),
            ("ira", "Inflation Reduction Act guidance", "ira-guidance.pdf"),
            ("eu", "European Union battery rules", "eu-batteries.md"),
            ("noise", "Urban Noise rules", "urban-noise.md"),
        ]
    )
    assert names.named("Is growth in JnJ's adjusted EPS expected to accelerate?") == ["jnj"]
    assert names.named("Which battery parts does the IRA exclude?") == ["ira"]
    assert names.named("What does the EU require?") == ["eu"]  # a label word, exactly
    # Two capitals are too few to stand for "Urban Noise": only a whole label word counts.
    assert names.named("Which rules cover the UN?") is None
    # Initials count from the start of a title or file name, not from inside one.
    assert names.named("What did the SEC ask of the registrant?") is None


def test_naming_needs_a_choice_between_documents() -> None:
    assert DocumentNames(FILINGS[:1]).named("What is Amazon's revenue?") is None
    both = DocumentNames(FILINGS[:2])
    assert both.named("What is Amazon's revenue?") is None  # names every document
    assert both.named("What was Amazon's revenue in 2019?") == ["a19"]


def test_named_first_fills_from_the_rest_of_the_corpus() -> None:
    calls: list[object] = []

    def retrieve(scope: object) -> list[str]:
        calls.append(scope)
        return ["n1", "n2"] if scope else ["o1", "n1", "o2", "o3"]

    assert named_first(retrieve, ["n"], 2, key=str) == ["n1", "n2"]
    assert calls == [["n"]]  # enough in the named documents: one search
    assert named_first(retrieve, ["n"], 4, key=str) == ["n1", "n2", "o1", "o2"]


def test_service_reads_the_named_document_first_in_search_and_ask(make_corpus, embedder) -> None:
    """Three reports alike but for their figures: only the file name says whose each is."""
    text = "Annual report\n\nNet income rose to {} million, and revenue grew in the year."
    files = {
        "acme_2019_report.txt": text.format(5),
        "globex_2019_report.txt": text.format(7),
        "initech_2019_report.txt": text.format(9),
        "umbrella_2019_report.txt": "Annual report\n\nThe board met four times in the year.",
    }
    settings, _ = make_corpus(files)
    service = QAService(settings, embedder=embedder)
    service.ingest()
    for name, figure in (("Globex", "7"), ("Initech", "9"), ("Acme", "5")):
        hits = service.search(f"What was {name}'s net income?", k=3).hits
        assert hits[0].source.startswith(name.lower()) and len(hits) == 3
        answer = service.ask(f"What was {name}'s net income?")
        assert answer.answered and f"rose to {figure} million" in answer.answer
        assert {c.source for c in answer.citations} == {f"{name.lower()}_2019_report.txt"}
    # The named document does not say: the answer comes from the corpus, and cites whose it is.
    answer = service.ask("What was Umbrella's net income?")
    assert answer.answered and "umbrella" not in {c.source[:8] for c in answer.citations}
    # ... and it says so: the figure quoted is not the named company's.
    assert answer.caution is not None and "umbrella_2019_report.txt" in answer.caution
    assert "does not say" in answer.caution
    assert service.ask("What was Acme's net income?").caution is None
    # A document chosen by the caller wins over the one the question names.
    acme = next(d.id for d in service.documents() if d.source.startswith("acme"))
    hits = service.search("What was Globex's net income?", k=3, documents=[acme]).hits
    assert [h.source for h in hits] == ["acme_2019_report.txt"]
