"""Occupation tables: task -> occupation aggregation, SOC roll-ups and crosswalks.

Everything here needs numpy and pyarrow only, so stored task scores can be
re-aggregated without loading a model (:func:`~exposure.occupations.score_occupations`
scores the catalogue with one).

The measures of Eloundou et al. (2023) for an occupation, from per-task class
probabilities ``P(E0), P(E1), P(E2)`` (a one-hot encoding of labels is the
special case), with Core tasks weighted 2 and the others 1::

    alpha = weighted mean P(E1)                 # direct exposure to a language model
    beta  = weighted mean P(E1) + 0.5 P(E2)     # the headline measure
    gamma = weighted mean P(E1) + P(E2)         # including software built on one

>>> aggregate(["a", "a", "b"], None, {"x": np.array([1.0, 0.0, 0.5])}).to_pylist()[0]
{'soc_code': 'a', 'n_tasks': 2, 'x': 0.5}
"""

from __future__ import annotations

import re
from typing import Mapping, Optional, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..io import TableLike, as_table, float_column, require_columns
from ..rubric import EXPOSURE_CLASSES
from ..stats import top_per_group
from .catalogue import CODE_SYSTEMS, load_crosswalk, load_occupations, load_tasks, normalize_codes, release_key

__all__ = ["LEVELS", "INTERVAL_LEVEL", "POTENTIAL_RULE", "SCORE_COLUMNS", "potential", "aggregate", "one_hot",
           "exposure_measures", "exposure_intervals", "is_technology_column", "score_columns", "occupation_table", "to_soc2018", "to_soc2010", "to_level",
           "is_onet_level", "rollup", "rank_desc", "top_task_columns"]

#: Levels an occupation table can be expressed at: O*NET-SOC detail, SOC 2018, SOC 2010 (6-digit).
LEVELS = CODE_SYSTEMS
_PROBABILITIES = ("p_e0", "p_e1", "p_e2")
# Columns with a fixed meaning in an occupation table; every other numeric column is a score.
_COUNT_COLUMNS = ("n_tasks",)
_TOP_RE = re.compile(r"^top_task_\d+(_id|_exposure)?$")
# Columns named exposure_* that are not a technology's score: the in-sample headline and its interval.
_NOT_TECHNOLOGIES = ("exposure_in_sample", "exposure_low", "exposure_high")
#: Coverage of the ``exposure_low`` / ``exposure_high`` interval of an occupation table.
INTERVAL_LEVEL = 0.9
# Draws of the interval's simulation (exposure_intervals), and draws simulated at once (memory).
_INTERVAL_DRAWS, _DRAW_BLOCK = 1000, 50


#: The scores of an occupation table besides each ``exposure_<technology>`` (:func:`score_columns`).
SCORE_COLUMNS = ("exposure", "exposure_in_sample", "alpha", "beta", "gamma", "automation_exposure", "gpt4_automation",
                 "automation", "augmentation")
#: The rule of an occupation table's ``potential`` column (:func:`potential`).
POTENTIAL_RULE = {"min_exposure": 0.1, "automation_min_exposure": 0.4, "automation_min_share": 0.65}
# Columns derived from others after a roll-up, not averaged.
_DERIVED = ("automation_share",)


def potential(exposure, automation, rule: Optional[Mapping[str, float]] = None) -> dict[str, pa.Array]:
    """An occupation's ``automation_share`` (``automation / exposure``) and its class in the manner of the
    ILO's generative-AI index (Gmyrek et al. 2023, 2025), ``potential``:

    - ``"automation"``: ``exposure >= 0.4`` and ``automation_share >= 0.65``: much of the work is exposed,
      and most of what is exposed a language model could do in the worker's place;
    - ``"augmentation"``: ``exposure >= 0.1`` otherwise: the model helps with part of the work and the
      worker keeps it;
    - ``"not affected"``: ``exposure < 0.1``; null where the exposure is unknown.

    ``exposure`` and ``automation``: numpy arrays or Arrow columns (nulls are unknown values). ``rule``
    overrides the thresholds of :data:`POTENTIAL_RULE`. On the O*NET 27 catalogue (out of fold)
    the default rule puts 32 occupations in ``"automation"``, 21 of them clerical (SOC 43).

    >>> cols = potential(np.array([0.5, 0.5, 0.05, np.nan]), np.array([0.4, 0.1, 0.0, np.nan]))
    >>> cols["potential"].to_pylist()
    ['automation', 'augmentation', 'not affected', None]
    """
    r = {**POTENTIAL_RULE, **(rule or {})}
    x, a = (np.asarray(pc.fill_null(pc.cast(v, pa.float64()), np.nan).to_numpy(zero_copy_only=False))
            if isinstance(v, (pa.Array, pa.ChunkedArray)) else np.asarray(v, dtype=np.float64)
            for v in (exposure, automation))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(x > 0, a / x, np.nan)
    known = ~np.isnan(x) & ~np.isnan(a)
    label = np.where(x < r["min_exposure"], "not affected",
                     np.where((x >= r["automation_min_exposure"]) & (share >= r["automation_min_share"]),
                              "automation", "augmentation"))
    return {"automation_share": pa.array(share, pa.float64(), from_pandas=True),
            "potential": pa.array(label.tolist(), pa.string(), mask=~known)}


