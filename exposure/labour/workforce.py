"""Who is exposed: occupation scores joined with employment, wages, education and projections.

:func:`workforce` takes an occupation table (``exposure occupations -o FILE``, at O*NET-SOC or SOC 2018
level) and an employment base (BLS OEWS May 2021 detailed occupations by default, or any table of SOC
2018 codes and employment, :func:`~exposure.labour.employment.read_employment`), matches codes through
:func:`~exposure.labour.employment.to_bls_codes` (broad and hybrid codes take the mean of their
members' scores), and reports:

- employment-weighted exposure (each score column: ``exposure``, ``exposure_<technology>``,
  ``automation_exposure``...) by SOC major group, by wage quintile and by typical entry education;
- the share of workers whose occupation has at least 10 % / 50 % of its tasks exposed
  (:func:`task_exposed_shares`: ``beta`` counts E1 tasks, and E2 tasks as half, as Eloundou et al.;
  ``gamma`` counts E1 and E2, and for model scores a task whose calibrated P(E1) + P(E2) >= 0.5;
  tasks weigh as in the occupation scores, Core 2, others 1);
- exposure against projected employment change 2022-32 and median wage, with the occupations that grow
  and are little exposed, and those that shrink and are highly exposed, each with the BLS Table 1.12
  reason ("Productivity change - share decreases as ...") as evidence.

Weighted mean of a group: ``sum(employment * score) / sum(employment)`` over the group's occupations
that have both. Wage quintiles are employment-weighted: occupations sorted by annual median wage, each
falls in the quintile that holds the midpoint of its employment on the cumulative scale (so each quintile
holds about a fifth of the workers, not of the occupations). numpy and pyarrow; matplotlib for the plots
(``pip install exposure[plots]``).

>>> import pyarrow as pa
>>> scores = pa.table({"soc_code": ["15-1252", "43-9021"], "exposure": [0.8, 0.6]})
>>> emp = pa.table({"soc_code": ["15-1252", "43-9021"], "employment": [300.0, 100.0]})
>>> r = workforce(scores, employment=emp)
>>> round(r.overall["exposure"], 2)
0.75
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..io import TableLike, as_table, require_columns
from ..occupations.catalogue import load_tasks, major_groups, normalize_codes
from ..occupations.tables import INTERVAL_LEVEL, is_technology_column
from .employment import load_oews, load_projections, load_utilization_factors, to_bls_codes

__all__ = ["workforce", "WorkforceResult", "isco_workforce", "IscoWorkforceResult", "task_exposed_shares",
           "weighted_mean", "wage_quintiles", "technologies_named", "column_technologies", "THRESHOLDS",
           "EXPOSED_PROBABILITY", "MEASURES", "TECHNOLOGY_WORDS"]

logger = logging.getLogger(__name__)
PathLike = Union[str, Path]

#: Shares of exposed tasks reported: the share of workers whose occupation has at least this share exposed.
THRESHOLDS = (0.1, 0.5)
#: A task scored by the model is exposed when its calibrated P(E1) + P(E2) is at least this.
EXPOSED_PROBABILITY = 0.5
#: Growth and exposure cut-offs of the two lists: "growing" is a projected change above the all-occupation
#: average of Table 1.7 (2.8 % for 2022-32), "shrinking" below 0; "little" / "highly" exposed are the
#: bottom / top quarter of occupations by exposure.
GROWTH_CUTOFF = 2.8
#: Words by which a BLS Table 1.12 reason names a technology (case-insensitive regular expressions).
TECHNOLOGY_WORDS = {
    "llm": r"artificial intelligence|\bAI\b|chatbot|language (?:model|processing)|speech recognition|generative",
    "software": r"software|computer|online|electronic|digital|self-service|kiosk|automated (?:billing|record|"
                r"scheduling|check|payment|data|clerical|office|telephone|call)",
    "vision": r"machine vision|vision|scann|camera|sensor|image recognition",
    "robotics": r"robot|automat(?:ed|ion) (?:of tasks such as )?(?:assembly|filling|bagging|packing|packaging|"
                r"palletiz|sorting|welding|material|machin|equipment|production|manufactur|inspection|storage|"
                r"retrieval|picking)",
    "vehicles": r"autonomous|self-driving|driverless|drone|automated (?:vehicle|truck|guided)",
}
# The technologies a score column is about (the headline: the capability set's headline technologies).
_COLUMN_TECHNOLOGIES = {"exposure": ("llm", "software"), "exposure_in_sample": ("llm", "software"),
                        "alpha": ("llm",), "beta": ("llm", "software"), "gamma": ("llm", "software"),
                        "gpt4_automation": ("llm",), "automation": ("llm",), "augmentation": ("llm",),
                        "automation_exposure": tuple(TECHNOLOGY_WORDS)}
_EDUCATION_ORDER = ("No formal educational credential", "High school diploma or equivalent",
                    "Some college, no degree", "Postsecondary nondegree award", "Associate's degree",
                    "Bachelor's degree", "Master's degree", "Doctoral or professional degree")


# --------------------------------------------------------------------------- arithmetic

def weighted_mean(values: Sequence[float], weights: Sequence[float]) -> float:
    """``sum(w * v) / sum(w)`` over the pairs where both are present (NaN otherwise skipped); NaN when none.

    >>> weighted_mean([0.2, 0.8, float("nan")], [3, 1, 5])
    0.35
    """
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    ok = ~(np.isnan(v) | np.isnan(w))
    total = w[ok].sum()
    return float(np.round((w[ok] * v[ok]).sum() / total, 12)) if total > 0 else float("nan")


def wage_quintiles(wages: Sequence[float], employment: Sequence[float]) -> np.ndarray:
    """Employment-weighted wage quintile (1 lowest .. 5 highest; 0 where wage or employment is missing).

    Occupations sorted by wage (ties by position) fill the cumulative employment scale; each takes the
    quintile holding the midpoint of its own employment.

    >>> wage_quintiles([10, 50, 20, 40, 30], [1, 1, 1, 1, 1]).tolist()
    [1, 5, 2, 4, 3]
    >>> wage_quintiles([10, 20, 30], [8, 1, 1]).tolist()
    [3, 5, 5]
    """
    w = np.asarray(wages, dtype=np.float64)
    e = np.asarray(employment, dtype=np.float64)
    ok = ~(np.isnan(w) | np.isnan(e)) & (e > 0)
    out = np.zeros(w.shape[0], dtype=np.int64)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return out
    order = idx[np.argsort(w[idx], kind="stable")]
    cum = np.cumsum(e[order])
    mid = (cum - e[order] / 2) / cum[-1]
    out[order] = np.minimum((mid * 5).astype(np.int64) + 1, 5)
    return out


# --------------------------------------------------------------------------- task shares

def _task_weights(table: pa.Table) -> np.ndarray:
    if "weight" in table.column_names:
        return np.asarray(pc.fill_null(pc.cast(table["weight"], pa.float64()), 1.0).to_numpy(zero_copy_only=False))
    if "task_id" not in table.column_names:
        return np.ones(table.num_rows)
    weights: Dict[int, float] = {}
    for release in ("29.1", "27"):  # O*NET 27 wins where both list a task id
        cat = load_tasks(release)
        weights.update(zip(cat["task_id"].to_pylist(), cat["weight"].to_pylist()))
    ids = pc.cast(table["task_id"], pa.int64()).to_pylist()
    return np.asarray([float(weights.get(i, 1)) for i in ids])


#: How a task counts as exposed (:func:`task_exposed_shares`).
MEASURES = ("beta", "gamma")


def task_exposed_shares(tasks: TableLike, measure: str = "beta", threshold: float = EXPOSED_PROBABILITY
                        ) -> pa.Table:
    """Per occupation, the (weighted) share of its tasks that are exposed.

    ``tasks``: one row per task with ``soc_code`` and one of:

    - ``human_exposure`` (labels ``E0``/``E1``/``E2``): ``measure="beta"`` counts an E1 task as exposed
      and an E2 task (exposed through software built on the model) as half, as Eloundou et al.'s beta,
      the measure behind their "80 % of workers have at least 10 % of tasks exposed";
      ``"gamma"`` counts E1 and E2 in full;
    - ``p_e1`` and ``p_e2`` (calibrated model scores): ``"beta"`` counts each task as its expected beta,
      P(E1) + P(E2)/2, so the share equals the occupation table's ``beta``; ``"gamma"`` counts a task as
      exposed when P(E1) + P(E2) >= ``threshold`` (0.5: E1 or E2 is likelier than E0);
    - ``exposure`` (zero-shot scores, no probabilities): exposed when ``exposure`` >= ``threshold``.

    Tasks weigh ``weight`` if given, else the catalogue weight of ``task_id`` (Core 2, others 1, as in
    the occupation scores), else 1. Returns ``soc_code``, ``n_tasks``, ``task_share_exposed``.

    >>> t = pa.table({"soc_code": ["A", "A", "A"], "human_exposure": ["E0", "E1", "E2"], "weight": [2, 1, 1]})
    >>> task_exposed_shares(t).to_pylist()
    [{'soc_code': 'A', 'n_tasks': 3, 'task_share_exposed': 0.375}]
    >>> task_exposed_shares(t, "gamma")["task_share_exposed"].to_pylist()
    [0.5]
    """
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; use one of: {', '.join(MEASURES)}")
    table = as_table(tasks, "tasks")
    require_columns(table.column_names, ["soc_code"], "the task table")
    labels = [c for c in ("human_exposure", "label", "exposure_label") if c in table.column_names]
    if labels:
        raw = table[labels[0]].to_pylist()
        bad = sorted({str(x) for x in raw if x not in ("E0", "E1", "E2", None)})
        if bad:
            raise ValueError(f"task labels must be E0, E1 or E2; column {labels[0]!r} holds {', '.join(bad[:5])}")
        half = 0.5 if measure == "beta" else 1.0
        exposed = np.asarray([1.0 if x == "E1" else half if x == "E2" else 0.0 for x in raw], dtype=np.float64)
        exposed[[x is None for x in raw]] = np.nan
    elif "p_e1" in table.column_names and "p_e2" in table.column_names:
        p1, p2 = _floats(table, "p_e1"), _floats(table, "p_e2")
        exposed = (p1 + p2 / 2 if measure == "beta"
                   else np.where(np.isnan(p1 + p2), np.nan, (p1 + p2 >= threshold).astype(np.float64)))
    elif "exposure" in table.column_names:
        x = _floats(table, "exposure")
        exposed = np.where(np.isnan(x), np.nan, (x >= threshold).astype(np.float64))
    else:
        raise ValueError("the task table needs a label column 'human_exposure' (E0/E1/E2), or 'p_e1' and 'p_e2', "
                         f"or 'exposure'; its columns are: {', '.join(table.column_names)}")
    weights = _task_weights(table)
    codes = np.asarray(table["soc_code"].cast(pa.string()).to_pylist(), dtype=object)
    ok = ~np.isnan(exposed)
    uniq, inv = np.unique(codes[ok].astype(str), return_inverse=True)
    num = np.bincount(inv, weights=weights[ok] * exposed[ok], minlength=uniq.size)
    den = np.bincount(inv, weights=weights[ok], minlength=uniq.size)
    n = np.bincount(inv, minlength=uniq.size)
    return pa.table({"soc_code": pa.array(uniq.tolist(), pa.string()), "n_tasks": pa.array(n.astype(np.int32)),
                     "task_share_exposed": pa.array(np.round(num / den, 12))})


# --------------------------------------------------------------------------- result

@dataclass
class WorkforceResult:
    """What :func:`workforce` measured. Tables are pyarrow; :meth:`write` saves them with plots."""

    #: One row per occupation of the employment base: codes, employment, wage, quintile, education,
    #: projections, ``match`` and the scores.
    occupations: pa.Table
    by_major_group: pa.Table
    by_wage_quintile: pa.Table
    by_education: pa.Table
    #: ``measure``, ``threshold``, ``share_of_workers``, ``workers``, ``occupations``; ``None`` without task shares.
    task_shares: Optional[pa.Table]
    growing_low_exposure: pa.Table
    shrinking_high_exposure: pa.Table
    #: Employment-weighted means over all matched workers, per score column.
    overall: Dict[str, float]
    #: Employment by match kind and the matched share.
    coverage: Dict[str, Any]
    score_columns: List[str]
    provenance: Dict[str, Any] = field(default_factory=dict)

    def tables(self) -> Dict[str, pa.Table]:
        out = {"occupations": self.occupations, "by_major_group": self.by_major_group,
               "by_wage_quintile": self.by_wage_quintile, "by_education": self.by_education,
               "growing_low_exposure": self.growing_low_exposure,
               "shrinking_high_exposure": self.shrinking_high_exposure}
        if self.task_shares is not None:
            out["task_shares"] = self.task_shares
        return out

    def summary(self) -> str:
        """A Markdown report: coverage, overall and grouped exposure, task shares, the two lists."""
        c = self.coverage
        lines = ["# Who is exposed: workforce view", "",
                 f"Employment base: {c['base']}; {c['workers']:,.0f} workers in {c['occupations']:,} occupations. "
                 f"Matched to a score: {100 * c['matched_share']:.1f} % of workers "
                 f"(exact {100 * c['share_exact']:.1f} %, hybrid/broad codes {100 * c['share_hybrid']:.1f} %, "
                 f"'All other' residuals {100 * c['share_residual']:.1f} %).", ""]
        lines += ["Employment-weighted mean over matched workers: "
                  + ", ".join(f"`{k}` {v:.3f}" for k, v in self.overall.items()), ""]
        top = int(pc.sum(self.occupations["wage_top_coded"]).as_py() or 0) if (
            "wage_top_coded" in self.occupations.column_names) else 0
        if top:
            lines += [f"OEWS top-codes median wages at $208,000 a year: {top} occupations have that bound as "
                      "their `median_wage` (`wage_top_coded`); their true medians are higher.", ""]
        if self.task_shares is not None:
            lines += ["## Workers by share of exposed tasks", "", _markdown(self.task_shares), ""]
        for title, t in (("By SOC major group", self.by_major_group), ("By wage quintile", self.by_wage_quintile),
                         ("By typical entry education", self.by_education),
                         ("Growing faster than average and little exposed", self.growing_low_exposure),
                         ("Shrinking and highly exposed", self.shrinking_high_exposure)):
            lines += [f"## {title}", "", _markdown(t), ""]
        return "\n".join(lines + _provenance_lines(self.provenance))

    def write(self, folder: PathLike, fmt: str = "csv", plots: bool = True) -> List[Path]:
        """Write every table (``fmt``: ``csv`` or ``parquet``; Parquet files carry :attr:`provenance`),
        ``summary.md`` and, with ``plots`` (matplotlib), PNG plots into ``folder``; returns the paths."""
        return _write(self, folder, fmt, _plots if plots else None)


@dataclass
class IscoWorkforceResult:
    """What :func:`isco_workforce` measured: an employment table keyed by ISCO-08 unit group, weighed.

    Wages, education and projections are US tables (BLS): they are not part of this view.
    """

    #: One row per unit group of the employment table: ``isco08``, ``title``, ``major_group``,
    #: ``employment``, ``employment_share`` and our scores.
    unit_groups: pa.Table
    #: Per ISCO-08 major group (1 digit): ``title``, ``unit_groups``, ``workers``, ``matched_workers``, weighted
    #: means.
    by_major_group: pa.Table
    overall: Dict[str, float]
    #: ``workers``, ``unit_groups`` (rows of the employment table), ``level`` (``unit groups``, or the 1-3 digit
    #: groups it gives), ``matched_share`` (workers whose group has a score).
    coverage: Dict[str, Any]
    score_columns: List[str]
    provenance: Dict[str, Any] = field(default_factory=dict)
    #: Per sex (``M``, ``F``, ``T``) and ISCO-08 major group (``all`` for every group): ``workers``,
    #: ``matched_workers`` and the weighted means; ``None`` unless employment by sex was given.
    by_sex: Optional[pa.Table] = None

    def tables(self) -> Dict[str, pa.Table]:
        out = {"unit_groups": self.unit_groups, "by_major_group": self.by_major_group}
        if self.by_sex is not None:
            out["by_sex"] = self.by_sex
        return out

    def summary(self) -> str:
        """A Markdown report: coverage, overall and by-major-group exposure."""
        c = self.coverage
        lines = ["# Who is exposed: workforce view (ISCO-08)", "",
                 f"Employment base: {c['base']}; {c['workers']:,.0f} workers in {c['unit_groups']:,} "
                 f"{c.get('level', 'unit groups')}. "
                 f"Matched to a score: {100 * c['matched_share']:.1f} % of workers.", "",
                 "Employment-weighted mean over matched workers: "
                 + ", ".join(f"`{k}` {v:.3f}" for k, v in self.overall.items()), "",
                 "## By ISCO-08 major group", "", _markdown(self.by_major_group), ""]
        if self.by_sex is not None:
            lines += ["## By sex", "", _markdown(self.by_sex), ""]
        return "\n".join(lines + _provenance_lines(self.provenance))

    def write(self, folder: PathLike, fmt: str = "csv", plots: bool = True) -> List[Path]:
        """As :meth:`WorkforceResult.write`: tables, ``summary.md`` and a plot by major group."""
        return _write(self, folder, fmt, _isco_plots if plots else None)


def _provenance_lines(provenance: Dict[str, Any]) -> List[str]:
    """The Markdown section of a summary that says how its tables were made (none without provenance)."""
    if not provenance:
        return []
    import json

    return ["## Provenance", "", "```json", json.dumps(provenance, indent=1, sort_keys=True, default=str), "```", ""]


def _write(result, folder: PathLike, fmt: str, plots) -> List[Path]:
    from ..io import TableWriter

    if fmt not in ("csv", "parquet"):
        raise ValueError(f"unknown table format {fmt!r}; use csv or parquet")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in result.tables().items():
        path = folder / f"{name}.{fmt}"
        with TableWriter(path) as w:
            w.provenance = result.provenance or None
            w.write(table)
        written.append(path)
    path = folder / "summary.md"
    path.write_text(result.summary(), encoding="utf-8")
    written.append(path)
    if plots is not None:
        written += plots(result, folder)
    return written


def _markdown(table: pa.Table, digits: int = 3) -> str:
    cols = table.column_names
    rows = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    for r in table.to_pylist():
        cells = []
        for c in cols:
            v = r[c]
            cells.append("" if v is None else f"{v:,.0f}" if isinstance(v, float) and abs(v) >= 1000
                         else f"{v:.{digits}f}" if isinstance(v, float) else str(v).replace("|", "/"))
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


# --------------------------------------------------------------------------- workforce

def _floats(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(pc.fill_null(pc.cast(table[name], pa.float64()), np.nan).to_numpy(zero_copy_only=False))


#: Draws of the occupations' scores behind the intervals of the aggregates (:func:`_score_draws`).
INTERVAL_DRAWS = 1000
# The aggregates' intervals have the level of the occupations' (occupation tables' exposure_low / _high).
_QUANTILES = ((1 - INTERVAL_LEVEL) / 2, (1 + INTERVAL_LEVEL) / 2)


def _score_draws(center: np.ndarray, low: np.ndarray, high: np.ndarray, draws: int = INTERVAL_DRAWS,
                 seed: int = 0) -> np.ndarray:
    """``(occupations, draws)`` plausible values of each occupation's score: normal around ``center`` with the
    spread its interval ``[low, high]`` (level :data:`~exposure.occupations.tables.INTERVAL_LEVEL`) says,
    independent across occupations, kept in [0, 1]; NaN rows where a value is missing."""
    sd = (high - low) / (2 * NormalDist().inv_cdf(_QUANTILES[1]))
    z = np.random.default_rng(seed).standard_normal((center.shape[0], draws))
    out = np.clip(center[:, None] + sd[:, None] * z, 0.0, 1.0)
    out[np.isnan(center) | np.isnan(sd)] = np.nan
    return out


def _weighted_mean_draws(draws: np.ndarray, weights: np.ndarray) -> tuple:
    """The interval of the weighted mean over the rows of ``draws`` (occupations x draws)."""
    ok = ~np.isnan(draws[:, 0]) & ~np.isnan(weights)
    if not ok.any():
        return float("nan"), float("nan")
    means = weights[ok] @ draws[ok] / weights[ok].sum()
    lo, hi = np.quantile(means, _QUANTILES)
    return float(lo), float(hi)


def _grouped(keys: Sequence, emp: np.ndarray, values: Dict[str, np.ndarray], key_name: str,
             order: Optional[Sequence] = None, draws: Optional[np.ndarray] = None) -> pa.Table:
    """Per key: occupations, workers (all, then matched), and each score's employment-weighted mean; with the
    headline's ``draws``, its 90 % interval (``exposure_low``, ``exposure_high``)."""
    keys = list(keys)
    present = set(keys)
    uniq = list(order) if order is not None else sorted(k for k in present if k is not None)
    uniq = [k for k in uniq if k in present]
    slot = {k: j for j, k in enumerate(uniq)}
    group = np.asarray([slot.get(x, -1) for x in keys], dtype=np.int64)  # one pass over the rows
    first = next(iter(values.values()))
    out: Dict[str, list] = {key_name: uniq, "occupations": [], "workers": [], "matched_workers": []}
    for c in values:
        out[c] = []
        if draws is not None and c == "exposure":
            out["exposure_low"], out["exposure_high"] = [], []
    for j in range(len(uniq)):
        m = group == j
        out["occupations"].append(int(m.sum()))
        out["workers"].append(float(np.nansum(emp[m])))
        out["matched_workers"].append(float(np.nansum(emp[m & ~np.isnan(first)])))
        for c, v in values.items():
            out[c].append(weighted_mean(v[m], emp[m]))
        if draws is not None:
            lo, hi = _weighted_mean_draws(draws[m], emp[m])
            out["exposure_low"].append(lo)
            out["exposure_high"].append(hi)
    return pa.table(out)


