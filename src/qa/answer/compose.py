"""Composing an answer: score the retrieved sentences, choose and attribute the quotes, cite
them, or abstain with a reason.

Every answer sentence is a verbatim span of the passage it cites, and its offsets are in
the citation. Abstentions say why: no evidence, a detail the evidence lacks, a language
the model does not read, or an empty corpus.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from qa.actors import actor, find_actors, related_ids
from qa.answer.clauses import actor_clauses, clause_end
from qa.answer.language import foreign_language, language_name
from qa.answer.questions import (
    MIN_NAME_LETTERS,
    QuestionPlan,
    asked_terms,
    asked_topic,
    asks_for_deeds,
    asks_relation,
    asks_whether,
    document_ask,
    each_actor,
    named_actors,
    plan_question,
    proper_names,
    section_words,
    topic_words,
)
from qa.answer.scorer import SentenceScorer
from qa.answer.scoring import (
    LIST_RERANKED,
    RERANKED,
    EvidenceOf,
    ScoredSentence,
    headings_over,
    is_answer_line,
    score_sentences,
)
from qa.answer.selection import (
    QUOTABLE_MARGIN,
    Quote,
    attributed,
    covers,
    merged,
    select_quotes,
)
from qa.answer.spelling import misspellable_terms
from qa.attribution import (
    antecedent,
    clause_attributions,
    is_introduction,
    partner_actors,
    subject_actors,
)
from qa.config import Settings
from qa.ingest.normalize import CELL_SEPARATOR
from qa.models import AbstentionReason, Answer, Citation, Passage
from qa.retrieval.lexical import content_terms, tokenize
from qa.retrieval.retriever import Candidate, to_hit

NOT_COVERED = "The documents do not cover this question."
# Marks a quote that stops before the end of its sentence, or starts after its start.
ELISION = "…"
EMPTY_CORPUS = "No documents are indexed yet, so there is nothing to answer from."
# List questions read further down the ranking while new passages keep answering.
LIST_ROUNDS = 2
# The rule's probability is calibrated so that this is its operating point.
RULE_THRESHOLD = 0.5
# A question about the document itself, answered by the front-matter line it asks for,
# and one that names a section ("What are the key obligations?"), by what it says.
DOCUMENT_CONFIDENCE = 0.9
# A column heading that is a year: "2023", "FY2022", "Fiscal 2021", "2023 Q4".
_YEAR_CELL = re.compile(r"(?:FY|fiscal\s+|year\s+)?(?:19|20)\d\d(?:\s*Q[1-4])?", re.I)
# The front-matter labels that answer a question about the document (`document_ask`):
# "Who published this?" by a copyright line, "Published by …" or "Publisher: …".
_FRONT_MATTER = {
    "copyright": ("copyright", "publisher", "organisation", "organization"),
    "date": ("date", "published", "publisher", "copyright"),  # those that give a year
}
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_SELF_REFERENCE = re.compile(
    r"^(?:this|the present)\s+(?:article|report|paper|document|study|brief|analysis)\b", re.I
)

Retrieve = Callable[[int], Sequence[Candidate]]
# The answer to a set question from the cooperation-field map, or None to use retrieval.
FromMap = Callable[[QuestionPlan], Answer | None]


@dataclass(frozen=True)
class Judge:
    """What decides that a sentence answers: the trained scorer (or None for the rule) and
    the probability an answer needs."""

    scorer: SentenceScorer | None
    threshold: float

    @classmethod
    def of(cls, scorer: SentenceScorer | None, settings: Settings) -> Judge:
        threshold = settings.abstain_threshold
        if threshold is None:
            threshold = scorer.threshold if scorer is not None else RULE_THRESHOLD
        return cls(scorer, threshold)

    def rank(
        self,
        question: str,
        candidates: Sequence[Candidate],
        evidence_of: EvidenceOf,
        *,
        wide: bool = False,
    ) -> list[ScoredSentence]:
        """The topical sentences of `candidates`, best first; `wide` (a list question)
        lets the scorer read more of them."""
        depth = LIST_RERANKED if wide else RERANKED
        scored = score_sentences(question, candidates, evidence_of, self.scorer, depth=depth)
        return [s for s in scored if _topical(s)]


def compose_answer(
    question: str,
    retrieve: Retrieve,
    evidence_of: EvidenceOf,
    settings: Settings,
    *,
    k: int,
    scorer: SentenceScorer | None = None,
    from_map: FromMap | None = None,
) -> Answer:
    """The cited extractive answer to `question`, or an abstention with its reason.

    `retrieve(n)` returns the top-`n` candidates; a list question asks it for more while
    the passages it adds keep holding answers. `evidence_of` gives the vectors and IDFs
    their sentences are scored with; `scorer`, when given, judges the best of them.
    `from_map`, when given, answers the set questions the field map covers.
    """
    judge = Judge.of(scorer, settings)
    candidates = list(retrieve(k))
    if not candidates:
        return _abstain(question, [], "empty_corpus", EMPTY_CORPUS, 0.0)
    foreign = foreign_language(
        question, settings.model_languages, [c.passage.text for c in candidates]
    )
    if foreign is not None:
        return _abstain(question, candidates, "language", _language_message(foreign, settings), 0)
    plan = plan_question(question)
    about_document = document_ask(question)
    if about_document is not None:
        # The front matter sits in one passage per document: read the whole ranking for it.
        ranking = list(retrieve(settings.max_k))
        quotes = _document_quotes(about_document, ranking, question)
        if quotes and settings.quote_clauses:
            quotes = [_to_clause(plan, q, ranking) for q in quotes]
        if quotes:
            return _answer(question, plan, quotes, ranking, [], DOCUMENT_CONFIDENCE)
    if from_map is not None and (mapped := from_map(plan)) is not None:
        return mapped
    if (answered := _section_answer(plan, candidates, retrieve, settings)) is not None:
        return answered
    ranked = judge.rank(plan.question, candidates, evidence_of, wide=plan.is_list)
    best = ranked[0].probability if ranked else 0.0
    checked = settings.answer_checks and not plan.is_multipart

    def vocabulary() -> Mapping[str, float]:  # read only for a question that says a name
        return evidence_of(plan.question, []).idf

    if checked and (unknown := _unknown_names(plan.question, candidates, vocabulary)):
        message = f"{NOT_COVERED[:-1]}: the closest passages never mention {_joined(unknown)}."
        return _abstain(question, candidates, "unsupported_detail", message, best)
    uncovered: list[str] = []
    limit = settings.max_list_sentences if plan.is_list else settings.max_answer_sentences
    if plan.is_multipart:
        # Each ask is scored on its own: a whole two-part question reads like neither part.
        quotes, uncovered = _cover_parts(plan, candidates, evidence_of, settings, judge)
        best = max((q.probability for q in quotes), default=best)
    else:
        if plan.is_list:
            candidates, ranked = _read_on(
                plan, retrieve, evidence_of, settings, judge, candidates, ranked
            )

        def choose(sentences: Sequence[ScoredSentence]) -> list[Quote]:
            return select_quotes(
                sentences,
                candidates,
                threshold=judge.threshold,
                limit=limit,
                max_words=settings.max_quote_words,
                every_supporting=plan.is_list,
                about=_about(plan.question),
                adds=None if plan.is_list else _adds(plan.question),
                mentions=_mentions(plan.question),
                about_subject=_about_subject(plan.question),
            )

        quotes = choose(ranked)
        first = quotes[:1]
        if quotes and settings.answer_checks and not _says_what_is_named(plan, candidates, first):
            # The best quote lacks a name or a figure the question says ("in 1986"), or
            # opens the answer about the EU with a passage on Korea's hydrogen: answer from
            # the sentences that say it, if they answer too.
            saying = [s for s in ranked if _says_what_is_named(plan, candidates, [Quote.alone(s)])]
            quotes = choose(saying) or quotes
        if quotes and settings.answer_checks and (pair := _related_pair(plan.question)):
            # "Does Taiwan cooperate with India?" is answered by what names both, or not at all.
            def together(sentence: ScoredSentence) -> bool:
                quote = attributed(sentence, candidates, settings.max_quote_words)
                return quote is not None and _ties(pair, quote, candidates)

            if not all(_ties(pair, q, candidates) for q in quotes):
                quotes = choose([s for s in ranked if together(s)])
                if not quotes:
                    names = " and ".join(actor(a).name for a in pair)
                    message = (
                        f"{NOT_COVERED[:-1]}: they do not mention {names} together, as "
                        "dealing with each other."
                    )
                    return _abstain(question, candidates, "unsupported_detail", message, best)
        elif settings.answer_checks and not plan.is_list:
            quotes = _by_the_doer(plan.question, quotes, candidates)
    if not quotes and not plan.is_multipart and (topic := asked_topic(plan.question)):
        # Nothing answers "What does the article say about critical minerals?" as a whole
        # (the words around the topic blur it); the sentences that name the topic do.
        answered = _topic_answer(topic, plan, retrieve, settings, best)
        if answered is not None:
            return answered
    if not quotes and plan.compared:
        names = _joined([actor(a).name for a in plan.compared])
        message = f"{NOT_COVERED[:-1]}: the closest passages say nothing of {names}."
        return _abstain(question, candidates, "unsupported_detail", message, best)
    if not quotes:
        if missing := _missing_names(question, [c.passage for c in candidates]):
            # "Does the article mention Germany?": what it lacks is the name.
            message = f"{NOT_COVERED[:-1]}: the closest passages never mention {_joined(missing)}."
            return _abstain(question, candidates, "unsupported_detail", message, best)
        return _abstain(question, candidates, "no_evidence", NOT_COVERED, best)
    if not settings.answer_checks:
        return _answer(question, plan, quotes, candidates, uncovered, best)
    each = _each_subject(plan)
    if not plan.is_multipart and not _related_pair(plan.question):  # a comparison is multipart
        quotes = _each_named(
            plan.question,
            quotes,
            ranked,
            candidates,
            threshold=judge.threshold,
            limit=limit,
            max_words=settings.max_quote_words,
            each=each,
        )
    # A question asking what each of several actors does answers for those the quotes are
    # about, and names the others as not covered, as a comparison does.
    unsaid = _unsaid(each, quotes, candidates)
    if len(unsaid) == len(each):
        unsaid = []
    uncovered = [*uncovered, *(text for a, text in each_actor(plan.question) if a in unsaid)]
    missing = [
        actor(a).name
        for a in _missing_actors(question, _cited(candidates, quotes))
        if a not in unsaid
    ]
    # A comparison quotes each actor's own sentences, and names those it has none of.
    if not plan.compared and missing:
        message = (
            f"{NOT_COVERED[:-1]}: they do not mention {_joined(missing)} in connection with it."
        )
        return _abstain(question, candidates, "unsupported_detail", message, best)
    if (why := _topic_unsupported(plan.question, candidates, quotes)) is not None:
        return _abstain(question, candidates, "unsupported_detail", why, best)
    if _lacks_detail(plan, candidates, quotes):
        message = f"{NOT_COVERED[:-1]}: they do not give the figure, date or ranking it asks for."
        return _abstain(question, candidates, "unsupported_detail", message, best)
    if settings.quote_clauses and not plan.is_list:
        quotes = [_to_clause(plan, q, candidates) for q in quotes]
    return _answer(question, plan, quotes, candidates, uncovered, best)


def _read_on(
    plan: QuestionPlan,
    retrieve: Retrieve,
    evidence_of: EvidenceOf,
    settings: Settings,
    judge: Judge,
    candidates: list[Candidate],
    ranked: list[ScoredSentence],
) -> tuple[list[Candidate], list[ScoredSentence]]:
    """More passages for a list question, while the last ones read still held answers."""
    threshold = judge.threshold
    for _ in range(LIST_ROUNDS):
        read = len(candidates)
        tail = {c for c in range(read // 2, read)}
        if not any(s.candidate in tail and s.probability >= threshold for s in ranked):
            break
        more = list(retrieve(min(read * 2, settings.max_k)))
        if len(more) <= read:
            break
        candidates = [*candidates, *more[read:]]
        ranked = judge.rank(plan.question, candidates, evidence_of, wide=True)
    return candidates, ranked


def _cover_parts(
    plan: QuestionPlan,
    candidates: Sequence[Candidate],
    evidence_of: EvidenceOf,
    settings: Settings,
    judge: Judge,
) -> tuple[list[Quote], list[str]]:
    """A quote for each ask of a multi-part question, and the asks nothing answers."""
    chosen: list[Quote] = []
    uncovered: list[str] = []
    for i, ask in enumerate(plan.asks):
        ranked = [
            s
            for s in judge.rank(ask.text, candidates, evidence_of)
            if not (settings.answer_checks and ask.lacks_detail(s.text))
        ]
        if plan.compared:  # a comparison: this actor's side is what it is said to do
            ranked = [s for s in ranked if _is_subject(plan.compared[i], s, candidates)]
        best_for_ask = next((s for s in ranked if s.probability >= judge.threshold), None)
        if best_for_ask is not None and any(
            covers(q, best_for_ask.candidate, best_for_ask.position) for q in chosen
        ):
            continue  # an earlier quote holds this ask's best sentence
        found = select_quotes(
            ranked,
            candidates,
            threshold=judge.threshold,
            limit=1,
            max_words=settings.max_quote_words,
            every_supporting=False,
            adds=_adds(ask.text),
            about_subject=_about_subject(ask.text),
        )
        if found:
            chosen = merged(chosen, found[0])
        else:
            uncovered.append(ask.text)
    return chosen[: settings.max_answer_sentences], uncovered


def _topical(sentence: ScoredSentence) -> bool:
    # Front matter and the text's description of itself ("This article summarizes …") answer
    # questions about the document, not about the world; a table's header row labels its
    # columns and answers nothing.
    return (
        not sentence.label
        and not _SELF_REFERENCE.match(sentence.text)
        and not _is_header_row(sentence.text)
    )


def _is_header_row(text: str) -> bool:
    """True for a table row whose value cells are all years: "June 30 | 2023 | 2022"."""
    values = text.split(CELL_SEPARATOR)[1:]
    return len(values) >= 2 and all(_YEAR_CELL.fullmatch(v.strip()) for v in values)


def _document_quotes(ask: str, candidates: Sequence[Candidate], question: str) -> list[Quote]:
    """The front-matter line a question about the document asks for (its byline, publisher,
    title, date; for "Who is Wu Yu-Yin?" a byline saying every word of the name), or for
    "what does this article cover?" the text's own summary sentence, from the best-ranked
    passage that has it."""
    name = set(_words(question)) - {"who", "is", "was"}
    for i, candidate in enumerate(candidates):
        texts = candidate.passage.sentence_texts()
        labels = candidate.passage.labels or [""] * len(texts)
        for j, (text, label) in enumerate(zip(texts, labels, strict=True)):
            if ask == "overview":
                wanted = not label and bool(_SELF_REFERENCE.match(text))
            elif ask == "person":
                wanted = label == "author" and name <= set(_words(text))
            else:
                wanted = label in _FRONT_MATTER.get(ask, (ask,)) and (
                    ask != "date" or label == "date" or bool(_YEAR.search(text))
                )
            if wanted:
                return [Quote(i, j, j, DOCUMENT_CONFIDENCE)]
    return []


# What a question calls the text itself: "What does the article summarize?" asks what it
# summarizes, and a clause saying "This article …" does not answer that by itself.
_DOCUMENT_WORDS = "article report paper document study brief analysis text"


def _to_clause(plan: QuestionPlan, quote: Quote, candidates: Sequence[Candidate]) -> Quote:
    """`quote` without the clauses of its sentences about other actors than the question
    asks about, or else up to the end of the clause of its last sentence that answers
    `plan`, when the rest of the sentence says nothing it asks (`qa.answer.clauses`)."""
    if quote.is_cut or quote.is_opened:
        return quote
    sentences = candidates[quote.candidate].passage.sentence_texts()
    wanted = _asked_ids(plan.question)
    span = None
    if wanted is not None:
        single = quote.first == quote.last  # else the first names the last's subject
        span = actor_clauses(sentences, quote.last, wanted, opening=single)
    if span is not None:
        start, end = span
        cut = Quote(
            quote.candidate, quote.first, quote.last, quote.probability,
            clause=end if end < len(sentences[quote.last]) else None,
            opening=start or None,
        )  # fmt: skip
    else:
        subjects = set(subject_actors(sentences, quote.last))
        concerns = _concerns(plan.question, subjects)
        head = clause_end(sentences[quote.last], _answers_what(plan.question), concerns)
        if head is None:
            return quote
        cut = Quote(quote.candidate, quote.first, quote.last, quote.probability, clause=head)
    if _lacks_detail(plan, candidates, [cut]) and not _lacks_detail(plan, candidates, [quote]):
        return quote  # the figure or date asked for is in the rest
    return cut


def _answers_what(question: str) -> Callable[[str], bool]:
    """Whether a text says a word of what the question asks, beyond whom it names and what
    it calls the text: "summarizes" for "What does the article summarize?"."""
    asked = asked_terms(question) - set(content_terms(_DOCUMENT_WORDS))
    return lambda text: bool(asked.intersection(tokenize([text])[0]))


def _concerns(question: str, subjects: set[str]) -> Callable[[str], bool]:
    """Whether the rest of a sentence about `subjects` says a content word of what the
    question asks, or names an actor it asks about (or a member or bloc of one) other than
    the sentence's subjects: "… to Korean companies" in a sentence about Korea is more
    about Korea, not another answer to "How does the Korean government …?"."""
    asked = asked_terms(question)
    others = (_asked_ids(question) or set()) - subjects

    def concerns(text: str) -> bool:
        if asked.intersection(tokenize([text])[0]):
            return True
        return any(m.actor_id in others for m in find_actors(text))

    return concerns


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.lower())


def _named_sections(question: str, candidates: Sequence[Candidate]) -> list[tuple[str, str]]:
    """The (document, heading) of each section a question names by its heading's words
    ("What are the key obligations?", "What does the section on due diligence say?"): one
    a document, in the order of its best-ranked passage under such a heading; [] for any
    other question."""
    asked = section_words(question)
    found: dict[str, str] = {}
    if not asked:
        return []
    for candidate in candidates:
        passage = candidate.passage
        if passage.document_id in found:
            continue
        headings = dict.fromkeys(path[-1] for path, _ in headings_over(passage) if path)
        for heading in headings:
            if heading != passage.title and section_words(heading) == asked:
                found[passage.document_id] = heading
                break
    return list(found.items())


def _section_answer(
    plan: QuestionPlan, candidates: Sequence[Candidate], retrieve: Retrieve, settings: Settings
) -> Answer | None:
    """For a question naming a section of the `candidates`, what it says in each document
    that has it (best-ranked first), read from the whole ranking, since a section may run
    over passages the question's words did not find; with a caution when the sections say
    more than the cap. None for any other question, or when nothing under the heading can
    be quoted."""
    if plan.is_multipart or not (sections := _named_sections(plan.question, candidates)):
        return None
    ranking = list(retrieve(settings.max_k))
    limit = settings.max_list_sentences
    quotes: list[Quote] = []
    more = False
    for section in sections:
        left = limit - sum(q.last - q.first + 1 for q in quotes)
        found, cut = _section_quotes(section, ranking, left)
        quotes += found
        more = more or cut
    if not quotes:
        return None
    answer = _answer(plan.question, plan, quotes, ranking, [], DOCUMENT_CONFIDENCE)
    if not more:
        return answer
    headings = " and ".join(f"“{h}”" for h in dict.fromkeys(h for _, h in sections))
    caution = (
        f"The section {headings} says more than the {limit} sentences quoted "
        "(QA_MAX_LIST_SENTENCES); its sources show where it is."
    )
    return answer.model_copy(update={"caution": caution})


def _topic_answer(
    topic: str, plan: QuestionPlan, retrieve: Retrieve, settings: Settings, best: float
) -> Answer | None:
    """What the documents say about `topic`: the sentences of the whole ranking that say
    each of its words (stemmed, typos forgiven) and, for one naming actors, name them, in
    document order, up to `QA_MAX_LIST_SENTENCES`, with a caution when there are more.
    None when no sentence says it."""
    terms = topic_words(topic)
    if not terms:
        return None
    about = _about(topic)
    ranking = list(retrieve(settings.max_k))
    limit = settings.max_list_sentences
    quotes: list[Quote] = []
    seen: set[tuple[str, int]] = set()  # (document, offset) of sentences already read
    more = False
    for c in sorted(range(len(ranking)), key=lambda c: _position(ranking[c])):
        passage = ranking[c].passage
        texts = passage.sentence_texts()
        labels = passage.labels or [""] * len(texts)
        for j, tokens in enumerate(tokenize(texts)):
            where = (passage.document_id, passage.start + passage.sentences[j][0])
            if where in seen or labels[j] or not is_answer_line(texts[j]):
                continue
            seen.add(where)
            said = set(tokens)
            if _is_header_row(texts[j]) or not all(
                _says_any(frozenset([t]), said, asked=topic) for t in terms
            ):
                continue
            sentence = ScoredSentence(c, j, texts[j], "", 0.0, 0.0)
            quote = attributed(sentence, ranking, settings.max_quote_words)
            if quote is None or (about is not None and not about(quote.text(ranking))):
                continue
            joined = merged(quotes, quote)
            if sum(q.last - q.first + 1 for q in joined) > limit:
                more = True
                break
            quotes = joined
        if more:
            break
    if not quotes:
        return None
    listing = QuestionPlan(plan.question, plan.asks, is_list=True)  # in document order
    answer = _answer(plan.question, listing, quotes, ranking, [], best)
    if not more:
        return answer
    caution = (
        f"The documents say more about {topic} than the {limit} sentences quoted "
        "(QA_MAX_LIST_SENTENCES); ask about a part of it to read on."
    )
    return answer.model_copy(update={"caution": caution})


def _position(candidate: Candidate) -> tuple[str, int]:
    """Where a candidate's passage is: its document, and its offset there."""
    return candidate.passage.source, candidate.passage.start


