"""Build postings.jsonl and labels.jsonl from the marked-up sources (source_*.txt).

Each source posting starts with ``=== id | title | soc_code``; its body is the
posting text with label markers ``{D}`` DUTY, ``{R}`` REQUIREMENT, ``{C}``
COMPANY, ``{B}`` BENEFIT, ``{L}`` LEGAL, ``{O}`` OTHER. A marker labels all
the text up to the next marker. The text without markers is the posting; each
unit of ``exposure.postings.split_units`` gets the label of the marked span it
lies in, found by a left-to-right alignment of the units with the normalised
spans. A unit that straddles two spans (the splitter missed a boundary the
labeller marked) is an error: fix the splitter or the markers.

Rerun after changing ``split_units``:  python tests/data/postings/build.py [FOLDER]
(FOLDER: another folder of ``source_*.txt`` files in this format, such as the
held-out postings in benchmarks/data/postings_heldout; default: this one.)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from exposure.postings import normalize, segment  # noqa: E402

CODES = {"D": "DUTY", "R": "REQUIREMENT", "C": "COMPANY", "B": "BENEFIT", "L": "LEGAL", "O": "OTHER"}
MARKER = re.compile(r"\{([DRCBLO])\}")


def parse_sources(folder: Path = HERE) -> list[dict]:
    postings = []
    for path in sorted(folder.glob("source_*.txt")):
        for block in re.split(r"^=== ", path.read_text(encoding="utf-8"), flags=re.M)[1:]:
            head, _, body = block.partition("\n")
            pid, title, soc = (x.strip() for x in head.split("|"))
            pieces = MARKER.split(body.strip())
            if pieces[0].strip():
                raise ValueError(f"{pid}: text before the first marker: {pieces[0][:60]!r}")
            spans = [(CODES[pieces[i]], pieces[i + 1]) for i in range(1, len(pieces), 2)]
            postings.append({"id": pid, "title": title, "soc_code": soc, "spans": spans,
                             "text": "".join(t for _, t in spans).strip()})
    return postings


def label_units(posting: dict) -> list[tuple[str, str, bool]]:
    """(unit, label, is_header) for every unit, aligned with the marked spans."""
    flat, bounds = "", []
    for label, raw in posting["spans"]:
        norm = " ".join(normalize(raw).split())
        start = len(flat)
        flat += norm + " "
        bounds.append((start, len(flat), label))
    out, cursor = [], 0
    for unit in segment(posting["text"]):
        text = " ".join(unit.text.split())
        at = flat.find(text, cursor)
        if at < 0:
            raise ValueError(f"{posting['id']}: unit {unit.text!r} is not inside one marked span")
        span = next(b for b in bounds if b[0] <= at < b[1])
        if at + len(text) > span[1]:
            raise ValueError(f"{posting['id']}: unit {unit.text!r} straddles two marked spans")
        out.append((unit.text, span[2], unit.header))
        cursor = at + len(text)
    return out


def main(folder: Path = HERE) -> None:
    postings = parse_sources(folder)
    ids = [p["id"] for p in postings]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate posting ids")
    with open(folder / "postings.jsonl", "w", encoding="utf-8") as fp, \
            open(folder / "labels.jsonl", "w", encoding="utf-8") as fl:
        counts: dict[str, int] = {}
        for p in postings:
            labels: dict[str, str] = {}
            for unit, label, header in label_units(p):
                if labels.get(unit, label) != label:
                    raise ValueError(f"{p['id']}: unit {unit!r} labelled both {labels[unit]} and {label}")
                labels[unit] = label
                counts[label] = counts.get(label, 0) + 1
                if header and label != "OTHER":
                    print(f"note {p['id']}: header-like unit {unit!r} labelled {label}")
            fp.write(json.dumps({k: p[k] for k in ("id", "title", "soc_code", "text")}, ensure_ascii=False) + "\n")
            fl.write(json.dumps({"id": p["id"], "labels": labels}, ensure_ascii=False) + "\n")
    print(f"{len(postings)} postings, {sum(counts.values())} units: {counts}")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else HERE)
