"""The Milvus backend over real servers: a `milvus-lite server` over http, the PyPI `milvus`
2.3.5 standalone server (dense path), and two `qa serve` replicas sharing one Milvus."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from milvus_servers import free_port, milvus_lite_server, milvus_standalone, stop

from qa.config import Settings
from qa.service import QAService

pytestmark = pytest.mark.e2e

DOCS = {
    "eu.md": "# EU batteries\n\nThe EU requires a battery passport for every industrial "
    "battery sold after 2027. The passport records the battery's carbon footprint.",
    "korea.txt": "Korea\n\nKorea runs a hydrogen economy standards forum with Australia. "
    "The forum meets twice a year in Seoul.",
}


def _corpus(root: Path, files: dict[str, str]) -> Path:
    corpus = root / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (corpus / name).write_text(content, encoding="utf-8")
    return corpus


@pytest.fixture
def lite_uri(tmp_path: Path) -> Iterator[str]:
    """A `milvus-lite server` of its own on a free loopback port, for each test: a server
    shared by the module was seen gone (the standalone test between them loads the machine)."""
    with milvus_lite_server(tmp_path / "milvus-lite") as uri:
        yield uri


def test_milvus_lite_server_over_http_serves_the_index(
    lite_uri: str, tmp_path: Path, embedder
) -> None:
    corpus = _corpus(tmp_path, DOCS)
    settings = Settings(
        corpus_dir=corpus, index_dir=tmp_path / "index", index_backend="milvus",
        milvus_uri=lite_uri, milvus_collection="qa_http_test",
    )  # fmt: skip
    service = QAService(settings, embedder=embedder)
    assert service.ingest().documents == 2
    assert not (tmp_path / "index" / "current").exists()  # nothing of the index is local
    hit = service.search("battery passport", k=1).hits[0]
    assert hit.source == "eu.md"
    answer = service.ask("How often does the forum meet?")
    assert answer.answered and "twice a year" in answer.answer
    assert service.status().index_dir.startswith(lite_uri)
    (corpus / "korea.txt").write_text("Korea\n\nKorea now meets monthly in Busan.")
    report = QAService(settings, embedder=embedder).ingest()
    assert report.changed == ["korea.txt"] and report.embedded_passages == 1
    assert "Busan" in service.search("where does Korea meet", k=1).hits[0].text


def test_milvus_standalone_server_dense_path(tmp_path: Path, embedder) -> None:
    """Milvus 2.3 has no BM25 or hybrid search: the backend falls back to dense search."""
    try:
        server = milvus_standalone(tmp_path / "milvus-2.3")
        uri = server.__enter__()
    except (OSError, RuntimeError, TimeoutError, ImportError) as exc:
        pytest.skip(f"the PyPI milvus 2.3.5 standalone server cannot start here: {exc}")
    try:
        corpus = _corpus(tmp_path, DOCS)
        settings = Settings(
            corpus_dir=corpus, index_dir=tmp_path / "index", index_backend="milvus",
            milvus_uri=uri, milvus_collection="qa_dense_test",
        )  # fmt: skip
        service = QAService(settings, embedder=embedder)
        assert service.ingest().documents == 2
        hits = service.search("hydrogen standards forum", k=2).hits
        assert hits[0].source == "korea.txt"
        korea = next(d.id for d in service.documents() if d.source == "korea.txt")
        assert {h.source for h in service.search("battery", k=3, documents=[korea]).hits} == {
            "korea.txt"
        }
        (corpus / "eu.md").unlink()
        assert QAService(settings, embedder=embedder).ingest().removed == ["eu.md"]
        assert {h.source for h in service.search("battery passport", k=5).hits} == {"korea.txt"}
    finally:
        server.__exit__(None, None, None)


def _serve(settings_env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings_env, "QA_PORT": str(port)}
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", "from qa.cli import main; main()", "serve"],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"qa serve exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"qa serve at {url} never became ready: {log.read_text()[-2000:]}")


def test_milvus_replicas_see_each_others_ingest(lite_uri: str, tmp_path: Path, embedder) -> None:
    """Two `qa serve` processes on one Milvus: an upload to one is answered by the other."""
    corpus = _corpus(tmp_path, DOCS)
    env = {
        "QA_INDEX_BACKEND": "milvus", "QA_MILVUS_URI": lite_uri,
        "QA_MILVUS_COLLECTION": "qa_replicas_test", "QA_CORPUS_DIR": str(corpus),
        "QA_INDEX_DIR": str(tmp_path / "index"),
    }  # fmt: skip
    settings = Settings(
        corpus_dir=corpus, index_dir=tmp_path / "index", index_backend="milvus",
        milvus_uri=lite_uri, milvus_collection="qa_replicas_test",
    )  # fmt: skip
    QAService(settings, embedder=embedder).ingest()
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"serve-{n}.log" for n in range(2)]
    processes = [_serve(env, port, log) for port, log in zip(ports, logs, strict=True)]
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url, process, log in zip(urls, processes, logs, strict=True):
            _wait_ready(url, process, log)
        before = httpx.get(f"{urls[1]}/search", params={"q": "tidal power", "k": 5}).json()
        assert all("tidal" not in h["text"] for h in before["hits"])
        upload = httpx.post(
            f"{urls[0]}/documents",
            files={"file": ("uk.txt", b"United Kingdom\n\nThe UK builds a tidal power plant.")},
            timeout=120,
        )
        assert upload.status_code == 201, upload.text
        after = httpx.get(f"{urls[1]}/search", params={"q": "tidal power", "k": 1}).json()
        assert "tidal power" in after["hits"][0]["text"]
        answer = httpx.post(
            f"{urls[1]}/ask", json={"question": "What does the UK build?"}, timeout=60
        ).json()
        cited = answer["citations"] + answer["suggestions"]
        assert cited and cited[0]["source"] == "uk.txt", answer
        assert httpx.get(f"{urls[1]}/readyz").json()["index"]["documents"] == 3
    finally:
        for process in processes:
            stop(process)
