"""The occupation assignment on real postings against their hand codes (``benchmarks/data/real_postings``).

    python benchmarks/eval_real_postings.py -o benchmarks/results/real_postings.md

Scores every hand-coded posting as ``exposure score-postings`` does (title and text, the default
occupation assigner, CPU) and with its title alone, and reports, per split and source, how often the hand
code's 6-digit SOC occupation is the top code and among the top three (the codes as the output lists them,
cut to 6 digits), with 95 % bootstrap intervals over postings, and the expected calibration error of the top
confidence against the hand O*NET-SOC code itself (the code the confidence is about). The split is the fixed posting-level one of ``real_postings.py``; nothing
here is fitted (the assigner's temperatures, prior weights and calibration were fitted on the train split by
``fit_assign_postings.py``: only the test split's figures are out of sample).
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

    codes, posts = real_postings.coded(), real_postings.by_id()
    ids = sorted(codes)
    scorer = RunOptions(device="cpu", dtype=args.dtype).build_scorer()
    top, title_only = [], []
    for a in range(0, len(ids), 200):
        chunk = ids[a:a + 200]
        got = scorer.score([posts[i]["title"] for i in chunk], [posts[i]["text"] for i in chunk])
        top += got.occupations
        title_only += scorer.assigner.assign([posts[i]["title"] for i in chunk], k=3).tolist()
    rows = []
    for basis, found in (("title and text", top), ("title only", title_only)):
        for i, occ in zip(ids, found):
            want = codes[i][:7]
            names = [c[:7] for c, _, _ in occ]
            rows.append({"split": posts[i]["split"], "source": posts[i]["source"], "basis": basis,
                         "top1": names[:1] == [want], "top3": want in names[:3], "conf": occ[0][2] if occ else 0.0,
                         "exact": bool(occ) and occ[0][0] == codes[i]})
    lines = ["# Occupation assignment on hand-coded real postings\n",
             f"`python benchmarks/eval_real_postings.py --dtype {args.dtype}`: {len(ids):,} postings of "
             "`benchmarks/data/real_postings/soc.jsonl` (guide version 1), title and text (and title only), the "
             "default assigner, CPU; a posting counts as right when the hand code's 6-digit SOC occupation is the "
             "top code (top-1) or among the first three (top-3); the top confidence is that of the O*NET-SOC code "
             "named, checked against the hand code itself (ECE). 95 % bootstrap intervals over postings. The "
             "assigner was fitted on the train split (`fit_assign_postings.py`): only the test rows are out of "
             "sample.\n",
             "| split | basis | source | postings | top-1 | top-3 | ECE of the top confidence (O*NET code) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    cells = [(split, basis, source) for split in ("test", "train") for basis in ("title and text", "title only")
             for source in (("all", *real_postings.SOURCES) if basis == "title and text" else ("all",))]
    for split, basis, source in cells:
        sel = [r for r in rows if r["split"] == split and r["basis"] == basis and source in ("all", r["source"])]
        t1 = np.array([r["top1"] for r in sel], float)
        t3 = np.array([r["top3"] for r in sel], float)
        conf = np.array([r["conf"] for r in sel], float)
        exact = np.array([r["exact"] for r in sel], float)
        postings = np.arange(len(sel))  # each posting is its own group
        lo1, hi1 = bootstrap_ci(lambda idx: t1[idx].mean(), postings)
        lo3, hi3 = bootstrap_ci(lambda idx: t3[idx].mean(), postings)
        lines.append(f"| {split} | {basis} | {source} | {len(sel)} | {t1.mean():.3f} ({lo1:.3f}-{hi1:.3f}) | "
                     f"{t3.mean():.3f} ({lo3:.3f}-{hi3:.3f}) | {reliability(conf, exact)['ece']:.3f} |")
    publish("\n".join(lines) + "\n", args.output, logger)


if __name__ == "__main__":
    main()
