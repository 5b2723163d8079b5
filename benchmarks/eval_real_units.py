"""The unit classifier on real postings against their hand labels (``benchmarks/data/real_postings/units.jsonl``).

    python benchmarks/eval_real_units.py -o benchmarks/results/real_units.md

Each hand-labelled unit is given to the shipped :class:`~exposure.postings.UnitClassifier` as the engine would
see it (its text normalised as ``segment`` normalises a posting: HTML out, white space collapsed; header and
bullet flags from the text around it), in posting order, the first stage included; the classifier's label is
compared with the hand label. This measures the classifier on the annotators' units, not the segmentation.
Reported per split (and per source on the test split): DUTY precision, recall and F1 with 95 % bootstrap
intervals over postings, and on the test split the confusion by label. The shipped classifier is trained on
the train split (``benchmarks/train_unit_classifier.py``): only the test split's figures are out of sample.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import List, Optional

import numpy as np
from sklearn.metrics import precision_recall_fscore_support

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_postings  # noqa: E402
from _common import publish  # noqa: E402

from exposure.stats import bootstrap_ci  # noqa: E402

logger = logging.getLogger("eval_real_units")
# What marks a list item just before a unit: a list tag, a bullet character or "1." / "2)".
_BULLET_BEFORE = re.compile(r"(?:<li[^>]*>|[•\-\*·●▪◦‣–]|(?:^|\s)\d{1,2}[.)])$", re.I)


def posting_units(text: str, spans: List[tuple]):
    """The hand-labelled spans of one posting as the engine's units, and their labels, in posting order."""
    from exposure.postings.segmentation import Unit, is_header, normalize

    units, labels = [], []
    for start, end, label in sorted(spans):
        unit_text = " ".join(normalize(text[start:end]).split())
        if not unit_text:
            continue
        bullet = bool(_BULLET_BEFORE.search(text[max(0, start - 40):start].rstrip()))
        units.append(Unit(unit_text, bullet=bullet, header=is_header(unit_text, bullet)))
        labels.append(label)
    return units, labels


def _prf(pred: np.ndarray, gold: np.ndarray) -> tuple:
    """DUTY precision, recall and F1 (scikit-learn's, 0 where undefined)."""
    return tuple(precision_recall_fscore_support(gold, pred, average="binary", zero_division=0)[:3])


def main(argv: Optional[list] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", type=Path, help="write the Markdown report here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from exposure.encoder import Encoder
    from exposure.postings import UnitClassifier

    spans = defaultdict(list)
    for row in real_postings.read_labels("units.jsonl"):
        spans[row["posting_id"]].append((row["start"], row["end"], row["label"]))
    posts = real_postings.by_id()
    encoder = Encoder(device="cpu", dtype="float32")
    clf = UnitClassifier.load(encoder=encoder)
    ids = sorted(spans)
    per = [posting_units(posts[i]["text"], spans[i]) for i in ids]
    preds = clf.predict_many([u for u, _ in per], encoder=encoder)
    rows = [(i, posts[i]["split"], g, p) for i, (_, gold), pred in zip(ids, per, preds)
            for g, p in zip(gold, pred.labels)]
    lines = ["# The unit classifier on hand-labelled real postings\n",
             f"`python benchmarks/eval_real_units.py`: {len(ids)} postings of "
             "`benchmarks/data/real_postings/units.jsonl` "
             "(guide version 1), the annotators' units given to the shipped classifier as the engine sees units "
             "(first stage included), float32 encoder, CPU. DUTY against the rest; 95 % bootstrap intervals over "
             "postings. The classifier was trained on the train split: its rows are in sample.\n",
             "| split | postings | units | DUTY units | precision | recall | F1 |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for split in ("test", *(f"test {s}" for s in real_postings.SOURCES), "train", "all"):
        part, _, source = split.partition(" ")
        sel = [r for r in rows if part in ("all", r[1]) and source in ("", r[0].split(":")[0])]
        gold = np.array([r[2] == "DUTY" for r in sel])
        pred = np.array([r[3] == "DUTY" for r in sel])
        owner = np.array([r[0] for r in sel])
        p, r, f = _prf(pred, gold)
        ci = {k: bootstrap_ci(lambda idx, k=k: _prf(pred[idx], gold[idx])[k], owner) for k in range(3)}
        lines.append(f"| {split} | {len(set(owner))} | {len(sel):,} | {int(gold.sum()):,} | "
                     + " | ".join(f"{v:.3f} ({ci[k][0]:.3f}-{ci[k][1]:.3f})" for k, v in enumerate((p, r, f))) + " |")
    labels = list(clf.labels)
    test = [r for r in rows if r[1] == "test"]
    lines += ["", "Confusion on the test split (rows: hand label, columns: classifier):", "",
              "| hand \\ classifier | " + " | ".join(labels) + " |", "| --- |" + " --- |" * len(labels)]
    for g in labels:
        lines.append(f"| {g} | " + " | ".join(str(sum(1 for r in test if r[2] == g and r[3] == p)) for p in labels)
                     + " |")
    publish("\n".join(lines) + "\n", args.output, logger)


if __name__ == "__main__":
    main()
