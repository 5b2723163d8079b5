"""Task and occupation scores of the O*NET 27 catalogue for the workforce report (benchmarks/results/workforce.md).

    python benchmarks/workforce_scores.py /tmp/wfb     # -> /tmp/wfb/tasks27.parquet, /tmp/wfb/occ27.parquet

``exposure workforce`` needs occupation scores (``--scores``) and, for the shares of
workers by share of exposed tasks, task scores with their class probabilities
(``--task-scores``). This writes both from one encoding of the 19,265 O*NET 27 tasks
(about six minutes on a 2-core CPU), with the model's provenance in the occupation table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from exposure import ExposureModel  # noqa: E402
from exposure.io import with_provenance  # noqa: E402
from exposure.occupations import flag_labelled, load_tasks, occupation_table  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path, help="folder for tasks27.parquet and occ27.parquet")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    model = ExposureModel(device="cpu")
    tasks = load_tasks("27")
    # Tasks of the occupations whose labels trained the head are scored out of fold, as occupation tables do.
    scores = model.score_tasks(tasks["task"].to_pylist(), show_progress=True,
                               occupations=tasks["soc_code"].to_pylist()).to_arrow().drop_columns(["text", "held_out"])
    for name in ("weight", "task_id", "soc_code"):
        scores = scores.add_column(0, name, tasks[name])
    pq.write_table(scores, args.out / "tasks27.parquet")
    occ = flag_labelled(occupation_table(scores, "27", top_tasks=0), model.labelled_occupations)
    occ = occ.cast(with_provenance(occ.schema, {**model.provenance(), "command": "occupations", "release": "27"}))
    pq.write_table(occ, args.out / "occ27.parquet")
    print(f"wrote {args.out / 'tasks27.parquet'} and {args.out / 'occ27.parquet'} in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
