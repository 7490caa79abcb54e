"""schemathesis against the served `/openapi.json`, over HTTP to a real server: no 5xx,
and every response (errors included) matches the documented schema."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.specs.openapi.checks import positive_data_acceptance
from servers import running_server

from qa.api.app import create_app
from qa.config import Settings, load_settings
from qa.encoders.sentence_transformer import SentenceTransformerEmbedder
from qa.service import QAService

pytestmark = pytest.mark.e2e

EXAMPLES = 20


# The schema comes from an app built here, at import, because schemathesis parametrises
# at collection time (its lazy `from_fixture` loader does not work with pytest 9).
# `test_api_schema_is_the_served_one` checks that the servers publish this same schema.
SCHEMA_DOC = create_app(Settings()).openapi()
# Invalid data must be rejected. schemathesis's default statuses for that, plus 413: a
# generated body over the service's request limit is refused for its size before it is
# validated (a long enough invalid `documents` list does this by chance).
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": [*REJECTED, "5xx"]}}}
)
schema = schemathesis.openapi.from_dict(SCHEMA_DOC, config=CONFIG)
# Only this service's routes: /v1 (OpenAI-compatible) and /mcp have their own tests.
own = schema.exclude(path_regex=r"^/(v1|mcp)(/|$)")
read_schema = own.exclude(path="/documents", method="POST").exclude(
    path="/documents/{document_id}", method="DELETE"
)
write_schema = own.include(path_regex=r"^/documents(/\{document_id\})?$", method=["POST", "DELETE"])

HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@pytest.fixture(scope="module")
def read_url(seed_settings: Settings, seed_service: QAService) -> Iterator[str]:
    """The seed server; only the read-only operations run against it."""
    with running_server(seed_settings, service=seed_service) as url:
        yield url


@pytest.fixture(scope="module")
def write_url(
    tmp_path_factory: pytest.TempPathFactory,
    seed_settings: Settings,
    embedder: SentenceTransformerEmbedder,
) -> Iterator[str]:
    """A server over a throwaway copy of the seed index, for uploads and deletes."""
    root = tmp_path_factory.mktemp("schema-writes") / "root"
    shutil.copytree(seed_settings.corpus_dir, root / "corpus")
    shutil.copytree(seed_settings.index_dir, root / "index", symlinks=True)
    scratch = load_settings(
        corpus_dir=root / "corpus", index_dir=root / "index", max_upload_bytes=4096
    )
    before = set(root.parent.iterdir())
    with running_server(scratch, service=QAService(scratch, embedder=embedder)) as url:
        yield url
    # Whatever names the fuzzer uploaded, nothing landed beside or above the corpus.
    assert set(root.parent.iterdir()) == before
    assert all(p.resolve().is_relative_to(root) for p in (root / "corpus").rglob("*"))


def test_api_schema_is_the_served_one(read_url: str, write_url: str) -> None:
    for url in (read_url, write_url):
        served = httpx.get(f"{url}/openapi.json").json()
        assert served["paths"] == SCHEMA_DOC["paths"]
        assert served["components"] == SCHEMA_DOC["components"]


@read_schema.parametrize()
@HYPOTHESIS
def test_api_schema_read_operations_conform(case: Case, read_url: str) -> None:
    case.call_and_validate(base_url=read_url, timeout=60)


@write_schema.parametrize()
@settings(HYPOTHESIS, max_examples=8)
def test_api_schema_write_operations_conform(case: Case, write_url: str) -> None:
    # A schema-valid upload may still be refused (400) for its file name or contents,
    # which OpenAPI cannot describe; every other check applies.
    case.call_and_validate(
        base_url=write_url, timeout=120, excluded_checks=[positive_data_acceptance]
    )
