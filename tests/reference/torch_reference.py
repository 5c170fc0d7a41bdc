#!/usr/bin/env python3
"""PyTorch twin of anchorscope's default detector, for the step-time reference.

Builds anchorscope's default model (tests/reference/README.md: 5 stride-2 3x3 convs 3-16-32-64-128-128, FPN P3-P5 with 64
channels, shared cls and box heads of two 3x3 convs + an output conv, 9 anchors, 3 classes,
RetinaNet initialisation), runs SGD steps on batch 8 at 256 x 256 with focal + L1 losses over
12,096 anchors per image, and prints the parameter count and the median step time.

Usage: python3 tests/reference/torch_reference.py [--threads 2] [--steps 30] [--batch 8]
       [--device cuda]   (the GPU figure beside `anchorscope bench` on the same machine)
       [--serve]         (for `anchorscope bench`: prints one JSON line {"ready": ...}, then
                          for each line "K" on stdin runs K steps and prints {"ms": [K times]},
                          so the bench can alternate its own steps with PyTorch's)
Needs torch (and torchvision for the focal loss); anchorscope's Rust tests never need it.
"""

import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class TinyRetinaNet(nn.Module):
    def __init__(self, num_classes=3, anchors=9, fpn=64, chans=(16, 32, 64, 128, 128)):
        super().__init__()
        layers, cin = [], 3
        for c in chans:
            layers.append(nn.Conv2d(cin, c, 3, stride=2, padding=1))
            cin = c
        self.backbone = nn.ModuleList(layers)
        self.lateral = nn.ModuleList([nn.Conv2d(c, fpn, 1) for c in chans[2:]])
        self.output = nn.ModuleList([nn.Conv2d(fpn, fpn, 3, padding=1) for _ in chans[2:]])

        def head(out):
            return nn.ModuleList([nn.Conv2d(fpn, fpn, 3, padding=1), nn.Conv2d(fpn, fpn, 3, padding=1),
                                  nn.Conv2d(fpn, out, 3, padding=1)])

        self.cls = head(anchors * num_classes)
        self.box = head(anchors * 4)
        for m in list(self.cls) + list(self.box):
            nn.init.normal_(m.weight, std=0.01)
            nn.init.zeros_(m.bias)
        nn.init.constant_(self.cls[-1].bias, -math.log((1 - 0.01) / 0.01))
        self.num_classes = num_classes

    def run_head(self, convs, x):
        for c in convs[:-1]:
            x = F.relu(c(x))
        return convs[-1](x)

    def forward(self, x):
        feats = []
        for i, conv in enumerate(self.backbone):
            x = F.relu(conv(x))
            if i >= 2:
                feats.append(x)  # C3, C4, C5
        lat = [l(f) for l, f in zip(self.lateral, feats)]
        for i in (1, 0):
            lat[i] = lat[i] + F.interpolate(lat[i + 1], scale_factor=2, mode="nearest")
        pyramid = [o(l) for o, l in zip(self.output, lat)]
        n = x.shape[0]
        cls = [self.run_head(self.cls, p).permute(0, 2, 3, 1).reshape(n, -1, self.num_classes) for p in pyramid]
        box = [self.run_head(self.box, p).permute(0, 2, 3, 1).reshape(n, -1, 4) for p in pyramid]
        return torch.cat(cls, 1), torch.cat(box, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--device", default="cpu", help="cpu, or cuda for the GPU comparison")
    ap.add_argument("--serve", action="store_true", help="run steps on request (see the docstring)")
    args = ap.parse_args()
    dev = torch.device(args.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    from torchvision.ops import sigmoid_focal_loss

    model = TinyRetinaNet().to(dev)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    x = torch.randn(args.batch, 3, 256, 256, device=dev)
    with torch.no_grad():
        cls, box = model(x)
    anchors = cls.shape[1]
    labels = torch.zeros_like(cls)
    pos = torch.rand(args.batch, anchors, device=dev) < 0.01
    labels[pos, 0] = 1.0
    target_box = torch.randn_like(box) * 0.1
    def step():
        sync()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        cls, box = model(x)
        num_pos = max(1.0, float(pos.sum()))
        loss = sigmoid_focal_loss(cls, labels, alpha=0.25, gamma=2.0, reduction="sum") / num_pos
        loss = loss + F.l1_loss(box[pos], target_box[pos], reduction="sum") / num_pos
        loss.backward()
        opt.step()
        sync()
        return time.perf_counter() - t0

    if args.serve:
        import json
        import sys
        for _ in range(3):
            step()  # warm-up
        print(json.dumps({"ready": {"torch": torch.__version__, "threads": args.threads,
                                    "params": params, "anchors": anchors}}), flush=True)
        for line in sys.stdin:
            k = int(line.strip() or 0)
            if k <= 0:
                break
            print(json.dumps({"ms": [1e3 * step() for _ in range(k)]}), flush=True)
        return
    times = [step() for _ in range(args.steps)]
    times = sorted(times[3:])
    ms = 1e3 * times[len(times) // 2]
    where = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"{args.threads} threads"
    print(f"torch {torch.__version__}, {where}: {params} parameters, "
          f"{anchors} anchors/image, batch {args.batch} at 256x256: {ms:.1f} ms per step "
          f"({args.batch / ms * 1e3:.0f} images/s)")


if __name__ == "__main__":
    main()
