"""Score a file of job postings on a Ray cluster, with the output of the local ``score-postings``.

    exposure score-postings postings.parquet -o scores.parquet --engine ray --address auto --num-workers 8

Ray is an optional extra: ``pip install "exposure[ray]"`` (Ray Data). How it works:

1. This process, the driver, does the local job's cheap checks
   (:meth:`~exposure.jobs.local.BatchJob.check`: formats, columns, output) and joins the
   cluster (``address``; without one ``$RAY_ADDRESS``, else a Ray instance on this machine).
2. Ray Data reads the input: Parquet, CSV/TSV with the local reader's pyarrow options
   (:func:`exposure.io.csv_options`), JSON Lines as lines that the workers parse as the
   local reader does (a malformed line is a row with status ``invalid_json``), and cuts it
   into blocks of ``chunk_size`` rows (a block goes to one worker whole).
3. ``map_batches`` hands batches of ``chunk_size`` rows to a fixed pool of ``num_workers``
   actors. Each actor builds its scorer once (from the run's
   :class:`~exposure.jobs.options.RunOptions`, or by calling ``scorer()``), so the model, its unit cache and the
   occupation indexes stay loaded for the whole run, and holds ``cpus_per_worker`` CPUs
   (its torch threads) and ``gpus_per_worker`` GPUs. For every input row it returns one
   row: the id and title, then the posting's scores, or only a status for a row it does not
   score (``missing_id``, ``invalid_json``, ``duplicate_id`` for an id repeated in the batch).
4. The dataset keeps the input order (``preserve_order``), so the driver receives the
   rows in input order whichever worker scored them. It numbers them (``row``), marks
   the later occurrences of ids seen in earlier batches ``duplicate_id`` (the local
   engine's 64-bit id hashes, 8 bytes per id) and writes ``OUTPUT``, ``OUTPUT.rejected.parquet``
   and ``OUTPUT.summary.json`` with the local engine's code. Schema, statuses, row numbers
   and the rule "one row per distinct non-empty id, the first occurrence's" are the local
   engine's; the scores equal the local engine's up to float rounding (each worker encodes
   its texts in other batches than one process would).

Faults: Ray Data runs an actor pool with ``max_restarts=-1`` and ``max_task_retries=-1``
unless told otherwise (``ActorPoolMapOperator``, since Ray 2.4): a worker that dies is
replaced, loads the model again, and the batches it held are scored again. (Passing these
options through ``map_batches(**ray_remote_args)`` is deprecated: Ray 2.60 warns that it
goes in 2.64; so the defaults are used, and ``tests/jobs/test_ray.py`` kills a worker
to check them.) A batch's
rows enter the dataset only when its task succeeds and their place is fixed by the input,
so a run in which a worker is killed writes the same rows as one in which none is. A batch
that kills its worker every time is retried without end. The driver holds the run: if it
dies, start again (there is no ``--resume`` here; the local engine has one).

Limits: a row whose id repeats one of an earlier batch is scored before the driver drops
it (a worker sees only its batch). Ray Data's read tasks need a CPU that the actors do not
hold (a fixed pool on every CPU hangs, ray-project/ray#44687), so the pool leaves one CPU
of the cluster free. Input and output paths must be the same on every node (a shared
filesystem). A JSON Lines file is read whole into one task's memory; prefer Parquet for
inputs of many gigabytes.

Example:
    >>> from exposure import ExposureModel, PostingScorer
    >>> def make_scorer():                              # runs once in each worker
    ...     return PostingScorer(ExposureModel(device="auto"), assigner="default")
    >>> summary = score_postings_ray("postings.parquet", "scores.parquet", scorer=make_scorer,
    ...                              address="auto", num_workers=4)   # doctest: +SKIP
    >>> summary["rows_written"]                                        # doctest: +SKIP
"""

from __future__ import annotations

import functools
import gzip
import io
import itertools
import logging
import json
import math
import sys
import time
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np
import pyarrow as pa

from ..io import csv_options, decode_lines, with_provenance
from ..postings.scorer import PostingScorer
from .local import BatchJob, PathLike, model_record
from .options import RunOptions
from .output import Failures, JobFailedError, output_schema, peak_rss_mb, rows_table, run_stats, score_chunk
from .rows import REJECTED_STATUSES, IdSet, arrow_rows, count_rows, id_status, parse_jsonl_line

logger = logging.getLogger(__name__)

__all__ = ["score_postings_ray", "require_ray"]

# Per-batch counters of a worker (JSON), on the first row of each batch it returns: they add up
# correctly however Ray Data splits or merges the blocks on the way to the driver.
_STATS = "_batch_stats"
_COUNTERS = ("scored", "units", "kept", "hits", "misses", "failed_chunks", "error_rows")


