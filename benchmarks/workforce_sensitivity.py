"""How the share of workers with exposed tasks depends on the threshold and on the scores behind it.

    python benchmarks/workforce_sensitivity.py --data ../shared/data -o benchmarks/results/workforce_sensitivity.md

The headline statistic of Eloundou et al. (2023), the share of US workers whose occupation has at least 10 %
(or 50 %) of its tasks exposed, at the thresholds 10, 25 and 50 %, from: the human labels of the 715
labelled occupations, GPT-4's labels of the same tasks, the calibrated model (the labelled occupations out of
fold, as occupation tables score them; with the 90 % intervals `exposure workforce` reports), the same model
in sample, and the zero-shot rule (a task counts as exposed when its score is at least 0.5), each over BLS
OEWS May 2021 employment (`exposure.labour.workforce`), next to the published shares. One encoding of the
19,265 O*NET 27 tasks serves every model row (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Optional

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import publish  # noqa: E402

from exposure import ExposureModel  # noqa: E402
from exposure.io import read_batches  # noqa: E402
from exposure.labour import workforce  # noqa: E402
from exposure.occupations import load_tasks, score_occupations  # noqa: E402

logger = logging.getLogger("workforce_sensitivity")
THRESHOLDS = (0.1, 0.25, 0.5)
# Eloundou et al. (2023), abstract: about 80 % of workers with at least 10 % of tasks exposed, about 19 % with
# at least 50 % (human ratings, beta); no published figure at 25 %.
PUBLISHED = {0.1: 0.80, 0.5: 0.19}


def _shares(result) -> dict:
    rows = [r for r in result.task_shares.to_pylist() if r["measure"] == "beta"]
    return {r["threshold"]: r for r in rows}


def main(argv: Optional[list] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"), help="folder with the labelled data")
    ap.add_argument("-o", "--output", type=Path, help="write the Markdown report here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    tasks = load_tasks("27")
    model = ExposureModel(device="cpu")
    zero_shot = ExposureModel(model.encoder, calibrated=False)
    emb = model.encoder.encode(tasks["task"].to_pylist(), show_progress=False)
    table = score_occupations(model, "27", top_tasks=0, embeddings=emb)
    in_sample = (table.drop_columns(["exposure_low", "exposure_high", "beta"])
                 .append_column("beta", table["exposure_in_sample"]))
    in_sample = in_sample.set_column(in_sample.column_names.index("exposure"), "exposure", table["exposure_in_sample"])
    zs = zero_shot.score_embeddings(emb).to_arrow().select(["exposure"])
    for name in ("weight", "task_id", "soc_code"):
        zs = zs.add_column(0, name, tasks[name])
    labels = pa.Table.from_batches(list(read_batches(args.data / "task_labels_train.tsv", ["soc_code", "human_exposure"])))
    gpt4 = labels.set_column(labels.column_names.index("human_exposure"), "human_exposure", labels["gpt4_exposure"])

    runs = {
        "human labels, 715 occupations": workforce(table, tasks=labels, task_source="human labels", thresholds=THRESHOLDS),
        "GPT-4 labels, same tasks": workforce(table, tasks=gpt4, task_source="GPT-4 labels", thresholds=THRESHOLDS),
        "model, calibrated, out of fold (tables)": workforce(table, thresholds=THRESHOLDS),
        "model, calibrated, in sample": workforce(in_sample, thresholds=THRESHOLDS),
        "model, zero-shot (task score >= 0.5)": workforce(table, tasks=zs, task_source="zero-shot task scores",
                                                          thresholds=THRESHOLDS),
    }
    lines = ["# Workers by share of exposed tasks: thresholds and scores\n",
             "`python benchmarks/workforce_sensitivity.py --data ../shared/data`: the share of US workers (BLS OEWS "
             "May 2021, 140.9 M in 831 occupations; `exposure.labour.workforce`) whose occupation has at least "
             "10, 25 or 50 % of its tasks exposed, beta counting (an E1 task counts, an E2 task half; for the "
             "calibrated model each task its expected beta; for the zero-shot rule a task with score >= 0.5). "
             "The labels cover 715 occupations (79 % of workers); the model rows cover all. 90 % intervals: the "
             "occupations' own uncertainty carried through (`exposure_low` / `exposure_high`, "
             "[out_of_fold.md](out_of_fold.md)).\n",
             "| scores | workers covered | " + " | ".join(f">= {t:.0%}" for t in THRESHOLDS) + " |",
             "| --- | ---: | " + " | ".join("---:" for _ in THRESHOLDS) + " |",
             "| published (Eloundou et al. 2023) | | "
             + " | ".join(f"about {PUBLISHED[t]:.0%}" if t in PUBLISHED else "—" for t in THRESHOLDS) + " |"]
    for name, r in runs.items():
        s = _shares(r)
        covered = next(iter(s.values()))["workers_with_task_shares"]

        def cell(t):
            row = s[t]
            text = f"{100 * row['share_of_workers']:.1f} %"
            if row.get("share_low") is not None:
                text += f" [{100 * row['share_low']:.1f}, {100 * row['share_high']:.1f}]"
            return text

        lines.append(f"| {name} | {covered / 1e6:.1f} M | " + " | ".join(cell(t) for t in THRESHOLDS) + " |")
    cal = runs["model, calibrated, out of fold (tables)"]
    lines += ["", f"Employment-weighted mean `exposure` (calibrated, out of fold): {cal.overall['exposure']:.3f} "
              f"[{cal.overall['exposure_low']:.3f}, {cal.overall['exposure_high']:.3f}]; in sample "
              f"{runs['model, calibrated, in sample'].overall['exposure']:.3f}. The zero-shot rule is on no "
              "probability scale: its row depends on the 0.5 cut as much as on the work.", ""]
    publish("\n".join(lines), args.output, logger)


if __name__ == "__main__":
    main()
