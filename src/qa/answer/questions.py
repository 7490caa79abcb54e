"""What a question asks for: one fact or a set (list questions), one ask or several, and
the kind of detail (a figure, a date) that evidence must contain to answer it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from qa.retrieval.lexical import content_terms

_I = re.IGNORECASE
_LIST_LEAD = re.compile(
    r"^\s*(?:list|name|enumerate|give (?:me )?(?:all|every)|identify all)\b"
    r"|^\s*who (?:else )?(?:is|are) (?:working|cooperating|collaborating|involved|partnering)\b"
    r"|^\s*who (?:works|cooperates|collaborates|partners|participates|invests)\b"
    # "What does China cooperate on?": the fields of a cooperation are a set.
    r"|^\s*(?:what|which|who|whom)\b.*\b(?:cooperat|collaborat|partner)\w*\s+(?:on|in|with)\b",
    _I,
)
_WH = re.compile(r"^\s*(?:(?:with|in|on|for|from|to|of|by) )?(?:which|what)\s+(.*)$", _I)
_VERB = re.compile(
    r"^(?:does|do|did|is|are|was|were|has|have|had|can|could|should|would|will|may|might|"
    r"must|shall|cooperate|cooperates|work|works|collaborate|collaborates)$",
    _I,
)
_NOT_PLURAL = re.compile(r"(?:ss|us|is|ics|news)$", _I)
_PART_SPLIT = re.compile(
    r"\s*(?:[;?]\s+|,?\s+and\s+(?=(?:with\s+|in\s+|on\s+|for\s+)?"
    r"(?:what|which|who|whom|when|where|why|how)\b))",
    _I,
)
_NUMBER_ASK = re.compile(
    r"\b(?:how (?:many|much)|what (?:percentage|percent|proportion|share|number|amount)|"
    r"market share|price of|cost of)\b",
    _I,
)
_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|dozen|hundred|thousand|million|"
    r"billion|half|percent)\b",
    _I,
)
_SUPERLATIVE_ASK = re.compile(
    r"\bthe\s+(?:most|least|largest|biggest|highest|lowest|best|worst|top|leading|fastest|"
    r"cheapest|greatest)\b",
    _I,
)
_SUPERLATIVE = re.compile(
    r"\b(?:most|least|largest|biggest|highest|lowest|best|worst|top|leading|first|greatest|"
    r"fastest|cheapest|strongest|main|primary|number one)\b",
    _I,
)
# "When …?" asks for a date, unless "when" opens a clause of another ask ("When violence is
# used, what is civil disobedience called?").
_DATE_ASK = re.compile(
    r"\b(?:what|which|in what) year\b|\b(?:since|by|until) when\b"
    r"|^when\b(?!.*\b(?:what|which|who|whom|whose|how|where|why)\b)",
    _I,
)
_DATE = re.compile(
    r"\b(?:1\d|20)\d\ds?\b|\b(?:in|by|since|from|until|till|around|circa|year|AD)\s+\d{3}\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)\b|\bcentur(?:y|ies)\b|\b(?:BC|AD|BCE|CE)\b"
    r"|\b(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december|spring|summer|autumn|winter|since|until|by the end|next year|this year|"
    r"currently)\b",
    _I,
)
# A figure the question names must be in the evidence ("by 2030"), except a short number
# that is part of a name: "Apollo 13", "Super Bowl 50", "MHC 1".
_FIGURE = re.compile(r"\b\d[\d,.]*\d\b|\b\d\b")
_NAME_BEFORE = re.compile(r"\b[A-Z][\w-]*\s+$")
_NAME_NUMBER_DIGITS = 3


@dataclass(frozen=True)
class Ask:
    """One ask of a question, and the detail its evidence must hold."""

    text: str
    wants_number: bool
    wants_date: bool
    wants_superlative: bool = False
    numbers: tuple[str, ...] = ()  # figures and years the question names ("by 2030")

    def lacks_detail(self, evidence: str) -> bool:
        """True when `evidence` lacks the figure, date or ranking this ask is for."""
        return (
            self.lacks_figures(evidence)
            or (self.wants_number and not _NUMBER.search(evidence))
            or (self.wants_date and not _DATE.search(evidence))
            or (self.wants_superlative and not _SUPERLATIVE.search(evidence))
        )

    def lacks_figures(self, evidence: str) -> bool:
        """True when the question names figures ("in 1986") and `evidence` says none."""
        return bool(self.numbers) and not any(n in evidence for n in self.numbers)


@dataclass(frozen=True)
class QuestionPlan:
    """How to answer a question: its asks, and whether it asks for a set."""

    question: str
    asks: tuple[Ask, ...]
    is_list: bool
    # For a comparison ("Compare Japan and Korea on batteries."), the actor id each ask is
    # about; the asks are the question put to each actor in turn.
    compared: tuple[str, ...] = ()

    @property
    def is_multipart(self) -> bool:
        return len(self.asks) > 1


def is_list_question(question: str) -> bool:
    """True for questions that ask for a set: "Which countries …", "Who is working on …",
    "What fields …", "List …"."""
    if _LIST_LEAD.search(question):
        return True
    match = _WH.match(question)
    if match is None:
        return False
    noun = ""
    for word in re.findall(r"[A-Za-z][A-Za-z-]*", match.group(1))[:4]:
        if _VERB.match(word) or word.lower() == "of":  # "what kind of …": the head is "kind"
            break
        noun = word
    return len(noun) > 3 and noun.lower().endswith("s") and not _NOT_PLURAL.search(noun)


def _figures(text: str) -> tuple[str, ...]:
    """The figures and years `text` names, without the numbers of names ("Apollo 13")."""
    return tuple(
        m.group()
        for m in _FIGURE.finditer(text)
        if not (len(m.group()) <= _NAME_NUMBER_DIGITS and _NAME_BEFORE.search(text[: m.start()]))
    )


def plan_question(question: str) -> QuestionPlan:
    """Split `question` into its asks and classify it. A comparison of actors has an ask
    for each of them."""
    compared = compared_actors(question)
    if compared:
        parts = [text for _, text in compared]
    else:
        parts = [p.strip(" ,?") for p in _PART_SPLIT.split(question.strip()) if p.strip(" ,?")]
        parts = parts or [question.strip()]
    asks = tuple(
        Ask(
            p,
            bool(_NUMBER_ASK.search(p)),
            bool(_DATE_ASK.search(p)),
            bool(_SUPERLATIVE_ASK.search(p)),
            _figures(p),
        )
        for p in parts
    )
    return QuestionPlan(question, asks, is_list_question(question), tuple(a for a, _ in compared))


# "Compare Japan and Korea on batteries", "How does Japan's approach differ from China's?":
# what each actor does, side by side, not what they do together.
_COMPARE_ASK = re.compile(
    r"^\s*(?:compare|contrast)\b|\b(?:differences?|similarit(?:y|ies)|contrasts?)\s+between\b"
    r"|\bdiffer(?:s|ent)?\s+from\b|\bhow\s+(?:do|does|did)\b.*\bdiffer\b"
    r"|\b(?:versus|vs\.?)\s|\bcompared?\s+(?:to|with)\b",
    _I,
)
# The words of a comparison that ask for one, not what is compared.
_COMPARE_WORDS = (
    "compare compared comparison contrast contrasts difference differences differ "
    "differs different similarity similarities between versus vs and with from to "
    "how what is are the do does did doing on in about regarding of for their its both"
)


@lru_cache(maxsize=1)
def _compare_words() -> frozenset[str]:
    return frozenset(_COMPARE_WORDS.split())


def is_comparison(question: str) -> bool:
    """True for a question comparing actors, whether or not it names two."""
    return bool(_COMPARE_ASK.search(question))


def compared_actors(question: str) -> list[tuple[str, str]]:
    """For a question comparing two or more named actors, each actor's id with the question
    put to it alone ("Japan: batteries", "South Korea: batteries"); else []."""
    if not is_comparison(question):
        return []
    return each_actor(question)


def each_actor(question: str) -> list[tuple[str, str]]:
    """Each actor the question names, by id, with the question put to it alone ("Japan:
    batteries"); [] for fewer than two."""
    from qa.actors import find_actors

    mentions = find_actors(question)
    names = dict((m.actor_id, m.surface) for m in mentions)  # first mention of each
    if len(names) < 2:
        return []
    rest = question
    for m in reversed(mentions):
        rest = rest[: m.start] + " " + rest[m.end :]
    words = [
        w
        for w in re.findall(r"[\w-]+", rest.replace("'s", " "))
        if w.lower() not in _compare_words()
    ]
    topic = " ".join(words).strip()
    return [(a, f"{surface}: {topic}" if topic else surface) for a, surface in names.items()]


# Questions about the document itself, answered by its front matter ("Who wrote this?",
# "Which body issued this report?") or by its own summary ("What does the article cover?").
# A topical question that merely mentions the author ("What does the author recommend?")
# is not one of them.
_DOC = r"(?:this|the)\s+(?:article|report|document|paper|study|brief|text|publication|analysis)"
_WRITER = r"(?:author|writer)s?"
_AUTHOR_ASKS = (
    r"^\s*who\s+(?:wrote|authored|prepared)\b",
    r"\bwho(?:'s|\s+is|\s+are)\s+the\s+" + _WRITER + r"\b",
    r"^\s*(?:(?:list|name|give|identify)\s+|(?:what|which)\s+(?:is|are)\s+)?(?:the\s+)?"
    r"(?:names?\s+of\s+the\s+)?authors?\s+of\s+" + _DOC + r"\s*[?.]?\s*$",
    r"^\s*(?:what\s+is\s+the\s+name\s+of\s+the\s+)?author\??\s*$",
    r"\bby\s+whom\b",
    r"\bwho\s+(?:is|was)\s+(?:it|this|" + _DOC + r")\s+(?:written|authored)\s+by\b",
    # Who the author is: "What is the author's position?", not "… position on hydrogen?".
    r"\b" + _WRITER + r"(?:'s|')?\s+(?:job\s+title|title|position|affiliations?|employer|"
    r"institution|organi[sz]ation|role|job)\s*\??\s*$",
    r"\b" + _WRITER + r"\s+(?:affiliated|employed)\b",
    r"\b(?:does|did)\s+the\s+" + _WRITER + r"\s+work\s*(?:for|at|in|\?|$)",
)
_DOCUMENT_ASKS = {
    "author": re.compile("|".join(_AUTHOR_ASKS), _I),
    "copyright": re.compile(
        r"^\s*(?:who|which\s+(?:body|organi[sz]ation|institution|institute|publisher|agency|"
        r"think\s+tank|centre|center))\s+"
        r"(?:issued|published|released|owns|holds\s+the\s+copyright|is\s+behind)\b"
        r"|\bpublisher\s+of\b|^\s*who\s+is\s+the\s+publisher\b|\bcopyright\b",
        _I,
    ),
    "title": re.compile(
        r"\btitle\s+of\s+" + _DOC + r"|^\s*what\s+is\s+" + _DOC + r"\s+called\b", _I
    ),
    "date": re.compile(
        r"^\s*when\s+was\s+(?:" + _DOC + r"|this|it)\s+(?:written|published|released|issued)\b"
        r"|\b(?:what|which)\s+year\s+was\s+(?:" + _DOC + r"|this|it)\s+"
        r"(?:written|published|released|issued)\b"
        r"|\bpublication\s+date\b|\bdate\s+of\s+(?:publication|" + _DOC + r")\b",
        _I,
    ),
    "overview": re.compile(
        r"\bwhat\s+(?:does|did)\s+" + _DOC + r"\s+(?:summari[sz]e|cover|discuss|describe|explore|"
        r"address|examine)\b|\bwhat\s+is\s+"
        + _DOC
        + r"\s+about\b|\bsummari[sz]e\s+"
        + _DOC
        # "What is the main argument of the article?", "… the report's purpose?"
        + r"|\b(?:argument|point|idea|message|thesis|purpose|aim|focus|gist|summary|scope)\s+of\s+"
        + _DOC
        + r"|\b"
        + _DOC
        + r"(?:'s|’s)\s+(?:main\s+|central\s+|key\s+)?(?:argument|point|idea|message|thesis|"
        r"purpose|aim|focus|gist|summary|scope)\b",
        _I,
    ),
    # "Who is Wu Yu-Yin?": a person the byline may name (it answers only if it does).
    "person": re.compile(
        r"^\s*who\s+(?:is|was)\s+(?!(?:the|a|an|this|that|it|he|she|they|your|our|my)\b)"
        r"[\w.'’-]+(?:[\s,]+[\w.'’-]+){0,3}\s*\??\s*$",
        _I,
    ),
}


def document_ask(question: str) -> str | None:
    """ "author", "copyright", "title", "date" or "overview" when the question is about the
    document itself, "person" when it asks who someone it names is, else None."""
    for ask, pattern in _DOCUMENT_ASKS.items():
        if pattern.search(question):
            return ask
    return None


# "What does the article say about critical minerals?", "Tell me about semiconductors.":
# whatever the documents say of a topic, which sentences that name it answer.
_TOPIC_ASK = re.compile(
    r"^\s*(?:what\s+(?:does|do|did)\s+(?:"
    + _DOC
    + r"|it|they|the\s+(?:documents?|texts?|sources?|corpus))\s+(?:say|state|mention|tell\s+us|"
    r"write|report|note)|what\s+is\s+said|(?:can\s+you\s+)?tell\s+me|what\s+about)"
    r"\s+(?:about|on|regarding|concerning|of)?\s*(?P<topic>[^?.!]+?)\s*[?.!]?\s*$",
    _I,
)


def asked_topic(question: str) -> str | None:
    """The topic of a question asking what the documents say about it ("critical
    minerals"), else None."""
    match = _TOPIC_ASK.match(question)
    return match.group("topic") if match else None


# A question asking what someone recommends is answered by a sentence that suggests,
# proposes or urges: "What does the author recommend?" by "It is suggested that …".
_RECOMMENDATION_ASK = re.compile(
    r"\b(?:recommend|suggest|propos|advis|advoc|urg)\w*|\bcall\w* for\b", _I
)
RECOMMENDATION_WORDS = "recommend suggest propose advise advocate urge call for"


# "What do carotenoids do?", "What has China done in …?": the question's verb is "do", so
# whatever its subject is said to do answers it, in whatever words. "What does Japan do to
# help companies abroad?" asks what helps them: its purpose says what answers.
_DEEDS_ASK = re.compile(
    r"^\s*what\s+(?:do|does|did|has|have|had|is|are|was|were|will|would|can|could|should)"
    r"\s+\S.*?\s(?:do|done|doing)\b(?!\s+to\s)",
    _I,
)


def asks_for_deeds(question: str) -> bool:
    """True for a question about what its subject does ("What has China done in …?")."""
    return bool(_DEEDS_ASK.match(question))


# "Does Taiwan cooperate with India?", "How do the EU and Japan work together?": a question
# about how two actors deal with each other, which only a text naming both can answer.
_RELATION_ASK = re.compile(
    r"\b(?:cooperat|collaborat|partner|work|deal|agree|negotiat|allian|allied|ally|tie|talk)"
    r"\w*\b[^?]*\b(?:with|together)\b"
    r"|\b(?:trade|trades|traded|trading|relations?)\b[^?]*\bwith\b"
    r"|\bbetween\b[^?]*\band\b",
    _I,
)


def asks_relation(question: str) -> bool:
    """True for a question about how actors deal with one another ("Does Taiwan cooperate
    with India?"), not one comparing them ("the difference between Japan and China");
    whether it names two of them is for `named_actors` to say."""
    return bool(_RELATION_ASK.search(question)) and not is_comparison(question)


# "Does Japan subsidise charging stations?": a question whether something is so, which a
# text that never says what it asks about cannot answer, yes or no.
_WHETHER_ASK = re.compile(
    r"^\s*(?:do|does|did|is|are|was|were|has|have|had|can|could|will|would|should|may|"
    r"might|must)\b",
    _I,
)


def asks_whether(question: str) -> bool:
    """True for a yes-or-no question ("Does Japan subsidise charging stations?")."""
    return bool(_WHETHER_ASK.match(question))


def topic_words(question: str) -> frozenset[str]:
    """The question's content words (stemmed) besides the names of the actors it asks
    about and "done" (the stop-word lists have "do", "does" and "doing" but not it): what
    it asks about them. "What has Korea done?" asks about nothing in particular."""
    names = {t for surface in named_actors(question).values() for t in content_terms(surface)}
    return frozenset(content_terms(question)) - names - _deed_words()


@lru_cache(maxsize=1)
def _deed_words() -> frozenset[str]:
    return frozenset(content_terms("done"))


def asked_words(question: str) -> str:
    """The question's words, and for a question asking for a recommendation the words
    that make one: the terms an answer sentence may say the question's asks in."""
    if _RECOMMENDATION_ASK.search(question):
        return f"{question} {RECOMMENDATION_WORDS}"
    return question


# Words that ask for a section rather than name it: "What does the section on due
# diligence say?" names the section "Due diligence".
_SECTION_ASK_WORDS = (
    "section sections part chapter heading say says list tell describe cover covers "
    "explain mention state summarize summarise"
)


@lru_cache(maxsize=4096)
def section_words(text: str) -> frozenset[str]:
    """The content words (stemmed) that name a section, in a question or a heading: "What
    are the key obligations?" and the heading "Key obligations" both give {key, oblig}."""
    return frozenset(content_terms(text)) - _section_ask_words()


@lru_cache(maxsize=1)
def _section_ask_words() -> frozenset[str]:
    return frozenset(content_terms(_SECTION_ASK_WORDS))


def named_actors(question: str) -> dict[str, str]:
    """The countries, blocs and organisations a question names, by actor id, with the words
    that name them; a capitalised misspelling ("Philipines") counts as the actor it means."""
    return dict(_named_actors(question))


@lru_cache(maxsize=256)
def _named_actors(question: str) -> tuple[tuple[str, str], ...]:
    # Cached: composing one answer asks it several times (scoring, the actor filter, the
    # missing-name check, the field map), and fuzzy name resolution is the slow part.
    from qa.actors import find_actors, is_designation, resolve_actor

    asked = {m.actor_id: m.surface for m in find_actors(question)}
    for match in list(re.finditer(r"[^\s?]+", question))[1:]:
        word = match.group()
        if not word[:1].isupper():
            continue
        found = resolve_actor(word.strip(",.;:'\"()"))
        if found is not None and not is_designation(found.id, word, question, match.end()):
            asked.setdefault(found.id, word)  # "ISO 34501" is a standard, not ISO
    return tuple(asked.items())


# The body that speaks for an actor the question names: "the Japanese government".
_SPEAKS_FOR = re.compile(
    r"\s+(?:government|governments|administration|authorities|ministry|cabinet)\b", re.I
)


@lru_cache(maxsize=256)
def asked_terms(question: str) -> frozenset[str]:
    """The stemmed content words of what a question asks (`asked_words`), besides the words
    that name whom it asks about (`naming_terms`): "How does the Japanese government help
    its companies abroad?" gives {help, compani, abroad}."""
    return frozenset(content_terms(asked_words(question))) - naming_terms(question)


def naming_terms(question: str) -> frozenset[str]:
    """The stemmed words with which a question names its countries, blocs and
    organisations, with the body that speaks for one: "How does the Japanese government
    help …?" gives {japanes, govern}. A sentence that says them says who, not what."""
    found: set[str] = set()
    for surface in named_actors(question).values():
        words = [surface]
        at = question.find(surface)
        if at >= 0 and (body := _SPEAKS_FOR.match(question, at + len(surface))):
            words.append(body.group())
        found.update(content_terms(" ".join(words)))
    return frozenset(found)


# A capitalised word of a question: "Tesla", "Council", "CATL".
_CAPITALISED = re.compile(r"(?<![\w'-])[A-Z][\w&'-]*")
# Where a question's sentence starts: its first word, and one after ".", "?", "!" or ":".
_SENTENCE_START = re.compile(r"(?:^|[.?!:]\s+)\W*$")
# A shorter word ("TV", "SM", "IDs", "JnJ") is often the asker's own abbreviation, for
# words the text spells out.
MIN_NAME_LETTERS = 4


def proper_names(question: str) -> list[str]:
    """The names a question says besides the countries, blocs and organisations of the
    gazetteer (`named_actors`): runs of capitalised words that start none of its sentences
    ("Tesla", "Best Buy", "Highest EBITDAR Contribution"), once each, leaving out words
    with digits ("FY2017") and names opening with a word of under four letters ("JnJ").
    None for a question in title case, whose capitals say nothing."""
    # In title case ("What Is The Capital Of Japan") every word of four letters or more is.
    long_words = [w for w in re.findall(r"[^\W\d_][\w'-]*", question) if len(w) >= 4]
    if len(long_words) > 2 and all(w[:1].isupper() for w in long_words):
        return []
    from qa.actors import find_actors

    actors = [(m.start, m.end) for m in find_actors(question)]
    actor_words = set(dict(_named_actors(question)).values())  # misspelt names too
    runs: list[list[str]] = []
    end = -1  # where the last name word ended
    for match in _CAPITALISED.finditer(question):
        word = match.group().removesuffix("'s").strip("'-")
        if (
            _SENTENCE_START.search(question[: match.start()])
            or any(ch.isdigit() for ch in word)
            or any(start <= match.start() < stop for start, stop in actors)
            or word in actor_words
        ):
            continue
        short = len(word.removesuffix("s")) < MIN_NAME_LETTERS
        if runs and question[end : match.start()].isspace() and not (short and word.isupper()):
            runs[-1].append(word)  # "Best Buy": one name; "Tesla's EV" is not
        elif not short:
            runs.append([word])
        else:
            continue
        end = match.end()
    return list(dict.fromkeys(" ".join(run) for run in runs))


def spell_out_names(question: str) -> str:
    """The question with misspelt country, bloc and organisation names corrected
    ("Philipines" → "Philippines"), for retrieval; exact names are left as they are."""
    from qa.actors import find_actors, resolve_actor

    exact = {m.surface for m in find_actors(question)}
    words = []
    for word in question.split(" "):
        core = word.strip(",.;:?!'\"()")
        if len(core) > 4 and core[:1].isupper() and core not in exact:
            found = resolve_actor(core)
            if found is not None and found.name.lower() != core.lower():
                word = word.replace(core, found.name)
        words.append(word)
    return " ".join(words)
