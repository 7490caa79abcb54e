"""Is a question in a language the embedding model reads? Detected with py3langid, and
only believed when the question's words are also foreign to the retrieved passages."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

# langid is unsure on short or keyword questions ("Korea hydrogen"): below this normalised
# probability the question is taken to be in the model's language.
_MIN_PROBABILITY = 0.5
_WORD = re.compile(r"[^\W\d_]{3,}")


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> tuple[str, float]:
    """The ISO 639-1 code of the most likely language of `text`, and its probability."""
    code, probability = _identifier().classify(text)
    return str(code), float(probability)


def language_name(code: str) -> str:
    """ "zh" → "Chinese"; the code itself when pycountry does not know it."""
    import pycountry

    found = pycountry.languages.get(alpha_2=code)
    return str(found.name) if found is not None else code


def foreign_language(question: str, languages: Sequence[str], context: Sequence[str]) -> str | None:
    """The language code of `question` when it is not one of `languages`, else None.

    A question counts as foreign only when fewer than half of its words appear in
    `context` (the retrieved passages) and langid is confident: names and jargon shared
    with the corpus ("Korea hydrogen", "ISO 34501") are never foreign, whatever langid
    guesses. The words are checked first, so a question in the corpus's language never
    loads langid's model (a third of a second of a one-shot `qa ask`).
    """
    if "*" in languages:
        return None
    words = [w.lower() for w in _WORD.findall(question)]
    if words:
        seen = " ".join(context).lower()
        shared = sum(1 for w in words if w in seen)
        if shared * 2 >= len(words):
            return None
    code, probability = detect_language(question)
    if code in languages or probability < _MIN_PROBABILITY:
        return None
    return code
