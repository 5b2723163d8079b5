"""Calibrated heads: a task's features -> P(E0), P(E1), P(E2), and a degree of automation.

The zero-shot rule in :mod:`exposure.scoring` ranks tasks but is fitted to no
labels. A head is a small readout trained on the human exposure labels of
Eloundou et al. (2023) that turns the same inputs into class probabilities:

- features (see :func:`head_features`): the task embedding; its similarities to
  the capability set pooled per technology (log-mean-exp at a few temperatures,
  and the max), to the headline technologies and to the counter-statements; and
  the labels of its nearest labelled O*NET tasks (softmax-weighted label shares
  of the 5 and 20 nearest, and the best similarity) in a 32-dimensional PCA
  projection of the embeddings, shipped as float16.
- ``exposure``: multinomial logistic regression on the standardised features,
  L2 strength chosen by grouped cross-validation on the training occupations.
  ``P(E1) + 0.5 * P(E2)`` is the calibrated headline exposure (the ``beta`` of
  the paper at task level).
- ``automation``: the same readout over GPT-4's T0-T4 ratings of the degree of
  automation; the score is the expected level / 4 in [0, 1]. It is trained on
  GPT-4's ratings, not on human ones.

While training, the neighbour features of a task never use tasks of its own
occupation, so the readout learns how much to trust neighbours from other
occupations. At run time every labelled task is a neighbour: a task that is
itself among the labelled O*NET tasks largely gets its human label back.

This module is the inference side. Training (``train_heads``, ``fit_softmax``,
``select_strength``) lives in :mod:`exposure.training.heads`, which imports this
module, never the reverse.

A head is two files in ``models/heads``: ``NAME.npz`` (weights) and
``NAME.json`` (manifest: encoder and capability set it belongs to, the
checksum of the weights, the training command and data, CV metrics). Loading
verifies the checksum; :meth:`Heads.check` refuses a different encoder or
capability set. Inference is numpy only; training (:mod:`exposure.training.heads`)
uses torch (full-batch L-BFGS in float64 on one thread, so a rebuild reproduces
the files byte for byte).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from ._assets import shipped
from .kernels import Index
from .rubric import AUTOMATION_CLASSES, EXPOSURE_CLASSES
from .stats import softmax

__all__ = [
    "StatementSimilarities",
    "statement_similarities",
    "pooled_logsumexp",
    "grouped_max",
    "Heads",
    "LinearHead",
    "NeighbourIndex",
    "HeadMismatchError",
    "HeadFileError",
    "FoldHeads",
    "head_features",
    "capability_features",
    "encoder_fingerprint",
    "available_heads",
    "EXPOSURE_CLASSES",
    "AUTOMATION_CLASSES",
    "PROBE_TEXT",
]

HEADS_FORMAT = 1
#: Encoded to fingerprint an encoder: a head works only with the encoder it was trained on.
PROBE_TEXT = "Prepare written reports that summarize the results of data analyses."
FINGERPRINT_VALUES = 8
_FINGERPRINT_TOL = 1e-2  # float16 on CUDA moves values by ~1e-3; other encoders by ~1e-1
POOL_TEMPERATURES = (0.05, 0.1, 0.2)
KNN_DIM = 32
KNN_K = (5, 20)
KNN_TEMPERATURE = 0.05
_CHUNK = 2048
#: Rows per block in :meth:`Heads.predict_proba`: the features and the neighbour search's scratch
#: (a block x labelled-tasks similarity matrix and its argpartition) grow with the rows scored at once.
PREDICT_BLOCK = 1024


class HeadMismatchError(ValueError):
    """A head was trained for another encoder, capability set or headline."""


class HeadFileError(ValueError):
    """A head's files are missing, unreadable, or do not match their checksum."""


# --------------------------------------------------------------------------- features

class StatementSimilarities(NamedTuple):
    """Cosine similarities of a batch of task embeddings to the capability statements ``(n, m)`` and to the
    counter-statements ``(n, c)``, float32: one matrix product each (:func:`statement_similarities`), from
    which every pooled feature of a batch is derived (:func:`pooled_logsumexp`, :func:`grouped_max`)."""

    capabilities: np.ndarray
    counters: np.ndarray


