"""Streaming batch jobs over a postings file: rows in, results out, resume; a local and a Ray engine.

- :mod:`exposure.jobs.rows`: reading input rows in chunks (Parquet, CSV/TSV, JSON Lines), ids and their statuses.
- :mod:`exposure.jobs.options`: :class:`RunOptions`, what a run is asked to do (the command line builds it).
- :mod:`exposure.jobs.output`: the run's lock, atomic writes, scored rows, OUTPUT, its rejected file and summary.
- :mod:`exposure.jobs.local`: :class:`BatchJob`, the local engine that commits parts and resumes after a crash.
- :mod:`exposure.jobs.workers`: :class:`TextWorkers`, processes that do the text work of the next chunks while
  the model scores the current one.
- :mod:`exposure.jobs.run`: :func:`score_postings_file`, the one entry point, for either engine.
- :mod:`exposure.jobs.ray`: :func:`score_postings_ray`, the same output from a Ray cluster (Ray is imported
  only when a run starts).
"""

from typing import TYPE_CHECKING

from .._exports import lazy_exports

_EXPORTS = {"BatchJob": "local", "score_postings_file": "run", "RunOptions": "options", "output_schema": "output",
            "JobFailedError": "output", "ChunkFailedError": "output",
            "TextWorkers": "workers", "WorkerError": "workers", "default_workers": "workers",
            "OutputInUseError": "output", "REJECTED_STATUSES": "rows", "score_postings_ray": "ray",
            "require_ray": "ray"}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from .local import BatchJob
    from .options import RunOptions
    from .output import ChunkFailedError, JobFailedError, OutputInUseError, output_schema
    from .ray import require_ray, score_postings_ray
    from .rows import REJECTED_STATUSES
    from .run import score_postings_file
    from .workers import TextWorkers, WorkerError, default_workers
