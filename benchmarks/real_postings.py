"""The real postings of ``shared/data/postings_real`` with stable ids, one text each, and their fixed split.

Labels (``benchmarks/data/real_postings/``) refer to a posting by its id and to a unit by character
offsets into the text this module gives, so no posting text is copied into the labels (the NHS adverts
may not be shipped). Ids and texts:

* ``usajobs:<number>``: the last part of the vacancy ``URI``; text = ``JobSummary``, a blank line,
  ``QualificationSummary`` (as in the file: public domain).
* ``nhs:<number>``: the last part of the vacancy ``url``; text = ``description`` with its HTML character
  references decoded (``html.unescape``; the title's too); the tags stay in the text.
* ``linkedin:<job_id>``: text = ``description`` (CC BY-SA 4.0).

The split is fixed by posting: a posting is in the test split when the first 8 hex digits of the SHA-1 of
its id, as a number, are divisible by 5 (about a fifth of the postings). Never train on it.

    python benchmarks/real_postings.py --sample 20 --seed 1     # ids and titles of a random sample
    python benchmarks/real_postings.py --show nhs:916241830     # one posting's text with character offsets

The source folder is ``$EXPOSURE_DATA/postings_real`` (default ``../shared/data``).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import html
import json
import os
import random
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Optional

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("usajobs", "nhs", "linkedin")
#: Where the hand labels of these postings are kept (``docs/labelling.md``).
LABELS_DIR = Path(__file__).resolve().parent / "data" / "real_postings"


def data_dir() -> Path:
    """The folder of the real postings."""
    return Path(os.environ.get("EXPOSURE_DATA", ROOT.parent / "shared" / "data")) / "postings_real"


def _usajobs(folder: Path) -> Iterator[dict]:
    csv.field_size_limit(1 << 30)
    with open(folder / "usajobs_2017.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            text = (row["JobSummary"] or "") + "\n\n" + (row["QualificationSummary"] or "")
            yield {"id": "usajobs:" + row["URI"].rstrip("/").rsplit("/", 1)[-1], "source": "usajobs",
                   "title": row["PositionTitle"], "text": text}


def _nhs(folder: Path) -> Iterator[dict]:
    with open(folder / "nhs_jobs_2020.jsonl", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                yield {"id": "nhs:" + row["url"].rstrip("/").rsplit("/", 1)[-1], "source": "nhs",
                       "title": html.unescape(row.get("title") or ""),
                       "text": html.unescape(row.get("description") or "")}


def _linkedin(folder: Path) -> Iterator[dict]:
    csv.field_size_limit(1 << 30)
    with open(folder / "linkedin_2023_24.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            yield {"id": "linkedin:" + row["job_id"], "source": "linkedin", "title": row["title"] or "",
                   "text": row["description"] or ""}


def load(sources=SOURCES, folder: Optional[Path] = None) -> List[dict]:
    """Every posting of ``sources``: ``id``, ``source``, ``title``, ``text``, ``split`` (``"train"`` or ``"test"``).

    >>> posts = load()                                                     # doctest: +SKIP
    >>> len(posts), sum(p["split"] == "test" for p in posts) / len(posts)   # doctest: +SKIP
    (2877, 0.2...)
    """
    folder = data_dir() if folder is None else folder
    readers = {"usajobs": _usajobs, "nhs": _nhs, "linkedin": _linkedin}
    out = []
    for s in sources:
        for p in readers[s](folder):
            p["split"] = split_of(p["id"])
            out.append(p)
    ids = [p["id"] for p in out]
    if len(set(ids)) != len(ids):
        raise ValueError("posting ids repeat: the id rule no longer tells the postings apart")
    return out


def split_of(posting_id: str) -> str:
    """``"test"`` or ``"train"``: fixed by the id alone.

    >>> split_of("linkedin:921716") in ("test", "train")
    True
    """
    return "test" if int(hashlib.sha1(posting_id.encode("utf-8")).hexdigest()[:8], 16) % 5 == 0 else "train"


def by_id(sources=SOURCES) -> Dict[str, dict]:
    """:func:`load` keyed by posting id."""
    return {p["id"]: p for p in load(sources)}


def read_labels(name: str, folder: Optional[Path] = None) -> List[dict]:
    """The lines of one labels file (``soc.jsonl``, ``units.jsonl``, ...) of ``folder`` (default
    :data:`LABELS_DIR`), as dicts.

    >>> len(read_labels("soc.jsonl")) >= 1000                            # doctest: +SKIP
    True
    """
    with open((LABELS_DIR if folder is None else folder) / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def coded() -> Dict[str, str]:
    """The hand-coded O*NET-SOC code of each coded posting (``soc.jsonl``), by posting id.

    >>> len(coded()) >= 1000                                             # doctest: +SKIP
    True
    """
    return {r["posting_id"]: r["soc_code"] for r in read_labels("soc.jsonl")}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample", type=int, help="print the ids and titles of a random sample of this size")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--show", help="print one posting's text, each line with its character offset")
    args = ap.parse_args(argv)
    posts = load()
    if args.show:
        p = by_id()[args.show]
        sys.stdout.write(f"{p['id']} ({p['split']}): {p['title']}\n")
        pos = 0
        for line in p["text"].splitlines(keepends=True):
            sys.stdout.write(f"{pos:6d} {line}")
            pos += len(line)
        sys.stdout.write("\n")
    if args.sample:
        for p in random.Random(args.seed).sample(posts, args.sample):
            sys.stdout.write(f"{p['id']}\t{p['split']}\t{p['title']}\n")


if __name__ == "__main__":
    main()
