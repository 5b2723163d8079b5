"""Check the hand labels of real postings and report how well two independent passes agree (Cohen's kappa).

    python benchmarks/label_agreement.py benchmarks/data/real_postings -o benchmarks/results/labels.md

Reads, in the folder, ``soc.jsonl`` and ``soc_second.jsonl`` (occupation codes) and ``units.jsonl`` and
``units_second.jsonl`` (unit spans and labels), as ``docs/labelling.md`` defines them. Every file is checked
first: known posting ids (``real_postings.py``), valid O*NET-SOC codes and labels, spans inside the text
that do not overlap, one code per posting. Agreement:

* codes: Cohen's kappa and the share agreeing on the postings both passes coded, at 6 digits (the O*NET
  occupation, detail dropped: ``15-1252``), at the SOC minor group (``15-12``) and at the major group (``15``);
* units: each unit of the second pass is matched to the first-pass unit that overlaps it most (no overlap:
  no label, a disagreement); Cohen's kappa over the six labels, and the DUTY / not-DUTY kappa.

Intervals are 95 % bootstrap intervals over postings (``exposure.stats.bootstrap_ci``).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
from sklearn.metrics import cohen_kappa_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_postings  # noqa: E402
from _common import publish  # noqa: E402

from exposure.stats import bootstrap_ci  # noqa: E402

logger = logging.getLogger("label_agreement")

LABELS = ("DUTY", "REQUIREMENT", "COMPANY", "BENEFIT", "LEGAL", "OTHER")
SHARED = Path(real_postings.data_dir()).parent


def onet_codes() -> set:
    with open(SHARED / "onet29" / "Occupation_Data.txt", encoding="utf-8") as f:
        next(f)
        return {line.split("\t", 1)[0] for line in f}


def check_codes(rows: List[dict], posts: dict, name: str) -> Dict[str, str]:
    """posting id -> code, after checking ids, codes and one line per posting."""
    codes = onet_codes()
    out: Dict[str, str] = {}
    for i, r in enumerate(rows, 1):
        pid, code = r.get("posting_id"), r.get("soc_code")
        if pid not in posts:
            raise ValueError(f"{name} line {i}: unknown posting id {pid!r}")
        if code not in codes:
            raise ValueError(f"{name} line {i}: {code!r} is not an O*NET-SOC 2019 code")
        if r.get("confidence") not in ("high", "medium", "low"):
            raise ValueError(f"{name} line {i}: confidence must be high, medium or low")
        if pid in out:
            raise ValueError(f"{name} line {i}: {pid} is coded twice")
        out[pid] = code
    return out


def check_units(rows: List[dict], posts: dict, name: str) -> Dict[str, List[Tuple[int, int, str]]]:
    """posting id -> sorted (start, end, label), after checking ids, labels and spans."""
    out: Dict[str, List[Tuple[int, int, str]]] = {}
    for i, r in enumerate(rows, 1):
        pid = r.get("posting_id")
        if pid not in posts:
            raise ValueError(f"{name} line {i}: unknown posting id {pid!r}")
        start, end, label = r.get("start"), r.get("end"), r.get("label")
        if label not in LABELS:
            raise ValueError(f"{name} line {i}: label {label!r} is not one of {', '.join(LABELS)}")
        text = posts[pid]["text"]
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            raise ValueError(f"{name} line {i}: span {start}-{end} is not inside the text ({len(text)} chars)")
        if not text[start:end].strip():
            raise ValueError(f"{name} line {i}: span {start}-{end} holds only white space")
        out.setdefault(pid, []).append((start, end, label))
    for pid, spans in out.items():
        spans.sort()
        for (a, b, _), (c, d, _) in zip(spans, spans[1:]):
            if c < b:
                raise ValueError(f"{name}: spans {a}-{b} and {c}-{d} of {pid} overlap")
    return out


def _bootstrap(groups: List[Tuple[list, list]], stat) -> Tuple[float, float]:
    """95 % interval of ``stat(a, b)`` over postings resampled with replacement (:func:`exposure.stats.bootstrap_ci`
    with the posting as the group)."""
    a = np.array([x for g in groups for x in g[0]], dtype=object)
    b = np.array([x for g in groups for x in g[1]], dtype=object)
    owner = np.repeat(np.arange(len(groups)), [len(g[0]) for g in groups])

    def on(rows: np.ndarray) -> float:
        x, y = list(a[rows]), list(b[rows])
        return stat(x, y) if len(set(x) | set(y)) > 1 else np.nan

    return bootstrap_ci(on, owner)


def _kappa(a, b) -> float:
    return float(cohen_kappa_score(a, b))


def code_agreement(first: Dict[str, str], second: Dict[str, str]) -> List[dict]:
    both = sorted(set(first) & set(second))
    rows = []
    for level, cut in (("O*NET-SOC 8 digits", 10), ("SOC 6 digits", 7), ("SOC minor group", 5),
                       ("SOC major group", 2)):
        groups = [([first[p][:cut]], [second[p][:cut]]) for p in both]
        a, b = [g[0][0] for g in groups], [g[1][0] for g in groups]
        rows.append({"level": level, "postings": len(both), "agree": float(np.mean([x == y for x, y in zip(a, b)])),
                     "kappa": _kappa(a, b), "kappa_ci": _bootstrap(groups, _kappa)})
    return rows


def unit_agreement(first: Dict[str, list], second: Dict[str, list]) -> dict:
    groups = []
    for pid in sorted(set(first) & set(second)):
        a, b = [], []
        for s, e, label in second[pid]:
            best, overlap = None, 0
            for s1, e1, l1 in first[pid]:
                o = min(e, e1) - max(s, s1)
                if o > overlap:
                    best, overlap = l1, o
            a.append(best or "NONE")
            b.append(label)
        groups.append((a, b))
    a = [x for g in groups for x in g[0]]
    b = [x for g in groups for x in g[1]]
    duty = [([x == "DUTY" for x in g[0]], [x == "DUTY" for x in g[1]]) for g in groups]
    return {"postings": len(groups), "units": len(a), "agree": float(np.mean([x == y for x, y in zip(a, b)])),
            "kappa": _kappa(a, b), "kappa_ci": _bootstrap(groups, _kappa),
            "duty_kappa": _kappa([x == "DUTY" for x in a], [x == "DUTY" for x in b]),
            "duty_kappa_ci": _bootstrap(duty, _kappa), "unmatched": a.count("NONE")}


def main(argv: Optional[list] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("-o", "--output", type=Path, help="write the Markdown report here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    posts = real_postings.by_id()
    lines = ["# Hand labels of real postings: counts and agreement\n",
             f"`python benchmarks/label_agreement.py {args.folder}`; guide: `docs/labelling.md`.\n"]
    f = args.folder
    if (f / "soc.jsonl").is_file():
        soc = check_codes(real_postings.read_labels("soc.jsonl", f), posts, "soc.jsonl")
        majors = Counter(c[:2] for c in soc.values())
        split = Counter(posts[p]["split"] for p in soc)
        sources = Counter(posts[p]["source"] for p in soc)
        by_source = ", ".join(f"{k} {v}" for k, v in sorted(sources.items()))
        lines += [f"Occupation codes: {len(soc):,} postings ({by_source}; test split {split['test']}), "
                  f"{len(majors)} SOC major groups, "
                  f"{len(set(soc.values()))} distinct codes.\n"]
        if (f / "soc_second.jsonl").is_file():
            second = check_codes(real_postings.read_labels("soc_second.jsonl", f), posts, "soc_second.jsonl")
            lines += ["| level | postings | agreement | Cohen's kappa (95 % interval) |", "| --- | --- | --- | --- |"]
            for r in code_agreement(soc, second):
                lines.append(f"| {r['level']} | {r['postings']} | {r['agree']:.3f} | {r['kappa']:.3f} "
                             f"({r['kappa_ci'][0]:.3f}-{r['kappa_ci'][1]:.3f}) |")
            lines.append("")
    if (f / "units.jsonl").is_file():
        units = check_units(real_postings.read_labels("units.jsonl", f), posts, "units.jsonl")
        counts = Counter(label for spans in units.values() for _, _, label in spans)
        sources = Counter(posts[p]["source"] for p in units)
        lines += [f"Units: {sum(counts.values()):,} in {len(units)} postings "
                  f"({', '.join(f'{k} {v}' for k, v in sorted(sources.items()))}); "
                  + ", ".join(f"{lab} {counts[lab]:,}" for lab in LABELS) + ".\n"]
        if (f / "units_second.jsonl").is_file():
            second_units = check_units(real_postings.read_labels("units_second.jsonl", f), posts,
                                       "units_second.jsonl")
            r = unit_agreement(units, second_units)
            lines += [f"Second pass: {r['units']:,} units of {r['postings']} postings, {r['unmatched']} without an "
                      f"overlapping first-pass unit; agreement {r['agree']:.3f}, Cohen's kappa {r['kappa']:.3f} "
                      f"({r['kappa_ci'][0]:.3f}-{r['kappa_ci'][1]:.3f}); DUTY against the rest: kappa "
                      f"{r['duty_kappa']:.3f} ({r['duty_kappa_ci'][0]:.3f}-{r['duty_kappa_ci'][1]:.3f}).\n"]
    publish("\n".join(lines), args.output, logger)


if __name__ == "__main__":
    main()
