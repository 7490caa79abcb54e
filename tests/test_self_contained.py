"""The suite reads nothing outside the repo: the guard in conftest catches such reads."""

from __future__ import annotations

from pathlib import Path

from conftest import EVAL_DIR, OUTSIDE, ROOT
from outside_reads import OutsideReads


def test_self_contained_guard_records_reads_under_watched_folder(tmp_path: Path) -> None:
    watched, inside = tmp_path / "shared", tmp_path / "repo"
    watched.mkdir()
    inside.mkdir()
    (watched / "data.jsonl").write_text("{}")
    (inside / "data.jsonl").write_text("{}")
    guard = OutsideReads(watched)
    try:
        (inside / "data.jsonl").read_text()
        assert guard.paths == []
        (watched / "data.jsonl").read_text()
        sorted(watched.iterdir())
    finally:
        guard.stop()
    assert guard.paths == [str(watched / "data.jsonl"), str(watched)]


def test_self_contained_suite_watches_shared_and_reads_committed_data() -> None:
    assert OUTSIDE.watched == str((ROOT.parent / "shared").resolve())
    assert EVAL_DIR.is_relative_to(ROOT)
    for name in ("seed-dev.jsonl", "policyqa-dev.json", "policyqa-LICENSE"):
        assert (EVAL_DIR / name).is_file(), name
    assert OUTSIDE.paths == []  # nothing so far in this session read ../shared