def statement_similarities(emb: np.ndarray, cap_emb: Union[np.ndarray, Index],
                           counter_emb: Union[np.ndarray, Index]) -> StatementSimilarities:
    """The similarities of ``emb`` to the two small statement sets, computed once: the native kernel's dot
    products, so their max and top-k are the kernel's to the bit. ``cap_emb`` and ``counter_emb``: the
    statements' embeddings, or :class:`~exposure.kernels.Index` objects of them (on a GPU each matrix is
    computed there and comes back once).

    >>> e = np.eye(3, dtype=np.float32)
    >>> statement_similarities(e[:2], e, e[2:]).capabilities.tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    emb = np.ascontiguousarray(emb, dtype=np.float32)
    cap_index = cap_emb if isinstance(cap_emb, Index) else Index(cap_emb)
    caps = cap_index.search(emb, "matrix").values
    if counter_emb.shape[0]:
        counters = (counter_emb if isinstance(counter_emb, Index) else Index(counter_emb)).search(emb, "matrix").values
    else:
        counters = np.zeros((emb.shape[0], 0), dtype=np.float32)
    return StatementSimilarities(np.asarray(caps, dtype=np.float32), np.asarray(counters, dtype=np.float32))


def pooled_logsumexp(sim: np.ndarray, temperature: float, groups: Optional[np.ndarray] = None,
                     num_groups: int = 1) -> np.ndarray:
    """``T * log(sum_j exp(s_j / T))`` per row and column group, float32 ``(n, num_groups)`` (``-inf`` for a
    group without columns): the native kernel's log-sum-exp (the largest similarity factored out, the sum in
    float64) over a similarity matrix ``sim`` already computed.

    >>> float(pooled_logsumexp(np.array([[0.0, 0.0]], np.float32), 1.0)[0, 0]) == float(np.float32(np.log(2)))
    True
    """
    n = sim.shape[0]
    groups = np.zeros(sim.shape[1], dtype=np.int64) if groups is None else np.asarray(groups)
    out = np.full((n, num_groups), -np.inf, dtype=np.float32)
    for g in range(num_groups):
        cols = sim[:, groups == g]
        if not cols.shape[1] or not n:
            continue
        top = cols.max(axis=1)
        total = np.exp((cols - top[:, None]) * np.float32(1.0 / temperature)).astype(np.float64).sum(axis=1)
        out[:, g] = (top + temperature * np.log(total)).astype(np.float32)
    return out


def grouped_max(sim: np.ndarray, groups: np.ndarray, num_groups: int) -> np.ndarray:
    """The largest similarity per row and column group, float32 ``(n, num_groups)`` (``-inf`` for an empty group).

    >>> grouped_max(np.array([[0.1, 0.5, 0.2]], np.float32), np.array([0, 0, 1]), 2).tolist()
    [[0.5, 0.20000000298023224]]
    """
    out = np.full((sim.shape[0], num_groups), -np.inf, dtype=np.float32)
    for g in range(num_groups):
        cols = sim[:, groups == g]
        if cols.shape[1] and sim.shape[0]:
            out[:, g] = cols.max(axis=1)
    return out


def capability_features(sims: StatementSimilarities, technology_index: np.ndarray,
                        headline_mask: np.ndarray) -> np.ndarray:
    """Pooled similarities of each task to the capability set, float64 ``(n, 3*(g+2) + g+1)``.

    For each temperature in ``POOL_TEMPERATURES``: log-mean-exp of the similarities to
    each technology's statements, to the headline technologies' statements together,
    and to the counter-statements; then the max similarity per technology and to the
    counter-statements. A set without counter-statements gets zeros there. ``sims``: the batch's
    :func:`statement_similarities`, from which every column is derived.
    """
    cap, counter = sims
    n, g = cap.shape[0], int(np.max(technology_index)) + 1
    counts = np.bincount(technology_index, minlength=g).astype(np.float64)
    head_index = np.where(headline_mask[technology_index], 0, 1).astype(np.int32)
    has_counters = counter.shape[1] > 0
    cols = []
    for T in POOL_TEMPERATURES:
        lse = pooled_logsumexp(cap, T, technology_index, g)
        cols.append(lse.astype(np.float64) - T * np.log(counts))
        head = pooled_logsumexp(cap, T, head_index, 2)[:, :1]
        cols.append(head.astype(np.float64) - T * np.log(counts[headline_mask].sum()))
        if has_counters:
            lse = pooled_logsumexp(counter, T)
            cols.append(lse.astype(np.float64) - T * np.log(counter.shape[1]))
        else:
            cols.append(np.zeros((n, 1)))
    cols.append(grouped_max(cap, technology_index, g).astype(np.float64))
    cols.append(counter.max(axis=1).astype(np.float64)[:, None] if has_counters and n else np.zeros((n, 1)))
    return np.hstack(cols)


@dataclass
class NeighbourIndex:
    """Labelled tasks in a PCA projection of the embeddings, for neighbour-label features.

    Attributes:
        mean: ``(d,)`` centre of the projection.
        components: ``(d, k)`` projection.
        keys: ``(m, k)`` float16 unit rows, the projected labelled tasks.
        labels: name -> ``(m,)`` int8 class index per labelled task.
        n_classes: name -> number of classes.
    """

    mean: np.ndarray
    components: np.ndarray
    keys: np.ndarray
    labels: Dict[str, np.ndarray]
    n_classes: Dict[str, int]
    _keys32: Optional[Tuple[np.ndarray, Index]] = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def fit(cls, emb: np.ndarray, labels: Mapping[str, np.ndarray], n_classes: Mapping[str, int],
            dim: int = KNN_DIM) -> "NeighbourIndex":
        """PCA of the labelled embeddings (eigenvectors of the covariance, signs fixed)."""
        x = np.asarray(emb, dtype=np.float64)
        mean = x.mean(axis=0)
        cov = (x - mean).T @ (x - mean) / max(len(x) - 1, 1)
        vals, vecs = np.linalg.eigh(cov)
        comp = vecs[:, np.argsort(-vals, kind="stable")[:dim]]
        # Eigenvector signs are arbitrary: make the largest entry of each positive.
        comp *= np.sign(comp[np.abs(comp).argmax(axis=0), np.arange(comp.shape[1])])
        index = cls(mean.astype(np.float32), comp.astype(np.float32), np.zeros((0, dim), np.float16),
                    {k: np.asarray(v, dtype=np.int8) for k, v in labels.items()}, dict(n_classes))
        index.keys = index.project(emb).astype(np.float16)
        return index

    def subset(self, keep: np.ndarray) -> "NeighbourIndex":
        """The same projection with only the labelled tasks where ``keep`` (a boolean mask over the keys) is
        true: the neighbours a head fitted without the other tasks' labels may read.

        >>> index = NeighbourIndex.fit(np.eye(3, dtype=np.float32), {"exposure": np.array([0, 1, 2])},
        ...                            {"exposure": 3}, dim=2)
        >>> index.subset(np.array([True, False, True])).labels["exposure"].tolist()
        [0, 2]
        """
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != (self.keys.shape[0],):
            raise ValueError(f"keep must be a boolean mask over the {self.keys.shape[0]} keys, got shape {keep.shape}")
        return NeighbourIndex(self.mean, self.components, self.keys[keep],
                              {k: v[keep] for k, v in self.labels.items()}, dict(self.n_classes))

    def project(self, emb: np.ndarray) -> np.ndarray:
        """float32 unit rows in the projection."""
        z = (np.asarray(emb, dtype=np.float32) - self.mean) @ self.components
        return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)

    def _float_keys(self) -> Index:
        """``keys`` as float32 (they are stored as float16) in an :class:`~exposure.kernels.Index`, built once."""
        if self._keys32 is None or self._keys32[0] is not self.keys:
            self._keys32 = (self.keys, Index(self.keys.astype(np.float32)))
        return self._keys32[1]

    def features(self, emb: np.ndarray, name: Union[str, Sequence[str]], query_groups: Optional[np.ndarray] = None,
                 key_groups: Optional[np.ndarray] = None, device: Any = None) -> Union[np.ndarray, List[np.ndarray]]:
        """Neighbour features for label ``name``: float64 ``(n, 2*c + 1)``.

        The softmax-weighted (temperature ``KNN_TEMPERATURE``) label shares of the
        nearest ``KNN_K`` labelled tasks, then the best similarity. With groups,
        keys of the query's own group are left out (used while training).
        ``name`` may be several label names: one neighbour search serves them
        all, and the result is a list with one block per name. ``device``: the device of the model it serves;
        the search without groups runs there when it is a GPU (:meth:`~exposure.kernels.Index.for_device`).
        """
        names = [name] if isinstance(name, str) else list(name)
        q = self.project(emb)
        index = self._float_keys()
        keys = index.keys
        kmax = min(max(KNN_K), keys.shape[0])
        sizes = [self.n_classes[nm] for nm in names]
        onehots = [np.eye(c)[self.labels[nm]] for nm, c in zip(names, sizes)]
        outs = [np.zeros((q.shape[0], len(KNN_K) * c + 1)) for c in sizes]
        for a in range(0, q.shape[0], _CHUNK):
            # 1. the nearest kmax keys, best first (lower index first on ties)
            if query_groups is None:  # the fused kernel: no (queries x keys) matrix
                best = index.for_device(device).search(q[a:a + _CHUNK], "topk", k=kmax)
                idx, top = best.indices, best.values.astype(np.float64)
            else:
                s = q[a:a + _CHUNK] @ keys.T
                s[query_groups[a:a + _CHUNK, None] == key_groups[None, :]] = -np.inf
                idx = np.argpartition(-s, kmax - 1, axis=1)[:, :kmax]
                top = np.take_along_axis(s, idx, 1)
                order = np.lexsort((idx, -top), axis=1)
                idx, top = np.take_along_axis(idx, order, 1), np.take_along_axis(top, order, 1).astype(np.float64)
            # 2. their softmax-weighted label shares, for every label set
            for j, k in enumerate(KNN_K):
                w = np.exp((top[:, :k] - top[:, :1]) / KNN_TEMPERATURE)
                w /= w.sum(axis=1, keepdims=True)
                for out, onehot, c in zip(outs, onehots, sizes):
                    out[a:a + _CHUNK, j * c:(j + 1) * c] = np.einsum("nk,nkc->nc", w, onehot[idx[:, :k]])
            for out in outs:
                out[a:a + _CHUNK, -1] = top[:, 0]
        return outs[0] if isinstance(name, str) else outs


def head_features(emb: np.ndarray, cap_features: np.ndarray, index: NeighbourIndex, name: Union[str, Sequence[str]],
                  query_groups: Optional[np.ndarray] = None,
                  key_groups: Optional[np.ndarray] = None, device: Any = None) -> Union[np.ndarray, List[np.ndarray]]:
    """The full feature matrix of a head: embedding, capability features, neighbour features.

    Several label names give a list of matrices, one per name, from one neighbour search.
    """
    base = np.hstack([np.asarray(emb, dtype=np.float64), cap_features])
    knn = index.features(emb, name, query_groups, key_groups, device)
    if isinstance(name, str):
        return np.hstack([base, knn])
    return [np.hstack([base, block]) for block in knn]


# --------------------------------------------------------------------------- readout

@dataclass
class LinearHead:
    """Softmax regression on standardised features: ``softmax(((x - mean) / scale) @ weight + bias)``."""

    mean: np.ndarray
    scale: np.ndarray
    weight: np.ndarray
    bias: np.ndarray
    strength: float = 0.0

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities, float64 ``(n, c)``; rows sum to 1."""
        return softmax(((np.asarray(x, dtype=np.float64) - self.mean) / self.scale) @ self.weight + self.bias)


