"""Shared fixtures: clean environment → settings → real embedder → seed index → service."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from outside_reads import OutsideReads

from qa.config import Settings, load_settings
from qa.encoders.sentence_transformer import SentenceTransformerEmbedder
from qa.service import QAService

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "corpus" / "key-fields-of-international-cooperation-in-the-new-vehicle-industry.txt"
EVAL_DIR = ROOT / "eval"  # committed copies, with their licences
SEED_DEV = EVAL_DIR / "seed-dev.jsonl"

# The suite must pass in a plain clone: any read of ../shared (tuning data that only
# developers have) fails the run, even where the file happens to exist.
OUTSIDE = OutsideReads(ROOT.parent / "shared")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if OUTSIDE.paths:
        shown = "\n  ".join(sorted(set(OUTSIDE.paths))[:20])
        session.config.get_terminal_writer().line(
            f"\nThe suite read files outside the repo; commit what it needs:\n  {shown}", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No QA_* from the developer's shell; the default index lives in this test's tmp dir."""
    for key in list(os.environ):
        if key.startswith("QA_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("QA_CORPUS_DIR", str(tmp_path / "corpus"))


class FakeEmbedder:
    """Deterministic bag-of-words hashing embedder: for pure-logic tests, no model."""

    model_id = "fake-embedder"
    dimension = 64
    max_tokens = 40

    def __init__(self) -> None:
        self.calls: list[int] = []

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in re.finditer(r"\w+|[^\w\s]", text)]

    def count_tokens(self, text: str) -> int:
        return len(self.token_spans(text))

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The real bundled all-MiniLM-L6-v2, loaded once per test session."""
    return SentenceTransformerEmbedder("sentence-transformers/all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def seed_settings(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Settings:
    """Settings whose corpus is a copy of the seed, with its index already built."""
    base = tmp_path_factory.mktemp("seed")
    corpus = base / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    settings = Settings(corpus_dir=corpus, index_dir=base / "index")
    QAService(settings, embedder=embedder).ingest()
    return settings


@pytest.fixture(scope="session")
def seed_service(seed_settings: Settings, embedder: SentenceTransformerEmbedder) -> QAService:
    """A loaded service over the seed index (read-only: don't ingest through it)."""
    service = QAService(seed_settings, embedder=embedder)
    service.warm()
    return service


API_KEY = "test-key-0123456789"


@pytest.fixture(scope="module")
def base_url(seed_settings: Settings, seed_service: QAService) -> Iterator[str]:
    """A real uvicorn server over the seed index, on a free loopback port."""
    from servers import running_server

    with running_server(seed_settings, service=seed_service) as url:
        yield url


@pytest.fixture(scope="module")
def keyed_url(seed_settings: Settings, seed_service: QAService) -> Iterator[str]:
    """The same server with `QA_API_KEY` set to `API_KEY`."""
    from servers import running_server

    settings = seed_settings.model_copy(update={"api_key": API_KEY})
    with running_server(settings, service=seed_service) as url:
        yield url


CorpusFactory = Callable[..., tuple[Settings, Path]]


@pytest.fixture
def make_corpus(tmp_path: Path) -> Iterator[CorpusFactory]:
    """Write files into a fresh corpus folder and return (settings, corpus path)."""

    def factory(files: dict[str, str | bytes], **overrides: object) -> tuple[Settings, Path]:
        corpus = tmp_path / "corpus"
        corpus.mkdir(exist_ok=True)
        for name, content in files.items():
            path = corpus / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        settings = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index", **overrides)
        return settings, corpus

    yield factory
