"""ISCO-08: exposure of the ILO's occupation classification, scored natively and rolled up from O*NET.

Two ways to an ISCO-08 table, both keyed by ``isco08`` (the 4-digit unit group, ``"2512"``):

- **native** (:func:`isco_tasks`, :func:`isco_table`, :func:`score_isco`): the task list of each unit
  group's ILO definition (``Tasks include - (a) ...; (b) ...``), one task statement per item, scored by
  the :class:`~exposure.ExposureModel` like an O*NET task and averaged per unit group with **equal task
  weights** (ISCO rates no task as core). 427 of the 436 unit groups list tasks (3,264 items); the other
  9 (the three armed-forces groups and six "not elsewhere classified" groups) are scored from the first
  paragraph of their definition, one statement each (``from_definition``).
- **onet** (:func:`to_isco08`): an O*NET-level occupation table rolled up O*NET-SOC 2019 -> SOC 2018
  -> SOC 2010 (:func:`exposure.occupations.to_soc2010`), then SOC 2010 -> ISCO-08 through the IBS
  concordance (many-to-many): a unit group takes the **plain mean of the SOC 2010 codes mapped to it**,
  and a SOC code mapped to several unit groups gives its full value to each.

:func:`to_isco_level` takes either to 1-3 digit groups (the plain mean of their unit groups);
:func:`isco_employment_join` joins an employment table keyed by ISCO-08 to the scores (for
``exposure workforce``). Aggregation and roll-ups need numpy and pyarrow only; scoring needs a model.

>>> groups = load_isco_groups(4)
>>> groups.num_rows, groups["title"][0].as_py()
(436, 'Commissioned armed forces officers')
>>> tasks = isco_tasks()
>>> tasks.num_rows, tasks.filter(pc.equal(tasks["isco08"], "2512"))["task"][0].as_py()[:39]
(3273, 'Researching, analysing and evaluating r')
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Optional, Sequence, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..io import TableLike, as_table, float_column, read_batches, require_columns
from ..occupations.catalogue import load_isco_crosswalk, normalize_codes, normalize_isco_codes
from ..occupations.isco_codes import (ISCO_DIGITS, isco_group_titles, isco_task_embeddings, isco_tasks,
                                      load_isco_groups, parse_task_list)
from ..occupations.tables import aggregate, potential, rank_desc, rollup, score_columns, top_task_columns
from ..occupations.tables import to_soc2010
from ..stats import top_per_group

if TYPE_CHECKING:
    from ..scoring import ExposureModel

__all__ = ["ISCO_DIGITS", "ISCO_SOURCES", "load_isco_groups", "load_isco_crosswalk", "parse_task_list",
           "isco_tasks", "isco_task_embeddings", "isco_table", "score_isco", "to_isco08", "to_isco_level",
           "read_isco_employment", "isco_employment_join", "normalize_isco_codes"]

logger = logging.getLogger(__name__)

#: Where ISCO-08 scores come from: the ILO task lists scored natively, or O*NET scores rolled up.
ISCO_SOURCES = ("native", "onet")

# --------------------------------------------------------------------------- shipped tables


def isco_table(task_scores: TableLike, top_tasks: int = 3) -> pa.Table:
    """One row per ISCO-08 unit group from task scores: equal-weight means, rank and the most exposed tasks.

    ``task_scores`` (pyarrow, pandas or polars) needs ``isco08`` and ``exposure``; ``task_id``, ``task``
    and ``from_definition`` are used when present. Every ``exposure_<technology>``, ``alpha``, ``beta``,
    ``gamma`` (from ``p_e0``..``p_e2``), ``automation_exposure`` and ``gpt4_automation`` column is averaged
    with every task weighing 1 (ISCO does not mark core tasks).

    Columns: ``isco08``, ``title``, ``n_tasks``, ``from_definition``, ``exposure``, [``alpha``, ``beta``,
    ``gamma``], ``exposure_<technology>``..., [``automation_exposure``], [``gpt4_automation``], ``rank``
    (1 = most exposed), ``top_task_k_id``, ``top_task_k``, ``top_task_k_exposure``. All 436 unit groups
    are listed (without scored tasks: ``n_tasks = 0`` and nulls), sorted by code.

    >>> t = pa.table({"isco08": ["2512", "2512", "9629"], "task": ["Write code.", "Test code.", "Sell tickets."],
    ...               "exposure": [0.9, 0.5, 0.2]})
    >>> row = isco_table(t).filter(pc.equal(pc.field("isco08"), "2512")).to_pylist()[0]
    >>> round(row["exposure"], 2), row["n_tasks"], row["rank"], row["top_task_1"]
    (0.7, 2, 1, 'Write code.')
    """
    tasks = as_table(task_scores, "task_scores")
    require_columns(tasks.column_names, ["isco08", "exposure"], "the ISCO-08 task scores")
    if top_tasks < 0:
        raise ValueError(f"top_tasks must be >= 0, got {top_tasks}")
    codes = normalize_isco_codes(tasks["isco08"].to_pylist())
    bad = [r for r, c in zip(tasks["isco08"].to_pylist(), codes) if c is None]
    if bad:
        raise ValueError(f"not 4-digit ISCO-08 codes in the task scores: {', '.join(map(repr, bad[:5]))}")
    titles = isco_group_titles(4)
    unknown = sorted(set(codes) - set(titles))
    if unknown:
        raise ValueError(f"unknown ISCO-08 unit groups in the task scores: {', '.join(unknown[:10])}")
    cols: dict[str, np.ndarray] = {"exposure": float_column(tasks, "exposure")}
    if all(c in tasks.column_names for c in ("p_e0", "p_e1", "p_e2")):
        p1, p2 = float_column(tasks, "p_e1"), float_column(tasks, "p_e2")
        cols.update(alpha=p1, beta=p1 + 0.5 * p2, gamma=p1 + p2)
    for c in score_columns(tasks):
        cols.setdefault(c, float_column(tasks, c))
    agg = aggregate(codes, None, cols)

    all_codes = pa.array(sorted(titles), pa.string())
    pos = pc.index_in(all_codes, value_set=agg["soc_code"])
    out: dict[str, pa.Array] = {"isco08": all_codes, "title": pa.array([titles[c] for c in all_codes.to_pylist()]),
                                "n_tasks": pc.fill_null(pc.take(agg["n_tasks"], pos), 0)}
    if "from_definition" in tasks.column_names:
        flag = dict(zip(codes, pc.fill_null(tasks["from_definition"], False).to_pylist()))
        out["from_definition"] = pa.array([flag.get(c) for c in all_codes.to_pylist()], pa.bool_())
    for c in cols:
        out[c] = pc.take(agg[c], pos)
    exposure = pc.fill_null(out["exposure"], np.nan).to_numpy(zero_copy_only=False)
    if "automation" in out:
        out.update(potential(exposure, out["automation"]))
    out["rank"] = rank_desc(exposure)
    if top_tasks:
        inv = np.searchsorted(np.asarray(all_codes.to_pylist(), dtype=str), np.asarray(codes, dtype=str))
        top = top_per_group(inv, len(all_codes), cols["exposure"], top_tasks)
        n = tasks.num_rows
        ids = tasks["task_id"].combine_chunks() if "task_id" in tasks.column_names else pa.nulls(n, pa.string())
        texts = tasks["task"].combine_chunks() if "task" in tasks.column_names else pa.nulls(n, pa.string())
        out.update(top_task_columns(top, ids, texts, cols["exposure"]))
    return pa.table(out)


def score_isco(model: Optional["ExposureModel"] = None, source: str = "native", *, digits: int = 4,
               release: str = "27", top_tasks: int = 3, show_progress: bool = False,
               cache_dir: Union[str, os.PathLike, None, bool] = None,
               embeddings: Optional[np.ndarray] = None) -> pa.Table:
    """ISCO-08 exposure table by ``model`` (``None``: the default :class:`~exposure.ExposureModel`).

    ``source="native"`` scores the ILO task lists (:func:`isco_tasks`, 3,273 statements: a few minutes on a
    CPU the first time, then the embeddings come from the cache) and averages them per unit group
    (:func:`isco_table`); ``embeddings`` may hold them, row-aligned with :func:`isco_tasks`.
    ``source="onet"`` scores the O*NET ``release`` (:func:`exposure.occupations.score_occupations`; about
    two minutes on a CPU) and rolls it up with :func:`to_isco08`. ``digits`` < 4 aggregates the unit
    groups further (:func:`to_isco_level`).

    >>> table = score_isco(ExposureModel(device="cpu"), "native")   # doctest: +SKIP
    """
    if source not in ISCO_SOURCES:
        raise ValueError(f"unknown ISCO-08 source {source!r}; use one of: {', '.join(ISCO_SOURCES)}")
    if digits not in ISCO_DIGITS:
        raise ValueError(f"ISCO-08 levels are 1 to 4 digits, got digits={digits!r}")
    if model is None:
        from ..scoring import ExposureModel  # loads torch: only when no model is given

        model = ExposureModel()
    if source == "onet":
        from ..occupations.score import score_occupations

        if embeddings is not None:
            raise ValueError("embeddings are the ISCO-08 task embeddings (source='native'); for source='onet' "
                             "score the O*NET table with score_occupations(..., embeddings=...) and pass it to "
                             "to_isco08")
        table = to_isco08(score_occupations(model, release, top_tasks=top_tasks, show_progress=show_progress))
    else:
        tasks = isco_tasks()
        texts = tasks["task"].to_pylist()
        if embeddings is None:
            embeddings = isco_task_embeddings(model.encoder, texts, cache_dir=cache_dir, show_progress=show_progress)
        elif len(embeddings) != tasks.num_rows:
            raise ValueError(f"embeddings have {len(embeddings)} rows; isco_tasks() has {tasks.num_rows}")
        scores = model.score_embeddings(embeddings, texts=texts).to_arrow()
        scores = scores.drop_columns([c for c in ("text",) if c in scores.column_names])
        for name in ("isco08", "task_id", "task", "from_definition"):
            scores = scores.append_column(name, tasks[name])
        table = isco_table(scores, top_tasks=top_tasks)
    return table if digits == 4 else to_isco_level(table, digits)


# --------------------------------------------------------------------------- roll-ups


def _regroup(table: pa.Table, keys: Sequence[str], members: Sequence[str], level: int,
             member_column: str) -> pa.Table:
    """:func:`~exposure.occupations.tables.rollup` to ISCO-08 groups of ``level`` digits, every group of the
    level listed (those without a member: ``n_tasks`` 0 and nulls)."""
    titles = isco_group_titles(level)
    done = rollup(table, np.asarray(keys, dtype=str), np.asarray(members, dtype=str), titles, member_column)
    all_codes = pa.array(sorted(titles), pa.string())
    pos = pc.index_in(all_codes, value_set=done["soc_code"])
    out: dict[str, pa.Array] = {"isco08": all_codes,
                                "title": pa.array([titles[c] for c in all_codes.to_pylist()], pa.string())}
    for c in done.column_names:
        if c in ("soc_code", "title"):
            continue
        col = pc.take(done[c], pos)
        out[c] = pc.fill_null(col, 0) if c == "n_tasks" else col
    return pa.table(out)


def to_isco08(table: TableLike, from_level: Optional[str] = None) -> pa.Table:
    """Roll an occupation table keyed by O*NET-SOC, SOC 2018 or SOC 2010 up to ISCO-08 unit groups.

    ``table`` (pyarrow, pandas or polars) has ``soc_code`` and score columns, as made by
    :func:`exposure.occupations.occupation_table` / ``exposure occupations``. ``from_level``:
    ``"onet"``, ``"soc2018"`` or ``"soc2010"``; ``None`` tells O*NET codes by their ``.00`` suffix
    and a SOC 2010 table by its ``soc_2018_codes`` column (:func:`~exposure.occupations.to_soc2010`),
    else SOC 2018. The chain: O*NET-SOC -> SOC 2018 (mean of the O*NET occupations) -> SOC 2010
    (mean of the 2018 codes) -> ISCO-08: each unit group takes the **plain mean of the SOC 2010 codes
    that the concordance maps to it** (each SOC code weighs the same: no employment weights), and a SOC
    code mapped to several unit groups passes its full value to each.

    Columns: ``isco08``, ``title`` (ISCO-08), ``soc_2010_codes`` (the members), ``n_tasks`` (summed over
    the members; a task can count in several members where SOC codes were split), ``labelled`` (any
    member), the score columns, ``rank``, and the best distinct tasks among the members' top tasks. All
    436 unit groups are listed (the concordance reaches every one); those none of whose SOC 2010 codes has a
    score have nulls (8 from O*NET 29.1: two armed-forces groups, pawnbrokers, sweepers...).

    >>> t = pa.table({"soc_code": ["15-1132", "15-1133"], "exposure": [0.8, 0.4]})
    >>> rows = {r["isco08"]: r for r in to_isco08(t, "soc2010").to_pylist()}
    >>> round(rows["2512"]["exposure"], 2), rows["2512"]["soc_2010_codes"]
    (0.6, '15-1132;15-1133')
    """
    table = as_table(table, "table")
    require_columns(table.column_names, ["soc_code"], "the occupation table")
    levels = ("onet", "soc2018", "soc2010")
    if from_level is not None and from_level not in levels:
        raise ValueError(f"unknown level {from_level!r}; use one of: {', '.join(levels)}")
    if from_level is None:
        from_level = "soc2010" if "soc_2018_codes" in table.column_names else None
    if from_level != "soc2010":
        table = to_soc2010(table)  # O*NET or SOC 2018 -> SOC 2010
    codes = normalize_codes(table["soc_code"].to_pylist(), "soc2010")
    bad = [r for r, c in zip(table["soc_code"].to_pylist(), codes) if c is None]
    if bad:
        raise ValueError(f"not SOC 2010 codes: {', '.join(map(repr, bad[:5]))}")
    cw = load_isco_crosswalk()
    pos = pc.index_in(cw["soc_2010_code"], value_set=pa.array(codes, pa.string()))
    valid = pc.is_valid(pos)
    pairs = cw.filter(valid)
    if pairs.num_rows == 0:
        raise ValueError(f"no SOC 2010 code of the table is in the SOC 2010 -> ISCO-08 concordance (codes look "
                         f"like {', '.join(map(repr, codes[:3]))})")
    expanded = table.take(pos.filter(valid))
    expanded = expanded.drop_columns([c for c in ("title", "soc_2018_codes", "onet_codes")
                                      if c in expanded.column_names])
    unmatched = sorted(set(codes) - set(pairs["soc_2010_code"].to_pylist()))
    if unmatched:
        logger.info("%d SOC 2010 codes have no ISCO-08 unit group in the concordance: %s", len(unmatched),
                    ", ".join(unmatched[:10]))
    return _regroup(expanded, pairs["isco08"].to_pylist(), pairs["soc_2010_code"].to_pylist(), 4, "soc_2010_codes")


def to_isco_level(table: TableLike, digits: int) -> pa.Table:
    """An ISCO-08 unit-group table (``isco08`` 4-digit) at ``digits`` 1-3: the plain mean of the unit groups
    with a value in each group (``n_tasks`` summed, ``labelled`` any, ``isco08_units`` the members, the best
    distinct top tasks, ``rank`` redone). ``digits=4`` returns the table as it is.

    >>> t = pa.table({"isco08": ["2511", "2512", "9629"], "exposure": [0.8, 0.6, 0.1]})
    >>> row = to_isco_level(t, 1).to_pylist()[2]
    >>> row["isco08"], row["title"], round(row["exposure"], 2), row["isco08_units"]
    ('2', 'Professionals', 0.7, '2511;2512')
    """
    table = as_table(table, "table")
    require_columns(table.column_names, ["isco08"], "the ISCO-08 table")
    if digits not in ISCO_DIGITS:
        raise ValueError(f"ISCO-08 levels are 1 to 4 digits, got digits={digits!r}")
    codes = normalize_isco_codes(table["isco08"].to_pylist())
    bad = [r for r, c in zip(table["isco08"].to_pylist(), codes) if c is None]
    if bad:
        raise ValueError(f"not 4-digit ISCO-08 codes: {', '.join(map(repr, bad[:5]))}")
    if digits == 4:
        return table
    table = table.drop_columns([c for c in ("title", "soc_2010_codes", "from_definition", "rank")
                                if c in table.column_names])
    return _regroup(table, [c[:digits] for c in codes], codes, digits, "isco08_units")


# --------------------------------------------------------------------------- employment


def read_isco_employment(employment: Union[TableLike, str, os.PathLike], code_column: str = "isco08",
                         employment_column: str = "employment") -> pa.Table:
    """An employment table keyed by ISCO-08 groups of one level, checked: ``isco08`` (``"2512"``), ``employment``.

    ``employment``: a CSV, TSV, Parquet or JSON Lines file, or a pyarrow, pandas or polars table, with one
    row per group (codes as ``2512``, ``"2512"`` or ``"ISCO 2512"``; ``examples/isco_employment.csv``
    shows the format). The groups are unit groups (4 digits) or, as statistics offices often publish,
    minor (3), sub-major (2) or major groups (1 digit), all of one level: the level at which every code is
    an ISCO-08 group, the finest first (a file of numbers that fits two levels is an error naming them).
    Rows of one code are summed. Codes that are not ISCO-08 groups, and missing, non-numeric or negative
    counts, are errors naming them.

    >>> read_isco_employment(pa.table({"isco08": [2512, 2512, 110], "employment": [5, 5, 1]})).to_pylist()
    [{'isco08': '0110', 'employment': 1.0}, {'isco08': '2512', 'employment': 10.0}]
    >>> read_isco_employment(pa.table({"isco08": ["4", "9"], "employment": [7, 3]}))["isco08"].to_pylist()
    ['4', '9']
    """
    if isinstance(employment, (str, os.PathLike)):
        where = repr(str(employment))
        table = pa.Table.from_batches(list(read_batches(employment, [code_column], batch_size=1 << 16)))
    else:
        where, table = "the employment table", as_table(employment, "employment")
    require_columns(table.column_names, [code_column, employment_column], where)
    raw = table[code_column].to_pylist()
    fits = {}
    for digits in (4, 3, 2, 1):
        codes = normalize_isco_codes(raw, digits)
        titles = isco_group_titles(digits)
        if raw and all(c is not None and c in titles for c in codes):
            fits[digits] = codes
    texts = {len(str(r).strip()) for r in raw if isinstance(r, str)}
    if len(fits) > 1 and len(texts) == 1 and texts & set(fits):  # text codes say their own level
        fits = {d: c for d, c in fits.items() if d in texts}
    if len(fits) > 1:
        raise ValueError(f"{where} column {code_column!r} reads as ISCO-08 groups of {' or '.join(map(str, fits))} "
                         "digits; write the codes as text with their leading zeros ('0110', '01') to say which")
    if not fits:
        codes = normalize_isco_codes(raw)
        titles = isco_group_titles(4)
        bad = sorted({str(r) for r, c in zip(raw, codes) if c is None or c not in titles})
        raise ValueError(f"{where} column {code_column!r} has codes that are not ISCO-08 groups of one level "
                         f"(unit groups like '2512', or 1-3 digit groups): {', '.join(map(repr, bad[:10]))}"
                         + (f" and {len(bad) - 10} more" if len(bad) > 10 else ""))
    codes = next(iter(fits.values()))
    values = table[employment_column]
    try:
        values = pc.cast(values, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValueError(f"{where} column {employment_column!r} must be numeric: {exc}") from None
    x = pc.fill_null(values, np.nan).to_numpy(zero_copy_only=False)
    wrong = [str(r) for r, v in zip(raw, x) if not np.isfinite(v) or v < 0]
    if wrong:
        raise ValueError(f"{where} column {employment_column!r} is missing or negative for "
                         f"{', '.join(map(repr, wrong[:10]))}")
    uniq, inv = np.unique(np.asarray(codes, dtype=str), return_inverse=True)
    return pa.table({"isco08": pa.array(uniq.tolist(), pa.string()),
                     "employment": pa.array(np.bincount(inv.reshape(-1), weights=x), pa.float64())})


def isco_employment_join(employment: Union[TableLike, str, os.PathLike], scores: TableLike, *,
                         code_column: str = "isco08", employment_column: str = "employment",
                         columns: Optional[Sequence[str]] = None) -> pa.Table:
    """Our ISCO-08 scores joined to an employment table keyed by ISCO-08 groups.

    ``employment``: see :func:`read_isco_employment`. ``scores``: a 4-digit ISCO-08 table
    (:func:`score_isco`, :func:`to_isco08`, ``exposure occupations --taxonomy isco08``); for employment at
    1 to 3 digits it is rolled up to that level first (:func:`to_isco_level`: the plain mean of the unit
    groups, whose employment the table does not give). ``columns``: our
    columns to carry (default: :func:`~exposure.occupations.tables.score_columns` and ``labelled``, those
    present).

    Returns one row per group of the employment table: ``isco08``, ``title``, ``major_group`` (the
    1-digit code), ``employment``, ``employment_share``, then our columns (nulls where we have no score:
    logged with the share of employment concerned). This is what ``exposure workforce`` weighs.

    >>> ours = pa.table({"isco08": ["2512", "9629"], "exposure": [0.8, 0.1]})
    >>> emp = pa.table({"isco08": ["ISCO 2512", "9629"], "employment": [300, 100]})
    >>> [(r["isco08"], r["employment_share"], r["exposure"]) for r in isco_employment_join(emp, ours).to_pylist()]
    [('2512', 0.75, 0.8), ('9629', 0.25, 0.1)]
    """
    emp = read_isco_employment(employment, code_column, employment_column)
    ours = as_table(scores, "scores")
    require_columns(ours.column_names, ["isco08"], "our ISCO-08 scores")
    our_codes = normalize_isco_codes(ours["isco08"].to_pylist())
    if any(c is None for c in our_codes):
        raise ValueError("our scores are not keyed by 4-digit ISCO-08 unit groups; join the unit-group table "
                         "(score_isco(..., digits=4)) and aggregate afterwards")
    digits = len(emp["isco08"][0].as_py()) if emp.num_rows else 4
    if digits < 4:
        ours = to_isco_level(ours.set_column(ours.column_names.index("isco08"), "isco08",
                                             pa.array(our_codes, pa.string())), digits)
        our_codes = ours["isco08"].to_pylist()
    if columns is None:
        columns = score_columns(ours) + [c for c in ("labelled",) if c in ours.column_names]
    else:
        require_columns(ours.column_names, list(columns), "our ISCO-08 scores")
    pos = pc.index_in(emp["isco08"], value_set=pa.array(our_codes, pa.string()))
    x = emp["employment"].to_numpy()
    total = float(x.sum())
    titles = isco_group_titles(digits)
    out: dict[str, pa.Array] = {
        "isco08": emp["isco08"],
        "title": pa.array([titles[c] for c in emp["isco08"].to_pylist()], pa.string()),
        "major_group": pc.utf8_slice_codeunits(emp["isco08"], 0, 1),
        "employment": emp["employment"],
        "employment_share": pa.array(x / total if total > 0 else np.full(x.shape, np.nan), pa.float64()),
    }
    for c in columns:
        out[c] = pc.take(ours[c], pos)
    joined = pa.table(out)
    if "exposure" in joined.column_names:
        missing = pc.is_null(joined["exposure"]).to_numpy(zero_copy_only=False)
        if missing.any():
            logger.warning("%d of %d unit groups of the employment table (%.1f%% of employment) have no score "
                           "of ours: %s", int(missing.sum()), joined.num_rows,
                           100 * x[missing].sum() / max(total, 1e-300),
                           ", ".join(np.asarray(emp["isco08"].to_pylist())[missing][:10].tolist()))
    return joined