_LEVELS = np.arange(len(AUTOMATION_CLASSES)) / (len(AUTOMATION_CLASSES) - 1)  # T0..T4 -> 0..1


def _predict_proba(exposure: LinearHead, automation: LinearHead, index: NeighbourIndex, emb: np.ndarray,
                   cap_features: np.ndarray, device: Any = None) -> Tuple[np.ndarray, np.ndarray]:
    """Both heads' class probabilities over ``index``'s neighbours, in blocks of :data:`PREDICT_BLOCK` rows."""
    n = emb.shape[0]
    probs = np.zeros((n, len(EXPOSURE_CLASSES)))
    auto = np.zeros((n, len(AUTOMATION_CLASSES)))
    for a in range(0, n, PREDICT_BLOCK):
        rows = slice(a, a + PREDICT_BLOCK)
        x_exp, x_auto = head_features(emb[rows], cap_features[rows], index, ("exposure", "automation"),
                                      device=device)
        probs[rows], auto[rows] = exposure.predict_proba(x_exp), automation.predict_proba(x_auto)
    return probs, auto


# --------------------------------------------------------------------------- out of fold

@dataclass
class FoldHeads:
    """Heads refitted once per fold of the labelled occupations, each without the labels of its fold.

    The labelled occupations are split into folds (:func:`exposure.stats.grouped_folds`, by occupation);
    the heads of fold ``f`` were fitted on the other folds' tasks, and their neighbour features read only
    the other folds' labelled tasks. A task of a labelled occupation scored by its fold's heads
    (:meth:`Heads.predict_out_of_fold`) is a prediction made without that occupation's labels, as the
    unlabelled occupations' scores are; the shipped heads, fitted on every label, largely return a labelled
    occupation's own labels.

    Attributes:
        exposure, automation: one :class:`LinearHead` of each per fold.
        key_fold: ``(m,)`` int8, the fold of each labelled task of the neighbour index (its occupation's).
        occupation_fold: O*NET-SOC code -> fold, for every labelled occupation.
    """

    exposure: List[LinearHead]
    automation: List[LinearHead]
    key_fold: np.ndarray
    occupation_fold: Dict[str, int]
    _indexes: Dict[int, NeighbourIndex] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.exposure)
        if n < 2 or len(self.automation) != n:
            raise ValueError(f"fold heads need at least two folds and one automation head per exposure head, got "
                             f"{len(self.exposure)} and {len(self.automation)}")
        self.key_fold = np.asarray(self.key_fold, dtype=np.int8)
        bad = sorted({int(f) for f in self.occupation_fold.values()} - set(range(n)))
        if bad or self.key_fold.size and (self.key_fold.min() < 0 or self.key_fold.max() >= n):
            raise ValueError(f"fold numbers must lie in 0..{n - 1}")

    @property
    def n_folds(self) -> int:
        """The number of folds."""
        return len(self.exposure)

    def fold_of(self, occupations: Sequence[Optional[str]]) -> np.ndarray:
        """The fold of each row's occupation (O*NET-SOC code), ``-1`` for an occupation no label trained.

        >>> folds = FoldHeads([None, None], [None, None], np.zeros(0), {"11-1011.00": 1})
        >>> folds.fold_of(["11-1011.00", "99-9999.00", None]).tolist()
        [1, -1, -1]
        """
        return np.array([self.occupation_fold.get(str(c), -1) if c is not None else -1 for c in occupations],
                        dtype=np.int64)

    def index(self, base: NeighbourIndex, fold: int) -> NeighbourIndex:
        """``base`` without the labelled tasks of ``fold`` (built once per fold)."""
        if base.keys.shape[0] != self.key_fold.shape[0]:
            raise ValueError(f"the fold heads know {self.key_fold.shape[0]} labelled tasks but the neighbour index "
                             f"has {base.keys.shape[0]}: they were not trained together")
        if fold not in self._indexes:
            self._indexes[fold] = base.subset(self.key_fold != fold)
        return self._indexes[fold]

    def arrays(self) -> Dict[str, np.ndarray]:
        """The arrays :meth:`Heads.save` writes (``NAME.folds.npz``)."""
        codes = sorted(self.occupation_fold)
        out = {"key_fold": self.key_fold, "occupations": np.array(codes, dtype=str),
               "occupation_fold": np.array([self.occupation_fold[c] for c in codes], dtype=np.int8)}
        for f in range(self.n_folds):
            for name, head in (("exposure", self.exposure[f]), ("automation", self.automation[f])):
                for part in ("mean", "scale", "weight", "bias"):
                    out[f"fold{f}_{name}_{part}"] = getattr(head, part)
        return out

    @classmethod
    def from_arrays(cls, arr: Mapping[str, np.ndarray], n_folds: int, strengths: Sequence[Mapping[str, float]] = ()
                    ) -> "FoldHeads":
        """The inverse of :meth:`arrays`; ``strengths``: the L2 strengths per fold, from the manifest."""
        heads: Dict[str, List[LinearHead]] = {"exposure": [], "automation": []}
        for f in range(n_folds):
            for name in heads:
                lam = float(strengths[f].get(name, 0.0)) if f < len(strengths) else 0.0
                heads[name].append(LinearHead(*(arr[f"fold{f}_{name}_{p}"] for p in ("mean", "scale", "weight", "bias")),
                                              strength=lam))
        occupation_fold = {str(c): int(f) for c, f in zip(arr["occupations"].tolist(), arr["occupation_fold"].tolist())}
        return cls(heads["exposure"], heads["automation"], arr["key_fold"], occupation_fold)


