"""End-to-end speed of posting scoring: postings/s with a cold and a warm unit cache, and peak memory.

    EXPOSURE_CACHE_DIR=... python -m pytest benchmarks/bench_pipeline.py --benchmark-only -s
    EXPOSURE_BENCH_POSTINGS=10000 (default) sets the number of postings generated (seed 0);
    EXPOSURE_BENCH_POSTINGS_FILE=postings.parquet scores that file (id, title, description)
    instead, e.g. one made once by ``generate_postings.py`` for several runs;
    EXPOSURE_BENCH_DEVICE (default cpu) and EXPOSURE_BENCH_DTYPE (default: score-postings' own,
    ``auto``: bfloat16 on a CPU with AVX-512 BF16 or AMX, else float32; float16 on CUDA) pick where
    and how units are encoded.

* ``test_pipeline_cold``: a fresh :class:`~exposure.postings.PostingScorer` (empty unit
  cache), the one ``exposure score-postings --device DEVICE --dtype DTYPE`` builds (with
  the O*NET assigner), scores the generated postings in chunks of 1,000, as the CLI does.
* ``test_pipeline_warm``: the same scorer over the same postings again: every unit
  and title is in the cache, so only splitting, the cheap stage, the classifier,
  the assigner's searches and the aggregation remain.
* ``test_job_workers[W]``: the batch job (:func:`exposure.jobs.score_postings_file`) with a fresh scorer
  (cold cache) and ``W`` text workers (0: everything in this process), postings/s, the
  largest worker's peak memory and where the job's time went (its summary's ``seconds_by_step``);
  W in EXPOSURE_BENCH_WORKERS (default "0 1 2").
* ``test_job_warm[W]``: the same batch job with the warm scorer of ``test_pipeline_warm`` (W >= 1 of
  EXPOSURE_BENCH_WORKERS): the whole job, text workers included, when nothing is encoded. Its cache hit rate
  is reported: the default unit cache (100,000 entries) holds the units of about 9,000 realistic postings, so
  over more postings than that a second pass is not warm.
* ``test_text_stage[W]``: the text stage alone, as the batch job runs it: ``W`` text worker processes
  (:class:`~exposure.jobs.workers.TextWorkers`, already started) prepare the postings in chunks of 1,000
  for a caller that only takes the results; postings/s. W in EXPOSURE_BENCH_TEXT_WORKERS (default
  "1 2"). Where the model runs on a GPU this stage is what the workers must keep up with; on a CPU
  the encoder shares the cores with it.
* ``test_cli_peak_memory``: ``exposure score-postings`` in a subprocess; its peak RSS
  (``os.wait4``'s ``ru_maxrss``: the command and its text workers) and wall time.

The postings are ``generate_postings.py``'s realistic style (EXPOSURE_BENCH_STYLE=templated for the
old one); the front end's cost per stage is ``bench_frontend.py``.

The assigner's title and task embeddings are read from the disk cache
(``EXPOSURE_CACHE_DIR``), built at first use when absent (minutes), outside the timings.
Each test prints one line and stores its figures in ``benchmark.extra_info``.
"""

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from _common import generator

ROOT = Path(__file__).resolve().parents[1]
N = int(os.environ.get("EXPOSURE_BENCH_POSTINGS", "10000"))
POSTINGS_FILE = os.environ.get("EXPOSURE_BENCH_POSTINGS_FILE") or None
DEVICE = os.environ.get("EXPOSURE_BENCH_DEVICE", "cpu")
DTYPE = os.environ.get("EXPOSURE_BENCH_DTYPE") or None
STYLE = os.environ.get("EXPOSURE_BENCH_STYLE", "realistic")
# each count once ("1 $(( $(nproc) - 1 ))" is "1 1" on 2 cores)
WORKERS = list(dict.fromkeys(int(w) for w in os.environ.get("EXPOSURE_BENCH_WORKERS", "0 1 2").split()))
TEXT_WORKERS = list(dict.fromkeys(int(w) for w in os.environ.get("EXPOSURE_BENCH_TEXT_WORKERS", "1 2").split()))
CHUNK = 1000
_state = {}


