"""Assign job postings to O*NET-SOC occupations from their title and, when known, their duties.

Two signals, both nearest-neighbour searches with :func:`exposure.kernels.reduce`:

* **title**: the posting title against every name O*NET 29.1 gives an
  occupation (1,016 occupation titles, 55,120 alternate titles and their
  short forms, 7,798 titles reported by incumbents; 48,680 distinct once
  case and punctuation are folded). An occupation's title score adds three
  parts (weights chosen on held-out training titles, ``benchmarks/eval_assign.py``):

  - the **vote** of the ``title_k`` (128) nearest distinct titles in embedding
    space: ``tau * log(sum exp(similarity / tau))`` over the occupation's titles
    among them (``title_tau`` = 0.07; an occupation with several close titles
    beats one with a single equally close title; ``title_tau=0`` keeps only the
    best title, the rule of exposure 0.2.0). Occupations with no title among them count
    as one title at the ``title_k``-th similarity: all that is known is that they
    are no closer;
  - ``centroid_weight`` (0.25) times the similarity to the occupation's
    **centroid** (the normalised mean embedding of its titles);
  - ``ngram_weight`` (0.25) times the same vote over the 32 nearest titles by
    **spelling**: character 2- to 4-gram TF-IDF cosine (:mod:`._ngrams`).
* **duties**: every duty against the O*NET 29.1 task statements; an
  occupation's duty score is the mean, over the posting's duties, of each
  duty's best similarity with that occupation's tasks (the 93 occupations
  without task statements get the posting's mean duty score: no evidence
  either way).

The scores become probabilities over all occupations with a softmax over
``title / T_title + duty / T_duty + w * prior`` (a product of experts; either
signal alone when the other is missing), where ``prior`` is the log share of US
employment of each occupation (``models/assign/prior.json``, from BLS OEWS):
real postings come from common occupations far more often than from rare ones.
The temperatures and prior weights of each basis were fitted by maximum
likelihood on the train split of hand-coded real postings
(``benchmarks/fit_assign_postings.py``).
``level="soc2018"`` sums the probabilities over the O*NET occupations that
share a 6-digit SOC 2018 code.

**Confidence.** With the shipped tables and encoder, each reported probability
goes through a monotone calibration map (isotonic regression, shipped as knots
in ``models/assign/calibration.json``, one per level and basis), fitted on
out-of-fold probabilities of the hand-coded real postings of the train split:
a confidence of 0.8 is then right about 80% of the time on real postings like
those (``benchmarks/results/assign_postings.md`` checks it on the test split).
``assign(..., min_confidence=t)`` abstains below ``t`` (codes left empty,
``abstained`` set), and :meth:`OccupationAssigner.threshold_for` gives the
threshold for a target coverage or accuracy on those postings.

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
import io
import logging
import os
import re
import time
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional, Protocol, Sequence, Tuple, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._assets import (cache_dir, embeddings_file_names, load_embeddings, read_checked, save_embeddings,
                       texts_checksum, write_checked)
from ..io import as_table, require_columns
from ..kernels import Index, segment_sum
from ..stats import softmax
from ._ngrams import NgramIndex
from .catalogue import load_crosswalk, load_occupations, load_tasks, load_titles

if TYPE_CHECKING:  # the encoder pulls in torch
    from ..encoder import Encoder

logger = logging.getLogger(__name__)

__all__ = ["OccupationAssigner", "Assigner", "Assignments", "normalize_title", "clean_posting_title",
           "resolve_cache_dir", "load_calibration", "ASSIGNMENT_LEVELS"]

#: Levels the assignment can be given at.
ASSIGNMENT_LEVELS = ("onet", "soc2018")

# Bump when the cached files' layout or the text preparation changes: old files are then ignored.
_CACHE_VERSION = "1"
# Softmax temperatures and prior weights, fitted by maximum likelihood in benchmarks/fit_assign_postings.py
# (all-MiniLM-L6-v2, the title score below, the shipped unit classifier's duties) on the train split of
# hand-coded real postings, per basis. They are recorded in models/assign/calibration.json, whose maps were
# fitted with them. See benchmarks/results/assign_postings.md.
TEMPERATURES = {"title": 0.06411, "duty": 0.03206, "title+duty": (0.08266, 0.0613)}
PRIOR_WEIGHTS = {"title": 0.4659, "duty": 0.558, "title+duty": 0.4118}
#: The title score (module docs), chosen on held-out training titles in benchmarks/eval_assign.py.
TITLE_K, TITLE_TAU, CENTROID_WEIGHT, NGRAM_WEIGHT = 128, 0.07, 0.25, 0.25
# Titles the spelling vote reads; n-grams in more than this share of the titles are left out (speed).
_NGRAM_K, _NGRAM_MAX_DF = 32, 0.05
# The n-gram index file's format (_ngram_index): a new one is built when this changes.
_NGRAM_VERSION = "1"
#: Where assignment bases are calibrated: what an assignment rests on (``Assignments.basis``).
CALIBRATED_BASES = ("title", "duties", "title+duties")
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
    text = str(text)
    if not text.isascii():  # ASCII has no accents to take off
        text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    text = text.casefold()
    return " ".join(_NON_WORD_RE.sub(" ", text).replace("_", " ").split())


# Seniority words that no O*NET title carries but postings do ("Senior Accountant", "Nurse - Entry Level");
# on held-out O*NET titles dressed with them, top-1 falls by 1.5 to 2.5 points (benchmarks/eval_assign.py).
# "Lead" is left alone: in O*NET it is mostly the metal ("Lead Abatement Worker"); so is the "senior" of
# elder care ("Senior Care Aide") and the "junior" of schools ("Junior High School Teacher").
_SENIORITY = r"(?:senior|sr\.?|junior|jr\.?|entry[\s-]+level)"
_SENIORITY_HEAD_RE = re.compile(rf"^{_SENIORITY}\s+(?!(?:high|care|living|cent(?:er|re)|citizens?|services?|housing|"
                                r"homes?|adults?|community|college)\b)(?=\w)", re.IGNORECASE)
_SENIORITY_TAIL_RE = re.compile(rf"[\s,(\[–—-]+{_SENIORITY}\s*[)\]]?$", re.IGNORECASE)


def clean_posting_title(text: Optional[str]) -> str:
    """A posting title without the pay, requisition numbers, separators and seniority words
    (senior, sr, junior, jr, entry level) that no O*NET title carries.

    >>> clean_posting_title("Construction Laborer - $22/hr")
    'Construction Laborer'
    >>> clean_posting_title("Welder / Fabricator | Req #W-119")
    'Welder / Fabricator'
    >>> clean_posting_title("Sr. Software Engineer, Backend"), clean_posting_title("Accountant (Junior)")
    ('Software Engineer, Backend', 'Accountant')
    >>> clean_posting_title("Junior High School Teacher"), clean_posting_title("Senior")
    ('Junior High School Teacher', 'Senior')
    """
    if not text:
        return ""
    text = _REQ_RE.sub(" ", _PAY_RE.sub(" ", str(text)))
    text = " ".join(_EMPTY_BRACKETS_RE.sub(" ", text).split()).strip(" -–—|,:;/")
    bare = _SENIORITY_TAIL_RE.sub("", _SENIORITY_HEAD_RE.sub("", text)).strip(" -–—|,:;/")
    return bare if normalize_title(bare) else text


# --------------------------------------------------------------------------- cache

def resolve_cache_dir(path: Union[str, os.PathLike, None] = None) -> Path:
    """The folder for cached embeddings: ``path``, else ``$EXPOSURE_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/exposure``, else ``~/.cache/exposure`` (:func:`exposure._assets.cache_dir`)."""
    return cache_dir(path)


def _cache_names(kind: str, encoder: "Encoder", texts: Sequence[str]) -> List[str]:
    """The files that may hold an index's embeddings, best first (:func:`exposure._assets.embeddings_file_names`,
    this cache's version): the encoder's own, then a float32 run's."""
    return embeddings_file_names(kind, encoder, texts, version=_CACHE_VERSION)


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
    names = [] if folder is None else _cache_names(kind, encoder, texts)
    for name in names:
        emb = load_embeddings(folder / name, len(texts), encoder.dim)
        if emb is not None:
            return emb.astype(np.float32), True
    path = folder / names[0] if names else None
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
    occupations could be named, or where the assigner abstained); ``confidence``:
    ``(n, k)`` float32 confidences, descending per row (NaN where no occupation):
    calibrated probabilities that each code is a right one when ``calibrated`` (see
    :class:`OccupationAssigner`), else the softmax probabilities; ``basis``: per
    posting, what the assignment rests on: ``"title+duties"``, ``"title"``,
    ``"duties"`` or ``"none"``; ``flags``: per posting ``None``, or why it is weak
    (``"no title"``, ``"no title and no duties"``, ``"below min_confidence"``);
    ``abstained``: ``(n,)`` bool, true where the top confidence was below
    ``min_confidence`` and so no code is given. ``level`` is ``"onet"`` (O*NET-SOC
    codes) or ``"soc2018"``. ``assignments[i]`` is posting ``i`` as a list of
    ``(code, title, confidence)``.
    """

    codes: np.ndarray
    titles: np.ndarray
    confidence: np.ndarray
    basis: List[str]
    flags: List[Optional[str]]
    level: str
    abstained: Optional[np.ndarray] = None
    calibrated: bool = False

    def __post_init__(self) -> None:
        if self.abstained is None:
            self.abstained = np.zeros(self.codes.shape[0], dtype=bool)

    def __len__(self) -> int:
        return self.codes.shape[0]

    def __getitem__(self, i: int) -> List[Tuple[str, str, float]]:
        return [(str(c), str(t), float(p)) for c, t, p in zip(self.codes[i], self.titles[i], self.confidence[i])
                if c]

    def tolist(self) -> List[List[Tuple[str, str, float]]]:
        return [self[i] for i in range(len(self))]

    def to_arrow(self) -> pa.Table:
        """One row per posting: ``basis``, ``flag``, ``abstained``, then ``soc_code_r``, ``title_r``,
        ``confidence_r`` per rank."""
        cols = {"basis": pa.array(self.basis, pa.string()), "flag": pa.array(self.flags, pa.string()),
                "abstained": pa.array(np.asarray(self.abstained, dtype=bool), pa.bool_())}
        for r in range(self.codes.shape[1]):
            empty = self.codes[:, r] == ""
            cols[f"soc_code_{r + 1}"] = pa.array(self.codes[:, r].tolist(), pa.string(), mask=empty)
            cols[f"title_{r + 1}"] = pa.array(self.titles[:, r].tolist(), pa.string(), mask=empty)
            cols[f"confidence_{r + 1}"] = pa.array(self.confidence[:, r], pa.float32(), mask=empty)
        return pa.table(cols)

    def to_pandas(self):
        return self.to_arrow().to_pandas()


# --------------------------------------------------------------------------- calibration

class Assigner(Protocol):
    """What :class:`~exposure.postings.PostingScorer` needs of an occupation assigner (an
    :class:`OccupationAssigner`, or one of your own): the texts to embed for posting titles, and an
    assignment from embeddings the scorer made with the model's encoder."""

    def title_queries(self, titles: Sequence[Optional[str]]) -> List[str]:
        """The text to embed for each title (``""`` for none)."""
        ...

    def assign_embeddings(self, queries: Sequence[str], title_embeddings: np.ndarray, duty_embeddings: np.ndarray,
                          duty_owners: np.ndarray, *, k: int = 3,
                          min_confidence: Optional[float] = None) -> "Assignments":
        """The ``k`` likeliest occupations of each posting from its title's row of ``title_embeddings`` (for
        ``queries[i]``) and its duties' rows of ``duty_embeddings`` (``duty_owners``: the posting of each row,
        ascending); abstaining below ``min_confidence``."""
        ...


