"""`qa eval`: retrieval, answer, citation and abstention quality on labelled questions.

Reads the seed-dev JSONL format (`question`, `evidence`, `answer_contains`,
`answerable`) against the configured corpus, and SQuAD JSON (one corpus per title)
such as PolicyQA. Each corpus is ingested into a temporary index.
"""

from __future__ import annotations

import json
import logging
import re
import statistics
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from qa.config import Settings
from qa.encoders.base import Embedder
from qa.encoders.sentence_transformer import load_embedder
from qa.errors import ConfigError
from qa.service import QAService

logger = logging.getLogger(__name__)

Mode = Literal["hybrid", "dense", "lexical"]
_MARKER = re.compile(r"\[\d+\]")  # a citation marker in an answer: "[1]"


@dataclass
class Case:
    """One labelled question; `gold` phrases mark a correct passage, `expected` a correct answer."""

    question: str
    answerable: bool
    gold: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)
    require_all: bool = True  # seed-dev: every phrase; SQuAD: any one of the gold answers
    excluded: list[str] = field(default_factory=list)  # phrases a correct answer never quotes
    reason: str | None = None  # the abstention reason an unanswerable question must get


class EvalReport(BaseModel):
    dataset: str
    mode: str
    questions: int
    answerable: int
    hit_at_1: float | None
    hit_at_3: float | None
    hit_at_10: float | None
    mrr: float | None
    answer_contains: float | None
    citation_contains: float | None
    answered_rate: float | None
    abstention_precision: float | None
    abstention_recall: float | None
    answer_words_p50: float | None = None
    latency_ms_p50: float
    latency_ms_p95: float
    failures: list[str] = []


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _contains(text: str, phrases: Sequence[str], require_all: bool) -> bool:
    haystack = _norm(text)
    found = [_norm(p) in haystack for p in phrases]
    return all(found) if require_all else any(found)


def read_seed_jsonl(path: Path) -> list[Case]:
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            evidence = [row["evidence"]] if row.get("evidence") else []
            cases.append(
                Case(
                    row["question"],
                    bool(row.get("answerable", True)),
                    evidence,
                    [*row.get("answer_contains", []), *row.get("actors", [])],
                    excluded=list(row.get("answer_excludes", [])),
                    reason=row.get("reason"),
                )
            )
        except (ValueError, KeyError) as exc:
            raise ConfigError(f"{path}:{number}: not a seed-dev question ({exc}).") from exc
    return cases


