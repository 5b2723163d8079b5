"""Sentence splitters inside the engine's segmentation, against the annotators' units of real postings.

    pip install pysbd blingfire syntok   # the other candidates; those missing are left out
    python benchmarks/eval_segmentation.py -o benchmarks/results/segmentation.md

``exposure.postings.segment`` normalises a posting (HTML out, lines, text whose line breaks were lost cut where
they were), joins hard-wrapped lines, keeps bullet lines and headers, and cuts the rest into sentences with
sentencex (before: the engine's own rules, kept here as "former rules"). Here that splitter is
swapped for each candidate in turn (everything else unchanged) and the units are compared with the
annotators' units of ``benchmarks/data/real_postings/units.jsonl`` (guide version 1): a predicted unit is
right when its text, white space collapsed, equals an annotator's unit's; precision, recall and F1 of units
per source, and the time per posting. Choose on the train split; the test split is reported alongside.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable, Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_postings  # noqa: E402
from _common import publish  # noqa: E402

logger = logging.getLogger("eval_segmentation")


def _key(text: str) -> str:
    return " ".join(text.split()).strip(" \u2022-*").lower()


# The engine's own sentence rules before it took sentencex: a stop, closing quotes or brackets, white space and
# a capital or digit end a sentence, unless the word before the stop is an abbreviation or an initial.
_ABBREVIATIONS = frozenset("""
e.g i.e etc vs inc co corp ltd llc dr mr mrs ms jr sr st ave blvd rd no nos approx dept est min max
a.m p.m u.s u.s.a jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun
ph.d m.d r.n b.s b.a m.s m.b.a hr fig pp ext tel incl assoc univ mt ft lbs oz yrs
""".split())
_SENTENCE_END_RE = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9$])")


def rules(text: str) -> List[str]:
    """The sentences of ``text`` by the engine's former rules."""
    out, start = [], 0
    for m in _SENTENCE_END_RE.finditer(text):
        if m.group(0).startswith("."):
            word = text[start:m.start()].rsplit(None, 1)[-1] if text[start:m.start()].strip() else ""
            word = word.lstrip("(\"'\u201c").lower()
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
        piece = text[start:m.end()].strip()
        if piece:
            out.append(piece)
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def splitters() -> Dict[str, Optional[Callable[[str], List[str]]]]:
    """Each candidate as ``text -> sentences``; ``None`` for the engine's own splitter (sentencex)."""
    out: Dict[str, Optional[Callable[[str], List[str]]]] = {"engine (sentencex)": None, "former rules": rules}
    try:
        import pysbd

        seg = pysbd.Segmenter(language="en", clean=False)
        out["pysbd"] = lambda t: [s.strip() for s in seg.segment(t)]
    except ImportError:
        logger.warning("pysbd is not installed: left out")
    try:
        import blingfire

        out["blingfire"] = lambda t: [s.strip() for s in blingfire.text_to_sentences(t).split("\n")]
    except ImportError:
        logger.warning("blingfire is not installed: left out")
    try:
        from syntok import segmenter

        out["syntok"] = lambda t: ["".join(tok.spacing + tok.value for tok in s).strip()
                                   for para in segmenter.process(t) for s in para]
    except ImportError:
        logger.warning("syntok is not installed: left out")
    return out


def main(argv: Optional[list] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", type=Path, help="write the Markdown report here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from exposure.postings import segmentation

    posts = real_postings.by_id()
    gold: Dict[str, Counter] = defaultdict(Counter)
    for row in real_postings.read_labels("units.jsonl"):
        text = posts[row["posting_id"]]["text"][row["start"]:row["end"]]
        key = _key(segmentation.normalize(text))
        if key:
            gold[row["posting_id"]][key] += 1
    ids = sorted(gold)
    own = segmentation._split_sentences
    lines = ["# Sentence splitters in the engine's segmentation, on real postings\n",
             f"`python benchmarks/eval_segmentation.py`: {len(ids)} postings of "
             "`benchmarks/data/real_postings/units.jsonl` (guide version 1); a unit is right when its text equals "
             "an annotator's unit's (white space collapsed, case and bullet marks ignored). Only the sentence "
             "splitter changes; normalising, bullets, headers and line joins are the engine's.\n",
             "| splitter | split | source | postings | units | precision | recall | F1 | ms per posting |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, split_fn in splitters().items():
        segmentation._split_sentences = own if split_fn is None else (lambda t, f=split_fn: [s for s in f(t) if s])
        segmentation.clear_caches()
        found: Dict[str, Counter] = {}
        start = time.perf_counter()
        for pid in ids:
            found[pid] = Counter(k for k in map(_key, segmentation.split_units(posts[pid]["text"])) if k)
        ms = 1000 * (time.perf_counter() - start) / len(ids)
        for split in ("train", "test"):
            for source in ("all", *real_postings.SOURCES):
                sel = [p for p in ids if posts[p]["split"] == split and source in ("all", posts[p]["source"])]
                hit = sum(sum((found[p] & gold[p]).values()) for p in sel)
                n_found = sum(sum(found[p].values()) for p in sel)
                n_gold = sum(sum(gold[p].values()) for p in sel)
                prec, rec = hit / max(n_found, 1), hit / max(n_gold, 1)
                f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
                lines.append(f"| {name} | {split} | {source} | {len(sel)} | {n_gold:,} | {prec:.3f} | {rec:.3f} | "
                             f"{f1:.3f} | {ms:.2f} |")
    segmentation._split_sentences = own
    segmentation.clear_caches()
    publish("\n".join(lines) + "\n", args.output, logger)


if __name__ == "__main__":
    main()
