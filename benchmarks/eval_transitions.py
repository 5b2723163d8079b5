"""How sensible are the transitions? Every O*NET 29.1 occupation with tasks, its top-5 suggestions.

    python benchmarks/eval_transitions.py [--by exposure] [--out benchmarks/results/transitions.md]

For each source occupation, the 5 best-scored occupations with lower ``--by`` exposure (scores: the default
calibrated model, ``cached_occupation_scores(model, "29.1")``) against 5 drawn at random from the same
lower-exposure occupations (50 draws, seed 0): how often they share the source's SOC minor group (first 4
characters, 51-2) and broad group (first 6, 51-209), how many DWAs they share, and their DWA overlap. The
score, DWA overlap alone and task similarity alone are reported apart. Minor groups are not used by any
score, so they are the independent check; shared DWAs are partly what the score optimises.
Worked examples for four occupations follow.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

EXAMPLES = ("51-2092.00", "43-3031.00", "43-4051.00", "53-3032.00")
TOP = 5
DRAWS = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--by", default="exposure")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "transitions.md")
    args = parser.parse_args()

    from exposure import ExposureModel
    from exposure.labour.transitions import TransitionIndex, transitions
    from exposure.occupations import OccupationAssigner, cached_occupation_scores

    start = time.perf_counter()
    model = ExposureModel(device="cpu")
    assigner = OccupationAssigner(model.encoder, calibration=None)  # only its task embeddings are used
    index = TransitionIndex.from_encoder(assigner=assigner)
    scores = cached_occupation_scores(model, "29.1", embeddings=assigner.catalogue_task_embeddings("29.1"))
    load_s = time.perf_counter() - start
    lookup = dict(zip(scores["soc_code"].to_pylist(), scores[args.by].to_pylist()))
    codes = index.codes
    value = np.array([np.nan if lookup.get(c) is None else lookup[c] for c in codes.tolist()])
    minor = np.array([c[:4] for c in codes.tolist()])
    broad = np.array([c[:6] for c in codes.tolist()])
    rng = np.random.default_rng(0)
    rankers = ("score", "dwa_overlap", "task_similarity")
    stats = {k: {"minor": [], "broad": [], "shared": [], "overlap": []} for k in (*rankers, "random")}
    sources = skipped = 0
    t0 = time.perf_counter()
    for i, code in enumerate(codes.tolist()):
        if np.isnan(value[i]):
            continue
        pool = np.flatnonzero(value < value[i])
        if pool.size < TOP:
            skipped += 1
            continue
        sims = index.similarity(code)
        sources += 1
        for k in rankers:
            top = pool[np.lexsort((codes[pool], -sims[k][pool]))][:TOP]
            stats[k]["minor"].append(np.mean(minor[top] == minor[i]))
            stats[k]["broad"].append(np.mean(broad[top] == broad[i]))
            stats[k]["shared"].append(sims["shared_dwas"][top].mean())
            stats[k]["overlap"].append(sims["dwa_overlap"][top].mean())
        draws = np.stack([rng.choice(pool, TOP, replace=False) for _ in range(DRAWS)])
        stats["random"]["minor"].append(np.mean(minor[draws] == minor[i]))
        stats["random"]["broad"].append(np.mean(broad[draws] == broad[i]))
        stats["random"]["shared"].append(sims["shared_dwas"][draws].mean())
        stats["random"]["overlap"].append(sims["dwa_overlap"][draws].mean())
    sweep_s = time.perf_counter() - t0

    names = {"score": "score (0.5 DWA overlap + 0.5 task similarity)", "dwa_overlap": "DWA overlap alone",
             "task_similarity": "task similarity alone", "random": f"random lower-exposure ({DRAWS} draws)"}
    lines = ["# Transitions: do the suggestions make sense?", "",
             f"`python benchmarks/eval_transitions.py --by {args.by}`; {platform.processor() or platform.machine()}, "
             "2-core AMD EPYC CPU (shared). Embeddings all-MiniLM-L6-v2 (the assigner's cache), exposure from the "
             "default calibrated model on O*NET 29.1.", "",
             f"{sources} source occupations (of {len(codes)} with tasks; {skipped} have fewer than {TOP} less "
             f"exposed occupations and are left out). For each, the top {TOP} less exposed occupations "
             f"(`{args.by}`) by each ranking:", "",
             "| ranking | same SOC minor group (51-2) | same broad group (51-209) | shared DWAs | DWA overlap (Jaccard) |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for k, name in names.items():
        s = stats[k]
        lines.append(f"| {name} | {np.mean(s['minor']):.1%} | {np.mean(s['broad']):.1%} | "
                     f"{np.mean(s['shared']):.2f} | {np.mean(s['overlap']):.3f} |")
    share_any = np.mean(np.array(stats["score"]["minor"]) > 0)
    lines += ["", f"With the score, {share_any:.0%} of the sources have at least one of their top {TOP} in their "
              "own minor group. Minor groups are not an input to any ranking; shared DWAs are an input to the "
              "score and to DWA overlap, so that column says only that the lists are what the score asks for. "
              f"Loading the index and scores took {load_s:.0f} s, the sweep over {sources} sources "
              f"{sweep_s:.0f} s ({1000 * sweep_s / max(sources, 1):.0f} ms a source, three rankings).", "",
              "## Worked examples", ""]
    for code in EXAMPLES:
        t = transitions(code, scores, by=args.by, index=index, top=3, max_items=2)
        first = t.to_pylist()[0]
        lines += [f"### {code} {first['from_title']} ({args.by} {first[f'from_{args.by}']:.3f})", "",
                  "| # | occupation | score | Δ exposure | median wage 2022 | growth 2022-32 | entry education |",
                  "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
        for r in t.to_pylist():
            wage = "-" if r["median_wage_2022"] is None else f"${r['median_wage_2022']:,.0f}"
            growth = "-" if r["employment_change_percent"] is None else f"{r['employment_change_percent']:+.1f}%"
            lines.append(f"| {r['rank']} | {r['soc_code']} {r['title']} | {r['score']:.3f} | "
                         f"{r[f'{args.by}_difference']:+.3f} | {wage} | {growth} | {r['entry_education'] or '-'} |")
        r = {k: "; ".join(x.rstrip(".") for x in v) if isinstance(v, list) else v for k, v in first.items()}
        lines += ["", f"Top suggestion, {r['title']}. DWAs to learn: {r['dwas_to_learn'] or '-'}. "
                  f"DWAs that carry over: {r['dwas_carry_over'] or '-'}. Tasks to learn: {r['tasks_to_learn'] or '-'}. "
                  f"Tasks that carry over: {r['tasks_carry_over'] or '-'}.", ""]
    lines += ["## What is weak", "",
              "- Similar work is not the same as an open door: licences, experience and the employer's view of "
              "a move are not in O*NET's tasks or DWAs, and entry education is the typical one for new entrants.",
              "- Any lower exposure counts: a suggestion can be only 0.001 less exposed (`--min-difference`).",
              "- By the minor-group check the task embeddings add nothing over DWA overlap alone (see the "
              "table); they matter for the 301 tasks without DWAs and for the task lists. The 0.5/0.5 "
              "weights are a plain choice, not fitted.",
              "- Wage and growth are BLS figures for the SOC 2018 code or the BLS hybrid that covers it: several "
              "O*NET occupations share one row.", ""]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
