"""`h2g-train` (also `python -m h2g_train`):

    h2g-train check DATASET                      validate the dataset file, show groups and splits
    h2g-train run DATASET --run DIR [--out MODELDIR] [--resume] [--stages patch,heatmaps,refine,export]
                 [training options, see --help]

Exit codes: 0 done, 1 failure, 2 bad usage or a bad dataset file."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys

from .config import TrainConfig
from .dataset import DatasetError, assign_splits, load_dataset
from .geometry import AnnotationError
from .run import STAGES, RunError, run
from .slides import SlideReadError


def _add_config_options(p: argparse.ArgumentParser) -> None:
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        help_text = f"{f.metadata['help']} (default {f.default})"
        if f.type in ("bool", bool):
            p.add_argument(flag, action="store_true", default=None, help=help_text)
        else:
            kind = {"int": int, "float": float, "str": str}[f.type if isinstance(f.type, str) else f.type.__name__]
            p.add_argument(flag, type=kind, default=None, choices=f.metadata["choices"], help=help_text)


def _config(args) -> tuple[TrainConfig, set[str]]:
    given = {
        f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig) if getattr(args, f.name) is not None
    }
    cfg = TrainConfig(**given)
    cfg.validate()
    return cfg, set(given)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="h2g-train", description="Train H2G-Net on annotated whole-slide images.")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="validate a dataset file and show its groups and splits")
    check.add_argument("dataset")
    check.add_argument("--seed", type=int, default=TrainConfig.seed)
    check.add_argument("--json", action="store_true", help="print the summary as JSON")
    r = sub.add_parser("run", help="train (or resume) both stages and export the model set")
    r.add_argument("dataset")
    r.add_argument("--run", required=True, help="run directory (checkpoints, history, caches)")
    r.add_argument("--out", help="where to write the model set (default RUN/export)")
    r.add_argument("--resume", action="store_true", help="continue the run in --run")
    r.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated subset of {','.join(STAGES)}")
    r.add_argument("--h2g", help="the h2g command (bin/h2g.js) that makes the heatmaps")
    _add_config_options(r)
    return parser


def _check(args) -> int:
    ds = load_dataset(args.dataset)
    splits = assign_splits(ds, args.seed)
    summary = {
        "name": ds.name,
        "slides": len(ds.slides),
        "groups": {g or "(none)": sum(1 for s in ds.slides if s.group == g) for g in ds.groups},
        "splits": {k: sum(1 for v in splits.values() if v == k) for k in ("train", "val", "test")},
        "sha256": ds.digest(),
    }
    print(json.dumps(summary, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in summary.items()))
    return 0


def main(argv=None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s h2g-train %(message)s", datefmt="%H:%M:%S", stream=sys.stderr
    )
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            return _check(args)
        stages = tuple(s.strip() for s in args.stages.split(",") if s.strip())
        bad = [s for s in stages if s not in STAGES]
        if bad or not stages:
            parser.error(f"--stages takes a comma-separated subset of {','.join(STAGES)}, got {args.stages}")
        cfg, given = _config(args)
        results = run(
            args.dataset, args.run, cfg, out_dir=args.out, resume=args.resume, stages=stages, h2g=args.h2g, given=given
        )
        print(json.dumps(results, indent=2))
        return 0
    except (AnnotationError, SlideReadError, FileNotFoundError, RuntimeError) as err:
        print(f"h2g-train: error: {err}", file=sys.stderr)
        return 1
    except (DatasetError, RunError, ValueError) as err:  # a bad dataset file or parameter
        print(f"h2g-train: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
