"""Where a quoted sentence may end early or start late: at the end of a clause, when what
follows it is a further predicate or a further subject's clause that says nothing the
question asks; at a clause of the actor asked about, when those before it are others'.

"This article summarizes the direction of international cooperation …, including the EU,
the US, Japan, South Korea, and ASEAN countries, and explores the possible strategies for
Taiwan …" answers "What does the article summarize?" up to "ASEAN countries". The quote
keeps the sentence's opening, so it never changes who or what the sentence is about, and it
stays one verbatim span. Only these boundaries cut:

- a semicolon, unless what follows qualifies what precedes ("; however, …", "; except …")
  or the sentence is a list introduced by a colon ("to: provide …; improve …");
- ", while" and ", whereas", which open another subject's clause;
- ", and" followed by a finite verb and its object ("…, and explores the possible
  strategies", "…, and continued to negotiate"), which opens a further predicate of the
  same subject. A list's last item (", and ASEAN countries", ", and battery technology")
  is not one: no determiner follows its first word. Nor is a verb in its base form or
  in -ing ("It is suggested that the government can use …, and establish a platform",
  "to comply with …, and enforce our rules"): it shares the modal, the "to" or the
  governing verb of the clause before, and what it says is more of the same answer.

A condition, an exception or a contrast of the same subject (", but only …", ", unless
…", ", if …") never cuts: dropping it would change what the sentence claims.

A sentence whose clauses have different subjects ("Thailand, Indonesia, and Vietnam
attract foreign investment …, while the Philippines, with its rich nickel ore, strives to
develop the EV battery supply chain …") is quoted, for a question about one of them, from
the clause that names it to the last about it (`actor_clauses`): the Philippines' nickel
is never quoted as Indonesia's, nor Thailand's investment as the Philippines'.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from qa.attribution import clause_attributions

__all__ = ["MIN_CLAUSE_WORDS", "actor_clauses", "clause_end"]

_CUT = re.compile(
    r";\s+(?!(?:except|unless|provided|only|but|however|although|though|subject|if|when)\b)"
    r"|,\s+(?=(?:while|whereas)\s)"
    r"|,\s+(?=and\s+[a-z][a-z-]*(?:[^s\W]s|ed)\s+(?:the|a|an|its|their|his|her|our|this|these|"
    r"those|to)\s)",
    re.IGNORECASE,
)
# Words that open a list of examples, whose items semicolons may separate.
_EXAMPLES = re.compile(r"\b(?:such as|including|for example|for instance|e\.g\.|like)\b", re.I)
_LIST_ITEM_WORDS = 4
# Neither the quote nor what it leaves out is a fragment of a few words.
MIN_CLAUSE_WORDS = 6


def clause_end(
    sentence: str, answers: Callable[[str], bool], concerns: Callable[[str], bool]
) -> int | None:
    """The length of the shortest opening of `sentence` that ends a clause and `answers`
    (says what the question asks about), when the rest `concerns` nothing asked (says
    none of its words or names); None when the whole sentence is needed."""
    for cut in _cut_points(sentence):
        head, tail = sentence[:cut], sentence[cut:]
        if len(head.split()) < MIN_CLAUSE_WORDS or len(tail.split()) < MIN_CLAUSE_WORDS:
            continue
        if answers(head) and not concerns(tail):
            return cut
    return None


def _cut_points(sentence: str) -> list[int]:
    """Offsets where a clause of `sentence` ends, outside brackets, quotation marks and
    lists."""
    points = []
    for match in _CUT.finditer(sentence):
        before = sentence[: match.start()]
        clause = re.split(r";\s*", before)[-1]
        if match.group().startswith(";") and (":" in before or _EXAMPLES.search(clause)):
            continue  # an item of a list ("to: provide …; improve …", "such as …; …")
        if match.group().startswith(",") and _ends_list_item(clause):
            continue  # "… to comply with our legal obligations, resolve disputes, and enforce …"
        if _open(before, "(", ")") or _open(before, "[", "]") or before.count('"') % 2:
            continue
        if before.count("“") > before.count("”"):
            continue
        points.append(match.start())
    return points


def _ends_list_item(clause: str) -> bool:
    """Whether `clause` ends in an item of a list that the ", and" after it closes: an item
    of a few words after a comma ("…, resolve disputes"), not a list already closed by its
    own "and" ("…, South Korea, and ASEAN countries")."""
    items = clause.split(",")
    if len(items) < 2:
        return False
    last = items[-1].split()
    return len(last) <= _LIST_ITEM_WORDS and last[:1] != ["and"]


def _open(text: str, opening: str, closing: str) -> bool:
    return text.count(opening) > text.count(closing)


# The conjunction that opens a clause of a sentence, not a word of what it says.
_CONJUNCTION = re.compile(r"(?:while|whereas|but|and|yet)\s+", re.IGNORECASE)


def actor_clauses(
    sentences: Sequence[str], index: int, wanted: set[str], *, opening: bool
) -> tuple[int, int] | None:
    """The (start, end) in `sentences[index]` of its clauses about the actors `wanted`, when
    the clauses before them (if `opening`) or after them have other named subjects; None
    when the whole sentence is about them, or about none of them."""
    clauses = clause_attributions(sentences, index)
    about = [bool(wanted.intersection(c.subjects)) for c in clauses]
    if len(clauses) < 2 or all(about) or not any(about):
        return None
    first = about.index(True)
    last = len(about) - 1 - about[::-1].index(True)
    if not opening or not all(c.subjects for c in clauses[:first]):
        first = 0  # a clause before it about no one named may be its subject's own
    if not all(c.subjects for c in clauses[last + 1 :]):
        last = len(clauses) - 1
    if first == 0 and last == len(clauses) - 1:
        return None
    sentence = sentences[index]
    start = clauses[first].start if first else 0
    if first and (conjunction := _CONJUNCTION.match(sentence, start)):
        start = conjunction.end()
    end = clauses[last].end if last < len(clauses) - 1 else len(sentence)
    end = len(sentence[:end].rstrip(" ,;"))
    if len(sentence[start:end].split()) < MIN_CLAUSE_WORDS:
        return None
    return start, end
