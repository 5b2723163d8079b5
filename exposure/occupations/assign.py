"""Assign job postings to O*NET-SOC occupations from their title and, when known, their duties.

Two signals, both nearest-neighbour searches in embedding space with
:func:`exposure.kernels.reduce`:

* **title**: the posting title against every name O*NET 29.1 gives an
  occupation (1,016 occupation titles, 55,120 alternate titles and their
  short forms, 7,798 titles reported by incumbents; 48,795 distinct once
  case and punctuation are folded). The ``title_k`` nearest distinct titles
  vote, and an occupation's title score is the similarity of its best
  title among them (occupations with no title among them get the
  ``title_k``-th similarity: all that is known is that they are no closer).
* **duties**: every duty against the O*NET 29.1 task statements; an
  occupation's duty score is the mean, over the posting's duties, of each
  duty's best similarity with that occupation's tasks (the 93 occupations
  without task statements get the posting's mean duty score: no evidence
  either way).

The scores become probabilities over all occupations with a softmax whose
temperatures were fitted by maximum likelihood on training titles and on
held-out O*NET tasks (``benchmarks/eval_assign.py``); with both signals the
logits add (``title / T_title + duty / T_duty``, a product of experts, with
temperatures fitted jointly). The confidence of an occupation is its
probability; ``level="soc2018"`` sums them over the O*NET occupations that
share a 6-digit SOC 2018 code.

The embeddings of the titles and tasks are too large to ship; they are built
with the assigner's encoder at first use (about a minute for the titles on
two CPU cores) and cached on disk as float16, in one file per table keyed by
encoder name, width and a checksum of the texts. The cache folder is the
``cache_dir`` argument, else ``$EXPOSURE_CACHE_DIR``, else
``$XDG_CACHE_HOME/exposure``, else ``~/.cache/exposure``.

>>> from exposure.occupations.assign import normalize_title
>>> normalize_title("  Sr. Software Engineer (Back-End) ")
'sr software engineer back end'
"""

from __future__ import annotations

import functools
import logging
import os
import re
import time
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._assets import cache_dir, embeddings_file_name, load_embeddings, save_embeddings
from ..io import as_table, require_columns
from ..kernels import reduce
from ..stats import softmax
from .catalogue import load_crosswalk, load_occupations, load_tasks, load_titles

if TYPE_CHECKING:  # the encoder pulls in torch
    from ..encoder import Encoder

logger = logging.getLogger(__name__)

__all__ = ["OccupationAssigner", "Assignments", "normalize_title", "clean_posting_title",
           "resolve_cache_dir", "ASSIGNMENT_LEVELS"]

#: Levels the assignment can be given at.
ASSIGNMENT_LEVELS = ("onet", "soc2018")

# Bump when the cached files' layout or the text preparation changes: old files are then ignored.
_CACHE_VERSION = "1"
# Softmax temperatures, fitted by maximum likelihood in benchmarks/eval_assign.py (all-MiniLM-L6-v2,
# title_k = 128):
# title only on training titles; duties only on held-out O*NET tasks; both jointly on training titles
# paired with held-out tasks of their occupation. See benchmarks/results/assign.md.
TEMPERATURES = {"title": 0.0365, "duty": 0.0351, "title+duty": (0.0462, 0.0503)}
# Queries per block: bounds the dense (block x occupations) score matrix.
_BLOCK = 2048

# --------------------------------------------------------------------------- titles

_PAY_RE = re.compile(r"\$\s?\d[\d,.]*(?:\s?[kK])?(?:\s?(?:-|–|to)\s?\$?\s?\d[\d,.]*(?:\s?[kK])?)?"
                     r"(?:\s?(?:/|per\s)\s?(?:hr|hour|h|wk|week|mo|month|yr|year|annum)\b)?", re.IGNORECASE)
_REQ_RE = re.compile(r"\b(?:req(?:uisition)?|job(?:\s?id)?|ref)\s*[#:]\s*[\w-]+", re.IGNORECASE)
_EMPTY_BRACKETS_RE = re.compile(r"\(\s*\)|\[\s*\]")
_NON_WORD_RE = re.compile(r"[^\w+#]+")


