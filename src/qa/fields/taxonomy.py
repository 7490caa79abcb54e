"""The taxonomy of cooperation fields: a TOML file (the default beside this module, a
`fields.toml` in the corpus folder, or `QA_FIELDS_FILE`), checked with file and line.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from qa.config import Settings
from qa.errors import TaxonomyError
from qa.models import CooperationField

CORPUS_FILE = "fields.toml"  # a taxonomy in the corpus folder replaces the default
_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_REMEDY = "Fix the file (see 'Writing a taxonomy' in the README) and run `qa ingest`."


@dataclass(frozen=True)
class Taxonomy:
    """The fields to map, the scoring rule's constants, and where they came from."""

    fields: tuple[CooperationField, ...]
    threshold: float
    seed_weight: float
    source: str  # a path, or "default"
    digest: str  # SHA-256 of the file: a build records it to know when to recompute

    def field(self, field_id: str) -> CooperationField | None:
        """The field with this id, or None."""
        return next((f for f in self.fields if f.id == field_id), None)


def taxonomy_path(settings: Settings) -> Path | None:
    """The user's taxonomy file, or None for the default."""
    if settings.fields_file is not None:
        if not settings.fields_file.is_file():
            raise TaxonomyError(
                f"QA_FIELDS_FILE is {settings.fields_file}, which is not a file.",
                remedy="Point QA_FIELDS_FILE at a TOML taxonomy, or unset it for the default.",
            )
        return settings.fields_file
    candidate = settings.corpus_dir / CORPUS_FILE
    return candidate if candidate.is_file() else None


def load_taxonomy(settings: Settings) -> Taxonomy:
    """The taxonomy these settings select, validated."""
    path = taxonomy_path(settings)
    if path is None:
        text = resources.files("qa.fields").joinpath("default_fields.toml").read_text("utf-8")
        return parse_taxonomy(text, "default")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaxonomyError(f"Cannot read the taxonomy {path}: {exc}.", remedy=_REMEDY) from exc
    return parse_taxonomy(text, str(path))


def _line_of_table(text: str, number: int) -> int:
    """1-based line of the `number`-th (0-based) `[[field]]` header in `text`."""
    seen = -1
    for line_no, line in enumerate(text.splitlines(), start=1):
        if re.match(r"^\s*\[\[\s*field\s*\]\]", line):
            seen += 1
            if seen == number:
                return line_no
    return 1


def _fail(source: str, line: int, problem: str) -> TaxonomyError:
    return TaxonomyError(f"{source}, line {line}: {problem}.", remedy=_REMEDY)


def _number(data: dict[str, Any], key: str, default: float, source: str, text: str) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        line = next(
            (i for i, ln in enumerate(text.splitlines(), 1) if ln.strip().startswith(key)), 1
        )
        raise _fail(source, line, f"`{key}` must be a number, not {value!r}")
    return float(value)


def parse_taxonomy(text: str, source: str) -> Taxonomy:
    """Parse and check a taxonomy; `TaxonomyError` names `source`, the line and the problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        line = int(found.group(1)) if found else 1
        problem = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise _fail(source, line, f"not valid TOML ({problem})") from exc
    unknown = sorted(set(data) - {"field", "threshold", "seed_weight"})
    if unknown:
        raise _fail(source, 1, f"unknown key {unknown[0]!r} (expected [[field]] tables)")
    tables = data.get("field")
    if not isinstance(tables, list) or not tables:
        raise _fail(source, 1, "no [[field]] tables: define at least one field")
    fields: list[CooperationField] = []
    for number, table in enumerate(tables):
        line = _line_of_table(text, number)
        extra = sorted(set(table) - {"id", "label", "description", "seeds"})
        if extra:
            raise _fail(source, line, f"unknown key {extra[0]!r} in a field")
        for key in ("id", "label", "description"):
            if not isinstance(table.get(key), str) or not table[key].strip():
                raise _fail(source, line, f"the field needs a non-empty string `{key}`")
        if not _ID.match(table["id"]):
            raise _fail(
                source, line, f"field id {table['id']!r} must be lower_snake_case letters/digits"
            )
        if any(f.id == table["id"] for f in fields):
            raise _fail(source, line, f"field id {table['id']!r} is defined twice")
        seeds = table.get("seeds", [])
        if not isinstance(seeds, list) or not all(isinstance(s, str) and s for s in seeds):
            raise _fail(source, line, "`seeds` must be a list of non-empty strings")
        fields.append(
            CooperationField(
                id=table["id"],
                label=table["label"].strip(),
                description=table["description"].strip(),
                seeds=seeds,
            )
        )
    threshold = _number(data, "threshold", 0.5, source, text)
    seed_weight = _number(data, "seed_weight", 0.25, source, text)
    return Taxonomy(
        fields=tuple(fields),
        threshold=threshold,
        seed_weight=seed_weight,
        source=source,
        digest=hashlib.sha256(text.encode()).hexdigest(),
    )
