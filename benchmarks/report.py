"""Turn a pytest-benchmark JSON file into markdown tables with ratios to the baselines.

    python -m pytest benchmarks/bench_kernels.py --benchmark-json=/tmp/kernels.json
    python benchmarks/report.py /tmp/kernels.json -o benchmarks/results/kernels.md

For the kernels (bench_kernels.py), per problem size (benchmark group), one table of the
cases run on the common thread count: median, min and max time, GFLOP/s at the median
(2*n*m*d / time, the matmul work whatever the reduction; an equivalent rate for int8),
for our rows the ratio of each baseline's median time to ours for the same reduction
(> 1: ours is faster) and our rate as a share of numpy's raw sgemm, and for approximate
rows (int8, bf16) recall and the largest value error against our float32 result. Below:
a "threads scaling" table for the cases also run on fewer threads, and a "peak memory"
table for the cases with ``extra_info["peak_mib"]``. All ratios come from the medians
of the one run in the file.
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


#: ratio columns of our rows: header -> the baseline's ``impl``
BASELINES = {"vs numpy": "numpy", "vs torch": "torch", "vs torch-bf16": "torch-bf16",
             "vs faiss": "faiss IndexFlatIP", "vs s-t": "sentence-transformers"}
OP_ORDER = {"max": 0, "top5": 1, "logsumexp": 2, "sgemm": 3}


def _impl_op(extra: dict) -> tuple:
    """(implementation, reduction) of a bench_kernels.py case."""
    return extra["impl"], extra["op"]


def _ours(impl: str) -> bool:
    return impl == "core" or impl.startswith("core-")


def _row_order(b: dict) -> tuple:
    impl, op = _impl_op(b["extra_info"])
    if _ours(impl):  # fp32 and int8 of one reduction side by side
        return 0, "", OP_ORDER.get(op, 9), impl
    return 1, impl, OP_ORDER.get(op, 9), ""


def _rate(b: dict) -> float:
    """GFLOP/s at the median time."""
    e = b["extra_info"]
    return 2 * e["n"] * e["m"] * e["d"] / b["stats"]["median"] / 1e9


def _accuracy(extra: dict) -> list:
    recall = extra.get("recall@5", extra.get("recall@1"))
    err = extra.get("max_abs_err")
    return ["" if recall is None else f"{recall:.6f}", "" if err is None else f"{err:.1e}" if err else "0"]


def render(data: dict, title: str = "") -> str:
    """Markdown for a kernel run (GFLOP/s, ratios per reduction) or a rate run (items/s vs one baseline)."""
    if "items" in data["benchmarks"][0]["extra_info"]:
        return render_rates(data, title or "Throughput")
    timed = [b for b in data["benchmarks"] if "peak_mib" not in b["extra_info"]]
    memory = [b for b in data["benchmarks"] if "peak_mib" in b["extra_info"]]
    threads = max(b["extra_info"]["threads"] for b in timed)
    groups = defaultdict(list)
    for b in timed:
        groups[b["group"]].append(b)
    info = data.get("machine_info", {})
    first = timed[0]["extra_info"]
    lines = [
        "# " + (title or "Similarity kernels: exposure._core against numpy, torch, faiss and sentence-transformers"),
        "",
        f"Machine: {machine()}; kernel ISA `{first.get('isa')}`, {threads} threads for every case unless its "
        f"name says otherwise; run {data.get('datetime', '')[:19]} UTC with pytest-benchmark "
        f"({info.get('python_implementation', '')} {info.get('python_version', '')}).",
        "",
        "GFLOP/s = 2·n·m·d / median time (for int8 an equivalent rate: the same float work). "
        "'vs numpy', 'vs torch', 'vs torch-bf16', 'vs faiss', 'vs s-t' (sentence-transformers "
        "`util.semantic_search`): the baseline's median time for the same reduction divided by ours "
        "(> 1 means `_core` is faster). 'of sgemm': our rate as a share of numpy's raw chunked sgemm "
        "(no reduction) in the same run. Approximate cases against float32 `core` on the same data: "
        "'recall', the mean share of its top-k indices found (k = 1 for max, 5 for top5); "
        "'max abs err', the largest difference of the values.",
    ]
    scaling = []
    for group, rows in groups.items():
        main = [b for b in rows if b["extra_info"]["threads"] == threads]
        scaling += [(group, b, main) for b in rows if b["extra_info"]["threads"] != threads]
        med = {_impl_op(b["extra_info"]): b["stats"]["median"] for b in main}
        lines += ["", f"## {group}", "",
                  "| case | median s | min s | max s | GFLOP/s | " + " | ".join(BASELINES)
                  + " | of sgemm | recall | max abs err |",
                  "| --- " + "| ---: " * (4 + len(BASELINES) + 3) + "|"]
        for b in sorted(main, key=_row_order):
            (impl, op), s = _impl_op(b["extra_info"]), b["stats"]
            ratios = [""] * (len(BASELINES) + 1)
            if _ours(impl):
                for i, base in enumerate(BASELINES.values()):
                    if (base, op) in med:
                        ratios[i] = f"{med[base, op] / s['median']:.2f}×"
                if ("numpy", "sgemm") in med:
                    ratios[-1] = f"{med['numpy', 'sgemm'] / s['median']:.0%}"
            lines.append(f"| {b['extra_info']['case']} | {s['median']:.3f} | {s['min']:.3f} | {s['max']:.3f} | "
                         f"{_rate(b):.0f} | " + " | ".join(ratios + _accuracy(b["extra_info"])) + " |")
    if scaling:
        lines += ["", "## Threads scaling", "",
                  f"GFLOP/s at the median time on fewer threads and on {threads}; speed-up = the ratio of the two.",
                  "", f"| problem | case | threads | GFLOP/s | GFLOP/s, {threads} threads | speed-up |",
                  "| --- | --- | ---: | ---: | ---: | ---: |"]
        for group, b, main in scaling:
            impl, op = _impl_op(b["extra_info"])
            full = next((r for r in main if _impl_op(r["extra_info"]) == (impl, op)), None)
            rate_full, speedup = ("", "") if full is None else (f"{_rate(full):.0f}", f"{_rate(full) / _rate(b):.2f}×")
            lines.append(f"| {group} | {impl} {op} | {b['extra_info']['threads']} | {_rate(b):.0f} | "
                         f"{rate_full} | {speedup} |")
    if memory:
        lines += ["", "## Peak memory", "",
                  "How far the peak RSS rose during one call, above the RSS with the inputs built, each case in "
                  "a fresh process. For scale: the top-5 result itself (float32 values and int64 indices, "
                  "n·5·12 bytes) and the full n×m float32 similarity matrix.",
                  "", "| n | m | case | peak RSS increase, MiB | top-5 result, MiB | n×m matrix, MiB |",
                  "| ---: | ---: | --- | ---: | ---: | ---: |"]
        for b in sorted(memory, key=lambda b: (b["extra_info"]["m"], _row_order(b))):
            e = b["extra_info"]
            lines.append(f"| {e['n']} | {e['m']} | {e['case']} | {e['peak_mib']:.1f} | "
                         f"{e['n'] * e['k'] * 12 / 2**20:.1f} | {e['n'] * e['m'] * 4 / 2**20:.1f} |")
    return "\n".join(lines) + "\n"


def render_rates(data: dict, title: str) -> str:
    """Rows with ``extra_info`` items, unit, baseline (a case name) and any accuracy fields."""
    info = data.get("machine_info", {})
    first = data["benchmarks"][0]["extra_info"]
    lines = [
        "# " + title,
        "",
        f"Machine: {machine()}; "
        + (f"{first['threads']} threads for every case; " if first.get("threads") else "the threads each case names; ")
        + "run "
        f"{data.get('datetime', '')[:19]} UTC with pytest-benchmark "
        f"({info.get('python_implementation', '')} {info.get('python_version', '')}).",
        "",
        "Rate = the items per second each table names, at the median time; ratio = the baseline's median time / "
        "this case's "
        "(> 1 means faster than the baseline).",
    ]
    groups = defaultdict(list)
    for b in data["benchmarks"]:
        groups[b["group"]].append(b)
    extra = [k for k in ("min_cosine", "same_top32_rows", "same_sums")
             if any(k in b["extra_info"] for b in data["benchmarks"])]
    for group, rows in groups.items():
        med = {b["extra_info"]["case"]: b["stats"]["median"] for b in rows}
        baseline, unit = rows[0]["extra_info"]["baseline"], rows[0]["extra_info"]["unit"]
        lines += ["", f"## {group}", "",
                  f"| case | median s | min s | max s | {unit} | vs {baseline} |" + "".join(f" {k} |" for k in extra),
                  "| --- | ---: | ---: | ---: | ---: | ---: |" + " ---: |" * len(extra)]
        for b in sorted(rows, key=lambda b: b["stats"]["median"]):
            e, st = b["extra_info"], b["stats"]
            ratio = f"{med[baseline] / st['median']:.2f}×" if baseline in med else ""
            lines.append(f"| {e['case']} | {st['median']:.3g} | {st['min']:.3g} | {st['max']:.3g} | "
                         f"{e['items'] / st['median']:.0f} | {ratio} |" + "".join(f" {e.get(k, '')} |" for k in extra))
    return "\n".join(lines) + "\n"


def render_gpu(runs: list, title: str = "") -> str:
    """benchmarks/gpu.sh: bench_gpu.py's kernel and encoder rows, then bench_pipeline.py's postings/s."""
    lines = ["# " + (title or "CUDA: similarity reductions, encoder and posting scoring")]
    kernel = dict(runs[0], benchmarks=[b for b in runs[0]["benchmarks"] if "items" not in b["extra_info"]])
    encoder = dict(runs[0], benchmarks=[b for b in runs[0]["benchmarks"] if "items" in b["extra_info"]])
    if kernel["benchmarks"]:
        first = kernel["benchmarks"][0]["extra_info"]
        lines += ["", f"Device: {first.get('device')}; run {kernel.get('datetime', '')[:19]} UTC. GFLOP/s = "
                  "2·n·m·d / median time; 'of mm time' = chunked torch.mm alone (cuBLAS, same precision) / "
                  "this case (1.00 = no cost beyond the matmul); 'vs torch' = torch.mm + topk (or + max for a max; same "
                  "precision) / this case; recall@5 against the float32 top-5."]
        groups = defaultdict(list)
        for b in kernel["benchmarks"]:
            groups[b["group"]].append(b)
        for group, rows in groups.items():
            med = {b["extra_info"]["case"]: b["stats"]["median"] for b in rows}
            lines += ["", f"## {group}", "", "| case | median ms | min ms | GFLOP/s | of mm time | vs torch | recall@5 |",
                      "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
            for b in sorted(rows, key=lambda b: b["extra_info"]["case"]):
                e, st = b["extra_info"], b["stats"]
                words = e["case"].split()
                precision = next((w for w in words if w in ("fp32", "fp16", "bf16")), "")
                op = "max" if "max" in words else "top5"
                mm = med.get(f"mm {precision}")
                torch_case = med.get(f"torch {precision} {op}")
                ours = e["case"].startswith(("exposure", "triton"))
                cells = [f"{mm / st['median']:.2f}" if mm and not e["case"].startswith("mm") else "",
                         f"{torch_case / st['median']:.2f}×" if torch_case and ours else "",
                         str(e.get("recall@5", ""))]
                lines.append(f"| {e['case']} | {st['median'] * 1e3:.1f} | {st['min'] * 1e3:.1f} | "
                             f"{2 * e['n'] * e['m'] * e['d'] / st['median'] / 1e9:.0f} | " + " | ".join(cells) + " |")
    if encoder["benchmarks"]:
        lines += ["", render_rates(encoder, "Encoder").replace("# Encoder", "## Encoder", 1).rstrip()]
    pipeline = [b for run in runs[1:] for b in run["benchmarks"]]
    if pipeline:
        lines += ["", "## Posting scoring end to end (bench_pipeline.py)", "",
                  "| case | device | encoder dtype | postings | seconds | postings/s | unit cache hit rate |",
                  "| --- | --- | --- | ---: | ---: | ---: | ---: |"]
        for b in pipeline:
            e = b["extra_info"]
            lines.append(f"| {b['name']} | {e.get('device', 'cpu')} | {e.get('dtype', '')} | {e['postings']} | "
                         f"{e['seconds']} | {e['postings_per_s']} | {e.get('cache_hit_rate', '')} |")
        lines += render_steps(pipeline)
    return "\n".join(lines) + "\n"


def render_steps(pipeline: list) -> list:
    """The batch jobs' ``seconds_by_step`` (where each run's time went), as table lines; none without them."""
    jobs = [b for b in pipeline if b["extra_info"].get("seconds_by_step")]
    if not jobs:
        return []
    steps = list(dict.fromkeys(k for b in jobs for k in b["extra_info"]["seconds_by_step"]))
    lines = ["", "### Where the batch jobs' time went (seconds; `seconds_by_step` of the job summary)", "",
             "| case | " + " | ".join(steps) + " | total |", "| --- |" + " ---: |" * (len(steps) + 1)]
    for b in jobs:
        e = b["extra_info"]
        lines.append(f"| {b['name']} | " + " | ".join(str(e["seconds_by_step"].get(k, "")) for k in steps)
                     + f" | {e['seconds']} |")
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="pytest-benchmark JSON -> markdown table with ratios")
    p.add_argument("json", type=Path, nargs="+", help="one JSON file (several with --gpu)")
    p.add_argument("-o", "--output", type=Path)
    p.add_argument("--title", default="", help="heading of the table")
    p.add_argument("--command", default="", help="the command that produced the JSON, quoted in the table")
    p.add_argument("--gpu", action="store_true", help="bench_gpu.py JSON, then any bench_pipeline.py JSON files")
    args = p.parse_args(argv)
    runs = [json.loads(path.read_text()) for path in args.json]
    if not args.gpu and len(runs) > 1:
        p.error("several JSON files only go together with --gpu")
    text = render_gpu(runs, args.title) if args.gpu else render(runs[0], args.title)
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
