"""Postings/s of the Ray engine with 1 and 2 workers on N generated postings.

    python benchmarks/ray_scaling.py 2000 -o benchmarks/results/ray_scaling.md

Generates N postings (``generate_postings.py N --seed 0``: distinct postings, boilerplate
from 300 employers), starts a local Ray instance with one logical CPU per worker plus one
for Ray Data's read tasks, and scores them with :func:`exposure.jobs.ray.score_postings_ray`
with 1 worker, then 2. The scorer is the one of ``score-postings --no-assign --device cpu``;
each worker holds one CPU, so one torch thread, its own model and unit cache. Each run
starts a new pool: both start with cold unit caches and load the model in their workers,
and their ``seconds`` (from the summary) include that start. Run it on an otherwise idle
machine with at least two cores; it needs ``pip install -e ".[ray]"``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import generator  # noqa: E402
from exposure.jobs import RunOptions, require_ray, score_postings_ray  # noqa: E402
from report import machine  # noqa: E402

WORKERS = (1, 2)
#: What each worker scores with: no occupation assignment, on the CPU.
SCORER_OPTIONS = {"assign": False, "device": "cpu"}


def _run_all(postings: Path, folder: Path, chunk_size: int) -> list:
    """The summaries of one Ray run per worker count, on one local Ray instance."""
    ray = require_ray()
    ray.init(num_cpus=max(WORKERS) + 1, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    try:
        options = RunOptions(chunk_size=chunk_size, **SCORER_OPTIONS)  # each worker builds its scorer from them
        return [score_postings_ray(postings, folder / f"scores_{w}.parquet", options, num_workers=w,
                                   gpus_per_worker=0) for w in WORKERS]
    finally:
        ray.shutdown()


def _report(summaries: list, n: int, chunk_size: int, command: str) -> str:
    import ray
    import torch

    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    base = summaries[0]["this_run"]["postings_per_s"]
    lines = [
        "# Ray engine: postings/s with 1 and 2 workers",
        "",
        f"Machine: {machine()}, {ram:.0f} GiB; torch {torch.__version__}, ray {ray.__version__}.",
        "",
        f"{n:,} postings from `benchmarks/generate_postings.py {n} --seed 0`, batches of {chunk_size:,}; the scorer of "
        "`score-postings --no-assign --device cpu`, one CPU (one torch thread), model and unit cache per worker; "
        "a local Ray instance with one more logical CPU than workers, for Ray Data's read tasks. Seconds run from "
        "the start of the dataset to the last row written, the workers' start (model loading) included.",
        "",
        "| workers | seconds | postings/s | first rows after (s) | unit cache hit rate | vs 1 worker |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in summaries:
        run = s["this_run"]
        hit = run["cache"]["hit_rate"]
        lines.append(f"| {run['engine']['workers']} | {run['seconds']:.1f} | {run['postings_per_s']:.1f} | "
                     f"{run['first_rows_after_s']:.1f} | {'-' if hit is None else f'{hit:.1%}'} | "
                     f"{run['postings_per_s'] / base:.2f}x |")
    lines += ["", "Command:", "", "```bash", command, "```", ""]
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("n", nargs="?", type=int, default=2000, help="postings to generate and score")
    p.add_argument("-o", "--output", type=Path, default=ROOT / "benchmarks" / "results" / "ray_scaling.md",
                   help="the report (Markdown)")
    p.add_argument("--chunk-size", type=int, default=100, help="postings per batch sent to a worker")
    args = p.parse_args(argv)
    if args.n < 1 or args.chunk_size < 1:
        p.error("n and --chunk-size must be at least 1")
    command = shlex.join(["python", "benchmarks/ray_scaling.py", *(sys.argv[1:] if argv is None else argv)])
    with tempfile.TemporaryDirectory() as tmp:
        postings = Path(tmp) / "postings.parquet"
        generator().write(args.n, str(postings), seed=0)
        summaries = _run_all(postings, Path(tmp), args.chunk_size)
    args.output.write_text(_report(summaries, args.n, args.chunk_size, command), encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