@pytest.fixture(scope="module")
def postings(tmp_path_factory):
    """EXPOSURE_BENCH_POSTINGS_FILE when set, else N postings generated in this process (seed 0)."""
    if POSTINGS_FILE:
        path = Path(POSTINGS_FILE)
        if path.suffix.lower() not in (".parquet", ".pq") or not path.is_file():
            raise ValueError(f"EXPOSURE_BENCH_POSTINGS_FILE must be an existing Parquet file, got {path}; "
                             "make one with benchmarks/generate_postings.py N -o postings.parquet")
        return path
    path = tmp_path_factory.mktemp("pipeline") / f"postings_{N}.parquet"
    generator().write(N, str(path), seed=0, style=STYLE)
    return path


def _rows(path):
    return pq.ParquetFile(path).metadata.num_rows


def _new_scorer():
    """The scorer that ``score-postings --device DEVICE [--dtype DTYPE]`` builds, so the two cannot drift apart."""
    from exposure.cli import _run_options, build_parser

    options = ["--device", DEVICE] + (["--dtype", DTYPE] if DTYPE else [])
    s = _run_options(build_parser().parse_args(["score-postings", "unused.parquet", "-o", "unused.parquet",
                                                *options])).build_scorer()
    s.occupation_lookup()  # the fallback's occupation scores: once per model, outside the timings
    return s


@pytest.fixture(scope="module")
def scorer():
    return _new_scorer()


def _score_all(scorer, path):
    units = kept = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=CHUNK, columns=["title", "description"]):
        r = scorer.score(batch.column("title").to_pylist(), batch.column("description").to_pylist())
        units += int(r.n_units.sum())
        kept += r.kept_units
    return units, kept