def technologies_named(codes: Sequence[str]) -> List[List[str]]:
    """The technologies (:data:`TECHNOLOGY_WORDS`) that BLS Table 1.12 names among the reasons an occupation's
    share of an industry's employment decreases, over all its industries, per SOC 2018 code.

    >>> technologies_named(["53-7062", "00-0000"])
    [['robotics'], []]
    """
    import re

    f = load_utilization_factors()
    words = {t: re.compile(w, re.IGNORECASE) for t, w in TECHNOLOGY_WORDS.items()}
    named: Dict[str, set] = {}
    for code, text in zip(f["soc_code"].to_pylist(), f["factor"].to_pylist()):
        if text and "share decreases" in text:  # a technology that raises demand for the work does not cut it
            named.setdefault(code, set()).update(t for t, rx in words.items() if rx.search(text))
    return [sorted(named.get(c, ())) for c in codes]


def column_technologies(column: str) -> tuple:
    """The technologies a score column is about: ``exposure_<technology>`` its own; ``exposure``, ``beta``...
    the headline's (language models and software); ``automation_exposure`` every one.

    >>> column_technologies("exposure_robotics"), column_technologies("exposure")
    (('robotics',), ('llm', 'software'))
    """
    if column in _COLUMN_TECHNOLOGIES:
        return _COLUMN_TECHNOLOGIES[column]
    name = column[len("exposure_"):] if column.startswith("exposure_") else column
    return (name,) if name in TECHNOLOGY_WORDS else ()


