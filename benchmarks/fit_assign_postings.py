"""Fit the occupation assigner's temperatures, prior weights and calibration on hand-coded real postings.

    python benchmarks/fit_assign_postings.py -o benchmarks/results/assign_postings.md            # report only
    python benchmarks/fit_assign_postings.py --write -o benchmarks/results/assign_postings.md \
        --before-calibration CAL_0_3_0.json                                                      # and ship

The assigner's logits are ``title / T_title + duty / T_duty + w * prior`` (per basis: title only, duties
only, both; ``exposure.occupations.assign``), where ``prior`` is the log share of US employment of each
O*NET occupation (BLS OEWS May 2021, a SOC code's employment split evenly over its O*NET occupations; an
OEWS aggregate code's over the detailed codes it covers; 1,000 workers added to every code). Real postings
come from common occupations far more often than from rare ones; the prior says so, and its weight ``w`` is
fitted, not assumed.

Data: the postings of ``benchmarks/data/real_postings/soc.jsonl`` (hand-coded O*NET-SOC codes), their
title and the duties the shipped unit classifier finds, the shipped O*NET 29.1 titles and tasks.

1. Fitted on the **train** split only, by maximum likelihood of the hand code's 6-digit SOC occupation
   (the probabilities of its O*NET occupations summed): for each basis its temperatures and prior weight
   (the "duties" basis on the train postings with their titles left out).
2. Calibration: out-of-fold probabilities on the train split (5 folds by posting, each fitted without its
   fold) -> ``IsotonicRegression`` maps of "this code is right" on the probability, pooled over ranks 1-3,
   per level (``onet``: the O*NET code; ``soc2018``: its 6-digit SOC code) and basis, and per threshold the
   share of postings kept and their top-1 accuracy (``OccupationAssigner.threshold_for``).
3. Reported on the **test** split (never fitted on): SOC-6 top-1 and top-3 with 95 % bootstrap intervals
   over postings and the ECE of the calibrated top confidence, for the assigner shipped before, titles
   only, and titles with duties.

``--write`` writes ``models/assign/calibration.json`` and ``models/assign/prior.json``; the temperatures and
prior weights it prints go into ``TEMPERATURES`` and ``PRIOR_WEIGHTS`` of ``exposure/occupations/assign.py``
(the assigner checks that the calibration was fitted for its constants, and turns it off otherwise).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from collections import defaultdict
from pathlib import Path
from typing import Optional

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
import real_postings  # noqa: E402
from _common import publish  # noqa: E402
from eval_assign import coverage_table, isotonic_map  # noqa: E402

from exposure.stats import bootstrap_ci, reliability  # noqa: E402

logger = logging.getLogger("fit_assign_postings")
MODELS = ROOT / "models" / "assign"
BASES = ("title", "duties", "title+duties")
FOLDS = 5
SMOOTHING = 1000.0
BEFORE_TEMPERATURES = {"title": 0.0572, "duty": 0.0386, "title+duty": (0.0668, 0.0551)}  # exposure 0.3.0  # workers added to every code's employment before the log


def employment_prior(codes) -> np.ndarray:
    """Log share of US employment of each O*NET code (see the module docs), float64 ``(len(codes),)``."""
    import pyarrow.compute as pc

    from exposure.labour.employment import hybrid_members, load_oews

    oews = load_oews()
    oews = oews.filter(pc.equal(oews["o_group"], "detailed"))
    emp = {}
    detailed = [c for c, g in zip(oews["soc_code"].to_pylist(), oews["o_group"].to_pylist()) if g == "detailed"]
    members = hybrid_members(detailed)
    for code, n in zip(oews["soc_code"].to_pylist(), oews["employment"].to_pylist()):
        if code not in members or n is None:
            continue
        covered = members[code] or []
        for c in covered:
            emp[c] = emp.get(c, 0.0) + n / len(covered)
    six = [c[:7] for c in codes]
    per_six = defaultdict(int)
    for s in six:
        per_six[s] += 1
    values = np.array([(emp.get(s, 0.0) + SMOOTHING) / per_six[s] for s in six], dtype=np.float64)
    return np.log(values / values.sum())


def features(ids, posts, assigner, encoder, classifier):
    """Title scores, duty scores (NaN rows where none) and the number of duties, per posting."""
    from exposure.postings import read_postings

    texts = [posts[i]["text"] for i in ids]
    preds = []
    for a in range(0, len(texts), 100):
        preds += read_postings(texts[a:a + 100], classifier, encoder)
        logger.info("duties: %d of %d postings", min(a + 100, len(texts)), len(texts))
    queries = assigner.title_queries([posts[i]["title"] for i in ids])
    title = assigner.title_scores(encoder.encode(queries), queries)
    rows = [p.duty_embeddings for p in preds]
    owners = np.repeat(np.arange(len(ids)), [len(r) for r in rows])
    duty_emb = np.vstack(rows) if owners.size else np.zeros((0, encoder.dim), np.float32)
    duty = assigner.duty_scores(duty_emb, owners, len(ids))
    has_title = np.array([bool(q.strip()) for q in queries])
    return title.astype(np.float64), duty.astype(np.float64), np.bincount(owners, minlength=len(ids)), has_title


class Data:
    """The features of one set of postings under one basis, and the gold codes."""

    def __init__(self, title, duty, prior, gold_onet, six_index, basis):
        self.x = [title if "title" in basis else None, duty if "duties" in basis else None, prior]
        self.gold_onet, self.six = gold_onet, six_index
        self.basis = basis

    def logits(self, params, rows):
        t, d, w = params
        out = w * self.x[2][None, :]
        if self.x[0] is not None:
            out = out + self.x[0][rows] / t
        if self.x[1] is not None:
            out = out + self.x[1][rows] / d
        return out


def fit(data: Data, rows: np.ndarray) -> tuple:
    """Temperatures and prior weight of one basis by maximum likelihood of the gold SOC-6 codes on ``rows``."""
    from scipy.optimize import minimize

    from exposure.stats import softmax

    gold6 = data.six[data.gold_onet[rows]]

    def nll(theta):
        t, d, w = np.exp(theta[0]), np.exp(theta[1]), theta[2]
        mass = to_six(softmax(data.logits((t, d, w), rows)), data.six)[np.arange(len(rows)), gold6]
        return -np.mean(np.log(np.maximum(mass, 1e-12)))

    res = minimize(nll, x0=np.array([np.log(0.06), np.log(0.05), 0.3]), method="Nelder-Mead",
                   options={"xatol": 1e-4, "fatol": 1e-6, "maxiter": 2000})
    # Four significant digits: the values go into exposure/occupations/assign.py as they are written here.
    t, d, w = (float(f"{v:.4g}") for v in (np.exp(res.x[0]), np.exp(res.x[1]), res.x[2]))
    return (t if data.x[0] is not None else None, d if data.x[1] is not None else None, w)


def probabilities(data: Data, params, rows) -> np.ndarray:
    from exposure.stats import softmax

    t, d, w = params
    return softmax(data.logits((t or 1.0, d or 1.0, w), rows))


def to_six(p: np.ndarray, six: np.ndarray) -> np.ndarray:
    """Probabilities over O*NET codes ``(n, codes)`` summed per 6-digit SOC code (``six``: each code's SOC index)."""
    one_hot = np.zeros((six.size, int(six.max()) + 1))
    one_hot[np.arange(six.size), six] = 1.0
    return p @ one_hot


def top_right(p: np.ndarray, gold: np.ndarray, k: int = 3):
    """Top-k indices, whether each is right, and the top-k probabilities."""
    top = np.argsort(-p, axis=1, kind="stable")[:, :k]
    return top, top == gold[:, None], np.take_along_axis(p, top, axis=1)


def main(argv: Optional[list] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", type=Path, help="write the Markdown report here")
    ap.add_argument("--write", action="store_true", help="write models/assign/calibration.json and prior.json")
    ap.add_argument("--before-calibration", type=Path, default=None, metavar="FILE",
                    help="the calibration of exposure 0.3.0's assigner, for the rows 'shipped before' "
                         "(git show 586c26e:models/assign/calibration.json); without it they are uncalibrated")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from exposure.encoder import Encoder
    from exposure.occupations import OccupationAssigner
    from exposure.postings import UnitClassifier

    coded, posts = real_postings.coded(), real_postings.by_id()
    ids = sorted(coded)
    encoder = Encoder(device="cpu", dtype="float32")
    # The assigner of exposure 0.3.0: no prior, its temperatures, and its calibration when given.
    shipped = OccupationAssigner(encoder, prior=None, temperatures=BEFORE_TEMPERATURES,
                                 calibration=args.before_calibration)
    assigner = OccupationAssigner(encoder, calibration=None, prior=None)
    codes = list(assigner.codes)
    six_codes, six = np.unique([c[:7] for c in codes], return_inverse=True)
    gold_onet = np.array([codes.index(coded[i]) for i in ids])
    gold6 = six[gold_onet]
    split = np.array([posts[i]["split"] for i in ids])
    source = np.array([posts[i]["source"] for i in ids])
    train, test = np.flatnonzero(split == "train"), np.flatnonzero(split == "test")
    title, duty, n_duties, has_title = features(ids, posts, assigner, encoder, UnitClassifier.load(encoder=encoder))
    prior = employment_prior(codes)
    with_duties = n_duties > 0
    logger.info("%d postings (%d train, %d test); %d with duties, %d with a title", len(ids), len(train), len(test),
                with_duties.sum(), has_title.sum())

    # 1. fit per basis on the train split (a basis only on the postings it applies to)
    applies = {"title": has_title, "duties": with_duties, "title+duties": has_title & with_duties}
    data = {b: Data(title, np.nan_to_num(duty), prior, gold_onet, six, b) for b in BASES}
    params = {b: fit(data[b], train[applies[b][train]]) for b in BASES}
    for b in BASES:
        logger.info("%s: T_title %s, T_duty %s, prior weight %.4f", b, *params[b])

    # 2. out-of-fold probabilities on the train split -> calibration maps and coverage tables, per basis on the
    # postings it applies to (the "duties" basis: every posting with duties, its title left out)
    fold = np.random.RandomState(0).permutation(len(train)) % FOLDS
    basis_of = np.where(has_title & with_duties, "title+duties", np.where(has_title, "title", "duties"))
    oof = {b: np.zeros((len(ids), len(codes))) for b in BASES}
    for f in range(FOLDS):
        fit_rows, out_rows = train[fold != f], train[fold == f]
        for b in BASES:
            rows = out_rows[applies[b][out_rows]]
            if rows.size:
                oof[b][rows] = probabilities(data[b], fit(data[b], fit_rows[applies[b][fit_rows]]), rows)
    maps, coverage = {"onet": {}, "soc2018": {}}, {"onet": {}, "soc2018": {}}
    for level in ("onet", "soc2018"):
        for b in BASES:
            rows = train[applies[b][train]]
            p = oof[b][rows] if level == "onet" else to_six(oof[b][rows], six)
            _, right, conf = top_right(p, gold_onet[rows] if level == "onet" else gold6[rows])
            maps[level][b] = isotonic_map(conf.ravel(), right.ravel().astype(float))
            cal = np.interp(conf[:, 0], maps[level][b]["x"], maps[level][b]["y"])
            coverage[level][b] = coverage_table(cal, right[:, 0])
    natural = np.zeros((len(train), len(codes)))
    for b in BASES:
        sel = basis_of[train] == b
        natural[sel] = oof[b][train[sel]]
    _, right, _ = top_right(to_six(natural, six), gold6[train])
    cv = {"top1": float(right[:, 0].mean()), "top3": float(right.any(axis=1).mean())}
    logger.info("out of fold on the train split (SOC-6): top-1 %.3f, top-3 %.3f", cv["top1"], cv["top3"])

    # 3. the test split: before, titles only, titles and duties
    def figures(p_onet: np.ndarray, conf_top: np.ndarray, rows: np.ndarray) -> dict:
        p6 = to_six(p_onet, six) if p_onet is not None else None
        _, right, _ = top_right(p6, gold6[rows])
        t1, t3 = right[:, 0].astype(float), right.any(axis=1).astype(float)
        idx = np.arange(len(rows))
        return {"n": len(rows), "top1": t1.mean(), "top3": t3.mean(),
                "top1_ci": bootstrap_ci(lambda r: t1[r].mean(), idx),
                "top3_ci": bootstrap_ci(lambda r: t3[r].mean(), idx), "ece": reliability(conf_top, t1)["ece"]}

    def calibrated(p_onet, rows, bases):
        """The calibrated confidence of the top SOC-6 code (level soc2018)."""
        top = to_six(p_onet, six).max(axis=1)
        return np.array([np.interp(c, maps["soc2018"][b]["x"], maps["soc2018"][b]["y"]) for c, b in zip(top, bases)])

    results = {}
    # the assigner shipped before, at level soc2018: its titles, and the duties the shipped classifier finds
    from exposure.postings import read_postings
    for name, use_duties in (("shipped before, titles only", False), ("shipped before, titles and duties", True)):
        rows = test
        duties = None
        if use_duties:
            preds = read_postings([posts[ids[i]]["text"] for i in rows], UnitClassifier.load(encoder=encoder), encoder)
            duties = [p.duties for p in preds]
        got = shipped.assign([posts[ids[i]]["title"] for i in rows], duties, k=3, level="soc2018")
        right = np.array([[c == six_codes[gold6[i]] for c in cs] for i, cs in zip(rows, got.codes)])
        t1, t3 = right[:, 0].astype(float), right.any(axis=1).astype(float)
        idx = np.arange(len(rows))
        conf = np.nan_to_num(np.asarray(got.confidence, dtype=np.float64)[:, 0])
        results[name] = {"n": len(rows), "top1": t1.mean(), "top3": t3.mean(),
                         "top1_ci": bootstrap_ci(lambda r: t1[r].mean(), idx),
                         "top3_ci": bootstrap_ci(lambda r: t3[r].mean(), idx),
                         "ece": reliability(conf, t1)["ece"]}
    for name, bases in (("fitted here, titles only", np.where(has_title, "title", "duties")),
                        ("fitted here, titles and duties", basis_of)):
        p = np.zeros((len(test), len(codes)))
        for b in BASES:
            sel = bases[test] == b
            if sel.any():
                p[sel] = probabilities(data[b], params[b], test[sel])
        # the confidence users see at the O*NET level, calibrated; right = the O*NET code
        results[name] = figures(p, calibrated(p, test, bases[test]), test)
    per_source = {}
    p = np.zeros((len(test), len(codes)))
    for b in BASES:
        sel = basis_of[test] == b
        if sel.any():
            p[sel] = probabilities(data[b], params[b], test[sel])
    for s in real_postings.SOURCES:
        sel = source[test] == s
        per_source[s] = figures(p[sel], calibrated(p[sel], test[sel], basis_of[test][sel]), test[sel])

    settings = assigner.settings()
    settings["temperatures"] = {"title": params["title"][0], "duty": params["duties"][1],
                                "title+duty": [params["title+duties"][0], params["title+duties"][1]]}
    settings["prior_weights"] = {"title": params["title"][2], "duty": params["duties"][2],
                                 "title+duty": params["title+duties"][2]}
    labels_sha = hashlib.sha256((real_postings.LABELS_DIR / "soc.jsonl").read_bytes()).hexdigest()
    if args.write:
        record = {
            "format": 1,
            "what": "Calibration maps of OccupationAssigner confidences: per level and basis, knots (x: probability, "
                    "y: calibrated confidence) of an increasing map applied with numpy.interp to every reported "
                    "probability; per threshold the share of postings kept and their top-1 accuracy.",
            "method": "scikit-learn IsotonicRegression(increasing=True, y_min=0, y_max=1, out_of_bounds='clip') of "
                      "'this code is the hand code' on its softmax probability, pooled over ranks 1-3 (knots rounded "
                      "to 5 decimals); level onet: the O*NET-SOC code, soc2018: its 6-digit SOC code.",
            "fitted_for": settings,
            "tables": "O*NET 29.1 titles and task statements as shipped in exposure/data; prior: models/assign/prior.json",
            "protocol": f"Hand-coded real postings (benchmarks/data/real_postings/soc.jsonl, sha256 {labels_sha[:12]}), "
                        f"train split ({len(train)} postings): temperatures and prior weights by maximum likelihood "
                        f"of the hand code's 6-digit SOC occupation; the maps and coverage tables from out-of-fold "
                        f"probabilities ({FOLDS} folds by posting). The test split ({len(test)} postings) is never "
                        "used here. python benchmarks/fit_assign_postings.py --write",
            "command": "python benchmarks/fit_assign_postings.py --write",
            "data": {"postings": len(train), "sha256": labels_sha, "duties": "found by the shipped unit classifier"},
            "maps": maps,
            "coverage": coverage,
        }
        (MODELS / "calibration.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        prior_record = {
            "what": "Log share of US employment of each O*NET 29.1 occupation, the assigner's prior "
                    "(exposure.occupations.assign).",
            "source": "BLS Occupational Employment and Wage Statistics, national, May 2021 (public domain), as "
                      "shipped in exposure/data",
            "method": f"employment of each SOC 2018 detailed code (an OEWS aggregate's split evenly over the detailed "
                      f"codes it covers), plus {SMOOTHING:g}, split evenly over the O*NET occupations of that code; "
                      "log of the share of the total.",
            "log_share": {c: round(float(v), 5) for c, v in zip(codes, prior)},
        }
        (MODELS / "prior.json").write_text(json.dumps(prior_record, indent=1) + "\n", encoding="utf-8")
        logger.info("wrote %s and %s", MODELS / "calibration.json", MODELS / "prior.json")

    lines = ["# Occupation assignment fitted on hand-coded real postings\n",
             "`python benchmarks/fit_assign_postings.py --write --before-calibration CAL_0_3_0.json`: "
             "temperatures, prior weights and calibration "
             f"fitted on the train split of `benchmarks/data/real_postings/soc.jsonl` ({len(train)} postings), "
             f"reported on its test split ({len(test)} postings, never fitted on). Duties: those the shipped unit "
             "classifier finds; \"shipped before\": exposure 0.3.0's assigner with its calibration. Right: the "
             "hand code's 6-digit SOC occupation. 95 % bootstrap intervals over "
             "postings; ECE of the top calibrated confidence against SOC-6 top-1.\n",
             "| assigner | postings | SOC-6 top-1 | SOC-6 top-3 | ECE |", "| --- | --- | --- | --- | --- |"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['n']} | {r['top1']:.3f} ({r['top1_ci'][0]:.3f}-{r['top1_ci'][1]:.3f}) | "
                     f"{r['top3']:.3f} ({r['top3_ci'][0]:.3f}-{r['top3_ci'][1]:.3f}) | {r['ece']:.3f} |")
    lines += ["", "By source, titles and duties:", "", "| source | postings | SOC-6 top-1 | SOC-6 top-3 |",
              "| --- | --- | --- | --- |"]
    for s, r in per_source.items():
        lines.append(f"| {s} | {r['n']} | {r['top1']:.3f} ({r['top1_ci'][0]:.3f}-{r['top1_ci'][1]:.3f}) | "
                     f"{r['top3']:.3f} ({r['top3_ci'][0]:.3f}-{r['top3_ci'][1]:.3f}) |")
    lines += ["", f"Out of fold on the train split ({FOLDS} folds): SOC-6 top-1 {cv['top1']:.3f}, "
              f"top-3 {cv['top3']:.3f}.",
              "", "Fitted (train split):", "", "| basis | T title | T duty | prior weight |", "| --- | --- | --- | --- |"]
    for b in BASES:
        t, d, w = params[b]
        lines.append(f"| {b} | {'-' if t is None else f'{t:.4f}'} | {'-' if d is None else f'{d:.4f}'} | {w:.4f} |")
    publish("\n".join(lines) + "\n", args.output, logger)


if __name__ == "__main__":
    main()