def read_squad(path: Path) -> list[tuple[str, list[str], list[Case]]]:
    """(title, paragraphs, cases) per SQuAD article."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (ValueError, KeyError) as exc:
        raise ConfigError(f"{path} is not SQuAD JSON ({exc}).") from exc
    articles: list[tuple[str, list[str], list[Case]]] = []
    for article in data:
        paragraphs, cases = [], []
        for paragraph in article["paragraphs"]:
            paragraphs.append(paragraph["context"])
            for qa in paragraph["qas"]:
                answers = list(dict.fromkeys(a["text"] for a in qa.get("answers", [])))
                cases.append(Case(qa["question"], bool(answers), answers, answers, False))
        articles.append((article.get("title") or f"article-{len(articles)}", paragraphs, cases))
    return articles


def _mode_settings(settings: Settings, mode: Mode) -> Settings:
    if mode == "dense":
        return settings.model_copy(update={"lexical_weight": 0.0, "dense_weight": 1.0})
    if mode == "lexical":
        return settings.model_copy(update={"dense_weight": 0.0, "lexical_weight": 1.0})
    return settings


def answer_words(answer: str) -> int:
    """How many words an answer has: not its citation markers ("[1]") or the elision mark
    of a quote cut at the end of a clause ("…")."""
    return sum(any(ch.isalnum() for ch in word) for word in _MARKER.sub(" ", answer).split())


@dataclass
class _Tally:
    ranks: list[int | None] = field(default_factory=list)
    answers: list[bool] = field(default_factory=list)
    citations: list[bool] = field(default_factory=list)
    abstained: list[tuple[bool, bool]] = field(default_factory=list)  # (abstained, answerable)
    words: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(self, service: QAService, case: Case) -> None:
        started = time.perf_counter()
        answer = service.ask(case.question)
        self.latencies.append((time.perf_counter() - started) * 1000)
        self.abstained.append((not answer.answered, case.answerable))
        if answer.answered:
            self.words.append(answer_words(answer.answer))
        if not case.answerable:
            if answer.answered:
                self.failures.append(f"answered an unanswerable question: {case.question}")
            elif case.reason is not None and answer.reason != case.reason:
                self.failures.append(
                    f"abstained with {answer.reason}, not {case.reason}: {case.question}"
                )
            return
        hits = service.search(case.question, k=10).hits
        rank = next((h.rank for h in hits if _contains(h.text, case.gold, False)), None)
        self.ranks.append(rank)
        good_answer = (
            answer.answered
            and _contains(answer.answer, case.expected, case.require_all)
            and not (case.excluded and _contains(answer.answer, case.excluded, False))
        )
        good_citation = any(_contains(c.text, case.gold, False) for c in answer.citations)
        self.answers.append(good_answer)
        self.citations.append(good_citation)
        if not (good_answer and good_citation):
            self.failures.append(f"{case.question} → {answer.answer[:120]}")

    def report(self, dataset: str, mode: str) -> EvalReport:
        def rate(values: Sequence[bool]) -> float | None:
            return round(sum(values) / len(values), 4) if values else None

        def hit(k: int) -> float | None:
            return rate([r is not None and r <= k for r in self.ranks])

        abstained = [a for a, _ in self.abstained if a]
        unanswerable = [a for a, answerable in self.abstained if not answerable]
        latencies = sorted(self.latencies) or [0.0]
        return EvalReport(
            dataset=dataset,
            mode=mode,
            questions=len(self.abstained),
            answerable=len(self.ranks),
            hit_at_1=hit(1),
            hit_at_3=hit(3),
            hit_at_10=hit(10),
            mrr=round(statistics.fmean(1 / r if r else 0 for r in self.ranks), 4)
            if self.ranks
            else None,
            answer_contains=rate(self.answers),
            citation_contains=rate(self.citations),
            answered_rate=rate([not a for a, answerable in self.abstained if answerable]),
            abstention_precision=rate([not answerable for a, answerable in self.abstained if a])
            if abstained
            else None,
            abstention_recall=rate(unanswerable) if unanswerable else None,
            answer_words_p50=statistics.median(self.words) if self.words else None,
            latency_ms_p50=round(statistics.median(latencies), 2),
            latency_ms_p95=round(latencies[int(0.95 * (len(latencies) - 1))], 2),
            failures=self.failures[:50],
        )


def _run(
    corpora: Iterable[tuple[Path, list[Case]]],
    settings: Settings,
    embedder: Embedder,
    modes: Sequence[Mode],
    dataset: str,
) -> list[EvalReport]:
    tallies = {mode: _Tally() for mode in modes}
    with tempfile.TemporaryDirectory(prefix="qa-eval-") as scratch:
        for number, (corpus, cases) in enumerate(corpora):
            base = settings.model_copy(
                update={"corpus_dir": corpus, "index_dir": Path(scratch) / f"index-{number}"}
            )
            QAService(base, embedder=embedder).ingest(export_query_encoder=False)
            for mode in modes:
                service = QAService(_mode_settings(base, mode), embedder=embedder)
                for case in cases:
                    tallies[mode].add(service, case)
    return [tallies[mode].report(dataset, mode) for mode in modes]


def evaluate_file(
    path: Path,
    settings: Settings,
    *,
    modes: Sequence[str] = ("hybrid",),
    limit: int | None = None,
    corpora: int | None = None,
    embedder: Embedder | None = None,
) -> list[EvalReport]:
    """Evaluate the questions in `path` (seed-dev JSONL or SQuAD JSON) per retrieval mode."""
    embedder = embedder or load_embedder(settings)
    checked: list[Mode] = [m for m in modes if m in ("hybrid", "dense", "lexical")]  # type: ignore[misc]
    if path.suffix == ".jsonl":
        cases = read_seed_jsonl(path)[:limit]
        return _run([(settings.corpus_dir, cases)], settings, embedder, checked, path.name)
    with tempfile.TemporaryDirectory(prefix="qa-squad-") as scratch:
        folders = []
        for number, (title, paragraphs, cases) in enumerate(read_squad(path)[:corpora]):
            folder = Path(scratch) / f"corpus-{number}"
            folder.mkdir()
            text = f"{title}\n\n" + "\n\n".join(p.strip() for p in paragraphs)
            (folder / f"{re.sub(r'[^A-Za-z0-9]+', '-', title)[:80] or number}.txt").write_text(text)
            folders.append((folder, cases[:limit]))
        return _run(folders, settings, embedder, checked, path.name)