def _factor_text(codes: Sequence[str]) -> List[Optional[str]]:
    """BLS Table 1.12 evidence per code: the 'Total employment' reason, else the first industry's, with the
    number of industries listed."""
    f = load_utilization_factors()
    by: Dict[str, List[tuple]] = {}
    for code, ind, text in zip(f["soc_code"].to_pylist(), f["industry"].to_pylist(), f["factor"].to_pylist()):
        by.setdefault(code, []).append((ind, text))
    out: List[Optional[str]] = []
    for c in codes:
        rows = by.get(c)
        if not rows:
            out.append(None)
            continue
        total = [t for i, t in rows if i == "Total employment"]
        text = total[0] if total else f"{rows[0][0]}: {rows[0][1]}"
        out.append(text + (f" (+{len(rows) - 1} more industries)" if len(rows) > 1 else ""))
    return out


def _employment_base(employment: Optional[TableLike]) -> tuple[pa.Table, str]:
    if employment is None:
        oews = load_oews()
        d = oews.filter(pc.equal(oews["o_group"], "detailed"))
        base = pa.table({"soc_code": d["soc_code"], "title": d["title"],
                         "employment": pc.cast(d["employment"], pa.float64())})
        return base, "BLS OEWS May 2021, detailed occupations"
    table = as_table(employment, "employment")
    require_columns(table.column_names, ["soc_code", "employment"], "the employment table")
    codes = normalize_codes(table["soc_code"].to_pylist(), "soc2018")
    bad = [c for c, n in zip(table["soc_code"].to_pylist(), codes) if n is None]
    if bad:
        raise ValueError("the employment table holds codes that are not SOC 2018 codes: "
                         f"{', '.join(map(repr, bad[:5]))}")
    return pa.table({"soc_code": pa.array(codes, pa.string()),
                     "employment": pc.cast(table["employment"], pa.float64())}), "the given employment table"