def require_ray():
    """The ``ray`` module with Ray Data, or an ``ImportError`` that says how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"the ray engine needs Ray Data ({exc}): pip install 'exposure[ray]' "
                          "or pip install 'ray[data]>=2.43'") from None
    return ray


class _ScoreBatches:
    """A Ray Data actor: builds its scorer once, then scores batches, one output row per input row."""

    def __init__(self, options: RunOptions, make_scorer: Optional[Callable[[], PostingScorer]], jsonl: bool,
                 id_name: str = "id") -> None:
        self.scorer = options.build_scorer() if make_scorer is None else make_scorer()
        if not isinstance(self.scorer, PostingScorer):
            raise TypeError(f"the scorer function returned a {type(self.scorer).__name__}, not a PostingScorer")
        self.options = options.of_scorer(self.scorer)
        self.columns = options.columns
        self.jsonl = jsonl
        self.schema = output_schema(self.scorer.model.technologies, id_name, isco=self.scorer.taxonomy == "isco08")
        self._hits = self._misses = 0
        self._failures = Failures()
        # How this actor scores, sent with every batch (the driver may see any batch first; a few hundred bytes
        # per chunk): the driver records it in OUTPUT and the summary.
        self._run = {"model": model_record(self.scorer), "options": self.options.rows(),
                     "provenance": {**self.scorer.model.provenance(), "command": "score-postings"}}

    def __call__(self, batch: pa.Table) -> pa.Table:
        n = batch.num_rows
        if self.jsonl:
            rows = [parse_jsonl_line(line, self.columns) for line in batch.column("line").to_pylist()]
            ids, titles, texts, flags = ([r[k] for r in rows] for k in range(4))
        else:
            ids, titles, texts = arrow_rows(batch, self.columns)
            flags = [None] * n
        # Ids repeated within this batch; the driver drops those seen in earlier batches.
        status = id_status(ids, flags, IdSet())
        take = [i for i, s in enumerate(status) if s is None]
        before = self._failures.as_dict()
        result = score_chunk([titles[i] for i in take], [texts[i] for i in take], self.scorer,
                             failures=self._failures, where=f"a batch of {n:,} rows")
        table = rows_table(0, ids, titles, status, take, result, self.schema)  # rows are numbered by the driver
        cache = self.scorer.cache
        stats = dict(zip(_COUNTERS, (len(take), int(result.n_units.sum()), result.kept_units,
                                     cache.hits - self._hits, cache.misses - self._misses)))
        stats.update({k: v - before[k] for k, v in self._failures.as_dict().items()})
        self._hits, self._misses = cache.hits, cache.misses
        stats["run"] = self._run
        return table.append_column(_STATS, pa.array([json.dumps(stats)] + [None] * (n - 1) if n else [], pa.string()))


def _jsonl_lines(file: dict, encoding: str = "utf-8") -> List[dict]:
    """The non-blank lines of a JSON Lines file (gzip-compressed or not), decoded and split as the local
    reader does: a byte that is not valid in ``encoding`` is an error naming its line."""
    data = file["bytes"]
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return [{"line": line} for _, line in decode_lines(io.BytesIO(data), encoding, file.get("path", "the input"))
            if line.strip()]


def _read(ray, job: BatchJob):
    """The input as a Ray dataset: the id, title and text columns (Parquet, CSV/TSV) or raw lines (JSONL)."""
    path = str(job.input.resolve())
    columns = list(dict.fromkeys(job.columns))
    if job.format == "parquet":
        return ray.data.read_parquet(path, file_extensions=None).select_columns(columns)
    if job.format in ("csv", "tsv"):
        return ray.data.read_csv(path, file_extensions=None, **csv_options(job.format, columns, job.encoding),
                                 **({"arrow_open_stream_args": {"compression": "gzip"}}
                                    if path.lower().endswith(".gz") else {}))
    return ray.data.read_binary_files(path, file_extensions=None).flat_map(
        functools.partial(_jsonl_lines, encoding=job.encoding))


def _pool_size(ray, num_workers: Optional[int], cpus_per_worker: float,
               gpus_per_worker: Optional[float]) -> Tuple[int, float]:
    """``(workers, GPUs per worker)`` that fit the cluster with one CPU left for Ray Data's read tasks."""
    res = ray.cluster_resources()
    cpus, gpus = float(res.get("CPU", 0)), float(res.get("GPU", 0))
    if gpus_per_worker is None:
        gpus_per_worker = 1.0 if gpus >= 1 else 0.0
    fit = math.floor((cpus - 1) / cpus_per_worker + 1e-9)
    if gpus_per_worker:
        fit = min(fit, math.floor(gpus / gpus_per_worker + 1e-9))
    workers = max(fit, 1) if num_workers is None else num_workers
    if workers > fit:
        raise ValueError(f"{workers} workers of {cpus_per_worker:g} CPUs and {gpus_per_worker:g} GPUs do not fit the "
                         f"cluster ({cpus:g} CPUs, {gpus:g} GPUs) with one CPU left free for Ray Data's read tasks "
                         f"(a pool on every CPU hangs, ray-project/ray#44687): "
                         + (f"use at most {fit} workers" if fit else "use fewer CPUs or GPUs per worker"))
    return workers, float(gpus_per_worker)


