"""The HTTP service over a real uvicorn server on loopback: every read endpoint, the
canonical error body, limits, auth, CORS, request ids, the access log and metrics."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conftest import API_KEY
from servers import assert_error_body, running_server

from qa.config import Settings
from qa.models import Answer, DocumentDetail, DocumentInfo, PassageDetail, SearchResult
from qa.service import QAService

pytestmark = pytest.mark.e2e

QUESTION = "What forum did Korea set up for hydrogen?"


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as http:
        yield http


@pytest.fixture(scope="module")
def first_document(seed_service: QAService) -> DocumentInfo:
    return seed_service.documents()[0]


# -- endpoints ----------------------------------------------------------------------------


def test_api_healthz_is_ok(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_api_readyz_reports_loaded_index(client: httpx.Client, seed_service: QAService) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["ready"] is True
    assert body["index"]["built"] is True
    assert body["index"]["passage_count"] == sum(d.passages for d in seed_service.documents())


def test_api_ask_returns_the_same_answer_as_the_service(
    client: httpx.Client, seed_service: QAService
) -> None:
    response = client.post("/ask", json={"question": QUESTION})
    assert response.status_code == 200
    answer = Answer.model_validate(response.json())
    assert answer == seed_service.ask(QUESTION)
    assert answer.answered
    assert "hydrogen economy standards forum" in answer.answer
    assert answer.citations


def test_api_ask_honours_k_and_documents(
    client: httpx.Client, first_document: DocumentInfo
) -> None:
    response = client.post(
        "/ask", json={"question": QUESTION, "k": 2, "documents": [first_document.id]}
    )
    assert response.status_code == 200
    answer = Answer.model_validate(response.json())
    assert all(c.document == first_document.id for c in answer.citations)


@pytest.mark.parametrize(
    "question",
    ["Which company sells the most solid-state batteries?", "What does the article summarize?"],
)
def test_api_ask_serialises_the_service_answer_unchanged(
    client: httpx.Client, seed_service: QAService, question: str
) -> None:
    response = client.post("/ask", json={"question": question})
    assert response.status_code == 200
    assert response.json() == seed_service.ask(question).model_dump(mode="json")


def test_api_search_get_and_post_agree(client: httpx.Client, seed_service: QAService) -> None:
    by_get = client.get("/search", params={"q": "hydrogen standards forum", "k": 3})
    by_post = client.post("/search", json={"query": "hydrogen standards forum", "k": 3})
    assert by_get.status_code == by_post.status_code == 200
    result = SearchResult.model_validate(by_get.json())
    assert result == SearchResult.model_validate(by_post.json())
    assert result == seed_service.search("hydrogen standards forum", k=3)
    assert [hit.rank for hit in result.hits] == [1, 2, 3]


def test_api_documents_lists_and_shows_documents(
    client: httpx.Client, seed_service: QAService
) -> None:
    listing = client.get("/documents")
    assert listing.status_code == 200
    documents = [DocumentInfo.model_validate(d) for d in listing.json()]
    assert documents == seed_service.documents()
    for info in documents:
        detail = client.get(f"/documents/{info.id}")
        assert detail.status_code == 200
        document = DocumentDetail.model_validate(detail.json())
        assert document.id == info.id and document.content_hash == info.content_hash
        assert document.text


def test_api_passage_has_offsets_and_neighbours(client: httpx.Client) -> None:
    hit = client.get("/search", params={"q": QUESTION, "k": 1}).json()["hits"][0]
    response = client.get(f"/passages/{hit['passage_id']}")
    assert response.status_code == 200
    detail = PassageDetail.model_validate(response.json())
    assert detail.passage.id == hit["passage_id"]
    assert (detail.passage.start, detail.passage.end) == (hit["start"], hit["end"])
    document = client.get(f"/documents/{detail.passage.document_id}").json()
    assert document["text"][detail.passage.start : detail.passage.end] == detail.passage.text
    for neighbour in (detail.previous_id, detail.next_id):
        if neighbour is not None:
            assert client.get(f"/passages/{neighbour}").status_code == 200


def test_api_openapi_and_docs_are_served(client: httpx.Client) -> None:
    schema = client.get("/openapi.json").json()
    assert {"/ask", "/search", "/documents", "/documents/{document_id}", "/passages/{passage_id}",
            "/healthz", "/readyz", "/metrics"} <= set(schema["paths"])  # fmt: skip
    ask = schema["paths"]["/ask"]["post"]
    assert ask["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Answer"
    )
    assert ask["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorBody"
    )
    request = schema["components"]["schemas"]["AskRequest"]
    assert request["properties"]["question"]["maxLength"] == 2000
    assert request["additionalProperties"] is False
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


# -- the canonical error body ----------------------------------------------------------------

BIG_JSON = json.dumps({"question": "x" * 1_100_000})
JSON = {"content-type": "application/json"}
TEXT = {"content-type": "text/plain"}

ERROR_CASES: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("GET", "/documents/no-such-document", {}, 404, "not_found"),
    ("GET", "/passages/no-such-passage", {}, 404, "not_found"),
    ("DELETE", "/documents/no-such-document", {}, 404, "not_found"),
    ("GET", "/no-such-route", {}, 404, "not_found"),
    ("DELETE", "/healthz", {}, 405, "method_not_allowed"),
    ("PUT", "/ask", {"json": {"question": QUESTION}}, 405, "method_not_allowed"),
    ("POST", "/ask", {"content": b'{"question": "cut', "headers": JSON}, 400, "malformed_json"),
    ("POST", "/ask", {"content": b'{"question": "no type"}'}, 415, "unsupported_media_type"),
    ("POST", "/ask", {"content": b"\xff\xfe not json", "headers": JSON}, 400, "bad_request"),
    ("POST", "/ask", {"json": {"question": 5}}, 422, "invalid_request"),
    ("POST", "/ask", {"json": {"question": QUESTION, "k": "five"}}, 422, "invalid_request"),
    ("POST", "/ask", {"json": {"question": QUESTION, "documents": "abc"}}, 422, "invalid_request"),
    ("POST", "/ask", {"json": {"question": QUESTION, "verbose": True}}, 422, "invalid_request"),
    ("POST", "/ask", {"json": {}}, 422, "invalid_request"),
    ("POST", "/ask", {"json": [QUESTION]}, 422, "invalid_request"),
    ("POST", "/ask", {"json": {"question": ""}}, 422, "invalid_request"),
    ("POST", "/ask", {"json": {"question": "   \n\t "}}, 422, "invalid_request"),
    ("POST", "/ask", {"json": {"question": "x" * 2001}}, 422, "invalid_request"),
    ("POST", "/ask", {"json": {"question": QUESTION, "k": 0}}, 422, "invalid_request"),
    ("POST", "/ask", {"json": {"question": QUESTION, "k": 51}}, 422, "invalid_request"),
    ("POST", "/ask", {"json": {"question": QUESTION, "k": -3}}, 422, "invalid_request"),
    ("POST", "/ask", {"json": {"question": QUESTION, "k": True}}, 422, "invalid_request"),
    ("POST", "/ask", {"json": {"question": QUESTION, "k": "5"}}, 422, "invalid_request"),
    ("POST", "/ask", {"json": {"question": QUESTION, "k": 2.5}}, 422, "invalid_request"),
    ("POST", "/ask", {"content": QUESTION, "headers": TEXT}, 415, "unsupported_media_type"),
    (
        "POST",
        "/search",
        {"content": '{"query": "x"}', "headers": TEXT},
        415,
        "unsupported_media_type",
    ),
    ("POST", "/ask", {"content": BIG_JSON, "headers": JSON}, 413, "payload_too_large"),
    ("GET", "/search", {}, 422, "invalid_request"),
    ("GET", "/search", {"params": {"q": ""}}, 422, "invalid_request"),
    ("GET", "/search", {"params": {"q": "hydrogen", "k": 0}}, 422, "invalid_request"),
    ("GET", "/search", {"params": {"q": "hydrogen", "k": 51}}, 422, "invalid_request"),
    ("GET", "/search", {"params": {"q": "hydrogen", "k": "many"}}, 422, "invalid_request"),
    ("POST", "/search", {"json": {"q": "hydrogen"}}, 422, "invalid_request"),
    ("POST", "/search", {"json": {"query": "hydrogen", "k": 100}}, 422, "invalid_request"),
    ("POST", "/search", {"content": b"[1, 2", "headers": JSON}, 400, "malformed_json"),
    # Control characters only: the schema's pattern refuses it (not the service, later).
    ("POST", "/search", {"json": {"query": "\u001e\u001f"}}, 422, "invalid_request"),
    ("GET", "/search", {"params": {"q": "\u001e\u001f"}}, 422, "invalid_request"),
    ("POST", "/search", {"json": {"query": "x", "documents": ["nope"]}}, 404, "not_found"),
    ("POST", "/ask", {"json": {"question": "x", "documents": ["nope"]}}, 404, "not_found"),
]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    ERROR_CASES,
    ids=[f"{m} {p} {s} {c} #{i}" for i, (m, p, _, s, c) in enumerate(ERROR_CASES)],
)
def test_api_errors_use_the_canonical_body(
    client: httpx.Client, method: str, path: str, kwargs: dict[str, Any], status: int, code: str
) -> None:
    response = client.request(method, path, **kwargs)
    assert_error_body(response, status, code)
    assert response.headers["x-request-id"]


def test_api_errors_give_remedies_in_http_terms(client: httpx.Client) -> None:
    error = assert_error_body(client.get("/documents/no-such-document"), 404, "not_found")
    assert "`GET /documents`" in error["message"] and "qa status" not in error["message"]
    assert error["detail"] == {"remedy": "List documents with `GET /documents`."}
    error = assert_error_body(client.get("/passages/no-such-passage"), 404, "not_found")
    assert "`GET /search`" in error["message"]


def test_api_json_sent_as_text_is_415_naming_the_expected_type(client: httpx.Client) -> None:
    response = client.post("/ask", content=json.dumps({"question": QUESTION}), headers=TEXT)
    error = assert_error_body(response, 415, "unsupported_media_type")
    assert "application/json" in error["message"] and "text/plain" in error["message"]
    assert error["detail"] == {"expected": "application/json", "received": "text/plain"}


def test_api_rejects_chunked_body_over_the_limit(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        # No Content-Length: the limit must hold while the body streams in.
        yield b'{"question": "'
        for _ in range(40):
            yield b"x" * 50_000
        yield b'"}'

    response = client.post("/ask", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_error_body(response, 413, "payload_too_large")


def test_api_survives_bad_requests(client: httpx.Client) -> None:
    for kwargs in ({"content": b"\x00" * 10}, {"json": {"question": "\x00"}}, {"json": None}):
        assert client.post("/ask", **kwargs).status_code < 500  # type: ignore[arg-type]
    assert client.get("/healthz").status_code == 200
    assert client.post("/ask", json={"question": QUESTION}).status_code == 200


# -- auth and CORS -------------------------------------------------------------------------


AUTHED_ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/ask", {"json": {"question": QUESTION}}),
    ("GET", "/search", {"params": {"q": "hydrogen"}}),
    ("POST", "/search", {"json": {"query": "hydrogen"}}),
    ("GET", "/documents", {}),
    ("GET", "/readyz", {}),
    ("GET", "/metrics", {}),
    ("GET", "/openapi.json", {}),
    ("GET", "/docs", {}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), AUTHED_ROUTES)
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer wrong-key",
        f"Basic {API_KEY}",
        f"Bearer {API_KEY}x",
        "Bearer",
        "Bearer \xe9".encode("latin-1"),
    ],
)
def test_api_key_required_when_set(
    keyed_url: str, method: str, path: str, kwargs: dict[str, Any], authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.request(method, keyed_url + path, headers=headers, timeout=60, **kwargs)
    assert_error_body(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path", "kwargs"), AUTHED_ROUTES)
def test_api_key_accepted(keyed_url: str, method: str, path: str, kwargs: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    response = httpx.request(method, keyed_url + path, headers=headers, timeout=60, **kwargs)
    assert response.status_code == 200


def test_api_key_not_needed_for_healthz_or_when_unset(keyed_url: str, client: httpx.Client) -> None:
    assert httpx.get(f"{keyed_url}/healthz").status_code == 200
    assert client.get("/documents").status_code == 200  # the default server has no key


def test_api_key_page_shell_is_public_but_data_is_not(keyed_url: str) -> None:
    # The page and its assets carry no corpus data; the page asks for the key itself.
    assert httpx.get(f"{keyed_url}/").status_code == 200
    assert httpx.get(f"{keyed_url}/static/app.js").status_code == 200
    for sneaky in ("/static/../documents", "/static/%2e%2e/documents", "//documents"):
        response = httpx.get(f"{keyed_url}{sneaky}")
        assert response.status_code in (401, 404), sneaky
        assert "content_hash" not in response.text


def test_api_cors_is_off_by_default(client: httpx.Client) -> None:
    response = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers
    preflight = client.options(
        "/ask",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_api_cors_allows_configured_origins(
    seed_settings: Settings, seed_service: QAService
) -> None:
    settings = seed_settings.model_copy(
        update={"cors_origins": ["https://app.example"], "api_key": API_KEY}
    )
    with running_server(settings, service=seed_service) as url:
        preflight = httpx.options(
            f"{url}/ask",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        allowed = httpx.get(
            f"{url}/documents",
            headers={"Origin": "https://app.example", "Authorization": f"Bearer {API_KEY}"},
        )
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        other = httpx.get(
            f"{url}/documents",
            headers={"Origin": "https://evil.example", "Authorization": f"Bearer {API_KEY}"},
        )
        assert "access-control-allow-origin" not in other.headers


# -- observability -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "echoed"),
    [
        ("req-123.abc:DEF_9", True),
        ("has spaces in it", False),
        ("x" * 500, False),
        ("<script>", False),
        (None, False),
    ],
)
def test_api_request_id_header(client: httpx.Client, sent: str | None, echoed: bool) -> None:
    headers = {"X-Request-ID": sent} if sent is not None else {}
    for response in (client.get("/healthz", headers=headers), client.get("/nope", headers=headers)):
        request_id = response.headers["x-request-id"]
        if echoed:
            assert request_id == sent
        else:
            assert re.fullmatch(r"[0-9a-f]{32}", request_id)


def test_api_access_log_is_one_json_line_per_request(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="qa.access")
    response = client.get("/documents/no-such-document", headers={"X-Request-ID": "log-test-1"})
    assert response.status_code == 404
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "qa.access"]
    mine = [r for r in records if r["request_id"] == "log-test-1"]
    assert len(mine) == 1
    assert mine[0]["method"] == "GET"
    assert mine[0]["path"] == "/documents/no-such-document"
    assert mine[0]["route"] == "/documents/{document_id}"
    assert mine[0]["status"] == 404
    assert mine[0]["duration_ms"] >= 0


def test_api_metrics_count_requests_and_describe_the_index(
    client: httpx.Client, seed_service: QAService
) -> None:
    client.post("/ask", json={"question": QUESTION})
    client.get("/documents/no-such-document")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert re.search(
        r'qa_http_requests_total\{method="POST",route="/ask",status="200"\} [1-9]', text
    )
    assert re.search(
        r'qa_http_requests_total\{method="GET",route="/documents/\{document_id\}",status="404"\}',
        text,
    )
    assert 'qa_http_request_duration_seconds_bucket{le="0.1",method="POST",route="/ask"}' in text
    passages = sum(d.passages for d in seed_service.documents())
    assert re.search(rf"^qa_index_passages {passages}(\.0)?$", text, re.MULTILINE)
    version = seed_service.status().version
    assert f'version="{version}"' in text


class _BrokenService(QAService):
    """A service with a bug: the seam for testing the last-resort 500."""

    def documents(self) -> list[DocumentInfo]:
        raise RuntimeError("secret internal detail")


def test_api_unexpected_error_is_a_logged_500_without_a_traceback(
    seed_settings: Settings, embedder: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="qa")
    service = _BrokenService(seed_settings, embedder=embedder)
    with running_server(seed_settings, service=service) as url:
        response = httpx.get(f"{url}/documents", headers={"X-Request-ID": "boom-1"})
        error = assert_error_body(response, 500, "internal_error")
        assert "secret" not in response.text
        assert "boom-1" in error["message"]
        assert response.headers["x-request-id"] == "boom-1"
        assert httpx.get(f"{url}/healthz").status_code == 200
    logged = [r for r in caplog.records if "boom-1" in r.getMessage()]
    assert logged and logged[0].exc_info is not None


def test_api_schema_names_the_score_and_confidence_scales() -> None:
    from qa.api.app import create_app
    from qa.config import Settings

    schemas = create_app(Settings()).openapi()["components"]["schemas"]
    hit_score = schemas["Hit"]["properties"]["score"]["description"]
    assert "fusion rank score" in hit_score.lower() and "not a probability" in hit_score
    confidence = schemas["Answer"]["properties"]["confidence"]["description"]
    assert "calibrated probability" in confidence.lower()
    assert "confidence" in schemas["Citation"]["properties"]["score"]["description"]
