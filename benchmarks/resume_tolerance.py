"""How far a resumed ``score-postings`` run's rows are from an uninterrupted run's, per encoder dtype.

A resumed run starts with an empty unit cache and encodes its units in other batches than the
uninterrupted run did; under bfloat16 a unit's embedding depends slightly on the other texts of
its encoder batch (the batch's padded length changes the kernels' summation order). For each
dtype this scores the same generated postings twice with the same ``--chunk-size``: once through,
once stopped after the first part and resumed, and reports the largest differences per column.

    python benchmarks/resume_tolerance.py --postings 200 --chunk-size 50 -o benchmarks/results/resume.md

Occupation assignment is off (``--no-assign``): it reads the same embeddings, and leaving it out
keeps the run to minutes without the occupation indexes.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import publish  # noqa: E402
from report import machine  # noqa: E402

logger = logging.getLogger("resume_tolerance")

COLUMNS = ("exposure", "share_exposed", "top_duty_1_exposure")


def _stop_after_first_part(local_module):
    real = local_module.write_table_atomic
    calls = []

    def write(table, path):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt("stopped after the first part")
        return real(table, path)

    return real, write


def measure(postings: Path, folder: Path, dtype: str, chunk_size: int) -> dict:
    from exposure.jobs import RunOptions, score_postings_file
    from exposure.jobs import local as local_module

    options = RunOptions(chunk_size=chunk_size, assign=False, dtype=dtype, device="cpu")
    scorer = options.build_scorer()
    through = folder / f"through-{dtype}.parquet"
    score_postings_file(postings, through, options, scorer=scorer)
    resumed = folder / f"resumed-{dtype}.parquet"
    real, stop = _stop_after_first_part(local_module)
    local_module.write_table_atomic = stop
    try:
        score_postings_file(postings, resumed, options, scorer=options.build_scorer())
    except KeyboardInterrupt:
        pass
    finally:
        local_module.write_table_atomic = real
    score_postings_file(postings, resumed, options, scorer=options.build_scorer(), resume=True)
    a, b = pq.read_table(through), pq.read_table(resumed)
    out = {"status_same": a["status"].to_pylist() == b["status"].to_pylist(),
           "top_duty_1_same": a["top_duty_1"].to_pylist() == b["top_duty_1"].to_pylist()}
    for name in COLUMNS:
        x = a[name].to_numpy(zero_copy_only=False).astype(np.float64)
        y = b[name].to_numpy(zero_copy_only=False).astype(np.float64)
        both = np.isfinite(x) & np.isfinite(y)
        out[name] = float(np.max(np.abs(x[both] - y[both]))) if both.any() else 0.0
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--postings", type=int, default=200, help="generated realistic postings")
    ap.add_argument("--chunk-size", type=int, default=50)
    ap.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"])
    ap.add_argument("-o", "--output", type=Path, help="write a Markdown table here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from generate_postings import main as generate

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        postings = folder / "postings.parquet"
        generate([str(args.postings), "-o", str(postings), "--seed", "7"])
        rows = {d: measure(postings, folder, d, args.chunk_size) for d in args.dtypes}
    lines = ["# A resumed run against an uninterrupted one\n",
             f"`python benchmarks/resume_tolerance.py --postings {args.postings} --chunk-size {args.chunk_size}`: "
             f"{args.postings} realistic generated postings (seed 7), `--no-assign`, stopped after the first "
             f"part and resumed; largest absolute difference per column. Machine: {machine()}, CPU only.\n",
             "| dtype | statuses equal | top duty equal | " + " | ".join(COLUMNS) + " |",
             "| --- | --- | --- | " + " | ".join("---" for _ in COLUMNS) + " |"]
    for d, r in rows.items():
        lines.append(f"| {d} | {r['status_same']} | {r['top_duty_1_same']} | "
                     + " | ".join(f"{r[c]:.2e}" for c in COLUMNS) + " |")
    publish("\n".join(lines) + "\n", args.output, logger)


if __name__ == "__main__":
    main()
