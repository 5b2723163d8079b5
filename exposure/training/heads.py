"""Training the calibrated heads of :mod:`exposure.heads`: softmax regression and its L2 strength.

The heads themselves (features, :class:`~exposure.heads.LinearHead`,
:class:`~exposure.heads.Heads` load/save/check/predict) are runtime code in
:mod:`exposure.heads`, numpy only; this module fits them. Training uses torch
(full-batch L-BFGS in float64 on one thread, so a rebuild reproduces the files
byte for byte), imported only inside :func:`fit_softmax`.

While training, the neighbour features of a task never use tasks of its own
occupation, so the readout learns how much to trust neighbours from other
occupations; the L2 strength is chosen by grouped cross-validation on the
training occupations.

:func:`train_fold_heads` refits both heads once per fold of the labelled occupations, each without its
fold's labels, for out-of-fold scores of the labelled occupations (:class:`~exposure.heads.FoldHeads`).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..heads import FoldHeads, Heads, LinearHead, NeighbourIndex, head_features
from ..rubric import AUTOMATION_CLASSES, EXPOSURE_CLASSES
from ..stats import grouped_folds, log_loss

__all__ = ["STRENGTHS", "fit_softmax", "select_strength", "train_heads", "train_fold_heads"]

#: L2 strengths tried by the inner grouped cross-validation (per-task mean loss + lam/2 |W|^2).
STRENGTHS = (0.01, 0.03, 0.1, 0.3)


def fit_softmax(x: np.ndarray, y: np.ndarray, n_classes: int, strength: float) -> LinearHead:
    """Multinomial logistic regression, full-batch L-BFGS in float64 on one thread.

    Minimises mean cross-entropy + ``strength/2 * |W|^2`` over standardised
    features (the bias is not penalised). Deterministic: same inputs, same bits.
    """
    import torch

    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        X = torch.from_numpy((x - mean) / scale)
        Y = torch.from_numpy(np.asarray(y, dtype=np.int64))
        W = torch.zeros(x.shape[1], n_classes, dtype=torch.float64, requires_grad=True)
        b = torch.zeros(n_classes, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([W, b], lr=1, max_iter=500, history_size=20, tolerance_grad=1e-7,
                                tolerance_change=1e-10, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(X @ W + b, Y) + 0.5 * strength * (W * W).sum()
            loss.backward()
            return loss

        opt.step(closure)
    finally:
        torch.set_num_threads(threads)
    return LinearHead(mean, scale, W.detach().numpy().copy(), b.detach().numpy().copy(), float(strength))


def select_strength(x: np.ndarray, y: np.ndarray, n_classes: int, groups: np.ndarray,
                    strengths: Sequence[float] = STRENGTHS, folds: int = 3) -> Tuple[float, Dict[float, float]]:
    """The L2 strength with the lowest grouped-CV log loss on these (training) rows.

    Returns the choice and the mean held-out log loss of every candidate.
    """
    if len(strengths) == 1:
        return float(strengths[0]), {}
    splits = grouped_folds(groups, folds)
    losses = {}
    for lam in strengths:
        losses[float(lam)] = float(np.mean([
            log_loss(fit_softmax(x[tr], y[tr], n_classes, lam).predict_proba(x[te]), y[te])
            for tr, te in splits]))
    return min(losses, key=losses.get), losses


def train_heads(emb: np.ndarray, cap_features: np.ndarray, exposure: np.ndarray, automation: np.ndarray,
                groups: np.ndarray, strengths: Sequence[float] = STRENGTHS, inner_folds: int = 3,
                manifest: Optional[Mapping[str, Any]] = None) -> Heads:
    """Train both heads on labelled tasks.

    Args:
        emb: ``(n, d)`` task embeddings; cap_features: ``(n, f)`` from
            :func:`exposure.heads.capability_features`.
        exposure: ``(n,)`` class index 0/1/2 for E0/E1/E2 (human labels).
        automation: ``(n,)`` class index 0..4 for T0..T4 (GPT-4 labels).
        groups: ``(n,)`` occupation of each task: neighbour features leave out a task's own
            occupation, and the L2 strength is chosen by grouped CV over them.
        strengths: candidate L2 strengths (one value: no inner CV).
    """
    groups = np.asarray(groups).astype(str)
    exposure, automation = np.asarray(exposure, dtype=np.int64), np.asarray(automation, dtype=np.int64)
    index = NeighbourIndex.fit(emb, {"exposure": exposure, "automation": automation},
                               {"exposure": len(EXPOSURE_CLASSES), "automation": len(AUTOMATION_CLASSES)})
    fitted = {}
    selection = {}
    xs = head_features(emb, cap_features, index, ("exposure", "automation"), groups, groups)
    for (name, y, c), x in zip((("exposure", exposure, len(EXPOSURE_CLASSES)),
                                ("automation", automation, len(AUTOMATION_CLASSES))), xs):
        lam, losses = select_strength(x, y, c, groups, strengths, inner_folds)
        fitted[name] = fit_softmax(x, y, c, lam)
        selection[name] = {"strength": lam, "inner_cv_log_loss": {str(k): round(v, 6) for k, v in losses.items()}}
    meta = dict(manifest or {})
    meta.setdefault("selection", selection)
    return Heads(fitted["exposure"], fitted["automation"], index, meta)


def train_fold_heads(emb: np.ndarray, cap_features: np.ndarray, exposure: np.ndarray, automation: np.ndarray,
                     groups: np.ndarray, index: NeighbourIndex, n_folds: int = 5,
                     strengths: Sequence[float] = STRENGTHS, inner_folds: int = 3,
                     progress: Optional[Callable[[str], None]] = None) -> FoldHeads:
    """Both heads refitted once per fold of the labelled occupations, each without its fold's labels.

    The rows are the labelled tasks of ``index`` (the shipped heads' neighbour index), in its order, with
    the arguments of :func:`train_heads`. The folds are :func:`exposure.stats.grouped_folds` of ``groups``
    (deterministic). For fold ``f`` the heads are fitted, and their L2 strength chosen by an inner grouped
    CV, on the other folds' tasks, whose neighbour features read neither their own occupation's tasks nor
    fold ``f``'s; at prediction, the tasks of fold ``f`` read the other folds' tasks only. The projection of
    the neighbour index is the shipped one (a PCA of the labelled tasks' embeddings: it reads no label).
    """
    groups = np.asarray(groups).astype(str)
    exposure, automation = np.asarray(exposure, dtype=np.int64), np.asarray(automation, dtype=np.int64)
    n = len(groups)
    if index.keys.shape[0] != n or not (np.array_equal(index.labels["exposure"], exposure)
                                        and np.array_equal(index.labels["automation"], automation)):
        raise ValueError("the rows must be the neighbour index's labelled tasks, in its order, with its labels")
    key_fold = np.zeros(n, dtype=np.int8)
    splits = grouped_folds(groups, n_folds)
    for f, (_, te) in enumerate(splits):
        key_fold[te] = f
    heads: Dict[str, list] = {"exposure": [], "automation": []}
    for f, (tr, te) in enumerate(splits):
        t0 = time.perf_counter()
        sub = index.subset(key_fold != f)
        xs = head_features(emb[tr], cap_features[tr], sub, ("exposure", "automation"), groups[tr], groups[tr])
        for (name, y, c), x in zip((("exposure", exposure, len(EXPOSURE_CLASSES)),
                                    ("automation", automation, len(AUTOMATION_CLASSES))), xs):
            lam, _ = select_strength(x, y[tr], c, groups[tr], strengths, inner_folds)
            heads[name].append(fit_softmax(x, y[tr], c, lam))
        if progress:
            progress(f"fold {f + 1}/{n_folds}: fitted on {len(tr):,} tasks, {len(te):,} held out "
                     f"({time.perf_counter() - t0:.0f} s; L2 strengths {heads['exposure'][-1].strength}, "
                     f"{heads['automation'][-1].strength})")
    occupation_fold = {str(g): int(f) for g, f in zip(groups, key_fold)}
    return FoldHeads(heads["exposure"], heads["automation"], key_fold, occupation_fold)
