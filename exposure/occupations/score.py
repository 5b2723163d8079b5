"""Occupation scores from a model: every task of an O*NET release scored, then aggregated.

:func:`score_occupations` scores the shipped catalogue with an
:class:`~exposure.scoring.ExposureModel` and builds the table of
:func:`~exposure.occupations.occupation_table`; :func:`cached_occupation_scores`
keeps that table on disk per model (the posting scorer's fallback for postings
without duties).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Optional, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._assets import cache_dir as cache_dir_of
from .._assets import read_checked, write_checked
from .catalogue import load_tasks, release_key
from .tables import LEVELS, occupation_table, to_level

if TYPE_CHECKING:
    from ..scoring import ExposureModel

__all__ = ["score_occupations", "cached_occupation_scores", "flag_labelled"]

logger = logging.getLogger(__name__)


def score_occupations(model: Optional["ExposureModel"] = None, release: str = "27", *, level: str = "onet", top_tasks: int = 3,
                      show_progress: bool = False, embeddings: Optional[np.ndarray] = None) -> pa.Table:
    """Score every task of an O*NET release and aggregate to occupations (:func:`occupation_table`).

    With a calibrated head that has fold heads (the shipped one), the tasks of the occupations whose human
    labels trained it are scored out of fold (heads fitted without those labels): ``exposure`` (and
    ``alpha``, ``beta``, ``gamma``, ``gpt4_automation``) is then a prediction for every occupation, and
    ``exposure_in_sample`` keeps the shipped head's score, which largely returns the labels
    (:meth:`~exposure.ExposureModel.score_embeddings`). ``labelled`` says which occupations those are.

    ``model`` is an :class:`~exposure.ExposureModel` (``None``: the default one,
    on the best device). ``embeddings`` may hold the task embeddings of
    ``load_tasks(release)``, row-aligned, by the model's encoder, to skip the
    encoder (19k tasks take about two minutes on a CPU). ``level`` rolls the
    table up to ``"soc2018"`` or ``"soc2010"`` (see :func:`to_level`).

    >>> table = score_occupations(ExposureModel(device="cpu"))   # doctest: +SKIP
    """
    release = release_key(release)
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; use one of: {', '.join(LEVELS)}")
    if model is None:
        from ..scoring import ExposureModel  # loads torch: only when no model is given

        model = ExposureModel()
    tasks = load_tasks(release)
    texts = tasks["task"].to_pylist()
    codes = tasks["soc_code"].to_pylist()
    if embeddings is None:
        scores = model.score_tasks(texts, show_progress=show_progress, occupations=codes)
    else:
        if len(embeddings) != tasks.num_rows:
            raise ValueError(f"embeddings have {len(embeddings)} rows; O*NET {release} has {tasks.num_rows} tasks")
        scores = model.score_embeddings(embeddings, texts=texts, occupations=codes)
    table = scores.to_arrow()
    table = table.drop_columns([c for c in ("text", "held_out") if c in table.column_names])
    for name in reversed(("soc_code", "task_id", "weight", "task")):
        if name in table.column_names:
            table = table.drop_columns([name])
        table = table.add_column(0, name, tasks[name])
    return to_level(flag_labelled(occupation_table(table, release, top_tasks=top_tasks),
                                  model.labelled_occupations), level)


def flag_labelled(table: pa.Table, labelled: Iterable[str]) -> pa.Table:
    """Add the ``labelled`` column after ``n_tasks``: whether the occupation's human labels trained the head.

    The shipped head's own scores of labelled occupations are in-sample (they agree with the labels far better
    than a prediction would): :func:`score_occupations` reports them in ``exposure_in_sample`` and scores those
    occupations out of fold in ``exposure``; comparisons report the two groups apart. ``labelled``: O*NET-SOC codes
    (:attr:`~exposure.scoring.ExposureModel.labelled_occupations`).

    >>> flag_labelled(pa.table({"soc_code": ["11-1011.00", "11-1021.00"]}), {"11-1011.00"})["labelled"].to_pylist()
    [True, False]
    """
    codes = pa.array(sorted(set(labelled)), pa.string())
    flag = pc.is_in(table["soc_code"], value_set=codes)
    at = table.column_names.index("n_tasks") + 1 if "n_tasks" in table.column_names else table.num_columns
    if "labelled" in table.column_names:
        table = table.drop_columns(["labelled"])
        at = min(at, table.num_columns)
    return table.add_column(at, "labelled", flag)


def cached_occupation_scores(model, release: str = "29.1", embeddings: Optional[np.ndarray] = None,
                             cache_dir: Union[str, Path, None, bool] = None) -> pa.Table:
    """Occupation-level scores of the shipped O*NET catalogue by ``model``, cached on disk.

    The table of :func:`score_occupations` without top tasks (``soc_code``,
    ``exposure``, ``exposure_<technology>``...), computed once per model and
    cached as Parquet in ``cache_dir`` (default: :func:`exposure._assets.cache_dir`,
    ``False``: no disk cache) under the model's :meth:`~exposure.scoring.ExposureModel.fingerprint`
    (encoder, dtype, capability set, head weights, the rule's parameters). ``embeddings``: the
    catalogue's task embeddings, row-aligned with ``load_tasks(release)``, to skip the encoder
    (about two minutes).
    """
    import pyarrow.parquet as pq

    path = None
    if cache_dir is not False:
        folder = cache_dir_of(None if cache_dir in (None, True) else cache_dir)
        # v3: out of fold, with `exposure_in_sample`.
        path = folder / f"occupation-scores-v3-{release}-{model.fingerprint()[:20]}.parquet"
        data = read_checked(path)  # None when missing or damaged (with a warning): computed below
        if data is not None:
            try:
                return pq.read_table(pa.BufferReader(data))
            except (OSError, ValueError):
                logger.warning("the cache file %s is not a table; computing it again", path)
    table = score_occupations(model, release, top_tasks=0, embeddings=embeddings)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_checked(path, lambda f: pq.write_table(table, f))
        except OSError as exc:
            logger.warning("could not cache the occupation scores in %s (%s); they will be computed again "
                           "next time. Set EXPOSURE_CACHE_DIR to a writable folder.", path.parent, exc)
    return table
