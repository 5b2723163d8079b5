"""Agreement of the zero-shot exposure rule with human ratings (Eloundou et al. 2023).

Nothing here is fitted to the labels: the model scores every O*NET task from its
text alone, then we compare with the human labels of the labelled occupations.

- Task level: ROC AUC of the exposure score for E1 or E2 (exposed) against E0.
- Occupation level: Spearman correlation between the weighted mean task score
  (Core tasks weight 2, others 1, as in the ratings) and ``human_rating_beta``.

The occupations are split in two halves by a hash of their SOC code: "dev" (the
half looked at while the default capability set was written) and "holdout"
(looked at only when reporting). Both halves and their union are reported.

Usage:
    python benchmarks/eval_zero_shot.py --data ../shared/data \
        [--technologies llm software] [--cache task_emb.npy] [-o benchmarks/results/zero_shot.md]
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import numpy as np
import pandas as pd

from exposure import ExposureModel
from exposure.stats import bootstrap_ci, roc_auc, spearman
from report import machine


def split_of(soc: str) -> str:
    """Stable half of an occupation: 'dev' or 'holdout'."""
    return "dev" if hashlib.sha256(soc.encode()).digest()[0] % 2 == 0 else "holdout"


def evaluate(tasks: pd.DataFrame, ratings: pd.DataFrame) -> dict:
    """AUC (task) and Spearman (occupation) for tasks with columns score, exposed, weight, soc_code; 95%
    intervals resample occupations (``exposure.stats.bootstrap_ci``)."""
    occ = (tasks.assign(ws=tasks.score * tasks.weight).groupby("soc_code")[["ws", "weight"]].sum())
    occ = (occ.ws / occ.weight).rename("pred").to_frame().join(ratings.set_index("soc_code").human_rating_beta)
    exposed, score = tasks.exposed.to_numpy(dtype=bool), tasks.score.to_numpy(dtype=np.float64)
    pred, human = occ.pred.to_numpy(dtype=np.float64), occ.human_rating_beta.to_numpy(dtype=np.float64)
    return {"n_tasks": len(tasks), "n_occ": len(occ), "auc": roc_auc(exposed, score),
            "auc_ci": bootstrap_ci(lambda r: roc_auc(exposed[r], score[r]), tasks.soc_code.to_numpy(), 200),
            "spearman": spearman(pred, human),
            "spearman_ci": bootstrap_ci(lambda r: spearman(pred[r], human[r]), occ.index.to_numpy())}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--capabilities", default="default")
    p.add_argument("--technologies", nargs="*", default=None, help="headline technologies (default: the set's headline)")
    p.add_argument("--cache", type=Path, help="reuse/save task embeddings here (.npy)")
    p.add_argument("--temperature", type=float, default=0.1)
    p.add_argument("--scale", type=float, default=0.05)
    p.add_argument("-o", "--output", type=Path, help="write a markdown report here")
    args = p.parse_args(argv)

    onet = pd.read_csv(args.data / "onet_tasks.tsv", sep="\t")
    labels = pd.read_csv(args.data / "task_labels_train.tsv", sep="\t")
    ratings = pd.read_csv(args.data / "occupation_ratings_train.csv")
    model = ExposureModel(capabilities=args.capabilities, technologies=args.technologies,
                          temperature=args.temperature, scale=args.scale, device="cpu", calibrated=False)
    t0 = time.perf_counter()
    cached = bool(args.cache and args.cache.exists())
    if cached:
        emb = np.load(args.cache)
    else:
        emb = model.encoder.encode(onet.task.tolist(), show_progress=True)
        if args.cache:
            np.save(args.cache, emb)
    scores = model.score_embeddings(emb)
    elapsed = time.perf_counter() - t0
    # The same rule with every technology in the headline, to show what the choice does.
    everything = ExposureModel(model.encoder, model.capabilities, technologies=model.technologies,
                               temperature=args.temperature, scale=args.scale, calibrated=False)
    onet = onet.assign(score=scores.exposure, score_all=everything.score_embeddings(emb).exposure)
    tasks = onet.merge(labels, on=["soc_code", "task_id"], how="inner")
    tasks = tasks.assign(exposed=(tasks.human_exposure != "E0").astype(int), half=tasks.soc_code.map(split_of))
    r_all = evaluate(tasks.assign(score=tasks.score_all), ratings)

    rows = []
    for name, sub in [("dev", tasks[tasks.half == "dev"]), ("holdout", tasks[tasks.half == "holdout"]),
                      ("all", tasks)]:
        r = evaluate(sub, ratings)
        rows.append((name, r))
        print(f"{name:8s} tasks={r['n_tasks']:6d} occupations={r['n_occ']:4d} "
              f"AUC={r['auc']:.3f} [{r['auc_ci'][0]:.3f}, {r['auc_ci'][1]:.3f}] "
              f"Spearman={r['spearman']:.3f} [{r['spearman_ci'][0]:.3f}, {r['spearman_ci'][1]:.3f}]")
    if args.output:
        heads = ", ".join(model.headline)
        lines = [
            "# Zero-shot exposure vs human ratings (Eloundou et al. 2023 labels)",
            "",
            f"Command: `python benchmarks/eval_zero_shot.py --data ../shared/data"
            + (f" --technologies {' '.join(args.technologies)}" if args.technologies else "")
            + f" -o {args.output}`",
            "",
            f"Model: {model!r}; headline technologies: {heads}; temperature {model.temperature}, "
            f"scale {model.scale}; capability set checksum `{model.capabilities.checksum[:12]}`.",
            f"Machine: {machine()}; " + (f"scoring {len(onet):,} tasks (embeddings from a cache) took {elapsed:.0f} s."
                                         if cached else
                                         f"encoding + scoring {len(onet):,} tasks on the CPU took {elapsed:.0f} s."),
            "",
            "Nothing is fitted to the labels. AUC: task-level ROC AUC of the score for E1|E2 vs E0. "
            "Spearman: occupation mean score (Core tasks weight 2, others 1) vs `human_rating_beta`. "
            "95% intervals: bootstrap over occupations. 'dev' is the half of the occupations looked at "
            "while the capability set was written; 'holdout' was not looked at.",
            "",
            "| occupations | tasks | n occ. | ROC AUC | 95% CI | Spearman | 95% CI |",
            "| --- | ---: | ---: | ---: | --- | ---: | --- |",
        ]
        for name, r in rows:
            lines.append(f"| {name} | {r['n_tasks']:,} | {r['n_occ']} | {r['auc']:.3f} | "
                         f"{r['auc_ci'][0]:.3f}–{r['auc_ci'][1]:.3f} | {r['spearman']:.3f} | "
                         f"{r['spearman_ci'][0]:.3f}–{r['spearman_ci'][1]:.3f} |")
        lines += [
            "",
            f"With every technology ({', '.join(model.technologies)}) pooled into the headline instead, on all "
            f"occupations: ROC AUC {r_all['auc']:.3f} ({r_all['auc_ci'][0]:.3f}–{r_all['auc_ci'][1]:.3f}), "
            f"Spearman {r_all['spearman']:.3f} ({r_all['spearman_ci'][0]:.3f}–{r_all['spearman_ci'][1]:.3f}): "
            "the labels measure exposure to language models, and vision, robotics and vehicle capabilities "
            "pull in physical work that the annotators rated E0.",
        ]
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