def _section_quotes(
    section: tuple[str, str], candidates: Sequence[Candidate], limit: int
) -> tuple[list[Quote], bool]:
    """What the section says, in document order: up to `limit` sentences of the passages
    under its heading, one quote for each run between its labels, and whether it says
    more. A run's opening sentences that point back past the heading ("They must also …"
    opening a passage) are left out, so each quote names its subject."""
    document, heading = section
    quotes: list[Quote] = []
    seen: set[str] = set()
    left, more = limit, False
    for c in sorted(range(len(candidates)), key=lambda c: candidates[c].passage.start):
        passage = candidates[c].passage
        if passage.document_id != document or passage.id in seen:
            continue
        seen.add(passage.id)
        texts = passage.sentence_texts()
        labels = passage.labels or [""] * len(texts)
        run: list[int] = []
        for j, (path, _) in enumerate([*headings_over(passage), ([], "")]):
            inside = j < len(texts) and path[-1:] == [heading] and not labels[j]
            if (
                inside
                and is_answer_line(texts[j])
                and not _is_header_row(texts[j])
                and (run or antecedent(texts, j) == j)
            ):
                run.append(j)
                continue
            if run:
                more = more or len(run) > left
                if left > 0:
                    run = run[:left]
                    quotes.append(Quote(c, run[0], run[-1], DOCUMENT_CONFIDENCE))
                    left -= len(run)
            run = []
    return quotes, more