def _workers(employment: np.ndarray, where: str) -> float:
    """The number of workers in ``employment`` (missing values left out); ``ValueError`` when there are none,
    as every share of them would be undefined."""
    total = float(np.nansum(employment))
    if not total > 0:
        raise ValueError(f"{where} counts no workers: every employment value is 0 or missing, so no share of "
                         "workers can be computed; give employment counts (people) per occupation")
    return total


def workforce(scores: TableLike, *, employment: Optional[TableLike] = None, tasks: Optional[TableLike] = None,
              task_source: str = "", measures: Sequence[str] = MEASURES, residuals: bool = True, list_size: int = 15,
              provenance: Optional[Dict[str, Any]] = None, by: Optional[str] = None,
              thresholds: Sequence[float] = THRESHOLDS) -> WorkforceResult:
    """Join occupation scores with employment, wages, education and projections (see the module doc).

    ``scores``: an occupation table (pyarrow, pandas or polars; O*NET-SOC or SOC 2018 codes in ``soc_code``)
    with ``exposure`` and any ``exposure_<technology>``, ``automation_exposure``, ``alpha``/``beta``/``gamma``.
    ``employment``: ``soc_code`` (SOC 2018) and ``employment`` (people; e.g. from
    :func:`~exposure.labour.employment.read_employment`); default: OEWS May 2021 detailed occupations.
    ``tasks``: task-level labels or scores for :func:`task_exposed_shares` (``task_source`` names them in
    the report); without, the ``beta`` column of ``scores`` when present (the expected beta share), else no
    task-share table; ``measures``: how tasks count as exposed, one row per
    measure and threshold (``thresholds``, default :data:`THRESHOLDS`). ``residuals``: let "All other" codes take their broad
    group's mean (:func:`~exposure.labour.employment.to_bls_codes`). ``list_size``: rows per list.

    ``by``: the score column the two lists rank and cut by (default ``exposure``; any numeric score column of
    ``scores``, e.g. ``exposure_robotics`` or ``automation``); the grouped tables report every score column.
    Each list row carries ``bls_technologies``, the technologies BLS Table 1.12 names among the reasons the
    occupation's share decreases (:func:`technologies_named`); the "growing and little exposed" list leaves out
    occupations whose reasons name a technology of ``by`` (:func:`column_technologies`): BLS expects that
    technology to cut them, whatever their score (the count left out is logged and in the provenance).

    Intervals: with ``exposure_low`` / ``exposure_high`` in ``scores`` (calibrated occupation tables), every
    employment-weighted mean of ``exposure`` (overall, by group) gets its 90 % interval (``exposure_low``,
    ``exposure_high``), and so do the shares of workers from the table's beta (``share_low``, ``share_high``):
    1,000 draws of every occupation's score, normal within its own interval and independent across
    occupations. They carry each occupation's uncertainty (its tasks and their labels), not an error the
    model makes for all occupations alike.

    >>> r = workforce(pa.table({"soc_code": ["15-1252.00"], "exposure": [0.7]}))   # doctest: +SKIP
    """
    base, base_name = _employment_base(employment)
    logger.info("workforce: %d occupations, %.0f workers (%s)", base.num_rows,
                float(pc.sum(base["employment"]).as_py() or 0), base_name)
    matched = to_bls_codes(scores, base["soc_code"].to_pylist(), residuals=residuals)
    bounds = [c for c in ("exposure_low", "exposure_high") if c in matched.column_names]
    score_cols = [c for c in matched.column_names if c not in ("soc_code", "match", "score_codes", *bounds)]
    emp = _floats(base, "employment")
    codes = base["soc_code"].to_pylist()

    # Wages (OEWS; hourly-only occupations annualised at 2,080 hours, BLS's convention), education and
    # projections (Table 1.7), by code.
    oews = load_oews()
    od = oews.filter(pc.is_in(oews["o_group"], pa.array(["detailed", "broad"])))
    wage_of: Dict[str, float] = {}
    top_coded: Dict[str, bool] = {}  # OEWS writes '#' for a median at or above its top, $208,000 a year
    for c, a, h, top in zip(od["soc_code"].to_pylist(), od["annual_median_wage"].to_pylist(),
                            od["hourly_median_wage"].to_pylist(), od["wage_top_coded"].to_pylist()):
        if c not in wage_of and (a is not None or h is not None):
            wage_of[c] = a if a is not None else h * 2080
            top_coded[c] = bool(top)
    proj = load_projections()
    proj = proj.filter(pc.equal(proj["occupation_type"], "Line item"))
    pj = {r["soc_code"]: r for r in proj.to_pylist()}
    titles = dict(zip(proj["soc_code"].to_pylist(), proj["title"].to_pylist()))
    titles.update(zip(od["soc_code"].to_pylist(), od["title"].to_pylist()))
    wage = np.asarray([wage_of.get(c, pj.get(c, {}).get("median_wage_2022")) for c in codes], dtype=np.float64)
    quint = wage_quintiles(wage, emp)
    education = [pj.get(c, {}).get("education") for c in codes]
    change = np.asarray([pj.get(c, {}).get("employment_change_percent") for c in codes], dtype=np.float64)

    cols: Dict[str, pa.Array] = {
        "soc_code": base["soc_code"],
        "title": pa.array([titles.get(c) for c in codes], pa.string()) if "title" not in base.column_names
        else base["title"],
        "major_group": pa.array(major_groups(codes), pa.string()),
        "employment": base["employment"], "median_wage": pa.array(wage, mask=np.isnan(wage)),
        "wage_top_coded": pa.array([top_coded.get(c, False) for c in codes], pa.bool_()),
        "wage_quintile": pa.array(quint.astype(np.int8)),
        "education": pa.array(education, pa.string()),
        "employment_2022": pa.array([pj.get(c, {}).get("employment_2022") for c in codes], pa.int64()),
        "employment_2032": pa.array([pj.get(c, {}).get("employment_2032") for c in codes], pa.int64()),
        "employment_change_percent": pa.array(change, mask=np.isnan(change)),
        "match": matched["match"], "score_codes": matched["score_codes"]}
    for c in score_cols + bounds:
        cols[c] = matched[c]
    values = {c: _floats(matched, c) for c in score_cols}
    # The occupations' own uncertainty (exposure_low / exposure_high: their tasks and labels), carried into
    # every aggregate of the headline as 90 % intervals.
    draws = (_score_draws(values["exposure"], _floats(matched, "exposure_low"), _floats(matched, "exposure_high"))
             if len(bounds) == 2 and "exposure" in values else None)

    shares_table = None
    from_beta = tasks is None and "beta" in values
    if from_beta:
        # The occupation table's beta is the weighted mean of P(E1) + P(E2)/2: the expected beta share of
        # exposed tasks, exactly what task_exposed_shares(model task scores, "beta") gives.
        measures, task_source = ["beta"], task_source or "the occupation table's beta (expected share of exposed tasks)"
    if tasks is not None or from_beta:
        logger.info("workforce: shares of exposed tasks from %s", task_source or "the task table")
        rows = []
        for measure in measures:
            if tasks is None:
                s = values["beta"]
            else:
                per_task = task_exposed_shares(tasks, measure)
                share = to_bls_codes(per_task, codes, columns=["task_share_exposed"], residuals=residuals)
                s = _floats(share, "task_share_exposed")
            cols[f"task_share_exposed_{measure}"] = pa.array(s, mask=np.isnan(s))
            ok = ~np.isnan(s) & ~np.isnan(emp)
            # The occupation table's beta is its headline: its draws give the shares an interval.
            same = draws is not None and tasks is None and np.allclose(s, values["exposure"], equal_nan=True)
            for t in thresholds:
                hit = ok & (s >= t - 1e-12)
                interval = {}
                if same and ok.any():
                    shares = (emp[ok] @ (draws[ok] >= t - 1e-12)) / emp[ok].sum()
                    interval = dict(zip(("share_low", "share_high"), map(float, np.quantile(shares, _QUANTILES))))
                rows.append({"measure": measure, "threshold": t,
                             "share_of_workers": float(emp[hit].sum() / emp[ok].sum()) if ok.any() else float("nan"),
                             **interval,
                             "workers": float(emp[hit].sum()), "occupations": int(hit.sum()),
                             "workers_with_task_shares": float(emp[ok].sum()),
                             "task_source": task_source or "task table"})
        shares_table = pa.Table.from_pylist(rows)
    occupations = pa.table(cols)

    kinds = matched["match"].to_pylist()
    total = _workers(emp, base_name)
    by_kind = {k: float(np.nansum(emp[[m == k for m in kinds]])) for k in ("exact", "hybrid", "residual", "none")}
    coverage = {"base": base_name, "workers": total, "occupations": base.num_rows,
                "matched_share": (total - by_kind["none"]) / total if total else float("nan"),
                **{f"share_{k}": (v / total if total else float("nan")) for k, v in by_kind.items()},
                "unmatched_codes": [c for c, m in zip(codes, kinds) if m == "none"]}
    logger.info("workforce: %.1f %% of workers matched to a score (exact %.1f %%, hybrid %.1f %%, residual %.1f %%)",
                100 * coverage["matched_share"], 100 * coverage["share_exact"], 100 * coverage["share_hybrid"],
                100 * coverage["share_residual"])

    logger.info("workforce: grouping by major group, wage quintile and education")
    by_major = _grouped(occupations["major_group"].to_pylist(), emp, values, "major_group", draws=draws)
    by_quint = _grouped(quint.tolist(), emp, values, "wage_quintile", order=[1, 2, 3, 4, 5], draws=draws)
    by_edu = _grouped(education, emp, values, "education", order=_EDUCATION_ORDER, draws=draws)
    overall = {c: weighted_mean(v, emp) for c, v in values.items()}
    if draws is not None:
        overall["exposure_low"], overall["exposure_high"] = _weighted_mean_draws(draws, emp)

    headline = by or ("exposure" if "exposure" in values else score_cols[0])
    if headline not in values:
        raise ValueError(f"by={headline!r} is not a score column of the occupation scores; use one of: "
                         f"{', '.join(score_cols)}")
    x = values[headline]
    scored = ~np.isnan(x) & ~np.isnan(change)
    lo, hi = (np.quantile(x[scored], [0.25, 0.75]) if scored.any() else (np.nan, np.nan))
    named = technologies_named(codes)
    about = set(column_technologies(headline))
    cut_by_it = np.array([bool(about & set(n)) for n in named])
    growing = scored & (change > GROWTH_CUTOFF) & (x <= lo)
    left_out = growing & cut_by_it
    growing &= ~cut_by_it
    shrinking = scored & (change < 0) & (x >= hi)
    lists = []
    for mask in (growing, shrinking):
        idx = np.flatnonzero(mask)
        idx = idx[np.argsort(-np.nan_to_num(emp[idx]), kind="stable")][:list_size]
        sub = occupations.take(pa.array(idx, pa.int64())).select(
            ["soc_code", "title", "employment", "median_wage", "wage_top_coded", "employment_change_percent", headline])
        sub = sub.append_column("bls_technologies", pa.array([", ".join(named[i]) or None for i in idx], pa.string()))
        lists.append(sub.append_column("bls_factor", pa.array(_factor_text(sub["soc_code"].to_pylist()), pa.string())))
    logger.info("workforce: by %s, %d occupations grow and are little exposed (%d more left out: BLS names %s among "
                "the reasons they change), %d shrink and are highly exposed", headline, int(growing.sum()),
                int(left_out.sum()), "/".join(sorted(about)) or "no technology of it", int(shrinking.sum()))
    prov = {**(provenance or {}), "employment": base_name, "residuals": residuals,
            "task_source": task_source or None, "exposed_probability": EXPOSED_PROBABILITY, "by": headline,
            "growing_left_out": [codes[i] for i in np.flatnonzero(left_out)]}
    return WorkforceResult(occupations, by_major, by_quint, by_edu, shares_table, lists[0], lists[1], overall,
                           coverage, score_cols, prov)