# --------------------------------------------------------------------------- the bundle

def encoder_fingerprint(encoder) -> list:
    """The first values of the encoder's embedding of :data:`PROBE_TEXT`, rounded to 4 decimals."""
    vec = encoder.encode([PROBE_TEXT])[0]
    return [round(float(v), 4) for v in vec[:FINGERPRINT_VALUES]]


def available_heads() -> list:
    """Names of the heads shipped with the package (a ``NAME.json`` beside a ``NAME.npz``)."""
    root = shipped("heads")
    if not root.is_dir():
        return []
    return sorted(e.name[:-5] for e in root.iterdir() if e.name.endswith(".json"))


def _read_npz(label: str, folder: Path, record: Mapping[str, Any]) -> Dict[str, np.ndarray]:
    """The arrays of the ``.npz`` a manifest ``record`` names (``file``, ``sha256``), checked against its sha256."""
    try:
        data = (folder / record["file"]).read_bytes()
    except OSError as exc:
        raise HeadFileError(f"head {label!r}: cannot read its weights {record['file']!r}: {exc}") from None
    digest = _sha256(data)
    if digest != record["sha256"]:
        raise HeadFileError(f"head {label!r}: checksum mismatch for {record['file']}: sha256 {digest[:16]}..., "
                            f"manifest says {record['sha256'][:16]}...; the file is damaged or was "
                            "replaced, rebuild it with benchmarks/train_heads.py")
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_npz(arrays: Mapping[str, np.ndarray]) -> bytes:
    """An uncompressed ``.npz`` with fixed timestamps, so equal arrays give equal bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in sorted(arrays):
            arr = io.BytesIO()
            np.lib.format.write_array(arr, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, arr.getvalue())
    return buf.getvalue()


@dataclass
class Heads:
    """A trained exposure head and automation head, with the neighbour index they share.

    Load the shipped one with ``Heads.load()`` (or a ``.json`` manifest path); call
    :meth:`check` with the encoder and capability set before :meth:`predict`. ``folds``: the same heads
    refitted per fold of the labelled occupations (:class:`FoldHeads`), for out-of-fold scores of those
    occupations (:meth:`predict_out_of_fold`); ``None`` for a head saved without them.
    """

    exposure: LinearHead
    automation: LinearHead
    index: NeighbourIndex
    manifest: Dict[str, Any] = field(default_factory=dict)
    source: str = "<memory>"
    folds: Optional[FoldHeads] = None

    # ------------------------------------------------------------- checks
    def check(self, encoder, capabilities, fingerprint: Optional[Sequence[float]] = None) -> None:
        """Raise :class:`HeadMismatchError` unless the head belongs to this encoder and capability set.

        ``fingerprint`` saves an encode when the caller has it already.
        """
        enc = self.manifest.get("encoder", {})
        dim = getattr(encoder, "dim", None)
        given = f"{getattr(encoder, 'name', encoder)!r} (dim {dim})"
        want = f"{enc.get('name')!r} (dim {enc.get('dim')})"
        if dim != enc.get("dim"):
            raise HeadMismatchError(f"head {self.source!r} belongs to the encoder {want}, but the model uses "
                                    f"{given}; use that encoder, or calibrated=False for the zero-shot rule")
        fp = np.asarray(fingerprint if fingerprint is not None else encoder_fingerprint(encoder))
        ref = np.asarray(enc.get("fingerprint", []), dtype=np.float64)
        if fp.shape != ref.shape or not np.allclose(fp, ref, atol=_FINGERPRINT_TOL):
            raise HeadMismatchError(
                f"head {self.source!r} belongs to the encoder {want} with fingerprint {ref.tolist()}, but the "
                f"model's encoder {given} embeds the probe text as {np.round(fp, 4).tolist()}: a different encoder. "
                "Use that encoder, or calibrated=False for the zero-shot rule")
        cs = self.manifest.get("capabilities", {})
        if capabilities.checksum != cs.get("checksum"):
            raise HeadMismatchError(
                f"head {self.source!r} belongs to the capability set {cs.get('name')!r} v{cs.get('version')} "
                f"(checksum {str(cs.get('checksum'))[:12]}), but the model uses {capabilities.name!r} "
                f"v{capabilities.version} (checksum {capabilities.checksum[:12]}); use calibrated=False for the "
                "zero-shot rule with your own capability set")

    @property
    def checksum(self) -> str:
        """sha256 of the weights as :meth:`save` writes them (for a shipped head, the manifest's).

        Computed from the arrays (a few milliseconds), so a head trained or changed in memory has its own.
        """
        return _sha256(_write_npz(self._arrays()))

    @property
    def folds_checksum(self) -> Optional[str]:
        """sha256 of the fold heads as :meth:`save` writes them (``NAME.folds.npz``); ``None`` without them."""
        return None if self.folds is None else _sha256(_write_npz(self.folds.arrays()))

    @property
    def labelled_occupations(self) -> frozenset:
        """O*NET-SOC codes of the occupations whose task labels trained this head (from its manifest).

        This head's scores of them are in-sample: occupation tables flag them ``labelled`` and score them with
        the fold heads (:meth:`predict_out_of_fold`). Empty for a head whose
        manifest does not list them.
        """
        return frozenset(self.manifest.get("training", {}).get("occupation_codes", ()))

    # ------------------------------------------------------------- inference
    def predict_proba(self, emb: np.ndarray, cap_features: np.ndarray, device: Any = None
                      ) -> Tuple[np.ndarray, np.ndarray]:
        """Class probabilities of both heads: exposure ``(n, 3)`` and automation ``(n, 5)``, float64.

        One neighbour search serves both heads; rows go through in blocks of :data:`PREDICT_BLOCK`,
        so the scratch memory does not grow with ``n``. ``device``: the model's device; the neighbour search
        runs there when it is a GPU, on the native kernel otherwise.
        """
        return _predict_proba(self.exposure, self.automation, self.index, emb, cap_features, device)

    def predict(self, emb: np.ndarray, cap_features: np.ndarray, device: Any = None) -> Tuple[np.ndarray, np.ndarray]:
        """``(P(E0), P(E1), P(E2))`` per task (float64 ``(n, 3)``) and the automation score (``(n,)`` in [0, 1]);
        ``device``: as for :meth:`predict_proba`."""
        if emb.shape[0] == 0:
            return np.zeros((0, 3)), np.zeros(0)
        probs, pa = self.predict_proba(emb, cap_features, device)
        return probs, pa @ _LEVELS

    def predict_out_of_fold(self, emb: np.ndarray, cap_features: np.ndarray, occupations: Sequence[Optional[str]],
                            device: Any = None, known: Optional[Tuple[np.ndarray, np.ndarray]] = None
                            ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """As :meth:`predict`, but a task of a labelled occupation (``occupations``: the O*NET-SOC code of
        each row) is scored by the heads of its occupation's fold, fitted without its labels.

        Returns the probabilities, the automation score and ``held_out`` (``(n,)`` bool: the rows scored out
        of fold; the others, of occupations no label trained, get :meth:`predict`'s values, which are out of
        sample already). ``known``: :meth:`predict`'s values for these rows when the caller has them, so that
        they are not computed again. Raises ``ValueError`` for a head saved without fold heads.
        """
        if self.folds is None:
            raise ValueError(f"head {self.source!r} has no fold heads for out-of-fold scores; rebuild it with "
                             "benchmarks/train_heads.py")
        if len(occupations) != emb.shape[0]:
            raise ValueError(f"got {emb.shape[0]} rows of embeddings but {len(occupations)} occupations")
        fold = self.folds.fold_of(occupations)
        probs, auto = np.zeros((emb.shape[0], len(EXPOSURE_CLASSES))), np.zeros(emb.shape[0])
        for f in range(-1, self.folds.n_folds):
            rows = np.flatnonzero(fold == f)
            if rows.size == 0:
                continue
            if f < 0:
                probs[rows], auto[rows] = ((known[0][rows], known[1][rows]) if known is not None
                                           else self.predict(emb[rows], cap_features[rows], device))
            else:
                probs[rows], pa = _predict_proba(self.folds.exposure[f], self.folds.automation[f],
                                                 self.folds.index(self.index, f), emb[rows], cap_features[rows],
                                                 device)
                auto[rows] = pa @ _LEVELS
        return probs, auto, fold >= 0

    # ------------------------------------------------------------- files
    def _arrays(self) -> Dict[str, np.ndarray]:
        out = {"index_mean": self.index.mean, "index_components": self.index.components,
               "index_keys": self.index.keys}
        for name, labels in self.index.labels.items():
            out[f"index_labels_{name}"] = labels
        for name, head in (("exposure", self.exposure), ("automation", self.automation)):
            for part in ("mean", "scale", "weight", "bias"):
                out[f"{name}_{part}"] = getattr(head, part)
        return out

    def save(self, folder: Union[str, os.PathLike], name: str = "default") -> Path:
        """Write ``NAME.npz`` and ``NAME.json`` (manifest with the weights' sha256); returns the manifest path."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        data = _write_npz(self._arrays())
        (folder / f"{name}.npz").write_bytes(data)
        manifest = dict(self.manifest)
        manifest["format"] = HEADS_FORMAT
        manifest["weights"] = {"file": f"{name}.npz", "sha256": _sha256(data), "bytes": len(data)}
        manifest["heads"] = {
            "exposure": {"classes": list(EXPOSURE_CLASSES), "strength": self.exposure.strength,
                         "features": int(self.exposure.weight.shape[0])},
            "automation": {"classes": list(AUTOMATION_CLASSES), "strength": self.automation.strength,
                           "features": int(self.automation.weight.shape[0]),
                           "trained_on": "GPT-4 ratings (gpt4_automation), not human ratings"},
        }
        manifest["neighbours"] = {"labelled_tasks": int(self.index.keys.shape[0]), "dim": int(self.index.keys.shape[1]),
                                  "k": list(KNN_K), "temperature": KNN_TEMPERATURE}
        if self.folds is not None:
            folds = _write_npz(self.folds.arrays())
            (folder / f"{name}.folds.npz").write_bytes(folds)
            manifest["out_of_fold"] = dict(manifest.get("out_of_fold", {}), file=f"{name}.folds.npz",
                                           sha256=_sha256(folds), bytes=len(folds), folds=self.folds.n_folds,
                                           strengths=[{"exposure": e.strength, "automation": a.strength}
                                                      for e, a in zip(self.folds.exposure, self.folds.automation)])
        else:
            manifest.pop("out_of_fold", None)
        path = folder / f"{name}.json"
        path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, source: Union[str, os.PathLike] = "default") -> "Heads":
        """Load a shipped head by name or a head by the path of its ``.json`` (or ``.npz``).

        Raises :class:`HeadFileError` when the weights are missing or do not match the manifest's checksum.
        """
        if isinstance(source, str) and os.sep not in source and "/" not in source and not source.endswith(
                (".json", ".npz")):
            names = available_heads()
            if source not in names:
                raise HeadFileError(f"no shipped head named {source!r}; shipped heads: {', '.join(names) or 'none'}. "
                                 "To load a file, pass the path of its .json manifest")
            root = shipped("heads")
            manifest_text = (root / f"{source}.json").read_text(encoding="utf-8")
            folder, label = root, source
        else:
            path = Path(source)
            path = path.with_suffix(".json") if path.suffix == ".npz" else path
            if not path.is_file():
                raise HeadFileError(f"head manifest {str(path)!r} does not exist")
            manifest_text, folder, label = path.read_text(encoding="utf-8"), path.parent, str(path)
        try:
            manifest = json.loads(manifest_text)
            weights = manifest["weights"]
        except (ValueError, KeyError) as exc:
            raise HeadFileError(f"head {label!r}: unreadable manifest ({exc})") from None
        arr = _read_npz(label, folder, weights)
        labels = {k[len("index_labels_"):]: v for k, v in arr.items() if k.startswith("index_labels_")}
        index = NeighbourIndex(arr["index_mean"], arr["index_components"], arr["index_keys"], labels,
                               {"exposure": len(EXPOSURE_CLASSES), "automation": len(AUTOMATION_CLASSES)})
        heads = {}
        for name in ("exposure", "automation"):
            heads[name] = LinearHead(*(arr[f"{name}_{p}"] for p in ("mean", "scale", "weight", "bias")),
                                     strength=float(manifest.get("heads", {}).get(name, {}).get("strength", 0.0)))
        folds = None
        if "out_of_fold" in manifest:
            oof = manifest["out_of_fold"]
            try:
                folds = FoldHeads.from_arrays(_read_npz(label, folder, oof), int(oof["folds"]), oof.get("strengths", ()))
            except (KeyError, ValueError) as exc:
                raise HeadFileError(f"head {label!r}: unreadable fold heads ({exc})") from None
        return cls(heads["exposure"], heads["automation"], index, manifest, label, folds)

    def __repr__(self) -> str:
        enc, cs = self.manifest.get("encoder", {}), self.manifest.get("capabilities", {})
        return (f"Heads(source={self.source!r}, encoder={enc.get('name')!r}, capabilities="
                f"'{cs.get('name')}' v{cs.get('version')}, labelled_tasks={self.index.keys.shape[0]})")