def _about(question: str) -> Callable[[str], bool] | None:
    """Whether a text names a country, bloc or organisation the question asks about (or a
    member or bloc of one); None when the question names none."""
    wanted = _asked_ids(question)
    if wanted is None:
        return None
    return lambda text: any(m.actor_id in wanted for m in find_actors(text))


def _asked_ids(question: str) -> set[str] | None:
    """The actors the question names, with their members and blocs; None for none."""
    asked = named_actors(question)
    if not asked:
        return None
    return set().union(*(related_ids(actor_id) for actor_id in asked))


def _about_subject(question: str) -> Callable[[Sequence[str], int], bool] | None:
    """Whether sentence `i` of a passage has as its subject (its own, or its antecedent's
    for "It …") a country, bloc or organisation the question asks about, or a member or
    bloc of one; None when the question names none."""
    wanted = _asked_ids(question)
    if wanted is None:
        return None

    def about_subject(sentences: Sequence[str], i: int) -> bool:
        subjects = set(subject_actors(sentences, i))
        return not subjects or bool(wanted & subjects)

    return about_subject


def _adds(question: str) -> Callable[[Sequence[str], str], bool]:
    """Whether a further sentence says something the question asks that the quote so far
    does not: one of its terms, stemmed ("In addition, it promotes SMEs …" adds nothing
    to a quote that already names Korea's hydrogen forum). After a sentence that only
    introduces its subject ("There are about thirty …"), or when the question asks what its
    subject does ("What has China done …?"), what follows is the answer."""
    # Who the question names is the subject's business, not news: after "Japan …
    # assists companies in expanding overseas markets", "The Japanese government has also
    # …" adds nothing to "How does the Japanese government help its companies abroad?".
    asked = asked_terms(question)
    deeds = asks_for_deeds(question)

    def adds(said: Sequence[str], more: str) -> bool:
        if deeds or is_introduction(said[-1]):
            return True
        had, new = tokenize([" ".join(said), more])
        return bool(asked.intersection(new).difference(had))

    return adds


