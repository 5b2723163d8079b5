"""Honest evaluation against the exposure labels of Eloundou et al. (2023): cross-validation of the heads.

Everything is grouped by occupation: the folds never split an occupation, the
heads are retrained inside each fold on the training occupations only (the L2
strength too, by an inner grouped CV), and the 95% intervals resample
occupations. Three predictors are scored on the same folds:

- ``calibrated``: the heads of :mod:`exposure.heads`, out of fold.
- ``zero-shot``: the zero-shot rule of :mod:`exposure.scoring` (fitted to nothing).
- ``gpt-4``: GPT-4's labels from the same file, as a reference.

Metrics (task level over E1|E2 "exposed" vs E0; occupation level over ``beta``):

- ``auc``: ROC AUC of P(E1) + P(E2) = 1 - P(E0) (calibrated), the score (zero-shot),
  and the ordinal GPT-4 label E0 < E2 < E1 (0, 0.5, 1: its beta weight).
- ``tpr_at_fpr25``: the share of exposed tasks caught at 25% false positives, on the
  ROC curve with straight segments between its points (for GPT-4's three-level score
  that interpolates between its operating points).
- ``accuracy``: 3-class accuracy (argmax of the probabilities; GPT-4's labels).
- ``spearman``: occupation Spearman of the weighted mean task beta (Core tasks 2,
  others 1) with ``human_rating_beta``; for GPT-4 the beta computed from its labels.

The metric functions are numpy only (:mod:`exposure.stats`); :func:`reproduce_eloundou`
runs the whole thing and writes the table and plots (``exposure reproduce eloundou``).
Training code: it imports the runtime (the encoder and zero-shot rule of
:mod:`exposure.scoring`, the heads of :mod:`exposure.heads`), never the reverse.
Formerly ``exposure.evaluation``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import platform
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np

from .._assets import write_atomic
from ..occupations.catalogue import SOC_MAJOR_GROUPS, load_tasks
from ..rubric import AUTOMATION_CLASSES, EXPOSURE_CLASSES
from ..stats import bootstrap_many, grouped_folds, log_loss, reliability, roc_auc, spearman, tpr_at_fpr
from .heads import STRENGTHS, train_heads

logger = logging.getLogger(__name__)

__all__ = [
    "cross_validate_heads",
    "reproduce_eloundou",
    "format_table",
    "load_labelled_tasks",
    "embed_tasks",
]

_BETA = np.array([0.0, 1.0, 0.5])  # E0, E1, E2 -> their weight in beta


# --------------------------------------------------------------------------- cross-validation

def cross_validate_heads(emb: np.ndarray, cap_features: np.ndarray, exposure: np.ndarray, automation: np.ndarray,
                         groups: Sequence, n_folds: int = 5, strengths: Optional[Sequence[float]] = None,
                         progress: Optional[Callable[[str], None]] = None) -> Dict[str, object]:
    """Out-of-fold predictions of heads retrained on the training occupations of each fold.

    Returns ``probabilities`` ``(n, 3)``, ``automation_probabilities`` ``(n, 5)``,
    ``automation`` ``(n,)`` (expected level / 4), ``fold`` ``(n,)`` and the
    ``strengths`` chosen in each fold by the inner grouped CV.
    """
    groups = np.asarray(groups).astype(str)
    n = len(groups)
    probs, auto_p = np.zeros((n, 3)), np.zeros((n, 5))
    fold = np.zeros(n, dtype=np.int64)
    chosen = []
    for f, (tr, te) in enumerate(grouped_folds(groups, n_folds)):
        t0 = time.perf_counter()
        heads = train_heads(emb[tr], cap_features[tr], exposure[tr], automation[tr], groups[tr],
                            strengths=STRENGTHS if strengths is None else strengths)
        probs[te], auto_p[te] = heads.predict_proba(emb[te], cap_features[te])
        fold[te] = f
        chosen.append({k: v["strength"] for k, v in heads.manifest["selection"].items()})
        if progress:
            progress(f"fold {f + 1}/{n_folds}: trained on {len(tr):,} tasks, tested on {len(te):,} "
                     f"({time.perf_counter() - t0:.0f} s; L2 strengths {chosen[-1]})")
    return {"probabilities": probs, "automation_probabilities": auto_p, "automation": auto_p @ (np.arange(5) / 4),
            "fold": fold, "strengths": chosen}


# --------------------------------------------------------------------------- the Eloundou reproduction

def _read_inputs(labels_path: Path, ratings_path: Path, tasks_path: Optional[Path]):
    import pyarrow as pa
    import pyarrow.csv as pacsv

    def read(path: Path, delimiter: str) -> pa.Table:
        if not Path(path).is_file():
            raise ValueError(f"{path}: file not found")
        opts = pacsv.ConvertOptions(column_types={"soc_code": pa.string(), "task_id": pa.int64()})
        return pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char=False
                                                                      if delimiter == "\t" else '"'),
                              convert_options=opts)

    def delim(path: Path) -> str:
        return "\t" if str(path).lower().endswith((".tsv", ".txt")) else ","

    labels = read(labels_path, delim(labels_path))
    need = {"soc_code", "task_id", "human_exposure", "gpt4_exposure", "gpt4_automation"}
    if missing := need - set(labels.column_names):
        raise ValueError(f"{labels_path}: missing columns {sorted(missing)}; expected {sorted(need)}")
    ratings = read(ratings_path, delim(ratings_path))
    if missing := {"soc_code", "human_rating_beta"} - set(ratings.column_names):
        raise ValueError(f"{ratings_path}: missing columns {sorted(missing)}")
    if tasks_path is not None:
        catalogue = read(tasks_path, delim(tasks_path))
        source = str(tasks_path)
    else:
        catalogue, source = load_tasks("27"), "O*NET 27 (exposure.occupations.load_tasks)"
    if missing := {"soc_code", "task_id", "task", "weight"} - set(catalogue.column_names):
        raise ValueError(f"{source}: missing columns {sorted(missing)}")
    return labels, ratings, catalogue, source


def load_labelled_tasks(labels: Union[str, Path], ratings: Union[str, Path],
                        tasks: Optional[Union[str, Path]] = None) -> dict:
    """The labelled tasks of Eloundou et al. joined to their statements, weights and occupation ratings.

    ``labels``: TSV/CSV with soc_code, task_id, human_exposure, gpt4_exposure, gpt4_automation;
    ``ratings``: CSV/TSV with soc_code, human_rating_beta; ``tasks``: the O*NET catalogue (default:
    the shipped O*NET 27). Returns column arrays (``text``, ``soc``, ``human``, ...) keyed by name.
    """
    return _join(*_read_inputs(Path(labels), Path(ratings), Path(tasks) if tasks else None))


def _join(labels, ratings, catalogue, source: str) -> dict:
    lab = labels.to_pydict()
    cat = catalogue.select(["soc_code", "task_id", "task", "weight"]).to_pydict()
    lookup = {(s, int(t)): (txt, w)
              for s, t, txt, w in zip(cat["soc_code"], cat["task_id"], cat["task"], cat["weight"])}
    keys = list(zip(lab["soc_code"], (int(t) for t in lab["task_id"])))
    missing = [k for k in keys if k not in lookup]
    if missing:
        raise ValueError(f"{len(missing)} labelled tasks are not in {source}, e.g. {missing[:3]}; pass the "
                         "catalogue they come from with --tasks")
    rat = ratings.to_pydict()
    beta = dict(zip(rat["soc_code"], rat["human_rating_beta"]))
    socs = sorted(set(lab["soc_code"]))
    if unrated := [s for s in socs if s not in beta or beta[s] is None]:
        raise ValueError(f"{len(unrated)} labelled occupations have no human_rating_beta, e.g. {unrated[:3]}")

    def classes(values, names, column):
        pos = {c: i for i, c in enumerate(names)}
        if bad := sorted({v for v in values if v not in pos}):
            raise ValueError(f"column {column!r} has unknown labels {bad[:5]}; expected {', '.join(names)}")
        return np.array([pos[v] for v in values], dtype=np.int64)


    return {
        "soc": np.array(lab["soc_code"], dtype=str),
        "text": [lookup[k][0] for k in keys],
        "weight": np.array([lookup[k][1] for k in keys], dtype=np.float64),
        "human": classes(lab["human_exposure"], EXPOSURE_CLASSES, "human_exposure"),
        "gpt4": classes(lab["gpt4_exposure"], EXPOSURE_CLASSES, "gpt4_exposure"),
        "automation": classes(lab["gpt4_automation"], AUTOMATION_CLASSES, "gpt4_automation"),
        "beta": beta,
        "occupations": socs,
        # Occupations of the catalogue without labels: the head's scores for them are predictions.
        "unlabelled": sorted(set(map(str, cat["soc_code"])) - set(socs)),
    }


def embed_tasks(model, texts: List[str], cache: Optional[Path], log: Callable[[str], None],
                show_progress: bool = True) -> np.ndarray:
    """The embeddings of ``texts`` by ``model.encoder``, reused from (or saved to) the ``.npz`` file ``cache``
    when it holds the same texts and encoder."""
    digest = hashlib.sha256(("\n".join(texts) + "|" + repr(model.encoder)).encode()).hexdigest()
    if cache is not None and Path(cache).is_file():
        with np.load(cache, allow_pickle=False) as z:
            if str(z["digest"]) == digest:
                log(f"embeddings: {cache} (cached)")
                return z["embeddings"]
        log(f"embeddings: {cache} is for other texts or another encoder; encoding again")
    t0 = time.perf_counter()
    emb = model.encoder.encode(texts, show_progress=show_progress)
    log(f"encoded {len(texts):,} tasks in {time.perf_counter() - t0:.0f} s")
    if cache is not None:
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        write_atomic(cache, lambda f: np.savez(f, embeddings=emb, digest=np.array(digest)))
    return emb


def _metrics(d: dict, preds: dict, auto: np.ndarray, n_boot: int, seed: int) -> Dict[str, dict]:
    """Point estimates and paired bootstrap intervals of every metric of every predictor."""
    exposed = d["human"] > 0
    soc, w = d["soc"], d["weight"]
    uniq, inv = np.unique(soc, return_inverse=True)
    inv = inv.reshape(-1)
    human_beta = np.array([d["beta"][s] for s in uniq], dtype=np.float64)
    wsum = np.bincount(inv, weights=w, minlength=len(uniq))
    occ_pred = {k: np.bincount(inv, weights=w * p["beta"], minlength=len(uniq)) / wsum for k, p in preds.items()}
    level = d["automation"] / 4.0
    occ_auto = np.bincount(inv, weights=w * auto, minlength=len(uniq)) / wsum
    occ_level = np.bincount(inv, weights=w * level, minlength=len(uniq)) / wsum
    auto_class = np.rint(auto * 4)

    def occ_rows(rows):
        return np.unique(inv[rows], return_counts=True)

    stats: Dict[str, Callable[[np.ndarray], float]] = {}
    for k, p in preds.items():
        stats[f"{k}/auc"] = lambda r, p=p: roc_auc(exposed[r], p["score"][r])
        stats[f"{k}/tpr_at_fpr25"] = lambda r, p=p: tpr_at_fpr(exposed[r], p["score"][r])
        if p.get("label") is not None:
            stats[f"{k}/accuracy"] = lambda r, p=p: float(np.mean(p["label"][r] == d["human"][r]))

        def rho(r, k=k):
            occ, cnt = occ_rows(r)
            occ = np.repeat(occ, cnt)
            return spearman(occ_pred[k][occ], human_beta[occ])

        stats[f"{k}/spearman"] = rho
    stats["automation/accuracy"] = lambda r: float(np.mean(auto_class[r] == d["automation"][r]))
    stats["automation/task_spearman"] = lambda r: spearman(auto[r], level[r])

    def auto_rho(r):
        occ, cnt = occ_rows(r)
        occ = np.repeat(occ, cnt)
        return spearman(occ_auto[occ], occ_level[occ])

    stats["automation/occupation_spearman"] = auto_rho
    everything = np.arange(len(soc))
    point = {k: fn(everything) for k, fn in stats.items()}
    ci = bootstrap_many(stats, soc, n_boot, seed) if n_boot else {k: (float("nan"),) * 2 for k in stats}
    out: Dict[str, dict] = {}
    for k, v in point.items():
        row, metric = k.split("/")
        out.setdefault(row, {})[metric] = {"value": v, "ci95": list(ci[k])}
    out["_occupations"] = {"soc_code": uniq.tolist(), "human_beta": human_beta.tolist(),
                           **{f"{k}_beta": v.tolist() for k, v in occ_pred.items()}}
    return out


_ROWS = (("calibrated", "calibrated head (5-fold grouped CV)"), ("zero-shot", "zero-shot rule (fitted to nothing)"),
         ("gpt-4", "GPT-4 labels (reference)"))
_COLS = (("auc", "task ROC AUC"), ("tpr_at_fpr25", "TPR at 25% FPR"), ("accuracy", "3-class accuracy"),
         ("spearman", "occupation Spearman"))


def _cell(m: Optional[dict]) -> str:
    if m is None:
        return "—"
    lo, hi = m["ci95"]
    return f"{m['value']:.3f} [{lo:.3f}, {hi:.3f}]" if np.isfinite(lo) else f"{m['value']:.3f}"


def format_table(metrics: Dict[str, dict]) -> str:
    """The metrics table in markdown (value [95% interval])."""
    lines = ["| predictor | " + " | ".join(c for _, c in _COLS) + " |",
             "| --- | " + " | ".join("---:" for _ in _COLS) + " |"]
    for key, name in _ROWS:
        lines.append(f"| {name} | " + " | ".join(_cell(metrics[key].get(c)) for c, _ in _COLS) + " |")
    a = metrics["automation"]
    lines += ["", "| automation head (vs GPT-4's T0–T4, 5-fold grouped CV) | accuracy (rounded level) | "
              "task Spearman | occupation Spearman |", "| --- | ---: | ---: | ---: |",
              f"| calibrated head | {_cell(a['accuracy'])} | {_cell(a['task_spearman'])} | "
              f"{_cell(a['occupation_spearman'])} |"]
    return "\n".join(lines)


def _plots(out_dir: Path, metrics: dict, probs: np.ndarray, exposed: np.ndarray, human: np.ndarray) -> List[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    occ = metrics["_occupations"]
    codes = [c[:2] for c in occ["soc_code"]]
    majors = sorted(set(codes))
    cmap = list(plt.get_cmap("tab20").colors) + list(plt.get_cmap("tab20b").colors)
    paths = []

    fig, ax = plt.subplots(figsize=(10, 6.5))
    x, y = np.array(occ["human_beta"]), np.array(occ["calibrated_beta"])
    for i, g in enumerate(majors):
        sel = np.array([c == g for c in codes])
        ax.scatter(x[sel], y[sel], s=14, color=cmap[i % len(cmap)], alpha=0.85,
                   label=f"{g} {SOC_MAJOR_GROUPS.get(g, '')}".strip())
    ax.plot([0, 1], [0, 1], color="0.5", lw=0.8, ls="--")
    rho = metrics["calibrated"]["spearman"]
    ax.set(xlabel="human beta (Eloundou et al. 2023)", ylabel="predicted beta (calibrated head, out of fold)",
           title=f"Occupations: predicted vs human beta (Spearman {rho['value']:.3f})", xlim=(-0.02, 1.02),
           ylim=(-0.02, 1.02))
    ax.legend(fontsize=6.5, loc="center left", bbox_to_anchor=(1.01, 0.5), title="SOC major group",
              title_fontsize=7, frameon=False)
    fig.tight_layout()
    paths.append(out_dir / "occupations_beta.png")
    fig.savefig(paths[-1], dpi=130)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 6))
    ax.plot([0, 1], [0, 1], color="0.5", lw=0.8, ls="--", label="perfect calibration")
    curves = [("P(E1 or E2)", 1 - probs[:, 0], exposed)] + [
        (f"P({c})", probs[:, j], human == j) for j, c in enumerate(("E0", "E1", "E2"))]
    for name, p, obs in curves:
        r = reliability(p, obs)
        ax.plot(r["predicted"], r["observed"], marker="o", ms=3.5, label=f"{name}, ECE {r['ece']:.3f}")
    ax.set(xlabel="predicted probability (out of fold)", ylabel="observed frequency (human labels)",
           title="Reliability of the calibrated head", xlim=(0, 1), ylim=(0, 1))
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    paths.append(out_dir / "reliability.png")
    fig.savefig(paths[-1], dpi=130)
    plt.close(fig)
    return paths


def _machine(device: str) -> str:
    """CPU model and core count (and the GPU when one is used), for the report."""
    import os

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            info = dict(line.split(":", 1) for line in f.read().split("\n\n")[0].splitlines() if ":" in line)
        info = {k.strip(): v.strip() for k, v in info.items()}
        cpu = info.get("model name", cpu)
        if "AMD" in cpu and info.get("cpu family") == "25":  # family 19h: Zen 3, or Zen 4 with AVX-512
            cpu += " (Zen 4)" if "avx512f" in info.get("flags", "").split() else " (Zen 3)"
    except OSError:
        pass
    where = f"{cpu}, {os.cpu_count()} cores"
    try:
        import torch

        if device != "cpu" and torch.cuda.is_available():
            where += f", {torch.cuda.get_device_name(0)}"
        else:
            where += ", CPU only"
    except ImportError:
        pass
    return f"{where}; {platform.system()}, Python {sys.version.split()[0]}"


def reproduce_eloundou(labels: Union[str, Path], ratings: Union[str, Path], tasks: Optional[Union[str, Path]] = None,
                       output: Union[str, Path] = "eloundou", device: str = "auto", folds: int = 5,
                       n_boot: int = 1000, seed: int = 0, embeddings_cache: Optional[Union[str, Path]] = None,
                       strengths: Optional[Sequence[float]] = None, command: Optional[str] = None,
                       log: Callable[[str], None] = logger.info, show_progress: bool = True) -> Dict[str, dict]:
    """Cross-validate the heads on a label file of the Eloundou et al. format and write the report.

    Writes ``metrics.md``, ``metrics.json``, ``occupations_beta.png`` and
    ``reliability.png`` (with matplotlib) to ``output``; returns the report (its ``table`` is
    the printable table of metrics). Steps are reported through ``log``; ``show_progress``
    shows a progress bar while the tasks are encoded.

    >>> report = reproduce_eloundou("task_labels.tsv", "ratings.csv", output="eloundou")  # doctest: +SKIP
    >>> print(report["table"])                                                          # doctest: +SKIP
    """
    from ..scoring import ExposureModel  # the encoder: torch

    t_start = time.perf_counter()
    out_dir = Path(output)
    plots = importlib.util.find_spec("matplotlib") is not None
    if not plots:
        log("matplotlib is not installed (pip install 'exposure[plots]'): writing the tables without plots")
    d = load_labelled_tasks(labels, ratings, tasks)
    log(f"{len(d['soc']):,} labelled tasks of {len(d['occupations'])} occupations")
    model = ExposureModel(device=device, calibrated=False)
    emb = embed_tasks(model, d["text"], Path(embeddings_cache) if embeddings_cache else None, log, show_progress)
    zero = model.score_embeddings(emb)
    caps = model.capabilities
    capf = model.capability_features(emb)
    t0 = time.perf_counter()
    cv = cross_validate_heads(emb, capf, d["human"], d["automation"], d["soc"], folds, strengths, progress=log)
    train_s = time.perf_counter() - t0
    probs = cv["probabilities"]
    preds = {
        "calibrated": {"score": 1 - probs[:, 0], "beta": probs @ _BETA, "label": probs.argmax(axis=1)},
        "zero-shot": {"score": zero.exposure.astype(np.float64), "beta": zero.exposure.astype(np.float64)},
        "gpt-4": {"score": _BETA[d["gpt4"]], "beta": _BETA[d["gpt4"]], "label": d["gpt4"]},
    }
    t0 = time.perf_counter()
    metrics = _metrics(d, preds, cv["automation"], n_boot, seed)
    rel = reliability(1 - probs[:, 0], d["human"] > 0)
    gpt_exposed = d["gpt4"] > 0
    extra = {
        "gpt4_operating_point": {"fpr": float(np.mean(gpt_exposed[d["human"] == 0])),
                                 "tpr": float(np.mean(gpt_exposed[d["human"] > 0]))},
        "calibrated_tpr_at_gpt4_fpr": tpr_at_fpr(d["human"] > 0, preds["calibrated"]["score"],
                                                 float(np.mean(gpt_exposed[d["human"] == 0]))),
        "calibrated_headline_auc": roc_auc(d["human"] > 0, preds["calibrated"]["beta"]),
        "ece_exposed": rel["ece"],
        "log_loss": log_loss(probs, d["human"]),
        "occupation_mae_beta": float(np.mean(np.abs(np.array(metrics["_occupations"]["calibrated_beta"])
                                                    - np.array(metrics["_occupations"]["human_beta"])))),
        "majority_automation_accuracy": float(np.bincount(d["automation"]).max() / len(d["automation"])),
        "strengths_per_fold": cv["strengths"],
    }
    log(f"bootstrap ({n_boot} resamples of occupations): {time.perf_counter() - t0:.0f} s")
    table = format_table(metrics)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = _plots(out_dir, metrics, probs, d["human"] > 0, d["human"]) if plots else []
    import torch

    from .. import __version__

    machine = _machine(device)
    report = {
        "command": command, "labels": str(labels), "ratings": str(ratings), "tasks": str(tasks) if tasks else None,
        "n_tasks": int(len(d["soc"])), "n_occupations": len(d["occupations"]),
        "n_unlabelled_occupations": len(d["unlabelled"]), "folds": folds,
        "bootstrap": n_boot, "seed": seed, "encoder": repr(model.encoder),
        "capabilities": {"name": caps.name, "version": caps.version, "checksum": caps.checksum},
        "exposure_version": __version__, "torch": torch.__version__, "machine": machine,
        "seconds": {"total": round(time.perf_counter() - t_start, 1), "cross_validation": round(train_s, 1)},
        "metrics": {k: v for k, v in metrics.items() if not k.startswith("_")}, "extra": extra,
        "plots": [p.name for p in written],
    }
    (out_dir / "metrics.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    md = [
        "# Calibrated exposure head vs human ratings (Eloundou et al. 2023 labels)", "",
        f"Command: `{command}`" if command else "", "",
        f"{len(d['soc']):,} labelled tasks of {len(d['occupations'])} occupations; {folds}-fold cross-validation "
        "grouped by occupation: the heads (and their L2 strength, by an inner 3-fold grouped CV) are retrained "
        "on the training occupations of each fold and predict the held-out ones. 95% intervals: "
        f"{n_boot} bootstrap resamples of occupations (seed {seed}).", "",
        table, "",
        f"Unlabelled occupations: {len(d['unlabelled'])} occupations of the task catalogue have no labels. A "
        f"head trained on all {len(d['occupations'])} labelled occupations (the shipped one is) scores them out "
        "of sample, as each fold above scores its held-out occupations: these cross-validated figures are the "
        "estimate of its accuracy on them. Its own scores for the labelled occupations are in-sample and agree with "
        "the labels far better; `exposure occupations` flags them in its `labelled` column, scores them with "
        "heads fitted without their fold's labels (`exposure`; the head's own score is `exposure_in_sample`, "
        "benchmarks/results/out_of_fold.md) and `exposure compare` reports both groups apart.", "",
        "- Task ROC AUC and TPR at 25% FPR: exposed (E1 or E2) vs E0. Calibrated: P(E1) + P(E2); zero-shot: its "
        "score; GPT-4: its label as the ordinal score E0 < E2 < E1 (0, 0.5, 1), the ROC curve interpolated "
        "linearly between its operating points. GPT-4's labels (E1 or E2) flag "
        f"{extra['gpt4_operating_point']['tpr']:.3f} of the human-exposed tasks at a false positive rate of "
        f"{extra['gpt4_operating_point']['fpr']:.3f}; the calibrated head at that rate: "
        f"{extra['calibrated_tpr_at_gpt4_fpr']:.3f}.",
        "- 3-class accuracy: argmax of P(E0), P(E1), P(E2) vs the human label; GPT-4: its label. The zero-shot "
        "rule gives no classes.",
        "- Occupation Spearman: weighted mean task beta (P(E1) + 0.5 P(E2); Core tasks weight 2, others 1) vs "
        "`human_rating_beta`; zero-shot: the weighted mean score; GPT-4: beta computed from its labels.",
        f"- Calibration: ECE of P(E1 or E2) {extra['ece_exposed']:.3f}; log loss {extra['log_loss']:.3f}; "
        f"mean absolute error of occupation beta {extra['occupation_mae_beta']:.3f}. AUC of the headline "
        f"P(E1) + 0.5 P(E2) instead of P(E1) + P(E2): {extra['calibrated_headline_auc']:.3f}.",
        "- Automation head: trained on GPT-4's T0–T4 ratings (no human ones exist); accuracy of the rounded "
        f"expected level (majority class: {extra['majority_automation_accuracy']:.3f}), Spearman of the expected "
        "level with GPT-4's level per task and per occupation (weighted means).",
        f"- L2 strengths chosen per fold: {cv['strengths']}.", "",
        f"Machine: {machine}; encoder {model.encoder!r}; capability set '{caps.name}' v{caps.version}. "
        f"Total {report['seconds']['total']:.0f} s, of which cross-validation {train_s:.0f} s.", "",
    ]
    if written:
        md += ["![predicted vs human beta](occupations_beta.png)", "", "![reliability](reliability.png)", ""]
    md += ["Data: Eloundou, Manning, Mishkin, Rock (2023), \"GPTs are GPTs\" (MIT licence); O*NET 27 task "
           "statements by USDOL/ETA (CC BY 4.0)."]
    (out_dir / "metrics.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    log(f"wrote {out_dir / 'metrics.md'}, metrics.json" + "".join(f", {p.name}" for p in written))
    return {**report, "table": table}