def _run(benchmark, scorer, postings, label):
    scorer.cache.reset_stats()
    t0 = time.perf_counter()
    units, kept = benchmark.pedantic(_score_all, args=(scorer, postings), rounds=1, iterations=1)
    elapsed, n = time.perf_counter() - t0, _rows(postings)
    info = {"postings": n, "device": DEVICE, "dtype": str(scorer.model.encoder.dtype).replace("torch.", ""),
            "seconds": round(elapsed, 1), "postings_per_s": round(n / elapsed, 1),
            "cache_hit_rate": round(scorer.cache.hit_rate, 4), "units": units, "prefilter_kept_share":
            round(kept / units, 4), "peak_rss_mb_this_process": round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    benchmark.extra_info.update(info)
    print(f"\n{label}: {json.dumps(info)}")
    return info


def test_pipeline_cold(benchmark, scorer, postings):
    _state["cold"] = _run(benchmark, scorer, postings, "cold cache")


def test_pipeline_warm(benchmark, scorer, postings):
    if "cold" not in _state:
        _score_all(scorer, postings)  # fill the cache when run alone
    _state["warm"] = _run(benchmark, scorer, postings, "warm cache")


def _job(benchmark, scorer, postings, out, workers, label):
    """The batch job on ``postings`` with ``scorer`` and ``workers`` text workers, its figures stored and printed."""
    from exposure.jobs import RunOptions, score_postings_file

    def run():
        return score_postings_file(postings, out, RunOptions(chunk_size=CHUNK), scorer=scorer, workers=workers)

    summary = benchmark.pedantic(run, rounds=1, iterations=1)
    this = summary["this_run"]
    info = {"postings": summary["rows"], "workers": workers, "device": DEVICE,
            "dtype": str(scorer.model.encoder.dtype).replace("torch.", ""), "seconds": this["seconds"],
            "postings_per_s": this["postings_per_s"], "cache_hit_rate": this["cache"]["hit_rate"],
            "peak_rss_mb_this_process": this["peak_rss_mb"], "worker_peak_rss_mb": this.get("worker_peak_rss_mb"),
            "cores": len(os.sched_getaffinity(0)), "seconds_by_step": this["seconds_by_step"]}
    benchmark.extra_info.update(info)
    print(f"\n{label}: {json.dumps(info)}")
    return info


@pytest.mark.parametrize("workers", WORKERS)
def test_job_workers(benchmark, postings, tmp_path, workers):
    scorer = _new_scorer()  # cold cache; the model and indexes load outside the timing
    _state[f"workers{workers}"] = _job(benchmark, scorer, postings, tmp_path / "scores.parquet", workers,
                                       f"job, {workers} workers")


@pytest.mark.parametrize("workers", [w for w in WORKERS if w > 0])
def test_job_warm(benchmark, scorer, postings, tmp_path, workers):
    if "cold" not in _state and "warm" not in _state:
        _score_all(scorer, postings)  # fill the cache when run alone
    _state[f"warm_workers{workers}"] = _job(benchmark, scorer, postings, tmp_path / "scores.parquet", workers,
                                            f"job, warm cache, {workers} workers")


@pytest.mark.parametrize("workers", TEXT_WORKERS)
def test_text_stage(benchmark, postings, workers):
    from exposure.jobs.workers import TextWorkers
    from exposure.postings import UnitClassifier

    texts = pq.read_table(postings, columns=["description"]).column("description").to_pylist()
    chunks = [(a, texts[a:a + CHUNK]) for a in range(0, len(texts), CHUNK)]
    with TextWorkers(UnitClassifier.load(), workers=workers) as pool:
        list(pool.map([(None, ["Duties:\n- Load trucks"] * workers)]))  # every worker started, outside the timing

        def run():
            return sum(len(prepared) for _, prepared in pool.map(chunks))

        t0 = time.perf_counter()
        done = benchmark.pedantic(run, rounds=1, iterations=1)
        elapsed = time.perf_counter() - t0
    assert done == len(texts)
    info = {"postings": len(texts), "text_workers": workers, "seconds": round(elapsed, 2),
            "postings_per_s": round(len(texts) / elapsed, 1), "cores": len(os.sched_getaffinity(0))}
    benchmark.extra_info.update(info)
    print(f"\ntext stage, {workers} workers: {json.dumps(info)}")


def test_cli_peak_memory(benchmark, postings, tmp_path):
    out = tmp_path / "scores.parquet"
    cmd = [sys.executable, "-m", "exposure", "score-postings", str(postings), "-o", str(out), "--id-column", "id",
           "--title-column", "title", "--text-column", "description", "--chunk-size", str(CHUNK), "-q"]

    usage = {}

    def run():
        t0 = time.perf_counter()
        with open(tmp_path / "stderr.txt", "wb") as err:
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
            # wait4: the peak of this command and the workers it waited for, not of this process's other children
            _, status, usage["rusage"] = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        if proc.returncode != 0:
            raise RuntimeError(f"score-postings failed: {(tmp_path / 'stderr.txt').read_text()[-2000:]}")
        return time.perf_counter() - t0

    wall = benchmark.pedantic(run, rounds=1, iterations=1)
    summary = json.loads(out.with_name(out.name + ".summary.json").read_text())
    info = {"postings": _rows(postings), "wall_s": round(wall, 1),
            "peak_rss_mb": round(usage["rusage"].ru_maxrss / 1024, 1),
            "peak_rss_mb_summary": summary["this_run"]["peak_rss_mb"],
            "rows_written": summary["rows_written"], "cache_hit_rate": summary["this_run"]["cache"]["hit_rate"],
            "prefilter_kept_share": summary["this_run"]["prefilter_kept_share"]}
    benchmark.extra_info.update(info)
    print(f"\nCLI: {json.dumps(info)}")
    assert summary["rows_written"] == info["postings"] and info["peak_rss_mb"] < 2048
