"""Postings and titles in other languages: how many are scored, and do they agree with English?

Three development sets written for this project (``benchmarks/data/multilingual``, see its README: text we
write ourselves flatters us, so these figures are an upper bound of what real postings give):

1. ``postings_zh.jsonl``: Chinese postings (Traditional, Hong Kong style, some mixing English lines;
   Simplified, mainland style) with a faithful English translation and a SOC 2018 code. Reported: the share
   scored, exposure of the Chinese text against its English translation (Spearman, mean absolute
   difference), the coded occupation among the top 1 / top 3 and its major group, for both versions.
2. ``titles_zh.tsv``: Hong Kong and mainland job titles, Chinese and English forms of the same job, noisy as
   posted, with a SOC 2018 code. Reported: how often the two forms land in the same SOC major group (top
   code of each), each form's major-group and top-3 agreement with the code, and abstentions.
3. ``ads_eu.jsonl``: job ads in German, Polish, French, Spanish, Dutch, Italian and Portuguese with an ISCO-08
   unit group. Reported: the share scored and ISCO-08 agreement at 1, 2 and 4 digits of the groups
   ``score-postings --taxonomy isco08`` writes (``exposure.occupations.isco_codes``), against always answering
   the most frequent group.

    python benchmarks/eval_multilingual.py --report benchmarks/results/multilingual.md
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import platform
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from _common import publish  # noqa: E402
DATA = ROOT / "benchmarks" / "data" / "multilingual"
logger = logging.getLogger("eval_multilingual")


def soc6(code):
    return code[:7] if code else None


def major(code):
    return code[:2] if code else None


def spearman(a, b) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def postings_zh(scorer) -> list:
    rows = [json.loads(line) for line in open(DATA / "postings_zh.jsonl", encoding="utf-8")]
    zh = scorer.score([r["title"] for r in rows], [r["text"] for r in rows])
    en = scorer.score([r["title_en"] for r in rows], [r["text_en"] for r in rows])
    ok = np.array([s in ("ok", "truncated", "no_duties_occupation_fallback") for s in zh.status])
    per = np.array([len(r["duties_en"]) for r in rows])
    listed = int(per.sum())
    both = ok & np.isfinite(en.exposure) & np.isfinite(zh.exposure)
    lines = ["## Chinese postings against their English translation", "",
             f"{len(rows)} postings ({sum(r['script'] == 'traditional' for r in rows)} Traditional, "
             f"{sum(r['script'] == 'simplified' for r in rows)} Simplified): `postings_zh.jsonl`.", "",
             "| | Chinese | English translation |", "| --- | ---: | ---: |",
             f"| scored | {ok.mean():.1%} | {np.isfinite(en.exposure).mean():.1%} |",
             f"| statuses | {dict(Counter(zh.status))} | {dict(Counter(en.status))} |",
             f"| duties per posting (median) | {np.median(zh.n_duties):.0f} | {np.median(en.n_duties):.0f} |",
             f"| duties found, all postings (the translations list {listed}) | {int(zh.n_duties.sum())} | "
             f"{int(en.n_duties.sum())} |",
             f"| mean absolute difference from the duties listed, per posting | "
             f"{np.mean(np.abs(zh.n_duties - per)):.2f} | {np.mean(np.abs(en.n_duties - per)):.2f} |",
             f"| mean exposure | {np.nanmean(zh.exposure):.3f} | {np.nanmean(en.exposure):.3f} |"]
    gold = [r["soc_code"] for r in rows]
    for what, cut in (("coded occupation is the top code", "top1"), ("coded occupation in the top 3", "top3"),
                      ("top code in the coded major group", "major")):
        cells = []
        for s in (zh, en):
            if cut == "top3":
                hits = [g in {soc6(x) for x in c if x} for g, c in zip(gold, s.soc_codes)]
            elif cut == "top1":
                hits = [soc6(c[0]) == g for c, g in zip(s.soc_codes, gold)]
            else:
                hits = [major(soc6(c[0])) == major(g) for c, g in zip(s.soc_codes, gold)]
            cells.append(f"{np.mean(hits):.2f}")
        lines.append(f"| {what} | {cells[0]} | {cells[1]} |")
    rho = spearman(zh.exposure[both], en.exposure[both])
    mad = float(np.mean(np.abs(zh.exposure[both] - en.exposure[both])))
    same = np.mean([major(soc6(a[0])) == major(soc6(b[0])) for a, b in zip(zh.soc_codes, en.soc_codes)])
    lines += ["", f"Exposure, Chinese against English, over the {int(both.sum())} postings both scored: Spearman "
              f"**{rho:.3f}**, mean absolute difference {mad:.3f}. Same top SOC major group: {same:.2f}.", ""]
    return lines


def titles_zh(assigner, mencoder) -> list:
    with open(DATA / "titles_zh.tsv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    from exposure.multilingual import clean_title

    zh_q = [clean_title(r["title_zh"]) for r in rows]
    en_q = assigner.title_queries([r["title_en"] for r in rows])
    zh = assigner.assign_embeddings(zh_q, mencoder.encode(zh_q), np.zeros((0, mencoder.dim), np.float32),
                                    np.zeros(0, np.int64), k=3)
    en = assigner.assign_embeddings(en_q, assigner.encoder.encode(en_q), np.zeros((0, mencoder.dim), np.float32),
                                    np.zeros(0, np.int64), k=3)
    gold = [r["soc_code"] for r in rows]
    lines = ["## Job titles: the Chinese and English names of the same job", "",
             f"{len(rows)} titles (`titles_zh.tsv`: {sum(r['script'] == 'traditional' for r in rows)} Traditional, "
             f"{sum(r['script'] == 'simplified' for r in rows)} Simplified), noisy as posted; top code of each "
             "form, no abstention.", "",
             "| | same major group as the other form | major group = coded | top 3 has the coded occupation |",
             "| --- | ---: | ---: | ---: |"]
    same = np.mean([major(soc6(a[0])) == major(soc6(b[0])) for a, b in zip(zh.codes, en.codes)])
    for name, s in (("Chinese", zh), ("English", en)):
        mg = np.mean([major(soc6(c[0])) == major(g) for c, g in zip(s.codes, gold)])
        t3 = np.mean([g in {soc6(x) for x in c if x} for c, g in zip(s.codes, gold)])
        lines.append(f"| {name} | {same:.2f} | {mg:.2f} | {t3:.2f} |")
    for script in ("traditional", "simplified"):
        m = [r["script"] == script for r in rows]
        s = np.mean([major(soc6(a[0])) == major(soc6(b[0])) for a, b, k in zip(zh.codes, en.codes, m) if k])
        lines.append(f"| {script} only | {s:.2f} | | |")
    lines += ["", "Confidence of the top code against how often it is the coded occupation (titles alone):", "",
              "| form | confidence | titles | mean confidence | top code right |", "| --- | --- | ---: | ---: | ---: |"]
    for name, s in (("Chinese", zh), ("English", en)):
        conf = np.array([c[0] for c in s.confidence], dtype=float)
        hit = np.array([soc6(c[0]) == g for c, g in zip(s.codes, gold)])
        for lo, hi in ((0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 1.01)):
            m = (conf >= lo) & (conf < hi)
            if m.any():
                lines.append(f"| {name} | [{lo}, {min(hi, 1.0)}) | {int(m.sum())} | {conf[m].mean():.2f} | "
                             f"{hit[m].mean():.2f} |")
    lines += ["", "Both forms are under-confident on these titles (the calibration was fitted on real postings, "
              "title and duties), the Chinese more: an abstention threshold abstains more often than it needs to.",
              ""]
    lines += parallel_index(rows, zh_q, zh, en, mencoder)
    return lines


def parallel_index(rows, queries, mapped, english, mencoder, k: int = 30, tau: float = 0.05) -> list:
    """The alternative design: a nearest-neighbour vote over the O*NET titles encoded by the multilingual encoder
    itself, no map (top ``k`` titles, softmax weights at temperature ``tau``)."""
    from exposure.occupations.catalogue import load_titles

    table = load_titles()
    texts = sorted(set(table["title"].to_pylist()))
    slot = {t: i for i, t in enumerate(texts)}
    owners = defaultdict(set)
    for t, c in zip(table["title"].to_pylist(), table["soc_code"].to_pylist()):
        owners[slot[t]].add(c)
    sims = mencoder.encode_native(queries) @ mencoder.encode_native(texts).T
    top = np.argsort(-sims, axis=1)[:, :k]
    pred = []
    for i in range(len(queries)):
        votes: dict = defaultdict(float)
        for j in top[i]:
            for c in owners[j]:
                votes[c] += np.exp((sims[i, j] - sims[i, top[i, 0]]) / tau) / len(owners[j])
        pred.append(max(votes.items(), key=lambda kv: kv[1])[0])
    gold = [r["soc_code"] for r in rows]
    en_major = [major(soc6(c[0])) for c in english.codes]
    out = ["Design check: the same Chinese titles through a parallel index (the O*NET titles encoded by the "
           f"multilingual encoder itself, a vote over the {k} nearest) instead of the map into MiniLM's space "
           "and the shipped assigner:", "",
           "| | top code right | major group right | same major group as the English form |",
           "| --- | ---: | ---: | ---: |"]
    for name, codes in (("mapped into MiniLM's space (shipped)", [soc6(c[0]) for c in mapped.codes]),
                        ("parallel multilingual index", [soc6(c) for c in pred])):
        out.append(f"| {name} | {np.mean([c == g for c, g in zip(codes, gold)]):.2f} | "
                   f"{np.mean([major(c) == major(g) for c, g in zip(codes, gold)]):.2f} | "
                   f"{np.mean([major(c) == e for c, e in zip(codes, en_major)]):.2f} |")
    return out + ["", "The map does as well and serves the heads, the unit classifier and the task index too; a "
                  "parallel design would need each of them again.", ""]


def ads_eu(scorer) -> list:
    rows = [json.loads(line) for line in open(DATA / "ads_eu.jsonl", encoding="utf-8")]
    s = scorer.score([r["title"] for r in rows], [r["text"] for r in rows])
    t = s.to_arrow()
    # the likeliest group at each level (summed probabilities), as score-postings --taxonomy isco08 writes them
    level = {1: t["isco08_major"].to_pylist(), 2: t["isco08_sub_major"].to_pylist(), 4: t["isco08_1"].to_pylist()}
    gold = [r["isco08"] for r in rows]
    ok = np.array([st in ("ok", "truncated", "no_duties_occupation_fallback") for st in s.status])
    lines = ["## Job ads in European languages, ISCO-08", "",
             f"{len(rows)} ads (`ads_eu.jsonl`: {dict(Counter(r['language'] for r in rows))}).", "",
             "| | scored | ISCO-08 1 digit | 2 digits | 4 digits |", "| --- | ---: | ---: | ---: | ---: |"]
    acc = {d: np.mean([(o or "") == g[:d] for o, g in zip(level[d], gold)]) for d in (1, 2, 4)}
    base = {d: Counter(g[:d] for g in gold).most_common(1)[0][1] / len(gold) for d in (1, 2, 4)}
    lines.append(f"| all | {ok.mean():.1%} | {acc[1]:.2f} | {acc[2]:.2f} | {acc[4]:.2f} |")
    for lang in sorted({r["language"] for r in rows}):
        m = [r["language"] == lang for r in rows]
        a = {d: np.mean([(o or "") == g[:d] for o, g, k in zip(level[d], gold, m) if k]) for d in (1, 2, 4)}
        lines.append(f"| {lang} | {np.mean([x for x, k in zip(ok, m) if k]):.0%} | {a[1]:.2f} | {a[2]:.2f} | "
                     f"{a[4]:.2f} |")
    lines.append(f"| always the most frequent group | | {base[1]:.2f} | {base[2]:.2f} | {base[4]:.2f} |")
    lines += ["", f"Languages found: {dict(Counter(s.language))}; statuses: {dict(Counter(s.status))}.", ""]
    return lines


def english_unchanged(model, assigner) -> list:
    """The real postings (``benchmarks/real_postings.py``) scored with other languages read and without."""
    import real_postings

    from exposure.language import has_cjk
    from exposure.postings import PostingScorer

    posts = real_postings.load()
    titles, texts = [p["title"] for p in posts], [p["text"] for p in posts]
    runs = {}
    for multilingual in (False, True):
        scorer = PostingScorer(model, assigner=assigner, multilingual=multilingual)
        start = time.perf_counter()
        runs[multilingual] = (scorer.score(titles, texts), time.perf_counter() - start)
    (off, t_off), (on, t_on) = runs[False], runs[True]
    english = np.array([lang == "en" for lang in on.language])
    cjk = np.array([has_cjk(t) for t in texts])
    plain = english & ~cjk
    gap = float(np.nanmax(np.abs(np.column_stack([off.exposure, off.technology_scores])[plain]
                                 - np.column_stack([on.exposure, on.technology_scores])[plain])))
    codes_same = all(a == b for a, b, k in zip(off.soc_codes.tolist(), on.soc_codes.tolist(), plain) if k)
    moved = int((off.exposure[plain] != on.exposure[plain]).sum())
    return ["## English postings", "",
            f"The {len(posts):,} real postings of `shared/data/postings_real` scored with other languages read "
            f"and without (English only): {int(english.sum()):,} read as English, {int((english & cjk).sum())} of "
            f"them with Chinese, Japanese or Korean characters, whose units in those scripts now go through the "
            f"multilingual encoder; other languages: {dict(Counter(x for x in on.language if x != 'en'))}. Over "
            f"the {int(plain.sum()):,} English postings without such characters: occupation codes the same: "
            f"{codes_same}; exposure different in {moved}, largest difference of exposure and technology scores "
            f"{gap:.1e} (the English encoder's length-sorted batches differ once those units leave them; a batch "
            "without such characters goes the English path unchanged, which tests/postings/test_multilingual.py checks "
            "to the bit). Wall time, a fresh scorer each, the encoder "
            f"warm: {t_off:.1f} s English only, {t_on:.1f} s with other languages read ({t_on / t_off:.2f}x).", ""]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--report", type=Path, help="write the Markdown report here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from exposure.multilingual import MultilingualEncoder
    from exposure.occupations import OccupationAssigner
    from exposure.postings import PostingScorer
    from exposure.scoring import ExposureModel

    start = time.perf_counter()
    model = ExposureModel(device="cpu")
    assigner = OccupationAssigner(model.encoder)
    scorer = PostingScorer(model, assigner=assigner, multilingual=True, taxonomy="isco08")
    lines = ["# Postings and titles in other languages", "",
             "Development sets written for this project (`benchmarks/data/multilingual`, README there), not "
             "real postings: an upper bound of what real text gives. Multilingual encoder: USE multilingual v3 "
             "mapped into all-MiniLM-L6-v2's space (`models/multilingual`, `benchmarks/fit_multilingual.py`).",
             "", f"Command: `python benchmarks/eval_multilingual.py --report benchmarks/results/multilingual.md`; "
             f"machine: {platform.machine()}, {platform.processor() or 'CPU'}, Python {platform.python_version()}.",
             ""]
    if (DATA / "postings_zh.jsonl").exists():
        lines += postings_zh(scorer)
    if (DATA / "titles_zh.tsv").exists():
        lines += titles_zh(assigner, MultilingualEncoder())
    if (DATA / "ads_eu.jsonl").exists():
        lines += ads_eu(scorer)
    lines += english_unchanged(model, assigner)
    import multilingual_agreement

    lines += ["## Agreement of the codes", "", "A second, independent coding of a sample "
              "(`python benchmarks/multilingual_agreement.py`):", "", *multilingual_agreement.lines(), ""]
    lines.append(f"Run time: {time.perf_counter() - start:.0f} s.")
    publish("\n".join(lines) + "\n", args.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
