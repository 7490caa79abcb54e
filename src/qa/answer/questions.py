"""What a question asks for: one fact or a set (list questions), one ask or several, and
the kind of detail (a figure, a date) that evidence must contain to answer it."""

from __future__ import annotations

import re
from dataclasses import dataclass

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
_DATE_ASK = re.compile(r"\b(?:what|which|in what) year\b|\b(?:since|by|until) when\b|^when\b", _I)
_DATE = re.compile(
    r"\b(?:1[89]|20)\d\d\b|\b(?:january|february|march|april|may|june|july|august|september|"
    r"october|november|december|since|until|by the end|next year|this year|currently)\b",
    _I,
)


@dataclass(frozen=True)
class Ask:
    """One ask of a question, and the detail its evidence must hold."""

    text: str
    wants_number: bool
    wants_date: bool

    def lacks_detail(self, evidence: str) -> bool:
        """True when `evidence` lacks the figure or date this ask is for."""
        return (self.wants_number and not _NUMBER.search(evidence)) or (
            self.wants_date and not _DATE.search(evidence)
        )


@dataclass(frozen=True)
class QuestionPlan:
    """How to answer a question: its asks, and whether it asks for a set."""

    question: str
    asks: tuple[Ask, ...]
    is_list: bool

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


def plan_question(question: str) -> QuestionPlan:
    """Split `question` into its asks and classify it."""
    parts = [p.strip(" ,?") for p in _PART_SPLIT.split(question.strip()) if p.strip(" ,?")]
    parts = parts or [question.strip()]
    asks = tuple(Ask(p, bool(_NUMBER_ASK.search(p)), bool(_DATE_ASK.search(p))) for p in parts)
    return QuestionPlan(question, asks, is_list_question(question))
