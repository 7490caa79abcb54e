"""Who a sentence is about: the actors its subject names, or the ones it refers back to.

"It has strengthened …" after "The Korean government is …" is about Korea. Sentences are
split into clauses (at ";" and ", while …") so that each clause has its own subject and
partners ("cooperating with Australia and India").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from qa.actors import ActorMention, find_actors

# A leading adverbial that is not the subject: "In addition, …", "If …, Taiwan can …".
_LEADING = re.compile(
    r"^(?:(?:in addition|moreover|furthermore|however|also|meanwhile|similarly|likewise|"
    r"additionally|besides|in particular|in contrast|in turn|at the same time|for example|"
    r"for instance|as a result|therefore|thus|hence|finally|lastly|first|second|third)\s*,\s*"
    r"|(?:in addition to|if|when|while|although|though|since|as|because|after|before|"
    r"through|by|with|under|despite|unlike|following|given|based on|to|in|on|for|from|"
    r"during|within|according to|apart from|besides)\b[^,;]{0,200},\s*"
    # a participial lead before a pronoun subject: "First demonstrated in 1973, it was …",
    # "Dubbed Skylab, it …", "Having spent time …, he …"
    r"|(?:first|once|originally|later|\w+ly)?\s*(?:\w+(?:ed|en|wn|ing)|built|held|made|"
    r"led|set|born|written|given|seen)\b[^,;]{0,120},\s*(?=(?:it|they|he|she)\s))",
    re.IGNORECASE,
)
_CONJUNCTION = re.compile(r"^(?:and|but|while|whereas|or|yet)\s+", re.IGNORECASE)
# "It is suggested that the government …", "It is usually recognized that lawbreaking …":
# the subject is in the that-clause.
_EXPLETIVE = re.compile(
    r"^it\s+(?:is|was|has been|will be|would be|seems|seemed|appears|appeared|becomes|became|"
    r"remains|remained)\s+(?:\w+\s+){0,2}that\s+",
    re.IGNORECASE,
)
_EXISTENTIAL = re.compile(r"^there\s+(?:is|are|was|were|exists?|existed)\b", re.IGNORECASE)
_BARE = re.compile(
    r"^(?:it|its|they|their|them|this|these|that|those|he|she|his|her|such|both|"
    r"the\s+(?:latter|former|two\b|same\b)|"
    r"the\s+(?:country|countries|government|governments|nation|nations|state|administration|"
    r"authorities|ministry|cabinet office|cabinet|bloc|union|region|partners|sides))(?![\w-])",
    re.IGNORECASE,
)
# "This article summarizes …" is about the document itself, which needs no antecedent.
_SELF_REFERENCE = re.compile(
    r"^(?:this|the present)\s+(?:article|report|paper|document|study|brief|analysis|chapter|"
    r"section|note|review)\b",
    re.IGNORECASE,
)
# A subject with no actor that points back: "The Council established through this cooperation";
# "proteins such as NFIL3" gives examples and points nowhere.
_POINTING = re.compile(r"\b(?:this|these|such(?!\s+as\b)|said)\b", re.IGNORECASE)
_AUXILIARY = re.compile(
    r"\b(?:is|are|was|were|has|have|had|will|would|can|could|may|might|shall|should|must|"
    r"does|do|did)\b",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(r";\s*|,\s*(?=(?:while|whereas|but)\s)", re.IGNORECASE)
_PREPOSITIONS = frozenset(
    """with to of in for by from between among through than on at into across like including
    via against toward towards regarding under over about within beyond such as per""".split()  # noqa: SIM905
)
# Words allowed between conjoined actors: "The EU and the US", "ASEAN countries and India".
_CONJOINED_GAP = re.compile(
    r"^(?:\s|,|and\b|or\b|as well as\b|the\b|its\b|their\b|both\b|countries\b|country\b|"
    r"governments?\b|member states\b|'s\b|’s\b)*$",
    re.IGNORECASE,
)
_PARTNER_CUE = re.compile(
    r"\b(?:with|alongside|between|among|participat\w*\s+in|partner\w*\s+of)\s+", re.IGNORECASE
)
# "These advances …" points back to the sentence that says "advances" without "the".
_DEMONSTRATIVE = re.compile(r"^(?:this|these|such)\s+([a-z][a-z-]{3,})\b", re.IGNORECASE)
_DETERMINERS = frozenset(
    "the this these that those such its their his her our your".split()  # noqa: SIM905
)
# "As organisms exist …, their presence …", "When a rock crystallizes …, it is …", "When
# finally Edward the Confessor returned …, he brought …": the pronoun's referent is the
# subject of the sentence's own lead clause.
_OWN_LEAD = re.compile(
    r"^(?:while|whereas|although|though|since|as|because|when|whenever|if|once|unless)\s+"
    r"(?:(?-i:[a-z]+ly)\s+)?(?P<lead>[^;]{1,200}?),\s*(?P<pronoun>they|their|them|it|its|he|his|she|her)\b",
    re.IGNORECASE,
)
_GENERIC_PLURAL = re.compile(r"(?:[a-z][\w-]*\s+){0,2}?[a-z][\w-]*[^s\W]s\s", re.IGNORECASE)
_INDEFINITE = re.compile(r"an?\s+[a-z]", re.IGNORECASE)
_ADVERBIAL = re.compile(r"^(?:for example|for instance|in addition|moreover|however)\s*,\s*", re.I)
_PERSONAL_PRONOUNS = frozenset("it they he she we".split())  # noqa: SIM905
_MAX_WORDS_BEFORE_SUBJECT = 4
_MAX_WORDS_AFTER_CUE = 4
_PROPER_SUBJECT_WORDS = 4


@dataclass(frozen=True)
class ClauseAttribution:
    """One clause of a sentence: `sentence[start:end]`, who it is about, and with whom."""

    start: int
    end: int
    subjects: tuple[str, ...]
    partners: tuple[str, ...]


def _strip_lead(text: str, *, continuation: bool = False) -> int:
    """Offset where the clause's subject starts, past adverbials and conjunctions.

    A `continuation` clause ("while the Philippines, with …, strives") opens with a
    conjunction, not a subordinate clause.
    """
    offset = 0
    if continuation and (conjunction := _CONJUNCTION.match(text)):
        offset = conjunction.end()
    for _ in range(3):
        rest = text[offset:]
        match = _LEADING.match(rest) or _CONJUNCTION.match(rest) or _EXPLETIVE.match(rest)
        if not match:
            break
        offset += match.end()
    return offset


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'’-]+", text.lower())


def conjoined(text: str, mentions: Sequence[ActorMention], first: int) -> list[ActorMention]:
    """`mentions[first]` and the mentions joined to it by "and", commas and determiners."""
    group = [mentions[first]]
    for mention in mentions[first + 1 :]:
        if not _CONJOINED_GAP.match(text[group[-1].end : mention.start]):
            break
        group.append(mention)
    return group


def _named_subject(text: str) -> list[ActorMention]:
    """Actors named as the subject at the start of `text` (a clause past its adverbials)."""
    mentions = find_actors(text)
    if not mentions:
        return []
    before = _words(text[: mentions[0].start])
    if len(before) > _MAX_WORDS_BEFORE_SUBJECT or _PREPOSITIONS.intersection(before):
        return []
    if before and before[0] in _PERSONAL_PRONOUNS:
        return []  # "it invited Japan": Japan is the object
    if "," in text[: mentions[0].start]:
        return []
    return conjoined(text, mentions, 0)


def _points_back(text: str) -> bool:
    head = _BARE.match(text)
    if head:
        # "The government of Japan …" names its subject after all.
        of = re.match(r"\s+of\s+", text[head.end() :])
        return not (of and _named_subject(text[head.end() + of.end() :]))
    aux = _AUXILIARY.search(text)
    if aux is None or len(_words(text[: aux.start()])) > 12:
        return False
    # The subject ends at a comma: "Some fans considered this disingenuous, since the
    # programme was …" has "this" after its verb.
    subject = text[: aux.start()].split(",")[0]
    return bool(_POINTING.search(subject)) and not find_actors(subject)


def is_bare_reference(sentence: str) -> bool:
    """True when the sentence's subject is a pronoun or a bare reference.

    "It …", "They …", "This …", "Its …", "The country …", "The government …", also after
    a leading adverbial ("In addition, it promotes …") or in "It is suggested that the
    government …"; and a subject that names no actor but points back ("The Council
    established through this cooperation will …"). False when the subject names an actor.
    """
    text = sentence.strip()
    clause = text[_strip_lead(text) :]
    if _named_subject(clause) or _SELF_REFERENCE.match(clause) or _own_lead(text) is not None:
        return False
    return _points_back(clause)


@lru_cache(maxsize=4096)
def _own_lead(text: str) -> str | None:
    """The sentence's subordinate lead clause when the pronoun subject after it is that
    clause's subject, else None: a plural pronoun after a plural noun with no determiner
    ("While etioplasts lack chlorophyll, they have …"), "it" after a noun with "a" or "an"
    ("When a rock crystallizes from melt, it is …"), any pronoun after a name ("When
    finally Edward the Confessor returned …, he brought …"). Not after "the talks" or
    "these countries", which are references back themselves, nor "it" after "the deal"
    (it may be a country). Cached: `is_bare_reference` and `antecedent` both ask it of the
    same sentences, for every ranked sentence of every answer.
    """
    adverbial = _ADVERBIAL.match(text)
    match = _OWN_LEAD.match(text[adverbial.end() :] if adverbial else text)
    if match is None:
        return None
    lead, pronoun = match.group("lead"), match.group("pronoun").lower()
    first = lead.split()[0].strip(",'’\"()")
    if first[:1].isupper() or _named_subject(lead):
        named = not _BARE.match(lead)
    elif pronoun in ("they", "their", "them"):
        generic = _GENERIC_PLURAL.match(lead + " ")
        named = generic is not None and not _DETERMINERS.intersection(_words(generic.group(0)))
    else:
        named = pronoun in ("it", "its") and _INDEFINITE.match(lead) is not None
    return lead if named else None


def is_introduction(sentence: str) -> bool:
    """True for an existential sentence ("There are about thirty photosynthetic
    carotenoids."): it says only that its subject exists, and the sentence after it says
    what the subject is or does."""
    return bool(_EXISTENTIAL.match(sentence.strip()))


def antecedent(sentences: Sequence[str], index: int, *, max_back: int = 3) -> int | None:
    """Index of the sentence a bare-reference sentence refers back to, or None.

    Walks back, at most `max_back` sentences, over other bare-reference sentences and
    sentences whose subject names no one, to the nearest one whose subject names an actor
    or is a proper name ("Sir Charles Lyell first published …", "The CYCLADES network
    was …", "Zhu used …" where the passage writes "Zhu" only as a name). A sentence that
    is not a bare reference is its own antecedent. Failing those, a demonstrative
    subject's noun points back to the nearest sentence that says it without a determiner
    ("Early advances in this field …. These advances led to …"). None when no such
    sentence is near ("The deals cover batteries. It also set up a forum.": "It" is not
    the deals).
    """
    if not is_bare_reference(sentences[index]):
        return index
    names: frozenset[str] | None = None
    head = _demonstrative_head(sentences[index])
    introduced: int | None = None
    for earlier in range(index - 1, max(-1, index - 1 - max_back), -1):
        if is_bare_reference(sentences[earlier]):
            continue
        text = sentences[earlier].strip()
        clause = text[_strip_lead(text) :]
        if _named_subject(clause) or _own_lead(text) is not None:
            return earlier
        if names is None:  # only for a subject that names no actor, once per call
            names = _passage_names(sentences)
        if _proper_subject(clause, names):
            return earlier
        if introduced is None and head is not None and _introduces(text, head):
            introduced = earlier
    return introduced


def _demonstrative_head(sentence: str) -> str | None:
    """The stemmed noun a demonstrative subject points back to ("These advances …" gives
    "advanc"), or None for a pronoun or a demonstrative with no noun ("This is …")."""
    text = sentence.strip()
    match = _DEMONSTRATIVE.match(text[_strip_lead(text) :])
    if match is None or _AUXILIARY.fullmatch(match.group(1)):
        return None
    return _stem(match.group(1))


def _introduces(sentence: str, head: str) -> bool:
    """True when `sentence` says the noun `head` other than as a reference back to it
    ("Early advances in this field …", not "The advances …" or "These advances …")."""
    words = _words(sentence)
    return any(
        _stem(word) == head and (at == 0 or words[at - 1] not in _DETERMINERS)
        for at, word in enumerate(words)
    )


@lru_cache(maxsize=4096)
def _stem(word: str) -> str:
    return str(_stemmer().stemWord(word.lower()))


@lru_cache(maxsize=1)
def _stemmer() -> Any:  # PyStemmer ships no types
    import Stemmer  # the stemmer bm25s uses

    return Stemmer.Stemmer("english")


def _passage_names(sentences: Sequence[str]) -> frozenset[str]:
    """Words the passage writes only capitalised, and at least once inside a sentence: its
    proper names ("Zhu"), not a sentence's own first capital ("Advances", "The")."""
    capitalised: set[str] = set()
    lowercase: set[str] = set()
    for sentence in sentences:
        for number, word in enumerate(re.findall(r"[^\W\d_][\w'’-]*", sentence)):
            if word[0].islower():
                lowercase.add(word)
            elif number > 0:
                capitalised.add(word)
    return frozenset(w for w in capitalised if w.lower() not in lowercase)


def _proper_subject(clause: str, names: frozenset[str]) -> bool:
    """True when the clause opens with a proper name: among its first
    `_PROPER_SUBJECT_WORDS` words, a capitalised word after the first, a first word in
    capitals ("NASA"), or a first word that is one of the passage's `names`. A sentence's
    own first capital is otherwise no name ("Advances in …")."""
    words = clause.split()[:_PROPER_SUBJECT_WORDS]
    if words and len(words[0]) > 1 and words[0].isupper():
        return True
    if words and words[0].strip(",;:'’\"()") in names:
        return True
    return any(w[:1].isupper() for w in words[1:])


def _clause_spans(sentence: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _CLAUSE_BREAK.finditer(sentence):
        if sentence[start : match.start()].strip():
            spans.append((start, match.start()))
        start = match.end()
    if sentence[start:].strip():
        spans.append((start, len(sentence)))
    return spans or [(0, len(sentence))]


def _partners(text: str) -> list[str]:
    found: list[str] = []
    mentions = find_actors(text)
    for cue in _PARTNER_CUE.finditer(text):
        following = [i for i, m in enumerate(mentions) if m.start >= cue.end()]
        if not following:
            continue
        first = following[0]
        gap = text[cue.end() : mentions[first].start]
        if len(_words(gap)) > _MAX_WORDS_AFTER_CUE or re.search(r"[;.]", gap):
            continue
        found.extend(m.actor_id for m in conjoined(text, mentions, first))
    return list(dict.fromkeys(found))


def clause_attributions(sentences: Sequence[str], index: int) -> list[ClauseAttribution]:
    """The clauses of `sentences[index]`, each with its subject actors and partners.

    A clause without a subject of its own ("; and continues to negotiate with the US")
    takes the previous clause's; the first clause of a bare-reference sentence takes
    its antecedent's subject.
    """
    sentence = sentences[index]
    clauses: list[ClauseAttribution] = []
    subjects: tuple[str, ...] = ()
    for number, (start, end) in enumerate(_clause_spans(sentence)):
        text = sentence[start:end]
        lead = _strip_lead(text, continuation=number > 0)
        named = _named_subject(text[lead:])
        if named:
            subjects = tuple(dict.fromkeys(m.actor_id for m in named))
        elif number == 0:
            subjects = ()
            if (own := _own_lead(text)) is not None:
                # "When Korea opened the forum, it invited Japan": Korea, not Japan.
                subjects = tuple(dict.fromkeys(m.actor_id for m in _named_subject(own)))
            elif _points_back(text[lead:]):
                found = antecedent(sentences, index)
                if found is not None and found != index:
                    subjects = tuple(subject_actors(sentences, found))
        partners = tuple(p for p in _partners(text) if p not in subjects)
        clauses.append(ClauseAttribution(start, end, subjects, partners))
    return clauses


def subject_actors(sentences: Sequence[str], index: int) -> list[str]:
    """Actor ids that `sentences[index]` is about: its subjects, or its antecedent's."""
    found: list[str] = []
    for clause in clause_attributions(sentences, index):
        found.extend(clause.subjects)
    return list(dict.fromkeys(found))


def partner_actors(sentences: Sequence[str], index: int) -> list[str]:
    """Actor ids named as counterparts in `sentences[index]` ("cooperating with India")."""
    found: list[str] = []
    for clause in clause_attributions(sentences, index):
        found.extend(clause.partners)
    return list(dict.fromkeys(found))
