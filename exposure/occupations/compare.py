"""Compare our occupation scores with a published occupation-level index.

An index is any table with an occupation code column and a numeric column
(e.g. Microsoft's AI applicability score by SOC 2018 code, Felten et al.'s
AIOE by SOC 2010, an index by ISCO-08 unit group). Codes are normalised (``"11-1011.00"``,
``"11-1011"``, ``"111011"``; ``"2512"``, ``"ISCO 2512"``, ``2512``), our O*NET-level table is rolled
up to the index's code system (:func:`exposure.occupations.to_soc2018` /
:func:`~exposure.occupations.to_soc2010`; for ISCO-08 our table must already be keyed by ``isco08``:
``exposure occupations --taxonomy isco08`` or :func:`exposure.labour.to_isco08`), and the two are
correlated with bootstrap intervals.

>>> result = compare_index("microsoft.csv", ours, code_column="SOC Code",   # doctest: +SKIP
...                        value_column="ai_applicability_score", code_system="soc2018")
>>> print(result.summary())                                                 # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..io import TableLike, as_table, read_batches, require_columns
from ..stats import pearson, rankdata
from .bls_codes import to_bls_codes
from .catalogue import CODE_SYSTEMS, normalize_codes, normalize_isco_codes
from .tables import is_onet_level, to_soc2010, to_soc2018

__all__ = ["ComparisonResult", "compare_index", "read_index", "CODE_SYSTEMS", "INDEX_CODE_SYSTEMS"]

#: Code systems an index can use: O*NET-SOC detail, SOC 2018 or SOC 2010 (6-digit), ISCO-08 unit groups.
INDEX_CODE_SYSTEMS = CODE_SYSTEMS + ("isco08",)

_SYSTEM_NAMES = {"onet": "O*NET-SOC", "soc2018": "SOC 2018", "soc2010": "SOC 2010", "isco08": "ISCO-08"}


def _normalize(codes, system: str) -> list:
    return normalize_isco_codes(codes) if system == "isco08" else normalize_codes(codes, system)

logger = logging.getLogger(__name__)


@dataclass
class ComparisonResult:
    """Agreement between a published index and our scores on the occupations both have.

    Attributes:
        n_matched: occupations with a value in both.
        unmatched: index codes (as given) with no score of ours.
        spearman, pearson: correlations over the matched occupations (NaN below 3).
        spearman_ci, pearson_ci: 95% percentile bootstrap intervals (resampling occupations).
        joined: ``code``, ``title``, ``match``, ``index_value``, ``our_value``, ``index_rank``,
            ``our_rank`` (1 = highest), [``labelled``], one row per matched occupation. ``match``: ``exact``,
            or for a SOC 2018 index code that BLS publishes in place of detailed ones (broad, hybrid such as
            ``51-2028`` or ``31-1120``, "All other" such as ``21-1099``) ``hybrid`` / ``residual``: the mean of
            our scores of the codes it covers, as ``exposure workforce`` matches OEWS codes
            (:func:`~exposure.occupations.bls_codes.to_bls_codes`).
        code_system: the index's code system.
        n_index: distinct codes in the index with a value.
        n_boot: bootstrap resamples.
        subsets: when our table has a ``labelled`` column, ``{"labelled": ..., "unlabelled": ...}``, each
            ``{"n": ..., "spearman": ..., "spearman_ci": ..., "pearson": ..., "pearson_ci": ...}`` over
            those matched occupations. Labelled occupations' human labels trained the head: an occupation
            table scores them out of fold in ``exposure`` (heads fitted without their labels) and in sample
            in ``exposure_in_sample``; the unlabelled ones were never in the head's training data.
    """

    n_matched: int
    unmatched: list[str]
    spearman: float
    spearman_ci: tuple[float, float]
    pearson: float
    pearson_ci: tuple[float, float]
    joined: pa.Table = field(repr=False)
    code_system: str = "soc2018"
    n_index: int = 0
    n_boot: int = 1000
    subsets: dict = field(default_factory=dict)

    @property
    def n_unmatched(self) -> int:
        return len(self.unmatched)

    def summary(self, max_unmatched: int = 20) -> str:
        """A few readable lines: counts, unmatched codes (truncated), correlations with intervals."""
        shown = ", ".join(self.unmatched[:max_unmatched])
        more = len(self.unmatched) - max_unmatched
        if more > 0:
            shown += f", ... and {more} more"
        via = sum(m != "exact" for m in self.joined["match"].to_pylist()) if "match" in self.joined.column_names else 0
        lines = [f"index occupations: {self.n_index} ({_SYSTEM_NAMES[self.code_system]})",
                 f"matched: {self.n_matched}" + (f" ({via} through the SOC 2018 codes a BLS broad, hybrid or "
                                                 "'All other' code covers)" if via else ""),
                 f"unmatched: {self.n_unmatched}" + (f" ({shown})" if self.unmatched else "")]
        for name, r, ci in (("Spearman", self.spearman, self.spearman_ci), ("Pearson", self.pearson, self.pearson_ci)):
            lines.append(f"{name:<8} {r:+.3f}  95% CI [{ci[0]:+.3f}, {ci[1]:+.3f}]  "
                         f"({self.n_boot} bootstrap resamples)")
        for name, what in (("labelled", "human labels trained the head: out of fold in 'exposure', in sample in "
                                        "'exposure_in_sample'"),
                           ("unlabelled", "not in the head's training data: predictions")):
            if name in self.subsets:
                sub = self.subsets[name]
                ci = sub["spearman_ci"]
                lines.append(f"  {name:<10} {sub['n']:>4} matched  Spearman {sub['spearman']:+.3f}  "
                             f"95% CI [{ci[0]:+.3f}, {ci[1]:+.3f}]  ({what})")
        return "\n".join(lines)


def _correlations(x: np.ndarray, y: np.ndarray, n_boot: int, seed: int):
    n = x.shape[0]
    if n < 3:
        nan = (float("nan"), float("nan"))
        return float("nan"), nan, float("nan"), nan
    rho = float(pearson(rankdata(x), rankdata(y)))
    r = float(pearson(x, y))
    if n_boot <= 0:
        nan = (float("nan"), float("nan"))
        return rho, nan, r, nan
    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    bx, by = x[idx], y[idx]
    boot_rho = pearson(rankdata(bx), rankdata(by))
    boot_r = pearson(bx, by)

    def ci(v):
        v = v[~np.isnan(v)]
        return (float("nan"), float("nan")) if v.size == 0 else tuple(float(q) for q in np.percentile(v, [2.5, 97.5]))

    return rho, ci(boot_rho), r, ci(boot_r)


def read_index(index: Union[TableLike, str, os.PathLike], code_column: str, value_column: str) -> pa.Table:
    """Read an index (CSV, TSV, Parquet, JSON Lines, or a pyarrow, pandas or polars table) keeping the two
    columns it needs.

    Codes are read as text; the value column must be numeric (blank cells and NaN are missing values).
    """
    if isinstance(index, (str, os.PathLike)):
        table = pa.Table.from_batches(list(read_batches(index, [code_column], batch_size=1 << 16)))
        where = repr(str(index))
    else:
        try:
            table, where = as_table(index, "index"), "index"
        except TypeError as exc:
            raise TypeError(f"{exc}, or the path of a CSV, TSV, Parquet or JSON Lines file") from None
    require_columns(table.column_names, (code_column, value_column), where)
    values = table[value_column]
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        values = pc.utf8_trim_whitespace(values)
        values = pc.if_else(pc.equal(values, ""), pa.scalar(None, values.type), values)
        try:
            values = pc.cast(values, pa.float64())
        except pa.ArrowInvalid as exc:
            raise ValueError(f"{where} column {value_column!r} must be numeric: {exc}") from None
    elif not (pa.types.is_floating(values.type) or pa.types.is_integer(values.type)):
        raise ValueError(f"{where} column {value_column!r} must be numeric, got {values.type}")
    codes = pc.cast(table[code_column], pa.string())
    return pa.table({"code": codes, "value": pc.cast(values, pa.float64())})


def _ours_at(ours: pa.Table, system: str, our_column: str) -> pa.Table:
    """Our table expressed in ``system``: rolled up from O*NET detail where needed."""
    if system == "isco08":
        # ISCO-08 tables (exposure.labour.isco) are keyed by `isco08`; the roll-up lives above this layer.
        if "isco08" not in ours.column_names:
            raise ValueError("the index uses ISCO-08 codes but our scores have no 'isco08' column; make an ISCO-08 "
                             "table with 'exposure occupations --taxonomy isco08' (or exposure.labour.to_isco08 "
                             f"of an O*NET table); their columns are: {', '.join(ours.column_names)}")
        if our_column not in ours.column_names:
            raise ValueError(f"our scores have no column {our_column!r}; "
                             f"their columns are: {', '.join(ours.column_names)}")
        keep = [our_column] + [c for c in ("title", "labelled") if c in ours.column_names]
        return ours.select(keep).add_column(0, "soc_code", ours["isco08"])  # numbers are normalised too
    # Not io.require_columns: that says "has ... its columns", and "our scores" is plural.
    missing = [c for c in ("soc_code", our_column) if c not in ours.column_names]
    if missing:
        raise ValueError(f"our scores have no column {', '.join(map(repr, missing))}; "
                         f"their columns are: {', '.join(ours.column_names)}")
    codes = ours["soc_code"]
    if not pa.types.is_string(codes.type):  # numbers from a JSON Lines or Parquet file: judged by their text
        codes = pa.array([None if c is None else str(c) for c in codes.to_pylist()], pa.string())
    onet_level = is_onet_level(pa.table({"soc_code": codes}))
    soc2010_level = "soc_2018_codes" in ours.column_names  # made by to_soc2010
    keep = ["soc_code", our_column] + [c for c in ("title", "labelled") if c in ours.column_names]
    ours = ours.select(keep)
    if soc2010_level:
        if system != "soc2010":
            raise ValueError(f"our scores are at SOC 2010 level and cannot be compared in {_SYSTEM_NAMES[system]}; "
                             "pass the O*NET-level table")
        return ours
    if system == "onet":
        if not onet_level:
            raise ValueError("the index uses O*NET-SOC codes but our scores are at SOC level; "
                             "score at O*NET level (codes like '11-1011.00') or compare at soc2018")
        return ours
    if onet_level:
        ours = to_soc2018(ours)
    return to_soc2010(ours) if system == "soc2010" else ours


def compare_index(index: Union[TableLike, str, os.PathLike], ours: TableLike, code_column: str,
                  value_column: str, code_system: str, our_column: str = "exposure",
                  n_boot: int = 1000, seed: int = 0) -> ComparisonResult:
    """Correlate a published occupation index with our occupation scores.

    Args:
        index: a table (pyarrow, pandas or polars) or a file (CSV, TSV, Parquet, JSON Lines) with one row
            per occupation.
        ours: an occupation table, pyarrow, pandas or polars (:func:`~exposure.occupations.occupation_table`,
            ``exposure occupations``) at O*NET level (rolled up as needed), or one
            already rolled up to SOC 2018 or (for a SOC 2010 index) SOC 2010.
        code_column, value_column: the index's occupation code and score columns.
        code_system: the index's codes: ``"onet"``, ``"soc2018"``, ``"soc2010"`` or ``"isco08"`` (4-digit
            unit groups; ``ours`` then needs an ``isco08`` column, see :func:`exposure.labour.to_isco08`).
        our_column: our score to compare (``exposure``, ``beta``, ``exposure_llm``...).
        n_boot, seed: percentile bootstrap over occupations for the 95% intervals.

    Index codes are normalised to the code system; codes repeated in the index
    are averaged; rows with no value are left out. Raises ``ValueError`` when no
    code matches, showing a few codes of each side.

    >>> import pyarrow as pa
    >>> ours = pa.table({"soc_code": ["11-1011.00", "15-1252.00", "47-2061.00", "43-9021.00"],
    ...                  "exposure": [0.5, 0.9, 0.1, 0.8]})
    >>> index = pa.table({"soc": ["111011", "151252", "472061", "439021", "999999"],
    ...                   "score": [0.2, 0.6, 0.0, 0.7, 0.3]})
    >>> r = compare_index(index, ours, "soc", "score", "soc2018", n_boot=200)
    >>> r.n_matched, r.unmatched, round(r.spearman, 2)
    (4, ['999999'], 0.8)
    """
    if code_system not in INDEX_CODE_SYSTEMS:
        raise ValueError(f"unknown code system {code_system!r}; use one of: {', '.join(INDEX_CODE_SYSTEMS)}")
    ours = as_table(ours, "ours")
    idx = read_index(index, code_column, value_column)
    raw = idx["code"].to_pylist()
    norm = _normalize(raw, code_system)
    if code_system == "onet" and not any("." in str(r) for r in raw if r is not None):
        raise ValueError("code_system is 'onet' but no index code has an O*NET detail suffix ('11-1011.00'); "
                         "for 6-digit codes use 'soc2018' or 'soc2010'")
    value = pc.fill_null(idx["value"], np.nan).to_numpy(zero_copy_only=False)
    have = np.array([c is not None for c in norm]) & ~np.isnan(value)
    # Several rows for one code (after normalisation) are averaged.
    codes = np.asarray([c for c, h in zip(norm, have) if h], dtype=str)
    uniq, inv = np.unique(codes, return_inverse=True)
    inv = inv.reshape(-1)
    index_value = np.bincount(inv, weights=value[have], minlength=uniq.size) / np.maximum(
        np.bincount(inv, minlength=uniq.size), 1)
    first_raw: dict[str, str] = {}
    for c, r, h in zip(norm, raw, have):
        if h:
            first_raw.setdefault(c, str(r).strip())

    table = _ours_at(ours, code_system, our_column)
    our_codes = _normalize(table["soc_code"].to_pylist(), code_system)
    our_vals = pc.fill_null(pc.cast(table[our_column], pa.float64()), np.nan).to_numpy(zero_copy_only=False)
    lookup = {c: (v, i) for i, (c, v) in enumerate(zip(our_codes, our_vals)) if c is not None and not np.isnan(v)}
    # BLS broad, hybrid and "All other" codes (31-1120, 51-2028, 13-1020, 21-1099) take the mean of the SOC 2018
    # codes they cover, as `exposure workforce` matches them (exposure.occupations.bls_codes.to_bls_codes).
    via: dict[str, tuple[str, list]] = {}
    rest = [c for c in uniq.tolist() if c not in lookup]
    if code_system == "soc2018" and rest:
        bls = to_bls_codes(table.select(["soc_code", our_column]), rest, columns=[our_column])
        for c, kind, v, used in zip(rest, bls["match"].to_pylist(), bls[our_column].to_pylist(),
                                    bls["score_codes"].to_pylist()):
            if kind != "none" and v is not None:
                lookup[c] = (v, None)
                via[c] = (kind, used.split(";"))
    matched = np.array([c in lookup for c in uniq.tolist()], dtype=bool)
    unmatched = [first_raw[c] for c in uniq[~matched].tolist()]
    unmatched += [str(r).strip() for r, c in zip(raw, norm) if c is None and r is not None]
    if not matched.any():
        ex_index = ", ".join(map(repr, [str(r) for r in raw[:3]]))
        ex_ours = ", ".join(map(repr, table["soc_code"].to_pylist()[:3]))
        raise ValueError(f"no occupation code of the index matches ours (index codes look like {ex_index}; "
                         f"ours, in {_SYSTEM_NAMES[code_system]}, like {ex_ours}); "
                         f"check code_column and code_system (one of: {', '.join(INDEX_CODE_SYSTEMS)})")
    m_codes = uniq[matched].tolist()
    x = index_value[matched]
    y = np.array([lookup[c][0] for c in m_codes])
    rho, rho_ci, r, r_ci = _correlations(x, y, n_boot, seed)
    titles = table["title"].to_pylist() if "title" in table.column_names else [None] * table.num_rows
    row_of = {c: i for i, c in enumerate(our_codes) if c is not None}
    columns = {
        "code": pa.array(m_codes, pa.string()),
        "title": pa.array([titles[lookup[c][1]] if lookup[c][1] is not None else None for c in m_codes], pa.string()),
        "match": pa.array([via[c][0] if c in via else "exact" for c in m_codes], pa.string()),
        "index_value": pa.array(x, pa.float64()),
        "our_value": pa.array(y, pa.float64()),
        "index_rank": pa.array(x.size + 1 - rankdata(x), pa.float64()),
        "our_rank": pa.array(y.size + 1 - rankdata(y), pa.float64()),
    }
    subsets = {}
    if "labelled" in table.column_names:
        flags = pc.fill_null(table["labelled"], False).to_pylist()
        # a code matched through the codes it covers is labelled if any of them is
        labelled = np.array([bool(flags[lookup[c][1]]) if c not in via else any(flags[row_of[m]] for m in via[c][1])
                             for c in m_codes], dtype=bool)
        columns["labelled"] = pa.array(labelled)
        for name, sel in (("labelled", labelled), ("unlabelled", ~labelled)):
            if not sel.any():  # a zero-shot table labels nothing: no group to report apart
                continue
            s_rho, s_rho_ci, s_r, s_r_ci = _correlations(x[sel], y[sel], n_boot, seed)
            subsets[name] = {"n": int(sel.sum()), "spearman": s_rho, "spearman_ci": s_rho_ci,
                             "pearson": s_r, "pearson_ci": s_r_ci}
    joined = pa.table(columns)
    logger.debug("compared %s: %d of %d index occupations matched; Spearman %.3f", our_column,
                 int(matched.sum()), int(uniq.size), rho)
    return ComparisonResult(n_matched=int(matched.sum()), unmatched=unmatched, spearman=rho, spearman_ci=rho_ci,
                            pearson=r, pearson_ci=r_ci, joined=joined, code_system=code_system,
                            n_index=int(uniq.size), n_boot=max(int(n_boot), 0), subsets=subsets)