def _mentions(question: str) -> Callable[[str], bool]:
    """Whether a text says a content word of the question (stemmed): a list question's
    further sentences must, so that one about the same actor but not the asked thing
    ("Taiwan can become the best partner …" for "What incentives does Taiwan offer?") is
    not quoted as one of the set."""
    asked = set(content_terms(question))
    return lambda text: bool(asked.intersection(tokenize([text])[0]))


def _says_what_is_named(
    plan: QuestionPlan, candidates: Sequence[Candidate], quotes: Sequence[Quote]
) -> bool:
    """Whether `quotes` (or their passages, for names) say the names and figures the
    question does."""
    evidence = _evidence_text(candidates, quotes)
    return not (
        _missing_names(plan.question, _cited(candidates, quotes))
        or any(ask.lacks_figures(evidence) for ask in plan.asks)
    )


def _topic_unsupported(
    question: str, candidates: Sequence[Candidate], quotes: Sequence[Quote]
) -> str | None:
    """For a yes-or-no question ("Does Japan subsidise charging stations?") or one about
    what its subject does ("What does China do on batteries?") that the quotes cannot
    answer, why: their passages say none of what it asks about, only its names, or they
    say it of someone else. Else None. Other questions are left to the scorer: their
    answers paraphrase them."""
    if not (asks_whether(question) or asks_for_deeds(question)):
        return None
    if not (topic := topic_words(question)):
        return None
    # "Does Korea cooperate on charging?" asks about charging: that Korea cooperates on
    # something is what a passage on Korea says anyway.
    about = topic - _dealing_words() or topic
    cited = [passage.text for passage in _cited(candidates, quotes)]
    if not _says_any(about, set().union(*tokenize(cited)), asked=question):
        words = [
            w for w in re.findall(r"[\w'-]+", question) if about.intersection(content_terms(w))
        ]
        return f"{NOT_COVERED[:-1]}: the closest passages never mention {_joined(words)}."
    if others := _said_of_others(question, topic, candidates, quotes):
        asked = ", ".join(actor(a).name for a in named_actors(question))
        return f"{NOT_COVERED[:-1]}: the quotes say it of {others}, not of {asked}."
    return None


