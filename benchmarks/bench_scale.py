"""Scale: ingest, size, memory, search latency, one-shot load and recall at 10k-100k passages.

The corpus is generated (PolicyQA paragraphs repeated with variation, see `_synthetic.py`)
into a temporary folder. Embedding 100k passages with MiniLM takes most of an hour on two
cores, so the big indexes are built with a fast deterministic stand-in embedder
(`HashingEmbedder`, 384 dimensions); the real model's throughput is measured on a sample
and used to estimate the real ingest time. Every heavy step runs in its own process, so
its peak RSS is its own.

    python benchmarks/bench_scale.py                       # 10k and 100k passages
    python benchmarks/bench_scale.py --sizes 10000         # one size
    python benchmarks/bench_scale.py --tiny                # ~2k passages, for CI
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as c
import _synthetic as syn

TARGET_SEARCH_P50 = 0.020
TARGET_ONESHOT_LOAD = 1.5
TARGET_RECALL = 0.95
FAKE_MODEL = syn.HashingEmbedder.model_id
HERE = Path(__file__).resolve()


# -- children: each prints one JSON object as its last stdout line ----------------------


def _settings(index: Path, corpus: Path, flat_max: int | None = None) -> Any:
    from qa.config import load_settings

    return load_settings(
        index_dir=index, corpus_dir=corpus, embedding_model=FAKE_MODEL, flat_index_max=flat_max
    )


def child_embed(args: argparse.Namespace) -> dict[str, Any]:
    """Real MiniLM throughput on a sample of generated passages (and, optionally, ONNX)."""
    from qa.chunking import chunk_document
    from qa.config import load_settings
    from qa.encoders.sentence_transformer import load_embedder
    from qa.index.writer import search_text
    from qa.ingest.corpus import read_document

    start = time.perf_counter()
    embedder = load_embedder(load_settings())
    load = time.perf_counter() - start
    passages, texts = [], []
    for path in sorted(args.corpus.iterdir()):
        document = read_document(path, args.corpus)
        for p in chunk_document(document, embedder, size=160, min_tokens=24):
            passages.append(p)
            texts.append(search_text(p, document))
        if len(texts) >= args.sample:
            break
    texts = texts[: args.sample]
    sentences = [s for p in passages[: args.sample] for s in p.sentence_texts()]
    embedder.encode(texts[:8])  # warm-up
    start = time.perf_counter()
    embedder.encode(texts)
    passage_seconds = time.perf_counter() - start
    start = time.perf_counter()
    embedder.encode(sentences)
    sentence_seconds = time.perf_counter() - start
    out = {
        "load": load,
        "passages": len(texts),
        "passage_seconds": passage_seconds,
        "sentences": len(sentences),
        "sentence_seconds": sentence_seconds,
    }
    if args.onnx_out is not None:
        from qa.encoders.onnx import OnnxQueryEncoder
        from qa.encoders.onnx_export import export_query_encoder

        export = export_query_encoder(embedder.model, args.onnx_out)
        if export is not None:
            encoder = OnnxQueryEncoder(export, model_id="bench")
            encoder.encode(texts[:8])
            start = time.perf_counter()
            encoder.encode(texts)
            out["onnx_passage_seconds"] = time.perf_counter() - start
    return out


def child_build(args: argparse.Namespace) -> dict[str, Any]:
    """`QAService.ingest` of the generated corpus with the stand-in embedder, timed by stage."""
    import qa.index.builder
    from qa.retrieval.dense import DenseIndex
    from qa.retrieval.lexical import LexicalIndex
    from qa.service import QAService

    stages = {"chunk": 0.0, "dense_build": 0.0, "lexical_build": 0.0}

    rss: dict[str, float] = {}

    def timed(name: str, func: Any) -> Any:
        def wrapper(*a: Any, **k: Any) -> Any:
            rss.setdefault(f"before {name}", c.proc_status(os.getpid())["VmRSS"] / 1024)
            start = time.perf_counter()
            try:
                return func(*a, **k)
            finally:
                stages[name] += time.perf_counter() - start
                rss[f"after {name}"] = c.proc_status(os.getpid())["VmRSS"] / 1024

        return wrapper

    # Measurement only: the same functions run, with a stopwatch around them.
    qa.index.builder.chunk_document = timed("chunk", qa.index.builder.chunk_document)
    DenseIndex.build = timed("dense_build", DenseIndex.build)  # type: ignore[method-assign]
    LexicalIndex.build = timed("lexical_build", LexicalIndex.build)  # type: ignore[method-assign]
    embedder = syn.HashingEmbedder()
    rss_before = c.self_peak_rss_mb()
    service = QAService(_settings(args.index, args.corpus, args.flat_max), embedder=embedder)
    start = time.perf_counter()
    report = service.ingest()
    seconds = time.perf_counter() - start
    peak = c.self_peak_rss_mb()
    start = time.perf_counter()
    again = QAService(service.settings, embedder=syn.HashingEmbedder()).ingest()
    reingest = time.perf_counter() - start
    assert again.embedded_passages == 0, again
    build = (args.index / "current").resolve()
    manifest = json.loads((build / "manifest.json").read_text())
    sizes = {p.name: c.dir_size(p) if p.is_dir() else p.stat().st_size for p in build.iterdir()}
    return {
        "seconds": seconds,
        "passages": report.passages,
        "documents": report.documents,
        "sentences": manifest["sentence_count"],
        "kind": manifest["dense_kind"],
        "embed_seconds": embedder.seconds,
        "embedded_texts": embedder.texts,
        **stages,
        "reingest_seconds": reingest,
        "rss_before_mb": rss_before,
        "rss": {k: v for k, v in rss.items() if k != "after chunk"},
        "peak_rss_mb": peak,
        "disk_bytes": sum(sizes.values()),
        "files": sizes,
    }


def child_search(args: argparse.Namespace) -> dict[str, Any]:
    """Warm `QAService.search`/`ask` latency with the stand-in query encoder."""
    from qa.service import QAService

    queries = syn.policyqa_questions()[: args.queries]
    service = QAService(_settings(args.index, args.corpus), query_encoder=syn.HashingEmbedder())
    start = time.perf_counter()
    service.search(queries[0])
    load = time.perf_counter() - start
    status = []
    service.warm()  # what `qa serve` runs at start-up
    for _ in range(3):  # what every /readyz and metrics scrape runs
        start = time.perf_counter()
        service.info()
        status.append(time.perf_counter() - start)
    snapshot, retriever = service.current()

    def lap(func: Any) -> list[float]:
        out = []
        for q in queries:
            begin = time.perf_counter()
            func(q)
            out.append(time.perf_counter() - begin)
        return out

    encoder = retriever.encoder
    onnx: list[float] = []
    if args.onnx_out is not None and (args.onnx_out / "encoder.json").is_file():
        from qa.encoders.onnx import OnnxQueryEncoder

        real = OnnxQueryEncoder(args.onnx_out, model_id="bench")
        real.encode(queries[:1])
        onnx = lap(lambda q: real.encode([q]))
    return {
        "onnx": onnx,
        "load": load,
        "status": status,
        "search": lap(lambda q: service.search(q)),
        "ask": lap(lambda q: service.ask(q)),
        "dense": lap(lambda q: snapshot.dense.search(encoder.encode([q])[0], 50)),
        "lexical": lap(lambda q: snapshot.lexical.search(q, 50)),
        "peak_rss_mb": c.self_peak_rss_mb(),
    }


def child_oneshot(args: argparse.Namespace) -> dict[str, Any]:
    """One question in a fresh process: import, open the index, search once."""
    start = time.perf_counter()
    from qa.service import QAService

    imported = time.perf_counter()
    service = QAService(_settings(args.index, args.corpus), query_encoder=syn.HashingEmbedder())
    hits = service.search("How is personal information shared with third parties?").hits
    done = time.perf_counter()
    service.store.load()  # again, alone: the manifest and row tables, no engines
    opened = time.perf_counter()
    return {
        "import": imported - start,
        "open": opened - done,
        "load": done - imported,
        "hits": len(hits),
        "peak_rss_mb": c.self_peak_rss_mb(),
    }


def child_recall(args: argparse.Namespace) -> dict[str, Any]:
    """recall@10 of the saved dense index against exact inner-product search."""
    import faiss
    import numpy as np

    from qa.retrieval.dense import DenseIndex

    build = (args.index / "current").resolve()
    manifest = json.loads((build / "manifest.json").read_text())
    vectors = np.load(build / "vectors.npy", mmap_mode="r")
    queries = syn.HashingEmbedder().encode(syn.policyqa_questions()[: args.queries])
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(np.ascontiguousarray(vectors))
    _, truth = exact.search(queries, 10)
    index = DenseIndex.load(build / "dense.faiss", vectors, manifest["dense_kind"])
    found, latencies = 0, []
    for q, expected in zip(queries, truth, strict=True):
        start = time.perf_counter()
        got = {row for row, _ in index.search(q, 10)}
        latencies.append(time.perf_counter() - start)
        found += len(got & set(expected.tolist()))
    return {
        "kind": manifest["dense_kind"],
        "recall": found / (10 * len(queries)),
        "latencies": latencies,
    }


CHILDREN = {
    "embed": child_embed,
    "build": child_build,
    "search": child_search,
    "oneshot": child_oneshot,
    "recall": child_recall,
}


# -- the parent ------------------------------------------------------------------------


def run_child(name: str, **options: Any) -> tuple[dict[str, Any], float]:
    argv = [sys.executable, str(HERE), "--child", name]
    for key, value in options.items():
        if value is not None:
            argv += [f"--{key.replace('_', '-')}", str(value)]
    seconds, stdout, _ = c.run_measured(argv, c.clean_env())
    return json.loads(stdout.strip().splitlines()[-1]), seconds


def passages_per_document(folder: Path) -> float:
    from qa.chunking import chunk_document
    from qa.ingest.corpus import read_document

    embedder = syn.HashingEmbedder()
    syn.write_corpus(folder, 40, seed=1)
    total = sum(
        len(chunk_document(read_document(p, folder), embedder, size=160, min_tokens=24))
        for p in folder.iterdir()
    )
    return total / 40


def build_only(base: Path, size: int, ppd: float, args: argparse.Namespace) -> None:
    """Ingest memory at one size: the build child alone, with the stand-in embedder."""
    corpus, index = base / f"corpus-{size}", base / f"index-{size}"
    for folder in (corpus, index):
        shutil.rmtree(folder, ignore_errors=True)
    syn.write_corpus(corpus, math.ceil(size / ppd))
    b, _ = run_child("build", corpus=corpus, index=index, flat_max=args.flat_max)
    print(
        f"{b['passages']:,} passages / {b['sentences']:,} sentences / "
        f"{b['documents']:,} documents: ingest {b['seconds']:.1f} s, "
        f"re-ingest {b['reingest_seconds']:.2f} s, peak RSS of the build "
        f"{b['peak_rss_mb']:.0f} MB (before ingest {b['rss_before_mb']:.0f} MB)"
    )
    for stage, mb in b["rss"].items():
        print(f"  RSS {stage:<22} {mb:8.0f} MB")


def one_size(
    base: Path,
    size: int,
    ppd: float,
    args: argparse.Namespace,
    onnx: Path | None,
    rates: tuple[float, float] | None,
) -> None:
    corpus, index = base / f"corpus-{size}", base / f"index-{size}"
    for folder in (corpus, index):  # a kept --workdir from an earlier run
        shutil.rmtree(folder, ignore_errors=True)
    documents = math.ceil(size / ppd)
    start = time.perf_counter()
    corpus_bytes = syn.write_corpus(corpus, documents)
    generated = time.perf_counter() - start
    b, _ = run_child("build", corpus=corpus, index=index, flat_max=args.flat_max)
    n = b["passages"]
    print(
        f"\n-- {n:,} passages, {b['sentences']:,} sentences, {b['documents']:,} documents "
        f"({corpus_bytes / 1e6:.0f} MB of Markdown, generated in {generated:.1f} s) --"
    )
    ingest_wo = b["seconds"] - b["embed_seconds"]
    print(
        f"ingest (stand-in embedder)          {c.secs(b['seconds'])}  "
        f"= {n / b['seconds']:,.0f} passages/s"
    )
    print(
        f"  of which stand-in embedding       {c.secs(b['embed_seconds'])}  "
        f"({b['embedded_texts']:,} texts: sentences and headings)"
    )
    print(f"  chunking                          {c.secs(b['chunk'])}")
    print(f"  index build: FAISS {b['kind']:<5}         {c.secs(b['dense_build'])}")
    print(f"  index build: BM25                 {c.secs(b['lexical_build'])}")
    other = ingest_wo - b["chunk"] - b["dense_build"] - b["lexical_build"]
    print(f"  other (read, cache, write files)  {c.secs(other)}")
    print(
        f"ingest excluding embedding          {c.secs(ingest_wo)}  "
        f"= {n / ingest_wo:,.0f} passages/s"
    )
    if rates is not None:
        # The ingest embeds each distinct sentence, and each passage's headings, once (a
        # passage's vector is the mean of those); this generated corpus repeats some
        # sentences, a real one of this size would hardly repeat any.
        for label, pieces in (("as embedded here", b["embedded_texts"]),
                              ("every sentence distinct", b["sentences"] + n)):  # fmt: skip
            estimate = pieces / rates[1]
            total = ingest_wo + estimate
            print(
                f"ingest with MiniLM, estimated      {c.secs(total)}  = {n / total:,.1f} passages/s"
                f" ({label}: {pieces:,} sentences and headings of {n:,} passages, "
                f"{estimate / 60:.0f} min embedding)"
            )
    ratio = b["reingest_seconds"] / b["seconds"]
    print(
        f"re-ingest, corpus unchanged        {c.secs(b['reingest_seconds'])}  "
        f"= {ratio:.1%} of this ingest"
    )
    print(f"index build time (FAISS + BM25)     {c.secs(b['dense_build'] + b['lexical_build'])}")
    print(f"index size on disk                  {b['disk_bytes'] / 1e6:8.1f} MB")
    for name, bytes_ in sorted(b["files"].items(), key=lambda item: -item[1])[:6]:
        print(f"  {name:<32}  {bytes_ / 1e6:8.1f} MB")
    print(
        f"peak RSS of the build process       {b['peak_rss_mb']:8.0f} MB "
        f"({b['rss_before_mb']:.0f} MB before ingest)"
    )
    print("  RSS during the build: " + ", ".join(f"{k} {v:.0f} MB" for k, v in b["rss"].items()))

    s, _ = run_child("search", corpus=corpus, index=index, queries=args.queries, onnx_out=onnx)
    p50 = c.median(s["search"])
    print(f"search, warm ({len(s['search'])} PolicyQA questions, stand-in query encoder)")
    print(
        f"  QAService.search   p50 {c.ms(p50)}  p95 {c.ms(c.percentile(s['search'], 95))}  "
        f"target p50 <= {TARGET_SEARCH_P50 * 1000:.0f} ms {c.verdict(p50, TARGET_SEARCH_P50)}"
    )
    for key, label in (
        ("ask", "QAService.ask"),
        ("dense", "dense top-50"),
        ("lexical", "BM25 top-50"),
    ):
        print(f"  {label:<18} p50 {c.ms(c.median(s[key]))}  p95 {c.ms(c.percentile(s[key], 95))}")
    if s["onnx"]:
        encode = c.median(s["onnx"])
        print(
            f"  + real ONNX query encoding   p50 {c.ms(encode)}  -> search with it "
            f"~{c.ms(p50 + encode).strip()} p50"
        )
    print(f"  peak RSS of the searching process {s['peak_rss_mb']:6.0f} MB")
    print(
        f"  QAService.info() on a loaded service (server start-up, every /readyz): "
        f"{c.secs(c.median(s['status']))}"
    )

    shots = [run_child("oneshot", corpus=corpus, index=index) for _ in range(args.oneshots)]
    load = c.median([o["load"] for o, _ in shots])
    wall = c.median([seconds for _, seconds in shots])
    first = shots[0][0]
    print(f"one-shot in a fresh process (median of {len(shots)})")
    print(
        f"  open index + first search         {c.secs(load)}  "
        f"target <= {TARGET_ONESHOT_LOAD} s {c.verdict(load, TARGET_ONESHOT_LOAD)}"
    )
    print(
        f"    (of which opening the manifest and row tables {first['open']:.3f} s; "
        f"imports before it {first['import']:.3f} s; peak RSS {first['peak_rss_mb']:.0f} MB)"
    )
    print(f"  whole process (python + imports)  {c.secs(wall)}")
    env = {**c.clean_env(index, corpus), "QA_EMBEDDING_MODEL": FAKE_MODEL}
    status = [c.run_measured([str(c.QA), "status"], env)[0] for _ in range(args.oneshots)]
    print(f"  `qa status` whole process         {c.secs(c.median(status))}")
    if onnx is not None:
        build = (index / "current").resolve()
        shutil.copytree(onnx, build / "onnx")
        asks = [
            c.run_measured([str(c.QA), "ask", "Who do you share my data with?"], env)
            for _ in range(args.oneshots)
        ]
        ask_wall = c.median([a[0] for a in asks])
        print(
            f"  `qa ask` whole process (ONNX encoder copied in)  {c.secs(ask_wall)}"
            f"  peak RSS {max(a[2] for a in asks):.0f} MB"
        )

    r, _ = run_child("recall", corpus=corpus, index=index, queries=args.queries)
    label = (
        "exact, by construction"
        if r["kind"] == "flat"
        else f"target >= {TARGET_RECALL} " + c.verdict_at_least(r["recall"], TARGET_RECALL)
    )
    print(
        f"dense index {r['kind']}: recall@10 vs exact   {r['recall']:8.3f}  ({label}); "
        f"top-10 p50 {c.ms(c.median(r['latencies']))}"
    )
    if not args.keep:
        shutil.rmtree(index, ignore_errors=True)
        shutil.rmtree(corpus, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="~2k passages, small samples, for CI")
    parser.add_argument("--sizes", default="10000,100000", help="passage counts, comma-separated")
    parser.add_argument("--queries", type=int, default=300, help="PolicyQA questions to time")
    parser.add_argument("--sample", type=int, default=512, help="passages embedded with MiniLM")
    parser.add_argument("--oneshots", type=int, default=3, help="fresh one-shot processes per size")
    parser.add_argument("--flat-max", type=int, help="QA_FLAT_INDEX_MAX for the builds")
    parser.add_argument("--workdir", type=Path, help="where to generate (default: a temp dir)")
    parser.add_argument(
        "--keep", action="store_true", help="keep the corpora and indexes (needs --workdir)"
    )
    parser.add_argument(
        "--build-only",
        action="store_true",
        help="only ingest each size: time, re-ingest and peak RSS of the build process",
    )
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    for name in ("corpus", "index", "onnx-out"):
        parser.add_argument(f"--{name}", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.update(c.clean_env())
    if args.child:
        print(json.dumps(CHILDREN[args.child](args)))
        return

    if args.tiny:
        sizes, args.queries, args.sample, args.oneshots = [2000], 30, 16, 1
        args.flat_max = 1000 if args.flat_max is None else args.flat_max  # exercise HNSW
    else:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.keep and args.workdir is None:
        parser.error("--keep needs --workdir")
    with contextlib.ExitStack() as stack:
        if args.keep:
            base = args.workdir.resolve()
            base.mkdir(parents=True, exist_ok=True)
        else:
            tmp = stack.enter_context(
                tempfile.TemporaryDirectory(prefix="bench-scale-", dir=args.workdir)
            )
            base = Path(tmp)
        c.header("scale", f"sizes {', '.join(f'{s:,}' for s in sizes)} passages")
        ppd = passages_per_document(base / "calibrate")
        if args.build_only:
            for size in sizes:
                build_only(base, size, ppd, args)
            return
        sample_corpus = base / "sample"
        syn.write_corpus(sample_corpus, max(2, math.ceil(args.sample / ppd) + 1), seed=2)
        onnx = None if args.tiny else base / "onnx"
        e, _ = run_child("embed", corpus=sample_corpus, sample=args.sample, onnx_out=onnx)
        rates = (e["passages"] / e["passage_seconds"], e["sentences"] / e["sentence_seconds"])
        print(
            "NOTE: indexes below are built with a fast stand-in embedder (HashingEmbedder, 384 "
            "dimensions), not MiniLM;"
        )
        print("      real embedding time is estimated from the measured MiniLM throughput.")
        print(
            f"MiniLM (sentence-transformers, CPU) on {e['passages']} generated passages: "
            f"{rates[0]:.1f} passages/s, {rates[1]:.1f} sentences/s ({e['sentences']} sentences)"
        )
        if "onnx_passage_seconds" in e:
            print(
                f"ONNX export (onnxruntime) on the same passages: "
                f"{e['passages'] / e['onnx_passage_seconds']:.1f} passages/s"
            )
        if onnx is not None and not (onnx / "encoder.json").is_file():
            onnx = None
        for size in sizes:
            one_size(base, size, ppd, args, onnx, rates)


if __name__ == "__main__":
    main()