def isco_workforce(scores: TableLike, employment: Union[TableLike, str, Path], *, code_column: str = "isco08",
                   employment_column: str = "employment",
                   provenance: Optional[Dict[str, Any]] = None,
                   by_sex: Optional[Dict[str, TableLike]] = None,
                   employment_name: Optional[str] = None) -> IscoWorkforceResult:
    """Employment-weighted exposure for an employment table keyed by ISCO-08 unit group (any country).

    ``scores``: a 4-digit ISCO-08 table (``exposure occupations --taxonomy isco08``,
    :func:`~exposure.labour.isco.score_isco` or :func:`~exposure.labour.isco.to_isco08`); ``employment``:
    a table or file with an ISCO-08 code column and an employment column (people), one row per unit group
    (``examples/isco_employment.csv``; :func:`~exposure.labour.isco.read_isco_employment` says what it
    accepts). Weighted means as in :func:`workforce`, overall and by ISCO-08 major group (1 digit).
    ``by_sex``: employment tables of the same form per sex (``{"M": ..., "F": ...}``, e.g. from
    :func:`~exposure.labour.ilostat.ilostat_employment`): the result's ``by_sex`` table weighs each.
    ``employment_name``: what the employment table is, for the report (default: its path, if a file).

    >>> ours = pa.table({"isco08": ["2512", "9629"], "exposure": [0.8, 0.1]})
    >>> emp = pa.table({"isco08": ["2512", "9629"], "employment": [300, 100]})
    >>> round(isco_workforce(ours, emp).overall["exposure"], 3)
    0.625
    """
    from .isco import isco_group_titles

    joined, emp, values = _isco_joined(scores, employment, code_column, employment_column)
    score_cols = list(values)
    majors = joined["major_group"].to_pylist()
    by_major = _grouped(majors, emp, values, "major_group")
    by_major = by_major.rename_columns(["unit_groups" if c == "occupations" else c for c in by_major.column_names])
    names = isco_group_titles(1)
    by_major = by_major.add_column(1, "title", pa.array([names.get(k) for k in by_major["major_group"].to_pylist()],
                                                        pa.string()))
    head = values["exposure"] if "exposure" in values else values[score_cols[0]]
    base = employment_name or (str(employment) if isinstance(employment, (str, Path)) else
                               "the given employment table")
    total = _workers(emp, base)
    matched = float(np.nansum(emp[~np.isnan(head)]))
    digits = len(joined["isco08"][0].as_py()) if joined.num_rows else 4
    level = {4: "unit groups", 3: "minor groups", 2: "sub-major groups", 1: "major groups"}[digits]
    coverage = {"base": base, "workers": total, "unit_groups": joined.num_rows, "level": level,
                "matched_share": matched / total if total else float("nan")}
    overall = {c: weighted_mean(v, emp) for c, v in values.items()}
    logger.info("workforce (ISCO-08): %d %s, %.0f workers, %.1f %% matched", joined.num_rows, level, total,
                100 * coverage["matched_share"])
    prov = {**(provenance or {}), "taxonomy": "isco08", "employment": coverage["base"]}
    sexes = None
    if by_sex:
        sexes = pa.concat_tables([_isco_by_major(scores, table, sex, code_column, employment_column)
                                  for sex, table in by_sex.items()])
    return IscoWorkforceResult(joined, by_major, overall, coverage, score_cols, prov, sexes)