def check_confidence(value, name: str = "min_confidence") -> Optional[float]:
    """``value`` as a float in [0, 1] (``None`` stays ``None``), or an error that says what is wrong.

    >>> check_confidence(0.85)
    0.85
    """
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number between 0 and 1, got {type(value).__name__} {value!r}")
    value = float(value)
    if not 0.0 <= value <= 1.0:  # NaN fails this too
        raise ValueError(f"{name} must be between 0 and 1 (a confidence), got {value}")
    return value


def load_calibration(source: Union[str, os.PathLike, dict, None] = "default") -> Optional[dict]:
    """A calibration record: the shipped ``models/assign/calibration.json`` (``"default"``), a JSON file
    written by ``benchmarks/fit_assign_postings.py --write`` (the shipped one) or ``benchmarks/eval_assign.py
    --write-calibration FILE``, or such a record as a dict; ``None``: none.

    The record's ``maps[level][basis]`` are ``{"x": [...], "y": [...]}`` knots of an increasing map from
    probability to calibrated confidence (:func:`numpy.interp`); ``fitted_for`` says which assigner
    settings they were fitted with; ``coverage[level][basis]`` holds, per threshold, the share of the
    postings (or titles) it was fitted on that are kept and their top-1 accuracy
    (:meth:`OccupationAssigner.threshold_for`).
    """
    import json

    if source is None or isinstance(source, dict):
        record = source
    else:
        path = _shipped_calibration() if isinstance(source, str) and source == "default" else Path(source)
        try:
            record = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"calibration file {str(path)!r} does not exist") from None
        except ValueError as exc:
            raise ValueError(f"calibration file {str(path)!r} is not valid JSON ({exc})") from None
    if record is None:
        return None
    missing = [k for k in ("maps", "fitted_for") if k not in record]
    if missing:
        raise ValueError(f"a calibration record needs {' and '.join(map(repr, missing))}; "
                         f"it has {', '.join(map(repr, record)) or 'nothing'}")
    for level, maps in record["maps"].items():
        for basis, m in maps.items():
            x, y = np.asarray(m.get("x", []), dtype=np.float64), np.asarray(m.get("y", []), dtype=np.float64)
            if x.ndim != 1 or x.shape != y.shape or x.size < 2 or np.any(np.diff(x) < 0) or np.any(np.diff(y) < 0):
                raise ValueError(f"calibration map {level}/{basis} must have increasing x and y knots of the same "
                                 "length (at least 2)")
    return record


