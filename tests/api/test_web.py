"""The web page at `/`, driven in Debian's headless Chromium against real uvicorn servers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import API_KEY
from playwright.sync_api import Browser, Locator, Page, Route, expect, sync_playwright
from servers import running_server

from qa.config import Settings
from qa.encoders.sentence_transformer import SentenceTransformerEmbedder
from qa.service import QAService

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
SEED_QUESTION = "What forum did Korea set up for hydrogen?"
OFF_TOPIC_QUESTION = "Which company sells the most solid-state batteries?"
PAYLOAD = "<script>window.__xss=1</script><b>bold</b>"
UNSAFE_DOCUMENT = f"""Exampleton depot notes <i>draft</i>

The Exampleton hydrogen depot opened {PAYLOAD} in 2023 with twelve refuelling stations.

The depot is run by the city transport office, which publishes a yearly report on its use.
"""

# Answers are computed on two shared CPU cores; give the page time.
expect.set_options(timeout=30_000)


# ---------------------------------------------------------------- browser and page


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium (never a downloaded one), headless."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium. "
            "Install it with `make browser` (apt-get install -y chromium).",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _open_page(browser: Browser, **context_options: Any) -> tuple[Page, list[str]]:
    context = browser.new_context(**context_options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page, errors


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh desktop-sized tab (own session storage); fails on any JavaScript error."""
    page, errors = _open_page(browser, viewport={"width": 1280, "height": 800})
    yield page
    page.context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go (under the pytest temp folder)."""
    return tmp_path_factory.mktemp("web-screenshots")


# ----------------------------------------------------------------------- servers


@pytest.fixture(scope="module")
def unsafe_url(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Iterator[str]:
    """A server over a one-document corpus whose text is full of HTML."""
    base = tmp_path_factory.mktemp("unsafe")
    corpus = base / "corpus"
    corpus.mkdir()
    (corpus / "exampleton-depot.txt").write_text(UNSAFE_DOCUMENT, encoding="utf-8")
    settings = Settings(corpus_dir=corpus, index_dir=base / "index")
    QAService(settings, embedder=embedder).ingest()
    with running_server(settings, service=QAService(settings, embedder=embedder)) as url:
        yield url


# ----------------------------------------------------------------------- helpers


def ask(page: Page, question: str) -> None:
    box = page.get_by_label("Ask a question about the documents")
    box.fill(question)
    box.press("Enter")


def has_horizontal_overflow(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth > window.innerWidth"))


def squash(text: str) -> str:
    return " ".join(text.split())


def marked_text(marks: Locator) -> str:
    """The text of every matched <mark>, joined, with whitespace squashed."""
    return squash(" ".join(marks.all_inner_texts()))


def tab_to(page: Page, selector: str, *, limit: int = 40) -> None:
    """Press Tab until the focused element matches `selector`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector!r}")


# ------------------------------------------------------------------------- tests


def test_web_answer_citation_passage_document_flow(
    page: Page, base_url: str, seed_service: QAService, artifacts: Path
) -> None:
    expected = seed_service.ask(SEED_QUESTION)
    assert expected.answered and expected.citations
    first = expected.citations[0]
    document = seed_service.document(first.document)

    page.goto(base_url)
    expect(page).to_have_title(re.compile("qa"))
    ask(page, SEED_QUESTION)

    # The answer, with each [n] marker a link, and the sources list.
    answer = page.locator("#answer-body .answer-text")
    expect(answer).to_contain_text("hydrogen economy standards forum")
    markers = answer.get_by_role("link", name=re.compile(r"^\[\d+\]"))
    expect(markers.first).to_be_visible()
    expect(markers.first).to_have_text(f"[{first.n}]")
    sources = page.locator("#answer-body ol.sources > li")
    expect(sources).to_have_count(len(expected.citations))
    expect(sources.first).to_contain_text(first.title)
    expect(sources.first.locator("blockquote")).to_have_text(first.quote)
    expect(page.get_by_role("status")).to_contain_text("Answer ready")
    screenshot = artifacts / "answered.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000

    # A citation opens its passage with the quoted sentence highlighted.
    markers.first.click()
    expect(page.locator("#passage-heading")).to_have_text(first.title)
    expect(page.locator("#passage-heading")).to_be_focused()
    expect(page.locator("#passage-body mark").first).to_be_visible()
    assert marked_text(page.locator("#passage-body mark")) == squash(first.quote)
    expect(page.locator("#passage-body blockquote")).to_have_text(first.text)
    page.screenshot(path=str(artifacts / "passage.png"), full_page=True)

    # The whole document, with the passage scrolled into view and highlighted.
    page.get_by_role("link", name="Open document").click()
    expect(page.locator("#document-heading")).to_have_text(document.title)
    highlighted = page.locator("#document-text mark#document-passage")
    expect(highlighted).to_have_text(document.text[first.start : first.end])
    expect(highlighted).to_be_in_viewport()
    assert marked_text(highlighted.locator("mark.quote")) == squash(first.quote)
    expect(page.locator("#document-text")).to_have_text(document.text)
    page.screenshot(path=str(artifacts / "document.png"))

    # Back to the passage, then back to the answer.
    page.get_by_role("link", name="Back to the passage").click()
    expect(page.locator("#passage-body mark").first).to_be_visible()
    page.get_by_role("link", name="Back to the answer").click()
    expect(answer).to_be_visible()


