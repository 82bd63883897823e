#!/usr/bin/env python3
"""Trains a reduced-width H2G-Net model set on phantom slides in a few minutes on a CPU: the trainer's
end-to-end test uses it, and so can anything that needs trained (not random) models of the published
contract, e.g. quantisation experiments. Run with the project's .venv after `npm ci` (the heatmap
stage runs bin/h2g.js):

    .venv/bin/python scripts/train_phantom_models.py --out DIR [--seed 1] [--slides 6]

Writes DIR/data (phantom slides, annotations, dataset.json: scripts/make_phantom_slides.py), DIR/run
(the training run) and DIR/models (the exported set with its h2g-models.json, ready for
`h2g models import DIR/models --name phantom` or `h2g segment --models DIR/models`). Prints the run's
results as JSON. An existing DIR/run is resumed, so a second call only exports again.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "train"))
sys.path.insert(0, HERE)
from h2g_train.config import TrainConfig  # noqa: E402
from h2g_train.run import run  # noqa: E402
from make_phantom_slides import make_dataset  # noqa: E402

# Small networks of the published shapes (MobileNetV2 alpha 0.35, a quarter-width U-Net), a higher
# learning rate than the paper's 1e-4 and a handful of steps: enough for the phantom's colour and texture.
PHANTOM_RECIPE = dict(
    width=0.35, refine_width=0.5, batch_size=16, lr=1e-3, steps_per_epoch=12, epochs=3, patience=3,
    val_patches=48, cluster_sample=96, refine_batch=2, accumulation=1, refine_lr=3e-3, refine_epochs=15,
    refine_patience=15, workers=2,
)  # fmt: skip


def train_phantom(out: str, seed=1, slides=6, **overrides) -> dict:
    data = os.path.join(out, "data")
    dataset = os.path.join(data, "dataset.json")
    if not os.path.exists(dataset):
        make_dataset(data, slides=slides, seed=seed)
    run_dir = os.path.join(out, "run")
    cfg = TrainConfig(seed=seed, **{**PHANTOM_RECIPE, **overrides})
    resume = os.path.exists(os.path.join(run_dir, "config.json"))
    return run(dataset, run_dir, cfg, out_dir=os.path.join(out, "models"), resume=resume)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--slides", type=int, default=6)
    a = p.parse_args()
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    print(json.dumps(train_phantom(a.out, a.seed, a.slides), indent=2))


if __name__ == "__main__":
    main()