def _isco_joined(scores: TableLike, employment: Union[TableLike, str, Path], code_column: str,
                 employment_column: str) -> tuple:
    """Our ISCO-08 scores joined to an employment table (:func:`~exposure.labour.isco.isco_employment_join`), its
    employment and each score column as float arrays."""
    from .isco import isco_employment_join

    joined = isco_employment_join(employment, scores, code_column=code_column, employment_column=employment_column)
    fixed = ("isco08", "title", "major_group", "employment", "employment_share", "labelled")
    values = {c: _floats(joined, c) for c in joined.column_names if c not in fixed}
    if not values:
        raise ValueError("our ISCO-08 scores have no score column (exposure, exposure_<technology>...)")
    return joined, _floats(joined, "employment"), values


def _isco_by_major(scores: TableLike, employment: TableLike, sex: str, code_column: str,
                   employment_column: str) -> pa.Table:
    """One sex's rows of :attr:`IscoWorkforceResult.by_sex`: every major group, then ``all`` (each row counted
    twice, once under its group and once under ``all``)."""
    joined, emp, values = _isco_joined(scores, employment, code_column, employment_column)
    majors = joined["major_group"].to_pylist()
    table = _grouped(majors + ["all"] * len(majors), np.concatenate([emp, emp]),
                     {c: np.concatenate([v, v]) for c, v in values.items()}, "major_group",
                     order=sorted(set(majors)) + ["all"])
    table = table.drop_columns(["occupations"])
    return table.add_column(0, "sex", pa.array([sex] * table.num_rows, pa.string()))


