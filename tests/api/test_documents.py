"""Changing the corpus over HTTP on a throwaway index: uploads (safe names, size limits),
deletes, hot reload of a build made elsewhere, and serving before any index exists."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from conftest import CorpusFactory
from servers import assert_error_body, running_server

from qa.config import Settings, load_settings
from qa.encoders.sentence_transformer import SentenceTransformerEmbedder
from qa.models import IngestReport
from qa.service import QAService

pytestmark = pytest.mark.e2e

UPLOAD_LIMIT = 16_384
SMALL_CORPUS = {
    "tenancy.md": "# Tenancy rules\n\nA tenant must give the landlord two months of notice "
    "before leaving the flat. The deposit is returned within thirty days.\n",
    "garden.txt": "Garden policy\n\nResidents may grow vegetables in the shared garden. "
    "Bonfires are not allowed in the garden at any time of year.\n",
}
NEW_DOCUMENT = (
    "Zeppelin hangar regulations\n\nEvery zeppelin moored in the municipal hangar must carry "
    "a helium safety certificate issued by the airship inspectorate.\n"
)


@pytest.fixture(scope="module")
def small_index(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Path:
    """A two-document corpus with its index, built once; tests work on copies of it."""
    root = tmp_path_factory.mktemp("small")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in SMALL_CORPUS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    settings = load_settings(corpus_dir=corpus, index_dir=root / "index")
    QAService(settings, embedder=embedder).ingest()
    return root


@pytest.fixture
def scratch(
    tmp_path: Path, small_index: Path, embedder: SentenceTransformerEmbedder
) -> Iterator[tuple[str, Settings, QAService]]:
    """A server over a private copy of the small index, free to change it."""
    root = tmp_path / "root"
    shutil.copytree(small_index, root, symlinks=True)
    settings = load_settings(
        corpus_dir=root / "corpus", index_dir=root / "index", max_upload_bytes=UPLOAD_LIMIT
    )
    service = QAService(settings, embedder=embedder)
    with running_server(settings, service=service) as url:
        yield url, settings, service


def tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def multipart(filename: bytes, content: bytes) -> tuple[bytes, str]:
    """A hand-made multipart body, so any filename bytes reach the server unaltered."""
    boundary = "qa-test-boundary-7MA4YWxkTrZu0gW"
    body = (
        f"--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="file"; filename="'
        + filename
        + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


# -- uploads ----------------------------------------------------------------------------------

UNSAFE_NAMES = [
    b"../../escaped.txt",
    b"../escaped.txt",
    b"sub/../../escaped.txt",
    b"/tmp/escaped-absolute.txt",
    b"..\\..\\escaped.txt",
    b"evil\x00.txt",
    b".hidden.txt",
    b"sub/.hidden.md",
    b"",
    b"..",
    b"script.exe",
    b"archive.txt.zip",
    b"noextension",
]


@pytest.mark.parametrize("filename", UNSAFE_NAMES, ids=repr)
def test_api_upload_rejects_unsafe_names(
    scratch: tuple[str, Settings, QAService], filename: bytes, tmp_path: Path
) -> None:
    url, _, _ = scratch
    before = tree(tmp_path)
    body, content_type = multipart(filename, b"Escaped text that must never be written.\n")
    response = httpx.post(
        f"{url}/documents", content=body, headers={"content-type": content_type}, timeout=60
    )
    assert 400 <= response.status_code < 500
    assert_error_body(response, response.status_code)
    assert tree(tmp_path) == before
    assert not Path("/tmp/escaped-absolute.txt").exists()
    assert {d["source"] for d in httpx.get(f"{url}/documents").json()} == set(SMALL_CORPUS)


@pytest.mark.parametrize("filename", [b"script.exe", b"archive.txt.zip", b"noextension"])
def test_api_upload_unsupported_type_is_415(
    scratch: tuple[str, Settings, QAService], filename: bytes
) -> None:
    url, _, _ = scratch
    body, content_type = multipart(filename, b"Some text.\n")
    response = httpx.post(
        f"{url}/documents", content=body, headers={"content-type": content_type}, timeout=60
    )
    assert_error_body(response, 415, "unsupported_format")


def test_api_upload_rejects_unreadable_content(
    scratch: tuple[str, Settings, QAService], tmp_path: Path
) -> None:
    url, settings, _ = scratch
    before = tree(settings.corpus_dir)
    response = httpx.post(
        f"{url}/documents",
        files={"file": ("binary.txt", b"\x00\x01\x02 not text \x00" * 50)},
        timeout=60,
    )
    assert_error_body(response, 400)
    assert tree(settings.corpus_dir) == before


def test_api_upload_without_a_file_is_a_4xx(scratch: tuple[str, Settings, QAService]) -> None:
    url, _, _ = scratch
    assert_error_body(httpx.post(f"{url}/documents", data={"other": "x"}), 422)
    assert_error_body(httpx.post(f"{url}/documents", json={"file": "x.txt"}), 422)


def test_api_upload_over_the_limit_is_413(
    scratch: tuple[str, Settings, QAService], tmp_path: Path
) -> None:
    url, _, _ = scratch
    before = tree(tmp_path)
    too_big = b"word " * (UPLOAD_LIMIT // 5 + 10)
    response = httpx.post(f"{url}/documents", files={"file": ("big.txt", too_big)}, timeout=60)
    assert_error_body(response, 413, "payload_too_large")

    huge = b"word " * 40_000  # also past the multipart allowance: rejected while streaming
    body, content_type = multipart(b"huge.txt", huge)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    streamed = httpx.post(
        f"{url}/documents", content=chunks(), headers={"content-type": content_type}, timeout=60
    )
    assert_error_body(streamed, 413, "payload_too_large")
    assert tree(tmp_path) == before


def test_api_upload_then_search_then_delete(scratch: tuple[str, Settings, QAService]) -> None:
    url, settings, _ = scratch
    with httpx.Client(base_url=url, timeout=120) as client:
        response = client.post(
            "/documents", files={"file": ("zeppelins.txt", NEW_DOCUMENT.encode())}
        )
        assert response.status_code == 201, response.text
        report = IngestReport.model_validate(response.json())
        assert report.documents == 3
        assert (settings.corpus_dir / "zeppelins.txt").read_text() == NEW_DOCUMENT

        documents = {d["source"]: d["id"] for d in client.get("/documents").json()}
        assert set(documents) == {*SMALL_CORPUS, "zeppelins.txt"}
        document_id = documents["zeppelins.txt"]
        hits = client.get("/search", params={"q": "zeppelin helium certificate", "k": 1}).json()
        assert hits["hits"][0]["document"] == document_id
        answer = client.post("/ask", json={"question": "What must a zeppelin in the hangar carry?"})
        assert answer.json()["answered"] is True
        assert "helium safety certificate" in answer.json()["answer"]

        deleted = client.delete(f"/documents/{document_id}")
        assert deleted.status_code == 200, deleted.text
        assert IngestReport.model_validate(deleted.json()).documents == 2
        assert not (settings.corpus_dir / "zeppelins.txt").exists()
        assert_error_body(client.get(f"/documents/{document_id}"), 404, "not_found")
        hits = client.get("/search", params={"q": "zeppelin helium certificate", "k": 5}).json()
        assert all(hit["document"] != document_id for hit in hits["hits"])
        assert_error_body(client.delete(f"/documents/{document_id}"), 404, "not_found")


# -- hot reload and a missing index ---------------------------------------------------------------


def ingest_in_another_service(settings: Settings, embedder: SentenceTransformerEmbedder) -> None:
    QAService(settings, embedder=embedder).ingest()


def ingest_in_another_process(settings: Settings, embedder: SentenceTransformerEmbedder) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(
        QA_CORPUS_DIR=str(settings.corpus_dir),
        QA_INDEX_DIR=str(settings.index_dir),
        HF_HUB_OFFLINE="1",
    )
    qa = Path(sys.executable).parent / "qa"
    subprocess.run([str(qa), "ingest"], env=env, check=True, capture_output=True, timeout=300)


@pytest.mark.parametrize("ingest", [ingest_in_another_service, ingest_in_another_process])
def test_api_hot_reloads_an_index_built_elsewhere_without_failing_requests(
    scratch: tuple[str, Settings, QAService],
    embedder: SentenceTransformerEmbedder,
    ingest: Callable[[Settings, SentenceTransformerEmbedder], None],
) -> None:
    url, settings, _ = scratch
    failures: list[str] = []
    served = 0
    stop = threading.Event()

    def hammer(path: str) -> None:
        nonlocal served
        with httpx.Client(base_url=url, timeout=60) as client:
            while not stop.is_set():
                if path == "/ask":
                    response = client.post("/ask", json={"question": "How much notice?"})
                else:
                    response = client.get("/search", params={"q": "zeppelin garden notice"})
                if response.status_code != 200:
                    failures.append(f"{path} {response.status_code} {response.text[:200]}")
                served += 1

    threads = [threading.Thread(target=hammer, args=(p,)) for p in ("/ask", "/search") * 2]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        (settings.corpus_dir / "zeppelins.txt").write_text(NEW_DOCUMENT, encoding="utf-8")
        ingest(settings, embedder)
        deadline = time.monotonic() + 30
        found = False
        while not found and time.monotonic() < deadline:
            hits = httpx.get(f"{url}/search", params={"q": "zeppelin helium", "k": 1}).json()
            found = hits["hits"][0]["source"] == "zeppelins.txt"
            time.sleep(0.1)
        assert found, "the new build was not picked up"
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == []
    assert served > 10


def test_api_serves_503_until_an_index_exists(
    make_corpus: CorpusFactory, embedder: SentenceTransformerEmbedder
) -> None:
    settings, _ = make_corpus(SMALL_CORPUS)
    service = QAService(settings, embedder=embedder)
    with running_server(settings, service=service) as url, httpx.Client(base_url=url) as client:
        assert client.get("/healthz").status_code == 200
        for method, path, kwargs in [
            ("GET", "/readyz", {}),
            ("POST", "/ask", {"json": {"question": "How much notice?"}}),
            ("GET", "/search", {"params": {"q": "notice"}}),
            ("GET", "/documents", {}),
            ("GET", "/passages/abc", {}),
        ]:
            error = assert_error_body(
                client.request(method, path, **kwargs), 503, "index_not_found"
            )
            assert "qa ingest" in error["message"]
        assert client.get("/metrics").status_code == 200

        QAService(settings, embedder=embedder).ingest()
        assert client.get("/readyz").status_code == 200
        assert client.post("/ask", json={"question": "How much notice?"}).status_code == 200
