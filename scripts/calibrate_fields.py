"""Calibrate the field-assignment rule (threshold, seed_weight) on eval/fields-labels.jsonl.

    PYTHONPATH=src python scripts/calibrate_fields.py [--taxonomy FILE]

Prints micro precision/recall/F1 over (sentence, field) decisions for a grid of constants:
the best F1 among those with precision >= 0.9 (a map should not claim what the text does
not say) comes first; copy that pair into the taxonomy's `threshold` and `seed_weight`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from qa.config import load_settings
from qa.encoders.sentence_transformer import load_embedder
from qa.fields.assign import SeedMatcher, field_vectors
from qa.fields.taxonomy import load_taxonomy, parse_taxonomy

ROOT = Path(__file__).resolve().parents[1]
MIN_PRECISION = 0.9


def say(text: str) -> None:
    sys.stdout.write(text + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--taxonomy", type=Path)
    parser.add_argument("--labels", type=Path, default=ROOT / "eval" / "fields-labels.jsonl")
    args = parser.parse_args()
    settings = load_settings()
    taxonomy = (
        parse_taxonomy(args.taxonomy.read_text(), str(args.taxonomy))
        if args.taxonomy
        else load_taxonomy(settings)
    )
    rows = [json.loads(line) for line in args.labels.read_text().splitlines() if line.strip()]
    embedder = load_embedder(settings)
    fields = field_vectors(taxonomy, embedder)
    ids = [f.id for f in taxonomy.fields]
    gold = np.array([[f in r["fields"] for f in ids] for r in rows])
    cosine = embedder.encode([r["text"] for r in rows]) @ fields.T
    matcher = SeedMatcher.of(taxonomy)
    hits = np.stack([matcher.hits(r["text"]) for r in rows])
    results = []
    for weight in np.arange(0.0, 0.45, 0.05):
        for threshold in np.arange(0.30, 0.75, 0.01):
            predicted = cosine + weight * hits >= threshold
            tp = int((predicted & gold).sum())
            precision = tp / max(1, int(predicted.sum()))
            recall = tp / max(1, int(gold.sum()))
            f1 = 2 * precision * recall / max(1e-9, precision + recall)
            results.append((f1, precision, recall, float(threshold), float(weight)))
    # Precision floor, then F1; ties go to the stricter threshold, then the smaller bonus.
    results.sort(key=lambda r: (r[1] >= MIN_PRECISION, round(r[0], 3), r[3], -r[4]), reverse=True)
    say("f1     precision recall threshold seed_weight")
    for f1, p, r, t, w in results[:12]:
        say(f"{f1:.3f}  {p:.3f}     {r:.3f}  {t:.2f}      {w:.2f}")
    current = cosine + taxonomy.seed_weight * hits >= taxonomy.threshold
    for i, row in enumerate(rows):
        wrong = [ids[j] for j in range(len(ids)) if current[i, j] != gold[i, j]]
        if wrong:
            say(f"  at current constants, differs on {wrong}: {row['text'][:70]}")


if __name__ == "__main__":
    main()