# --------------------------------------------------------------------------- plots

def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        logger.warning("matplotlib is not installed: no plots (pip install 'exposure[plots]')")
        return None
    return plt


def _plot_columns(score_columns: Sequence[str]) -> List[str]:
    return [c for c in score_columns if c == "exposure" or is_technology_column(c)
            or c == "automation_exposure"] or list(score_columns[:1])


def _isco_plots(result: IscoWorkforceResult, folder: Path) -> List[Path]:
    plt = _pyplot()
    if plt is None:
        return []
    return _bar_plots(plt, [("by_major_group", result.by_major_group, "title")], _plot_columns(result.score_columns),
                      folder)


def _plots(result: WorkforceResult, folder: Path) -> List[Path]:
    plt = _pyplot()
    if plt is None:
        return []
    written = _bar_plots(plt, [("by_major_group", result.by_major_group, "major_group"),
                               ("by_wage_quintile", result.by_wage_quintile, "wage_quintile"),
                               ("by_education", result.by_education, "education")],
                         _plot_columns(result.score_columns), folder)
    written += _scatter_plots(plt, result, folder)
    return written


def _bar_plots(plt, tables, cols: List[str], folder: Path) -> List[Path]:
    written = []
    for name, table, key in tables:
        if table.num_rows == 0:
            continue
        labels = [str(k) for k in table[key].to_pylist()]
        fig, ax = plt.subplots(figsize=(9, 0.35 * len(labels) * max(1, len(cols)) / 2 + 2))
        y = np.arange(len(labels))
        h = 0.8 / len(cols)
        for i, c in enumerate(cols):
            ax.barh(y + i * h, table[c].to_pylist(), height=h, label=c)
        ax.set_yticks(y + 0.4 - h / 2, labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("employment-weighted mean score")
        ax.set_title(f"Exposure {name.replace('_', ' ')}")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
        fig.tight_layout()
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def _scatter_plots(plt, result: WorkforceResult, folder: Path) -> List[Path]:
    written = []
    occ = result.occupations
    head = "exposure" if "exposure" in occ.column_names else result.score_columns[0]
    x = _floats(occ, head)
    emp = _floats(occ, "employment")
    for name, ycol, ylabel in (("exposure_vs_growth", "employment_change_percent", "projected change 2022-32 (%)"),
                               ("exposure_vs_wage", "median_wage", "median annual wage ($)")):
        yv = _floats(occ, ycol)
        ok = ~np.isnan(x) & ~np.isnan(yv) & ~np.isnan(emp)
        if not ok.any():
            continue
        fig, ax = plt.subplots(figsize=(8, 6))
        ax.scatter(x[ok], yv[ok], s=np.sqrt(emp[ok]) / 8, alpha=0.4, edgecolors="none")
        ax.set_xlabel(head)
        ax.set_ylabel(ylabel)
        ax.set_title(f"{head} vs {ylabel} (bubble area ~ employment)")
        if ycol == "employment_change_percent":
            ax.axhline(0, color="grey", lw=0.5)
        fig.tight_layout()
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written
