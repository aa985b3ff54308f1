#!/usr/bin/python3
"""Export the seed code's own ResNet18 (its models/resnet.py) for fer's parity tests.

Usage: export_seed_resnet.py SEED_DIR OUT_DIR [--seed S] [--size 44]

SEED_DIR is the seed's CK+ code (../shared/reference/seed_ck_plus). Writes, in OUT_DIR:
  w.pt       the model's state dict with fer's (torchvision's) names: shortcut.0/1 ->
             downsample.0/1, linear -> fc; batch-norm running statistics moved away from 0/1
             by three train-mode passes, so a port that ignores them cannot match
  sample.pt  {"input": x [2, 3, size, size], "logits": model.eval()(x)}
  init.pt    {"<conv or linear name>.std": the weight's standard deviation} of a freshly built
             model (torch.manual_seed(S)): what PyTorch's default layer init gives the seed code
"""
import argparse
import importlib.util
import os

import torch


def load_seed_resnet(seed_dir):
    path = os.path.join(seed_dir, "models", "resnet.py")
    spec = importlib.util.spec_from_file_location("seed_resnet", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.ResNet18


def fer_name(name):
    return name.replace("shortcut.", "downsample.").replace("linear.", "fc.")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("seed_dir")
    p.add_argument("out_dir")
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--size", type=int, default=44)
    a = p.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    ResNet18 = load_seed_resnet(a.seed_dir)

    torch.manual_seed(a.seed)
    net = ResNet18()
    init = {}
    for name, t in net.state_dict().items():
        if name.endswith(".weight") and t.dim() >= 2:  # convolutions and the linear layer
            init[fer_name(name)[: -len(".weight")] + ".std"] = t.std().reshape(1).clone()
    torch.save(init, os.path.join(a.out_dir, "init.pt"))

    calib = torch.Generator().manual_seed(a.seed + 1)
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.rand(4, 3, a.size, a.size, generator=calib) * 1.5 + 0.25)
    net.eval()
    torch.save({fer_name(k): v for k, v in net.state_dict().items()}, os.path.join(a.out_dir, "w.pt"))
    gen = torch.Generator().manual_seed(a.seed)
    x = torch.rand(2, 3, a.size, a.size, generator=gen)
    with torch.no_grad():
        logits = net(x)
    torch.save({"input": x.contiguous(), "logits": logits.contiguous()}, os.path.join(a.out_dir, "sample.pt"))
    print(f"wrote {a.out_dir}: seed ResNet18, {len(init)} weight tensors, logits {tuple(logits.shape)}")


if __name__ == "__main__":
    main()