def test_web_highlights_each_sentence_of_a_quote_that_skips_text(
    page: Page, base_url: str, seed_service: QAService
) -> None:
    real = seed_service.ask(SEED_QUESTION)
    citation = real.citations[0]
    passage = seed_service.passage(citation.passage_id).passage
    sentences = [passage.text[start:end] for start, end in passage.sentences]
    assert len(sentences) >= 3, sentences
    quoted = [sentences[0], sentences[2]]
    # The quote joins non-adjacent sentences, with its own whitespace.
    quote = f"{quoted[0]} … {' '.join(quoted[1].split())}"
    answer = real.model_copy(update={"citations": [citation.model_copy(update={"quote": quote})]})
    page.route("**/ask", lambda route: route.fulfill(json=answer.model_dump(mode="json")))

    page.goto(base_url)
    ask(page, SEED_QUESTION)
    page.locator("#answer-body a.cite").first.click()
    marks = page.locator("#passage-body mark")
    expect(marks).to_have_count(2)
    expect(marks.nth(0)).to_have_text(squash(quoted[0]))
    expect(marks.nth(1)).to_have_text(squash(quoted[1]))


def test_web_shows_an_answers_caution(page: Page, base_url: str, seed_service: QAService) -> None:
    caution = "The document the question names (other.pdf) does not say; this answer quotes …"
    answer = seed_service.ask(SEED_QUESTION).model_copy(update={"caution": caution})
    page.route("**/ask", lambda route: route.fulfill(json=answer.model_dump(mode="json")))
    page.goto(base_url)
    ask(page, SEED_QUESTION)
    expect(page.locator("#answer-body .caution")).to_have_text(f"Caution: {caution}")
    expect(page.locator("#answer-body a.cite").first).to_be_visible()


def test_web_shows_busy_state_while_answering(page: Page, base_url: str) -> None:
    held: list[Route] = []
    page.route("**/ask", lambda route: held.append(route))
    page.goto(base_url)
    ask(page, SEED_QUESTION)

    button = page.locator("#ask-button")
    expect(button).to_be_disabled()
    expect(button).to_have_text("Searching…")
    expect(page.locator("#ask-form")).to_have_attribute("aria-busy", "true")
    expect(page.get_by_role("status")).to_have_text("Searching…")
    expect(page.get_by_role("status")).to_have_attribute("aria-live", "polite")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1

    held[0].continue_()
    expect(page.locator("#answer-body .answer-text")).to_be_visible()
    expect(button).to_be_enabled()
    expect(button).to_have_text("Ask")
    expect(page.locator("#ask-form")).to_have_attribute("aria-busy", "false")


def test_web_is_usable_by_keyboard_alone(page: Page, base_url: str) -> None:
    page.goto(base_url)
    tab_to(page, "#question")
    page.keyboard.type(SEED_QUESTION)
    page.keyboard.press("Enter")
    expect(page.locator("#answer-body a.cite").first).to_be_visible()

    tab_to(page, "#answer-body a.cite")
    page.keyboard.press("Enter")
    expect(page.locator("#passage-body mark")).to_be_visible()

    tab_to(page, "#open-document")
    page.keyboard.press("Enter")
    expect(page.locator("#document-passage")).to_be_in_viewport()

    tab_to(page, "nav a[href='#/documents']")
    page.keyboard.press("Enter")
    expect(page.locator(".doc-list > li").first).to_be_visible()