def score_postings_ray(input: PathLike, output: PathLike, options: Optional[RunOptions] = None, *,
                       scorer: Optional[Callable[[], PostingScorer]] = None, address: Optional[str] = None,
                       num_workers: Optional[int] = None, cpus_per_worker: float = 1.0,
                       gpus_per_worker: Optional[float] = None, show_progress: bool = False,
                       log: Callable[[str], None] = logger.info) -> dict:
    """Score a postings file into ``output`` (Parquet) on a Ray cluster; returns the run summary.

    :func:`exposure.jobs.score_postings_file` with ``engine="ray"`` calls this. The output, its
    ``.rejected.parquet`` and ``.summary.json`` files are those of the local engine (same schema, rows,
    statuses and id rules; scores equal to float rounding); the summary's ``this_run`` adds an
    ``engine`` entry.

    Args:
        input: Parquet, CSV/TSV or JSON Lines file with an id, a title and a text column,
            at the same path on every node.
        output: the ``.parquet`` file to write; it must not exist yet.
        options: the run's :class:`~exposure.jobs.options.RunOptions` (columns, ``chunk_size``: rows per
            batch sent to a worker, encoding, and how each worker builds its scorer); sent to every worker.
        scorer: ``None``: each worker builds the scorer the options describe; else a function that builds
            the :class:`~exposure.postings.PostingScorer`, called once in each worker, so it must be
            picklable (a module-level function or a ``functools.partial`` of one; ``exposure`` must be
            installed on every node).
        address: the cluster to join (``"auto"``, ``"ray://head:10001"``); ``None``:
            ``$RAY_ADDRESS``, else a Ray instance started on this machine (and stopped at the
            end). If Ray is already initialised in this process, that cluster is used.
        num_workers: scoring actors; ``None``: as many as the cluster holds (one CPU left free);
            never more than there are batches.
        cpus_per_worker: CPUs per actor (Ray sets its torch threads to match).
        gpus_per_worker: GPUs per actor (fractions share a GPU); ``None``: 1 when the cluster
            has a GPU, else 0.
        show_progress: a progress bar over the rows received.
        log: where the closing lines go (default: this module's logger).

    Raises:
        ImportError: Ray Data is not installed.
        ValueError: bad input, columns or options, an existing output, or a pool the cluster cannot hold.
        JobFailedError: every posting of a batch, or every posting of the run, failed.
    """
    ray = require_ray()
    options = RunOptions() if options is None else options
    if num_workers is not None and num_workers < 1:
        raise ValueError(f"--num-workers must be at least 1, got {num_workers}")
    if cpus_per_worker <= 0:
        raise ValueError(f"--cpus-per-worker must be > 0, got {cpus_per_worker}")
    if gpus_per_worker is not None and gpus_per_worker < 0:
        raise ValueError(f"--gpus-per-worker must be >= 0, got {gpus_per_worker}")
    if options.device == "cpu" and gpus_per_worker:
        raise ValueError("--device cpu with --gpus-per-worker > 0 would hold GPUs unused; use --device auto or "
                         "--gpus-per-worker 0")
    if options.device == "cuda" and gpus_per_worker == 0:
        raise ValueError("--device cuda needs --gpus-per-worker > 0 (or leave it out: 1 when the cluster has GPUs)")
    if scorer is None and options.device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"--device {options.device!r}: with --engine ray use 'auto', 'cpu' or 'cuda' (each worker "
                         "sees only the GPUs Ray gives it)")
    if options.device == "cpu" and gpus_per_worker is None:
        gpus_per_worker = 0.0
    job = BatchJob(input, output, options)
    there = job.leftovers()
    if there:
        raise ValueError(f"{' and '.join(map(repr, there))} already exist(s): remove them to score again (the ray "
                         "engine does not resume; finish a local run's parts with --engine local --resume)")
    with job:  # holds OUTPUT's lock for the whole run
        job.check()
        return _run_on_ray(ray, job, scorer, address, num_workers, cpus_per_worker, gpus_per_worker,
                           show_progress, log)


