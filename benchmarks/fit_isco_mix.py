"""Choose how much of a posting's own match to the ISCO-08 titles and task lists goes into its ISCO-08 groups.

``score-postings --taxonomy isco08`` mixes the ISCO-08 groups its likeliest O*NET-SOC occupations reach
(through SOC 2010) with a softmax over the unit groups of the posting's title similarity to their titles and its
duties' best match among their ILO task statements (``exposure.occupations.isco_codes``: ``NATIVE_WEIGHT``,
``NATIVE_TITLE_WEIGHT``, ``NATIVE_TEMPERATURE``). This script scores every setting of a 3 x 3 x 3 grid, and the
crosswalk alone, on the English real postings of the **train split** whose hand-coded O*NET-SOC occupation the
crosswalk reaches (``benchmarks/data/real_postings/soc.jsonl``; an ISCO-08 group counts as right when it is one
of the coded occupation's groups at that level), and writes the table. The test split is not read.

    python benchmarks/fit_isco_mix.py --report benchmarks/results/isco_postings.md
"""

from __future__ import annotations

import argparse
import itertools
import json
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

GRID = {"weight": (0.2, 0.35, 0.5), "title_weight": (0.3, 0.5, 0.7), "temperature": (0.02, 0.03, 0.05)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--report", type=Path)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import real_postings

    from exposure.occupations import OccupationAssigner
    from exposure.occupations.assign import normalize_title
    from exposure.occupations.isco_codes import (ISCO_CANDIDATES, NATIVE_TEMPERATURE, NATIVE_TITLE_WEIGHT,
                                                 NATIVE_WEIGHT, IscoIndex, isco_groups, soc_to_isco08)
    from exposure.postings import PostingScorer
    from exposure.scoring import ExposureModel

    start = time.perf_counter()
    coded = {r["posting_id"]: r["soc_code"]
             for r in map(json.loads, open(ROOT / "benchmarks/data/real_postings/soc.jsonl", encoding="utf-8"))}
    table = soc_to_isco08()
    posts = [p for p in real_postings.load() if p["split"] == "train" and table.get(coded.get(p["id"], "")[:7])]
    gold = [{g for g, _ in table[coded[p["id"]][:7]]} for p in posts]
    model = ExposureModel(device="cpu")
    assigner = OccupationAssigner(model.encoder)
    scorer = PostingScorer(model, assigner=assigner, multilingual=False)
    titles = [p["title"] for p in posts]
    got = scorer.score(titles, [p["text"] for p in posts], units=True)
    units = got.units.to_pandas()
    duties = units[units.label == "DUTY"]
    duty_emb = scorer.encoder.encode(duties.text.tolist())
    owners = duties.posting.to_numpy().astype(np.int64)
    queries = assigner.title_queries(titles)
    title_emb = scorer.encoder.encode(queries)
    res = assigner.assign_embeddings(queries, title_emb, duty_emb, owners, k=ISCO_CANDIDATES)
    codes = np.asarray(res.codes, dtype=object)
    conf = np.asarray(res.confidence, dtype=np.float32)
    has_title = np.array([bool(normalize_title(q)) for q in queries])
    index = IscoIndex(model.encoder)

    def accuracy(groups) -> list:
        out = []
        for d in (1, 2, 4):
            got_d = groups.codes[d] if d < 4 else list(groups.unit_codes[:, 0])
            out.append(np.mean([c is not None and c in {g[:d] for g in gold_i} for c, gold_i in zip(got_d, gold)]))
        return out

    rows = [("crosswalk alone", "", "", accuracy(isco_groups(codes, conf)))]
    for w, tw, temp in itertools.product(*GRID.values()):
        native = index.distribution(title_emb, has_title, duty_emb, owners, title_weight=tw, temperature=temp)
        rows.append((w, tw, temp, accuracy(isco_groups(codes, conf, native=native, native_weight=w))))
    best = max(rows[1:], key=lambda r: (r[3][1], r[3][2]))
    lines = ["# ISCO-08 groups for postings: the native part's settings", "",
             f"{len(posts)} English real postings of the train split whose hand-coded occupation the SOC -> ISCO-08 "
             "crosswalk reaches; share whose likeliest group at each level is one of the coded occupation's. "
             f"Command: `python benchmarks/fit_isco_mix.py --report benchmarks/results/isco_postings.md`; machine: "
             f"{platform.machine()}, Python {platform.python_version()}.", "",
             "| native weight | title weight | temperature | 1 digit | 2 digits | 4 digits |",
             "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for w, tw, temp, a in rows:
        mark = " **(best)**" if (w, tw, temp) == best[:3] else ""
        lines.append(f"| {w}{mark} | {tw} | {temp} | {a[0]:.3f} | {a[1]:.3f} | {a[2]:.3f} |")
    lines += ["", f"Shipped: native weight {NATIVE_WEIGHT}, title weight {NATIVE_TITLE_WEIGHT}, temperature "
              f"{NATIVE_TEMPERATURE} (the best by the sub-major group, then unit groups). Run time "
              f"{time.perf_counter() - start:.0f} s.", ""]
    publish("\n".join(lines), args.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