def score_columns(table: pa.Table, bounds: bool = False) -> list[str]:
    """The score columns of an occupation table, in its order: those of :data:`SCORE_COLUMNS` and every
    ``exposure_<technology>`` that holds numbers; with ``bounds``, ``exposure_low`` and ``exposure_high`` too.
    The views that carry an occupation table's scores elsewhere (BLS codes, ISCO-08 employment) carry these.

    >>> score_columns(pa.table({"soc_code": ["a"], "exposure": [0.1], "exposure_llm": [0.2], "rank": [1],
    ...                         "exposure_low": [0.0]}))
    ['exposure', 'exposure_llm']
    """
    extra = ("exposure_low", "exposure_high") if bounds else ()
    return [f.name for f in table.schema
            if (f.name in SCORE_COLUMNS or f.name in extra or is_technology_column(f.name))
            and (pa.types.is_floating(f.type) or pa.types.is_integer(f.type))]


def is_technology_column(name: str) -> bool:
    """Whether a column of an occupation table is a technology's score, ``exposure_<technology>``
    (not ``exposure_in_sample``, ``exposure_low`` or ``exposure_high``).

    >>> [is_technology_column(c) for c in ("exposure_llm", "exposure_low", "exposure")]
    [True, False, False]
    """
    return name.startswith("exposure_") and name not in _NOT_TECHNOLOGIES


# --------------------------------------------------------------------------- aggregation

def _codes(values, name: str = "soc_codes") -> np.ndarray:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        if values.null_count:
            raise ValueError(f"{name} has {values.null_count} missing codes")
        values = values.to_pylist()
    arr = np.asarray(values, dtype=object)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if any(v is None for v in arr):
        raise ValueError(f"{name} has missing codes")
    return arr.astype(str)


def _floats(values, name: str, n: int) -> np.ndarray:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = pc.fill_null(pc.cast(values, pa.float64()), np.nan).to_numpy(zero_copy_only=False)
    arr = np.asarray(values)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
    return arr


def aggregate(soc_codes: Sequence[str], weights: Optional[Sequence[float]],
              columns: Mapping[str, np.ndarray]) -> pa.Table:
    """Weighted mean of each column per occupation, and the number of tasks behind it.

    A NaN (or null) value is left out together with its weight; an occupation
    whose values are all missing gets a null. ``weights=None`` weighs every row 1.
    Rows are sorted by code.

    Returns a table ``soc_code``, ``n_tasks`` (rows per code), then one float64
    column per entry of ``columns``.

    >>> t = aggregate(["a", "a", "b"], [2, 1, 1], {"x": np.array([1.0, 0.0, np.nan])})
    >>> t.to_pylist()
    [{'soc_code': 'a', 'n_tasks': 2, 'x': 0.6666666666666666}, {'soc_code': 'b', 'n_tasks': 1, 'x': None}]
    """
    codes = _codes(soc_codes)
    n = codes.shape[0]
    w = np.ones(n) if weights is None else _floats(weights, "weights", n)
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative")
    uniq, inv = np.unique(codes, return_inverse=True)
    inv = inv.reshape(-1)
    g = uniq.shape[0]
    out = {"soc_code": pa.array(uniq.tolist(), pa.string()),
           "n_tasks": pa.array(np.bincount(inv, minlength=g).astype(np.int32))}
    for name, values in columns.items():
        if name in out:
            raise ValueError(f"column name {name!r} is reserved")
        x = _floats(values, f"column {name!r}", n)
        ok = ~np.isnan(x)
        num = np.bincount(inv[ok], weights=w[ok] * x[ok], minlength=g)
        den = np.bincount(inv[ok], weights=w[ok], minlength=g)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = num / den
        out[name] = pa.array(np.where(den > 0, mean, np.nan), pa.float64(), from_pandas=True)
    return pa.table(out)