def test_web_off_topic_question_is_not_covered(
    page: Page, base_url: str, seed_service: QAService, artifacts: Path
) -> None:
    expected = seed_service.ask(OFF_TOPIC_QUESTION)
    assert not expected.answered, "the core answered an off-topic question"
    assert expected.suggestions

    page.goto(base_url)
    ask(page, OFF_TOPIC_QUESTION)
    expect(page.locator(".not-covered")).to_contain_text("Not covered by the documents")
    expect(page.locator(".not-covered")).to_have_attribute("data-reason", expected.reason or "")
    expect(page.locator(".not-covered-message")).to_have_text(expected.message or "")
    expect(page.locator("#answer-body a.cite")).to_have_count(0)
    suggestions = page.locator("#answer-body ol.suggestions > li")
    expect(suggestions).to_have_count(len(expected.suggestions))
    expect(suggestions.first).to_contain_text(expected.suggestions[0].title)
    page.screenshot(path=str(artifacts / "not-covered.png"), full_page=True)

    suggestions.first.get_by_role("link").click()
    expect(page.locator("#passage-heading")).to_have_text(expected.suggestions[0].title)
    expect(page.locator("#passage-body blockquote")).to_have_text(expected.suggestions[0].text)


def test_web_documents_view_lists_titles_sources_and_passages(
    page: Page, base_url: str, seed_service: QAService
) -> None:
    documents = seed_service.documents()
    page.goto(base_url)
    page.get_by_role("navigation").get_by_role("link", name="Documents").click()
    expect(page.locator("#documents-heading")).to_be_focused()
    items = page.locator(".doc-list > li")
    expect(items).to_have_count(len(documents))
    for item, info in zip(items.all(), documents, strict=True):
        expect(item.get_by_role("heading")).to_have_text(info.title)
        expect(item).to_contain_text(info.source)
        expect(item.locator("dt:text-is('Passages') + dd")).to_have_text(str(info.passages))

    items.first.get_by_role("link", name=documents[0].title).click()
    expect(page.locator("#document-heading")).to_have_text(documents[0].title)
    expect(page.locator("#document-text")).to_have_text(seed_service.document(documents[0].id).text)


def test_web_escapes_html_in_documents(page: Page, unsafe_url: str) -> None:
    page.goto(unsafe_url)

    # The answer (or the closest passage) quotes the HTML as text.
    ask(page, "When did the Exampleton hydrogen depot open?")
    expect(page.locator("#answer-body")).to_contain_text(PAYLOAD)

    # So do the documents view and the document itself.
    page.get_by_role("navigation").get_by_role("link", name="Documents").click()
    title = page.locator(".doc-list h3 a")
    expect(title).to_have_text("Exampleton depot notes <i>draft</i>")
    title.click()
    expect(page.locator("#document-text")).to_contain_text(PAYLOAD)
    expect(page.locator("#document-text")).to_be_visible()

    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("main script, main b, main i").count() == 0


def test_web_asks_for_the_api_key_once_and_keeps_it(browser: Browser, keyed_url: str) -> None:
    assert httpx.get(f"{keyed_url}/documents").status_code == 401
    for path in ("/", "/static/app.js", "/static/style.css"):
        response = httpx.get(f"{keyed_url}{path}")
        assert response.status_code == 200, (
            f"GET {path} answered {response.status_code} with an API key set: the page and "
            "its assets must be public, since the page itself asks for the key."
        )
    page, errors = _open_page(browser, viewport={"width": 1280, "height": 800})
    try:
        page.goto(keyed_url)
        ask(page, SEED_QUESTION)
        dialog = page.get_by_role("dialog", name="API key required")
        expect(dialog).to_be_visible()
        key_box = dialog.get_by_label("API key", exact=True)
        expect(key_box).to_be_focused()

        # A wrong key is refused and asked for again.
        key_box.fill("not-the-key")
        key_box.press("Enter")
        expect(dialog.get_by_role("alert")).to_contain_text("not accepted")
        key_box.fill(API_KEY)
        dialog.get_by_role("button", name="Continue").click()
        expect(dialog).to_be_hidden()
        expect(page.locator("#answer-body .answer-text")).to_contain_text("hydrogen")
        assert page.evaluate("sessionStorage.getItem('qa.apiKey')") == API_KEY

        # Kept for the session: other views and a reload don't ask again.
        page.get_by_role("navigation").get_by_role("link", name="Documents").click()
        expect(page.locator(".doc-list > li").first).to_be_visible()
        page.reload()
        expect(page.locator(".doc-list > li").first).to_be_visible()
        expect(dialog).to_be_hidden()
    finally:
        page.context.close()
    assert not errors, errors

    # Cancelling the prompt explains what is needed instead of failing silently.
    page, errors = _open_page(browser)
    try:
        page.goto(keyed_url)
        ask(page, SEED_QUESTION)
        dialog = page.get_by_role("dialog", name="API key required")
        dialog.get_by_role("button", name="Cancel").click()
        expect(page.locator("#error")).to_contain_text("needs an API key")
        expect(page.locator("#ask-button")).to_be_enabled()
    finally:
        page.context.close()
    assert not errors, errors


