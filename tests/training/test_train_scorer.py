"""The training script cannot rot: a tiny run on the committed PolicyQA data trains,
exports, quantises and writes a scorer that the product loads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import EVAL_DIR, ROOT

from qa.answer.scorer import SentenceScorer


def test_train_scorer_tiny_run_writes_a_loadable_scorer(tmp_path: Path) -> None:
    out = tmp_path / "scorer"
    policyqa = EVAL_DIR / "policyqa-dev.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "training" / "train_scorer.py"), "--tiny", "--out", str(out),
         "--squad", str(policyqa), "--policyqa", str(policyqa)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    card = json.loads((out / "scorer.json").read_text(encoding="utf-8"))
    assert card["tiny"] and card["data"]["train_pairs"] > 0
    assert card["data"]["train_positive"] == card["data"]["train_questions"]
    # Validation and training never share a document, and neither reads the held-out ones.
    heldout = json.loads((EVAL_DIR / "heldout.json").read_text(encoding="utf-8"))
    assert not set(card["data"]["valid_titles"]) & set(heldout["policyqa"])
    assert 0 <= card["validation"]["onnx_fp32"]["all"]["top1"] <= 1
    scorer = SentenceScorer(out)
    p = scorer.probabilities([("What data is collected?", "We collect your email.", "x.com", "")])
    assert p.shape == (1,) and 0 <= float(p[0]) <= 1
    assert not list(tmp_path.glob(".scorer-*")), "the staging folder is left behind"