def normalize_title(text: Optional[str]) -> str:
    """The key two titles share when they differ only in case, accents, punctuation or spacing.

    ``None`` gives ``""``. ``+`` and ``#`` are kept (``C++``, ``C#``).

    >>> normalize_title("Registered Nurse (RN) – ICU")
    'registered nurse rn icu'
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join(_NON_WORD_RE.sub(" ", text).replace("_", " ").split())


def clean_posting_title(text: Optional[str]) -> str:
    """A posting title without the pay, requisition numbers and separators that no O*NET title carries.

    >>> clean_posting_title("Construction Laborer - $22/hr")
    'Construction Laborer'
    >>> clean_posting_title("Welder / Fabricator | Req #W-119")
    'Welder / Fabricator'
    """
    if not text:
        return ""
    text = _REQ_RE.sub(" ", _PAY_RE.sub(" ", str(text)))
    text = " ".join(_EMPTY_BRACKETS_RE.sub(" ", text).split())
    return text.strip(" -–—|,:;/")


# --------------------------------------------------------------------------- cache

def resolve_cache_dir(path: Union[str, os.PathLike, None] = None) -> Path:
    """The folder for cached embeddings: ``path``, else ``$EXPOSURE_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/exposure``, else ``~/.cache/exposure`` (:func:`exposure._assets.cache_dir`)."""
    return cache_dir(path)


def _cache_name(kind: str, encoder: "Encoder", texts: Sequence[str]) -> str:
    """The file of an index's embeddings (:func:`exposure.encoder.embeddings_file_name`, this cache's version)."""
    return embeddings_file_name(kind, encoder, texts, version=_CACHE_VERSION)


# Texts encoded first to time the encoder, so that the time a build will take can be told.
_PROBE = 256


def _encode_timed(encoder: "Encoder", texts: List[str], kind: str, show_progress: bool) -> np.ndarray:
    """Encode ``texts`` (an index being built); a large build first logs how long it will take."""
    if len(texts) <= 4 * _PROBE:
        return encoder.encode(texts, show_progress=False)
    t0 = time.perf_counter()
    head = encoder.encode(texts[:_PROBE])
    rate = _PROBE / max(time.perf_counter() - t0, 1e-9)
    logger.info("building the %s index of %s: %s texts to encode, about %s on this machine (once per "
                "encoder and dtype; cached in the cache folder afterwards)", kind, encoder.name,
                f"{len(texts):,}", _duration(len(texts) / rate))
    return np.concatenate([head, encoder.encode(texts[_PROBE:], show_progress=show_progress)])


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _embed_cached(encoder: "Encoder", texts: Sequence[str], kind: str, folder: Optional[Path],
                  show_progress: bool = False) -> Tuple[np.ndarray, bool]:
    """Embeddings of ``texts`` from the cache, or encoded and cached (float16, written atomically).

    Returns ``(float32 rows, loaded_from_cache)``. A cache that cannot be written only warns.
    """
    path = None if folder is None else folder / _cache_name(kind, encoder, texts)
    emb = None if path is None else load_embeddings(path, len(texts), encoder.dim)
    if emb is not None:
        return emb.astype(np.float32), True
    emb = _encode_timed(encoder, list(texts), kind, show_progress)
    if path is not None:
        try:
            save_embeddings(path, emb.astype(np.float16))
        except OSError as exc:
            warnings.warn(f"could not cache {kind} embeddings in {str(path.parent)!r} ({exc}); "
                          "they will be rebuilt next time. Set EXPOSURE_CACHE_DIR to a writable folder.",
                          stacklevel=3)
    # Rounded as the cache holds them, so a fresh build and a cached one give the same answers.
    return emb.astype(np.float16).astype(np.float32), False


# --------------------------------------------------------------------------- result

@dataclass
class Assignments:
    """The top occupations of each posting.

    ``codes``, ``titles``: ``(n, k)`` string arrays (``""`` where fewer than ``k``
    occupations could be named); ``confidence``: ``(n, k)`` float32 probabilities,
    descending per row (NaN where no occupation); ``basis``: per posting, what the
    assignment rests on: ``"title+duties"``, ``"title"``, ``"duties"`` or ``"none"``;
    ``flags``: per posting ``None``, or why it is weak (``"no title"``, ``"no title
    and no duties"``). ``level`` is ``"onet"`` (O*NET-SOC codes) or ``"soc2018"``.
    ``assignments[i]`` is posting ``i`` as a list of ``(code, title, confidence)``.
    """

    codes: np.ndarray
    titles: np.ndarray
    confidence: np.ndarray
    basis: List[str]
    flags: List[Optional[str]]
    level: str

    def __len__(self) -> int:
        return self.codes.shape[0]

    def __getitem__(self, i: int) -> List[Tuple[str, str, float]]:
        return [(str(c), str(t), float(p)) for c, t, p in zip(self.codes[i], self.titles[i], self.confidence[i])
                if c]

    def tolist(self) -> List[List[Tuple[str, str, float]]]:
        return [self[i] for i in range(len(self))]

    def to_arrow(self) -> pa.Table:
        """One row per posting: ``basis``, ``flag``, then ``soc_code_r``, ``title_r``, ``confidence_r`` per rank."""
        cols = {"basis": pa.array(self.basis, pa.string()), "flag": pa.array(self.flags, pa.string())}
        for r in range(self.codes.shape[1]):
            empty = self.codes[:, r] == ""
            cols[f"soc_code_{r + 1}"] = pa.array(self.codes[:, r].tolist(), pa.string(), mask=empty)
            cols[f"title_{r + 1}"] = pa.array(self.titles[:, r].tolist(), pa.string(), mask=empty)
            cols[f"confidence_{r + 1}"] = pa.array(self.confidence[:, r], pa.float32(), mask=empty)
        return pa.table(cols)

    def to_pandas(self):
        return self.to_arrow().to_pandas()


# --------------------------------------------------------------------------- assigner

class OccupationAssigner:
    """Assign postings to O*NET-SOC occupations from title and duties.

    Args:
        encoder: the :class:`~exposure.encoder.Encoder` for titles, duties and the
            indexes; ``None`` loads the default one (on the CPU a bfloat16 encoder,
            ``Encoder(dtype="bfloat16")``, builds the indexes about twice as fast).
        titles: a table with ``soc_code`` and ``title`` columns to search instead of
            the shipped O*NET 29.1 titles (:func:`load_titles`).
        tasks: a table with ``soc_code`` and ``task`` columns instead of the O*NET
            29.1 task statements (``load_tasks("29.1")``).
        occupations: ``soc_code`` and ``title`` of every occupation that can be
            assigned; default: the O*NET 29.1 occupations when the tables are the
            shipped ones, else every code in ``titles`` and ``tasks`` (named by their
            first title).
        cache_dir: folder for the cached embeddings
            (:func:`resolve_cache_dir`); ``False`` keeps them in memory only.
        title_k: distinct titles that vote per query title.
        temperatures: override :data:`TEMPERATURES` (keys ``"title"``, ``"duty"``,
            ``"title+duty"``).
        show_progress: a progress bar (and an estimate of the time it takes) when an index
            is built rather than read from the cache; the estimate is also logged.

    Example:
        >>> from exposure import Encoder
        >>> assigner = OccupationAssigner(Encoder(device="cpu"))                 # doctest: +SKIP
        >>> assigner.assign(["Forklift Driver"])[0][0][:2]                        # doctest: +SKIP
        ('53-7051.00', 'Industrial Truck and Tractor Operators')
    """

    def __init__(self, encoder: Optional["Encoder"] = None, *, titles: Optional[pa.Table] = None,
                 tasks: Optional[pa.Table] = None, occupations: Optional[pa.Table] = None,
                 cache_dir: Union[str, os.PathLike, None, bool] = None, title_k: int = 128,
                 temperatures: Optional[dict] = None, show_progress: bool = True) -> None:
        if encoder is None:
            from ..encoder import Encoder

            encoder = Encoder()
        self.encoder = encoder
        self.title_k = int(title_k)
        if self.title_k < 1:
            raise ValueError(f"title_k must be at least 1, got {title_k}")
        self.temperatures = dict(TEMPERATURES, **(temperatures or {}))
        self._cache = None if cache_dir is False else resolve_cache_dir(None if cache_dir is True else cache_dir)
        self.show_progress = bool(show_progress)
        shipped = titles is None and tasks is None
        self._titles_table = _string_columns(load_titles() if titles is None else titles, ["soc_code", "title"], "titles")
        self._tasks_table = _string_columns(load_tasks("29.1") if tasks is None else tasks, ["soc_code", "task"], "tasks")
        if occupations is None:
            occupations = load_occupations("29.1") if shipped else self._occupations_from_tables()
        occupations = _string_columns(occupations, ["soc_code", "title"], "occupations")
        self.codes = np.asarray(occupations["soc_code"].to_pylist(), dtype=object)
        self.occupation_titles = np.asarray(occupations["title"].to_pylist(), dtype=object)
        self._code_index = {c: i for i, c in enumerate(self.codes.tolist())}
        if len(self._code_index) != len(self.codes):
            raise ValueError("occupations lists a soc_code more than once")
        self._title_index = None
        self._task_index = None
        self._soc2018 = None
        self.loaded_from_cache = {"titles": None, "tasks": None}

    def __repr__(self) -> str:
        return (f"OccupationAssigner(encoder={self.encoder.name!r}, occupations={len(self.codes)}, "
                f"titles={self._titles_table.num_rows}, tasks={self._tasks_table.num_rows})")

    @property
    def cache_dir(self) -> Optional[Path]:
        """The folder of the cached index embeddings (``None``: kept in memory only)."""
        return self._cache

    def catalogue_task_embeddings(self, release: str = "29.1") -> Optional[np.ndarray]:
        """The task embeddings of the index in the row order of ``load_tasks(release)``, or ``None``
        when the task table is not that catalogue. Scoring the catalogue with them skips the encoder."""
        catalogue = load_tasks(release)
        tasks = self._tasks_table
        if tasks.num_rows != catalogue.num_rows or tasks["task"].to_pylist() != catalogue["task"].to_pylist():
            return None
        idx = self.task_index()
        emb = np.empty_like(idx["emb"])
        emb[idx["rows"]] = idx["emb"]
        return emb

    def _occupations_from_tables(self) -> pa.Table:
        first = {}
        for c, t in zip(self._titles_table["soc_code"].to_pylist(), self._titles_table["title"].to_pylist()):
            first.setdefault(c, t)
        for c in self._tasks_table["soc_code"].to_pylist():
            first.setdefault(c, c)
        codes = sorted(first)
        return pa.table({"soc_code": codes, "title": [first[c] for c in codes]})

    def _codes_to_ids(self, codes: Sequence[str], what: str) -> np.ndarray:
        ids = np.fromiter((self._code_index.get(c, -1) for c in codes), dtype=np.int64, count=len(codes))
        if (ids < 0).any():
            bad = sorted({c for c, i in zip(codes, ids) if i < 0})
            raise ValueError(f"{what} name codes that are not among the occupations: {bad[:5]}")
        return ids

    # ----------------------------------------------------------------- indexes
    def title_index(self):
        """The distinct titles (``keys``), their occupations (CSR ``ptr``/``occ``) and embeddings; built once."""
        if self._title_index is None:
            norm = [normalize_title(t) for t in self._titles_table["title"].to_pylist()]
            occ = self._codes_to_ids(self._titles_table["soc_code"].to_pylist(), "titles")
            keep = np.array([bool(k) for k in norm])
            pairs = {}
            display = {}
            for k, o, t in zip(np.asarray(norm, dtype=object)[keep], occ[keep],
                               np.asarray(self._titles_table["title"].to_pylist(), dtype=object)[keep]):
                pairs.setdefault(k, set()).add(int(o))
                display.setdefault(k, t)
            keys = sorted(pairs)  # sorted: the cache key does not depend on the tables' row order
            if not keys:
                raise ValueError("the title table holds no non-empty title")
            ptr = np.zeros(len(keys) + 1, dtype=np.int64)
            ptr[1:] = np.cumsum([len(pairs[k]) for k in keys])
            occ_ids = np.fromiter((o for k in keys for o in sorted(pairs[k])), dtype=np.int64, count=int(ptr[-1]))
            # The encoder sees the O*NET spelling of each title (case is folded by the tokenizer anyway).
            emb, cached = _embed_cached(self.encoder, [display[k] for k in keys], "titles", self._cache,
                                        show_progress=self.show_progress)
            self.loaded_from_cache["titles"] = cached
            self._title_index = {"keys": keys, "ptr": ptr, "occ": occ_ids, "emb": emb}
        return self._title_index

    def task_index(self):
        """The task statements' embeddings and occupation ids; built once."""
        if self._task_index is None:
            texts = self._tasks_table["task"].to_pylist()
            occ = self._codes_to_ids(self._tasks_table["soc_code"].to_pylist(), "tasks")
            order = np.lexsort((np.asarray(texts, dtype=object), occ))  # row order does not change the key
            texts = [texts[i] for i in order]
            emb, cached = _embed_cached(self.encoder, texts, "tasks", self._cache, show_progress=self.show_progress)
            self.loaded_from_cache["tasks"] = cached
            self._task_index = {"emb": emb, "occ": occ[order], "rows": order,
                                "has_tasks": np.bincount(occ, minlength=len(self.codes)) > 0}
        return self._task_index

    def without(self, titles: Sequence[str] = (), task_rows: Sequence[int] = ()) -> "OccupationAssigner":
        """A copy whose indexes leave out some titles (compared by :func:`normalize_title`) and task rows.

        The embeddings are shared, nothing is encoded again: this is how
        ``benchmarks/eval_assign.py`` holds titles and tasks out of the indexes.
        ``task_rows`` are row positions in the task table.
        """
        import copy

        out = copy.copy(self)
        drop = {normalize_title(t) for t in titles}
        if drop:
            idx = self.title_index()
            keep = np.array([k not in drop for k in idx["keys"]])
            counts = np.diff(idx["ptr"])
            ptr = np.zeros(int(keep.sum()) + 1, dtype=np.int64)
            ptr[1:] = np.cumsum(counts[keep])
            keys = [k for k, y in zip(idx["keys"], keep) if y]
            out._title_index = {"keys": keys, "ptr": ptr, "occ": idx["occ"][np.repeat(keep, counts)],
                                "emb": idx["emb"][keep]}
        if len(task_rows):
            idx = self.task_index()
            keep = ~np.isin(idx["rows"], np.asarray(task_rows, dtype=np.int64))
            occ = idx["occ"][keep]
            out._task_index = {"emb": idx["emb"][keep], "occ": occ, "rows": idx["rows"][keep],
                               "has_tasks": np.bincount(occ, minlength=len(self.codes)) > 0}
        return out

    # ----------------------------------------------------------------- scores
    def title_scores(self, embeddings: np.ndarray) -> np.ndarray:
        """``(n, occupations)`` title scores of query-title embeddings (see the module docs)."""
        idx = self.title_index()
        n = embeddings.shape[0]
        k = min(self.title_k, len(idx["keys"]))
        top = reduce(np.ascontiguousarray(embeddings, dtype=np.float32), idx["emb"], "topk", k=k)
        out = np.repeat(top.values[:, k - 1 : k], len(self.codes), axis=1).astype(np.float32)
        # Expand each (query, title) hit to (query, occupation) hits and keep the best per pair.
        counts = idx["ptr"][top.indices + 1] - idx["ptr"][top.indices]
        rows = np.repeat(np.arange(n), counts.sum(axis=1))
        starts = np.repeat(idx["ptr"][top.indices].ravel(), counts.ravel())
        offsets = np.arange(starts.shape[0]) - np.repeat(np.cumsum(counts.ravel()) - counts.ravel(), counts.ravel())
        occ = idx["occ"][starts + offsets]
        sims = np.repeat(top.values.ravel(), counts.ravel())
        np.maximum.at(out, (rows, occ), sims)
        return out

    def duty_scores(self, embeddings: np.ndarray, owners: np.ndarray, n: int) -> np.ndarray:
        """``(n, occupations)`` duty scores: per posting, the mean over its duties of the best task per occupation.

        ``owners[i]`` is the posting of duty row ``i``; postings without duties get NaN rows.
        """
        idx = self.task_index()
        out = np.full((n, len(self.codes)), np.nan, dtype=np.float32)
        if embeddings.shape[0] == 0:
            return out
        best = reduce(np.ascontiguousarray(embeddings, dtype=np.float32), idx["emb"], "max",
                      groups=idx["occ"], num_groups=len(self.codes)).values
        best = np.where(np.isfinite(best), best, 0.0).astype(np.float64)
        order = np.argsort(owners, kind="stable")
        owners, best = owners[order], best[order]
        cnt = np.bincount(owners, minlength=n)
        has = cnt > 0
        starts = np.concatenate([[0], np.cumsum(cnt)[:-1]])[has]
        mean = np.add.reduceat(best, starts, axis=0) / cnt[has, None]
        # Occupations without tasks: the posting's mean over those with tasks, i.e. no evidence either way.
        fill = mean[:, idx["has_tasks"]].mean(axis=1, keepdims=True)
        mean[:, ~idx["has_tasks"]] = fill
        out[has] = mean
        return out

    # ----------------------------------------------------------------- assign
    def assign(self, titles: Sequence[Optional[str]], duties: Optional[Sequence[Optional[Sequence[str]]]] = None,
               k: int = 3, level: str = "onet", *, duty_embeddings: Optional[Sequence[np.ndarray]] = None,
               clean_titles: bool = True) -> Assignments:
        """The ``k`` likeliest occupations of each posting, with their probabilities.

        Args:
            titles: one title per posting; ``None`` or blank when unknown (flagged).
            duties: per posting a list of duty texts (or ``None``); e.g. from
                :func:`exposure.units.read_postings`. ``None``: titles only.
            k: occupations per posting.
            level: ``"onet"`` (O*NET-SOC codes) or ``"soc2018"`` (6-digit SOC 2018,
                confidences summed over the O*NET occupations in each).
            duty_embeddings: per posting the duties' embeddings from this encoder
                (``UnitPredictions.duty_embeddings``), instead of ``duties``.
            clean_titles: drop pay and requisition numbers from titles first
                (:func:`clean_posting_title`).
        """
        if isinstance(titles, str):
            raise TypeError("titles must be a list of strings, one per posting; got a single string")
        titles = list(titles)
        n = len(titles)
        if level not in ASSIGNMENT_LEVELS:
            raise ValueError(f"unknown level {level!r}; use one of: {', '.join(ASSIGNMENT_LEVELS)}")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        for i, t in enumerate(titles):
            if t is not None and not isinstance(t, str):
                raise TypeError(f"titles[{i}] is {type(t).__name__}, expected str or None")
        duty_emb, owners = self._duties(duties, duty_embeddings, n)  # owners ascending: a block's duties are a slice
        query = [clean_posting_title(t) if clean_titles else (t or "").strip() for t in titles]
        has_title = np.array([bool(normalize_title(q)) for q in query], dtype=bool)
        has_duties = np.bincount(owners, minlength=n) > 0
        probs = np.zeros((n, len(self.codes)), dtype=np.float32)
        t_title, t_duty = self.temperatures["title"], self.temperatures["duty"]
        both_title, both_duty = self.temperatures["title+duty"]
        for a in range(0, max(n, 1), _BLOCK):
            rows = np.arange(a, min(a + _BLOCK, n))
            if rows.size == 0:
                break
            rt, rd = has_title[rows], has_duties[rows]
            logits = np.zeros((rows.size, len(self.codes)), dtype=np.float32)
            if rt.any():
                emb = self.encoder.encode([query[i] for i in rows[rt]])
                ts = self.title_scores(emb)
                logits[rt] = ts / np.where(rd[rt], both_title, t_title)[:, None]
            if rd.any():
                lo, hi = np.searchsorted(owners, [rows[0], rows[-1] + 1])
                ds = self.duty_scores(duty_emb[lo:hi], owners[lo:hi] - rows[0], rows.size)[rd]
                logits[rd] += ds / np.where(rt[rd], both_duty, t_duty)[:, None]
            some = rt | rd
            probs[rows[some]] = softmax(logits[some])
        basis = ["title+duties" if t and d else "title" if t else "duties" if d else "none"
                 for t, d in zip(has_title, has_duties)]
        flags = [None if t else "no title" if d else "no title and no duties" for t, d in zip(has_title, has_duties)]
        codes, names = self.codes, self.occupation_titles
        if level == "soc2018":
            probs, codes, names = self._to_soc2018(probs)
        k = min(k, len(codes))
        top = np.argsort(-probs, axis=1, kind="stable")[:, :k]
        conf = np.take_along_axis(probs, top, axis=1)
        none = ~(has_title | has_duties)
        out_codes = np.asarray(codes, dtype=object)[top].astype(str)
        out_names = np.asarray(names, dtype=object)[top].astype(str)
        out_codes[none], out_names[none] = "", ""
        conf = np.clip(conf, 0.0, 1.0).astype(np.float32)
        conf[none] = np.nan
        return Assignments(out_codes, out_names, conf, basis, flags, level)

    def _duties(self, duties, duty_embeddings, n: int) -> Tuple[np.ndarray, np.ndarray]:
        """All duty embeddings stacked, and the posting each belongs to."""
        dim = self.encoder.dim
        if duties is not None and duty_embeddings is not None:
            raise ValueError("pass duties or duty_embeddings, not both")
        if duty_embeddings is not None:
            if len(duty_embeddings) != n:
                raise ValueError(f"got duty embeddings for {len(duty_embeddings)} postings, but {n} titles")
            blocks = []
            for i, e in enumerate(duty_embeddings):
                e = np.zeros((0, dim), np.float32) if e is None else np.asarray(e, dtype=np.float32)
                if e.ndim != 2 or e.shape[1] != dim:
                    raise ValueError(f"duty_embeddings[{i}] must be (duties, {dim}), got {e.shape}")
                blocks.append(e[np.linalg.norm(e, axis=1) > 0])
            owners = np.repeat(np.arange(n), [b.shape[0] for b in blocks])
            return (np.vstack(blocks) if blocks else np.zeros((0, dim), np.float32)), owners
        if duties is None:
            return np.zeros((0, dim), np.float32), np.zeros(0, dtype=np.int64)
        if len(duties) != n:
            raise ValueError(f"got duties for {len(duties)} postings, but {n} titles")
        texts, owners = [], []
        for i, ds in enumerate(duties):
            if isinstance(ds, str):
                raise TypeError(f"duties[{i}] is a string; give a list of duty texts per posting")
            for d in ds or ():
                if d is not None and not isinstance(d, str):
                    raise TypeError(f"duties[{i}] holds a {type(d).__name__}, expected str")
                if d and d.strip():
                    texts.append(d)
                    owners.append(i)
        emb = self.encoder.encode(texts) if texts else np.zeros((0, dim), np.float32)
        return emb, np.asarray(owners, dtype=np.int64)

    def _to_soc2018(self, probs: np.ndarray):
        """Probabilities summed per 6-digit SOC code, with the codes and their titles."""
        if self._soc2018 is None:  # the occupations are fixed: group them once
            six = np.asarray([str(c)[:7] for c in self.codes], dtype=object)
            uniq, inv = np.unique(six.astype(str), return_inverse=True)
            order = np.argsort(inv, kind="stable")  # the occupations of one SOC code side by side
            starts = np.searchsorted(inv[order], np.arange(uniq.shape[0]))
            names = _soc2018_titles()
            first = {}
            for c, t in zip(six.tolist(), self.occupation_titles.tolist()):
                first.setdefault(c, t)
            titles = np.asarray([names.get(c, first[c]) for c in uniq.tolist()], dtype=object)
            self._soc2018 = (order, starts, uniq, titles)
        order, starts, uniq, titles = self._soc2018
        return np.add.reduceat(probs[:, order], starts, axis=1), uniq, titles


@functools.lru_cache(maxsize=1)
def _soc2018_titles() -> dict:
    cw = load_crosswalk()
    return dict(zip(cw["soc_2018_code"].to_pylist(), cw["soc_2018_title"].to_pylist()))


def _string_columns(table, columns: Sequence[str], name: str) -> pa.Table:
    """``columns`` of ``table`` (pyarrow, pandas or polars: :func:`~exposure.io.as_table`) as strings, nulls
    as ``""``."""
    table = as_table(table, name)
    require_columns(table.column_names, columns, name)
    out = {}
    for c in columns:
        col = pc.cast(table[c], pa.string()) if not pa.types.is_string(table[c].type) else table[c]
        if col.null_count:
            col = pc.fill_null(col, "")
        out[c] = col
    return pa.table(out)
