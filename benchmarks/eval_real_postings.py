"""The occupation assignment on real postings against their hand codes (``benchmarks/data/real_postings``).

    python benchmarks/eval_real_postings.py -o benchmarks/results/real_postings.md

Scores every hand-coded posting as ``exposure score-postings`` does (title and text, the default
occupation assigner, CPU) and reports, per split and source, how often the hand code's 6-digit SOC
occupation is the top code and among the top three, with 95 % bootstrap intervals over postings, and the
expected calibration error of the top confidence. The split is the fixed posting-level one of
``real_postings.py``; nothing here is fitted.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Optional

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_postings  # noqa: E402
from _common import publish  # noqa: E402

from exposure.stats import bootstrap_ci, reliability  # noqa: E402

logger = logging.getLogger("eval_real_postings")


def main(argv: Optional[list] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", type=Path, help="write the Markdown report here")
    ap.add_argument("--dtype", default="float32", help="encoder dtype (float32: the reference scores)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from exposure.jobs import RunOptions

    codes = {r["posting_id"]: r["soc_code"] for r in real_postings.read_labels("soc.jsonl")}
    posts = real_postings.by_id()
    ids = sorted(codes)
    scorer = RunOptions(device="cpu", dtype=args.dtype).build_scorer()
    top = []
    for a in range(0, len(ids), 200):
        chunk = ids[a:a + 200]
        got = scorer.score([posts[i]["title"] for i in chunk], [posts[i]["text"] for i in chunk])
        top += got.occupations
    rows = []
    for i, occ in zip(ids, top):
        want = codes[i][:7]
        names = [c[:7] for c, _, _ in occ]
        rows.append({"split": posts[i]["split"], "source": posts[i]["source"], "top1": names[:1] == [want],
                     "top3": want in names[:3], "conf": occ[0][2] if occ else 0.0})
    lines = ["# Occupation assignment on hand-coded real postings\n",
             f"`python benchmarks/eval_real_postings.py --dtype {args.dtype}`: {len(ids):,} postings of "
             "`benchmarks/data/real_postings/soc.jsonl` (guide version 1), title and text, the default assigner, "
             "CPU; a posting counts as right when the hand code's 6-digit SOC occupation is the top code "
             "(top-1) or among the first three (top-3). 95 % bootstrap intervals over postings.\n",
             "| split | source | postings | top-1 | top-3 | ECE of the top confidence |",
             "| --- | --- | --- | --- | --- | --- |"]
    for split in ("test", "train"):
        for source in ("all", *real_postings.SOURCES):
            sel = [r for r in rows if r["split"] == split and source in ("all", r["source"])]
            t1 = np.array([r["top1"] for r in sel], float)
            t3 = np.array([r["top3"] for r in sel], float)
            conf = np.array([r["conf"] for r in sel], float)
            postings = np.arange(len(sel))  # each posting is its own group
            lo1, hi1 = bootstrap_ci(lambda idx: t1[idx].mean(), postings)
            lo3, hi3 = bootstrap_ci(lambda idx: t3[idx].mean(), postings)
            lines.append(f"| {split} | {source} | {len(sel)} | {t1.mean():.3f} ({lo1:.3f}-{hi1:.3f}) | "
                         f"{t3.mean():.3f} ({lo3:.3f}-{hi3:.3f}) | {reliability(conf, t1)['ece']:.3f} |")
    publish("\n".join(lines) + "\n", args.output, logger)


if __name__ == "__main__":
    main()
