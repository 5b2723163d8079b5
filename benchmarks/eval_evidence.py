"""How often a duty's evidence (its best-matching capability statement) is about the same work, on real postings.

    python benchmarks/eval_evidence.py -o benchmarks/results/evidence.md

Reads ``benchmarks/data/real_postings/evidence.jsonl``: 200 hand-labelled DUTY units of the test split of the
real postings (drawn at random, seed 3), each with the capability statement the engine shows as its evidence
(``method`` "best": the capability most similar to the duty, with that similarity) and, for the 75 duties where
it differs, the pick of an alternative tried ("task-anchored": the capability most similar to the duty plus its
nearest O*NET task statement). Two annotators judged every pair on their own under the guide of
``docs/labelling.md`` (RELEVANT, PARTLY, NOT). Reported: agreement (Cohen's kappa), the share of pairs judged at
least partly relevant and relevant (the two annotators' judgements averaged), by similarity, and at the
threshold the scorer shows evidence from (``EVIDENCE_MIN_SIMILARITY``).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Optional

import numpy as np
from sklearn.metrics import cohen_kappa_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_postings  # noqa: E402
from _common import publish  # noqa: E402

from exposure.postings.scorer import EVIDENCE_MIN_SIMILARITY  # noqa: E402
from exposure.stats import bootstrap_ci  # noqa: E402

logger = logging.getLogger("eval_evidence")
SCORE = {"NOT": 0.0, "PARTLY": 0.5, "RELEVANT": 1.0}
BINS = (0.0, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60, 1.01)


def main(argv: Optional[list] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", type=Path, help="write the Markdown report here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rows = real_postings.read_labels("evidence.jsonl")
    best = [r for r in rows if r["method"] == "best"]
    alt = {(r["posting_id"], r["start"]): r for r in rows if r["method"] == "task-anchored"}

    def judged(r):
        votes = list(r["judgements"].values())
        return np.mean([SCORE[v] for v in votes]), np.mean([v != "NOT" for v in votes]), votes

    lines = ["# Evidence: is the best-matching capability about the same work?\n",
             f"`python benchmarks/eval_evidence.py`: {len(best)} DUTY units of the test split of the hand-labelled "
             "real postings, each with the capability statement the engine matched to it best; two annotators "
             "judged each pair on their own (RELEVANT, PARTLY, NOT; `docs/labelling.md`). \"At least partly\": "
             "the share of judgements that are not NOT; \"relevant\": the share that are RELEVANT. 95 % bootstrap "
             "intervals over duties.\n"]
    for method, items in (("best", best), ("task-anchored", list(alt.values()))):
        votes = [list(r["judgements"].values()) for r in items]
        a, b = [v[0] for v in votes], [v[1] for v in votes]
        kappa = cohen_kappa_score(a, b)
        lines.append(f"- {method}: {len(items)} pairs, agreement {np.mean([x == y for x, y in zip(a, b)]):.3f}, "
                     f"Cohen's kappa {kappa:.3f}.")
    partly = np.array([judged(r)[1] for r in best])
    relevant = np.array([np.mean([v == "RELEVANT" for v in judged(r)[2]]) for r in best])
    sim = np.array([r["similarity"] for r in best])
    idx = np.arange(len(best))
    shown = sim >= EVIDENCE_MIN_SIMILARITY
    lines += ["", "| evidence | duties | shown for | at least partly relevant | relevant |",
              "| --- | --- | --- | --- | --- |"]

    def row(name, mask):
        sel = idx[mask]
        lo, hi = bootstrap_ci(lambda r: partly[sel][r].mean(), np.arange(sel.size))
        lo2, hi2 = bootstrap_ci(lambda r: relevant[sel][r].mean(), np.arange(sel.size))
        lines.append(f"| {name} | {len(best)} | {mask.mean():.1%} | {partly[sel].mean():.3f} ({lo:.3f}-{hi:.3f}) | "
                     f"{relevant[sel].mean():.3f} ({lo2:.3f}-{hi2:.3f}) |")

    row("best match, always shown (before)", np.ones(len(best), bool))
    row(f"best match, shown at similarity >= {EVIDENCE_MIN_SIMILARITY} (now)", shown)
    lines += ["", "By the similarity of the best match:", "", "| similarity | duties | at least partly relevant | relevant |",
              "| --- | --- | --- | --- |"]
    for lo, hi in zip(BINS[:-1], BINS[1:]):
        m = (sim >= lo) & (sim < hi)
        if m.any():
            lines.append(f"| {lo:.2f}-{min(hi, 1.0):.2f} | {int(m.sum())} | {partly[m].mean():.3f} | "
                         f"{relevant[m].mean():.3f} |")
    changed = [i for i, r in enumerate(best) if (r["posting_id"], r["start"]) in alt]
    alt_partly = np.array([judged(alt[(best[i]["posting_id"], best[i]["start"])])[1] for i in changed])
    lines += ["", f"Tried and left out: the task-anchored pick differs from the best match for {len(changed)} of the "
              f"{len(best)} duties; on those, at least partly relevant {partly[changed].mean():.3f} (best match) "
              f"against {alt_partly.mean():.3f} (task-anchored), over all {len(best)}: "
              f"{partly.mean():.3f} against {(partly.sum() - partly[changed].sum() + alt_partly.sum()) / len(best):.3f}.",
              "", f"The threshold ({EVIDENCE_MIN_SIMILARITY}) was read off these same judgements (where the share "
              "judged at least partly relevant rises): the \"now\" row is in sample. Below it a duty is still scored; "
              "only its evidence is left out (`capability` null, `capability_similarity` in the per-unit output). "
              "Most duties of real postings have no capability statement close to them: the capability set, not "
              "the matching, limits the evidence."]
    publish("\n".join(lines) + "\n", args.output, logger)


if __name__ == "__main__":
    main()
