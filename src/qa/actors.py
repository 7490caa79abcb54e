"""Actors (countries, blocs, organisations) and finding them in text or in a question.

Countries come from the pycountry gazetteer; `actors.toml` beside this module adds their
aliases and demonyms, and the blocs and organisations with their members.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from qa.errors import UnknownActorError
from qa.models import Actor

ActorKind = Literal["country", "bloc", "organisation"]
__all__ = [
    "Actor",
    "ActorMention",
    "actor",
    "all_actors",
    "find_actors",
    "related_ids",
    "resolve_actor",
]

# Question words that must never fuzzy-match a country name ("states" ~ "Staten").
_COMMON_WORDS = frozenset(
    """government governments country countries nation nations state states union people
    republic kingdom island islands world global international region regional partner
    partners industry market markets which where there other others their these those about
    between cooperation cooperate standard standards policy policies federal national""".split()  # noqa: SIM905
)
_FUZZY_MIN_LETTERS = 5
_FUZZY_CUTOFF = 85.0
# An organisation acronym followed by a number is a standard's designation ("ISO 34501").
_STANDARD_CODE = re.compile(r"\s*[/:-]?\s*\d")


@dataclass(frozen=True)
class ActorMention:
    """Where `text[start:end] == surface` names actor `actor_id`."""

    actor_id: str
    start: int
    end: int
    surface: str


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _pycountry_names(country: Any) -> list[str]:
    names = [country.name]
    for attr in ("official_name", "common_name"):
        value = getattr(country, attr, None)
        if value:
            names.append(value)
    out: list[str] = []
    for name in names:
        if ", " in name:  # "Korea, Republic of" -> "Korea"; "Taiwan, Province of China" -> "Taiwan"
            name = name.split(", ", 1)[0]
        if name.lower().startswith("the "):
            name = name[4:]
        out.extend([name, _ascii(name)])
    return list(dict.fromkeys(out))


def _plural(demonym: str) -> list[str]:
    return [demonym, demonym + "s"] if demonym[-1] in "nai" else [demonym]


@dataclass(frozen=True)
class _Gazetteer:
    actors: dict[str, Actor]
    by_alias: dict[str, str]  # exact-case surface -> actor id ("" for not-an-actor phrases)
    by_folded: dict[str, str]  # casefolded alias -> actor id, for questions
    pattern: re.Pattern[str]
    member_of: dict[str, frozenset[str]]


@cache
def _gazetteer() -> _Gazetteer:
    import pycountry  # a JSON gazetteer: cheap, but only needed once actors are asked for

    data = tomllib.loads(resources.files("qa").joinpath("actors.toml").read_text("utf-8"))
    extra: dict[str, dict[str, list[str]]] = data.get("countries", {})
    claimed: dict[str, set[str]] = {}
    actors: dict[str, Actor] = {}
    curated: dict[str, str] = {}
    for country in pycountry.countries:
        cid = country.alpha_3.lower()
        own = extra.get(cid, {})
        names = _pycountry_names(country)
        for name in names:
            claimed.setdefault(name, set()).add(cid)
        listed = own.get("aliases", []) + [p for d in own.get("demonyms", []) for p in _plural(d)]
        for name in listed:
            curated[name] = cid
        display = getattr(country, "common_name", None) or names[0]
        aliases = list(dict.fromkeys([*names, *listed]))
        actors[cid] = Actor(id=cid, name=display, kind="country", aliases=aliases)
    for group in data.get("groups", []):
        actor = Actor.model_validate(group)
        actors[actor.id] = actor
        for name in actor.aliases:
            curated[name] = actor.id
    by_alias: dict[str, str] = {}
    for name, owners in claimed.items():
        if len(owners) == 1:  # a name two countries share ("Korea") needs a curated owner
            by_alias[name] = next(iter(owners))
    by_alias.update(curated)
    # Keep each actor's aliases to the names that really resolve to it.
    actors = {
        aid: a.model_copy(update={"aliases": [n for n in a.aliases if by_alias.get(n) == aid]})
        for aid, a in actors.items()
    }
    for phrase in data.get("not_actors", []):
        by_alias[phrase] = ""
    surfaces = sorted(by_alias, key=len, reverse=True)  # longest alternative wins at a position
    pattern = re.compile(r"(?<![\w])(?:" + "|".join(map(re.escape, surfaces)) + r")(?![\w])")
    member_of: dict[str, set[str]] = {}
    for a in actors.values():
        for member in a.members:
            member_of.setdefault(member, set()).add(a.id)
    by_folded = {name.casefold(): aid for name, aid in by_alias.items() if aid}
    for a in actors.values():
        by_folded.setdefault(a.id, a.id)
        by_folded.setdefault(a.name.casefold(), a.id)
    return _Gazetteer(
        actors=actors,
        by_alias=by_alias,
        by_folded=by_folded,
        pattern=pattern,
        member_of={k: frozenset(v) for k, v in member_of.items()},
    )


def all_actors() -> list[Actor]:
    """Every known actor: countries first (by id), then blocs and organisations."""
    return list(_gazetteer().actors.values())


def actor(actor_id: str) -> Actor:
    """The actor with id `actor_id`; raises `UnknownActorError` for an unknown id."""
    found = _gazetteer().actors.get(actor_id.lower())
    if found is None:
        raise UnknownActorError(
            f"Unknown actor id {actor_id!r}.",
            remedy="Use an ISO alpha-3 code in lower case (kor, usa) or a bloc id (eu, asean).",
        )
    return found


def find_actors(text: str) -> list[ActorMention]:
    """Actors that `text` names: exact aliases and demonyms at word boundaries, in text order.

    Where names overlap the longest wins ("South Korea", not "Korea"); phrases such as
    "North America" name no actor; "ISO 34501" is a standard, not the organisation.
    """
    g = _gazetteer()
    mentions: list[ActorMention] = []
    for match in g.pattern.finditer(text):
        actor_id = g.by_alias[match.group()]
        if not actor_id:
            continue
        if is_designation(actor_id, match.group(), text, match.end()):
            continue
        mentions.append(ActorMention(actor_id, match.start(), match.end(), match.group()))
    return mentions


def is_designation(actor_id: str, surface: str, text: str, end: int) -> bool:
    """Whether `surface`, ending at `end` of `text`, opens a standard's designation rather
    than naming the organisation: an organisation's acronym followed by a number ("ISO
    34501", "ISO/IEC 27001")."""
    is_org = _gazetteer().actors[actor_id].kind == "organisation"
    return is_org and surface.isupper() and bool(_STANDARD_CODE.match(text, end))


