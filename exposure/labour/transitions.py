"""Where people can move: nearby occupations with lower exposure, and what it takes to get there.

Two occupations are near when they do similar work, measured two ways on O*NET 29.1:

* **DWA overlap**: the Jaccard index of the Detailed Work Activities (DWAs) that O*NET links to their
  tasks, ``|A ∩ B| / |A ∪ B|`` (0: none shared, 1: the same set);
* **task similarity**: the mean, over the tasks of each occupation, of the cosine similarity of its best
  match among the other's tasks (task embeddings of the assigner's encoder), averaged over both
  directions: ``½ (mean_i max_j s_ij + mean_j max_i s_ij)``.

``score = 0.5 · dwa_overlap + 0.5 · task_similarity`` (:data:`WEIGHTS`). Candidates are the occupations
with task statements whose exposure (a column of an occupation table: ``exposure``,
``exposure_<technology>`` or ``automation_exposure``) is lower than the source's and that are moves up by
default: projected to grow (BLS 2022-32 change at least 0 %), paying at least the source's median wage, and
no more exposed to any technology (each ``exposure_<technology>`` at most the source's), at most one O*NET
job zone above the source's; ranked by score.

For each suggestion, what is new and what carries over:

* DWAs to learn are the target's DWAs the source lacks; DWAs that carry over are shared; both are ordered
  by how many of the target's tasks they cover;
* a task *carries over* when the other occupation has a task at cosine similarity of at least
  :data:`TASK_MATCH` (0.5, closer than 99 % of random pairs of O*NET tasks and than the median pair of
  tasks O*NET files under one DWA in two occupations, 0.45). Tasks to learn are the target's tasks
  without such a match (Core tasks first, then the least similar); tasks that carry over are the
  source's tasks with one (the most similar first).

Median wage, projected employment change 2022-32 and typical entry education come from the BLS
Employment Projections (:func:`exposure.labour.employment.load_projections`), joined on the SOC 2018
code (the O*NET-SOC code cut to 7 characters) or the BLS code that covers it. How well the ranking recovers O*NET's own occupation
groups, against random lower-exposure occupations: ``benchmarks/results/transitions.md``.

>>> index = TransitionIndex.from_encoder()                                   # doctest: +SKIP
>>> table = transitions("Team Assemblers", scores, index=index, top=5)       # doctest: +SKIP
>>> table.select(["soc_code", "title", "score"]).to_pylist()[0]              # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import functools
import logging
import os
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..io import TableLike, as_table, require_columns
from ..occupations.catalogue import TITLE_SOURCES, load_occupations, load_tasks, load_titles, normalize_codes, read_shipped
from ..occupations.tables import is_technology_column

if TYPE_CHECKING:
    from ..encoder import Encoder
    from ..occupations.assign import OccupationAssigner
    from ..scoring import ExposureModel

__all__ = ["WEIGHTS", "TASK_MATCH", "TransitionIndex", "transitions", "resolve_occupation", "load_task_dwas",
           "exposure_columns", "load_job_zones", "skill_gap", "SKILL_IMPORTANCE", "SKILL_RISE"]

logger = logging.getLogger(__name__)

#: Weights of the two similarities in the transition score (they sum to 1).
WEIGHTS: Dict[str, float] = {"dwa_overlap": 0.5, "task_similarity": 0.5}
#: Cosine similarity at which a task of one occupation counts as matched by a task of the other.
TASK_MATCH = 0.5
#: Assigner confidence needed to accept a title that matches no O*NET title exactly.
_ASSIGN_CONFIDENCE = 0.5
_TASK_DWA_FILE = "onet29_1_task_dwas.parquet"
_JOB_ZONES_FILE = "onet29_3_job_zones.parquet"
_SKILLS_FILE = "onet29_3_skill_levels.parquet"
_TECHNOLOGY_FILE = "onet29_3_technology_skills.parquet"
#: A skill or knowledge area is to learn when the target rates it at least this important (O*NET importance,
#: 1-5; 3 is "important") and needs it at least :data:`SKILL_RISE` levels higher (O*NET level scale, 0-7).
SKILL_IMPORTANCE = 3.0
SKILL_RISE = 0.5
_LIST_COLUMNS = ("dwas_to_learn", "dwas_carry_over", "tasks_to_learn", "tasks_carry_over", "skills_to_learn",
                 "technologies_to_learn")


def load_task_dwas() -> pa.Table:
    """The O*NET 29.1 links of tasks to Detailed Work Activities shipped in ``exposure/data``.

    Columns ``soc_code``, ``task_id``, ``dwa_id``, ``dwa_title`` (the title from the O*NET 30.1 DWA
    reference); one row per link, in the source file's order.

    >>> load_task_dwas().num_rows
    23233
    """
    return read_shipped(_TASK_DWA_FILE)


def exposure_columns(table: pa.Table) -> List[str]:
    """The columns of an occupation table that ``by`` may name: ``exposure``, ``exposure_<technology>``,
    ``automation_exposure``.

    >>> exposure_columns(pa.table({"soc_code": ["a"], "exposure": [0.1], "exposure_llm": [0.2], "rank": [1]}))
    ['exposure', 'exposure_llm']
    """
    return [c for c in table.column_names
            if (c == "exposure" or is_technology_column(c) or c == "automation_exposure")
            and pa.types.is_floating(table.schema.field(c).type)]


# --------------------------------------------------------------------------- the index

class TransitionIndex:
    """The occupations of an O*NET task table, with their task embeddings and DWA sets.

    Args:
        embeddings: ``(tasks, d)`` task embeddings row-aligned with ``tasks`` (normalised here).
        tasks: ``soc_code``, ``occupation_title``, ``task_id``, ``task_type``, ``task``; default
            ``load_tasks("29.1")``.
        task_dwas: ``task_id``, ``dwa_id``, ``dwa_title``; default :func:`load_task_dwas`.
        weights: ``{"dwa_overlap": w, "task_similarity": 1 - w}``; default :data:`WEIGHTS`.

    >>> index = TransitionIndex.from_encoder()               # cached task embeddings, seconds  # doctest: +SKIP
    >>> sims = index.similarity("51-2092.00")                 # doctest: +SKIP
    >>> index.codes[np.argsort(-sims["score"])[1]]            # doctest: +SKIP
    """

    def __init__(self, embeddings: np.ndarray, tasks: Optional[TableLike] = None,
                 task_dwas: Optional[TableLike] = None, *, weights: Optional[Dict[str, float]] = None) -> None:
        tasks = load_tasks("29.1") if tasks is None else as_table(tasks, "tasks")
        task_dwas = load_task_dwas() if task_dwas is None else as_table(task_dwas, "task_dwas")
        require_columns(tasks.column_names, ["soc_code", "occupation_title", "task_id", "task_type", "task"], "tasks")
        require_columns(task_dwas.column_names, ["task_id", "dwa_id", "dwa_title"], "task_dwas")
        emb = np.asarray(embeddings)
        if emb.ndim != 2 or emb.shape[0] != tasks.num_rows:
            raise ValueError(f"embeddings must be (tasks, d) with one row per task ({tasks.num_rows}), got {emb.shape}")
        self.weights = dict(WEIGHTS if weights is None else weights)
        if set(self.weights) != set(WEIGHTS) or abs(sum(self.weights.values()) - 1) > 1e-9 or \
                min(self.weights.values()) < 0:
            raise ValueError(f"weights must give non-negative 'dwa_overlap' and 'task_similarity' summing to 1, "
                             f"got {weights}")
        codes = np.asarray(tasks["soc_code"].to_pylist(), dtype=object)
        # Tasks grouped by occupation (stable: source order within one), occupations sorted by code.
        order = np.argsort(codes.astype(str), kind="stable")
        self.codes, starts, counts = np.unique(codes[order].astype(str), return_index=True, return_counts=True)
        self._position = {c: i for i, c in enumerate(self.codes.tolist())}
        titles = np.asarray(tasks["occupation_title"].to_pylist(), dtype=object)[order]
        self.titles = titles[starts]
        emb = emb[order].astype(np.float32)
        norms = np.linalg.norm(emb, axis=1, keepdims=True)
        self._emb = emb / np.where(norms > 0, norms, 1)
        self._starts, self._counts = starts, counts
        self._task_text = np.asarray(tasks["task"].to_pylist(), dtype=object)[order]
        self._core = np.asarray([t == "Core" for t in tasks["task_type"].to_pylist()], dtype=bool)[order]
        self._task_owner = np.repeat(np.arange(len(self.codes)), counts)
        # DWAs: one column per DWA; counts[o, d] = tasks of occupation o linked to DWA d.
        row_of = {int(t): i for i, t in enumerate(np.asarray(tasks["task_id"].to_pylist())[order].tolist())}
        t_ids = task_dwas["task_id"].to_pylist()
        known = [row_of.get(int(t), -1) for t in t_ids]
        dwa_ids = task_dwas["dwa_id"].to_pylist()
        self.dwa_ids, dwa_col = np.unique(np.asarray(dwa_ids, dtype=str), return_inverse=True) if dwa_ids else \
            (np.zeros(0, dtype=str), np.zeros(0, dtype=np.int64))
        first = dict(zip(dwa_ids, task_dwas["dwa_title"].to_pylist()))
        self.dwa_titles = np.asarray([first[d] for d in self.dwa_ids.tolist()], dtype=object)
        linked = np.asarray(known, dtype=np.int64) >= 0
        self._task_dwas = [[] for _ in range(len(row_of))]  # DWA columns of every task (grouped order)
        for r, d in zip(np.asarray(known)[linked].tolist(), np.asarray(dwa_col)[linked].tolist()):
            self._task_dwas[r].append(d)
        self._dwa_counts = np.zeros((len(self.codes), len(self.dwa_ids)), dtype=np.int32)
        np.add.at(self._dwa_counts, (self._task_owner[np.asarray(known)[linked]], np.asarray(dwa_col)[linked]), 1)
        self._has_dwa = self._dwa_counts > 0
        self._n_dwas = self._has_dwa.sum(axis=1)

    @classmethod
    def from_encoder(cls, encoder: Optional["Encoder"] = None, *, cache_dir: Union[str, os.PathLike, None] = None,
                     assigner: Optional["OccupationAssigner"] = None, **kwargs) -> "TransitionIndex":
        """The index of the O*NET 29.1 catalogue, its task embeddings from the :class:`OccupationAssigner`'s
        disk cache (built at first use: a few minutes on a CPU, once per encoder and dtype)."""
        if assigner is None:
            from ..occupations.assign import OccupationAssigner

            assigner = OccupationAssigner(encoder, cache_dir=cache_dir)
        embeddings = assigner.catalogue_task_embeddings("29.1")
        if embeddings is None:
            raise ValueError("the assigner's task table is not the O*NET 29.1 catalogue; build the index from "
                             "TransitionIndex(embeddings, tasks) instead")
        return cls(embeddings, **kwargs)

    def __len__(self) -> int:
        return len(self.codes)

    def __repr__(self) -> str:
        return (f"TransitionIndex(occupations={len(self.codes)}, tasks={self._emb.shape[0]}, "
                f"dwas={len(self.dwa_ids)}, weights={self.weights})")

    def position(self, code: str) -> int:
        """Row of ``code`` in :attr:`codes`; ``ValueError`` when the index has no tasks for it."""
        try:
            return self._position[code]
        except KeyError:
            raise ValueError(f"{code} has no task statements in this index") from None

    def _tasks_of(self, i: int) -> slice:
        return slice(int(self._starts[i]), int(self._starts[i] + self._counts[i]))

    def similarity(self, code: str) -> Dict[str, np.ndarray]:
        """The similarity of ``code`` to every occupation of the index, arrays aligned with :attr:`codes`.

        Keys: ``dwa_overlap`` (Jaccard of the DWA sets; 0 when neither has DWAs), ``shared_dwas`` (count),
        ``task_similarity`` (mean best-match cosine, both directions averaged) and ``score``
        (``weights``-weighted sum).
        """
        i = self.position(code)
        sims = self._emb[self._tasks_of(i)] @ self._emb.T                              # (source tasks, all tasks)
        # 1. source -> target: each source task's best match in every occupation, averaged over source tasks
        forward = np.maximum.reduceat(sims, self._starts, axis=1).mean(axis=0)
        # 2. target -> source: each target task's best match among the source tasks, averaged per occupation
        backward = np.add.reduceat(sims.max(axis=0), self._starts) / self._counts
        task_similarity = (0.5 * (forward + backward)).astype(np.float64)
        shared = self._has_dwa.astype(np.int32) @ self._has_dwa[i].astype(np.int32)
        union = self._n_dwas + self._n_dwas[i] - shared
        overlap = np.divide(shared, union, out=np.zeros(len(self.codes)), where=union > 0)
        score = self.weights["dwa_overlap"] * overlap + self.weights["task_similarity"] * task_similarity
        return {"dwa_overlap": overlap, "shared_dwas": shared.astype(np.int64), "task_similarity": task_similarity,
                "score": score}

    def explain(self, source: str, target: str, max_items: int = 3) -> Dict[str, List[str]]:
        """What moving from ``source`` to ``target`` asks and keeps: ``dwas_to_learn``, ``dwas_carry_over``,
        ``tasks_to_learn``, ``tasks_carry_over`` (at most ``max_items`` each; see the module docs)."""
        i, j = self.position(source), self.position(target)
        a, b = self._tasks_of(i), self._tasks_of(j)
        sims = self._emb[a] @ self._emb[b].T
        # DWAs, the most used by the target's tasks first (then by title, for a stable order).
        learn = np.flatnonzero(self._has_dwa[j] & ~self._has_dwa[i])
        keep = np.flatnonzero(self._has_dwa[j] & self._has_dwa[i])

        def by_use(cols: np.ndarray) -> List[str]:
            ordered = sorted(cols.tolist(), key=lambda d: (-int(self._dwa_counts[j, d]), str(self.dwa_titles[d])))
            return [str(self.dwa_titles[d]) for d in ordered[:max_items]]

        # Tasks: the target's without a match here (Core first, least similar first); the source's with a
        # match there (most similar first).
        target_best = sims.max(axis=0)
        new = np.flatnonzero(target_best < TASK_MATCH)
        new = new[np.lexsort((target_best[new], ~self._core[b][new]))]
        source_best = sims.max(axis=1)
        kept = np.flatnonzero(source_best >= TASK_MATCH)
        kept = kept[np.argsort(-source_best[kept], kind="stable")]
        return {"dwas_to_learn": by_use(learn), "dwas_carry_over": by_use(keep),
                "tasks_to_learn": [str(t) for t in self._task_text[b][new[:max_items]]],
                "tasks_carry_over": [str(t) for t in self._task_text[a][kept[:max_items]]]}


# --------------------------------------------------------------------------- titles and codes

def _code_like(text: str) -> bool:
    return normalize_codes([text], "onet")[0] is not None


def resolve_occupation(occupation: str, *, codes: Optional[np.ndarray] = None,
                       assigner: Optional["OccupationAssigner"] = None) -> Tuple[str, str]:
    """``(O*NET-SOC code, title)`` of an occupation given by code or title.

    A code (``"51-2092.00"``, ``"51-2092"``, ``"512092"``) must be an O*NET 29.1 occupation. A title
    is matched exactly after :func:`~exposure.occupations.normalize_title` against the occupation
    titles, then the alternate titles, their short forms and the titles reported by incumbents (the
    first of those that holds it decides; a title naming several occupations is an error listing them).
    Otherwise the ``assigner`` (if given) names the likeliest occupation when its confidence is at least
    0.5. ``codes``: the occupations that may be named (those with task statements); every error names
    close matches.

    >>> resolve_occupation("team assemblers")
    ('51-2092.00', 'Team Assemblers')
    >>> resolve_occupation("43-3031")
    ('43-3031.00', 'Bookkeeping, Accounting, and Auditing Clerks')
    """
    if not isinstance(occupation, str) or not occupation.strip():
        raise ValueError(f"give an occupation as an O*NET-SOC code (51-2092.00) or a title, got {occupation!r}")
    query = occupation.strip()
    occ = load_occupations("29.1")
    titles = dict(zip(occ["soc_code"].to_pylist(), occ["title"].to_pylist()))
    allowed = set(titles) if codes is None else set(np.asarray(codes).tolist())

    def checked(code: str) -> Tuple[str, str]:
        if code not in allowed:
            nearby = [c for c in sorted(allowed) if c[:7] == code[:7]]
            hint = (f"; use one of its detailed occupations: {_named(nearby, titles)}" if nearby else
                    "; pick another occupation")
            raise ValueError(f"{code} ({titles.get(code, '?')}) has no O*NET 29.1 task statements to compare"
                             f"{hint}")
        return code, titles[code]

    if _code_like(query):
        code = normalize_codes([query], "onet")[0]
        if code in titles:
            return checked(code)
        # The codes of its SOC minor group, numerically nearest first.
        number = _code_number(code)
        close = sorted((c for c in allowed if c[:4] == code[:4]), key=lambda c: (abs(_code_number(c) - number), c))
        raise ValueError(f"unknown O*NET-SOC code {query!r} (not in O*NET 29.1); close codes: "
                         f"{_named(close[:6], titles) or 'none in its SOC group'}")
    from ..occupations.assign import normalize_title

    key = normalize_title(query)
    table, norm = _title_keys()
    sources = table["source"].to_pylist()
    hits: Dict[str, List[str]] = {}
    for c, k, s in zip(table["soc_code"].to_pylist(), norm, sources):
        if k == key:
            hits.setdefault(s, [])
            if c not in hits[s]:
                hits[s].append(c)
    for source in TITLE_SOURCES:
        found = hits.get(source)
        if not found:
            continue
        usable = [c for c in found if c in allowed] or found
        if len(usable) > 1:
            raise ValueError(f"the title {query!r} names {len(usable)} occupations ({source} titles): "
                             f"{_named(usable[:8], titles)}; give one of their codes")
        return checked(usable[0])
    if assigner is not None:
        top = assigner.assign([query], k=3)[0]
        if top and top[0][2] >= _ASSIGN_CONFIDENCE:
            logger.info("no O*NET title is %r; the assigner names %s %s (confidence %.2f)", query, top[0][0],
                        top[0][1], top[0][2])
            return checked(top[0][0])
        close = [f"{c} {t} ({p:.2f})" for c, t, p in top]
        raise ValueError(f"no O*NET 29.1 occupation is titled {query!r} and the assigner is unsure; likeliest: "
                         f"{', '.join(close)}; give a code or one of these titles")
    names = sorted(set(k for k, s in zip(norm, sources) if s in ("occupation", "alternate")))
    close_keys = difflib.get_close_matches(key, names, n=5, cutoff=0.6)
    close = []
    for k in close_keys:
        i = norm.index(k)
        close.append(f"{table['title'][i].as_py()} ({table['soc_code'][i].as_py()})")
    raise ValueError(f"no O*NET 29.1 occupation is titled {query!r}; close titles: "
                     f"{', '.join(close) or 'none'}; give an O*NET-SOC code or one of these titles")


@functools.lru_cache(maxsize=1)
def _title_keys() -> Tuple[pa.Table, List[str]]:
    """The shipped titles and their :func:`normalize_title` keys, computed once."""
    from ..occupations.assign import normalize_title  # the assigner's module: only when titles are looked up

    table = load_titles()
    return table, [normalize_title(t) for t in table["title"].to_pylist()]


def _code_number(code: str) -> int:
    return int(code[:2] + code[3:7] + code[8:10])


def _named(codes: List[str], titles: Dict[str, str]) -> str:
    return ", ".join(f"{c} {titles.get(c, '')}".strip() for c in codes)


# --------------------------------------------------------------------------- transitions

def _labour_columns(codes: List[str], projections: Optional[TableLike]) -> Dict[str, pa.Array]:
    """The BLS projections row of each O*NET code's SOC 2018 code (or of the BLS hybrid or broad code that
    covers it, :func:`~exposure.labour.employment.hybrid_members`): ``bls_code``, ``median_wage_2022``,
    ``employment_change_percent`` (2022-32) and ``entry_education``."""
    from .employment import hybrid_members, load_projections

    proj = load_projections() if projections is None else as_table(projections, "projections")
    require_columns(proj.column_names, ["soc_code", "median_wage_2022", "employment_change_percent", "education"],
                    "projections")
    if "occupation_type" in proj.column_names:  # detailed rows only, not the group totals
        proj = proj.filter(pc.equal(proj["occupation_type"], "Line item"))
    rows = {c: i for i, c in enumerate(proj["soc_code"].to_pylist())}
    covering = {m: c for c, members in hybrid_members(list(rows)).items() for m in members}
    bls = [covering.get(c[:7]) for c in codes]
    at = pa.array([rows.get(c) if c else None for c in bls], pa.int64())
    return {"bls_code": pa.array(bls, pa.string()),
            "median_wage_2022": pc.cast(proj["median_wage_2022"].take(at), pa.float64()),
            "employment_change_percent": pc.cast(proj["employment_change_percent"].take(at), pa.float64()),
            "entry_education": pc.cast(proj["education"].take(at), pa.string())}


@functools.lru_cache(maxsize=1)
def _skill_levels() -> Dict[str, Dict[Tuple[str, str], Tuple[float, float]]]:
    """O*NET-SOC code -> {(kind, element): (importance, level)} of O*NET 29.3 skills and knowledge."""
    t = read_shipped(_SKILLS_FILE)
    out: Dict[str, Dict[Tuple[str, str], Tuple[float, float]]] = {}
    for code, kind, element, imp, lv in zip(*(t[c].to_pylist() for c in ("soc_code", "kind", "element", "importance",
                                                                          "level"))):
        out.setdefault(code, {})[(kind, element)] = (imp, lv)
    return out


@functools.lru_cache(maxsize=1)
def _technologies() -> Dict[str, Dict[str, Tuple[bool, bool]]]:
    """O*NET-SOC code -> {technology: (hot, in demand)} of O*NET 29.3 Technology Skills."""
    t = read_shipped(_TECHNOLOGY_FILE)
    out: Dict[str, Dict[str, Tuple[bool, bool]]] = {}
    for code, tech, hot, demand in zip(*(t[c].to_pylist() for c in ("soc_code", "technology", "hot", "in_demand"))):
        seen = out.setdefault(code, {}).get(tech, (False, False))
        out[code][tech] = (seen[0] or hot, seen[1] or demand)
    return out


def skill_gap(source: str, target: str, max_items: int = 3) -> Dict[str, List[str]]:
    """What a move from ``source`` to ``target`` (O*NET-SOC codes) asks to learn, from O*NET 29.3.

    ``skills_to_learn``: the skills and knowledge areas the target rates important (importance at least
    :data:`SKILL_IMPORTANCE`) at a level at least :data:`SKILL_RISE` above the source's, the largest rise times
    importance first (``"Programming (skill) 1.6 -> 3.9"``, O*NET's 0-7 level scale); ``technologies_to_learn``:
    the target's technologies (Technology Skills) the source does not list, hot and in demand first, then hot,
    then in demand (``"Python (hot, in demand)"``). Empty where O*NET rates neither occupation.

    >>> skill_gap("43-3031.00", "13-2011.00", 2)["skills_to_learn"]                  # doctest: +SKIP
    """
    levels = _skill_levels()
    have, want = levels.get(source, {}), levels.get(target, {})
    rises = []
    for (kind, element), (importance, level) in want.items():
        before = have.get((kind, element), (0.0, 0.0))[1]
        if importance >= SKILL_IMPORTANCE and level - before >= SKILL_RISE:
            rises.append(((level - before) * importance, f"{element} ({kind}) {before:.1f} -> {level:.1f}"))
    rises.sort(key=lambda r: (-r[0], r[1]))
    techs = _technologies()
    known = techs.get(source, {})
    new = [(not (h and d), not h, not d, name) for name, (h, d) in techs.get(target, {}).items() if name not in known]
    new.sort()
    label = lambda h, d: " (" + ", ".join(x for x, on in (("hot", h), ("in demand", d)) if on) + ")" if h or d else ""  # noqa: E731
    return {"skills_to_learn": [text for _, text in rises[:max_items]],
            "technologies_to_learn": [name + label(not nh, not nd) for _, nh, nd, name in new[:max_items]]}


@functools.lru_cache(maxsize=1)
def load_job_zones() -> Dict[str, int]:
    """O*NET-SOC code -> job zone (1: little or no preparation ... 5: extensive), O*NET 29.3 (CC BY 4.0)."""
    table = read_shipped(_JOB_ZONES_FILE)
    return dict(zip(table["soc_code"].to_pylist(), table["job_zone"].to_pylist()))


def _moves_up(source: int, codes: List[str], scores: pa.Table, labour: Dict[str, pa.Array], zones: Dict[str, int],
              min_growth: Optional[float], min_wage_ratio: Optional[float], any_technology: bool,
              max_zone_step: Optional[int]) -> np.ndarray:
    """Which of ``codes`` are moves up from ``codes[source]``: projected growth at least ``min_growth``, median wage
    at least ``min_wage_ratio`` times the source's, (unless ``any_technology``) no technology score above the
    source's, and at most ``max_zone_step`` job zones above the source's. ``labour``: :func:`_labour_columns` of
    ``codes``. A condition given as ``None`` (or ``True``) is not checked."""
    code = codes[source]
    ok = np.ones(len(codes), dtype=bool)
    growth = np.asarray(labour["employment_change_percent"].to_numpy(zero_copy_only=False), dtype=np.float64)
    wage = np.asarray(labour["median_wage_2022"].to_numpy(zero_copy_only=False), dtype=np.float64)
    with np.errstate(invalid="ignore"):
        if min_growth is not None:
            ok &= growth >= min_growth
        if min_wage_ratio is not None:
            if np.isfinite(wage[source]):
                ok &= wage >= min_wage_ratio * wage[source]
            else:
                logger.warning("%s has no BLS median wage: suggestions are not filtered by wage", code)
    if max_zone_step is not None and code in zones:
        zone = np.asarray([zones.get(c, 0) for c in codes], dtype=np.int64)
        ok &= (zone > 0) & (zone <= zones[code] + int(max_zone_step))
    if not any_technology:
        for column in (c for c in exposure_columns(scores) if is_technology_column(c)):
            tech = _score_lookup(scores, column)
            if code in tech:
                value = np.asarray([tech.get(c, np.nan) for c in codes])
                with np.errstate(invalid="ignore"):
                    ok &= ~(value > tech[code] + 1e-9)
    return ok


def _score_lookup(scores: pa.Table, by: str) -> Dict[str, float]:
    require_columns(scores.column_names, ["soc_code"], "the occupation scores")
    if by not in scores.column_names:
        raise ValueError(f"the occupation scores have no column {by!r}; --by takes one of: "
                         f"{', '.join(exposure_columns(scores)) or '(none: not an occupation table)'}")
    if by not in exposure_columns(scores):
        raise ValueError(f"{by!r} is not an exposure column; use one of: {', '.join(exposure_columns(scores))}")
    codes = scores["soc_code"].to_pylist()
    if codes and all(c is None or len(str(c)) == 7 for c in codes):
        raise ValueError("the occupation scores are rolled up to 6-digit SOC codes; transitions need O*NET-level "
                         "scores: exposure occupations --release 29.1 --level onet -o FILE")
    values = scores[by].to_pylist()
    return {str(c): float(v) for c, v in zip(codes, values) if c is not None and v is not None and v == v}


def transitions(occupation: str, scores: Optional[TableLike] = None, *, by: str = "exposure", top: int = 10,
                index: Optional[TransitionIndex] = None, model: Optional["ExposureModel"] = None,
                projections: Optional[TableLike] = None, assigner: Optional["OccupationAssigner"] = None,
                min_difference: float = 0.0, max_items: int = 3, min_growth: Optional[float] = 0.0,
                min_wage_ratio: Optional[float] = 1.0, any_technology: bool = False,
                max_zone_step: Optional[int] = 1) -> pa.Table:
    """The ``top`` occupations nearest to ``occupation`` whose ``by`` exposure is lower, best first: by default
    only moves up (projected to grow, paying at least as much, no more exposed to any technology).

    Args:
        occupation: an O*NET-SOC code or a title (:func:`resolve_occupation`).
        scores: an O*NET-level occupation table (``exposure occupations --release 29.1 -o FILE``, or
            :func:`~exposure.occupations.cached_occupation_scores`); ``None``: the O*NET 29.1 catalogue
            scored by ``model`` (default :class:`~exposure.ExposureModel`), cached on disk.
        by: the exposure column compared: ``exposure``, ``exposure_<technology>`` or ``automation_exposure``.
        top: suggestions returned.
        index: the :class:`TransitionIndex` (default: :meth:`TransitionIndex.from_encoder` with the model's
            encoder).
        projections: BLS projections with ``soc_code`` (SOC 2018), ``median_wage_2022``,
            ``employment_change_percent`` and ``education``; default
            :func:`~exposure.labour.employment.load_projections`.
        assigner: resolves titles that match no O*NET title exactly.
        min_difference: keep occupations whose ``by`` is at least this much below the source's.
        max_items: items listed per suggestion in each of the six lists (DWAs, tasks, skills, technologies).
        min_growth: keep occupations whose projected employment change 2022-32 is at least this (percent;
            ``None``: any). Occupations without a BLS projection are left out unless ``None``.
        min_wage_ratio: keep occupations whose median wage is at least this times the source's (``None``: any;
            when the source has no wage, not applied). Occupations without a wage are left out unless ``None``.
        any_technology: keep occupations more exposed than the source to some technology (an
            ``exposure_<technology>`` column of ``scores``); by default a move must not raise any of them (a move
            away from language models into robots is no move to safety).
        max_zone_step: keep occupations at most this many O*NET job zones (1-5, the preparation an occupation
            needs, :func:`load_job_zones`) above the source's (``None``: any; occupations without a zone are
            then left out too unless ``None``).

    Returns one row per suggestion: ``from_soc_code``, ``from_title``, ``from_<by>``, ``from_median_wage_2022``,
    ``from_job_zone``, ``rank``, ``soc_code``,
    ``title``, ``score``, ``dwa_overlap``, ``shared_dwas``, ``task_similarity``, ``<by>``,
    ``<by>_difference`` (target minus source: negative), ``bls_code`` (the BLS projections row used),
    ``median_wage_2022``, ``employment_change_percent`` (projected, 2022-32), ``entry_education``, ``job_zone``,
    ``dwas_to_learn``, ``dwas_carry_over``, ``tasks_to_learn``, ``skills_to_learn``, ``technologies_to_learn``
    (:func:`skill_gap`),
    ``tasks_carry_over`` (lists of strings).

    >>> transitions("53-3032.00", scores, index=index, top=3)["title"].to_pylist()   # doctest: +SKIP
    """
    if top < 1 or max_items < 0 or not min_difference >= 0:
        raise ValueError(f"top must be at least 1, max_items and min_difference at least 0; got {top}, "
                         f"{max_items}, {min_difference}")
    if min_wage_ratio is not None and not min_wage_ratio >= 0:
        raise ValueError(f"min_wage_ratio must be at least 0 (1: at least the source's wage), got {min_wage_ratio}")
    if max_zone_step is not None and (isinstance(max_zone_step, bool) or int(max_zone_step) != max_zone_step):
        raise ValueError(f"max_zone_step must be a whole number of job zones, got {max_zone_step!r}")
    if min_growth is not None and not np.isfinite(min_growth):
        raise ValueError(f"min_growth must be a number (percent change 2022-32), got {min_growth}")
    if scores is not None:  # check the table before anything slow
        scores = as_table(scores, "scores")
        lookup = _score_lookup(scores, by)
    if index is None:
        index = TransitionIndex.from_encoder(None if model is None else model.encoder, assigner=assigner)
    code, title = resolve_occupation(occupation, codes=index.codes, assigner=assigner)
    if scores is None:
        from ..occupations.score import cached_occupation_scores

        if model is None:
            from ..scoring import ExposureModel

            model = ExposureModel()
        scores = cached_occupation_scores(model, "29.1")
        lookup = _score_lookup(scores, by)
    if code not in lookup:
        raise ValueError(f"{code} {title} has no {by!r} in the occupation scores; score O*NET 29.1 "
                         "(exposure occupations --release 29.1 -o FILE)")
    unscored = sum(c not in lookup for c in index.codes.tolist())
    if unscored:
        logger.warning("%d of the %d occupations with tasks have no %r in the scores and are left out (scores of "
                       "another O*NET release?)", unscored, len(index), by)
    source = lookup[code]
    sims = index.similarity(code)
    value = np.asarray([lookup.get(c, np.nan) for c in index.codes.tolist()])
    with np.errstate(invalid="ignore"):
        lower = value < source - min_difference
    # every occupation's wage, growth and education, then the source's (which may have no tasks of its own)
    everyone = index.codes.tolist() + [code]
    labour = _labour_columns(everyone, projections)
    zones = load_job_zones()
    up = _moves_up(len(everyone) - 1, everyone, scores, labour, zones, min_growth, min_wage_ratio, any_technology,
                   max_zone_step)
    keep = lower & up[:-1]
    candidates = np.flatnonzero(keep)
    # Best score first; ties by code, so the order does not depend on anything else.
    candidates = candidates[np.lexsort((index.codes[candidates], -sims["score"][candidates]))][:top]
    logger.info("%s %s (%s %.3f): %d of %d occupations are less exposed, %d of them moves up", code, title, by, source,
                int(lower.sum()), len(index), int(keep.sum()))
    codes = index.codes[candidates].tolist()
    n = len(codes)
    lists = {k: [] for k in _LIST_COLUMNS}
    for target in codes:
        for k, v in {**index.explain(code, target, max_items), **skill_gap(code, target, max_items)}.items():
            lists[k].append(v)
    columns = {
        "from_soc_code": pa.array([code] * n, pa.string()), "from_title": pa.array([title] * n, pa.string()),
        f"from_{by}": pa.array([source] * n, pa.float64()),
        "from_median_wage_2022": pa.array([labour["median_wage_2022"][-1].as_py()] * n, pa.float64()),
        "from_job_zone": pa.array([zones.get(code)] * n, pa.int8()),
        "rank": pa.array(np.arange(1, n + 1), pa.int32()), "soc_code": pa.array(codes, pa.string()),
        "title": pa.array(index.titles[candidates].tolist(), pa.string()),
        **{k: pa.array(sims[k][candidates]) for k in ("score", "dwa_overlap", "shared_dwas", "task_similarity")},
        by: pa.array(value[candidates], pa.float64()),
        f"{by}_difference": pa.array(value[candidates] - source, pa.float64()),
        **{k: v.take(pa.array(candidates, pa.int64())) for k, v in labour.items()},
        "job_zone": pa.array([zones.get(c) for c in codes], pa.int8()),
        **{k: pa.array(v, pa.list_(pa.string())) for k, v in lists.items()},
    }
    return pa.table(columns)
