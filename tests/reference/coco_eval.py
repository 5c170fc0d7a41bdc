#!/usr/bin/env python3
"""pycocotools' COCOeval (bbox) of GT / results pairs: the reference of tests/eval_parity.rs.

Usage: coco_eval.py GT1.json DT1.json [GT2.json DT2.json ...]
Prints one JSON list, one entry per pair: {"stats": [12 numbers], "per_class": [{"id", "ap",
"ap50", "ap75", "aps", "apm", "apl", "ar100"}]}. Per-class figures are the slices of
COCOeval.eval["precision"] (shape T x R x K x A x M) and ["recall"] (T x K x A x M) at
maxDets=100, each averaged over its entries > -1, as COCOeval.summarize() averages the whole
array (-1 when there is none).
"""
import contextlib
import io
import json
import sys

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def mean_valid(x):
    x = x[x > -1]
    return float(np.mean(x)) if x.size else -1.0


def evaluate(gt_path, dt_path):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_path)
        dt = gt.loadRes(dt_path)
        ev = COCOeval(gt, dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    p = ev.eval["precision"]
    r = ev.eval["recall"]
    m = 2  # maxDets index of 100
    per_class = []
    for k, cat_id in enumerate(ev.params.catIds):
        per_class.append(
            {
                "id": int(cat_id),
                "ap": mean_valid(p[:, :, k, 0, m]),
                "ap50": mean_valid(p[0, :, k, 0, m]),
                "ap75": mean_valid(p[5, :, k, 0, m]),
                "aps": mean_valid(p[:, :, k, 1, m]),
                "apm": mean_valid(p[:, :, k, 2, m]),
                "apl": mean_valid(p[:, :, k, 3, m]),
                "ar100": mean_valid(r[:, k, 0, m]),
            }
        )
    return {"stats": [float(s) for s in ev.stats], "per_class": per_class}


def main():
    args = sys.argv[1:]
    if len(args) % 2 != 0 or not args:
        sys.exit("usage: coco_eval.py GT.json DT.json [GT.json DT.json ...]")
    out = [evaluate(args[i], args[i + 1]) for i in range(0, len(args), 2)]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