def _clean_name(name: str) -> str:
    name = re.sub(r"\s+", " ", name).strip(" \t\n.,;:!?\"'“”‘’")
    name = re.sub(r"^(?:the)\s+", "", name, flags=re.IGNORECASE)
    return re.sub(r"(?:'s|’s)$", "", name)


def resolve_actor(name: str, *, fuzzy: bool = True) -> Actor | None:
    """The actor a question's `name` means ("the US", "Korean government", "Philipines").

    Exact aliases, ids and demonyms first (case-insensitive); then an actor named inside
    the phrase; then, if `fuzzy`, the closest known name of at least five letters.
    """
    g = _gazetteer()
    cleaned = _clean_name(name)
    if not cleaned:
        return None
    bare = re.sub(r"^the\s+", "", name.strip(), flags=re.IGNORECASE)  # keeps "U.S."'s dots
    for candidate in (name.strip(), bare, cleaned):
        exact = g.by_folded.get(candidate.casefold())
        if exact:
            return g.actors[exact]
    inside = {m.actor_id for m in find_actors(cleaned)}
    if not inside:  # a question typed in lower case: try title case
        inside = {m.actor_id for m in find_actors(cleaned.title())}
    if len(inside) == 1:
        return g.actors[inside.pop()]
    if not fuzzy or inside:
        return None
    return _fuzzy(cleaned)


def _fuzzy(name: str) -> Actor | None:
    from rapidfuzz import fuzz, process

    g = _gazetteer()
    words = [w for w in re.findall(r"[A-Za-z]+", name) if w.lower() not in _COMMON_WORDS]
    letters = sum(len(w) for w in words)
    if letters < _FUZZY_MIN_LETTERS or not words:
        return None
    query = " ".join(words).casefold()
    choices = [n for n in g.by_folded if len(n) >= _FUZZY_MIN_LETTERS]
    best = process.extractOne(query, choices, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF)
    if best is None:
        return None
    return g.actors[g.by_folded[best[0]]]


def related_ids(actor_id: str) -> set[str]:
    """`actor_id` itself, the members of a bloc, and the blocs a member belongs to."""
    g = _gazetteer()
    found = actor(actor_id)
    related = {found.id, *found.members}
    related |= g.member_of.get(found.id, frozenset())
    return related
