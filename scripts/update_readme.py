"""Regenerate the generated parts of README.md: `qa --help` and the settings table."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from qa.cli import main
from qa.config import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def settings_table() -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
        rows.append(f"| `QA_{name.upper()}` | `{default}` | {field.description} |")
    return "\n".join(rows)


def replace(text: str, marker: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {marker}:start -->\n).*?(\n<!-- {marker}:end -->)", re.S)
    return pattern.sub(lambda m: m.group(1) + body + m.group(2), text)


def main_() -> None:
    help_text = (
        CliRunner().invoke(main, ["--help"], prog_name="qa", terminal_width=100).output.strip()
    )
    text = README.read_text(encoding="utf-8")
    text = replace(text, "help", f"```text\n{help_text}\n```")
    text = replace(text, "settings", settings_table())
    README.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main_()
