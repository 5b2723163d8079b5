"""ISCO-08 groups for postings: the assigner's O*NET-SOC probabilities carried over to ISCO-08.

A posting's likeliest O*NET-SOC occupations (:class:`~exposure.occupations.OccupationAssigner`, with
their calibrated probabilities) reach ISCO-08 through SOC 2018 -> SOC 2010 (BLS) -> ISCO-08 (IBS
concordance): each occupation's probability is split evenly over the unit groups it maps to. The posting's
own match to ISCO-08 (:class:`IscoIndex`: its title against the unit groups' titles, its duties against
their ILO task lists) is mixed in at :data:`NATIVE_WEIGHT`, and a group at 1, 2 or 3 digits gets the sum of
its unit groups, each level chosen on its own (so the likeliest sub-major group need not hold the likeliest
unit group). On the 160 development ads in seven European languages (``benchmarks/results/multilingual.md``)
the crosswalk alone gives the coded sub-major group for 0.63 of them by summed probability, 0.62 as the
sub-major group of the likeliest unit group; with the native part, 0.67.

>>> out = isco_groups([["43-6014.00", "43-9061.00"]], [[0.6, 0.3]])
>>> out.unit_codes[0][0], round(float(out.unit_confidence[0][0]), 2), out.codes[1][0], round(float(out.confidence[1][0]), 2)
('4120', 0.6, '4', 0.9)
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._assets import cache_dir as cache_dir_of
from .._assets import cached_float32_embeddings, embeddings_file_name
from ..io import TableLike, as_table, require_columns
from .catalogue import load_crosswalk, load_isco_crosswalk, read_shipped

logger = logging.getLogger(__name__)

__all__ = ["IscoGroups", "isco_groups", "soc_to_isco08", "isco_group_titles", "load_isco_groups",
           "parse_task_list", "isco_tasks", "isco_task_embeddings", "IscoIndex", "ISCO_CANDIDATES", "ISCO_LEVELS",
           "ISCO_DIGITS", "NATIVE_WEIGHT", "NATIVE_TITLE_WEIGHT", "NATIVE_TEMPERATURE"]

#: How many of a posting's likeliest O*NET-SOC occupations pass their probability on to ISCO-08: on the 160
#: development ads, 10 and 30 gave the coded sub-major group for 0.63 of them, 3 for 0.60 (unit groups: 0.49,
#: 0.50, 0.48).
ISCO_CANDIDATES = 10
#: The native part of :func:`isco_groups` (:class:`IscoIndex`): its weight, the weight of the title within it,
#: and the softmax temperature; chosen among 3 x 3 x 3 settings on the English real postings of the train split
#: whose hand-coded occupation the crosswalk reaches (an ISCO-08 group counts as right when it is one of the
#: coded occupation's; ``benchmarks/fit_isco_mix.py``, ``benchmarks/results/isco_postings.md``).
NATIVE_WEIGHT = 0.2
NATIVE_TITLE_WEIGHT = 0.3
NATIVE_TEMPERATURE = 0.03
#: The ISCO-08 levels reported besides unit groups: major (1 digit), sub-major (2) and minor groups (3).
ISCO_LEVELS = {1: "major", 2: "sub_major", 3: "minor"}


#: Levels of ISCO-08: 1 digit (major groups) to 4 digits (unit groups).
ISCO_DIGITS = (1, 2, 3, 4)
_GROUPS_FILE = "isco08_groups.parquet"
# "Tasks include -", "In such cases tasks would include -", "... tasks performed would include -".
_HEADER_RE = re.compile(r"\btasks?\b[\w ]*\binclude\s*[-:\u2013]?\s*$", re.IGNORECASE)
_ITEM_RE = re.compile(r"^\s*\(([a-z]{1,2})\s*\)\s*(.*\S)\s*$")



def load_isco_groups(level: Optional[int] = None) -> pa.Table:
    """The ISCO-08 groups (ESCO, CC BY 4.0): ``isco08``, ``level`` (digits), ``title``, ``description``.

    ``description`` is the ILO definition, with the unit groups' task lists. ``level=None``: all 619 groups
    (10 major, 43 sub-major, 130 minor, 436 unit groups), sorted by code.

    >>> [load_isco_groups(d).num_rows for d in (1, 2, 3, 4)]
    [10, 43, 130, 436]
    """
    table = read_shipped(_GROUPS_FILE)
    if level is None:
        return table
    if level not in ISCO_DIGITS:
        raise ValueError(f"ISCO-08 levels are 1 to 4 digits, got {level!r}")
    return table.filter(pc.equal(table["level"], level))


@functools.lru_cache(maxsize=None)
def isco_group_titles(level: int) -> Dict[str, str]:
    """ISCO-08 code -> title, for the groups of one level (1-4 digits), in code order (read once; do not change
    the dict)."""
    groups = load_isco_groups(level)
    return dict(zip(groups["isco08"].to_pylist(), groups["title"].to_pylist()))




def _sentence(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip().rstrip(";,. ")
    text = re.sub(r"[;,]?\s+and$", "", text)  # "...; and" before the last item
    return text[:1].upper() + text[1:] + "." if text else ""


def parse_task_list(description: str) -> list[str]:
    """The task statements of an ISCO-08 definition: the ``(a) ...; (b) ...`` items after "Tasks include -".

    Each item becomes a sentence (first letter capitalised, the closing ``;``, ``; and`` or ``.`` replaced
    by a full stop, runs of blanks collapsed). Definitions without a task list give ``[]``.

    >>> parse_task_list("Cooks plan meals.\\nTasks include -\\n(a)  planning menus;\\n(b ) cooking food; and\\n"
    ...                 "Examples of the occupations classified here:\\n- Cook")
    ['Planning menus.', 'Cooking food.']
    """
    tasks: list[str] = []
    inside = False
    for line in (description or "").splitlines():
        if not inside:
            inside = bool(_HEADER_RE.search(line))
            continue
        m = _ITEM_RE.match(line)
        if m:
            tasks.append(_sentence(m[2]))
        elif line.strip() and tasks:
            break  # "Examples of the occupations classified here:", "Note", ...
    return [t for t in tasks if t]


def _definition(description: str) -> str:
    """The first paragraph of a definition: what a group without a task list does."""
    return _sentence((description or "").strip().splitlines()[0] if description and description.strip() else "")


def isco_tasks(groups: Optional[TableLike] = None) -> pa.Table:
    """One row per task statement of the ISCO-08 unit groups: ``isco08``, ``title``, ``task_id``, ``task``,
    ``from_definition``.

    ``task_id`` is the code and the item's letter (``"2512.a"``). A unit group without a task list gets one
    statement, the first paragraph of its definition (``task_id`` ``"XXXX.0"``, ``from_definition`` true).
    ``groups``: rows like :func:`load_isco_groups` (``isco08``, ``title``, ``description``); default the
    436 shipped unit groups, which give 3,264 listed tasks and 9 definitions.

    >>> desc = "Ushers.\\nIn such cases tasks would include -\\n(a) selling tickets;"
    >>> t = isco_tasks(pa.table({"isco08": ["9629"], "title": ["Elementary workers"], "description": [desc]}))
    >>> t.select(["task_id", "task"]).to_pylist()
    [{'task_id': '9629.a', 'task': 'Selling tickets.'}]
    """
    groups = load_isco_groups(4) if groups is None else as_table(groups, "groups")
    require_columns(groups.column_names, ["isco08", "title", "description"], "the ISCO-08 groups")
    rows: dict[str, list] = {"isco08": [], "title": [], "task_id": [], "task": [], "from_definition": []}
    for code, title, desc in zip(groups["isco08"].to_pylist(), groups["title"].to_pylist(),
                                 groups["description"].to_pylist()):
        tasks = parse_task_list(desc)
        pairs = [(f"{code}.{chr(ord('a') + i) if i < 26 else i}", t) for i, t in enumerate(tasks)]
        if not pairs:
            pairs = [(f"{code}.0", _definition(desc) or _sentence(title))]
        for task_id, task in pairs:
            rows["isco08"].append(code)
            rows["title"].append(title)
            rows["task_id"].append(task_id)
            rows["task"].append(task)
            rows["from_definition"].append(not tasks)
    return pa.table({k: pa.array(v, pa.bool_() if k == "from_definition" else pa.string())
                     for k, v in rows.items()})




def isco_task_embeddings(encoder, texts: Sequence[str], cache_dir: Union[str, os.PathLike, None, bool] = None,
                         show_progress: bool = False) -> np.ndarray:
    """``encoder.encode(texts)`` as float32, kept in the cache folder (:func:`exposure._assets.cache_dir`;
    ``cache_dir=False``: no disk cache) under the encoder's identity, its embedding of a probe text and the
    texts, so that a rerun is instant. An unwritable folder only warns."""
    from ..heads import encoder_fingerprint

    texts = list(texts)
    path = None
    if cache_dir is not False:
        folder = cache_dir_of(None if cache_dir in (None, True) else cache_dir)
        path = folder / embeddings_file_name("isco08-tasks", encoder, texts,
                                             key={"probe": encoder_fingerprint(encoder)})

    def encode():
        logger.info("encoding %d ISCO-08 task statements (a few minutes on a CPU, cached afterwards)", len(texts))
        return encoder.encode(texts, show_progress=show_progress)

    return cached_float32_embeddings(path, len(texts), encoder.dim, encode, "ISCO-08 task embeddings")


@functools.lru_cache(maxsize=1)
def soc_to_isco08() -> Dict[str, Tuple[Tuple[str, float], ...]]:
    """SOC 2018 code (``"43-6014"``) -> its ISCO-08 unit groups, each with an equal share of 1 (through SOC 2010)."""
    cw = load_crosswalk()
    to2010: Dict[str, set] = defaultdict(set)
    for old, new in zip(cw["soc_2010_code"].to_pylist(), cw["soc_2018_code"].to_pylist()):
        to2010[new].add(old)
    ic = load_isco_crosswalk()
    isco: Dict[str, set] = defaultdict(set)
    for soc, group in zip(ic["soc_2010_code"].to_pylist(), ic["isco08"].to_pylist()):
        isco[soc].add(group)
    out = {}
    for soc, olds in to2010.items():
        groups = sorted({g for old in olds for g in isco[old]})
        if groups:
            out[soc] = tuple((g, 1.0 / len(groups)) for g in groups)
    return out


@functools.lru_cache(maxsize=1)
def _unit_groups() -> Tuple[np.ndarray, Dict[str, int], Dict[int, Tuple[List[str], np.ndarray]]]:
    """The unit group codes in order, their positions, and per level of :data:`ISCO_LEVELS` its group codes and
    the 0/1 matrix ``(unit groups, groups)`` that sums unit groups into them."""
    order = list(isco_group_titles(4))
    levels = {}
    for d in ISCO_LEVELS:
        keys = sorted({c[:d] for c in order})
        at = {k: j for j, k in enumerate(keys)}
        member = np.zeros((len(order), len(keys)))
        member[np.arange(len(order)), [at[c[:d]] for c in order]] = 1.0
        levels[d] = (keys, member)
    return np.asarray(order, dtype=object), {c: i for i, c in enumerate(order)}, levels


@dataclass
class IscoGroups:
    """ISCO-08 groups of ``n`` postings.

    Attributes:
        unit_codes: ``(n, 3)`` object array, the likeliest unit groups (4 digits), most likely first (``None``
            where fewer have any probability); unit_confidence: ``(n, 3)`` float32 (NaN there).
        codes, confidence: per level of :data:`ISCO_LEVELS` (1, 2, 3 digits), ``(n,)`` the likeliest group of that
            level and its probability (``None`` / NaN where the posting has no occupation).
    """

    unit_codes: np.ndarray
    unit_confidence: np.ndarray
    codes: Dict[int, List]
    confidence: Dict[int, np.ndarray]

    @staticmethod
    def empty(n: int, k: int = 3) -> "IscoGroups":
        """``n`` postings without groups."""
        return IscoGroups(np.full((n, k), None, dtype=object), np.full((n, k), np.nan, dtype=np.float32),
                          {d: [None] * n for d in ISCO_LEVELS}, {d: np.full(n, np.nan, np.float32) for d in ISCO_LEVELS})

    @staticmethod
    def concat(pieces: Sequence["IscoGroups"]) -> "IscoGroups":
        """The postings of ``pieces``, one after the other."""
        return IscoGroups(np.vstack([p.unit_codes for p in pieces]), np.vstack([p.unit_confidence for p in pieces]),
                          {d: [c for p in pieces for c in p.codes[d]] for d in ISCO_LEVELS},
                          {d: np.concatenate([p.confidence[d] for p in pieces]) for d in ISCO_LEVELS})


class IscoIndex:
    """The ISCO-08 unit groups' titles and ILO task statements embedded by ``encoder`` (cached on disk as
    :func:`isco_task_embeddings` caches), for the native part of :func:`isco_groups`.

    :meth:`distribution` gives each posting a probability over the 436 unit groups from its title's similarity
    to the groups' titles and its duties' best match among each group's task statements (the mean over its
    duties), ``NATIVE_TITLE_WEIGHT`` and the rest, softmax at ``NATIVE_TEMPERATURE``.
    """

    def __init__(self, encoder, cache_dir: Union[str, os.PathLike, None, bool] = None,
                 show_progress: bool = False) -> None:
        groups = load_isco_groups(4)
        self.codes: List[str] = groups["isco08"].to_pylist()
        tasks = isco_tasks(groups)
        slot = {c: i for i, c in enumerate(self.codes)}
        group = np.array([slot[c] for c in tasks["isco08"].to_pylist()], dtype=np.int64)
        if (np.diff(group) < 0).any():
            raise ValueError("isco_tasks() must list each unit group's tasks together, in code order")
        self._starts = np.flatnonzero(np.r_[True, np.diff(group) != 0])
        self.titles = isco_task_embeddings(encoder, groups["title"].to_pylist(), cache_dir, show_progress)
        self.tasks = isco_task_embeddings(encoder, tasks["task"].to_pylist(), cache_dir, show_progress)

    def distribution(self, title_embeddings: np.ndarray, has_title: np.ndarray, duty_embeddings: np.ndarray,
                     owners: np.ndarray, title_weight: Optional[float] = None,
                     temperature: Optional[float] = None) -> np.ndarray:
        """``(n, 436)`` float64: each posting's probability over the unit groups (``self.codes``), zeros for a
        posting with neither title (``has_title``) nor duties. ``owners[i]``: the posting of duty row ``i``.
        ``title_weight``, ``temperature``: default :data:`NATIVE_TITLE_WEIGHT`, :data:`NATIVE_TEMPERATURE`."""
        title_weight = NATIVE_TITLE_WEIGHT if title_weight is None else float(title_weight)
        temperature = NATIVE_TEMPERATURE if temperature is None else float(temperature)
        n = len(title_embeddings)
        title = np.asarray(title_embeddings, dtype=np.float32) @ self.titles.T
        duty = np.zeros_like(title)
        has_duty = np.zeros(n, dtype=bool)
        if len(duty_embeddings):
            best = np.maximum.reduceat(np.asarray(duty_embeddings, dtype=np.float32) @ self.tasks.T, self._starts,
                                       axis=1)
            counts = np.bincount(owners, minlength=n)
            np.add.at(duty, owners, best)
            has_duty = counts > 0
            duty[has_duty] /= counts[has_duty, None]
        has_title = np.asarray(has_title, dtype=bool)
        w = np.where(has_title & has_duty, title_weight, np.where(has_title, 1.0, 0.0))[:, None]
        score = w * title + (1.0 - w) * duty
        out = np.exp((score - score.max(axis=1, keepdims=True)) / temperature)
        out /= out.sum(axis=1, keepdims=True)
        out[~(has_title | has_duty)] = 0.0
        return out


def isco_groups(soc_codes: Sequence[Sequence], probabilities: Sequence[Sequence[float]], k: int = 3,
                native: Optional[np.ndarray] = None, native_weight: Optional[float] = None) -> IscoGroups:
    """The ISCO-08 groups of postings whose likeliest O*NET-SOC (or SOC 2018) codes and probabilities are given,
    one row per posting (``None`` or ``""`` where no code). Codes the crosswalk does not reach pass nothing on.
    ``native``: :meth:`IscoIndex.distribution` of the same postings, mixed in at ``native_weight`` (default
    :data:`NATIVE_WEIGHT`) where the posting has an occupation; without one it gets no group either."""
    table = soc_to_isco08()
    order, slot, levels = _unit_groups()
    n = len(soc_codes)
    dense = np.zeros((n, len(order)))
    for i, (row, probs) in enumerate(zip(soc_codes, probabilities)):
        for code, p in zip(row, probs):
            if code and np.isfinite(p):
                for group, share in table.get(str(code)[:7], ()):
                    dense[i, slot[group]] += float(p) * share
    rows = np.flatnonzero(dense.sum(axis=1) > 0)
    if native is not None:
        w = NATIVE_WEIGHT if native_weight is None else float(native_weight)
        dense[rows] = (1.0 - w) * dense[rows] + w * np.asarray(native, dtype=np.float64)[rows]
    out = IscoGroups.empty(n, k)
    named = dense[rows]
    top = np.argsort(-named, axis=1, kind="stable")[:, :k]  # ties: the lowest code
    value = np.take_along_axis(named, top, axis=1)
    some = value > 0
    out.unit_codes[rows] = np.where(some, order[top], None)
    out.unit_confidence[rows] = np.where(some, value, np.nan)
    for d, (keys, member) in levels.items():
        level = named @ member
        best = level.argmax(axis=1)  # ties: the lowest code
        for i, j, p in zip(rows.tolist(), best.tolist(), level[np.arange(len(rows)), best].tolist()):
            out.codes[d][i], out.confidence[d][i] = keys[j], p
    return out