def test_web_shows_a_server_error_in_words(page: Page, base_url: str) -> None:
    server_error = httpx.get(f"{base_url}/passages/no-such-passage").json()["error"]
    page.goto(f"{base_url}/#/passage/no-such-passage")
    expect(page.get_by_role("alert")).to_contain_text(server_error["message"])
    expect(page.get_by_label("Ask a question about the documents")).to_be_visible()


@pytest.mark.parametrize(
    ("reply", "shown"),
    [
        (
            {
                "status": 503,
                "json": {
                    "error": {
                        "code": "index_not_found",
                        "message": "No index has been built yet. Run `qa ingest`.",
                        "detail": None,
                    }
                },
            },
            "No index has been built yet. Run `qa ingest`.",
        ),
        (
            {
                "status": 502,
                "body": "<html><h1>Bad Gateway</h1></html>",
                "content_type": "text/html",
            },
            "HTTP 502",
        ),
        (None, "Could not reach the server"),
    ],
    ids=["canonical-error-body", "non-json-error", "network-failure"],
)
def test_web_shows_failed_requests_in_words(
    page: Page, base_url: str, reply: dict[str, Any] | None, shown: str
) -> None:
    def answer(route: Route) -> None:
        if reply is None:
            route.abort("connectionrefused")
        else:
            route.fulfill(**reply)

    page.route("**/ask", answer)
    page.goto(base_url)
    ask(page, SEED_QUESTION)
    expect(page.get_by_role("alert")).to_contain_text(shown)
    expect(page.locator("#ask-button")).to_be_enabled()
    expect(page.get_by_label("Ask a question about the documents")).to_have_value(SEED_QUESTION)


def test_web_fits_a_phone_screen(browser: Browser, base_url: str, artifacts: Path) -> None:
    page, errors = _open_page(
        browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    try:
        page.goto(base_url)
        assert not has_horizontal_overflow(page)
        ask(page, SEED_QUESTION)
        expect(page.locator("#answer-body a.cite").first).to_be_visible()
        assert not has_horizontal_overflow(page)
        page.screenshot(path=str(artifacts / "phone-answered.png"), full_page=True)

        page.locator("#answer-body a.cite").first.click()
        expect(page.locator("#passage-body mark")).to_be_visible()
        assert not has_horizontal_overflow(page)
        page.get_by_role("link", name="Open document").click()
        expect(page.locator("#document-passage")).to_be_in_viewport()
        assert not has_horizontal_overflow(page)
        page.get_by_role("navigation").get_by_role("link", name="Documents").click()
        expect(page.locator(".doc-list > li").first).to_be_visible()
        assert not has_horizontal_overflow(page)

        ask(page, OFF_TOPIC_QUESTION)
        expect(page.locator("#answer-body h3")).to_be_visible()
        assert not has_horizontal_overflow(page)
    finally:
        page.context.close()
    assert not errors, errors


# Text colour against the nearest opaque background, as a WCAG contrast ratio.
CONTRAST_SCRIPT = """
(selectors) => {
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length < 4 || c[3] === 1) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const out = {};
  for (const s of selectors) {
    const el = document.querySelector(s);
    if (!el) { out[s] = null; continue; }
    const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(background(el))];
    out[s] = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  }
  return out;
}
"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_web_text_has_enough_contrast(browser: Browser, base_url: str, scheme: str) -> None:
    page, errors = _open_page(browser, color_scheme=scheme)
    try:
        page.goto(base_url)
        ask(page, SEED_QUESTION)
        page.locator("#answer-body a.cite").first.click()
        expect(page.locator("#passage-body mark")).to_be_visible()
        selectors = [
            ".ask-label",
            ".hint",
            ".status",
            "#passage-heading",
            "#passage-body .meta",
            "#passage-body blockquote",
            "#passage-body mark",
            "#open-document",
            "nav a",
        ]
        ratios = page.evaluate(CONTRAST_SCRIPT, selectors)
    finally:
        page.context.close()
    assert not errors, errors
    low = {s: r for s, r in ratios.items() if r is None or r < 4.5}
    assert not low, f"contrast below WCAG AA 4.5:1 ({scheme}): {low}"
