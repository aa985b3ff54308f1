#!/usr/bin/python3
"""fer's ResNet-18 as a torchvision model, for weights written by `fer export-weights`.

`fer export-weights --run runs/x --out model.pth` writes torchvision's resnet18 names; a run with
the 7x7 stem and 3-channel input loads into `torchvision.models.resnet18(num_classes=K)` as it
is. fer's small-image variants change three parameter-free or shape-only details, which `load`
applies from model.pth.json (written beside the weights):

  - stem "3x3": conv1 is a 3x3 convolution with stride 1, and there is no max-pool;
  - 1-channel input: conv1 takes 1 channel;
  - pool "avg4" (the seed code's): a 4x4 average pool on the last feature map instead of the
    global average.

Dropout (fer's model.dropout) sits before fc in training only; in eval mode both are the same.
Use as a module (scripts/ on sys.path):

    import fer_torchvision
    model = fer_torchvision.load("model.pth")          # strict load, eval mode
    classes = fer_torchvision.settings("model.pth")["classes"]

or, as the parity check of the tests, with Debian's interpreter:

    /usr/bin/python3 scripts/fer_torchvision.py model.pth --check sample.pt

where sample.pt (torch.load-able, a dict with "input" and "logits") holds fer's own logits.
"""

import argparse
import json
import sys

import torch
import torch.nn as nn
import torchvision


def settings(path):
    """model.pth.json: format, model section, input channels and size, classes, preprocessing."""
    with open(path + ".json") as f:
        return json.load(f)


class _Avg4(nn.Module):
    """The seed's pool: a 4x4 average over the last feature map's top-left window, flattened."""

    def forward(self, x):
        return torch.nn.functional.avg_pool2d(x, 4)


def build(side):
    """An untrained torchvision resnet18 shaped as the exported fer model."""
    if side["format"] != "torchvision":
        raise ValueError("written with --format fer: fer's own names, not a torchvision layout")
    model = side["model"]
    if model.get("name") != "resnet18":
        raise ValueError(f"a {model.get('name')} model: only resnet18 has a torchvision layout")
    classes = side["classes"]
    classes = classes if isinstance(classes, int) else len(classes)
    channels = side["input"]["channels"]
    size = side["input"]["size"]
    stem = model.get("stem", "auto")
    if stem == "auto":
        stem = "3x3" if size < 112 else "7x7"
    net = torchvision.models.resnet18(num_classes=classes)
    if stem == "3x3":
        net.conv1 = nn.Conv2d(channels, 64, kernel_size=3, stride=1, padding=1, bias=False)
        net.maxpool = nn.Identity()
    elif channels != 3:
        net.conv1 = nn.Conv2d(channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
    if model.get("pool", "global") == "avg4":
        net.avgpool = _Avg4()
    return net


def load(path):
    """The exported model, loaded strictly, in eval mode."""
    net = build(settings(path))
    net.load_state_dict(torch.load(path, map_location="cpu"), strict=True)
    return net.eval()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("weights", help="model.pth from fer export-weights (model.pth.json beside it)")
    p.add_argument("--check", metavar="SAMPLE", help="compare with fer's logits: a dict with input and logits")
    p.add_argument("--tolerance", type=float, default=1e-4)
    args = p.parse_args()
    net = load(args.weights)
    print(f"{args.weights}: loaded strictly into torchvision's resnet18 ({torch.__version__}, "
          f"torchvision {torchvision.__version__})")
    if args.check:
        sample = torch.load(args.check, map_location="cpu")
        with torch.no_grad():
            logits = net(sample["input"])
        diff = (logits - sample["logits"]).abs().max().item()
        scale = sample["logits"].abs().max().item()
        print(f"max |logit difference| {diff:.3g} (logits up to {scale:.3g}), tolerance {args.tolerance}")
        sys.exit(0 if diff <= args.tolerance and scale > 0 else 1)


if __name__ == "__main__":
    main()