def one_hot(labels: Sequence[Optional[str]], classes: Sequence[str] = EXPOSURE_CLASSES) -> np.ndarray:
    """Labels as an ``(n, len(classes))`` float64 indicator matrix; a missing label gives a NaN row.

    >>> one_hot(["E0", "E2", None]).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [nan, nan, nan]]
    """
    if isinstance(labels, (pa.Array, pa.ChunkedArray)):
        labels = labels.to_pylist()
    lookup = {c: i for i, c in enumerate(classes)}
    idx = np.array([-1 if v is None else lookup.get(str(v).strip(), -2) for v in labels], dtype=np.int64)
    bad = sorted({str(v) for v, i in zip(labels, idx) if i == -2})
    if bad:
        raise ValueError(f"unknown labels {', '.join(map(repr, bad[:10]))}; expected one of {', '.join(classes)}")
    out = np.zeros((idx.shape[0], len(classes)))
    out[np.flatnonzero(idx >= 0), idx[idx >= 0]] = 1.0
    out[idx < 0] = np.nan
    return out


def _measures(p: np.ndarray) -> dict[str, np.ndarray]:
    return {"alpha": p[:, 1], "beta": p[:, 1] + 0.5 * p[:, 2], "gamma": p[:, 1] + p[:, 2]}


