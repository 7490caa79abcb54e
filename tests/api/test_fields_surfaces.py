"""CLI, HTTP, MCP and the web page show the same field map of the seed."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest
from click.testing import CliRunner
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from playwright.sync_api import sync_playwright
from servers import assert_error_body

from qa.cli import main
from qa.config import Settings
from qa.models import FieldMap
from qa.plaintext import field_map_csv
from qa.service import QAService

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
CHROMIUM = Path("/usr/bin/chromium")


def _mcp_fields(url: str) -> FieldMap:
    async def go() -> FieldMap:
        async with (
            streamable_http_client(f"{url}/mcp") as (read, write, *_),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            result = await session.call_tool("fields", {})
            return FieldMap.model_validate(result.structured_content)

    return anyio.run(go)


def _web_cells(url: str) -> tuple[dict[tuple[str, str], int], str]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{url}/#/fields")
        page.wait_for_selector(".field-cell", timeout=60_000)
        cells = {
            (b.get_attribute("data-actor") or "", b.get_attribute("data-field") or ""): int(
                b.get_attribute("data-count") or 0
            )
            for b in page.locator(".field-cell").all()
        }
        page.click('.field-cell[data-actor="kor"][data-field="hydrogen"]')
        detail = page.inner_text("#fields-detail")
        assert "hydrogen economy standards forum" in detail
        assert page.locator("#fields-detail a[href^='#/passage/']").count() >= 1
        with page.expect_download() as download:
            page.click("#fields-csv")
        csv = Path(download.value.path()).read_text(encoding="utf-8")
        browser.close()
    return cells, csv


def test_fields_surfaces_cli_http_mcp_and_web_agree(
    seed_settings: Settings,
    seed_service: QAService,
    base_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = seed_service.fields()
    assert expected.cells

    monkeypatch.setenv("QA_INDEX_DIR", str(seed_settings.index_dir))
    monkeypatch.setenv("QA_CORPUS_DIR", str(seed_settings.corpus_dir))
    result = CliRunner().invoke(main, ["fields", "--json"])
    assert result.exit_code == 0, result.output
    assert FieldMap.model_validate_json(result.output) == expected
    csv_cli = CliRunner().invoke(main, ["fields", "--format", "csv"]).output

    http = httpx.get(f"{base_url}/fields", timeout=60)
    assert FieldMap.model_validate(http.json()) == expected
    csv_http = httpx.get(f"{base_url}/fields", params={"format": "csv"}, timeout=60).text
    assert csv_http == csv_cli == field_map_csv(expected)
    filtered = httpx.get(f"{base_url}/fields", params={"actor": "kor", "field": "hydrogen"})
    assert FieldMap.model_validate(filtered.json()) == seed_service.fields(
        actors=["kor"], fields=["hydrogen"]
    )
    assert_error_body(
        httpx.get(f"{base_url}/fields", params={"field": "nope"}), 404, "unknown_field"
    )
    assert_error_body(
        httpx.get(f"{base_url}/fields", params={"actor": "Atlantis"}), 404, "unknown_actor"
    )

    assert _mcp_fields(base_url) == expected

    cells, csv_web = _web_cells(base_url)
    assert cells == {(c.actor, c.field): len(c.citations) for c in expected.cells}
    assert csv_web == csv_http


def test_fields_cli_unknown_field_is_a_clear_error(
    seed_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QA_INDEX_DIR", str(seed_settings.index_dir))
    result = CliRunner().invoke(main, ["fields", "--field", "nope"])
    assert result.exit_code == 1
    assert "Unknown field id 'nope'" in result.output