def _prior_vector(prior, codes: List[str]) -> np.ndarray:
    """The prior (``"default"``, a ``{code: log share}`` mapping or ``None``) as one float32 value per code."""
    if prior is None:
        return np.zeros(len(codes), dtype=np.float32)
    if isinstance(prior, str):
        if prior != "default":
            raise ValueError(f"prior must be 'default', a mapping of codes to log shares, or None; got {prior!r}")
        import json

        from .._assets import shipped

        prior = json.loads((shipped("assign") / "prior.json").read_text(encoding="utf-8"))["log_share"]
    if not isinstance(prior, dict) or not prior:
        raise TypeError(f"prior must be 'default', a non-empty mapping of codes to log shares, or None; got "
                        f"{type(prior).__name__}")
    values = np.asarray(list(prior.values()), dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError("prior values must be finite log shares")
    floor = float(values.min())
    return np.asarray([prior.get(c, floor) for c in codes], dtype=np.float32)


def _shipped_calibration() -> Path:
    from .._assets import shipped

    return shipped("assign") / "calibration.json"


# --------------------------------------------------------------------------- title votes

def _ngram_index(keys: Sequence[str], folder: Optional[Path] = None) -> NgramIndex:
    """The n-gram index of the titles; n-grams in more than 5% of them (and more than 100) are left out.

    Kept in ``folder`` (the cache; ``None``: none) under a checksum of the titles and that rule: a start
    reads it (milliseconds) instead of building it (about a second). A file that cannot be read is built
    again; one that cannot be written only warns.
    """
    max_df = max(_NGRAM_MAX_DF, 100 / max(len(keys), 1))
    path = None
    if folder is not None:
        checksum = texts_checksum(keys, f"v{_NGRAM_VERSION}\n{max_df!r}\n")
        path = folder / f"title-ngrams-{checksum}.npz"
        data = read_checked(path)
        if data is not None:
            try:
                index = NgramIndex.load(io.BytesIO(data))
                if index.size == len(keys):
                    return index
            except (OSError, ValueError, KeyError, zipfile.BadZipFile):
                pass
    index = NgramIndex(keys, max_df=max_df)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_checked(path, index.save)
        except OSError as exc:
            logger.warning("could not cache the title n-gram index in %s (%s); it will be built again next time",
                           path.parent, exc)
    return index


def _vote(values: np.ndarray, indices: np.ndarray, ptr: np.ndarray, occ: np.ndarray, n_occ: int,
          tau: float) -> np.ndarray:
    """``(n, n_occ)`` title votes from each query's nearest titles (``values``/``indices``, descending).

    ``tau * log(sum exp(similarity / tau))`` over each occupation's titles among them (``tau = 0``: the best
    one); an occupation with none counts as one title at the last (lowest) similarity. ``ptr``/``occ``: the
    occupations of each title (CSR).
    """
    n, k = values.shape
    if k == 0:
        return np.zeros((n, n_occ), dtype=np.float32)
    last = values[:, k - 1:k].astype(np.float64)
    # Expand each (query, title) hit to (query, occupation) hits.
    counts = ptr[indices + 1] - ptr[indices]
    rows = np.repeat(np.arange(n), counts.sum(axis=1))
    starts = np.repeat(ptr[indices].ravel(), counts.ravel())
    offsets = np.arange(starts.shape[0]) - np.repeat(np.cumsum(counts.ravel()) - counts.ravel(), counts.ravel())
    cells = rows * n_occ + occ[starts + offsets]
    sims = np.repeat(values.ravel(), counts.ravel()).astype(np.float64)
    if tau == 0:
        out = np.repeat(last, n_occ, axis=1)
        np.maximum.at(out.reshape(-1), cells, sims)
        return out.astype(np.float32)
    top = values[:, :1].astype(np.float64)  # exponents relative to each query's best: no overflow
    acc = np.bincount(cells, weights=np.exp((sims - top[rows, 0]) / tau), minlength=n * n_occ).reshape(n, n_occ)
    acc = np.where(acc > 0, acc, np.exp((last - top) / tau))
    return (tau * np.log(acc) + top).astype(np.float32)


def _distinct_rows(rows: np.ndarray, texts: Optional[Sequence[str]] = None) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """``(first, inverse)`` when ``rows`` repeat: the first occurrence of each distinct row (with its text, when
    ``texts`` are given), in order, and for each row the place of its own among them, so that
    ``rows[first][inverse]`` is ``rows``; ``None`` when every row is distinct. Rows are compared by their bytes,
    so a search of ``rows[first]`` gives a repeated row exactly the result it would get itself.

    >>> first, inverse = _distinct_rows(np.array([[1, 0], [0, 1], [1, 0]], np.float32))
    >>> first.tolist(), inverse.tolist()
    ([0, 1], [0, 1, 0])
    """
    rows = np.ascontiguousarray(rows)
    n = rows.shape[0]
    if n < 2:
        return None
    keys = (r.tobytes() for r in rows) if texts is None else zip(texts, (r.tobytes() for r in rows))
    seen: dict = {}
    inverse = np.fromiter((seen.setdefault(key, len(seen)) for key in keys), dtype=np.int64, count=n)
    if len(seen) == n:
        return None
    first = np.full(len(seen), n, dtype=np.int64)
    np.minimum.at(first, inverse, np.arange(n))
    return first, inverse


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """The column indices of each row's ``k`` largest scores, descending, the lower index first among equal ones:
    ``np.argsort(-scores, axis=1, kind="stable")[:, :k]``, without sorting whole rows.

    >>> _top_k(np.array([[0.1, 0.5, 0.5, 0.2]]), 2).tolist()
    [[1, 2]]
    """
    n, m = scores.shape
    k = min(k, m)
    if k == 0 or n == 0:
        return np.zeros((n, k), dtype=np.int64)
    kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1:k]  # each row's k-th largest score
    rows, cols = np.nonzero(scores >= kth)  # at least k a row; more where scores tie with the k-th
    order = np.lexsort((cols, -scores[rows, cols], rows))
    rows, cols = rows[order], cols[order]
    first = np.searchsorted(rows, np.arange(n))
    rank = np.arange(rows.size) - first[rows]
    return cols[rank < k].reshape(n, k).astype(np.int64)


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
        title_tau: the vote's temperature (module docs); 0: each occupation's best title only.
        centroid_weight, ngram_weight: weights of the occupation-centroid similarity and of
            the character n-gram vote in the title score (0: left out).
        temperatures: override :data:`TEMPERATURES` (keys ``"title"``, ``"duty"``,
            ``"title+duty"``).
        prior: the log employment share of each occupation added to the logits (times
            :data:`PRIOR_WEIGHTS`): ``"default"`` the shipped ``models/assign/prior.json``, a
            ``{soc_code: log share}`` mapping (codes it lacks get its lowest value), or ``None`` (no prior).
        prior_weights: override :data:`PRIOR_WEIGHTS` (keys as ``temperatures``).
        calibration: ``"default"``: the shipped calibration maps, used when this
            assigner is the one they were fitted for (shipped tables, the encoder they
            were fitted with, default title settings and temperatures; else the
            confidences are the plain probabilities); a path or record
            (:func:`load_calibration`): those maps, an error if they were fitted for
            other settings; ``None``: plain probabilities. ``calibrated`` says which.
        show_progress: a progress bar (and an estimate of the time it takes) when an index
            is built rather than read from the cache; the estimate is also logged.

    Example:
        >>> from exposure import Encoder
        >>> assigner = OccupationAssigner(Encoder(device="cpu"))                 # doctest: +SKIP
        >>> assigner.assign(["Forklift Driver"])[0][0][:2]                        # doctest: +SKIP
        ('53-7051.00', 'Industrial Truck and Tractor Operators')
        >>> t = assigner.threshold_for(accuracy=0.85)                             # doctest: +SKIP
        >>> assigner.assign(["Forklift Driver", "Associate"], min_confidence=t).abstained  # doctest: +SKIP
        array([False,  True])
    """

    def __init__(self, encoder: Optional["Encoder"] = None, *, titles: Optional[pa.Table] = None,
                 tasks: Optional[pa.Table] = None, occupations: Optional[pa.Table] = None,
                 cache_dir: Union[str, os.PathLike, None, bool] = None, title_k: int = TITLE_K,
                 title_tau: float = TITLE_TAU, centroid_weight: float = CENTROID_WEIGHT,
                 ngram_weight: float = NGRAM_WEIGHT, temperatures: Optional[dict] = None,
                 prior: Union[str, dict, None] = "default", prior_weights: Optional[dict] = None,
                 calibration: Union[str, os.PathLike, dict, None] = "default", show_progress: bool = True) -> None:
        if encoder is None:
            from ..encoder import Encoder

            encoder = Encoder()
        self.encoder = encoder
        self.title_k = int(title_k)
        if self.title_k < 1:
            raise ValueError(f"title_k must be at least 1, got {title_k}")
        for name, value in (("title_tau", title_tau), ("centroid_weight", centroid_weight),
                            ("ngram_weight", ngram_weight)):
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        self.title_tau, self.centroid_weight, self.ngram_weight = float(title_tau), float(centroid_weight), \
            float(ngram_weight)
        self.temperatures = dict(TEMPERATURES, **(temperatures or {}))
        self.prior_weights = dict(PRIOR_WEIGHTS, **(prior_weights or {}))
        self._cache = None if cache_dir is False else resolve_cache_dir(None if cache_dir is True else cache_dir)
        self.show_progress = bool(show_progress)
        self._shipped = titles is None and tasks is None and occupations is None
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
        #: ``(occupations,)`` the log employment share added to the logits (zeros without a prior).
        self.prior = _prior_vector(prior, self.codes.tolist())
        self._has_prior = prior is not None
        self._title_index = None
        self._task_index = None
        self._soc2018 = None
        self.loaded_from_cache = {"titles": None, "tasks": None}
        self._calibration_default = isinstance(calibration, str) and calibration == "default"
        self._calibration_record = load_calibration(calibration)
        if self._calibration_record is not None and self.calibration is None:  # explicit maps that differ raise
            logger.info("occupation confidences are not calibrated: the shipped calibration was fitted for other "
                        "settings (%s)", "; ".join(self._calibration_differences(self._calibration_record)))

    def settings(self) -> dict:
        """What the confidences depend on besides the data: encoder, title score settings, temperatures
        (the ``fitted_for`` of a calibration record, less the tables)."""
        t, w = self.temperatures, self.prior_weights
        return {"encoder": self.encoder.name, "title_k": self.title_k, "title_tau": self.title_tau,
                "centroid_weight": self.centroid_weight, "ngram_weight": self.ngram_weight,
                "temperatures": {"title": float(t["title"]), "duty": float(t["duty"]),
                                 "title+duty": [float(v) for v in t["title+duty"]]},
                "prior_weights": {k: float(w[k]) if self._has_prior else 0.0 for k in ("title", "duty", "title+duty")}}

    def _calibration_differences(self, record: dict) -> List[str]:
        """The settings of this assigner that differ from those ``record``'s maps were fitted for."""
        mine, theirs = self.settings(), dict(record["fitted_for"])
        theirs.setdefault("prior_weights", dict.fromkeys(("title", "duty", "title+duty"), 0.0))  # fitted without one
        differ = [f"{k}: {theirs.get(k)!r} there, {mine[k]!r} here" for k in mine
                  if not _same_setting(mine[k], theirs.get(k))]
        if self._calibration_default and not self._shipped:
            differ.insert(0, "tables: not the shipped O*NET 29.1 ones")
        return differ

    @property
    def calibration(self) -> Optional[dict]:
        """The calibration record the confidences go through now, or ``None`` (``calibration`` argument).

        Checked against the current settings: changing ``title_k`` or ``temperatures`` after construction
        turns the shipped maps off, and makes maps given explicitly an error."""
        record = self._calibration_record
        if record is None:
            return None
        differ = self._calibration_differences(record)
        if not differ:
            return record
        if self._calibration_default:
            return None
        raise ValueError("this calibration was fitted for other settings (" + "; ".join(differ) + "); fit one for "
                         "these settings with benchmarks/fit_assign_postings.py --write, or pass calibration=None")

    @property
    def calibrated(self) -> bool:
        """Whether the confidences go through calibration maps (``calibration``)."""
        return self.calibration is not None

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

    def _search_index(self, idx: dict, **grouping) -> Index:
        """``idx["emb"]`` (with ``grouping``: groups and num_groups) as an :class:`~exposure.kernels.Index`, built
        once and kept in ``idx`` with its device copy, where the searches run: on the encoder's GPU if it has
        one, else on the native kernel."""
        source, index = idx.get("search", (None, None))
        if source is not idx["emb"]:  # (the embeddings, their Index): the same object, the same index
            source, index = idx["search"] = (idx["emb"], Index(idx["emb"], **grouping))
        return index.for_device(getattr(self.encoder, "device", None))

    # ----------------------------------------------------------------- indexes
    def title_index(self):
        """The distinct titles (``keys``), their occupations (CSR ``ptr``/``occ``) and embeddings; built once."""
        if self._title_index is None:
            titles = self._titles_table["title"].to_pylist()
            occ = self._codes_to_ids(self._titles_table["soc_code"].to_pylist(), "titles").tolist()
            pairs = {}
            display = {}
            for t, o in zip(titles, occ):
                k = normalize_title(t)
                if k:
                    pairs.setdefault(k, set()).add(o)
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
            self._title_index = self._with_title_extras({"keys": keys, "ptr": ptr, "occ": occ_ids, "emb": emb})
        return self._title_index

    def _with_title_extras(self, idx: dict) -> dict:
        """``idx`` with what the title score needs besides the embeddings: each occupation's centroid (the
        normalised mean embedding of its titles; zero without titles) and the titles' n-gram index."""
        # Each occupation's titles, in index order, summed in float64 in that order (+ 0.0: a sum of negative
        # zeros is +0.0, as when adding from zero).
        owner = np.repeat(np.arange(len(idx["keys"])), np.diff(idx["ptr"]))
        order = np.argsort(idx["occ"], kind="stable")
        counts = np.bincount(idx["occ"], minlength=len(self.codes))
        cent = segment_sum(idx["emb"][owner[order]], np.concatenate([[0], np.cumsum(counts)])) + 0.0
        cent /= np.maximum(np.linalg.norm(cent, axis=1, keepdims=True), 1e-12)
        idx["centroids"] = cent.astype(np.float32)
        idx["ngrams"] = _ngram_index(idx["keys"], self._cache) if self.ngram_weight > 0 else None
        return idx

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
            out._title_index = self._with_title_extras({"keys": keys, "ptr": ptr, "occ": idx["occ"][np.repeat(keep, counts)],
                                                        "emb": idx["emb"][keep]})
        if len(task_rows):
            idx = self.task_index()
            keep = ~np.isin(idx["rows"], np.asarray(task_rows, dtype=np.int64))
            occ = idx["occ"][keep]
            out._task_index = {"emb": idx["emb"][keep], "occ": occ, "rows": idx["rows"][keep],
                               "has_tasks": np.bincount(occ, minlength=len(self.codes)) > 0}
        return out

    # ----------------------------------------------------------------- scores
    def title_scores(self, embeddings: np.ndarray, texts: Optional[Sequence[str]] = None) -> np.ndarray:
        """``(n, occupations)`` title scores of query titles (see the module docs): their embeddings, and their
        texts for the n-gram vote (needed when ``ngram_weight > 0``)."""
        idx = self.title_index()
        n_occ = len(self.codes)
        embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
        if self.ngram_weight > 0 and (texts is None or len(texts) != embeddings.shape[0]):
            raise ValueError("title_scores needs the titles' texts, one per embedding, for the n-gram vote "
                             "(ngram_weight > 0)")
        # A title repeated in the batch (the same text and embedding) is scored once.
        repeats = _distinct_rows(embeddings, list(texts) if texts is not None else None)
        if repeats is not None:
            embeddings = embeddings[repeats[0]]
            texts = None if texts is None else [texts[i] for i in repeats[0]]
        k = min(self.title_k, len(idx["keys"]))
        top = self._search_index(idx).search(embeddings, "topk", k=k)
        out = _vote(top.values, top.indices, idx["ptr"], idx["occ"], n_occ, self.title_tau)
        if self.centroid_weight > 0:
            out += self.centroid_weight * (embeddings @ idx["centroids"].T)
        if self.ngram_weight > 0:
            if idx.get("ngrams") is None:  # the weight was set after the index was built
                idx["ngrams"] = _ngram_index(idx["keys"])
            nv, ni = idx["ngrams"].topk([normalize_title(t) for t in texts], _NGRAM_K)
            out += self.ngram_weight * _vote(nv, ni, idx["ptr"], idx["occ"], n_occ, self.title_tau)
        return out if repeats is None else out[repeats[1]]

    def duty_scores(self, embeddings: np.ndarray, owners: np.ndarray, n: int) -> np.ndarray:
        """``(n, occupations)`` duty scores: per posting, the mean over its duties of the best task per occupation.

        ``owners[i]`` is the posting of duty row ``i``; postings without duties get NaN rows.
        """
        idx = self.task_index()
        out = np.full((n, len(self.codes)), np.nan, dtype=np.float32)
        if embeddings.shape[0] == 0:
            return out
        rows = np.ascontiguousarray(embeddings, dtype=np.float32)
        index = self._search_index(idx, groups=idx["occ"], num_groups=len(self.codes))
        # On the CPU a duty repeated in the batch (the same embedding) is searched once; on a GPU the search is
        # cheaper than finding the repeats.
        repeats = _distinct_rows(rows) if index.device is None else None
        best = index.search(rows if repeats is None else rows[repeats[0]], "max").values
        if repeats is not None:
            best = best[repeats[1]]
        best[~np.isfinite(best)] = 0.0  # occupations without tasks; filled below
        if np.any(owners[1:] < owners[:-1]):  # a posting's duties side by side
            order = np.argsort(owners, kind="stable")
            owners, best = owners[order], best[order]
        cnt = np.bincount(owners, minlength=n)
        has = cnt > 0
        mean = segment_sum(best, np.concatenate([[0], np.cumsum(cnt[has])])) / cnt[has, None]
        # Occupations without tasks: the posting's mean over those with tasks, i.e. no evidence either way.
        fill = mean[:, idx["has_tasks"]].mean(axis=1, keepdims=True)
        mean[:, ~idx["has_tasks"]] = fill
        out[has] = mean
        return out

    # ----------------------------------------------------------------- assign
    def assign(self, titles: Sequence[Optional[str]], duties: Optional[Sequence[Optional[Sequence[str]]]] = None,
               k: int = 3, level: str = "onet", *, duty_embeddings: Optional[Sequence[np.ndarray]] = None,
               clean_titles: bool = True, min_confidence: Optional[float] = None,
               title_embeddings: Optional[np.ndarray] = None, duty_owners: Optional[np.ndarray] = None
               ) -> Assignments:
        """The ``k`` likeliest occupations of each posting, with their confidences.

        Args:
            titles: one title per posting; ``None`` or blank when unknown (flagged).
            duties: per posting a list of duty texts (or ``None``); e.g. from
                :func:`exposure.postings.read_postings`. ``None``: titles only.
            k: occupations per posting.
            level: ``"onet"`` (O*NET-SOC codes) or ``"soc2018"`` (6-digit SOC 2018,
                probabilities summed over the O*NET occupations in each).
            duty_embeddings: per posting the duties' embeddings from this encoder
                (``UnitPredictions.duty_embeddings``), instead of ``duties``; or, with
                ``duty_owners``, all the duties' rows in one ``(d, dim)`` array.
            duty_owners: ``(d,)`` the posting of each row of ``duty_embeddings``, ascending.
            clean_titles: drop pay, requisition numbers and seniority words from titles
                first (:func:`clean_posting_title`).
            min_confidence: abstain (no codes, ``abstained`` true, flag ``"below
                min_confidence"``) where the top confidence is below this, a number in
                [0, 1]; :meth:`threshold_for` gives one for a target coverage or accuracy.
                ``None``: never abstain.
            title_embeddings: ``(len(titles), dim)`` rows of this encoder for
                :meth:`title_queries` of the titles (rows of postings without a title are not
                read), e.g. encoded in one call with the duties; ``None``: the titles are
                encoded here.
        """
        if isinstance(titles, str):
            raise TypeError("titles must be a list of strings, one per posting; got a single string")
        titles = list(titles)
        n = len(titles)
        if level not in ASSIGNMENT_LEVELS:
            raise ValueError(f"unknown level {level!r}; use one of: {', '.join(ASSIGNMENT_LEVELS)}")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        min_confidence = check_confidence(min_confidence)
        for i, t in enumerate(titles):
            if t is not None and not isinstance(t, str):
                raise TypeError(f"titles[{i}] is {type(t).__name__}, expected str or None")
        calibration = self.calibration  # before any work: maps fitted for other settings raise
        if min_confidence is not None and calibration is None:
            logger.warning("min_confidence %s applies to uncalibrated probabilities (calibration is off for this "
                           "assigner)", min_confidence)
        duty_emb, owners = self._duties(duties, duty_embeddings, n, duty_owners)  # owners ascending: blocks slice
        query = self.title_queries(titles, clean_titles)
        if title_embeddings is not None:
            title_embeddings = np.asarray(title_embeddings, dtype=np.float32)
            if title_embeddings.shape != (n, self.encoder.dim):
                raise ValueError(f"title_embeddings must be ({n}, {self.encoder.dim}), one row per title, got "
                                 f"{title_embeddings.shape}")
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
            weight = np.where(rt & rd, self.prior_weights["title+duty"],
                              np.where(rt, self.prior_weights["title"], self.prior_weights["duty"]))
            logits = weight[:, None] * self.prior[None, :]  # float64: the sums below keep their precision
            if rt.any():
                texts = [query[i] for i in rows[rt]]
                emb = self.encoder.encode(texts) if title_embeddings is None else title_embeddings[rows[rt]]
                ts = self.title_scores(emb, texts)
                logits[rt] += ts / np.where(rd[rt], both_title, t_title)[:, None]
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
        top = _top_k(probs, k)
        conf = np.take_along_axis(probs, top, axis=1).astype(np.float64)
        if calibration is not None:
            conf = _calibrate(conf, calibration, level, basis)
        none = ~(has_title | has_duties)
        out_codes = np.asarray(codes, dtype=object)[top].astype(str)
        out_names = np.asarray(names, dtype=object)[top].astype(str)
        conf = np.clip(conf, 0.0, 1.0).astype(np.float32)
        abstained = np.zeros(n, dtype=bool)
        if min_confidence is not None and k:
            abstained = ~none & (conf[:, 0].astype(np.float64) < min_confidence)  # as PostingScorer compares
            for i in np.flatnonzero(abstained):
                flags[i] = "below min_confidence" if flags[i] is None else f"{flags[i]}; below min_confidence"
        empty = none | abstained
        out_codes[empty], out_names[empty] = "", ""
        conf[empty] = np.nan
        return Assignments(out_codes, out_names, conf, basis, flags, level, abstained, calibration is not None)

    def assign_embeddings(self, queries: Sequence[str], title_embeddings: np.ndarray, duty_embeddings: np.ndarray,
                          duty_owners: np.ndarray, *, k: int = 3,
                          min_confidence: Optional[float] = None) -> Assignments:
        """:meth:`assign` from embeddings made elsewhere (as :class:`~exposure.postings.PostingScorer` does,
        through its unit cache): ``title_embeddings`` ``(n, dim)`` rows for ``queries`` (the
        :meth:`title_queries` of the titles, not cleaned again), ``duty_embeddings`` ``(d, dim)`` and
        ``duty_owners`` ``(d,)`` the posting of each duty row, ascending. The :class:`Assigner` protocol.

        >>> q = assigner.title_queries(["Forklift Driver"])                         # doctest: +SKIP
        >>> assigner.assign_embeddings(q, encoder.encode(q), np.zeros((0, 384), np.float32),
        ...                            np.zeros(0, np.int64))[0][0][0]                # doctest: +SKIP
        '53-7051.00'
        """
        return self.assign(list(queries), k=k, duty_embeddings=duty_embeddings, duty_owners=duty_owners,
                           clean_titles=False, min_confidence=min_confidence, title_embeddings=title_embeddings)

    @staticmethod
    def title_queries(titles: Sequence[Optional[str]], clean_titles: bool = True) -> List[str]:
        """The texts :meth:`assign` embeds for ``titles``: cleaned (:func:`clean_posting_title`) when
        ``clean_titles``, else stripped; ``""`` for a missing title.

        >>> OccupationAssigner.title_queries(["Senior Data Analyst - $90k", None])
        ['Data Analyst', '']
        """
        return [clean_posting_title(t) if clean_titles else (t or "").strip() for t in titles]

    def threshold_for(self, *, coverage: Optional[float] = None, accuracy: Optional[float] = None,
                      level: str = "onet", basis: str = "title") -> float:
        """The ``min_confidence`` that keeps a share ``coverage`` of the postings, or the lowest that gives
        top-1 ``accuracy`` on those kept, as measured where the calibration was fitted
        (``calibration["coverage"]``: the shipped one, out of fold on the hand-coded real postings of the
        train split, calibrated confidences).

        Postings unlike those (other sources, years, countries) may differ: check on a labelled sample of
        your own.

        >>> assigner.threshold_for(accuracy=0.85)                     # doctest: +SKIP
        0.82
        """
        if (coverage is None) == (accuracy is None):
            raise ValueError("give one of coverage (share of postings to code) or accuracy (top-1 accuracy wanted "
                             "on those coded)")
        name, target = ("coverage", coverage) if coverage is not None else ("accuracy", accuracy)
        target = check_confidence(target, name)
        if target == 0:
            raise ValueError(f"{name} must be above 0, got 0")
        record = self.calibration
        if record is None:
            raise ValueError("threshold_for needs calibrated confidences; this assigner has none (calibration is "
                             "off, or its settings differ from those the shipped calibration was fitted for)")
        if level not in ASSIGNMENT_LEVELS:
            raise ValueError(f"unknown level {level!r}; use one of: {', '.join(ASSIGNMENT_LEVELS)}")
        table = record.get("coverage", {}).get(level, {}).get(basis)
        if table is None:
            known = sorted(record.get("coverage", {}).get(level, {}))
            raise ValueError(f"the calibration has no coverage table for level {level!r} and basis {basis!r}; "
                             f"bases with one: {', '.join(known) or 'none'}")
        thr, cov, acc = (np.asarray(table[c], dtype=np.float64) for c in ("threshold", "coverage", "accuracy"))
        if coverage is not None:
            ok = np.flatnonzero(cov >= target - 1e-12)
            return float(thr[ok.max()]) if ok.size else 0.0
        ok = np.flatnonzero((acc >= target - 1e-12) & (cov > 0))
        if not ok.size:
            best = int(np.nanargmax(np.where(cov > 0, acc, np.nan)))
            raise ValueError(f"no threshold reaches top-1 accuracy {target} on the held-out titles ({level}, {basis}); "
                             f"the highest is {acc[best]:.3f}, at threshold {thr[best]:.2f} "
                             f"(coverage {cov[best]:.3f})")
        return float(thr[ok.min()])

    def _duties(self, duties, duty_embeddings, n: int, duty_owners=None) -> Tuple[np.ndarray, np.ndarray]:
        """All duty embeddings stacked, and the posting each belongs to."""
        dim = self.encoder.dim
        if duties is not None and duty_embeddings is not None:
            raise ValueError("pass duties or duty_embeddings, not both")
        if duty_owners is not None:
            emb = np.asarray(duty_embeddings, dtype=np.float32) if duty_embeddings is not None else None
            owners = np.asarray(duty_owners)
            if emb is None or emb.ndim != 2 or emb.shape[1] != dim or owners.shape != (emb.shape[0],):
                raise ValueError(f"with duty_owners, duty_embeddings must be one (d, {dim}) array and duty_owners "
                                 f"(d,), got {None if emb is None else emb.shape} and {owners.shape}")
            if owners.size and (owners.dtype.kind not in "iu" or owners[0] < 0 or owners[-1] >= n
                                or np.any(np.diff(owners) < 0)):
                raise ValueError(f"duty_owners must be ascending posting numbers in [0, {n}), got {owners[:10]}...")
            owners = owners.astype(np.int64, copy=False)
            keep = np.linalg.norm(emb, axis=1) > 0  # zero rows (no text) are no duty
            return (emb, owners) if keep.all() else (emb[keep], owners[keep])
        if duty_embeddings is not None:
            if len(duty_embeddings) != n:
                raise ValueError(f"got duty embeddings for {len(duty_embeddings)} postings, but {n} titles")
            blocks = [np.zeros((0, dim), np.float32) if e is None else np.asarray(e, dtype=np.float32)
                      for e in duty_embeddings]
            for i, e in enumerate(blocks):
                if e.ndim != 2 or e.shape[1] != dim:
                    raise ValueError(f"duty_embeddings[{i}] must be (duties, {dim}), got {e.shape}")
            owners = np.repeat(np.arange(n), [b.shape[0] for b in blocks])
            emb = np.vstack(blocks) if blocks else np.zeros((0, dim), np.float32)
            keep = np.linalg.norm(emb, axis=1) > 0  # zero rows (no text) are no duty
            return (emb, owners) if keep.all() else (emb[keep], owners[keep])
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


def _calibrate(conf: np.ndarray, record: dict, level: str, basis: Sequence[str]) -> np.ndarray:
    """Confidences through the record's map for ``level`` and each row's basis (rows without a map as they are)."""
    out = conf.copy()
    basis = np.asarray(basis, dtype=object)
    for name, m in record["maps"].get(level, {}).items():
        rows = basis == name
        if rows.any():
            out[rows] = np.interp(conf[rows], np.asarray(m["x"], dtype=np.float64), np.asarray(m["y"], dtype=np.float64))
    return out


def _same_setting(a, b) -> bool:
    """Two settings alike: numbers to 4 significant digits (JSON round trips), lists and dicts item by item."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_setting(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same_setting(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return bool(np.isclose(a, b, rtol=1e-4, atol=0))
    return a == b


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
