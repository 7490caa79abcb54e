"""Answer quality on held-out data, side by side: the answer rules of a previous commit and
this tree, on the same files with the same `qa eval`.

Writes held-out evaluation files from the documents in `eval/heldout.json` (held out while
the trained scorers that were measured and rejected were fitted): PolicyQA dev policies,
and SQuAD dev articles (each its own corpus). Each corpus also gets questions of another
corpus as unanswerables, so abstention precision and recall measure "the texts do not
say". seed-dev and its extension run as is.

    python benchmarks/bench_answers.py                  # this tree only
    python benchmarks/bench_answers.py --baseline REV   # and the rules at git REV
    python benchmarks/bench_answers.py --tiny           # smoke run (repo data only)
    python benchmarks/bench_answers.py --scorers        # rules, scorer, scorer + checks

`--scorers` runs this tree three ways: the retrieval-score rule (QA_ANSWER_SCORER=rules),
the trained scorer alone (QA_ANSWER_CHECKS=false), and the scorer with the name and detail
checks (QA_ANSWER_CHECKS=true).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import _common as c

HELDOUT = c.EVAL_DIR / "heldout.json"
SQUAD = c.SHARED_EVAL / "squad-dev-v1.1.json"
EXTRA = c.EVAL_DIR / "seed-dev-extra.jsonl"
FIGURES = (
    ("hit@3", "hit_at_3"),
    ("answer contains", "answer_contains"),
    ("citation contains", "citation_contains"),
    ("answered (answerable)", "answered_rate"),
    ("abstention precision", "abstention_precision"),
    ("abstention recall", "abstention_recall"),
    ("answer words p50", "answer_words_p50"),
    ("latency p50 ms", "latency_ms_p50"),
)


def heldout_file(
    source: Path, titles: list[str], out: Path, *, per_corpus: int, foreign: int, seed: int = 13
) -> Path:
    """A SQuAD file of the held-out `titles`: `per_corpus` questions of each article, plus
    `foreign` questions of the next article with no answers (they must abstain)."""
    data = json.loads(source.read_text(encoding="utf-8"))["data"]
    kept = [a for a in data if a["title"] in set(titles)]
    rng = random.Random(seed)
    picked = []
    for article in kept:
        qas = [qa for p in article["paragraphs"] for qa in p["qas"]]
        picked.append(rng.sample(qas, min(per_corpus, len(qas))))
    articles = []
    for number, article in enumerate(kept):
        paragraphs = [dict(p, qas=[]) for p in article["paragraphs"]]
        chosen = {qa["id"] for qa in picked[number]}
        for paragraph, original in zip(paragraphs, article["paragraphs"], strict=True):
            paragraph["qas"] = [qa for qa in original["qas"] if qa["id"] in chosen]
        other = picked[(number + 1) % len(kept)][:foreign]
        paragraphs[0]["qas"] += [
            {"id": f"foreign-{qa['id']}", "question": qa["question"], "answers": []} for qa in other
        ]
        articles.append({"title": article["title"], "paragraphs": paragraphs})
    out.write_text(json.dumps({"data": articles}), encoding="utf-8")
    return out


SCORER_VARIANTS: list[tuple[str, dict[str, str]]] = [
    ("rules", {"QA_ANSWER_SCORER": "rules"}),
    ("scorer alone", {"QA_ANSWER_SCORER": "trained", "QA_ANSWER_CHECKS": "false"}),
    ("scorer + checks", {"QA_ANSWER_SCORER": "trained", "QA_ANSWER_CHECKS": "true"}),
]


def run_eval(
    path: Path, pythonpath: Path | None, extra: list[str], overrides: dict[str, str] | None = None
) -> dict[str, Any]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(overrides or {})}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    done = subprocess.run(
        [str(c.QA), "--corpus", str(c.CORPUS), "eval", str(path), "--json", *extra],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"qa eval {path.name} failed:\n{done.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout)[0]
    return report


def _cell(value: Any, field: str) -> str:
    if value is None:
        return "-"
    if field.startswith("latency") or field == "answer_words_p50":
        return f"{value:g}"
    return f"{100 * value:.1f}%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="git revision whose answer rules to compare")
    parser.add_argument("--baseline-only", action="store_true", help="skip this tree")
    parser.add_argument("--tiny", action="store_true", help="a smoke run on a few questions")
    parser.add_argument("--per-corpus", type=int, default=40)
    parser.add_argument("--foreign", type=int, default=10)
    parser.add_argument("--scorers", action="store_true", help="rules vs trained scorer")
    args = parser.parse_args()
    heldout = json.loads(HELDOUT.read_text(encoding="utf-8"))
    per_corpus, foreign = (3, 2) if args.tiny else (args.per_corpus, args.foreign)
    with tempfile.TemporaryDirectory(prefix="qa-bench-answers-") as scratch:
        tmp = Path(scratch)
        datasets: list[tuple[str, Path]] = [("seed-dev", c.SEED_DEV), ("seed-dev-extra", EXTRA)]
        policies = heldout["policyqa"][:2] if args.tiny else heldout["policyqa"]
        datasets.append(
            ("PolicyQA held-out", heldout_file(
                c.POLICYQA, policies, tmp / "policyqa-heldout.json",
                per_corpus=per_corpus, foreign=foreign,
            ))
        )  # fmt: skip
        if SQUAD.is_file() and not args.tiny:  # tiny runs read only what the repo holds
            articles = heldout["squad"]
            datasets.append(
                ("SQuAD held-out", heldout_file(
                    SQUAD, articles, tmp / "squad-heldout.json",
                    per_corpus=per_corpus, foreign=foreign,
                ))
            )  # fmt: skip
        elif not args.tiny:
            print(f"SQuAD skipped: {SQUAD} is absent")
        variants: list[tuple[str, Path | None, dict[str, str]]] = [("this tree", None, {})]
        if args.scorers:
            variants = [(name, None, env) for name, env in SCORER_VARIANTS]
        if args.baseline:
            old = tmp / "baseline"
            subprocess.run(
                ["git", "-C", str(c.ROOT), "worktree", "add", "-q", "--detach", str(old),
                 args.baseline], check=True,
            )  # fmt: skip
            variants.insert(0, (f"rules ({args.baseline})", old / "src", {}))
            if args.baseline_only:
                variants = variants[:1]
        try:
            for name, path in datasets:
                if args.tiny and path.suffix == ".jsonl":
                    continue
                reports = [(v, run_eval(path, p, [], env)) for v, p, env in variants]
                print(f"\n{name} ({reports[0][1]['questions']} questions)")
                print(f"  {'':<24}" + "".join(f"{v:>22}" for v, _ in reports))
                for label, field in FIGURES:
                    cells = "".join(f"{_cell(r.get(field), field):>22}" for _, r in reports)
                    print(f"  {label:<24}{cells}")
        finally:
            if args.baseline:
                baseline = str(tmp / "baseline")
                subprocess.run(
                    ["git", "-C", str(c.ROOT), "worktree", "remove", "--force", baseline],
                    check=False,
                )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
