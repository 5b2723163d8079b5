"""Turn a pytest-benchmark JSON file into a markdown table with ratios to the baselines.

    python -m pytest benchmarks/bench_kernels.py --benchmark-json=/tmp/kernels.json
    python benchmarks/report.py /tmp/kernels.json -o benchmarks/results/kernels.md

For the kernels:
Rows are grouped by the benchmark group (problem size). Each row gives the median,
min and max time, GFLOP/s at the median (2*n*m*d / time, the matmul work whatever
the reduction), and the ratio of the median time of each baseline to ours for the
same reduction (> 1: ours is faster), plus the ratio to numpy's raw sgemm.
For rate benchmarks (``extra_info`` has ``items``, e.g. bench_encoder.py): items/s
and the ratio to the case named in ``extra_info["baseline"]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections import defaultdict
from pathlib import Path


def machine() -> str:
    """CPU model, cores and OS, e.g. 'AMD EPYC (2 cores), Linux'."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return f"{model} ({os.cpu_count()} cores), {platform.system()}, Python {sys.version.split()[0]}"


def _op(case: str) -> str:
    return case.split()[-1]


def render(data: dict, title: str = "") -> str:
    """Markdown for a kernel run (GFLOP/s, ratios per reduction) or a rate run (items/s vs one baseline)."""
    if "items" in data["benchmarks"][0]["extra_info"]:
        return render_rates(data, title or "Throughput")
    groups = defaultdict(list)
    for b in data["benchmarks"]:
        groups[b["group"]].append(b)
    info = data.get("machine_info", {})
    first = data["benchmarks"][0]["extra_info"]
    lines = [
        "# " + (title or "Similarity kernels: exposure._core against numpy, torch and faiss"),
        "",
        f"Machine: {machine()}; kernel ISA `{first.get('isa')}`, {first.get('threads')} threads for every case; "
        f"run {data.get('datetime', '')[:19]} UTC with pytest-benchmark "
        f"({info.get('python_implementation', '')} {info.get('python_version', '')}).",
        "",
        "GFLOP/s = 2·n·m·d / median time. 'vs numpy', 'vs torch', 'vs faiss': the baseline's median time "
        "for the same reduction divided by ours (> 1 means `_core` is faster). 'of sgemm': our rate as a "
        "share of numpy's raw chunked sgemm (no reduction) in the same run.",
    ]
    for group, rows in groups.items():
        med = {b["extra_info"]["case"]: b["stats"]["median"] for b in rows}
        n, m, d = (rows[0]["extra_info"][k] for k in ("n", "m", "d"))
        flop = 2 * n * m * d
        lines += ["", f"## {group}", "",
                  "| case | median s | min s | max s | GFLOP/s | vs numpy | vs torch | vs faiss | of sgemm |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for b in sorted(rows, key=lambda b: (b["extra_info"]["case"].split()[0] != "core", b["extra_info"]["case"])):
            case, s = b["extra_info"]["case"], b["stats"]
            ratios = ["", "", "", ""]
            if case.startswith("core"):
                op = _op(case)
                for i, base in enumerate((f"numpy {op}", f"torch {op}", f"faiss IndexFlatIP {op}")):
                    if base in med:
                        ratios[i] = f"{med[base] / s['median']:.2f}×"
                if "numpy sgemm" in med:
                    ratios[3] = f"{med['numpy sgemm'] / s['median']:.0%}"
            lines.append(f"| {case} | {s['median']:.3f} | {s['min']:.3f} | {s['max']:.3f} | "
                         f"{flop / s['median'] / 1e9:.0f} | " + " | ".join(ratios) + " |")
    return "\n".join(lines) + "\n"


def render_rates(data: dict, title: str) -> str:
    """Rows with ``extra_info`` items, unit, baseline (a case name) and any accuracy fields."""
    info = data.get("machine_info", {})
    first = data["benchmarks"][0]["extra_info"]
    lines = [
        "# " + title,
        "",
        f"Machine: {machine()}; {first.get('threads')} threads for every case; run "
        f"{data.get('datetime', '')[:19]} UTC with pytest-benchmark "
        f"({info.get('python_implementation', '')} {info.get('python_version', '')}).",
        "",
        f"Rate = {first['unit']} at the median time; ratio = the baseline's median time / this case's "
        "(> 1 means faster than the baseline).",
    ]
    groups = defaultdict(list)
    for b in data["benchmarks"]:
        groups[b["group"]].append(b)
    extra = [k for k in ("min_cosine",) if k in first]
    for group, rows in groups.items():
        med = {b["extra_info"]["case"]: b["stats"]["median"] for b in rows}
        baseline = rows[0]["extra_info"]["baseline"]
        lines += ["", f"## {group}", "",
                  f"| case | median s | min s | max s | {first['unit']} | vs {baseline} | "
                  + " | ".join(extra) + " |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | " + " | ".join("---:" for _ in extra) + " |"]
        for b in sorted(rows, key=lambda b: b["stats"]["median"]):
            e, st = b["extra_info"], b["stats"]
            ratio = f"{med[baseline] / st['median']:.2f}×" if baseline in med else ""
            lines.append(f"| {e['case']} | {st['median']:.2f} | {st['min']:.2f} | {st['max']:.2f} | "
                         f"{e['items'] / st['median']:.0f} | {ratio} | " + " | ".join(str(e.get(k, "")) for k in extra)
                         + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="pytest-benchmark JSON -> markdown table with ratios")
    p.add_argument("json", type=Path)
    p.add_argument("-o", "--output", type=Path)
    p.add_argument("--title", default="", help="heading of the table")
    p.add_argument("--command", default="", help="the command that produced the JSON, quoted in the table")
    args = p.parse_args(argv)
    text = render(json.loads(args.json.read_text()), args.title)
    if args.command:
        head, _, rest = text.partition("\n\n")
        text = f"{head}\n\nCommand: `{args.command}`\n\n{rest}"
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