def exposure_measures(soc_codes: Sequence[str], weights: Optional[Sequence[float]],
                      probabilities: np.ndarray) -> pa.Table:
    """The occupation measures alpha, beta, gamma of Eloundou et al. from per-task probabilities.

    ``probabilities`` is ``(n, 3)``: P(E0), P(E1), P(E2) per task (``one_hot(labels)``
    for labels); weights are 2 for Core tasks and 1 otherwise in the paper.

    >>> round(exposure_measures(["a", "a"], [2, 1], one_hot(["E1", "E2"])).to_pylist()[0]["beta"], 4)
    0.8333
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 3:
        raise ValueError(f"probabilities must have shape (n, 3) for E0, E1, E2, got {p.shape}")
    return aggregate(soc_codes, weights, _measures(p))


def exposure_intervals(soc_codes: Sequence[str], weights: Optional[Sequence[float]],
                       probabilities: Optional[np.ndarray] = None, values: Optional[np.ndarray] = None,
                       level: float = INTERVAL_LEVEL, draws: int = _INTERVAL_DRAWS, seed: int = 0) -> pa.Table:
    """A ``level`` interval of each occupation's headline exposure, by simulation.

    Each draw resamples the occupation's tasks with replacement (its task list is one sample of its work)
    and, with class ``probabilities`` ``(n, 3)`` (P(E0), P(E1), P(E2) of a calibrated head), draws each
    task's label from them, scoring it 0, 1 or 0.5 as beta does (what a labeller could have said, as far
    as the probabilities know); the draw's score is the weighted mean. The interval runs between the
    ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the draws. With ``values`` (task scores, no
    probabilities) only the tasks are resampled, which leaves out the uncertainty of each task's score.
    Out of fold on the 715 labelled occupations, the 90 % interval from probabilities holds the human rating
    for about 90 % of them (benchmarks/results/out_of_fold.md). Deterministic for a given ``seed``.

    Returns a table ``soc_code``, ``exposure_low``, ``exposure_high`` sorted by code (null where an
    occupation has no scored task).

    >>> t = exposure_intervals(["a"] * 4, None, probabilities=np.array([[0, 1, 0], [1, 0, 0]] * 2, float))
    >>> row = t.to_pylist()[0]
    >>> row["exposure_low"], row["exposure_high"]
    (0.0, 1.0)
    """
    if not 0 < level < 1:
        raise ValueError(f"level must lie between 0 and 1, got {level}")
    if draws < 1:
        raise ValueError(f"draws must be at least 1, got {draws}")
    if (probabilities is None) == (values is None):
        raise ValueError("give one of probabilities and values")
    codes = _codes(soc_codes)
    n = codes.shape[0]
    w = np.ones(n) if weights is None else _floats(weights, "weights", n)
    if probabilities is not None:
        p = np.asarray(probabilities, dtype=np.float64)
        if p.shape != (n, 3):
            raise ValueError(f"probabilities must have shape ({n}, 3), got {p.shape}")
        ok = ~np.isnan(p).any(axis=1)
        cum = np.cumsum(p, axis=1)
    else:
        v = _floats(values, "values", n)
        ok = ~np.isnan(v)
    uniq = np.unique(codes)
    # The scored tasks, side by side per occupation.
    rows = np.flatnonzero(ok)
    rows = rows[np.argsort(codes[rows], kind="stable")]
    present, start, count = np.unique(codes[rows], return_index=True, return_counts=True)
    group = np.repeat(np.arange(present.shape[0]), count)
    rng = np.random.default_rng(seed)
    out = np.empty((present.shape[0], draws))
    for a in range(0, draws if present.shape[0] else 0, _DRAW_BLOCK):
        b = min(draws, a + _DRAW_BLOCK) - a
        pick = rows[start[group][:, None] + (rng.random((rows.shape[0], b)) * count[group][:, None]).astype(np.int64)]
        if probabilities is not None:
            u = rng.random(pick.shape)
            score = np.where(u < cum[pick, 0], 0.0, np.where(u < cum[pick, 1], 1.0, 0.5))
        else:
            score = v[pick]
        ww = w[pick]
        out[:, a:a + b] = np.add.reduceat(ww * score, start, axis=0) / np.maximum(np.add.reduceat(ww, start, axis=0),
                                                                                  1e-300)
    q = np.quantile(out, [(1 - level) / 2, (1 + level) / 2], axis=1) if present.shape[0] else np.zeros((2, 0))
    pos = np.searchsorted(present, uniq)
    has = np.zeros(uniq.shape[0], dtype=bool)
    if present.shape[0]:
        has = (pos < present.shape[0]) & (present[np.minimum(pos, present.shape[0] - 1)] == uniq)
    low, high = np.full(uniq.shape[0], np.nan), np.full(uniq.shape[0], np.nan)
    low[has], high[has] = q[0, pos[has]], q[1, pos[has]]
    return pa.table({"soc_code": pa.array(uniq.tolist(), pa.string()),
                     "exposure_low": pa.array(low, pa.float64(), from_pandas=True),
                     "exposure_high": pa.array(high, pa.float64(), from_pandas=True)})


def rank_desc(values: np.ndarray) -> pa.Array:
    """Ranks for a ``rank`` column: 1 for the largest value, ties share the best rank, NaN gets null.

    >>> rank_desc(np.array([0.2, 0.7, np.nan, 0.7])).to_pylist()
    [3, 1, None, 1]
    """
    ok = ~np.isnan(values)
    srt = np.sort(values[ok])
    rank = np.zeros(values.shape[0], dtype=np.int32)
    rank[ok] = 1 + srt.shape[0] - np.searchsorted(srt, values[ok], side="right")
    return pa.array(rank, pa.int32(), mask=~ok)


def top_task_columns(top: np.ndarray, ids: pa.Array, texts: pa.Array, scores: np.ndarray) -> dict[str, pa.Array]:
    """The ``top_task_{r}_id``, ``top_task_{r}`` and ``top_task_{r}_exposure`` columns (r = 1 .. k) of a table
    whose rows are groups: ``top`` holds each group's task rows, best first, -1 where a group has fewer
    (:func:`exposure.stats.top_per_group`); ``ids``, ``texts`` and ``scores`` are per task row.

    >>> cols = top_task_columns(np.array([[1], [-1]]), pa.array(["t1", "t2"]), pa.array(["Cook", "Drive"]),
    ...                         np.array([0.1, 0.8]))
    >>> {name: col.to_pylist() for name, col in cols.items()}
    {'top_task_1_id': ['t2', None], 'top_task_1': ['Drive', None], 'top_task_1_exposure': [0.8, None]}
    """
    cols: dict[str, pa.Array] = {}
    for r in range(top.shape[1]):
        sel = top[:, r]
        take = pa.array(np.where(sel >= 0, sel, 0), pa.int64(), mask=sel < 0)
        cols[f"top_task_{r + 1}_id"] = pc.take(ids, take)
        cols[f"top_task_{r + 1}"] = pc.take(texts, take)
        cols[f"top_task_{r + 1}_exposure"] = pa.array(np.where(sel >= 0, scores[np.maximum(sel, 0)], np.nan),
                                                     pa.float64(), from_pandas=True)
    return cols


def _complete(tasks: pa.Table, release: str) -> pa.Table:
    """Fill ``weight`` and ``task`` from the catalogue by ``task_id`` when the table lacks them."""
    need = [c for c in ("weight", "task") if c not in tasks.column_names]
    if not need:
        return tasks
    if "task_id" not in tasks.column_names:
        raise ValueError(f"task scores have no column {', '.join(map(repr, need))} and no 'task_id' to look "
                         f"them up in the O*NET {release} catalogue; columns are: {', '.join(tasks.column_names)}")
    cat = load_tasks(release)
    pos = pc.index_in(pc.cast(tasks["task_id"], pa.int32()), value_set=cat["task_id"])
    if pos.null_count and "weight" in need:
        raise ValueError(f"{pos.null_count} task_id values are not in the O*NET {release} catalogue; "
                         "pass a 'weight' column")
    for c in need:
        tasks = tasks.append_column(c, pc.take(cat[c], pos))
    return tasks


def occupation_table(task_scores: TableLike, release: str = "27", top_tasks: int = 3,
                     intervals: bool = True) -> pa.Table:
    """One row per occupation from task-level scores: scores, rank and the most exposed tasks.

    ``task_scores`` (a pyarrow Table, or a pandas or polars DataFrame: :func:`as_table`) needs
    ``soc_code`` and ``exposure`` (or the probabilities); ``weight`` and ``task``
    are looked up by ``task_id`` in the catalogue when absent. Every
    ``exposure_<technology>`` column, and ``automation_exposure`` and
    ``gpt4_automation`` when present, is averaged with the task weights. With ``p_e0``, ``p_e1``, ``p_e2`` columns
    (class probabilities of a calibrated head) the table gets ``alpha``,
    ``beta``, ``gamma`` and ``exposure = beta``; without them ``exposure`` is
    the weighted mean of the task exposure.

    An ``exposure_in_sample`` column of the task scores (out-of-fold scores:
    :meth:`~exposure.ExposureModel.score_embeddings` with ``occupations``) is averaged as well.
    ``intervals`` adds ``exposure_low`` and ``exposure_high``, the 90 % interval of ``exposure``
    (:func:`exposure_intervals`: the tasks resampled and, with the probabilities, each task's label
    drawn from them).

    With ``gpt4_automation`` (or the ``automation`` column of exposure 0.2.0's task scores) and the
    probabilities, the headline is split: ``automation``, the weighted mean of each task's beta times its
    degree of automation (:attr:`~exposure.scoring.TaskScores.automation`), and ``augmentation`` the rest;
    then ``automation_share`` and the class ``potential`` (:func:`potential`).

    Columns: ``soc_code``, ``title``, ``n_tasks``, ``exposure``, [``exposure_in_sample``], ``exposure_low``,
    ``exposure_high``, [``alpha``,
    ``beta``, ``gamma``], ``exposure_<technology>``..., [``automation_exposure``],
    [``gpt4_automation``, ``automation``, ``augmentation``, ``automation_share``, ``potential``],
    ``rank`` (1 = most exposed), then for k = 1..``top_tasks``:
    ``top_task_k_id``, ``top_task_k`` (text), ``top_task_k_exposure`` (the
    task's contribution to the headline: its exposure, or P(E1) + 0.5 P(E2)).
    Every occupation of the release is listed; those without scored tasks have
    ``n_tasks = 0`` and nulls. Rows are sorted by ``soc_code``.

    >>> import pyarrow as pa
    >>> t = pa.table({"soc_code": ["11-1011.00"] * 2, "task_id": [1, 2], "weight": [2, 1],
    ...               "task": ["Plan budgets.", "Greet guests."], "exposure": [0.9, 0.3]})
    >>> row = occupation_table(t).to_pylist()[0]
    >>> round(row["exposure"], 2), row["top_task_1"], row["rank"]
    (0.7, 'Plan budgets.', 1)
    """
    task_scores = as_table(task_scores, "task_scores")
    release = release_key(release)
    if top_tasks < 0:
        raise ValueError(f"top_tasks must be >= 0, got {top_tasks}")
    probs = [c for c in _PROBABILITIES if c in task_scores.column_names]
    if probs and len(probs) < 3:
        raise ValueError(f"task scores have {', '.join(probs)} but not "
                         f"{', '.join(c for c in _PROBABILITIES if c not in probs)}; give all three or none")
    # With class probabilities the headline is beta; without them, the task exposure.
    needed = ("soc_code",) if probs else ("soc_code", "exposure")
    missing = [c for c in needed if c not in task_scores.column_names]
    if missing:
        raise ValueError(f"task scores have no column {', '.join(map(repr, missing))}; "
                         f"columns are: {', '.join(task_scores.column_names)}")
    tasks = _complete(task_scores, release)
    codes = _codes(tasks["soc_code"], "soc_code")
    n = codes.shape[0]
    weights = float_column(tasks, "weight")

    # 1. the columns to average, in output order
    techs = [c for c in tasks.column_names if is_technology_column(c)]
    cols: dict[str, np.ndarray] = {}
    if probs:
        p = np.stack([float_column(tasks, c) for c in _PROBABILITIES], axis=1)
        m = _measures(p)
        headline = m["beta"]
        cols["exposure"] = headline
    else:
        headline = float_column(tasks, "exposure")
        cols["exposure"] = headline
    if "exposure_in_sample" in tasks.column_names:
        cols["exposure_in_sample"] = float_column(tasks, "exposure_in_sample")
    if probs:
        cols.update(m)
    for c in techs:
        cols[c] = float_column(tasks, c)
    if "automation_exposure" in tasks.column_names:
        cols["automation_exposure"] = float_column(tasks, "automation_exposure")
    # "automation" without "augmentation": the name of gpt4_automation in exposure 0.2.0, in stored task scores.
    legacy = "automation" in tasks.column_names and "augmentation" not in tasks.column_names
    degree = "gpt4_automation" if "gpt4_automation" in tasks.column_names else "automation" if legacy else None
    if degree:
        cols["gpt4_automation"] = float_column(tasks, degree)
        if probs:  # the split of the headline (TaskScores.automation), from the task's beta and degree
            cols["automation"] = headline * cols["gpt4_automation"]
            cols["augmentation"] = headline - cols["automation"]
    agg = aggregate(codes, weights, cols)

    # 2. every occupation of the release, plus any code the scores have that it lacks
    occ = load_occupations(release)
    catalogue = occ["soc_code"].to_pylist()
    extra = sorted(set(agg["soc_code"].to_pylist()) - set(catalogue))
    all_codes = pa.array(sorted(catalogue + extra), pa.string())
    pos = pc.index_in(all_codes, value_set=agg["soc_code"])
    out = {"soc_code": all_codes, "title": pc.take(occ["title"], pc.index_in(all_codes, value_set=occ["soc_code"]))}
    out["n_tasks"] = pc.fill_null(pc.take(agg["n_tasks"], pos), 0)
    if intervals:
        bounds = exposure_intervals(codes, weights, probabilities=p if probs else None,
                                    values=None if probs else headline)
        at = pc.index_in(all_codes, value_set=bounds["soc_code"])
    for c in cols:
        out[c] = pc.take(agg[c], pos)
        if intervals and c == ("exposure_in_sample" if "exposure_in_sample" in cols else "exposure"):
            out["exposure_low"], out["exposure_high"] = (pc.take(bounds[b], at) for b in ("exposure_low", "exposure_high"))
    exposure = pc.fill_null(out["exposure"], np.nan).to_numpy(zero_copy_only=False)
    if "automation" in out:
        out.update(potential(exposure, out["automation"]))
    out["rank"] = rank_desc(exposure)

    # 3. evidence: the tasks that contribute most to the headline score
    if top_tasks:
        inv = np.searchsorted(np.asarray(all_codes.to_pylist(), dtype=str), codes)  # all_codes is sorted
        top = top_per_group(inv, len(all_codes), headline, top_tasks)
        ids = tasks["task_id"].combine_chunks() if "task_id" in tasks.column_names else pa.nulls(n, pa.int32())
        out.update(top_task_columns(top, ids, tasks["task"].combine_chunks(), headline))
    return pa.table(out)


# --------------------------------------------------------------------------- roll-ups

def _score_columns(table: pa.Table) -> list[str]:
    """Numeric columns averaged in a roll-up: all but counts, ranks and task evidence."""
    return [f.name for f in table.schema
            if (pa.types.is_floating(f.type) or pa.types.is_integer(f.type))
            and f.name not in _COUNT_COLUMNS and f.name not in _DERIVED and f.name != "rank"
            and not _TOP_RE.match(f.name)]


def rollup(table: pa.Table, keys: np.ndarray, members: np.ndarray, titles: Mapping[str, str],
           member_column: str) -> pa.Table:
    """Group the rows of an occupation table: row ``i`` joins group ``keys[i]`` as member ``members[i]``.

    Each score column is the equal-weight mean over the members with a value, ``n_tasks`` is summed,
    ``labelled`` is true where any member is, ``member_column`` lists the members (``"a;b"``), the rank is
    redone and the top tasks are the best among the members' top tasks, each task once (a task can reach
    a group through two members where a code was split). Groups come out sorted, in ``soc_code``; ``title``
    from ``titles`` (else the first member's). The roll-ups to SOC 2018, SOC 2010 and ISCO-08 are this.

    >>> t = pa.table({"soc_code": ["a", "b"], "exposure": [0.2, 0.4]})
    >>> rollup(t, np.array(["g", "g"]), np.array(["a", "b"]), {"g": "G"}, "members").to_pylist()[0]["exposure"]
    0.30000000000000004
    """
    score_cols = _score_columns(table)
    agg = aggregate(keys, None, {c: float_column(table, c) for c in score_cols})
    uniq = np.asarray(agg["soc_code"].to_pylist(), dtype=str)
    inv = np.searchsorted(uniq, keys)
    g = uniq.shape[0]
    out: dict[str, pa.Array] = {"soc_code": agg["soc_code"]}
    if titles or "title" in table.column_names:
        first = {}
        if "title" in table.column_names:
            for k, t in zip(keys.tolist(), table["title"].to_pylist()):
                first.setdefault(k, t)
        out["title"] = pa.array([titles.get(k, first.get(k)) for k in uniq.tolist()], pa.string())
    # Which source codes each row stands for: "15-1252.00;15-1252.01".
    order = np.lexsort((members, inv))
    bounds = np.searchsorted(inv[order], np.arange(g + 1))
    out[member_column] = pa.array([";".join(dict.fromkeys(members[order[a:b]].tolist()))
                                   for a, b in zip(bounds[:-1], bounds[1:])], pa.string())
    for c in _COUNT_COLUMNS:
        if c in table.column_names:
            counts = np.nan_to_num(float_column(table, c))
            out[c] = pa.array(np.bincount(inv, weights=counts, minlength=g).astype(np.int32))
    if "labelled" in table.column_names:  # in-sample if any member is
        flag = pc.fill_null(table["labelled"], False).to_numpy(zero_copy_only=False).astype(np.float64)
        out["labelled"] = pa.array(np.bincount(inv, weights=flag, minlength=g) > 0)
    for c in score_cols:
        out[c] = agg[c]
    if "exposure" in out:
        exposure = pc.fill_null(out["exposure"], np.nan).to_numpy(zero_copy_only=False)
        if "automation" in out and "potential" in table.column_names:  # from the group's means, not averaged
            out.update(potential(exposure, out["automation"]))
        out["rank"] = rank_desc(exposure)
    # Evidence: the best tasks among all the members' top tasks.
    k = 0
    while f"top_task_{k + 1}" in table.column_names:
        k += 1
    if k:
        ids = pa.concat_arrays([table[f"top_task_{r + 1}_id"].combine_chunks() for r in range(k)])
        texts = pa.concat_arrays([table[f"top_task_{r + 1}"].combine_chunks() for r in range(k)])
        scores = np.concatenate([float_column(table, f"top_task_{r + 1}_exposure") for r in range(k)])
        group = np.tile(inv, k)
        # A task reaching a group through two members (a code split in a crosswalk) counts once, at its best.
        key = np.array([f"{gi}\x1f{i}\x1f{t}" for gi, i, t in zip(group.tolist(), ids.to_pylist(), texts.to_pylist())])
        best_first = np.argsort(-np.where(np.isnan(scores), -np.inf, scores), kind="stable")
        kept = np.zeros(scores.shape[0], dtype=bool)
        kept[best_first[np.unique(key[best_first], return_index=True)[1]]] = True
        scores = np.where(kept, scores, np.nan)
        top = top_per_group(group, g, scores, k)
        out.update(top_task_columns(top, ids, texts, scores))
    return pa.table(out)


def is_onet_level(table: pa.Table) -> bool:
    """Whether every code of the table's ``soc_code`` column is an O*NET-SOC code (``"15-1252.00"``)."""
    codes = table["soc_code"].drop_null().to_pylist()
    return bool(codes) and all("." in c for c in codes)


def to_soc2018(table: TableLike) -> pa.Table:
    """Roll an O*NET-level occupation table (pyarrow, pandas or polars: :func:`as_table`) up to 6-digit
    SOC 2018 codes.

    O*NET-SOC 2019 codes cut to six digits (``"15-1252.00"`` -> ``"15-1252"``)
    are SOC 2018 codes. Where several O*NET occupations share one SOC code
    (``29-1229.01`` ... ``29-1229.06``), each score column is the plain mean
    over the O*NET occupations that have a value: every O*NET occupation
    weighs the same, however many tasks it lists, as in Felten et al.'s AIOE
    and the usual O*NET -> SOC practice (O*NET publishes no employment below
    the SOC level). ``n_tasks`` is summed, ``rank`` recomputed, the top tasks
    are the best among the members' top tasks, ``onet_codes`` lists the
    members, ``labelled`` (when present) is true where any member is, and
    ``title`` is the SOC 2018 title from the BLS crosswalk.

    >>> t = pa.table({"soc_code": ["29-1229.01", "29-1229.02"], "exposure": [0.2, 0.4]})
    >>> row = to_soc2018(t).to_pylist()[0]
    >>> row["soc_code"], round(row["exposure"], 2), row["onet_codes"]
    ('29-1229', 0.3, '29-1229.01;29-1229.02')
    """
    table = as_table(table, "table")
    require_columns(table.column_names, ["soc_code"], "table")
    codes = normalize_codes(table["soc_code"].to_pylist(), "onet")
    bad = [c for c, n in zip(table["soc_code"].to_pylist(), codes) if n is None]
    if bad:
        raise ValueError(f"not O*NET-SOC codes: {', '.join(map(repr, bad[:5]))}")
    members = np.asarray(codes, dtype=str)
    keys = np.asarray([c[:7] for c in codes], dtype=str)
    cw = load_crosswalk()
    titles = dict(zip(cw["soc_2018_code"].to_pylist(), cw["soc_2018_title"].to_pylist()))
    return rollup(table, keys, members, titles, "onet_codes")


def to_soc2010(table: TableLike) -> pa.Table:
    """Express an occupation table (O*NET or SOC 2018 level; pyarrow, pandas or polars: :func:`as_table`)
    in 6-digit SOC 2010 codes.

    O*NET-level tables are first rolled up with :func:`to_soc2018`. The BLS
    crosswalk is many-to-many: a SOC 2010 code takes the plain mean of every
    SOC 2018 code it maps to (among those with a value), and a SOC 2018 code
    that was split from several 2010 codes passes its full value to each of
    them (so its ``n_tasks`` count in each). ``soc_2018_codes`` lists the
    sources; ``title`` is the SOC 2010 title. SOC 2018 codes not in the
    crosswalk are dropped.

    >>> t = pa.table({"soc_code": ["15-1252", "15-1253"], "exposure": [0.8, 0.4]})
    >>> rows = {r["soc_code"]: r for r in to_soc2010(t).to_pylist()}
    >>> round(rows["15-1132"]["exposure"], 2), rows["15-1132"]["soc_2018_codes"], rows["15-1199"]["exposure"]
    (0.6, '15-1252;15-1253', 0.4)
    """
    table = as_table(table, "table")
    require_columns(table.column_names, ["soc_code"], "table")
    if is_onet_level(table):
        table = to_soc2018(table)
    codes = normalize_codes(table["soc_code"].to_pylist(), "soc2018")
    cw = load_crosswalk()
    src = pa.array(codes, pa.string())
    pos = pc.index_in(cw["soc_2018_code"], value_set=src)  # row of each crosswalk pair's 2018 code
    valid = pc.is_valid(pos)
    pairs = cw.filter(valid)
    expanded = table.take(pos.filter(valid))
    if "title" in expanded.column_names:
        expanded = expanded.drop_columns(["title"])
    titles = dict(zip(pairs["soc_2010_code"].to_pylist(), pairs["soc_2010_title"].to_pylist()))
    return rollup(expanded, np.asarray(pairs["soc_2010_code"].to_pylist(), dtype=str),
                   np.asarray(pairs["soc_2018_code"].to_pylist(), dtype=str), titles, "soc_2018_codes")


def to_level(table: TableLike, level: str) -> pa.Table:
    """An O*NET-level occupation table at ``level``: ``"onet"`` (as is), ``"soc2018"`` or ``"soc2010"``.

    ``table``: a pyarrow Table, or a pandas or polars DataFrame (:func:`as_table`).
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; use one of: {', '.join(LEVELS)}")
    return {"onet": as_table, "soc2018": to_soc2018, "soc2010": to_soc2010}[level](table)
