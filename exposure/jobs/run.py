"""One way to run a job: :func:`score_postings_file`, with the local or the Ray engine.

The command line calls it too. It sits above both engines (:mod:`exposure.jobs.local`,
:mod:`exposure.jobs.ray`), which know nothing of each other's entry points.
"""

from __future__ import annotations

import logging
from typing import Callable, Optional, Union

from ..postings.scorer import PostingScorer
from .local import BatchJob, PathLike
from .options import RunOptions
from .ray import score_postings_ray
from .workers import default_workers

__all__ = ["score_postings_file"]

logger = logging.getLogger(__name__)


def score_postings_file(input: PathLike, output: PathLike, options: Optional[RunOptions] = None, *,
                        engine: str = "local", scorer: Union[PostingScorer, Callable[[], PostingScorer], None] = None,
                        resume: bool = False, units: Optional[PathLike] = None, workers: Optional[int] = 0,
                        show_progress: bool = False,
                        log: Callable[[str], None] = logger.info, **cluster) -> dict:
    """Score a postings file into ``output`` (Parquet); returns the run summary. The one way to run a job:
    ``exposure score-postings`` calls it too.

    Args:
        input: Parquet, CSV/TSV or JSON Lines file with an id, a title and a text column.
        output: the ``.parquet`` file to write.
        options: :class:`~exposure.jobs.options.RunOptions` (columns, chunk size, the row options, how the
            model is built); ``None``: the defaults.
        engine: ``"local"`` (this process, crash-safe parts, ``resume``) or ``"ray"`` (a Ray cluster,
            :func:`~exposure.jobs.ray.score_postings_ray`).
        scorer: ``None`` builds the scorer the options describe (in each Ray worker too); a function that
            returns a :class:`~exposure.postings.PostingScorer` (picklable for Ray) or, for the local engine,
            a scorer: its row options are then the run's.
        resume: continue an interrupted local run.
        units: also write one row per unit of every scored posting to this ``.parquet`` file (its label,
            probability and, for duties, scores and evidence: :class:`~exposure.jobs.local.BatchJob`); local
            engine.
        workers: local text worker processes (0: all in this process; ``None``:
            :func:`~exposure.jobs.workers.default_workers`, all cores but one, as the command line does).
        show_progress: a progress bar.
        log: where the closing lines go.
        cluster: the Ray engine's ``address``, ``num_workers``, ``cpus_per_worker``, ``gpus_per_worker``.

    >>> summary = score_postings_file("postings.parquet", "scores.parquet", RunOptions(assign=False))  # doctest: +SKIP
    >>> summary["rows_written"]                                                                      # doctest: +SKIP
    """
    options = RunOptions() if options is None else options
    if engine not in ("local", "ray"):
        raise ValueError(f"engine must be 'local' or 'ray', got {engine!r}")
    if engine == "local":
        if cluster:
            raise ValueError(f"{', '.join(sorted(cluster))} only apply to engine='ray' (--engine ray)")
        with BatchJob(input, output, options, resume=resume, units=units) as job:
            return job.run(scorer, workers=default_workers() if workers is None else workers,
                           show_progress=show_progress, log=log)
    if resume:
        raise ValueError("--resume needs --engine local: a ray run is not resumable (Ray retries failed workers "
                         "within a run); run it again without --resume, or finish a local run with --engine local")
    if units is not None:
        raise ValueError("--units needs --engine local: the ray engine writes the posting rows only")
    if workers:
        raise ValueError("--workers applies to --engine local; with --engine ray each Ray worker does its own text "
                         "work (use --num-workers)")
    if isinstance(scorer, PostingScorer):
        raise ValueError("the ray engine builds a scorer in each worker: pass a function that returns one "
                         "(picklable), or leave scorer out to build it from the options")
    return score_postings_ray(input, output, options, scorer=scorer, show_progress=show_progress, log=log, **cluster)