@lru_cache(maxsize=1)
def _dealing_words() -> frozenset[str]:
    """The words of actors dealing with each other, which say how, not about what."""
    return frozenset(content_terms(_DEALING))


_DEALING = (
    "cooperate cooperates cooperating cooperation collaborate collaborates collaborating "
    "collaboration work works working partner partners partnering partnership engage "
    "engages engaging participate participates participating"
)


def _joined(words: Sequence[str]) -> str:
    """ "a", "a or b", "a, b or c"."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _unknown_names(
    question: str, candidates: Sequence[Candidate], vocabulary_of: Callable[[], Mapping[str, float]]
) -> list[str]:
    """The names the question says besides countries, blocs and organisations ("Tesla",
    "Volkswagen") that no retrieved passage, nor its document's title or file name, says
    whole (each word of four letters or more, or in title case: "Lisa Su" is not "Lisa M.
    Caputo"), however it capitalises or inflects it ("Marry" for "married") or nearly as the
    question spells it, and that the corpus vocabulary (stemmed terms, from
    `vocabulary_of`, read only for a question with names; empty when the backend keeps
    none) lacks: a capitalised common word ("Free cashflow") is in it. A word under four
    letters counts only as it is spelt.
    Lexical retrieval ranks a passage with so rare a word high, so one missing from all of
    them is missing from the documents."""
    names = proper_names(question)
    if not names:
        return []
    vocabulary = vocabulary_of()
    texts = [
        text
        for c in candidates
        for text in (
            c.passage.title,
            Path(c.passage.source).stem,
            *c.passage.headings,
            c.passage.text,
        )
    ]
    said = {w for text in texts for w in _words(text)}
    stems = set().union(*tokenize(texts))

    def says(word: str) -> bool:
        if len(word) < MIN_NAME_LETTERS:
            # A short word is said as it is: "Su" is neither the stem of "sued" nor a word
            # that a large corpus's vocabulary happens to hold.
            return word in said
        terms = tokenize([word])[0]
        return (
            word in said
            or stems.issuperset(terms)
            or bool(terms and all(t in vocabulary for t in terms))
            or _says_any(frozenset([word]), said, _NAME_TYPO_SIMILARITY)
        )

    def known(name: str) -> bool:
        words = re.findall(r"[^\W_]+", name)
        # Each word of `MIN_NAME_LETTERS` or more, or in title case ("Su"), must be said; a
        # short word in capitals ("TBF-B", "JnJ") may be the asker's own abbreviation.
        whole = [w for w in words if len(w) >= MIN_NAME_LETTERS or (len(w) > 1 and w.istitle())]
        return all(says(w.lower()) for w in whole) if whole else any(says(w.lower()) for w in words)

    return [name for name in names if not known(name)]


# A question's word is the passage's, misspelt ("nikel" for "nickel"), at this similarity.
_TYPO_SIMILARITY = 80
_TYPO_MIN_LENGTH = 4
# A name the question misspells ("Mark of Anarchy" for "Mask"): forgiven more readily, as
# the check only abstains.
_NAME_TYPO_SIMILARITY = 75


def _says_any(
    words: frozenset[str],
    said: set[str],
    similarity: float = _TYPO_SIMILARITY,
    asked: str | None = None,
) -> bool:
    """Whether `said` has one of `words` (stemmed tokens), or a word of at least four
    letters nearly as the question spells it (rapidfuzz ratio ≥ `similarity`): "nikel" is
    "nickel". Given the text `asked` that `words` come from, only those of its words that
    may be misspelt count (`misspellable_terms`: "charging" is no misspelling of
    "changes")."""
    if words & said:
        return True
    from rapidfuzz import fuzz, process

    return any(
        process.extractOne(word, said, scorer=fuzz.ratio, score_cutoff=similarity)
        for word in (words if asked is None else words & misspellable_terms(asked))
        if len(word) >= _TYPO_MIN_LENGTH
    )


def _said_of_others(
    question: str, topic: frozenset[str], candidates: Sequence[Candidate], quotes: Sequence[Quote]
) -> str:
    """The names of the others the quotes say the `topic` of a question about named actors
    of, when no clause says it of an asked actor: "Does Vietnam have nickel?" against
    "Thailand, Indonesia, and Vietnam attract …, while the Philippines, with its rich nickel
    ore, …" gives "the Philippines". Else ""."""
    asked = set(named_actors(question))
    if not asked:
        return ""
    others: dict[str, str] = {}  # actor id → how the clause names it
    for quote in quotes:
        texts = candidates[quote.candidate].passage.sentence_texts()
        for j in range(quote.first, quote.last + 1):
            for clause in clause_attributions(texts, j):
                text = texts[j][clause.start : clause.end]
                if not topic.intersection(tokenize([text])[0]):
                    continue
                # A member speaks for its bloc: "Thailand …" says it of ASEAN.
                if asked & _with_blocs(clause.subjects + clause.partners) or not clause.subjects:
                    return ""  # said of an asked actor, or of no one named
                for a in clause.subjects:
                    others.setdefault(a, _as_named(a, text))
    return ", ".join(others.values())


def _as_named(actor_id: str, text: str) -> str:
    """How `text` names the actor, with its article ("the Philippines"); else its name."""
    for mention in find_actors(text):
        if mention.actor_id == actor_id:
            before = text[: mention.start].rstrip().rsplit(" ", 1)[-1]
            return f"the {mention.surface}" if before.lower() == "the" else mention.surface
    return actor(actor_id).name


def _lacks_detail(
    plan: QuestionPlan, candidates: Sequence[Candidate], quotes: Sequence[Quote]
) -> bool:
    """Whether `quotes` lack the figure, date or ranking a one-ask question is for."""
    return not plan.is_multipart and plan.asks[0].lacks_detail(_evidence_text(candidates, quotes))


def _evidence_text(candidates: Sequence[Candidate], quotes: Sequence[Quote]) -> str:
    """What the quotes say, with the lines that head a table row (its year columns)."""
    return " ".join(q.context(candidates) for q in quotes)


# "U. S." is how some texts space the initials of "U.S.".
_SPACED_INITIALS = re.compile(r"\b([A-Z])\. (?=[A-Z]\.)")


def _is_subject(actor_id: str, sentence: ScoredSentence, candidates: Sequence[Candidate]) -> bool:
    """Whether the actor, or a member of it, is what `sentence` is about: a member speaks
    for its bloc ("Thailand …" for ASEAN), a bloc not for a member (the EU for Germany)."""
    texts = candidates[sentence.candidate].passage.sentence_texts()
    return bool(_speaking_for(actor_id) & set(subject_actors(texts, sentence.position)))


def _speaking_for(actor_id: str) -> set[str]:
    """The actor and its members, each of whom speaks for it as a sentence's subject."""
    return {actor_id, *actor(actor_id).members}


def _by_the_doer(
    question: str, quotes: Sequence[Quote], candidates: Sequence[Candidate]
) -> list[Quote]:
    """`quotes` less those about someone else, when another is about the actor the question
    has as its subject (or a member of it): "How does the US ensure raw material supply?"
    quotes what the EU and the US do, not "The Korean government … continues to negotiate
    with the US …". A quote about no actor stays."""
    doers = subject_actors([question], 0)
    if len(quotes) < 2 or not doers:
        return list(quotes)
    wanted = set().union(*(_speaking_for(doer) for doer in doers))
    about = [_quote_subjects(q, candidates) for q in quotes]
    if not any(wanted & found for found in about):
        return list(quotes)
    return [q for q, found in zip(quotes, about, strict=True) if not found or wanted & found]


def _quote_subjects(quote: Quote, candidates: Sequence[Candidate]) -> set[str]:
    """The actors the sentences of `quote` are about (through their antecedents)."""
    texts = candidates[quote.candidate].passage.sentence_texts()
    return {a for j in range(quote.first, quote.last + 1) for a in subject_actors(texts, j)}


def _each_subject(plan: QuestionPlan) -> tuple[str, ...]:
    """The actors a question asks what each does, as its subject: "What do Korea and India
    do on batteries?" (not how they deal with each other, and not a comparison, which asks
    each in turn); () for one."""
    if plan.compared or asks_relation(plan.question):
        return ()
    subjects = tuple(subject_actors([plan.question], 0))
    return subjects if len(subjects) >= 2 else ()


def _unsaid(
    actor_ids: Sequence[str], quotes: Sequence[Quote], candidates: Sequence[Candidate]
) -> list[str]:
    """The actors of `actor_ids` that no quote is about (named only as a partner, if at all)."""
    about = set().union(*(_quote_subjects(q, candidates) for q in quotes))
    return [a for a in actor_ids if not _speaking_for(a) & about]


def _each_named(
    question: str,
    quotes: Sequence[Quote],
    ranked: Sequence[ScoredSentence],
    candidates: Sequence[Candidate],
    *,
    threshold: float,
    limit: int,
    max_words: int,
    each: Sequence[str] = (),
) -> list[Quote]:
    """`quotes` and, for each actor the question names that their passages do not, the
    best sentence over `threshold` about that actor (its subject), ranking at most
    `QUOTABLE_MARGIN` below the best, while there is room under `limit`: "What do Japan
    and China do on standards?" quotes China's standards and Japan's. Of the actors the
    question asks what each does (`each`), one the quotes only name as a partner ("The
    Korean government is cooperating with Australia and India …") is missing too."""
    chosen = list(quotes)
    if not chosen or not ranked or len(named_actors(question)) < 2:
        return chosen  # one actor's quotes were chosen for naming it (`_says_what_is_named`)
    missing = _missing_actors(question, _cited(candidates, chosen))
    missing += [a for a in _unsaid(each, chosen, candidates) if a not in missing]
    for actor_id in missing:
        for sentence in ranked:
            if len(chosen) >= limit or sentence.score < ranked[0].score - QUOTABLE_MARGIN:
                break
            if sentence.probability < threshold or not _is_subject(actor_id, sentence, candidates):
                continue
            quote = attributed(sentence, candidates, max_words)
            if quote is not None:
                chosen = merged(chosen, quote)
                break
    return chosen


def _related_pair(question: str) -> tuple[str, ...]:
    """The actors a question about their dealings with each other names (two or more), or
    () for any other question."""
    asked = tuple(named_actors(question))
    return asked if len(asked) >= 2 and asks_relation(question) else ()


def _ties(actor_ids: Sequence[str], quote: Quote, candidates: Sequence[Candidate]) -> bool:
    """Whether a sentence of `quote` ties the actors to each other: names them all, with
    one of them its subject and the others its subjects or counterparts. "Taiwan … promote
    cooperation with … Europe, the US, Japan" ties Taiwan to Japan, but not the EU to
    Japan, though it names both."""
    if not _names_all(actor_ids, quote.text(candidates)):
        return False
    texts = candidates[quote.candidate].passage.sentence_texts()
    for j in range(quote.first, quote.last + 1):
        subjects = _with_blocs(subject_actors(texts, j))
        named = subjects | _with_blocs(partner_actors(texts, j))
        if set(actor_ids) & subjects and set(actor_ids) <= named:
            return True
    return False


def _with_blocs(actor_ids: Sequence[str]) -> set[str]:
    """`actor_ids` and the blocs of their members, as `_present_actors` reads them."""
    found: set[str] = set()
    for actor_id in actor_ids:
        found |= related_ids(actor_id) - set(actor(actor_id).members)
    return found


def _names_all(actor_ids: Sequence[str], text: str) -> bool:
    """Whether `text` names every one of `actor_ids` (a bloc by a member, as
    `_present_actors` reads)."""
    return set(actor_ids) <= _present_actors(text)


def _present_actors(text: str) -> set[str]:
    """The actors `text` names, and the blocs of the members it names: a member speaks for
    its bloc, not a bloc for each member (an EU deal is no evidence of what Germany does)."""
    mentions = find_actors(_SPACED_INITIALS.sub(r"\1.", text))
    return _with_blocs([m.actor_id for m in mentions])


def _cited(candidates: Sequence[Candidate], quotes: Sequence[Quote]) -> list[Passage]:
    """The passages `quotes` quote, once each."""
    return [candidates[c].passage for c in dict.fromkeys(q.candidate for q in quotes)]


def _missing_names(question: str, passages: Sequence[Passage]) -> list[str]:
    """The names ("China" for "Chinese", "Philippines" for "Philipines") of the actors
    `_missing_actors` finds."""
    return [actor(actor_id).name for actor_id in _missing_actors(question, passages)]


def _missing_actors(question: str, passages: Sequence[Passage]) -> list[str]:
    """The ids of the countries, blocs and organisations the question names that
    `passages` never mention, nor their document's title or the headings they stand under
    (a passage of "EU Battery Regulation" is about the EU). A bloc is mentioned by its
    members too, a member not by its bloc. Typos in the question are forgiven, but a word
    the passages say as the question does is no typo: "Karenia" is not Armenia."""
    asked = named_actors(question)
    if not asked:
        return []
    cited = " ".join(text for p in passages for text in (p.title, *p.headings, p.text))
    cited = _SPACED_INITIALS.sub(r"\1.", cited)
    present = _present_actors(cited)
    said = {word.strip(".'-") for word in re.findall(r"[\w.'-]+", cited)}
    return [
        actor_id
        for actor_id, surface in asked.items()
        if actor_id not in present and surface.strip(",.;:'\"()?-") not in said
    ]


def _answer(
    question: str,
    plan: QuestionPlan,
    quotes: Sequence[Quote],
    candidates: Sequence[Candidate],
    uncovered: Sequence[str],
    best: float,
) -> Answer:
    if plan.is_list:
        # A set reads in document order, grouped by passage.
        def where(q: Quote) -> tuple[str, int, int]:
            return (*_position(candidates[q.candidate]), q.first)

        ordered = sorted(quotes, key=where)
    else:
        ordered = list(quotes)
    passage_order = list(dict.fromkeys(q.candidate for q in ordered))
    numbers = {c: n for n, c in enumerate(passage_order, start=1)}
    # A quote cut at a clause shows that its sentence goes on, or began before it.
    parts = [
        f"{ELISION + ' ' if q.is_opened else ''}{q.text(candidates)}"
        f"{' ' + ELISION if q.is_cut else ''} [{numbers[q.candidate]}]"
        for q in ordered
    ]
    citations = []
    for c in passage_order:
        mine = sorted((q for q in ordered if q.candidate == c), key=lambda q: q.first)
        passage = candidates[c].passage
        citations.append(
            Citation(
                **Citation.fields_of(passage),
                n=numbers[c],
                quote=" ".join(q.text(candidates) for q in mine),
                spans=[q.document_span(candidates) for q in mine],
                headings=headings_over(passage)[mine[0].first][0],  # the quote's section
                score=round(max(q.probability for q in mine), 4),
            )
        )
    return Answer(
        question=question,
        answered=True,
        answer=" ".join(parts),
        citations=citations,
        confidence=round(best, 4),
        uncovered=list(uncovered),
    )


def _abstain(
    question: str,
    candidates: Sequence[Candidate],
    reason: AbstentionReason,
    message: str,
    best: float,
) -> Answer:
    return Answer(
        question=question,
        answered=False,
        answer=message,
        suggestions=[to_hit(rank, c) for rank, c in enumerate(candidates, 1)],
        confidence=round(best, 4),
        reason=reason,
        message=message,
    )


def _language_message(code: str, settings: Settings) -> str:
    languages = ", ".join(language_name(c) for c in settings.model_languages)
    return (
        f"The question seems to be in {language_name(code)}, but the embedding model "
        f"({settings.embedding_model}) reads {languages}. Ask in {languages}, or set "
        "QA_EMBEDDING_MODEL to a multilingual model (and QA_MODEL_LANGUAGES) and rebuild "
        "the index."
    )
