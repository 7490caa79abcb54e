"""schemathesis against the served `/openapi.json`, over HTTP to a real server: no 5xx,
and every response (errors included) matches the documented schema."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import BaseSchema, Case
from servers import running_server

from qa.config import Settings, load_settings
from qa.embedding import SentenceTransformerEmbedder
from qa.service import QAService

pytestmark = pytest.mark.e2e

EXAMPLES = 20


@pytest.fixture(scope="module")
def read_api(seed_settings: Settings, seed_service: QAService) -> Iterator[BaseSchema]:
    """The seed server; only the read-only operations run against it."""
    with running_server(seed_settings, service=seed_service) as url:
        yield schemathesis.openapi.from_url(f"{url}/openapi.json")


@pytest.fixture(scope="module")
def write_api(
    tmp_path_factory: pytest.TempPathFactory,
    seed_settings: Settings,
    embedder: SentenceTransformerEmbedder,
) -> Iterator[BaseSchema]:
    """A server over a throwaway copy of the seed index, for uploads and deletes."""
    root = tmp_path_factory.mktemp("schema-writes")
    shutil.copytree(seed_settings.corpus_dir, root / "corpus")
    shutil.copytree(seed_settings.index_dir, root / "index", symlinks=True)
    scratch = load_settings(
        corpus_dir=root / "corpus", index_dir=root / "index", max_upload_bytes=4096
    )
    with running_server(scratch, service=QAService(scratch, embedder=embedder)) as url:
        yield schemathesis.openapi.from_url(f"{url}/openapi.json")
    assert _inside(root / "corpus", root)


def _inside(folder: Path, root: Path) -> bool:
    return all(p.resolve().is_relative_to(root) for p in folder.rglob("*"))


read_schema = schemathesis.pytest.from_fixture("read_api").exclude(
    path="/documents", method="POST"
).exclude(path="/documents/{document_id}", method="DELETE")
write_schema = schemathesis.pytest.from_fixture("write_api").include(
    path_regex=r"^/documents(/\{document_id\})?$", method=["POST", "DELETE"]
)

HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@read_schema.parametrize()
@HYPOTHESIS
def test_api_schema_read_operations_conform(case: Case) -> None:
    case.call_and_validate(timeout=60)


@write_schema.parametrize()
@settings(HYPOTHESIS, max_examples=8)
def test_api_schema_write_operations_conform(case: Case) -> None:
    case.call_and_validate(timeout=120)
