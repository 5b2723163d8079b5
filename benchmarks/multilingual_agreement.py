"""Agreement of the second, independent coding of a sample of the multilingual development sets.

``benchmarks/data/multilingual/ads_second.tsv`` (ISCO-08, 60 ads) and ``titles_second.tsv`` (SOC 2018, 80
titles) against the codes in ``ads_eu.jsonl`` and ``titles_zh.tsv``: exact agreement and Cohen's kappa at each
level of the classification.

    python benchmarks/multilingual_agreement.py
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from sklearn.metrics import cohen_kappa_score

DATA = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "multilingual"


def _second(name: str, column: str) -> dict:
    with open(DATA / name, encoding="utf-8") as f:
        return {r["id"]: r[column] for r in csv.DictReader(f, delimiter="\t")}


def lines() -> list:
    ads = {r["id"]: r["isco08"] for r in map(json.loads, open(DATA / "ads_eu.jsonl", encoding="utf-8"))}
    with open(DATA / "titles_zh.tsv", encoding="utf-8") as f:
        titles = {r["id"]: r["soc_code"] for r in csv.DictReader(f, delimiter="\t")}
    out = ["| sample | level | n | agreement | Cohen's kappa |", "| --- | --- | ---: | ---: | ---: |"]
    for name, first, second, levels in (
            ("ads, ISCO-08", ads, _second("ads_second.tsv", "isco08"), ((1, "1 digit"), (2, "2 digits"),
                                                                       (4, "4 digits"))),
            ("titles, SOC 2018", titles, _second("titles_second.tsv", "soc_code"), ((2, "major group"),
                                                                                   (4, "minor group"),
                                                                                   (7, "detailed")))):
        ids = sorted(second)
        for cut, label in levels:
            a = [first[i][:cut] for i in ids]
            b = [second[i][:cut] for i in ids]
            agree = sum(x == y for x, y in zip(a, b)) / len(ids)
            out.append(f"| {name} | {label} | {len(ids)} | {agree:.2f} | {cohen_kappa_score(a, b):.2f} |")
    return out


if __name__ == "__main__":
    sys.stdout.write("\n".join(lines()) + "\n")
