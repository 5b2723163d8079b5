"""Rebuild the shipped calibrated heads (models/heads/default.{npz,json}) from the labelled data.

Trains the exposure head on the human labels and the automation head on GPT-4's
T0-T4 ratings of all labelled occupations (Eloundou et al. 2023), with the default
encoder and capability set. Deterministic: running it twice on the same machine
writes byte-identical files. Needs torch (a package dependency); nothing else.

Also refits both heads once per fold of the labelled occupations (``--folds``, 5), each without its
fold's labels (``NAME.folds.npz``): occupation tables score a labelled occupation with them, out of fold.
``--folds-only`` keeps the heads already in ``--out`` and (re)builds only their fold heads.

Usage:
    python benchmarks/train_heads.py --data ../shared/data [--out models/heads]
        [--metrics benchmarks/results/eloundou/metrics.json] [--embeddings-cache FILE.npz]
        [--folds 5] [--folds-only]

``--metrics`` copies the cross-validated metrics of ``exposure reproduce eloundou``
into the manifest (that command retrains the heads within each fold).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from exposure import ExposureModel, __version__
from exposure.heads import Heads, encoder_fingerprint
from exposure.training.eloundou import embed_tasks, load_labelled_tasks
from exposure.training.heads import STRENGTHS, train_fold_heads, train_heads

DATA_FILES = ("onet_tasks.tsv", "task_labels_train.tsv", "occupation_ratings_train.csv")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("../shared/data"), help="folder with the labelled data")
    p.add_argument("--out", type=Path, default=Path("models/heads"), help="where to write NAME.npz and NAME.json")
    p.add_argument("--name", default="default")
    p.add_argument("--metrics", type=Path, default=Path("benchmarks/results/eloundou/metrics.json"),
                   help="metrics.json of 'exposure reproduce eloundou' to record in the manifest (if present)")
    p.add_argument("--embeddings-cache", type=Path, help="reuse/save the task embeddings here (.npz)")
    p.add_argument("--folds", type=int, default=5,
                   help="folds of the labelled occupations for the out-of-fold heads (0: none; default 5)")
    p.add_argument("--folds-only", action="store_true",
                   help="keep the heads in --out/NAME.json and (re)build only their fold heads")
    args = p.parse_args(argv)
    if args.folds == 1 or args.folds < 0:
        p.error("--folds must be 0 (none) or at least 2")
    if args.folds_only and not args.folds:
        p.error("--folds-only needs --folds of at least 2")

    paths = [args.data / f for f in DATA_FILES]
    if missing := [str(f) for f in paths if not f.is_file()]:
        p.error(f"missing data files: {', '.join(missing)}")
    d = load_labelled_tasks(paths[1], paths[2], paths[0])
    print(f"{len(d['soc']):,} labelled tasks of {len(d['occupations'])} occupations", file=sys.stderr)
    model = ExposureModel(device="cpu", calibrated=False)
    emb = embed_tasks(model, d["text"], args.embeddings_cache, lambda m: print(m, file=sys.stderr))
    caps = model.capabilities
    capf = model.capability_features(emb)

    cv = None
    if args.metrics and args.metrics.is_file():
        report = json.loads(args.metrics.read_text())
        cv = {"source": str(args.metrics), "command": report.get("command"),
              "folds": report.get("folds"), "n_occupations": report.get("n_occupations"),
              "metrics": {row: {m: {"value": round(v["value"], 4), "ci95": [round(x, 4) for x in v["ci95"]]}
                                for m, v in ms.items()} for row, ms in report["metrics"].items()}}
    manifest = {
        "name": args.name,
        "version": "1.0.0",
        "description": "Calibrated exposure head (human E0/E1/E2 labels) and automation head (GPT-4 T0-T4 "
                       "ratings) of Eloundou et al. (2023), over the task embedding, pooled capability "
                       "similarities and the labels of the nearest labelled O*NET tasks.",
        "encoder": {"name": model.encoder.name, "dim": model.encoder.dim,
                    "probe": "exposure.heads.PROBE_TEXT", "fingerprint": encoder_fingerprint(model.encoder)},
        "capabilities": {"name": caps.name, "version": caps.version, "checksum": caps.checksum},
        "headline": list(caps.headline_technologies),
        "training": {
            "command": "python benchmarks/train_heads.py --data ../shared/data --out models/heads",
            "exposure_version": __version__,
            "data": {f: _sha256(path) for f, path in zip(DATA_FILES, paths)},
            "tasks": int(len(d["soc"])), "occupations": len(d["occupations"]),
            # Occupation tables flag these as `labelled`: their scores are in-sample.
            "occupation_codes": sorted(map(str, d["occupations"])),
            "strengths_tried": list(STRENGTHS), "inner_cv_folds": 3,
        },
        "cross_validation": cv,
        "licence": "Trained on labels of Eloundou, Manning, Mishkin, Rock (2023), MIT licence (c) 2024 OpenAI, and "
                   "O*NET 27 task statements by USDOL/ETA, CC BY 4.0.",
    }
    if args.folds_only:
        heads = Heads.load(args.out / f"{args.name}.json")
        heads.check(model.encoder, caps)
    else:
        heads = train_heads(emb, capf, d["human"], d["automation"], d["soc"], manifest=manifest)
    if args.folds:
        heads.folds = train_fold_heads(emb, capf, d["human"], d["automation"], d["soc"], heads.index, args.folds,
                                       progress=lambda m: print(m, file=sys.stderr))
        heads.manifest["out_of_fold"] = {
            "command": "python benchmarks/train_heads.py --data ../shared/data --out models/heads"
                       + (" --folds-only" if args.folds_only else "") + f" --folds {args.folds}",
            "rule": "exposure.stats.grouped_folds over the labelled occupations (largest first, each to the fold "
                    "with the fewest tasks); per fold both heads fitted, and their L2 strength chosen by an inner "
                    "3-fold grouped CV, on the other folds' tasks, with neighbours from the other folds only",
            "exposure_version": __version__,
        }
    path = heads.save(args.out, args.name)
    print(f"wrote {path} and {path.with_suffix('.npz')} (sha256 {heads_sha(path)}); "
          f"L2 strengths {heads.manifest['selection']}", file=sys.stderr)
    return 0


def heads_sha(manifest_path: Path) -> str:
    return json.loads(manifest_path.read_text())["weights"]["sha256"][:16]


if __name__ == "__main__":
    raise SystemExit(main())
