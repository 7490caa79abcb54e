"""The README stays current: the two commands first, every setting, the live --help."""

from __future__ import annotations

import re

from click.testing import CliRunner
from conftest import ROOT

from qa.cli import main
from qa.config import Settings

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands() -> None:
    first_block = README.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make run", "make test"]
    second_block = README.split("```sh", 2)[2].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in second_block.strip().splitlines()] == [
        "make serve",
        "make mcp",
    ]


def test_readme_documents_every_setting() -> None:
    table = README.split("<!-- settings:start -->", 1)[1].split("<!-- settings:end -->", 1)[0]
    documented = set(re.findall(r"`(QA_[A-Z_]+)`", table))
    expected = {f"QA_{name.upper()}" for name in Settings.model_fields}
    assert documented == expected


def test_readme_shows_current_help() -> None:
    block = README.split("<!-- help:start -->", 1)[1].split("<!-- help:end -->", 1)[0]
    shown = block.strip().removeprefix("```text").removesuffix("```").strip()
    live = CliRunner().invoke(main, ["--help"], prog_name="qa", terminal_width=100).output.strip()
    assert shown == live, "README --help is stale: run `python scripts/update_readme.py`"


def test_makefile_installs_pinned_torch_before_project() -> None:
    makefile = (ROOT / "Makefile").read_text()
    install = makefile.split("$(VENV)/.installed:", 1)[1]
    assert install.index("$(TORCH)") < install.index("-e .")
    assert "TORCH  := torch==2.13.0" in makefile


def test_pyproject_licence_is_an_spdx_string() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # The table form ({text = ...}) makes setuptools print a deprecation warning per build.
    assert project["license"] == "MIT"
    assert not any(c.startswith("License ::") for c in project.get("classifiers", []))
