"""Transitions that move people up: the article's jobs, with the default filters and without.

For each source occupation, the top 10 suggestions with lower ``exposure`` (a) with every filter off and (b) under
the defaults (projected growth >= 0 %, median wage >= the source's, no technology score above the source's, at
most one O*NET job zone above the source's):
how many of (a) are moves up (growth >= 0 and wage >= the source's), how many suggestions (b) finds, the mean
similarity score of each top 10, and (b)'s first three. Scores: the default calibrated model's O*NET 29.1 table
(cached).

    python benchmarks/transitions_moves_up.py --report benchmarks/results/transitions_up.md
"""

from __future__ import annotations

import argparse
import logging
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from _common import publish  # noqa: E402

JOBS = {"51-2092.00": "assembler", "53-7064.00": "hand packer", "53-7065.00": "warehouse picker",
        "53-3033.00": "delivery driver", "43-3031.00": "bookkeeping clerk", "43-9041.00": "claims processor",
        "43-4051.00": "customer service representative"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--report", type=Path)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from exposure import ExposureModel
    from exposure.labour.transitions import TransitionIndex, transitions
    from exposure.occupations import OccupationAssigner, cached_occupation_scores

    start = time.perf_counter()
    model = ExposureModel(device="cpu")
    assigner = OccupationAssigner(model.encoder)
    index = TransitionIndex.from_encoder(assigner=assigner)
    scores = cached_occupation_scores(model, "29.1")
    lines = ["# Transitions that move people up", "",
             "Top 10 suggestions with lower `exposure`, every filter off against the defaults (growth >= 0 %, wage >= "
             "the source's, no technology score above the source's, at most one job zone up). Command: `python "
             "benchmarks/transitions_moves_up.py --report benchmarks/results/transitions_up.md`; machine: "
             f"{platform.machine()}, Python {platform.python_version()}.", "",
             "| source | filters off: moves up in top 10 | mean score | defaults: found | mean score | first three "
             "under the defaults |", "| --- | ---: | ---: | ---: | ---: | --- |"]
    shares = []
    for code, name in JOBS.items():
        off = transitions(code, scores, index=index, top=10, min_growth=None, min_wage_ratio=None,
                          any_technology=True, max_zone_step=None, max_items=0)
        on = transitions(code, scores, index=index, top=10, max_items=0)
        wage0 = off["from_median_wage_2022"][0].as_py()
        growth = np.asarray(off["employment_change_percent"].to_numpy(zero_copy_only=False), dtype=float)
        wage = np.asarray(off["median_wage_2022"].to_numpy(zero_copy_only=False), dtype=float)
        with np.errstate(invalid="ignore"):
            up = (growth >= 0) & (wage >= wage0)
        shares.append(up.mean() if len(up) else np.nan)
        first = "; ".join(f"{t} ({w:,.0f} $, {g:+.1f} %)" for t, w, g in
                          zip(on["title"].to_pylist()[:3], on["median_wage_2022"].to_pylist()[:3],
                              on["employment_change_percent"].to_pylist()[:3]))
        lines.append(f"| {name} ({code}, {off['from_title'][0].as_py()}) | "
                     f"{int(up.sum())} / {len(up)} | {np.mean(off['score'].to_numpy()):.3f} | {on.num_rows} | "
                     f"{np.mean(on['score'].to_numpy()) if on.num_rows else float('nan'):.3f} | {first} |")
    lines += ["", f"Filters off, {np.nanmean(shares):.0%} of the top-10 suggestions are moves up on average; under the "
              "defaults every suggestion is one, at a lower similarity score. Run time "
              f"{time.perf_counter() - start:.0f} s.", ""]
    publish("\n".join(lines), args.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
