"""Out-of-fold against in-sample scores of the labelled occupations: how well each agrees with the human labels.

    python benchmarks/eval_out_of_fold.py --data ../shared/data -o benchmarks/results/out_of_fold.md
        [--embeddings-cache FILE.npz] [--bootstrap 1000]

The shipped heads were fitted on the human labels of 715 occupations (Eloundou et al. 2023): for those
occupations their scores largely return the labels. Occupation tables score them with the fold heads instead
(``models/heads/default.folds.npz``: both heads refitted once per fold of the labelled occupations, each
without its fold's labels). This script scores every labelled task both ways and compares each with the human
labels: the occupation-level Spearman of beta against the human occupation ratings, the task-level ROC AUC
of "exposed" (1 - P(E0)) and the automation head's task Spearman against GPT-4's T0-T4 ratings, with 95 %
bootstrap intervals over occupations (paired). The out-of-fold rows are what the tables now report; the
in-sample rows are what they reported before (``exposure_in_sample``). Then the occupation tables' 90 %
interval (``exposure_low``, ``exposure_high``: :func:`exposure.occupations.exposure_intervals`) computed from
the out-of-fold probabilities: how often it holds the human rating, and how wide it is.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Optional

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import publish  # noqa: E402

from exposure import ExposureModel  # noqa: E402
from exposure.occupations import exposure_intervals  # noqa: E402
from exposure.occupations.tables import INTERVAL_LEVEL  # noqa: E402
from exposure.stats import bootstrap_many, roc_auc, spearman  # noqa: E402
from exposure.training.eloundou import embed_tasks, load_labelled_tasks  # noqa: E402

logger = logging.getLogger("eval_out_of_fold")
BETA = np.array([0.0, 1.0, 0.5])


def main(argv: Optional[list] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"), help="folder with the labelled data")
    ap.add_argument("--embeddings-cache", type=Path, help="reuse/save the task embeddings here (.npz)")
    ap.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples of occupations (default 1000)")
    ap.add_argument("--no-catalogue", action="store_true",
                    help="skip scoring the O*NET 27 catalogue for the classes of `potential` (about a minute)")
    ap.add_argument("-o", "--output", type=Path, help="write the Markdown report here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    d = load_labelled_tasks(args.data / "task_labels_train.tsv", args.data / "occupation_ratings_train.csv",
                            args.data / "onet_tasks.tsv")
    model = ExposureModel(device="cpu")
    if model.head is None or model.head.folds is None:
        raise SystemExit("the default model has no calibrated head with fold heads: rebuild models/heads with "
                         "benchmarks/train_heads.py")
    emb = embed_tasks(model, d["text"], args.embeddings_cache, logger.info)
    capf = model.capability_features(emb)
    probs_in, auto_in = model.head.predict(emb, capf)
    probs_oof, auto_oof, held_out = model.head.predict_out_of_fold(emb, capf, d["soc"])
    assert held_out.all(), "every labelled task belongs to a labelled occupation"

    soc, w = d["soc"], d["weight"]
    uniq, inv = np.unique(soc, return_inverse=True)
    human_beta = np.array([d["beta"][s] for s in uniq])
    wsum = np.bincount(inv, weights=w, minlength=len(uniq))
    exposed = d["human"] > 0
    level = d["automation"] / 4.0
    rows = {"out of fold (fold heads)": (probs_oof, auto_oof), "in sample (shipped heads)": (probs_in, auto_in)}
    occ = {k: np.bincount(inv, weights=w * (p @ BETA), minlength=len(uniq)) / wsum for k, (p, _) in rows.items()}

    def occupations_of(r):
        return np.unique(inv[r])

    stats = {}
    for k, (p, a) in rows.items():
        stats[f"{k}|rho"] = lambda r, k=k: spearman(occ[k][occupations_of(r)], human_beta[occupations_of(r)])
        stats[f"{k}|auc"] = lambda r, p=p: roc_auc(exposed[r], 1 - p[r, 0])
        stats[f"{k}|auto"] = lambda r, a=a: spearman(a[r], level[r])
        # the split of exposure: automation = beta x degree of automation (TaskScores.automation)
        stats[f"{k}|split"] = lambda r, p=p, a=a: spearman((p[r] @ BETA) * a[r], level[r])
    oracle = BETA[d["human"]] * level  # the same split of the human labels by GPT-4's own ratings
    everything = np.arange(len(soc))
    point = {k: fn(everything) for k, fn in stats.items()}
    ci = bootstrap_many(stats, soc, args.bootstrap, seed=0)
    diff = occ["out of fold (fold heads)"] - occ["in sample (shipped heads)"]
    rank_diff = np.abs(np.argsort(np.argsort(occ["out of fold (fold heads)"]))
                       - np.argsort(np.argsort(occ["in sample (shipped heads)"]))) / len(uniq) * 100

    def cell(key):
        lo, hi = ci[key]
        return f"{point[key]:.3f} [{lo:.3f}, {hi:.3f}]"

    folds = model.head.manifest.get("out_of_fold", {})
    lines = [
        "# Out-of-fold scores of the labelled occupations\n",
        f"`python benchmarks/eval_out_of_fold.py --data ../shared/data`: the {len(soc):,} labelled tasks of "
        f"{len(uniq)} occupations (Eloundou et al. 2023 human labels, GPT-4's T0–T4 automation ratings), scored "
        f"by the shipped heads (in sample: fitted on these labels) and by their fold heads "
        f"(`{folds.get('file', 'default.folds.npz')}`, {model.head.folds.n_folds} folds by occupation; "
        f"`{folds.get('command', 'benchmarks/train_heads.py')}`): each occupation by the heads fitted without its "
        f"fold. Occupation beta: the task-weighted mean of P(E1) + 0.5 P(E2) (Core tasks weigh 2), against the "
        f"human occupation ratings. 95 % intervals: {args.bootstrap} bootstrap resamples of occupations (seed 0), "
        "paired.\n",
        "| scores | occupation Spearman (beta vs human beta) | task ROC AUC (exposed) | gpt4_automation task "
        "Spearman (vs GPT-4 T0–T4) | automation task Spearman (vs GPT-4 T0–T4) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for k in rows:
        lines.append(f"| {k} | {cell(k + '|rho')} | {cell(k + '|auc')} | {cell(k + '|auto')} | "
                     f"{cell(k + '|split')} |")
    lines += [
        "",
        "`automation` splits the headline: a task's beta times its degree of automation (`gpt4_automation`, "
        "the automation head's expected T-level / 4), so that `automation` + `augmentation` = `exposure`. It "
        "ranks tasks against GPT-4's T0–T4 ratings a little below the degree alone, since the human exposure "
        "labels and GPT-4's automation ratings disagree: the same split made of the labels themselves (human "
        f"beta x GPT-4's level / 4) reaches only {spearman(oracle, level):.3f} against those levels.",
    ]
    lines += [
        "",
        "Occupation tables (`exposure occupations`, `score_occupations`, and every view built on them) now "
        "report the out-of-fold value as `exposure` (with `alpha`, `beta`, `gamma` and `gpt4_automation`) for "
        "these occupations and keep the in-sample one as `exposure_in_sample`; the 208 occupations without "
        "labels get the same scores as before (the shipped heads predict them out of sample already). The "
        "cross-validated figures of `exposure reproduce eloundou` (benchmarks/results/eloundou/metrics.md) "
        "refit the projection of the neighbour index in each fold too; the fold heads share the shipped "
        "projection (a PCA of the labelled tasks' embeddings, which reads no label).",
        "",
        f"Out of fold against in sample, per labelled occupation: beta differs by {np.mean(np.abs(diff)):.3f} on "
        f"average (largest {np.max(np.abs(diff)):.3f}); mean {occ['out of fold (fold heads)'].mean():.3f} against "
        f"{occ['in sample (shipped heads)'].mean():.3f}; the rank moves by {np.mean(rank_diff):.1f} percentiles "
        f"on average (90th percentile {np.percentile(rank_diff, 90):.1f}). Spearman between the two: "
        f"{spearman(occ['out of fold (fold heads)'], occ['in sample (shipped heads)']):.3f}.",
        "",
    ]
    lines += _coverage(d, probs_oof, uniq, human_beta)
    if not args.no_catalogue:
        lines += _classes(model)
    publish("\n".join(lines), args.output, logger)


def _classes(model) -> list:
    """The classes of ``potential`` over the O*NET 27 catalogue scored as occupation tables score it."""
    from exposure.occupations import major_group, score_occupations
    from exposure.occupations.tables import POTENTIAL_RULE

    t = score_occupations(model, "27", top_tasks=0).to_pandas()
    t = t[t["potential"].notna()]
    counts = t["potential"].value_counts()
    auto = t[t["potential"] == "automation"].sort_values("automation", ascending=False)
    groups = auto["soc_code"].map(lambda c: major_group(c[:7])).value_counts()
    lines = ["## Automation and augmentation by occupation\n",
             f"`score_occupations(model, \"27\")` (out of fold, as tables are): the {len(t)} O*NET 27 occupations "
             f"with scores by the class of `potential` (rule: {POTENTIAL_RULE}).\n",
             "| potential | occupations | mean exposure | mean automation | mean automation_share |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for name in ("automation", "augmentation", "not affected"):
        sel = t[t["potential"] == name]
        lines.append(f"| {name} | {len(sel)} | {sel['exposure'].mean():.3f} | {sel['automation'].mean():.3f} | "
                     f"{sel['automation_share'].mean():.3f} |")
    lines += ["", "Automation potential by SOC major group: "
              + ", ".join(f"{g} {n}" for g, n in groups.items()) + ". Highest `automation`: "
              + "; ".join(f"{r.title} ({r.automation:.2f} of {r.exposure:.2f})" for r in auto.head(10).itertuples())
              + ".", ""]
    assert counts.sum() == len(t)
    return lines


def _coverage(d: dict, probs: np.ndarray, uniq: np.ndarray, human_beta: np.ndarray) -> list:
    """How often the occupation interval from out-of-fold probabilities holds the human rating."""
    level = int(round(100 * INTERVAL_LEVEL))
    lines = [f"## The {level} % interval of an occupation's score\n",
             f"`exposure_low` / `exposure_high` of an occupation table: the {level} % interval of 1,000 draws, each "
             "resampling the occupation's tasks with replacement and, from the class probabilities, drawing each "
             "task's label (`exposure.occupations.exposure_intervals`, seed 0). Here from the out-of-fold "
             "probabilities of the labelled tasks, against the human occupation ratings, which no fold head saw. "
             "'Tasks only' resamples the tasks and keeps each task's expected score (the interval a table "
             "without probabilities, a zero-shot one, gets).\n",
             "| interval | holds the human rating | mean width | median width |", "| --- | ---: | ---: | ---: |"]
    beta = probs @ BETA
    for name, kw in (("tasks and labels (calibrated tables)", {"probabilities": probs}),
                     ("tasks only", {"values": beta})):
        t = exposure_intervals(d["soc"], d["weight"], **kw)
        assert t["soc_code"].to_pylist() == uniq.tolist()
        lo, hi = t["exposure_low"].to_numpy(), t["exposure_high"].to_numpy()
        inside = (human_beta >= lo) & (human_beta <= hi)
        lines.append(f"| {name} | {inside.mean():.3f} ({inside.sum()} of {len(inside)}) | {np.mean(hi - lo):.3f} | "
                     f"{np.median(hi - lo):.3f} |")
    lines.append("")
    return lines


if __name__ == "__main__":
    main()
