#!/usr/bin/env bash
# Run the CPU speed benchmarks and write benchmarks/results/{kernels,encoder}.md.
# Run on an otherwise idle machine: on two cores anything else skews the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)

python -m pytest benchmarks/bench_kernels.py -q -p no:cacheprovider --benchmark-json="$out/kernels.json"
python benchmarks/report.py "$out/kernels.json" -o benchmarks/results/kernels.md \
    --command "bash benchmarks/run_cpu.sh"

python -m pytest benchmarks/bench_encoder.py -q -p no:cacheprovider --benchmark-json="$out/encoder.json"
python benchmarks/report.py "$out/encoder.json" -o benchmarks/results/encoder.md \
    --title "Encoder throughput: exposure.Encoder against sentence-transformers (all-MiniLM-L6-v2)" \
    --command "bash benchmarks/run_cpu.sh"
