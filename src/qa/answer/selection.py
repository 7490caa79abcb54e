"""Choosing what to quote: the sentences the answer model judges to answer, each extended back to
the sentence that names its subject, so a quote never changes who it is about."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qa.answer.scoring import ScoredSentence
from qa.attribution import antecedent, is_bare_reference, subject_actors
from qa.chunking import run_in_heading
from qa.ingest.normalize import CELL_SEPARATOR
from qa.retrieval.retriever import Candidate

# A further sentence joins the best one only when it ranks nearly as high: one sentence is
# the common case, and filler about other actors is what readers complained of. A list
# question takes every sentence within the wider margin.
SUPPORT_MARGIN = 0.1
LIST_MARGIN = 0.3
# A sentence that continues a quote about the same subject ("… They have also …") joins it
# when it scores at most CLOSE_CONTINUATION_MARGIN below the support floor; down to
# CONTINUATION_MARGIN below it, only if it says more of what the question asks.
CLOSE_CONTINUATION_MARGIN = 0.2
CONTINUATION_MARGIN = 0.4
# A sentence no nearby sentence names the subject of is left out, and the answer comes from
# the best of the others, if it ranks at most QUOTABLE_MARGIN below it.
QUOTABLE_MARGIN = 0.4


@dataclass(frozen=True)
class Quote:
    """A verbatim span of one passage: sentences `first..last` (inclusive), the last of
    them up to its first `clause` characters when that is set, the first from its
    character `opening` on when that is (`qa.answer.clauses`)."""

    candidate: int
    first: int
    last: int
    probability: float
    clause: int | None = None
    opening: int | None = None

    @property
    def is_cut(self) -> bool:
        """Whether the quote stops before the end of its last sentence."""
        return self.clause is not None

    @property
    def is_opened(self) -> bool:
        """Whether the quote starts after the start of its first sentence."""
        return self.opening is not None

    @classmethod
    def alone(cls, sentence: ScoredSentence) -> Quote:
        """`sentence` quoted by itself."""
        return cls(sentence.candidate, sentence.position, sentence.position, sentence.probability)

    def text(self, candidates: Sequence[Candidate]) -> str:
        start, end = self._span(candidates)
        return candidates[self.candidate].passage.text[start:end]

    def _span(self, candidates: Sequence[Candidate]) -> tuple[int, int]:
        # A heading run into the first sentence ("CONFIDENTIALITY AND SECURITY We …") helped
        # find it; it is not quoted.
        passage = candidates[self.candidate].passage
        start, first_end = passage.sentences[self.first]
        skip = run_in_heading(passage.text[start:first_end])
        if self.opening is not None:
            skip = max(skip, self.opening)
        last_start, last_end = passage.sentences[self.last]
        if self.clause is not None:
            last_end = min(last_end, last_start + self.clause)
        return start + skip, last_end

    def context(self, candidates: Sequence[Candidate]) -> str:
        """The quote, and for a table row what heads it in its passage: the headings and
        the lines above it (the caption and the header row that says which column is
        2023). A row "Total assets | 411,976 | 364,840" gives no year on its own."""
        text = self.text(candidates)
        if CELL_SEPARATOR not in text:
            return text
        passage = candidates[self.candidate].passage
        above = passage.text[: passage.sentences[self.first][0]]
        return "\n".join([*passage.headings, above, text])

    def document_span(self, candidates: Sequence[Candidate]) -> tuple[int, int]:
        start, end = self._span(candidates)
        offset = candidates[self.candidate].passage.start
        return offset + start, offset + end


def attributed(
    sentence: ScoredSentence, candidates: Sequence[Candidate], max_words: int
) -> Quote | None:
    """`sentence` as a quote that names its own subject, or None when that takes too long.

    A sentence led by a pronoun or a bare reference ("It", "They", "The country") is
    extended back, as one verbatim span, to the sentence of the same passage that names
    its subject; front-matter lines are quoted alone.
    """
    passage = candidates[sentence.candidate].passage
    if sentence.label:
        return Quote.alone(sentence)
    sentences = passage.sentence_texts()
    first = antecedent(sentences, sentence.position)
    if first is None:
        return None
    quote = Quote(sentence.candidate, first, sentence.position, sentence.probability)
    if first < sentence.position and len(quote.text(candidates).split()) > max_words:
        return None
    return quote


def select_quotes(
    ranked: Sequence[ScoredSentence],
    candidates: Sequence[Candidate],
    *,
    threshold: float,
    limit: int,
    max_words: int,
    every_supporting: bool,
    about: Callable[[str], bool] | None = None,
    adds: Callable[[Sequence[str], str], bool] | None = None,
    mentions: Callable[[str], bool] | None = None,
    about_subject: Callable[[Sequence[str], int], bool] | None = None,
) -> list[Quote]:
    """The quotes that answer: the best sentence, and those scoring nearly as well (or, for
    a list question, every sentence over `threshold`), at most `limit`, none overlapping.

    `about(text)`, when given, says whether a text is about what the question names. A
    further quote that is not, and does not adjoin one already chosen, is filler about
    someone else and is left out. `adds(said, more)`, when given, says whether a sentence
    `more` that continues a quote's sentences `said` tells what the question asks and
    they do not; a continuation that does not is filler about the same subject, and so is
    a further quote about the same actor, or an earlier one beside it.
    `mentions(text)`, when given, says whether a sentence says a word of the question: a
    list question's further sentences must. `about_subject(sentences, i)`, when given, says
    whether sentence `i` is about (has as its subject) what the question names: a sentence
    continuing a quote must be.
    """
    if not ranked or ranked[0].probability < threshold:
        return []
    margin = LIST_MARGIN if every_supporting else SUPPORT_MARGIN
    floor: float | None = None  # set by the best sentence that can be quoted
    quotes: list[Quote] = []
    for sentence in ranked:
        if len(quotes) == limit or (floor is not None and sentence.score < floor):
            break
        if sentence.probability < threshold:
            continue
        quote = attributed(sentence, candidates, max_words)
        if quote is None:
            continue  # no sentence near names its subject: left out
        if floor is None:
            if sentence.score < ranked[0].score - QUOTABLE_MARGIN:
                break  # the sentences that can be quoted rank far below the answer
            floor = sentence.score - margin
        if any(_same_text(quote, q, candidates) for q in quotes):
            continue  # the same text in two passages
        if every_supporting and quotes and mentions is not None and not mentions(sentence.text):
            continue  # a further member of the set says none of the question's words
        # Of two quotes about the same actor, one that says nothing asked the other does
        # not is filler: the further one is not taken, or the earlier one is dropped.
        same = None
        if adds is not None and quotes and _same_subject(quote, quotes, candidates):
            same = adds
            if not same([q.text(candidates) for q in quotes], quote.text(candidates)):
                continue  # more of what the same subject did, and nothing more of what was asked
        joins = any(_touches(quote, q) for q in quotes)
        if not joins and quotes and about is not None and not about(quote.text(candidates)):
            continue  # a further, separate quote about another actor
        if same is not None:
            quotes = [q for q in quotes if not _filler_beside(q, quote, candidates, same)]
        quotes = merged(quotes, quote)
    if floor is None:
        return []
    return [
        _continued(q, ranked, candidates, floor, max_words, adds, about_subject) for q in quotes
    ]


def merged(quotes: Sequence[Quote], quote: Quote) -> list[Quote]:
    """`quotes` with `quote` added: joined to one it overlaps or adjoins in the same passage
    ("China …. It has jointly developed …" is one span, not two overlapping quotes)."""
    joined = next((q for q in quotes if _touches(quote, q)), None)
    if joined is None:
        return [*quotes, quote]
    one = Quote(
        joined.candidate, min(joined.first, quote.first), max(joined.last, quote.last),
        max(joined.probability, quote.probability),
    )  # fmt: skip
    return [one if q is joined else q for q in quotes]


def covers(quote: Quote, candidate: int, position: int) -> bool:
    """Whether `quote` quotes sentence `position` of candidate `candidate`."""
    return quote.candidate == candidate and quote.first <= position <= quote.last


def _continued(
    quote: Quote,
    ranked: Sequence[ScoredSentence],
    candidates: Sequence[Candidate],
    floor: float,
    max_words: int,
    adds: Callable[[Sequence[str], str], bool] | None = None,
    about_subject: Callable[[Sequence[str], int], bool] | None = None,
) -> Quote:
    """`quote` extended over the following sentences that refer back to its subject and
    score within the continuation margins of `floor`: up to the last that scores close,
    or that `adds` (when given) says tells what the question asks. When the question asks
    about an actor the subject is not ("What role does Australia play?" quoting "The Korean
    government is cooperating with Australia …"), what more the subject did is filler."""
    passage = candidates[quote.candidate].passage
    sentences = passage.sentence_texts()
    scores = {s.position: s for s in ranked if s.candidate == quote.candidate}
    last = end = quote.last
    while end + 1 < len(sentences):
        following = scores.get(end + 1)
        if following is None or following.score < floor - CONTINUATION_MARGIN or following.label:
            break
        if not is_bare_reference(sentences[end + 1]):
            break
        if about_subject is not None and not about_subject(sentences, end + 1):
            break
        longer = Quote(quote.candidate, quote.first, end + 1, quote.probability)
        if len(longer.text(candidates).split()) > max_words:
            break
        end += 1
        close = following.score >= floor - CLOSE_CONTINUATION_MARGIN
        if close or adds is None or adds(sentences[quote.first : last + 1], sentences[end]):
            last = end
    return Quote(quote.candidate, quote.first, last, quote.probability)


def _same_subject(quote: Quote, quotes: Sequence[Quote], candidates: Sequence[Candidate]) -> bool:
    """Whether `quote` is about actors (through its antecedent) that `quotes` are already
    about: "The Japanese government has also …" after "Japan, through …". A sentence about
    no actor ("We may share …") is never about the same one."""

    def subjects(q: Quote) -> set[str]:
        sentences = candidates[q.candidate].passage.sentence_texts()
        return set(subject_actors(sentences, q.last))

    found = subjects(quote)
    return bool(found) and found <= set().union(*(subjects(q) for q in quotes))


def _filler_beside(
    quote: Quote,
    better: Quote,
    candidates: Sequence[Candidate],
    adds: Callable[[Sequence[str], str], bool],
) -> bool:
    """Whether `quote`, about the same subject as `better`, says nothing asked that
    `better` does not: "Japan, through international cooperation, ensures …" beside "The
    Japanese government has also … promote the internationalization of Japanese domestic
    standards" for "What kind of standards does Japan want to internationalize?"."""
    if not _same_subject(quote, [better], candidates):
        return False
    return not adds([better.text(candidates)], quote.text(candidates))


def _touches(a: Quote, b: Quote) -> bool:
    # Overlapping or adjacent spans of one passage read as one.
    return a.candidate == b.candidate and a.first <= b.last + 1 and b.first <= a.last + 1


def _same_text(a: Quote, b: Quote, candidates: Sequence[Candidate]) -> bool:
    return a.text(candidates) == b.text(candidates)
