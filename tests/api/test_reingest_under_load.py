"""A re-ingest in another process while a real server answers a steady stream of requests:
no request fails, and the server answers from the new build once it is published."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from conftest import SEED_DEV
from servers import running_server

from qa.config import Settings
from qa.encoders.sentence_transformer import SentenceTransformerEmbedder
from qa.service import QAService

pytestmark = pytest.mark.e2e

NEW_DOCUMENT = (
    "# Lunar rover cooperation\n\n"
    "Norway and Chile signed an agreement on lunar rover batteries in 2031. "
    "The agreement covers cold-resistant cells for polar missions.\n"
)


def _loop(base_url: str, stop: threading.Event, seen: Counter[str], answers: list[str]) -> None:
    questions = [json.loads(line)["question"] for line in SEED_DEV.read_text().splitlines()]
    questions.append("Which countries signed an agreement on lunar rover batteries?")
    with httpx.Client(base_url=base_url, timeout=120) as http:
        n = 0
        while not stop.is_set():
            question = questions[n % len(questions)]
            n += 1
            try:
                if n % 2:
                    response = http.post("/ask", json={"question": question})
                else:
                    response = http.get("/search", params={"q": question, "k": 3})
            except httpx.HTTPError as exc:  # a dropped connection is a failure too
                seen[f"error {type(exc).__name__}"] += 1
                continue
            seen[f"{response.request.method} {response.url.path} {response.status_code}"] += 1
            if response.status_code == 200 and "lunar" in question and n % 2:
                answers.append(response.json()["answer"])


def test_reingest_while_serving_fails_no_request(
    tmp_path: Path, seed_settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(seed_settings.corpus_dir, corpus)
    shutil.copytree(seed_settings.index_dir, index, symlinks=True)  # `current` is a link
    settings = Settings(corpus_dir=corpus, index_dir=index)
    service = QAService(settings, embedder=embedder)
    seen: Counter[str] = Counter()
    answers: list[str] = []
    stop = threading.Event()
    with running_server(settings, service=service) as base_url:
        client = threading.Thread(target=_loop, args=(base_url, stop, seen, answers))
        client.start()
        try:
            time.sleep(1.0)
            (corpus / "lunar.md").write_text(NEW_DOCUMENT, encoding="utf-8")
            env = {**os.environ, "QA_CORPUS_DIR": str(corpus), "QA_INDEX_DIR": str(index),
                   "HF_HUB_OFFLINE": "1"}  # fmt: skip
            before = sum(seen.values())
            done = subprocess.run(
                [sys.executable, "-c", "from qa.cli import main; main()", "ingest"],
                env=env, capture_output=True, text=True, timeout=300, check=False,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr[-2000:]
            during = sum(seen.values()) - before
            deadline = time.monotonic() + 30
            while not any("Norway and Chile" in a for a in answers):
                assert time.monotonic() < deadline, "the server never served the new build"
                time.sleep(0.2)
            time.sleep(0.5)
        finally:
            stop.set()
            client.join(timeout=120)
    failures = {key: n for key, n in seen.items() if not key.endswith(" 200")}
    assert failures == {}
    assert during >= 5, "the requests did not keep coming while the ingest ran"
    assert seen["POST /ask 200"] >= 5 and seen["GET /search 200"] >= 5