def _run_on_ray(ray, job: BatchJob, make_scorer: Optional[Callable[[], PostingScorer]], address: Optional[str],
                num_workers: Optional[int], cpus_per_worker: float, gpus_per_worker: Optional[float],
                show_progress: bool, log: Callable[[str], None]) -> dict:
    chunk_size = job.chunk_size
    started = not ray.is_initialized()
    if started:
        ray.init(address=address)
    ctx = ray.data.DataContext.get_current()
    saved = ctx.execution_options.preserve_order, ctx.enable_progress_bars
    try:
        workers, gpus = _pool_size(ray, num_workers, cpus_per_worker, gpus_per_worker)
        total = count_rows(job.input, job.format, job.columns[0], job.encoding)
        if total is not None:
            workers = min(workers, max(1, math.ceil(total / chunk_size)))  # no worker without a batch
        ctx.execution_options.preserve_order = True  # rows reach the driver in input order, retried batches too
        ctx.enable_progress_bars = False  # ours counts postings
        # Blocks of chunk_size rows: a read block is one task for one worker, however many batches it holds.
        ds = _read(ray, job).repartition(target_num_rows_per_block=chunk_size).map_batches(
            _ScoreBatches, fn_constructor_args=(job.options, make_scorer, job.format == "jsonl", job.id_name),
            batch_size=chunk_size, batch_format="pyarrow", compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=cpus_per_worker, num_gpus=gpus)
        return _collect(ds, job, total, log, show_progress, engine={
            "name": "ray", "address": address, "workers": workers, "cpus_per_worker": cpus_per_worker,
            "gpus_per_worker": gpus})
    finally:
        ctx.execution_options.preserve_order, ctx.enable_progress_bars = saved
        if started:
            ray.shutdown()


def _collect(ds, job: BatchJob, total: Optional[int], log: Callable[[str], None], show_progress: bool,
             engine: dict) -> dict:
    """Run ``ds``; its rows, in input order, become OUTPUT and the side files, as in the local engine."""
    from tqdm.auto import tqdm

    totals: Dict[str, int] = dict.fromkeys(_COUNTERS + ("duplicates_scored",), 0)
    bar = tqdm(total=total, unit="posting", desc="scoring postings",
               dynamic_ncols=True, disable=not show_progress, file=sys.stderr, smoothing=0.1)
    t0 = time.perf_counter()
    first_rows_s = None
    scored_with: dict = {}  # the workers' model and options, from the first batch

    def rows_in_order() -> Iterator[pa.Table]:
        nonlocal first_rows_s
        seen, row = IdSet(), 0
        for block in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
            n = block.num_rows
            if not n:
                continue
            if first_rows_s is None:
                first_rows_s = time.perf_counter() - t0
            for stats in block.column(_STATS).drop_null().to_pylist():
                stats = json.loads(stats)
                run = stats.pop("run", None)
                if run is not None and not scored_with:
                    scored_with.update(run)
                for k, v in stats.items():
                    totals[k] += v
            status = block.column("status").to_pylist()
            # Ids seen in an earlier batch: the later rows are duplicates, as in the local engine.
            final = id_status(block.column(job.id_name).to_pylist(),
                              [s if s in REJECTED_STATUSES else None for s in status], seen)
            totals["duplicates_scored"] += sum(f is not None and s not in REJECTED_STATUSES
                                               for f, s in zip(final, status))
            block = block.drop_columns([_STATS]).replace_schema_metadata(None)
            block = block.set_column(block.schema.get_field_index("row"), "row",
                                     pa.array(np.arange(row, row + n), pa.int64()))
            block = block.set_column(block.schema.get_field_index("status"), "status",
                                     pa.array([f or s for f, s in zip(final, status)], pa.string()))
            row += n
            bar.update(n)
            yield block

    blocks = rows_in_order()
    first = next(blocks, None)
    if first is None:
        bar.close()
        raise ValueError(f"input file {str(job.input)!r} has no rows")
    options = scored_with["options"]
    job.options = job.options.replace(**{k: v for k, v in options.items() if k in ("assign", "max_chars",
                                                                                   "min_soc_confidence")})
    provenance = {**scored_with["provenance"], "options": options}
    counts = job.combine(with_provenance(first.schema, provenance), itertools.chain([first], blocks))
    bar.close()
    elapsed = time.perf_counter() - t0
    this_run = {"engine": engine,
                **run_stats(totals["scored"], elapsed, totals["units"], totals["kept"], totals["hits"],
                             totals["misses"]),
                "duplicates_scored": totals["duplicates_scored"],
                "first_rows_after_s": round(first_rows_s, 2),
                "failed_chunks": totals["failed_chunks"], "error_rows": totals["error_rows"],
                "driver_peak_rss_mb": peak_rss_mb()}
    record = job.record()
    record["model"] = scored_with["model"]  # what a later --resume of the finished output compares
    summary = job.finish(counts, this_run, log, record)
    if totals["scored"] and totals["error_rows"] == totals["scored"]:
        raise JobFailedError(f"every one of the {totals['scored']:,} postings scored failed (status 'error'; the "
                             f"workers' logs have the traceback); {job.output} and {job.summary_path} were written")
    return summary
